// Nsga2Sampler: NSGA-II (Deb, Pratap, Agarwal & Meyarivan, "A fast and elitist multiobjective
// genetic algorithm: NSGA-II", IEEE Transactions on Evolutionary Computation 6(2), 2002), as a
// steady-state sampler that keeps no state: every proposal is rebuilt from the history.
//
//   Nsga2Sampler sampler({.seed = 3, .population_size = 50});
//
// Members: the trials with one value per objective (the directions given by attach) that are
// Complete, or Failed with a "constraints" attribute (study/constraints.hpp: a candidate stopped
// for breaking a constraint, values recorded). A member is feasible when it is Complete and its
// "feasible" attribute is not false; the others are infeasible, with violation total_violation()
// (at least the smallest positive double). Pruned, Running and Waiting trials are never members;
// the running ones, like every trial of the history, only count as points already taken.
// Until `population_size` members exist, proposals are the random sampler's. Then:
//   1. parent pool: the members sorted by Deb's constrained domination (feasible before
//      infeasible, infeasible by violation; study/pareto.hpp constrained_non_dominated_sort),
//      within a front by crowding distance (largest first; ties: newer first), truncated to
//      `population_size` (the elitist (mu + lambda) selection of section III-C, one child at a
//      time);
//   2. two binary tournaments, each between two members drawn uniformly with replacement: the
//      better ranked (lower front, then larger crowding distance) wins; the winners are the
//      parents;
//   3. with probability crossover_prob, uniform crossover: each parameter takes the second
//      parent's value with probability swapping_prob, else the first's (gene by gene in the unit
//      cube, where a parent's value is an exact point); without crossover, the first parent's;
//   4. mutation: each active parameter is, with probability mutation_prob, drawn again uniformly
//      in the unit cube (Param::from_unit);
//   5. conditions: the child is assigned through Space::assign in space order; an inactive
//      parameter is left out, one newly active takes a parent's value if either has one, else a
//      random one.
// A child equal to a trial of the history is bred again (attempt 1, 2, ... < kMaxAttempts), after
// which the random sampler proposes. With one objective this is a plain elitist GA. Draws come
// from Rng::stream(seed, {number, ...}), so a proposal depends only on (seed, space, history,
// number). Cost: O(M N^2) dominance checks per proposal over N members (measured: 20 ms at
// N = 1000, M = 2).
//
// Options:
//   seed             root of every draw (default 0; the registry passes the study seed)
//   population_size  members before evolution starts, and the parent pool's size (default 50, >= 2)
//   crossover_prob   probability of a crossover (default 0.9, in [0, 1])
//   swapping_prob    per-parameter probability of the second parent's value (default 0.5, [0, 1])
//   mutation_prob    per-parameter probability of a new random value (default 1 / the number of
//                    non-fixed parameters of the space, in [0, 1])
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "quarry/samplers/random.hpp"
#include "quarry/samplers/sampler.hpp"

namespace quarry::samplers {

struct Nsga2Options {
  std::uint64_t seed = 0;
  std::int64_t population_size = 50;
  double crossover_prob = 0.9;
  double swapping_prob = 0.5;
  std::optional<double> mutation_prob;  ///< nullopt: 1 / the number of non-fixed parameters
};

/// Options from a study file's JSON object ("sampler: {nsga2: {...}}"), `seed` defaulting to the
/// study seed. InvalidArgument names the option and the rule.
Nsga2Options nsga2_options_from_json(const nlohmann::json& options, std::uint64_t seed);

class Nsga2Sampler final : public Sampler {
 public:
  /// Breedings tried while the child duplicates a trial of the history.
  static constexpr std::uint64_t kMaxAttempts = 10;

  /// How a proposal came about (for tests and reports).
  struct Proposal {
    Params params;  ///< empty when the random sampler proposes
    std::optional<std::int64_t> first_parent, second_parent;
  };

  explicit Nsga2Sampler(Nsga2Options options = {});  // validates; throws InvalidArgument

  std::string name() const override { return "nsga2"; }
  Params sample_relative(const Space& space, const std::vector<Trial>& history,
                         std::int64_t number) override;
  Value sample_independent(const Param& param, const Params& assigned,
                           const std::vector<Trial>& history, std::int64_t number) override;

  /// The proposal for trial `number` with its parents.
  Proposal propose(const Space& space, const std::vector<Trial>& history,
                   std::int64_t number) const;
  /// The parent pool's trial numbers for trial `number`, best ranked first (empty until
  /// `population_size` members exist).
  std::vector<std::int64_t> parent_pool(const std::vector<Trial>& history,
                                        std::int64_t number) const;

  const Nsga2Options& options() const { return options_; }

 private:
  std::vector<const Trial*> pool(const std::vector<Trial>& history, std::int64_t number) const;
  Proposal breed(const Space& space, const std::vector<const Trial*>& pool, std::int64_t number,
                 std::uint64_t attempt) const;

  Nsga2Options options_;
  RandomSampler random_;
};

}  // namespace quarry::samplers
