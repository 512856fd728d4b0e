// GaussianProcess: the regression model behind GpSampler (quarry/samplers/gp.hpp), following
// Snoek, Larochelle & Adams 2012, "Practical Bayesian Optimization of Machine Learning
// Algorithms", and Rasmussen & Williams 2006, "Gaussian Processes for Machine Learning" (ch. 2, 5).
//
//   const GpKernel kernel = fit_kernel(x, y, {}, rng);   // maximise the marginal likelihood
//   const GaussianProcess gp(x, y, kernel);              // condition on the data
//   const GpPrediction p = gp.predict(point);            // posterior mean and variance of f
//
// Model: y = m + f(x) + noise, f ~ GP(0, k), on standardised targets (y minus its mean, divided
// by its standard deviation; predictions are returned in the units of y). The constant m is
// fitted by maximum likelihood given the kernel (generalised least squares, m = 1' K^-1 y /
// 1' K^-1 1; the kernel fit maximises the likelihood with m profiled out, as GPyTorch's
// ConstantMean is fitted with the kernel), so far from every trial the prediction is m. Trials
// clustered near the incumbent count together as one piece of evidence there, so m sits near the
// level of the trials spread over the space: in BO it ends up well above the average loss (0.1 to
// 1.9 standard deviations over a Rosenbrock-10D run) and unexplored corners no longer look
// promising. With m the plain average, 72% of GpSampler's proposals on Rosenbrock-10D had a
// coordinate on a bound of the box and runs got stuck there (median regret at 100 evaluations 242
// over 60 seeds; with m fitted 63, Branin and Hartmann6 no worse). The kernel is Matérn 5/2 with
// one length scale per input dimension (automatic relevance determination):
//   k(a, b) = s2 (1 + sqrt(5) r + 5/3 r^2) exp(-sqrt(5) r),  r^2 = sum_j ((a_j - b_j) / l_j)^2,
// plus noise_variance on the diagonal (and a fixed jitter of 1e-8). Inputs are expected in the
// unit cube (the bounds of fit_kernel assume it).
//
// fit_kernel maximises the log marginal likelihood (m profiled out) over (log l_1..l_d, log s2, log
// noise) with LBFGS++'s bounded L-BFGS-B (over the length scales and s2 alone when GpFitOptions
// fixes the noise: the `alpha` of Keras Tuner's BayesianOptimization), from `restarts` starting
// points (the first a fixed, central one, the others drawn from `rng`), and keeps the best; the
// exact gradient is R&W eq. 5.9. A prior log l_j ~ N(sqrt(2) - 2 + log(d) / 2, 3) is added (a MAP
// fit): with few points in many dimensions the plain maximum flips between "this dimension is
// irrelevant" (l at its upper bound) and a short scale from one proposal to the next. Its mean
// grows with log(d) and its variance is 3 as in Hvarfner, Hellsten & Nardi 2024 ("Vanilla Bayesian
// Optimization Performs Great in High Dimensions"); the mean is shifted down by 2 (their prior is
// tuned for much longer budgets: unshifted, Branin and Rosenbrock-10D got clearly worse). Shift and
// variance were chosen on Branin, Hartmann6 and Rosenbrock-10D (medians over 10 seeds; variance 1
// cost Hartmann6).
//
// Acquisition functions (for minimisation: lower y is better), with their derivatives with
// respect to the posterior mean and standard deviation so callers can chain them to inputs:
//   - log_expected_improvement: log E[max(best - f, 0)] (Jones et al. 1998), computed stably far
//     below the incumbent (Ament et al. 2023, "Unexpected Improvements to Expected Improvement")
//     through the continued fraction of Mills' ratio, so its gradient never vanishes there.
//   - lower_confidence_bound: -(mean - sqrt(beta) sd), to be maximised (Srinivas et al. 2010,
//     GP-UCB, written for losses).
// log_warp is the output transform GpSampler applies to the losses before fitting when its warp
// option is "log".
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "quarry/core/rng.hpp"

namespace quarry::samplers {

/// The kernel's hyperparameters, in standardised target units.
struct GpKernel {
  std::vector<double> length_scales;  ///< one per input dimension (> 0)
  double signal_variance = 1.0;       ///< s2 (> 0)
  double noise_variance = 1e-6;       ///< observation noise (>= 0)
};

/// How fit_kernel searches; the bounds apply to unit-cube inputs and standardised targets.
struct GpFitOptions {
  int restarts = 3;         ///< L-BFGS-B runs from different starting points (>= 1)
  int max_iterations = 40;  ///< per run
  double min_length_scale = 0.01, max_length_scale = 100.0;
  double min_signal_variance = 0.05, max_signal_variance = 20.0;
  double min_noise_variance = 1e-6, max_noise_variance = 0.5;
  /// The noise variance, fixed rather than fitted (> 0: the bounds above are then unused).
  std::optional<double> noise_variance;
};

struct GpPrediction {
  double mean = 0;      ///< posterior mean of f (units of y)
  double variance = 0;  ///< posterior variance of f, >= 1e-12 (noise excluded)
};

class GaussianProcess {
 public:
  /// Conditions on rows `x` (n >= 1, each of the same dimension) and targets `y` (n values).
  GaussianProcess(const std::vector<std::vector<double>>& x, const std::vector<double>& y,
                  GpKernel kernel);
  ~GaussianProcess();
  GaussianProcess(GaussianProcess&&) noexcept;
  GaussianProcess& operator=(GaussianProcess&&) noexcept;

  std::size_t dims() const;
  std::size_t size() const;
  const GpKernel& kernel() const;
  /// log p(y | x, kernel, the fitted mean) of the standardised targets.
  double log_marginal_likelihood() const;

  GpPrediction predict(std::span<const double> point) const;
  /// Same, and the gradients of mean and variance with respect to `point` (dims() entries each).
  GpPrediction predict(std::span<const double> point, std::span<double> d_mean,
                       std::span<double> d_variance) const;
  /// Every row of `points` at once (a triangular solve with many right-hand sides: faster).
  std::vector<GpPrediction> predict(const std::vector<std::vector<double>>& points) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// The kernel maximising the log marginal likelihood of (x, y); see the file comment.
GpKernel fit_kernel(const std::vector<std::vector<double>>& x, const std::vector<double>& y,
                    const GpFitOptions& options, Rng& rng);

/// An acquisition value and its derivatives with respect to the posterior mean and sd.
struct AcquisitionValue {
  double value = 0, d_mean = 0, d_sd = 0;
};

/// log EI(mean, sd; best) for minimisation; sd > 0. Finite for any finite inputs.
AcquisitionValue log_expected_improvement(double mean, double sd, double best);
/// EI itself (exp of the above; underflows to 0 far below the incumbent).
double expected_improvement(double mean, double sd, double best);
/// sqrt(beta) sd - mean: the lower confidence bound of a loss, negated so that higher is better.
AcquisitionValue lower_confidence_bound(double mean, double sd, double beta);

/// log(y - min(y) + delta) with delta = 0.1 (median(y) - min(y)) (1e-12 when every y is equal):
/// compresses the tail of bad losses (Rosenbrock's 1e6 next to its 0) and keeps the order. The
/// transform is refitted on every proposal, so the incumbent always maps to log(delta).
std::vector<double> log_warp(const std::vector<double>& y);

}  // namespace quarry::samplers
