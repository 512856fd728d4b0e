// SurrogateSampler: predictor-guided search in the spirit of Progressive NAS (Liu et al.,
// "Progressive Neural Architecture Search", ECCV 2018): a regressor learns the metric from the
// evaluated configurations, ranks many unevaluated candidates, and only the most promising one is
// trained. The regressor is SurrogateModel (quarry/samplers/surrogate_model.hpp): an ensemble of 5
// small MLPs on the unit-cube encoding every model-based sampler shares
// (quarry/samplers/encoder.hpp: unordered choices of more than two values one-hot).
//
//   SurrogateSampler sampler({.seed = 3, .candidates = 2000, .kappa = 1});
//
// Until `min_trials` trials are Complete (finite value), proposals are the random sampler's (same
// streams, same duplicate avoidance). Then each proposal:
//   1. fits the ensemble on every Complete trial (targets Sampler::loss: lower is better);
//   2. draws `candidates` configurations: half uniformly (RandomSampler's way, through
//      Space::assign, so conditional parameters are active exactly when their condition holds),
//      half mutations of the 5 best trials: one or two active parameters changed (a choice or
//      Boolean to another value, a number by N(0, 0.1^2) in unit coordinates, reflected), newly
//      active children drawn uniformly;
//   3. scores them: mean - kappa * spread of the predicted loss (with kappa > 0 an optimistic
//      bound, the metric's mean + kappa * spread when it is maximised), and proposes the best one
//      that no trial of the history already holds (any state: running trials too, so parallel
//      workers do not repeat one another). If every candidate was taken, the random sampler's
//      proposal is used.
// sample_relative proposes every active parameter of the space; sample_independent (parameters met
// while the trial runs) draws like the random sampler.
//
// Deterministic in (seed, space, history, number): the candidates and the ensemble's weights come
// from Rng::stream(seed, {number, ...}); the fit data are ordered by trial number. The sampler
// keeps no state between calls. A proposal costs one ensemble fit, about 20-40 ms with 100
// complete trials of NAS-Bench-201 (30 encoded columns).
//
// Options (registry keys are the field names):
//   seed        root of every stream (default 0; the registry passes the study seed)
//   candidates  configurations scored per proposal (default 1000, >= 1)
//   min_trials  Complete trials before the model takes over (default 10, >= 2)
//   kappa       exploration weight on the ensemble's spread (default 0: rank by the mean, as PNAS
//               does; >= 0)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "quarry/samplers/random.hpp"
#include "quarry/samplers/sampler.hpp"
#include "quarry/samplers/surrogate_model.hpp"

namespace quarry::samplers {

struct SurrogateOptions {
  std::uint64_t seed = 0;
  std::int64_t candidates = 1000;
  std::int64_t min_trials = 10;
  double kappa = 0.0;
};

/// Options from a study file's `sampler: {name: surrogate, ...}`; `seed` falls back to the study
/// seed. InvalidArgument for an unknown key or a value of the wrong type.
SurrogateOptions surrogate_options_from_json(const nlohmann::json& options, std::uint64_t seed);

class SurrogateSampler final : public Sampler {
 public:
  /// Best trials whose mutations make half of the candidates.
  static constexpr std::size_t kParents = 5;

  /// Throws InvalidArgument for an option outside the ranges listed above.
  explicit SurrogateSampler(SurrogateOptions options = {});

  std::string name() const override { return "surrogate"; }
  Params sample_relative(const Space& space, const std::vector<Trial>& history,
                         std::int64_t number) override;
  Value sample_independent(const Param& param, const Params& assigned,
                           const std::vector<Trial>& history, std::int64_t number) override;

  /// The candidates of trial `number` with their predicted losses, best score first (empty
  /// before `min_trials` Complete trials). For tests and reports; sample_relative proposes the
  /// first one not in the history.
  struct Scored {
    Params params;
    SurrogatePrediction prediction;
    double score = 0;  ///< mean - kappa * spread
  };
  std::vector<Scored> rank(const Space& space, const std::vector<Trial>& history,
                           std::int64_t number) const;

  const SurrogateOptions& options() const { return options_; }

 private:
  std::vector<Params> candidates(const Space& space, const std::vector<const Trial*>& complete,
                                 std::int64_t number) const;
  std::vector<const Trial*> complete(const std::vector<Trial>& history, std::int64_t number) const;

  SurrogateOptions options_;
  RandomSampler random_;
};

}  // namespace quarry::samplers
