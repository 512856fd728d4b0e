// CmaEsSampler: the covariance matrix adaptation evolution strategy (Hansen, "The CMA Evolution
// Strategy: A Tutorial", 2016; Hansen & Ostermeier 2001), with restarts that double the population
// (IPOP-CMA-ES, Auger & Hansen 2005). Optuna's CmaEsSampler is the reference for how it meets a
// study: the numeric parameters are searched jointly, the others drawn independently.
//
//   CmaEsSampler sampler({.seed = 3});
//
// What it searches: every unconditional Int and Float parameter with more than one value, as one
// point of the unit cube (Param::to_unit: log scales are linear there; integers are rounded by
// from_unit). Choices, Booleans and conditional parameters are drawn uniformly at random, as the
// random sampler does (CMA-ES has no model of them).
//
// Trials and generations, by number, so that proposals depend only on (seed, space, history,
// number) and any worker in any process proposes the same: trials 0 .. n_startup_trials - 1 are
// uniform random draws; after them, generation g of restart r is the next lambda_r numbers
// (lambda_0 = 4 + floor(3 ln d), doubled by each restart). A proposal replays the history: the
// distribution starts at the cube's centre with sigma = sigma0 and C = I (Optuna's x0 and
// sigma0: measured on Rosenbrock-10D at 100 trials, a random startup point as the first mean gave
// a median regret of 10,500, the centre 2,900); each generation whose trials have all finished
// updates it (rank-mu and rank-one updates of C, cumulative step-size adaptation of sigma, Hansen's
// default constants; failed and pruned trials rank last); the first generation not yet finished
// stops the replay (parallel workers: its trials come from the latest distribution). A restart
// begins when sigma shrinks below 1e-10, the condition number of C passes 1e14, or a generation's
// values are all within 1e-12 of each other: a uniform random mean, sigma0, C = I, twice the
// population. Points are drawn as m + sigma B D z, z ~ N(0, I) from Rng::stream(seed, {number,
// attempt}); a draw outside the cube is redrawn (up to 100 times), then clipped.
//
// Options:
//   seed              root of every draw (default 0; the registry passes the study seed)
//   sigma0            initial step size in the unit cube (default 1/6, Optuna's; in (0, 1])
//   n_startup_trials  uniform random trials before the first generation (default 1, >= 0)
//   popsize           lambda of the first run (default 0: 4 + floor(3 ln d); else >= 2)
//   restarts          whether to restart with a doubled population (default true)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "quarry/samplers/random.hpp"
#include "quarry/samplers/sampler.hpp"

namespace quarry::samplers {

struct CmaEsOptions {
  std::uint64_t seed = 0;
  double sigma0 = 1.0 / 6;
  std::int64_t n_startup_trials = 1;
  std::int64_t popsize = 0;  ///< 0: Hansen's default for the dimension
  bool restarts = true;
};

/// Options from a study file's JSON object ("sampler: {cmaes: {...}}"), `seed` defaulting to the
/// study seed; InvalidArgument names the option and the rule.
CmaEsOptions cmaes_options_from_json(const nlohmann::json& options, std::uint64_t seed);

class CmaEsSampler final : public Sampler {
 public:
  explicit CmaEsSampler(CmaEsOptions options = {});  // validates; throws InvalidArgument

  std::string name() const override { return "cmaes"; }
  Params sample_relative(const Space& space, const std::vector<Trial>& history,
                         std::int64_t number) override;
  Value sample_independent(const Param& param, const Params& assigned,
                           const std::vector<Trial>& history, std::int64_t number) override;

  const CmaEsOptions& options() const { return options_; }

 private:
  CmaEsOptions options_;
  RandomSampler random_;  ///< the parameters CMA-ES does not move
};

}  // namespace quarry::samplers
