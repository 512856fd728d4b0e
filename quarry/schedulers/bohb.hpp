// BOHB: Hyperband whose new configurations come from a model (Falkner, Klein & Hutter, "BOHB:
// Robust and Efficient Hyperparameter Optimization at Scale", ICML 2018; HpBandSter's
// config_generators/bohb.py for the details).
//
//   Bohb bohb({.max_epochs = 27, .factor = 3, .seed = 7});
//
// Brackets, rounds, promotions and the stored state are Hyperband's (schedulers/hyperband.hpp);
// only propose() differs. For each new configuration:
//   1. with probability random_fraction, or while no budget has a model, the study's sampler
//      proposes it (SchedulerContext::propose; `sampler: random` gives the paper's random
//      configurations, which keep its convergence guarantee; the default, auto, gives TPE's);
//   2. otherwise the model is fitted on the Complete trials of the LARGEST budget (Trial::budget,
//      epochs) with enough of them: sorted by loss, good = the best max(m, top_n_percent% of n),
//      bad = the next max(m, (100 - top_n_percent)% of n), and both need m =
//      min_points_in_model points. Each group gets a multivariate Parzen estimator
//      (samplers/parzen.hpp: product kernels, one bandwidth per parameter by Scott's rule, as
//      statsmodels' normal_reference in the paper, clipped below at min_bandwidth; a prior kernel
//      of weight 0.01 keeps g(x) above zero where HpBandSter clips densities at 1e-32);
//   3. num_samples candidates are drawn from the good estimator with bandwidths widened by
//      bandwidth_factor, and the one maximising l(x) / g(x) is proposed.
// Parameters are modelled on the unit cube of Param::to_unit; an inactive conditional parameter
// is uniform in its kernel (HpBandSter imputes a random value) and left out of a candidate's
// density. Running trials are ignored (the paper's parallel BOHB does the same). Draws come from
// Rng::stream(seed, {number, ...}): a proposal depends on (seed, space, trials, number) only.
//
// Options (YAML: scheduler: {bohb: {...}}):
//   max_epochs, factor, min_epochs, hyperband_iterations   as Hyperband (max_epochs required)
//   seed                  root of the model's draws (default 0: schedulers get no study seed)
//   min_points_in_model  points each group needs (default 0: parameters + 1, the paper's)
//   top_n_percent        share of a budget's trials that are good (default 15, in (0, 100))
//   random_fraction      share of configurations from the study's sampler (default 1/3, [0, 1])
//   num_samples          candidates drawn per model-based proposal (default 64, >= 1)
//   bandwidth_factor     widening of the good estimator's bandwidths for draws (default 3, > 0)
//   min_bandwidth        lower clip of every bandwidth (default 1e-3, > 0)
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "quarry/schedulers/hyperband.hpp"
#include "quarry/space/space.hpp"

namespace quarry::schedulers {

struct BohbOptions {
  std::int64_t max_epochs = 100;
  std::int64_t factor = 3;
  std::int64_t min_epochs = 1;
  std::int64_t hyperband_iterations = 1;
  std::uint64_t seed = 0;
  std::int64_t min_points_in_model = 0;
  double top_n_percent = 15;
  double random_fraction = 1.0 / 3.0;
  std::int64_t num_samples = 64;
  double bandwidth_factor = 3;
  double min_bandwidth = 1e-3;
};

/// Options from a study file's JSON object; InvalidArgument names the option and the rule.
BohbOptions bohb_options_from_json(const nlohmann::json& options);

class Bohb final : public Hyperband {
 public:
  explicit Bohb(BohbOptions options = {});  // validates; throws InvalidArgument
  std::string name() const override { return "bohb"; }
  const BohbOptions& options() const { return options_; }

  /// The budget whose Complete trials the model is fitted on (the largest with enough points for
  /// `space`), nullopt while there is none. `maximise`: the first objective is maximised.
  std::optional<double> model_budget(const Space& space, const std::vector<Trial>& trials,
                                     bool maximise) const;

 protected:
  Params propose(SchedulerContext& context, std::int64_t number, double budget,
                 const std::vector<Trial>& trials) override;

 private:
  BohbOptions options_;
};

}  // namespace quarry::schedulers
