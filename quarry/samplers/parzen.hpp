// Parzen estimators over the unit-cube encoding (Param::to_unit), shared by the TPE sampler and
// BOHB (Bergstra et al., "Algorithms for Hyper-Parameter Optimization", NeurIPS 2011; Falkner et
// al., "BOHB: Robust and Efficient Hyperparameter Optimization at Scale", ICML 2018; Optuna's
// _ParzenEstimator for the details).
//
// An estimator is a weighted mixture of product kernels, one per observation plus a prior kernel:
//   p(x) = sum_k w_k prod_d K_kd(x_d)
// Coordinates are unit-cube values, so log scales are already linear:
//   - numeric (Int, Float, ordered Choice): a Gaussian N(mu_kd, sigma_kd) truncated to [0, 1]. A
//     discrete one (`cells` equal slices: Int, stepped Float, ordered Choice) gives the kernel's
//     mass over the slice holding x, and samples snap to slice centres (Optuna's discrete
//     truncated normal).
//   - categorical (unordered Choice, Boolean): Optuna's kernel: every value gets s and the
//     observed one 1 + s more, normalised, with s = prior_weight / number of kernels.
// The prior kernel is N(0.5, 1) on numeric coordinates and uniform on categorical ones; its weight
// is `prior_weight` against 1 for each observation's (times the caller's observation weights).
// A NaN observation coordinate (an inactive conditional parameter) makes that kernel uniform along
// it (BOHB imputes such values at random: the same in expectation); a NaN query coordinate is left
// out of the density.
//
// Bandwidths of numeric coordinates:
//   Neighbours (univariate TPE; Optuna): each kernel's sigma is the larger distance to its sorted
//              neighbours, the prior's centre 0.5 included, 0 and 1 as end points.
//   Scott      (multivariate; statsmodels' normal_reference, which BOHB uses): one bandwidth per
//              coordinate shared by every kernel, 1.06 * std_d * n^(-1 / (D + 4)).
// then clipped to [min, 1]: min = 1 / min(100, kernels + 1) with `magic_clip` (Optuna's
// consider_magic_clip, kernels counting the prior), else `min_bandwidth`.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "quarry/core/rng.hpp"
#include "quarry/space/param.hpp"

namespace quarry::samplers {

/// How one coordinate of the unit cube is modelled.
struct ParzenDim {
  std::size_t choices = 0;  ///< > 0: categorical over that many values; 0: numeric
  std::size_t cells = 0;    ///< numeric only: equal slices of a discrete parameter; 0: continuous

  /// Categorical for unordered Choices and Booleans; numeric otherwise (discrete when the
  /// parameter's values own equal slices: Int without log, stepped Float, ordered Choice).
  static ParzenDim of(const space::Param& param);
  bool operator==(const ParzenDim&) const = default;
};

enum class Bandwidth { Neighbours, Scott };

struct ParzenOptions {
  Bandwidth bandwidth = Bandwidth::Neighbours;  ///< rule for numeric coordinates
  double prior_weight = 1.0;                    ///< weight of the prior kernel (>= 0; 0: no prior)
  bool magic_clip = true;                       ///< bandwidth >= 1 / min(100, kernels + 1) (Optuna)
  double min_bandwidth = 1e-3;  ///< lower clip when magic_clip is off (BOHB's min_bandwidth)
};

class ParzenEstimator {
 public:
  /// `points[i]` holds one unit-cube coordinate per dim (NaN: inactive); `weights[i]` (> 0) its
  /// weight, or empty for equal weights. Throws InvalidArgument on mismatched sizes.
  ParzenEstimator(std::vector<ParzenDim> dims, const std::vector<std::vector<double>>& points,
                  std::vector<double> weights = {}, ParzenOptions options = {});

  /// One draw: a kernel by weight, then each coordinate from it; numeric bandwidths are multiplied
  /// by `bandwidth_factor` (BOHB samples with 3). Discrete and categorical coordinates come back
  /// as their slice centres.
  std::vector<double> sample(Rng& rng, double bandwidth_factor = 1.0) const;
  /// log p(x); NaN coordinates of `x` are left out.
  double log_pdf(std::span<const double> x) const;

  std::size_t dims() const { return dims_.size(); }
  /// Kernels, the prior's included.
  std::size_t size() const { return log_weights_.size(); }
  /// Bandwidth of kernel `k` along numeric coordinate `d`.
  double bandwidth(std::size_t k, std::size_t d) const { return sigma_[k * dims() + d]; }

 private:
  void fit_bandwidths(const std::vector<std::vector<double>>& points, const ParzenOptions& o);
  double log_kernel(std::size_t k, std::size_t d, double x) const;
  double draw(std::size_t k, std::size_t d, double factor, Rng& rng) const;

  std::vector<ParzenDim> dims_;
  std::vector<double> mu_, sigma_, log_norm_;  // kernel-major, dims() per kernel
  std::vector<double> log_weights_;            // normalised
  std::vector<double> cumulative_;             // for picking a kernel
  double categorical_smoothing_ = 0;           // s in the comment above
};

}  // namespace quarry::samplers
