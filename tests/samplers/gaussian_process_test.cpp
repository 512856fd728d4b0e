#include "quarry/samplers/gaussian_process.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "quarry/core/error.hpp"
#include "quarry/core/rng.hpp"

namespace quarry::samplers {
namespace {

using Rows = std::vector<std::vector<double>>;

double smooth(double a, double b) {
  return std::sin(6.0 * a) + 0.5 * std::cos(4.0 * b);
}

/// n points of the unit square from a fixed stream, and smooth(x) at each.
void sample_square(std::size_t n, Rows& x, std::vector<double>& y) {
  Rng rng(7);
  for (std::size_t i = 0; i < n; ++i) {
    x.push_back({rng.uniform(), rng.uniform()});
    y.push_back(smooth(x.back()[0], x.back()[1]));
  }
}

TEST(GaussianProcess, InterpolatesTrainingPointsWithTinyNoise) {
  Rows x;
  std::vector<double> y;
  sample_square(20, x, y);
  const GaussianProcess gp(x, y, {.length_scales = {0.3, 0.3}, .noise_variance = 1e-8});
  for (std::size_t i = 0; i < x.size(); ++i) {
    const GpPrediction p = gp.predict(x[i]);
    EXPECT_NEAR(p.mean, y[i], 1e-3) << i;
    EXPECT_LT(p.variance, 1e-4) << i;
  }
}

TEST(GaussianProcess, VarianceShrinksAtDataAndGrowsAway) {
  const Rows x = {{0.2, 0.2}, {0.8, 0.8}};
  const GaussianProcess gp(x, {1.0, 2.0}, {.length_scales = {0.2, 0.2}});
  const double at = gp.predict(std::vector<double>{0.2, 0.2}).variance;
  const double near = gp.predict(std::vector<double>{0.3, 0.2}).variance;
  const double far = gp.predict(std::vector<double>{0.2, 0.9}).variance;
  EXPECT_LT(at, near);
  EXPECT_LT(near, far);
}

TEST(GaussianProcess, FarFromTheDataItPredictsTheFittedMeanNotTheAverage) {
  // Three trials clustered at 0.1 (loss 0) and one at 0.9 (loss 3): the cluster is one piece of
  // evidence, so the maximum-likelihood constant is about (0 + 3) / 2, not the average 0.75.
  const Rows x = {{0.1}, {0.1005}, {0.101}, {0.9}};
  const std::vector<double> y = {0.0, 0.0, 0.0, 3.0};
  const GaussianProcess gp(x, y, {.length_scales = {0.1}, .noise_variance = 1e-6});
  const double far = gp.predict(std::vector<double>{0.5}).mean;
  EXPECT_NEAR(far, 1.5, 0.05);
  // The fitted mean m = 1' K^-1 y / 1' K^-1 1: with uncorrelated points it is the average.
  const GaussianProcess apart({{0.1}, {0.4}, {0.7}, {1.0}}, y, {.length_scales = {0.01}});
  EXPECT_NEAR(apart.predict(std::vector<double>{0.25}).mean, 0.75, 1e-6);
  // The data are still interpolated.
  EXPECT_NEAR(gp.predict(x[3]).mean, 3.0, 1e-3);
}

TEST(GaussianProcess, GradientsMatchFiniteDifferences) {
  Rows x;
  std::vector<double> y;
  sample_square(15, x, y);
  const GaussianProcess gp(x, y, {.length_scales = {0.4, 0.25}, .noise_variance = 1e-4});
  const std::vector<double> point = {0.37, 0.61};
  std::vector<double> d_mean(2), d_var(2);
  gp.predict(point, d_mean, d_var);
  for (std::size_t j = 0; j < 2; ++j) {
    std::vector<double> up = point, down = point;
    up[j] += 1e-6, down[j] -= 1e-6;
    const GpPrediction a = gp.predict(up), b = gp.predict(down);
    EXPECT_NEAR(d_mean[j], (a.mean - b.mean) / 2e-6, 1e-4);
    EXPECT_NEAR(d_var[j], (a.variance - b.variance) / 2e-6, 1e-4);
  }
}

TEST(GaussianProcess, BatchPredictionEqualsPointwise) {
  Rows x;
  std::vector<double> y;
  sample_square(10, x, y);
  const GaussianProcess gp(x, y, {.length_scales = {0.3, 0.5}});
  const Rows points = {{0.1, 0.9}, {0.5, 0.5}, {0.99, 0.01}};
  const auto batch = gp.predict(points);
  for (std::size_t i = 0; i < points.size(); ++i) {
    EXPECT_NEAR(batch[i].mean, gp.predict(points[i]).mean, 1e-9);
    EXPECT_NEAR(batch[i].variance, gp.predict(points[i]).variance, 1e-9);
  }
}

TEST(GaussianProcess, FitFindsALongLengthScaleForAnIrrelevantDimension) {
  Rows x;
  std::vector<double> y;
  Rng rng(3);
  for (int i = 0; i < 40; ++i) {
    x.push_back({rng.uniform(), rng.uniform()});
    y.push_back(std::sin(8.0 * x.back()[0]));  // the second coordinate plays no part
  }
  Rng fit_rng(1);
  const GpKernel k = fit_kernel(x, y, {}, fit_rng);
  EXPECT_LT(k.length_scales[0], 1.0);
  EXPECT_GT(k.length_scales[1], 5.0 * k.length_scales[0]);
  EXPECT_LT(k.noise_variance, 1e-2);
  // The fitted kernel explains the data better than a default one.
  EXPECT_GT(GaussianProcess(x, y, k).log_marginal_likelihood(),
            GaussianProcess(x, y, {.length_scales = {0.5, 0.5}}).log_marginal_likelihood());
}

TEST(GaussianProcess, FitKeepsAFixedNoiseAndFitsTheRest) {
  // sin(8 x0) plus N(0, 0.3^2) noise: the fitted noise variance grows to explain it; a fixed one
  // (Keras Tuner's alpha) stays exactly as given while the length scales are still fitted.
  Rows x;
  std::vector<double> y;
  Rng rng(5);
  for (int i = 0; i < 40; ++i) {
    x.push_back({rng.uniform(), rng.uniform()});
    y.push_back(std::sin(8.0 * x.back()[0]) + 0.3 * rng.normal());
  }
  Rng fit_rng(1), fixed_rng(1);
  const GpKernel fitted = fit_kernel(x, y, {}, fit_rng);
  const GpKernel fixed = fit_kernel(x, y, {.noise_variance = 1e-4}, fixed_rng);
  EXPECT_GT(fitted.noise_variance, 1e-2);
  EXPECT_EQ(fixed.noise_variance, 1e-4);
  EXPECT_NE(fixed.length_scales, fitted.length_scales);
  EXPECT_GT(GaussianProcess(x, y, fixed).log_marginal_likelihood(),
            GaussianProcess(x, y, {.length_scales = {0.5, 0.5}, .noise_variance = 1e-4})
                .log_marginal_likelihood());
  Rng other(1);
  EXPECT_THROW(fit_kernel(x, y, {.noise_variance = 0.0}, other), InvalidArgument);
}

TEST(GaussianProcess, RejectsMismatchedShapes) {
  EXPECT_THROW(GaussianProcess({{0.1, 0.2}}, {1.0, 2.0}, {.length_scales = {1, 1}}),
               InvalidArgument);
  EXPECT_THROW(GaussianProcess({{0.1, 0.2}}, {1.0}, {.length_scales = {1}}), InvalidArgument);
}

TEST(ExpectedImprovement, MatchesTheClosedFormAndVanishesFarBelow) {
  // EI = (best - mean) Phi(z) + sd phi(z), z = (best - mean) / sd (Jones et al. 1998).
  const double mean = 1.0, sd = 0.5, best = 1.2, z = (best - mean) / sd;
  const double cdf = 0.5 * std::erfc(-z / std::sqrt(2.0));
  const double pdf = std::exp(-0.5 * z * z) / std::sqrt(2.0 * M_PI);
  EXPECT_NEAR(expected_improvement(mean, sd, best), (best - mean) * cdf + sd * pdf, 1e-12);
  EXPECT_LT(expected_improvement(10.0, 0.1, 0.0), 1e-100);        // far worse than the incumbent
  EXPECT_NEAR(expected_improvement(-5.0, 1e-9, 0.0), 5.0, 1e-6);  // certain improvement
}

TEST(ExpectedImprovement, LogFormIsFiniteAndSmoothFarBelowWithExactDerivatives) {
  for (double mean : {0.5, 3.0, 6.0, 30.0}) {
    const AcquisitionValue a = log_expected_improvement(mean, 1.0, 0.0);
    EXPECT_TRUE(std::isfinite(a.value)) << mean;
    const double h = 1e-6;
    EXPECT_NEAR(a.d_mean,
                (log_expected_improvement(mean + h, 1.0, 0.0).value -
                 log_expected_improvement(mean - h, 1.0, 0.0).value) /
                    (2 * h),
                1e-3 * std::max(1.0, std::abs(a.d_mean)))
        << mean;
    EXPECT_NEAR(a.d_sd,
                (log_expected_improvement(mean, 1.0 + h, 0.0).value -
                 log_expected_improvement(mean, 1.0 - h, 0.0).value) /
                    (2 * h),
                1e-3 * std::max(1.0, std::abs(a.d_sd)))
        << mean;
  }
  // Continuous where the two formulas meet (z = -5).
  EXPECT_NEAR(log_expected_improvement(5.0 - 1e-9, 1.0, 0.0).value,
              log_expected_improvement(5.0 + 1e-9, 1.0, 0.0).value, 1e-6);
}

TEST(LowerConfidenceBound, RewardsLowMeansAndHighUncertainty) {
  const AcquisitionValue a = lower_confidence_bound(1.0, 0.5, 4.0);
  EXPECT_DOUBLE_EQ(a.value, 2.0 * 0.5 - 1.0);
  EXPECT_DOUBLE_EQ(a.d_mean, -1.0);
  EXPECT_DOUBLE_EQ(a.d_sd, 2.0);
}

TEST(LogWarp, KeepsTheOrderAndCompressesTheTail) {
  const std::vector<double> y = {1.0, 2.0, 3.0, 1e6};
  const auto w = log_warp(y);
  for (std::size_t i = 1; i < w.size(); ++i) EXPECT_LT(w[i - 1], w[i]);
  EXPECT_LT(w[3] - w[2], 20.0);
  EXPECT_EQ(log_warp({2.0, 2.0}), log_warp({5.0, 5.0}));
}

}  // namespace
}  // namespace quarry::samplers
