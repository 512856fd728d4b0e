// GpSampler: Bayesian optimisation with a Gaussian process (Snoek, Larochelle & Adams 2012,
// "Practical Bayesian Optimization of Machine Learning Algorithms": GP-EI with a Matérn 5/2 ARD
// kernel whose hyperparameters are fitted to the data; the model is in gaussian_process.hpp).
//
//   GpSampler sampler({.seed = 3, .acquisition = "ucb", .beta = 4});
//
// Each proposal, once `n_startup` trials are complete:
//  1. Encodes the history on the unit cube with the encoder every model-based sampler shares
//     (quarry/samplers/encoder.hpp; Param::to_unit, log scales included): an unordered choice of
//     k > 2 values is k one-hot columns, every other parameter one column, Fixed parameters none;
//     an inactive conditional parameter (or one a trial lacks) is encoded as a fixed value: 0.5
//     for a column, all zeros for a one-hot block.
//  2. Keeps at most `max_points` complete trials: the best half and the most recent rest, so a
//     proposal after 1,000 trials costs no more than one after `max_points`
//     (quarry/samplers/gp_points.hpp, as step 4).
//  3. Warps the losses (warp = "log", the default) with log_warp (log(y - min + delta): heavy tails
//     stop dominating the fit; the order of the losses is kept), standardises them and fits the
//     kernel by maximum a posteriori marginal likelihood (L-BFGS-B, `fit_restarts` starts); the
//     noise variance is fitted too unless `noise` fixes it.
//  4. Adds every Running or Waiting trial with parameters as a pending point whose value is a lie
//     (Ginsbourger, Le Riche & Carraro 2010, "Kriging is well-suited to parallelize
//     optimization": the constant liar, here CL-min, the best (warped) loss), so that parallel
//     workers are steered away from points already being evaluated.
//  5. Maximises the acquisition: `candidates` points (half uniform on the cube, a quarter one of
//     the 5 best trials with about two coordinates moved by N(0, sd^2), sd in {0.01, 0.05, 0.2}:
//     local moves that keep the coordinates the model is unsure about; a quarter the best trial
//     moved along the difference of two of the 5 best, as differential evolution mutates) are
//     scored in one batch; from the best `local_searches` of them L-BFGS-B (LBFGS++) climbs the
//     acquisition over the continuous columns, then a coordinate pass tries every value of each
//     discrete parameter. Integers, steps and choices are handled as in Garrido-Merchán &
//     Hernández-Lobato 2020 ("Dealing with categorical and integer-valued variables in Bayesian
//     optimization with Gaussian processes"): every point is decoded to a legal assignment and
//     re-encoded before the GP sees it, so the kernel only ever compares legal (rounded, one-hot)
//     values (gp_acquisition.hpp).
// sample_relative proposes every active parameter of the space; sample_independent (parameters
// met while the trial runs, and every parameter during the start-up phase) draws like
// RandomSampler: param.from_unit(u), u from Rng::stream(seed, {number, hash_name(name), 0}).
//
// Deterministic in (seed, space, history, number): the fit's restarts and the candidates come
// from Rng::stream(seed, {number, ...}); the sampler keeps no state between calls, so worker
// threads may share it without locking.
//
// Options (registry keys in brackets):
//   seed            [seed]            root of every stream (default 0).
//   n_startup       [n_startup]       complete trials before the GP takes over (default 10, as
//                                     Optuna's GPSampler and scikit-optimize: enough to fit a
//                                     first model in low dimensions without spending 2d+1 trials
//                                     of a 10-D budget of 100 on random search). >= 1.
//   acquisition     [acquisition]     "ei" (expected improvement, default) or "ucb".
//   beta            [beta]            UCB's exploration weight: mean - sqrt(beta) sd (default 4).
//   noise           [noise]           the observation noise variance in standardised loss units,
//                                     fixed instead of fitted (> 0; default: fitted in
//                                     [1e-6, 0.5]). Keras Tuner's `alpha` (its default 1e-4).
//   max_points      [max_points]      complete trials the GP sees at most (default 200, >= 10).
//   candidates      [candidates]      random points scored per proposal (default 1024, >= 16).
//   local_searches  [local_searches]  best candidates refined by L-BFGS-B (default 4, >= 1).
//   fit_restarts    [fit_restarts]    L-BFGS-B starts for the kernel fit (default 3, >= 1).
//   warp            [warp]            "log" (default) or "none": the loss transform of step 3
//                                     ("none" lost Rosenbrock-10D, measured before the mean was
//                                     fitted: median 4148 against 201).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "quarry/samplers/sampler.hpp"

namespace quarry::samplers {

struct GpOptions {
  std::uint64_t seed = 0;
  std::int64_t n_startup = 10;
  std::string acquisition = "ei";  ///< "ei" | "ucb"
  double beta = 4.0;
  std::optional<double> noise;  ///< fixed noise variance; nullopt: fitted
  std::int64_t max_points = 200;
  std::int64_t candidates = 1024;
  std::int64_t local_searches = 4;
  std::int64_t fit_restarts = 3;
  std::string warp = "log";  ///< "log" | "none"
};

/// The options of a study file's `sampler: {name: gp, ...}` (keys as above; `seed` falls back to
/// the study seed). InvalidArgument for an unknown key or a value of the wrong type.
GpOptions gp_options_from_json(const nlohmann::json& options, std::uint64_t seed);

class GpSampler final : public Sampler {
 public:
  /// Throws InvalidArgument for an option outside the ranges listed above.
  explicit GpSampler(GpOptions options = {});

  std::string name() const override { return "gp"; }
  Params sample_relative(const Space& space, const std::vector<Trial>& history,
                         std::int64_t number) override;
  Value sample_independent(const Param& param, const Params& assigned,
                           const std::vector<Trial>& history, std::int64_t number) override;

  const GpOptions& options() const { return options_; }

 private:
  GpOptions options_;
};

}  // namespace quarry::samplers
