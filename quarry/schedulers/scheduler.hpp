// Schedulers: how much budget each trial gets and when to stop one early.
//
// This first seam answers "should this running trial stop now?" after each reported intermediate
// value (Optuna's pruners). It reads the study's history and never owns it; state that must survive
// a restart lives in the store as study attributes. Multi-fidelity schedulers (Hyperband, ASHA)
// extend it with the "run this trial at this budget / wait / done" decision.
// Adding a scheduler: derive from Scheduler, register it in schedulers/registry.cpp, add one line
// to tests/schedulers/conformance_test.cpp.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "quarry/study/trial.hpp"

namespace quarry::schedulers {

using study::Direction;
using study::Trial;

class Scheduler {
 public:
  virtual ~Scheduler() = default;
  virtual std::string name() const = 0;

  /// Called after `trial` reported a new intermediate value (trial.intermediate holds them all);
  /// `history` is every trial of the study, the running ones included. `direction` is the first
  /// objective's: pruning always looks at the first objective.
  virtual bool should_stop(const Trial& trial, const std::vector<Trial>& history,
                           Direction direction) = 0;
};

/// Never stops a trial: every trial runs to its full budget.
class FullBudget final : public Scheduler {
 public:
  std::string name() const override { return "none"; }
  bool should_stop(const Trial&, const std::vector<Trial>&, Direction) override { return false; }
};

}  // namespace quarry::schedulers

namespace quarry {
using schedulers::Scheduler;
}
