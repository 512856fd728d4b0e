// Every registered scheduler with every registered sampler: a parallel search on a SQLite store
// runs to its end, and a second search over the same store (new Study, sampler and scheduler
// objects) resumes it. Both lists come from the registries: new entries are covered without an
// edit here.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "quarry/core/error.hpp"
#include "quarry/runner/runner.hpp"
#include "quarry/samplers/registry.hpp"
#include "quarry/schedulers/registry.hpp"
#include "quarry/storage/sqlite.hpp"
#include "quarry/study/study.hpp"
#include "tests/test_util.hpp"

namespace quarry::schedulers {
namespace {

using space::Param;

struct Pairing {
  std::string scheduler, sampler;
};

std::vector<Pairing> all_pairings() {
  std::vector<Pairing> out;
  for (const auto& scheduler : scheduler_registry())
    for (const auto& sampler : samplers::sampler_registry())
      out.push_back({scheduler.name, sampler.name});
  return out;
}

/// The options a scheduler needs to run here (the multi-fidelity ones need their largest budget).
nlohmann::json scheduler_options(const std::string& name) {
  if (name == "hyperband" || name == "bohb") return {{"max_epochs", 9}};
  if (name == "asha") return {{"max_budget", 9}};
  return nullptr;
}

/// A space every sampler can search, the grid included (27 combinations).
Space mixed_space() {
  Space s;
  s.add(Param::Int("x", -4, 4));
  s.add(Param::Choice("kind", {Value{"a"}, Value{"b"}, Value{"c"}}));
  return s;
}

Study open_study(const std::string& db, const Pairing& p) {
  Study study(std::make_shared<storage::SqliteStorage>(db), "pairing",
              {.directions = {Direction::Minimize},
               .sampler = samplers::make_sampler(p.sampler, nullptr, 7),
               .scheduler = make_scheduler(p.scheduler, scheduler_options(p.scheduler))});
  study.register_space(mixed_space());
  return study;
}

/// A learning curve over the budget's steps, reported so that stopping schedulers can stop it.
objectives::FunctionObjective curve() {
  return objectives::FunctionObjective("curve", [](TrialContext& c) {
    const auto x = static_cast<double>(std::get<std::int64_t>(c.params().at("x")));
    const double offset = std::get<std::string>(c.params().at("kind")) == "b" ? 0.0 : 1.0;
    const auto steps = std::max<std::int64_t>(1, std::llround(c.budget()));
    double value = 0;
    for (std::int64_t step = 1; step <= steps; ++step) {
      value = (x - 1) * (x - 1) + offset + 1.0 / double(step);
      if (c.report(step, value)) throw TrialPruned("stopped at step " + std::to_string(step));
    }
    return std::vector<double>{value};
  });
}

/// Every trial ended, was claimed once, has a unique number and parameters from the space.
void expect_search_ended(Study& study) {
  const auto trials = study.trials();
  const Space space = study.space();
  std::set<std::int64_t> numbers;
  for (std::size_t i = 0; i < trials.size(); ++i) {
    const Trial& t = trials[i];
    EXPECT_EQ(t.number, std::int64_t(i));
    EXPECT_TRUE(numbers.insert(t.number).second) << "number twice: " << t.number;
    EXPECT_TRUE(t.finished()) << "trial " << t.number << " is " << study::to_string(t.state);
    EXPECT_NE(t.state, TrialState::Failed) << "trial " << t.number << ": " << t.failure;
    EXPECT_EQ(t.attempts, 1) << "trial " << t.number;
    EXPECT_NO_THROW(space.validate(t.params)) << "trial " << t.number;
  }
}

class SchedulersWithSamplers : public ::testing::TestWithParam<Pairing> {};

TEST_P(SchedulersWithSamplers, ParallelSearchRunsToItsEndAndResumes) {
  constexpr std::int64_t kFirst = 12, kSecond = 30;
  quarry::testing::TempDir dir;
  const std::string db = dir.file("study.db");
  auto objective = curve();
  std::size_t first = 0;
  {
    Study study = open_study(db, GetParam());
    const auto summary = runner::run(study, objective, {.workers = 3, .max_trials = kFirst});
    EXPECT_FALSE(summary.stopped);
    EXPECT_EQ(summary.failed, 0);
    expect_search_ended(study);
    first = study.trials().size();
    EXPECT_GT(first, 0u);
    EXPECT_LE(first, std::size_t(kFirst));
  }
  Study resumed = open_study(db, GetParam());
  const auto summary = runner::run(resumed, objective, {.workers = 3, .max_trials = kSecond});
  EXPECT_FALSE(summary.stopped);
  EXPECT_EQ(summary.failed, 0);
  expect_search_ended(resumed);
  const auto total = resumed.trials().size();
  EXPECT_GT(total, first) << "the second search added nothing";
  EXPECT_LE(total, std::size_t(kSecond));
  EXPECT_EQ(summary.complete + summary.pruned, std::int64_t(total - first));
}

INSTANTIATE_TEST_SUITE_P(Registered, SchedulersWithSamplers, ::testing::ValuesIn(all_pairings()),
                         [](const auto& tp) {
                           return tp.param.scheduler + "_" + tp.param.sampler;
                         });

}  // namespace
}  // namespace quarry::schedulers
