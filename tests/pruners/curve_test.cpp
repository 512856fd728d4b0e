#include "quarry/pruners/curve.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>

#include "quarry/core/rng.hpp"
#include "quarry/pruners/registry.hpp"
#include "quarry/runner/runner.hpp"
#include "quarry/schedulers/registry.hpp"
#include "quarry/storage/memory.hpp"
#include "quarry/study/study.hpp"
#include "tests/test_util.hpp"

namespace quarry::pruners {
namespace {

using quarry::testing::error_of;
using ::testing::HasSubstr;

using Curve = std::function<double(double)>;

/// Steps first..last of `curve` plus noise of sd `noise` drawn from (seed, step).
std::map<std::int64_t, double> steps(const Curve& curve, std::int64_t first, std::int64_t last,
                                     double noise = 0.005, std::uint64_t seed = 1) {
  std::map<std::int64_t, double> out;
  for (std::int64_t t = first; t <= last; ++t)
    out[t] = curve(double(t)) + noise * Rng::stream(seed, {std::uint64_t(t)}).normal();
  return out;
}

Trial trial(std::int64_t number, TrialState state, std::map<std::int64_t, double> curve) {
  Trial t;
  t.number = number;
  t.state = state;
  t.intermediate = std::move(curve);
  if (state == TrialState::Complete) t.values = {t.intermediate.rbegin()->second};
  return t;
}

const Curve kGood = [](double t) { return 0.9 - 0.5 * std::pow(t, -0.8); };  // 0.867 at 30
const Curve kBest = [](double t) { return 0.88 - 0.5 * std::pow(t, -0.8); };
const Curve kPlateau = [](double t) { return 0.45 - 0.1 / t; };  // far below the best

/// Two finished trials of 30 steps, the best ending at 0.847, plus `current`.
std::vector<Trial> history_with(const Trial& current) {
  return {trial(0, TrialState::Complete, steps(kBest, 1, 30, 0.005, 7)),
          trial(1, TrialState::Pruned, steps(kPlateau, 1, 5, 0.005, 8)), current};
}

TEST(LearningCurve, StopsACurveThatPlateausFarBelowTheBest) {
  LearningCurveStopping scheduler;
  const Trial bad = trial(2, TrialState::Running, steps(kPlateau, 1, 6));
  const auto history = history_with(bad);
  EXPECT_TRUE(scheduler.should_prune(bad, history, Direction::Maximize));
  EXPECT_LT(*scheduler.chance_to_beat_best(bad, history, Direction::Maximize), 1e-3);
}

TEST(LearningCurve, KeepsACurveHeadingAboveTheBest) {
  // Below the best's value at step 30 (0.847) for now (0.76 at step 5), heading for 0.867.
  LearningCurveStopping scheduler;
  for (std::int64_t seen = 4; seen <= 10; ++seen) {
    const Trial good = trial(2, TrialState::Running, steps(kGood, 1, seen));
    const auto history = history_with(good);
    EXPECT_FALSE(scheduler.should_prune(good, history, Direction::Maximize)) << seen;
    EXPECT_GT(*scheduler.chance_to_beat_best(good, history, Direction::Maximize), 0.2) << seen;
  }
}

TEST(LearningCurve, DecidesNothingBeforeMinSteps) {
  // Even a hopeless, noisy curve is left alone with min_steps - 1 values.
  for (std::int64_t min_steps : {4, 6}) {
    LearningCurveStopping scheduler({.min_steps = min_steps});
    const Trial noisy = trial(2, TrialState::Running, steps(kPlateau, 1, min_steps - 1, 0.05));
    EXPECT_FALSE(scheduler.chance_to_beat_best(noisy, history_with(noisy), Direction::Maximize));
    EXPECT_FALSE(scheduler.should_prune(noisy, history_with(noisy), Direction::Maximize));
    const Trial more = trial(2, TrialState::Running, steps(kPlateau, 1, min_steps, 0.05));
    EXPECT_TRUE(scheduler.should_prune(more, history_with(more), Direction::Maximize));
  }
}

TEST(LearningCurve, MinimizeFlipsTheValues) {
  // Losses 1 - curve: the plateau's loss stays high, the good curve's falls below the best.
  const auto loss = [](const Curve& c) { return [c](double t) { return 1.0 - c(t); }; };
  LearningCurveStopping scheduler;
  std::vector<Trial> history = {trial(0, TrialState::Complete, steps(loss(kBest), 1, 30, 0.005, 7)),
                                trial(2, TrialState::Running, steps(loss(kPlateau), 1, 6))};
  EXPECT_TRUE(scheduler.should_prune(history[1], history, Direction::Minimize));
  EXPECT_FALSE(scheduler.should_prune(history[1], history, Direction::Maximize));
  history[1] = trial(2, TrialState::Running, steps(loss(kGood), 1, 6));
  EXPECT_FALSE(scheduler.should_prune(history[1], history, Direction::Minimize));
}

TEST(LearningCurve, ATrialAlreadyAtTheBestIsNeverStopped) {
  LearningCurveStopping scheduler;
  // Ahead of trial 0 (kBest) at every step, 25 of 30 steps in.
  const Trial leader =
      trial(2, TrialState::Running, steps([](double t) { return kBest(t) + 0.03; }, 1, 25));
  EXPECT_EQ(scheduler.chance_to_beat_best(leader, history_with(leader), Direction::Maximize), 1.0);
}

TEST(LearningCurve, TheTargetStep) {
  // Another trial that only gets good after step 30: with the target at 30 (the largest step a
  // finished trial reached... here 40, so max_step sets it) the plateau at 0.45 beats its 0.3.
  const Curve late = [](double t) { return t <= 30 ? 0.3 : 0.95; };
  const Trial current = trial(2, TrialState::Running, steps(kPlateau, 1, 6));
  const std::vector<Trial> history = {trial(0, TrialState::Complete, steps(late, 1, 40, 0)),
                                      current};
  EXPECT_TRUE(LearningCurveStopping().should_prune(current, history, Direction::Maximize));
  EXPECT_FALSE(
      LearningCurveStopping({.max_step = 30}).should_prune(current, history, Direction::Maximize));
  // The trial's own budget comes before the finished trials' steps.
  Trial budgeted = current;
  budgeted.budget = 30;
  EXPECT_FALSE(
      LearningCurveStopping().should_prune(budgeted, {history[0], budgeted}, Direction::Maximize));
  // No target at all (no budget, nothing finished): no decision.
  const Trial running_best = trial(0, TrialState::Running, steps(kBest, 1, 20));
  EXPECT_FALSE(LearningCurveStopping().chance_to_beat_best(current, {running_best, current},
                                                           Direction::Maximize));
  // A trial that reached the target has nothing left to predict.
  const Trial at_target = trial(2, TrialState::Running, steps(kPlateau, 1, 30));
  EXPECT_FALSE(LearningCurveStopping().chance_to_beat_best(at_target, history_with(at_target),
                                                           Direction::Maximize));
}

TEST(LearningCurve, StepsFromZeroAreShifted) {
  const Curve plateau = [](double t) { return kPlateau(t + 1); };
  const Curve best = [](double t) { return kBest(t + 1); };
  const Trial bad = trial(2, TrialState::Running, steps(plateau, 0, 5));
  const std::vector<Trial> history = {trial(0, TrialState::Complete, steps(best, 0, 29)), bad};
  EXPECT_TRUE(LearningCurveStopping().should_prune(bad, history, Direction::Maximize));
}

TEST(LearningCurve, APromotedTrialUsesItsParentsSteps) {
  // Steps 1-3 by the parent, 4-6 by the promoted trial: six points, enough for a decision.
  Trial parent = trial(1, TrialState::Complete, steps(kPlateau, 1, 3));
  parent.budget = 3;
  Trial promoted = trial(2, TrialState::Running, steps(kPlateau, 4, 6));
  promoted.parent = 1;
  const std::vector<Trial> history = {trial(0, TrialState::Complete, steps(kBest, 1, 30)), parent,
                                      promoted};
  LearningCurveStopping scheduler({.min_steps = 5});
  EXPECT_TRUE(scheduler.should_prune(promoted, history, Direction::Maximize));
  promoted.parent.reset();
  EXPECT_FALSE(
      scheduler.should_prune(promoted, {history[0], parent, promoted}, Direction::Maximize));
}

// --- options and the registry -------------------------------------------------------------------

TEST(LearningCurve, OptionsFromJson) {
  const auto o =
      learning_curve_options_from_json({{"threshold", 0.1}, {"min_steps", 5}, {"max_step", 27}});
  EXPECT_EQ(o.threshold, 0.1);
  EXPECT_EQ(o.min_steps, 5);
  EXPECT_EQ(o.max_step, 27);
  const auto d = learning_curve_options_from_json(nullptr);
  EXPECT_EQ(d.threshold, 0.05);
  EXPECT_EQ(d.min_steps, 4);
  EXPECT_FALSE(d.max_step);
}

TEST(LearningCurve, BadOptionsAreOneLineErrors) {
  EXPECT_EQ(error_of([] {
              make_pruner("learning_curve", {{"treshold", 0.1}});
            }),
            "pruner 'learning_curve': unknown option 'treshold' (options: threshold, "
            "min_steps, max_step)");
  EXPECT_EQ(error_of([] {
              make_pruner("learning_curve", {{"threshold", 1.5}});
            }),
            "LearningCurveStopping: 0 < threshold < 1 must hold, got threshold=1.5");
  EXPECT_EQ(error_of([] {
              make_pruner("learning_curve", {{"min_steps", 0}});
            }),
            "pruner 'learning_curve': option 'min_steps' must be >= 1, got 0");
  EXPECT_EQ(error_of([] {
              make_pruner("learning_curve", {{"max_step", 0}});
            }),
            "pruner 'learning_curve': option 'max_step' must be >= 1, got 0");
  EXPECT_THAT(error_of([] {
                make_pruner("learning_curve", {{"with", "hyperband"}});
              }),
              HasSubstr("pruner 'learning_curve': unknown option 'with'"));
  EXPECT_EQ(error_of([] { LearningCurveStopping({.max_step = -1}); }),
            "LearningCurveStopping: max_step >= 1 must hold, got max_step=-1");
}

// --- composed with a scheduler ------------------------------------------------------------------

TEST(LearningCurve, WithHyperbandRunsASearchToItsEndAndPrunesBadCurves) {
  // Curves q(x) (0.9 - 0.5 t^-0.8), q falling from 1 at x = 0 to 0.2 at x = 1: the poor ones
  // are stopped on their way to step 9. Hyperband assigns the trials, the pruner stops them.
  Study study(
      std::make_shared<storage::MemoryStorage>(), "lc-run",
      {.directions = {Direction::Maximize},
       .scheduler = schedulers::make_scheduler("hyperband", {{"max_epochs", 9}, {"factor", 3}}),
       .pruner = make_pruner("learning_curve", {{"max_step", 9}})});
  Space space;
  space.add(space::Param::Float("x", 0, 1));
  study.register_space(space);
  const auto first = study.next("w");
  ASSERT_EQ(first.kind, schedulers::Assignment::Kind::Run);
  EXPECT_EQ(first.trial->budget, 1.0);  // Hyperband's first bracket starts at 1 epoch
  study.requeue(*first.trial, "handed back to the search below");
  objectives::FunctionObjective objective("curve", [](TrialContext& c) {
    const double q = 1.0 - 0.8 * std::get<double>(c.params().at("x"));
    const auto budget = static_cast<std::int64_t>(c.budget());
    for (std::int64_t step = 1; step <= budget; ++step)
      if (c.report(step, q * kGood(double(step)))) throw TrialPruned("pruned");
    return std::vector<double>{q * kGood(double(budget))};
  });
  const auto summary = runner::run(study, objective, {.workers = 1});
  EXPECT_FALSE(summary.stopped);
  EXPECT_GT(summary.pruned, 0);
  EXPECT_GT(summary.complete, 0);
  for (const auto& t : study.trials()) {
    EXPECT_TRUE(t.finished());
    if (t.state == TrialState::Pruned) {
      EXPECT_GE(t.intermediate.size(), 4u) << "min_steps holds, trial " << t.number;
      EXPECT_EQ(t.budget, 9.0) << "only the 9-epoch trials have a step to predict";
    }
  }
}

}  // namespace
}  // namespace quarry::pruners
