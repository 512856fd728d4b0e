// ASHA: asynchronous successive halving with promotion (Li, Jamieson, Rostamizadeh, Gonina,
// Ben-tzur, Hardt, Recht, Talwalkar, "A System for Massively Parallel Hyperparameter Tuning",
// MLSys 2020, Algorithm 2).
//
//   Asha scheduler({.max_budget = 27, .min_budget = 1, .eta = 3});  // rungs at 1, 3, 9, 27
//
// Rungs k = 0..K have budgets r_k = min_budget * eta^k, capped at max_budget: the top rung K is the
// first whose budget reaches max_budget, and its budget is max_budget. When max_budget / min_budget
// is a power of eta these are the paper's rungs (s = 0); otherwise the top rung is the short step
// up to max_budget (min 1, max 10, eta 3: rungs 1, 3, 9, 10).
//
// When a worker asks for work (the paper's get_job):
//  1. a Waiting trial (queued or interrupted) is claimed first;
//  2. else, for k = K-1 down to 0, the best trial of rung k that is among the top floor(n_k / eta)
//     of the n_k Complete trials of rung k and not yet promoted is promoted: a new trial with the
//     same parameters at budget r_{k+1}, `parent` set so that a trainer continues from its
//     checkpoint;
//  3. else a new configuration starts at rung 0, its parameters from the study's sampler.
// A worker never waits for a rung to fill: ASHA waits only when max_trials is reached (promotions
// count) and trials still run, and is done once they have all finished. It is also done when the
// sampler is exhausted (a grid: trial numbers reach its capacity) and nothing is left to promote.
// Failed and Pruned trials are never promoted and do not count in n_k; neither do trials whose
// budget is no rung's (an enqueued trial with budget 0, i.e. the full budget). ASHA never stops
// a running trial (a pruner may).
//
// State: none besides the trials. A trial's rung is its budget, and a trial is promoted when some
// trial names it as `parent`, so a resumed search (any process, any Study object) continues the
// same rungs; a larger max_budget on resume adds rungs on top. The decide-and-create step runs
// under a lease (SchedulerContext::lease, study attribute "asha.lock"), so concurrent workers never
// promote a trial twice.
//
// Options (YAML: scheduler: {asha: {...}}), validated by the constructor (InvalidArgument):
//   max_budget  the largest budget of one trial, the top rung's (required, >= 1)
//   min_budget  rung 0's budget (default 1, >= 1, <= max_budget)
//   eta         reduction factor: each rung promotes its top 1/eta (default 3, >= 2)
//   group_by    a parameter's name (default none): trials are ranked only against trials with
//               the same value of it, as if each value had rungs of its own. For a choice
//               between models whose budgets mean different things (AutoML's model family: a
//               ninth of a boosted model's rounds is not comparable to a linear model, whose
//               work does not grow with the budget). Trials without the parameter form a group.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "quarry/schedulers/scheduler.hpp"

namespace quarry::schedulers {

struct AshaOptions {
  std::int64_t max_budget = 0;  ///< required: 0 is refused
  std::int64_t min_budget = 1;
  std::int64_t eta = 3;
  std::string group_by;  ///< empty: one group
};

/// One promotion: trial `parent` goes on at `rung` (budget `budget`).
struct AshaPromotion {
  std::int64_t parent = -1;
  std::int64_t rung = 0;
  double budget = 0;
};

class Asha final : public Scheduler {
 public:
  explicit Asha(AshaOptions options);

  std::string name() const override { return "asha"; }
  Assignment assign(SchedulerContext& context, const std::string& worker,
                    std::optional<std::int64_t> max_trials) override;

  const AshaOptions& options() const { return options_; }
  /// The rung budgets r_0 < r_1 < ... < r_K = max_budget.
  const std::vector<double>& rungs() const { return rungs_; }
  /// The rung whose budget is `budget`; nullopt for any other budget.
  std::optional<std::int64_t> rung_of(double budget) const;
  /// The promotion ASHA makes next given every trial of the study (the paper's get_job, without
  /// the new-configuration case): highest rung first; nullopt when nothing can be promoted.
  std::optional<AshaPromotion> next_promotion(const std::vector<Trial>& trials,
                                              Direction direction) const;

 private:
  AshaOptions options_;
  std::vector<double> rungs_;
};

/// The study attribute holding ASHA's lease (SchedulerContext::lease).
inline constexpr const char* kAshaLockAttr = "asha.lock";

}  // namespace quarry::schedulers
