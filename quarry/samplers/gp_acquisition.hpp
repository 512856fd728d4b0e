// GpSampler's acquisition and its maximisation over the encoded space (quarry/samplers/gp.hpp,
// step 5).
//
//   const GpAcquisition acq(gp, /*ei=*/true, best, beta);
//   const std::vector<double> x = maximise_acquisition(encoder, acq, incumbents,
//                                                      {.candidates = 1024, .local_searches = 4},
//                                                      rng);
//
// GpAcquisition: log expected improvement below `best` (the numerically safe log-EI of
// gaussian_process.hpp) or, with ei = false, the lower confidence bound mean - sqrt(beta) sd
// negated; larger is better either way.
//
// maximise_acquisition:
//  1. `candidates` points: half uniform on the cube; a quarter an incumbent (drawn uniformly)
//     with about two coordinates (at least one) moved by N(0, sd^2), sd one of {0.01, 0.05, 0.2},
//     reflected at the bounds: local moves that keep the coordinates the model is unsure about;
//     a quarter the best incumbent moved by F (a - b) for two incumbents a and b (of 3 or more),
//     F ~ U(-1, 1.5) (differential evolution's mutation: along the valley the best trials lie
//     in). Each is projected (Encoder::project: rounded, one-hot, inactive columns fixed), so the
//     kernel only ever compares legal values (Garrido-Merchán & Hernández-Lobato 2020).
//  2. All are scored in one batch; the best `local_searches` distinct ones are refined:
//     L-BFGS-B (LBFGS++, 30 iterations) climbs the acquisition over the point's active
//     Continuous columns and Ordinal columns of more than 16 levels, and the result is projected
//     (the climbed integers rounded); then a coordinate pass tries every value of each Ordinal or
//     OneHot parameter of at most 16 levels (Encoder::set, so a log-scaled Int too), and of a
//     longer one the slice centres up to two slices away.
//  3. The best refined point is returned (projected: encoder.decode gives its assignment).
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "quarry/core/rng.hpp"
#include "quarry/samplers/encoder.hpp"
#include "quarry/samplers/gaussian_process.hpp"

namespace quarry::samplers {

class GpAcquisition {
 public:
  /// `gp` must outlive this object.
  GpAcquisition(const GaussianProcess& gp, bool ei, double best, double beta)
      : gp_(gp), ei_(ei), best_(best), beta_(beta) {}

  /// One value per point (a batch prediction).
  std::vector<double> values(const std::vector<std::vector<double>>& points) const;
  /// The value at x, and its gradient into `grad` (x.size() entries).
  double value_and_gradient(std::span<const double> x, std::span<double> grad) const;

 private:
  AcquisitionValue at(const GpPrediction& p) const;

  const GaussianProcess& gp_;
  bool ei_;
  double best_, beta_;
};

struct AcquisitionSearch {
  std::size_t candidates = 1024;   ///< points scored in one batch (>= 1)
  std::size_t local_searches = 4;  ///< best candidates refined (>= 1)
};

/// The encoded point of largest acquisition found by steps 1-3 above (encoder.dims() >= 1).
std::vector<double> maximise_acquisition(const Encoder& encoder, const GpAcquisition& acq,
                                         const std::vector<std::vector<double>>& incumbents,
                                         AcquisitionSearch search, Rng& rng);

}  // namespace quarry::samplers
