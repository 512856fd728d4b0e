// Schedulers: how much budget each trial gets and when to stop one early.
//
// Two questions, both answered from the study's history (a scheduler never owns it; state that must
// survive a restart lives in the store as study attributes):
//  - should_stop: "should this running trial stop now?" after each reported intermediate value
//    (Optuna's pruners);
//  - assign (multi-fidelity schedulers: Hyperband, later ASHA and BOHB): "what should this worker
//    run next?" answered with a status, the way Keras Tuner's populate_space answers RUNNING /
//    IDLE / STOPPED: run this trial at this budget (a new configuration, or an earlier trial
//    promoted: same parameters, larger budget, `parent` set so it continues from its checkpoint),
//    wait (trials that decide what comes next are still running), or done.
// Adding a scheduler: derive from Scheduler, register it in schedulers/registry.cpp, add one line
// to tests/schedulers/conformance_test.cpp.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "quarry/study/trial.hpp"

namespace quarry::study {
class Study;
}

namespace quarry::schedulers {

using study::Direction;
using study::Trial;

/// A scheduler's answer to "what next?" for one worker.
struct Assignment {
  enum class Kind { Run, Wait, Done };
  Kind kind = Kind::Done;
  std::optional<Trial> trial;  ///< Run: the trial, already claimed by the worker

  static Assignment run(Trial t) { return {Kind::Run, std::move(t)}; }
  static Assignment wait() { return {Kind::Wait, std::nullopt}; }
  static Assignment done() { return {Kind::Done, std::nullopt}; }
};

class Scheduler {
 public:
  virtual ~Scheduler() = default;
  virtual std::string name() const = 0;

  /// Called after `trial` reported a new intermediate value (trial.intermediate holds them all);
  /// `history` is every trial of the study, the running ones included. `direction` is the first
  /// objective's: pruning always looks at the first objective.
  virtual bool should_stop(const Trial& trial, const std::vector<Trial>& history,
                           Direction direction) = 0;

  /// False when should_stop never answers true (the study then skips reading the history).
  virtual bool stops_trials() const { return true; }
  /// True for schedulers that decide which trial runs next and at which budget (assign).
  virtual bool assigns_trials() const { return false; }
  /// The next trial for `worker` (claimed for it), wait, or done; never more than `max_trials`
  /// trials in the study. Only called when assigns_trials(). Safe to call from many threads and
  /// processes at once: the decision is made under the study's state in the store.
  virtual Assignment assign(study::Study& study, const std::string& worker,
                            std::optional<std::int64_t> max_trials);
};

/// Never stops a trial: every trial runs to its full budget.
class FullBudget final : public Scheduler {
 public:
  std::string name() const override { return "none"; }
  bool should_stop(const Trial&, const std::vector<Trial>&, Direction) override { return false; }
  bool stops_trials() const override { return false; }
};

}  // namespace quarry::schedulers

namespace quarry {
using schedulers::Scheduler;
}
