// LearningCurveStopping: stop a trial whose learning curve, extrapolated to the step that counts,
// is unlikely to beat the best value seen so far (Domhan, Springenberg & Hutter, "Speeding up
// Automatic Hyperparameter Optimization of Deep Neural Networks by Extrapolation of Learning
// Curves", IJCAI 2015: their "predictive termination criterion" with the ensemble of
// pruners/curve_models.hpp).
//
//   LearningCurveStopping pruner({.threshold = 0.05, .max_step = 30});
//   // YAML: pruner: {learning_curve: {threshold: 0.05}}
//   //       scheduler: {hyperband: {max_epochs: 27}}   # optional: Hyperband assigns the trials
//
// After a trial reports a value, with its curve read as "higher is better" (values negated when
// the direction is Minimize; NaN values ignored):
//   - the target step T is max_step, else the trial's budget when > 0, else the largest step any
//     finished trial reached; no decision without one, or once the trial has reached T;
//   - the best so far is, over every other trial, its best intermediate value at steps <= T, and
//     its final value when it is Complete at a budget <= T (0, the full budget, counts when its
//     last step is <= T); no decision while there is none;
//   - with at least min_steps values (and at least the 4 the extrapolation needs), the curve is
//     extrapolated to T: a normal N(mean, stddev^2), and the trial is stopped when P(value at T >
//     best so far) < threshold. A trial whose own best already reaches the best so far is never
//     stopped.
// A promoted trial (`parent` set, Hyperband) takes its parents' values at the steps before its own
// first one. Steps below 1 are shifted so that the first is 1 (the families need t >= 1).
// Everything comes from the history: nothing is kept in memory between calls.
//
// With Hyperband (or ASHA, BOHB) as the scheduler, set max_step to max_epochs: every trial is then
// judged by where its curve would end; without it a trial is judged at its own round's budget,
// which short rounds rarely reach min_steps for.
//
// Options (YAML: pruner: {learning_curve: {...}}):
//   threshold  stop when P(final beats the best so far) is below this (default 0.05, in (0, 1))
//   min_steps  reported values needed before any decision (default 4, >= 1; with 3 only the
//              ilog2 family could be fitted, and its 3-point predictions missed the truth by
//              more than 3 stddev in most seeded test curves)
//   max_step   the step whose value counts (default: as above)
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "quarry/pruners/pruner.hpp"

namespace quarry::pruners {

struct LearningCurveOptions {
  double threshold = 0.05;
  std::int64_t min_steps = 4;
  std::optional<std::int64_t> max_step;  ///< the step to predict at (default: see above)
};

/// Options from a study file's JSON object. InvalidArgument names the option and the rule.
LearningCurveOptions learning_curve_options_from_json(const nlohmann::json& options);

class LearningCurveStopping final : public Pruner {
 public:
  explicit LearningCurveStopping(LearningCurveOptions options = {});  // throws InvalidArgument

  std::string name() const override { return "learning_curve"; }
  bool should_prune(const Trial& trial, const std::vector<Trial>& history,
                    Direction direction) override;

  /// P(the trial's value at the target step beats the best so far), nullopt when the rule above
  /// makes no decision.
  std::optional<double> chance_to_beat_best(const Trial& trial, const std::vector<Trial>& history,
                                            Direction direction) const;

  const LearningCurveOptions& options() const { return options_; }

 private:
  std::optional<double> target_step(const Trial& trial, const std::vector<Trial>& history) const;

  LearningCurveOptions options_;
};

}  // namespace quarry::pruners
