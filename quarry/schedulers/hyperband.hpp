// Hyperband with Keras Tuner's semantics (Li et al., "Hyperband: A Novel Bandit-Based Approach to
// Hyperparameter Optimization", JMLR 2018; keras_tuner.Hyperband).
//
// Brackets b = B-1 .. 0 where B counts how often max_epochs can be divided by `factor` and stay
// >= min_epochs. Bracket b has b + 1 rounds; round r runs
//   size(b, r)   = ceil(ceil(1 + log_factor(max_epochs)) / (b + 1) * factor^(b - r))   trials for
//   epochs(b, r) = ceil(max_epochs / factor^(b - r))                                   epochs each.
// Round 0's trials are new configurations from the sampler; each later round promotes the best
// trials of the round before: same parameters, a larger budget, `parent` set so that the trial
// continues from its parent's checkpoint (initial epoch = the parent's budget). When max_epochs is
// a power of factor, round 0 and every epoch count equal the paper's n and r_i; later rounds round
// up where the paper rounds down (Keras Tuner's choice, kept).
//
// A trial is promoted as soon as it is certain to be in the top size(b, r) of its round: when the
// trials that could still beat it (unfinished or not yet created) plus those already promoted are
// fewer than size(b, r). Failed trials are never promoted. When no round of any open bracket can
// take a trial, a worker starts the next bracket instead of idling; after the last bracket of the
// last iteration, workers wait for the running trials and then stop.
//
// State: the brackets (which trial sits in which round) live in the store as the study attribute
// "hyperband", updated under a lease (SchedulerContext::lease), so any number of workers share one
// schedule and a search killed mid-bracket continues that bracket when started again.
//
// Options (YAML: scheduler: {hyperband: {...}}):
//   max_epochs            the largest budget of one trial (required, >= 1)
//   factor                reduction factor between rounds (default 3, >= 2)
//   min_epochs            the smallest budget (default 1)
//   hyperband_iterations  how many times to run all brackets (default 1)
#pragma once

#include <cstdint>
#include <string>

#include "quarry/schedulers/scheduler.hpp"

namespace quarry::schedulers {

struct HyperbandOptions {
  std::int64_t max_epochs = 100;
  std::int64_t factor = 3;
  std::int64_t min_epochs = 1;
  std::int64_t hyperband_iterations = 1;
};

/// Keras Tuner's bracket arithmetic (formulas in the comment above).
class HyperbandSchedule {
 public:
  explicit HyperbandSchedule(HyperbandOptions options);  // validates; throws InvalidArgument
  const HyperbandOptions& options() const { return options_; }
  std::int64_t num_brackets() const;
  std::int64_t num_rounds(std::int64_t bracket) const { return bracket + 1; }
  std::int64_t size(std::int64_t bracket, std::int64_t round) const;
  std::int64_t epochs(std::int64_t bracket, std::int64_t round) const;
  /// Trials of the whole schedule (every round of every bracket, each iteration; a promotion is
  /// a trial): the most a Hyperband search runs (fewer when trials fail).
  std::int64_t total_trials() const;

 private:
  HyperbandOptions options_;
};

class Hyperband : public Scheduler {
 public:
  explicit Hyperband(HyperbandOptions options = {});
  std::string name() const override { return "hyperband"; }
  Assignment assign(SchedulerContext& context, const std::string& worker,
                    std::optional<std::int64_t> max_trials) override;
  const HyperbandSchedule& schedule() const { return schedule_; }

 protected:
  /// Parameters for a new configuration (trial `number`, first round of a bracket, `budget`
  /// epochs), decided under the lease; `trials` is the whole study. Hyperband asks the
  /// study's sampler; BOHB overrides this with its per-budget model.
  virtual Params propose(SchedulerContext& context, std::int64_t number, double budget,
                         const std::vector<Trial>& trials);

 private:
  HyperbandSchedule schedule_;
};

/// The study attribute holding Hyperband's state (JSON), for reports and tests.
inline constexpr const char* kHyperbandStateAttr = "hyperband";

}  // namespace quarry::schedulers
