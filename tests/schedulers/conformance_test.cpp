// The conformance suite every scheduler passes. Adding a scheduler: one line in kCases below (and
// its entry in quarry/schedulers/registry.cpp; a test checks the two lists agree).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/parallel_search.hpp"
#include "tests/test_util.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "quarry/core/error.hpp"
#include "quarry/runner/runner.hpp"
#include "quarry/schedulers/registry.hpp"
#include "quarry/storage/memory.hpp"

namespace quarry::schedulers {
namespace {

using ::testing::HasSubstr;

struct SchedulerCase {
  std::string name;
  std::function<std::unique_ptr<Scheduler>()> make;
};

std::function<std::unique_ptr<Scheduler>()> registered(const std::string& name,
                                                       nlohmann::json options = nullptr) {
  return [name, options] { return make_scheduler(name, options); };
}

// clang-format off
const std::vector<SchedulerCase> kCases = {
    {"none", registered("none")},
    {"hyperband", registered("hyperband", {{"max_epochs", 9}, {"factor", 3}})},
    {"asha", registered("asha", {{"max_budget", 9}, {"eta", 3}})},
    {"bohb", registered("bohb", {{"max_epochs", 9}, {"factor", 3}})},
};
// clang-format on

class SchedulerConformance : public ::testing::TestWithParam<SchedulerCase> {};

TEST_P(SchedulerConformance, NameMatchesItsRegistryEntry) {
  EXPECT_EQ(GetParam().make()->name(), GetParam().name);
}

TEST_P(SchedulerConformance, DrivesAParallelSearchToItsEnd) {
  quarry::testing::expect_parallel_search_ends({.scheduler = GetParam().make()});
}

INSTANTIATE_TEST_SUITE_P(Schedulers, SchedulerConformance, ::testing::ValuesIn(kCases),
                         [](const auto& tp) { return tp.param.name; });

TEST(SchedulerRegistry, EveryRegisteredSchedulerHasAConformanceLine) {
  for (const auto& entry : scheduler_registry()) {
    EXPECT_FALSE(entry.description.empty()) << entry.name;
    EXPECT_TRUE(std::any_of(kCases.begin(), kCases.end(),
                            [&](const SchedulerCase& c) { return c.name == entry.name; }))
        << "add '" << entry.name << "' to kCases in tests/schedulers/conformance_test.cpp";
  }
  EXPECT_TRUE(std::is_sorted(scheduler_registry().begin(), scheduler_registry().end(),
                             [](const auto& a, const auto& b) { return a.name < b.name; }));
}

using quarry::testing::error_of;

TEST(SchedulerRegistry, UnknownNamesAndOptionsAreRefusedByName) {
  EXPECT_EQ(error_of([] { make_scheduler("foo", {}); }),
            "unknown scheduler 'foo' (known: asha, bohb, hyperband, none)");
  EXPECT_EQ(error_of([] {
              make_scheduler("asha", {{"bar", 1}});
            }),
            "scheduler 'asha': unknown option 'bar' (options: max_budget, min_budget, eta, "
            "group_by)");
  EXPECT_EQ(error_of([] {
              make_scheduler("none", {{"min_trials", 1}});
            }),
            "scheduler 'none': unknown option 'min_trials' (options: none)");
  EXPECT_EQ(error_of([] {
              make_scheduler("asha", {{"max_budget", 2.5}});
            }),
            "scheduler 'asha': option 'max_budget' must be an integer, got 2.5");
  EXPECT_THAT(error_of([] { make_scheduler("hyperband", "x"); }),
              HasSubstr("options must be a mapping"));
}

}  // namespace
}  // namespace quarry::schedulers
