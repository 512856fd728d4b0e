// EvolutionSampler: regularised ("aging") evolution (Real, Aggarwal, Huang & Le, "Regularized
// Evolution for Image Classifier Architecture Search", AAAI 2019).
//
//   EvolutionSampler sampler({.seed = 3, .population = 20, .sample_size = 5});
//
// The population is the `population` most recent Complete trials (finite value), age being the
// trial number: each new Complete trial pushes the oldest member out, whatever its loss (the
// "regularisation": a configuration survives only by being re-discovered by its children).
// Until `population` trials are Complete, proposals are the random sampler's (same streams, same
// duplicate avoidance). Then each proposal is:
//   1. tournament: `sample_size` members drawn uniformly, with replacement, from the population;
//      the one with the lowest loss (Sampler::loss; ties: the younger) is the parent;
//   2. mutation: the child copies the parent and changes exactly ONE active parameter, drawn
//      uniformly among those with more than one value:
//        - Float, Int and stepped Float: u = to_unit(value) + sigma * N(0, 1), reflected into
//          [0, 1], then from_unit (log scales perturb in log space). If the step or rounding gives
//          the parent's value back, the perturbation doubles until the value changes;
//        - Choice, Boolean: a uniformly drawn different value;
//   3. conditions: the child is assigned through Space::assign, keeping the parent's value of
//      each parameter still active and drawing (like the random sampler) one newly active.
// Duplicates: when the child equals a trial of the history (any state, the running ones
// included; children copy values exactly, so this happens in mixed spaces too) the tournament and
// mutation are redrawn (attempt 1, 2, ... < kMaxAttempts); if every attempt gives a duplicate, the
// random sampler's proposal is used. Running, Waiting, Pruned and Failed trials are never parents
// (no value, or no complete one); parallel workers therefore breed from the complete trials only,
// and see running trials only as points already taken. Every draw comes from Rng::stream(seed,
// {number, ...}), so a proposal depends only on (seed, space, history, number); the sampler keeps
// no state and may be shared by worker threads. Parameters met while the trial runs (define-by-run)
// are drawn like the random sampler draws them.
//
// Options:
//   seed         root of every draw (default 0; the registry passes the study seed)
//   population   number of most recent Complete trials that breed (default 20, >= 2). Real et
//                al. use 100 for 20k models; at budgets of 100-150 trials, 20 leaves 80-130
//                evolved trials. Measured, median best of Hartmann6 after 100 trials over 30
//                seeds: 20/5 -2.93, 10/3 -2.80, 30/8 -2.96, 40/10 -2.91 (population/sample_size;
//                random search -2.10, optimum -3.32); NAS-Bench-Macro (8 layers x 3 blocks), 100
//                evaluations, 40 seeds: 93.11 % vs random 92.86 % (best 93.13 %).
//   sample_size  tournament size (default 5, 1 <= sample_size <= population): 5 of 20 picks
//                roughly the best quarter as parents (Real et al.: 25 of 100).
//   sigma        standard deviation of a numeric mutation in unit-cube coordinates (default 0.1,
//                0 < sigma <= 1)
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "quarry/samplers/random.hpp"
#include "quarry/samplers/sampler.hpp"

namespace quarry::samplers {

struct EvolutionOptions {
  std::uint64_t seed = 0;
  std::int64_t population = 20;
  std::int64_t sample_size = 5;
  double sigma = 0.1;
};

/// Options from a study file's JSON object ("sampler: {evolution: {...}}"), `seed` defaulting to
/// the study seed. InvalidArgument names the option and the rule.
EvolutionOptions evolution_options_from_json(const nlohmann::json& options, std::uint64_t seed);

class EvolutionSampler final : public Sampler {
 public:
  /// Tournament + mutation redraws tried while the child duplicates a trial (discrete spaces).
  static constexpr std::uint64_t kMaxAttempts = 10;

  /// How a proposal came about (for tests and reports).
  struct Proposal {
    Params params;
    std::optional<std::int64_t> parent;  ///< the tournament winner; nullopt for a random proposal
    std::string mutated;                 ///< the parameter changed (empty for a random proposal)
  };

  explicit EvolutionSampler(EvolutionOptions options = {});  // validates; throws InvalidArgument

  std::string name() const override { return "evolution"; }
  Params sample_relative(const Space& space, const std::vector<Trial>& history,
                         std::int64_t number) override;
  Value sample_independent(const Param& param, const Params& assigned,
                           const std::vector<Trial>& history, std::int64_t number) override;

  /// The proposal for trial `number` with its parent; params empty when the random sampler
  /// proposes (it then fills them parameter by parameter).
  Proposal propose(const Space& space, const std::vector<Trial>& history,
                   std::int64_t number) const;
  /// The numbers of the population's members for trial `number`, oldest first (fewer than
  /// `population` while it fills).
  std::vector<std::int64_t> population(const std::vector<Trial>& history,
                                       std::int64_t number) const;

  const EvolutionOptions& options() const { return options_; }

 private:
  std::optional<Proposal> breed(const Space& space, const std::vector<const Trial*>& members,
                                std::int64_t number, std::uint64_t attempt) const;
  std::vector<const Trial*> members(const std::vector<Trial>& history, std::int64_t number) const;

  EvolutionOptions options_;
  RandomSampler random_;
};

}  // namespace quarry::samplers
