// Samplers: where the next configuration comes from. They read the history; they do not own it.
//
// The study asks a sampler twice per trial (Optuna's BaseSampler shape):
//  1. sample_relative(space, history, number): a joint proposal over the parameters known at the
//     start of the trial. It may cover all of them, some, or none.
//  2. sample_independent(param, assigned, history, number): one value for each active parameter the
//     joint proposal left out, including parameters met for the first time while the trial runs
//     (define-by-run). Parameters are visited in space order, so a parent is assigned before the
//     parameters conditioned on it.
// Both must be deterministic functions of (seed, space, history, number): derive randomness with
// quarry::Rng::stream(seed, {number, ...}), never from shared mutable state, so that resumed and
// parallel searches reproduce. Adding a sampler: derive from Sampler, register it in
// samplers/registry.cpp, add one line to tests/samplers/conformance_test.cpp.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "quarry/space/space.hpp"
#include "quarry/study/trial.hpp"

namespace quarry::samplers {

using space::Param;
using space::Space;
using study::Trial;

class Sampler {
 public:
  virtual ~Sampler() = default;

  /// The registry name ("random", "grid", ...).
  virtual std::string name() const = 0;

  /// Joint proposal for the parameters known now; the default proposes nothing.
  virtual Params sample_relative(const Space& space, const std::vector<Trial>& history,
                                 std::int64_t number) {
    (void)space, (void)history, (void)number;
    return {};
  }

  /// One value for `param`, given the values `assigned` so far in this trial.
  virtual Value sample_independent(const Param& param, const Params& assigned,
                                   const std::vector<Trial>& history, std::int64_t number) = 0;

  /// How many trials this sampler can propose for `space` before it is exhausted (grid);
  /// nullopt when unbounded. The study never creates trial number >= capacity.
  virtual std::optional<std::int64_t> capacity(const Space& space) const {
    (void)space;
    return std::nullopt;
  }

  /// Whether sample_* read `history`; when false the study does not load it (faster).
  virtual bool uses_history(const Space& space) const {
    (void)space;
    return true;
  }
};

/// Fills every active parameter of `space` for trial `number`: the joint proposal first, then
/// sample_independent for the rest, in space order.
Params sample_all(Sampler& sampler, const Space& space, const std::vector<Trial>& history,
                  std::int64_t number);

}  // namespace quarry::samplers

namespace quarry {
using samplers::Sampler;
}
