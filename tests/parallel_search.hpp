// One check shared by the scheduler and pruner conformance suites: with three workers on one
// store, a search over curves x^2 + 1/step (budget = steps, pruned when told) ends on its own,
// every trial ends, and no trial is run by two workers.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "quarry/runner/runner.hpp"
#include "quarry/storage/memory.hpp"

namespace quarry::testing {

inline void expect_parallel_search_ends(StudyOptions options) {
  options.directions = {Direction::Minimize};
  Study study(std::make_shared<storage::MemoryStorage>(), "conformance", std::move(options));
  Space space;
  space.add(space::Param::Float("x", -1, 1));
  study.register_space(space);
  objectives::FunctionObjective objective("curve", [](TrialContext& c) {
    const double x = std::get<double>(c.params().at("x"));
    const auto steps = std::max<std::int64_t>(1, static_cast<std::int64_t>(c.budget()));
    for (std::int64_t step = 1; step <= steps; ++step)
      if (c.report(step, x * x + 1.0 / double(step))) throw TrialPruned("pruned");
    return std::vector<double>{x * x + 1.0 / double(steps)};
  });
  const auto summary = runner::run(study, objective, {.workers = 3, .max_trials = 40});
  EXPECT_FALSE(summary.stopped);
  const auto trials = study.trials();
  ASSERT_FALSE(trials.empty());
  EXPECT_LE(trials.size(), 40u);
  for (const auto& t : trials) {
    EXPECT_TRUE(t.finished()) << "trial " << t.number;
    EXPECT_EQ(t.attempts, 1) << "trial " << t.number;
  }
  EXPECT_EQ(summary.complete + summary.pruned, static_cast<std::int64_t>(trials.size()));
}

}  // namespace quarry::testing
