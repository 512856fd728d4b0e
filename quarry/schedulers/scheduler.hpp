// Schedulers: what runs next and at which budget.
//
// A worker asks the study for work; the study asks its scheduler, which answers with a status the
// way Keras Tuner's populate_space answers RUNNING / IDLE / STOPPED: run this trial at this budget
// (a new configuration, or an earlier trial promoted: same parameters, larger budget, `parent` set
// so that it continues from its checkpoint), wait (trials that decide what comes next are still
// running), or done. Stopping a running trial early is a pruner's question
// (pruners/pruner.hpp); a search may have both.
//
// A scheduler sees the study through a narrow context (SchedulerContext): claim a waiting trial,
// read the trials, propose parameters (the study's sampler), create a trial, read and write its
// own state, and take a lease on it. It never holds the store or the Study: state that must
// survive a restart goes through the context, so any number of workers in any number of processes
// share one schedule and a killed search continues it.
//
// Adding a scheduler: derive from Scheduler, register it in schedulers/registry.cpp, add one line
// to tests/schedulers/conformance_test.cpp.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "quarry/space/space.hpp"
#include "quarry/study/trial.hpp"

namespace quarry::schedulers {

using space::Space;
using study::Direction;
using study::Trial;
using study::TrialState;

/// A scheduler's answer to "what next?" for one worker.
struct Assignment {
  enum class Kind { Run, Wait, Done };
  Kind kind = Kind::Done;
  std::optional<Trial> trial;  ///< Run: the trial, already claimed by the worker

  static Assignment run(Trial t) { return {Kind::Run, std::move(t)}; }
  static Assignment wait() { return {Kind::Wait, std::nullopt}; }
  static Assignment done() { return {Kind::Done, std::nullopt}; }
};

/// Held while alive: the lease SchedulerContext::lease took (storage/lease.hpp).
class StateLease {
 public:
  virtual ~StateLease() = default;
};

/// What a scheduler may do to the study it serves; the study implements it. Safe to use from many
/// threads at once.
class SchedulerContext {
 public:
  virtual ~SchedulerContext() = default;

  virtual const std::string& study_name() const = 0;
  /// One per objective; schedulers rank trials by the first.
  virtual const std::vector<Direction>& directions() const = 0;
  /// The study's search space now.
  virtual Space space() const = 0;

  /// A Waiting trial (queued, interrupted, or created by a worker that died before running it),
  /// now Running for `worker` and with its parameters; nullopt when there is none.
  virtual std::optional<Trial> claim_waiting(const std::string& worker) = 0;
  /// Every trial of the study, by number.
  virtual std::vector<Trial> trials() const = 0;
  /// The study sampler's parameters for a new trial `number`, over the current space and history.
  virtual Params propose(std::int64_t number) = 0;
  /// How many trials the sampler can propose (a grid), nullopt when unbounded.
  virtual std::optional<std::int64_t> capacity() const = 0;
  /// Creates `trial` (its number is assigned; state, params, budget, parent and worker as given),
  /// unless the study already holds `max_trials` trials: then nullopt.
  virtual std::optional<Trial> create_trial(const study::NewTrial& trial,
                                            std::optional<std::int64_t> max_trials = {}) = 0;
  /// Stores the parameters of trial `number` (one created without them).
  virtual void set_params(std::int64_t number, const Params& params) = 0;

  /// The scheduler's own state `key` (a study attribute), nullopt when never written.
  virtual std::optional<std::string> state(const std::string& key) const = 0;
  virtual void set_state(const std::string& key, const std::string& value) = 0;
  /// Blocks until the lease `key` is held for `worker`; released when the result is destroyed.
  /// Decide-and-write steps that many workers could take at once run under it.
  virtual std::unique_ptr<StateLease> lease(const std::string& key, const std::string& worker) = 0;
};

class Scheduler {
 public:
  virtual ~Scheduler() = default;
  /// The registry name ("hyperband", ...).
  virtual std::string name() const = 0;

  /// The next trial for `worker` (claimed for it), wait, or done; never more than `max_trials`
  /// trials in the study. Safe to call from many threads and processes at once.
  virtual Assignment assign(SchedulerContext& context, const std::string& worker,
                            std::optional<std::int64_t> max_trials) = 0;
};

/// Every trial at the full budget: a waiting trial first, else a new configuration from the
/// sampler, until `max_trials` or the sampler's capacity is reached (then done).
class FullBudget final : public Scheduler {
 public:
  std::string name() const override { return "none"; }
  Assignment assign(SchedulerContext& context, const std::string& worker,
                    std::optional<std::int64_t> max_trials) override;
};

}  // namespace quarry::schedulers

namespace quarry {
using schedulers::Scheduler;
}
