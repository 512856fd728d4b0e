// AutoSampler: the default sampler. It picks, for each trial, the sampler that measured best on
// studies like this one (as Optuna's AutoSampler does) and lets it propose the whole trial.
//
//   AutoSampler sampler({.seed = 3});       // study file: `sampler: auto` (or no sampler at all)
//
// The rule, first match wins, read from the space and the history at the start of each trial:
//   1. several objectives: NSGA-II, which ranks trials by Pareto front (and by violation);
//   2. a conditional space (a parameter with conditions, or finished trials that hold different
//      parameter names, as define-by-run spaces do): TPE, which fits each conditional parameter
//      on the trials where it is active;
//   3. a scheduler at work (a Pruned trial, or Complete trials at different budgets): TPE, which
//      ranks the trials stopped early by how far they got (BOHB's pairing of Hyperband with a
//      Parzen-estimator model);
//   4. constraints in use (a trial carries a "feasible" attribute): TPE, which ranks the trials
//      that broke one after the rest (the GP does not know them from good ones);
//   5. mostly numeric parameters (numbers and ordered choices of numbers at least as many as
//      booleans and unordered choices) and fewer than `gp_trials` Complete trials: the GP, the
//      best sampler per evaluation on every numeric benchmark of bench/samplers.sh;
//   6. otherwise TPE (a larger budget, where a GP proposal would cost 0.2-0.4 s, or a mostly
//      categorical space).
// Every sampler it picks among keeps no state of its own and proposes from the whole history,
// whoever proposed it, so switching from one to another loses nothing. The chosen sampler serves
// the whole trial: parameters met while it runs (define-by-run) are drawn by that sampler too.
// Deterministic in (seed, space, history, number), as each chosen sampler is.
//
// Options:
//   seed       root of every draw (default 0; the registry passes the study seed)
//   gp_trials  Complete trials after which rule 5 gives way to TPE (default 250, >= 0; 0: never
//              the GP)
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "quarry/samplers/gp.hpp"
#include "quarry/samplers/nsga2.hpp"
#include "quarry/samplers/sampler.hpp"
#include "quarry/samplers/tpe.hpp"

namespace quarry::samplers {

struct AutoOptions {
  std::uint64_t seed = 0;
  std::int64_t gp_trials = 250;
};

/// Options from a study file's JSON object ("sampler: {auto: {...}}"), `seed` defaulting to the
/// study seed. InvalidArgument names the option and the rule.
AutoOptions auto_options_from_json(const nlohmann::json& options, std::uint64_t seed);

class AutoSampler final : public Sampler {
 public:
  explicit AutoSampler(AutoOptions options = {});  // validates; throws InvalidArgument

  std::string name() const override { return "auto"; }
  void attach(const SamplerContext& context) override;
  Params sample_relative(const Space& space, const std::vector<Trial>& history,
                         std::int64_t number) override;
  Value sample_independent(const Param& param, const Params& assigned,
                           const std::vector<Trial>& history, std::int64_t number) override;

  /// The sampler the rule picks for a trial starting now: "gp", "tpe" or "nsga2".
  std::string choose(const Space& space, const std::vector<Trial>& history) const;

  const AutoOptions& options() const { return options_; }

 private:
  Sampler& by_name(const std::string& name);

  AutoOptions options_;
  GpSampler gp_;
  TpeSampler tpe_;
  Nsga2Sampler nsga2_;
  std::mutex mutex_;                         ///< guards chosen_ (worker threads share samplers)
  std::map<std::int64_t, Sampler*> chosen_;  ///< trial number -> its sampler, recent trials
};

}  // namespace quarry::samplers
