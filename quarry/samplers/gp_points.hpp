// The points GpSampler's Gaussian process sees (quarry/samplers/gp.hpp, steps 2 and 4), encoded
// by the shared Encoder (quarry/samplers/encoder.hpp):
//   - gp_observations: the complete trials, at most `max_points` of them (the best half by loss,
//     then the most recent), so a proposal after 1,000 trials costs no more than one after
//     `max_points`; and the Running or Waiting trials with parameters (the most recent
//     `max_points`), the pending points.
//   - with_constant_liars: the rows and targets the GP conditions on: the complete trials, then
//     every pending point with a lie for its value (Ginsbourger, Le Riche & Carraro 2010, "Kriging
//     is well-suited to parallelize optimization": the constant liar, here CL-min, the best
//     target), so that parallel workers are steered away from points already being evaluated.
//   - incumbents: the encoded best trials, whose neighbourhoods seed half the candidates.
// The trial being proposed (`number`) and trials without parameters are left out.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "quarry/samplers/encoder.hpp"
#include "quarry/samplers/sampler.hpp"

namespace quarry::samplers {

struct GpObservations {
  std::vector<std::vector<double>> x;        ///< complete trials, encoded
  std::vector<double> loss;                  ///< their Sampler::loss, row for row
  std::vector<std::vector<double>> pending;  ///< running or waiting trials, encoded
};

/// Complete trials (the best max_points / 2, then the most recent) and pending ones.
GpObservations gp_observations(const Sampler& sampler, const Encoder& encoder,
                               const std::vector<Trial>& history, std::int64_t number,
                               std::size_t max_points);

struct GpTrainingSet {
  std::vector<std::vector<double>> x;
  std::vector<double> y;
};

/// obs.x with targets `y` (one per row), then each of obs.pending with the smallest of `y`.
GpTrainingSet with_constant_liars(const GpObservations& obs, const std::vector<double>& y);

/// The rows of obs.x with the `count` smallest targets `y`, best first (ties: earlier row first).
std::vector<std::vector<double>> incumbents(const GpObservations& obs, const std::vector<double>& y,
                                            std::size_t count);

}  // namespace quarry::samplers
