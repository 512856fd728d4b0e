// Pruners: "should this running trial stop now?" (Optuna's pruners), asked after each
// intermediate value a trial reports. A pruner sees metrics and steps only: the trial, every trial
// of the study (the running ones included) and the first objective's direction (pruning always
// looks at the first objective). It keeps nothing between calls that the history does not hold,
// so any worker of any process gives the same answer.
//
// A pruner composes with a scheduler (schedulers/scheduler.hpp), which decides what runs next and
// at which budget: Hyperband with learning-curve extrapolation is scheduler "hyperband" plus
// pruner "learning_curve".
//
// Adding a pruner: derive from Pruner, register it in pruners/registry.cpp, add one line to
// tests/pruners/conformance_test.cpp.
#pragma once

#include <string>
#include <vector>

#include "quarry/study/trial.hpp"

namespace quarry::pruners {

using study::Direction;
using study::Trial;

class Pruner {
 public:
  virtual ~Pruner() = default;
  /// The registry name ("median", ...).
  virtual std::string name() const = 0;

  /// Called after `trial` reported a new intermediate value (trial.intermediate holds them all);
  /// `history` is every trial of the study, the running ones included.
  virtual bool should_prune(const Trial& trial, const std::vector<Trial>& history,
                            Direction direction) = 0;
};

/// Never stops a trial: every trial runs to its full budget. A study given this pruner (or none)
/// does not read the history when a trial reports.
class NopPruner final : public Pruner {
 public:
  std::string name() const override { return "none"; }
  bool should_prune(const Trial&, const std::vector<Trial>&, Direction) override { return false; }
};

}  // namespace quarry::pruners

namespace quarry {
using pruners::Pruner;
}
