// Synthetic data shared by the trainer's tests.
#pragma once

#include <cmath>
#include <cstdint>

#include "quarry/core/rng.hpp"
#include "quarry/data/dataset.hpp"

namespace quarry::nn::testing {

/// Three Gaussian blobs in 2-D (centres on a circle of radius 2, sd 0.8), classes in turn row by
/// row, so that any tail of the rows (Keras' validation split) holds every class.
inline data::Dataset gaussian_blobs(std::int64_t rows, std::uint64_t seed) {
  data::Dataset d;
  d.shape = {2};
  d.num_classes = 3;
  d.source = "blobs";
  Rng rng(seed);
  for (std::int64_t i = 0; i < rows; ++i) {
    const double angle = 2.0943951023931953 * static_cast<double>(i % 3);
    d.x.push_back(static_cast<float>(2 * std::cos(angle) + 0.8 * rng.normal()));
    d.x.push_back(static_cast<float>(2 * std::sin(angle) + 0.8 * rng.normal()));
    d.y.push_back(static_cast<float>(i % 3));
  }
  return d;
}

}  // namespace quarry::nn::testing
