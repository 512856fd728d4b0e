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
// parallel searches reproduce. The history holds every trial of the study, the running ones
// included (their parameters are known, their values not yet): model-based samplers use them so
// that parallel workers do not all propose the same point.
//
// Before the first proposal the study attaches itself (attach()): the objectives' directions, so
// that loss() can turn any trial's value into "lower is better", and a handle on one slot of
// stored state (SamplerState) for a sampler that keeps what it learned (the RL controller), so
// that a resumed search continues it. A sampler never holds the store.
// Adding a sampler: derive from Sampler, register it in
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
using study::Direction;
using study::Trial;
using study::TrialState;

/// A sampler's own slot of stored state, owned by the study (the study attribute
/// "sampler.<name>"): load it, or replace it when nobody changed it since it was loaded.
class SamplerState {
 public:
  virtual ~SamplerState() = default;
  /// The stored text; nullopt when never written.
  virtual std::optional<std::string> load() const = 0;
  /// Writes `value` if the slot still holds `expected` (nullopt: never written); false when
  /// another worker changed it first.
  virtual bool replace(const std::optional<std::string>& expected, const std::string& value) = 0;
};

/// What a sampler knows of the study it serves (Study attaches it before the first proposal).
struct SamplerContext {
  std::vector<Direction> directions = {Direction::Minimize};  ///< one per objective
  std::shared_ptr<SamplerState> state;  ///< this sampler's stored state; null: none (in memory)
};

class Sampler {
 public:
  virtual ~Sampler() = default;

  /// Called by the study before its first proposal. A sampler serves one study at a time.
  virtual void attach(const SamplerContext& context) { context_ = context; }
  const SamplerContext& context() const { return context_; }

  /// The trial's first objective value as a loss (negated when maximised): lower is better.
  /// nullopt unless the trial is Complete with a finite value.
  std::optional<double> loss(const Trial& trial) const;

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

 protected:
  SamplerContext context_;
};

/// True when a trial of `history` other than `number` (any state) holds exactly `params`: the
/// samplers of discrete spaces redraw rather than repeat a configuration.
bool seen_before(const Params& params, const std::vector<Trial>& history, std::int64_t number);

/// Fills every active parameter of `space` for trial `number`: the joint proposal first, then
/// sample_independent for the rest, in space order.
Params sample_all(Sampler& sampler, const Space& space, const std::vector<Trial>& history,
                  std::int64_t number);

}  // namespace quarry::samplers

namespace quarry {
using samplers::Sampler;
}
