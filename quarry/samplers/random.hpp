// RandomSampler: independent uniform draws on each parameter's unit interval (Optuna's
// RandomSampler, Bergstra & Bengio 2012, "Random Search for Hyper-Parameter Optimization").
//
//   RandomSampler sampler({.seed = 3});
//
// Every value is param.from_unit(u) with u drawn from Rng::stream(seed, {number, hash_name(name),
// attempt}), so a trial's values depend only on (seed, space, number) and, for all-discrete spaces,
// the history: never on call order, worker or thread.
//
// Duplicates: when every parameter of the space is discrete, sample_relative draws whole
// configurations and redraws (attempt 1, 2, ... up to kMaxAttempts) while the configuration equals
// one already in the history (any state). With a continuous parameter a duplicate has probability
// 0, so the sampler then ignores the history and uses_history() is false.
//
// Options:
//   seed  the study seed the streams are derived from (default 0).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "quarry/samplers/sampler.hpp"

namespace quarry::samplers {

struct RandomOptions {
  std::uint64_t seed = 0;  ///< root of every draw
};

class RandomSampler final : public Sampler {
 public:
  /// Redraws tried before accepting a duplicate (the space is then nearly or fully exhausted).
  static constexpr std::uint64_t kMaxAttempts = 100;

  explicit RandomSampler(RandomOptions options = {}) : options_(options) {}

  std::string name() const override { return "random"; }
  Params sample_relative(const Space& space, const std::vector<Trial>& history,
                         std::int64_t number) override;
  Value sample_independent(const Param& param, const Params& assigned,
                           const std::vector<Trial>& history, std::int64_t number) override;
  bool uses_history(const Space& space) const override;

  const RandomOptions& options() const { return options_; }

 private:
  Value draw(const Param& param, std::int64_t number, std::uint64_t attempt) const;

  RandomOptions options_;
};

}  // namespace quarry::samplers
