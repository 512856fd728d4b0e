// MedianStopping: stop a trial whose best intermediate value so far is worse than the median of
// the other trials at the same step (Optuna's MedianPruner, i.e. PercentilePruner(50); Golovin et
// al. 2017, "Google Vizier", section 3.2.2 "median stopping rule").
//
//   MedianStopping pruner({.min_trials = 5, .warmup_steps = 0});  // YAML: pruner: median
//
// After a trial reports step s (its last step), it is stopped when all of these hold:
//   - s >= warmup_steps;
//   - at least min_trials (and at least one) other finished trials (Complete or Pruned) have a
//     value at step s; for each, take its best value over steps <= s;
//   - the trial's best value so far is strictly worse than the median of those (linear
//     interpolation between the two middle values, as numpy.percentile does).
// "Best" and "worse" follow the direction. NaN values are ignored; a trial whose values are all NaN
// is stopped once the rule applies (Optuna does the same). Unlike Optuna, which compares with the
// other trials' value AT step s, this compares with their best up to s: a trial that was once good
// keeps counting as good, so a noisy curve does not lower the bar.
//
// Options (InvalidArgument when negative):
//   min_trials    finished trials with a value at the step before anything is stopped (default 5)
//   warmup_steps  steps below this are never stopped (default 0)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "quarry/pruners/pruner.hpp"

namespace quarry::pruners {

struct MedianOptions {
  std::int64_t min_trials = 5;    ///< other finished trials needed at a step
  std::int64_t warmup_steps = 0;  ///< first step that may be stopped
};

class MedianStopping final : public Pruner {
 public:
  explicit MedianStopping(MedianOptions options = {});

  std::string name() const override { return "median"; }
  bool should_prune(const Trial& trial, const std::vector<Trial>& history,
                    Direction direction) override;

  const MedianOptions& options() const { return options_; }

 private:
  MedianOptions options_;
};

/// The q-th percentile (0..100) of `values` by linear interpolation (numpy's default); NaN when
/// `values` is empty. Reorders `values`.
double percentile(std::vector<double>& values, double q);

}  // namespace quarry::pruners
