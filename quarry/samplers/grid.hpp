// GridSampler: every combination of the parameters' discrete values, each exactly once (Optuna's
// GridSampler, Keras Tuner's GridSearch).
//
//   GridSampler sampler;  // GridSampler(GridOptions{})
//
// The grid is the tree of ACTIVE parameters: the space is walked in order, and a parameter
// conditioned on a parent only multiplies the branches where its condition holds. With
// optimizer in {adam, sgd} and momentum in {0.0, 0.9} under sgd the grid is
// {adam}, {sgd, 0.0}, {sgd, 0.9}: three combinations, not four.
// The order is fixed: the first parameter varies slowest, values in their declared order. Trial
// number k gets combination k and capacity(space) is the number of combinations, so the study stops
// when the grid is exhausted. The grid is deterministic by design: it has no seed.
//
// Rules: every parameter must be discrete (a Float needs a step) and the grid may hold at most
// kMaxCombinations combinations; both throw InvalidArgument. A parameter met later, while a trial
// runs (define-by-run), is not in the grid and gets its default. The grid is built once per space
// and rebuilt when the space changes; the space should be complete before the search starts, as
// adding a parameter renumbers the combinations. Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "quarry/samplers/sampler.hpp"

namespace quarry::samplers {

/// The grid sampler has no options yet; the struct keeps the shape every component shares.
struct GridOptions {};

class GridSampler final : public Sampler {
 public:
  /// Larger grids are refused: they could not be searched exhaustively anyway.
  static constexpr std::int64_t kMaxCombinations = 10'000'000;

  explicit GridSampler(GridOptions options = {});
  ~GridSampler() override;

  std::string name() const override { return "grid"; }
  /// Combination `number` of the grid; InvalidArgument when number >= capacity(space).
  Params sample_relative(const Space& space, const std::vector<Trial>& history,
                         std::int64_t number) override;
  /// The default: only parameters outside the grid (met while the trial runs) come here.
  Value sample_independent(const Param& param, const Params& assigned,
                           const std::vector<Trial>& history, std::int64_t number) override;
  std::optional<std::int64_t> capacity(const Space& space) const override;
  bool uses_history(const Space&) const override { return false; }

 private:
  class Grid;
  /// The grid of `space`, built on first use and rebuilt when the space changes; needs mutex_.
  Grid& grid_for(const Space& space) const;

  mutable std::mutex mutex_;
  mutable std::unique_ptr<Grid> grid_;
};

}  // namespace quarry::samplers
