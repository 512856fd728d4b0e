// The conformance suite every pruner passes. Adding a pruner: one line in kCases below (and its
// entry in quarry/pruners/registry.cpp; a test checks the two lists agree).
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
#include "quarry/pruners/registry.hpp"
#include "quarry/runner/runner.hpp"
#include "quarry/schedulers/registry.hpp"
#include "quarry/storage/memory.hpp"

namespace quarry::pruners {
namespace {

using ::testing::HasSubstr;

struct PrunerCase {
  std::string name;
  std::function<std::unique_ptr<Pruner>()> make;
};

std::function<std::unique_ptr<Pruner>()> registered(const std::string& name,
                                                    nlohmann::json options = nullptr) {
  return [name, options] { return make_pruner(name, options); };
}

// clang-format off
const std::vector<PrunerCase> kCases = {
    {"none", registered("none")},
    {"median", registered("median", {{"min_trials", 1}})},
    {"learning_curve", registered("learning_curve")},
};
// clang-format on

Trial trial(std::int64_t number, TrialState state, std::map<std::int64_t, double> curve) {
  Trial t;
  t.number = number;
  t.state = state;
  t.intermediate = std::move(curve);
  if (state == TrialState::Complete && !t.intermediate.empty())
    t.values = {t.intermediate.rbegin()->second};
  return t;
}

/// Ten finished trials whose curves are 10 + i at every step, plus the running `current`.
std::vector<Trial> history_with(const Trial& current) {
  std::vector<Trial> history;
  for (std::int64_t i = 0; i < 10; ++i) {
    const double v = 10.0 + static_cast<double>(i);
    history.push_back(trial(i, i % 3 ? TrialState::Complete : TrialState::Pruned,
                            {{0, v}, {1, v}, {2, v}, {3, v}}));
  }
  history.push_back(current);
  return history;
}

class PrunerConformance : public ::testing::TestWithParam<PrunerCase> {};

TEST_P(PrunerConformance, NameMatchesItsRegistryEntry) {
  EXPECT_EQ(GetParam().make()->name(), GetParam().name);
}

TEST_P(PrunerConformance, NeverStopsATrialThatReportedNothing) {
  const Trial fresh = trial(10, TrialState::Running, {});
  for (Direction d : {Direction::Minimize, Direction::Maximize})
    EXPECT_FALSE(GetParam().make()->should_prune(fresh, history_with(fresh), d));
}

TEST_P(PrunerConformance, HandlesAnEmptyHistory) {
  const Trial alone = trial(0, TrialState::Running, {{0, 5.0}, {1, 7.0}});
  for (Direction d : {Direction::Minimize, Direction::Maximize}) {
    EXPECT_FALSE(GetParam().make()->should_prune(alone, {}, d)) << "nothing to compare with";
    EXPECT_FALSE(GetParam().make()->should_prune(alone, {alone}, d));
  }
}

TEST_P(PrunerConformance, SameInputsGiveTheSameAnswer) {
  for (double value : {0.0, 14.5, 100.0})
    for (Direction d : {Direction::Minimize, Direction::Maximize}) {
      const Trial current = trial(10, TrialState::Running, {{0, value}, {1, value}, {2, value}});
      const auto history = history_with(current);
      const auto pruner = GetParam().make();
      const bool first = pruner->should_prune(current, history, d);
      EXPECT_EQ(pruner->should_prune(current, history, d), first);
      EXPECT_EQ(GetParam().make()->should_prune(current, history, d), first);
    }
}

TEST_P(PrunerConformance, NeverStopsTheLeaderInEitherDirection) {
  // The same history: 0 leads when minimising, 100 when maximising.
  const Trial low = trial(10, TrialState::Running, {{0, 0.0}, {1, 0.0}, {2, 0.0}});
  const Trial high = trial(10, TrialState::Running, {{0, 100.0}, {1, 100.0}, {2, 100.0}});
  EXPECT_FALSE(GetParam().make()->should_prune(low, history_with(low), Direction::Minimize));
  EXPECT_FALSE(GetParam().make()->should_prune(high, history_with(high), Direction::Maximize));
}

TEST_P(PrunerConformance, DrivesAParallelSearchToItsEnd) {
  // Every pruner, alone and under Hyperband, with three workers sharing one store: the search ends
  // on its own, every trial ends, and no trial is run by two workers.
  for (const bool hyperband : {false, true}) {
    SCOPED_TRACE(hyperband ? "with hyperband" : "alone");
    quarry::testing::expect_parallel_search_ends(
        {.scheduler =
             hyperband ? schedulers::make_scheduler("hyperband", {{"max_epochs", 9}}) : nullptr,
         .pruner = GetParam().make()});
  }
}

INSTANTIATE_TEST_SUITE_P(Pruners, PrunerConformance, ::testing::ValuesIn(kCases),
                         [](const auto& tp) { return tp.param.name; });

TEST(PrunerRegistry, EveryRegisteredPrunerHasAConformanceLine) {
  for (const auto& entry : pruner_registry()) {
    EXPECT_FALSE(entry.description.empty()) << entry.name;
    EXPECT_TRUE(std::any_of(kCases.begin(), kCases.end(),
                            [&](const PrunerCase& c) { return c.name == entry.name; }))
        << "add '" << entry.name << "' to kCases in tests/pruners/conformance_test.cpp";
  }
  EXPECT_TRUE(std::is_sorted(pruner_registry().begin(), pruner_registry().end(),
                             [](const auto& a, const auto& b) { return a.name < b.name; }));
}

using quarry::testing::error_of;

TEST(PrunerRegistry, UnknownNamesAndOptionsAreRefusedByName) {
  EXPECT_EQ(error_of([] { make_pruner("foo", {}); }),
            "unknown pruner 'foo' (known: learning_curve, median, none)");
  EXPECT_EQ(error_of([] {
              make_pruner("median", {{"bar", 1}});
            }),
            "pruner 'median': unknown option 'bar' (options: min_trials, warmup_steps)");
  EXPECT_EQ(error_of([] {
              make_pruner("none", {{"min_trials", 1}});
            }),
            "pruner 'none': unknown option 'min_trials' (options: none)");
  EXPECT_EQ(error_of([] {
              make_pruner("median", {{"min_trials", 2.5}});
            }),
            "pruner 'median': option 'min_trials' must be an integer, got 2.5");
  EXPECT_THAT(error_of([] {
                make_pruner("median", {{"warmup_steps", -1}});
              }),
              HasSubstr("warmup_steps >= 0 must hold, got warmup_steps=-1"));
  EXPECT_THAT(error_of([] { make_pruner("median", "x"); }), HasSubstr("options must be a mapping"));
}

}  // namespace
}  // namespace quarry::pruners
