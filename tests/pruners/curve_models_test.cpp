#include "quarry/pruners/curve_models.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>

#include "quarry/core/rng.hpp"
#include "tests/test_util.hpp"

namespace quarry::pruners {
namespace {

using quarry::testing::error_of;
using ::testing::HasSubstr;

using Curve = std::function<double(double)>;
using Points = std::vector<std::pair<double, double>>;

/// Steps 1..n of `curve`, plus Gaussian noise of sd `noise` drawn from (seed, step).
Points observe(const Curve& curve, int n, double noise = 0, std::uint64_t seed = 0) {
  Points points;
  for (int t = 1; t <= n; ++t) {
    auto rng = Rng::stream(seed, {static_cast<std::uint64_t>(t)});
    points.emplace_back(t, curve(t) + noise * rng.normal());
  }
  return points;
}

const Curve kPow3 = [](double t) { return 0.9 - 0.5 * std::pow(t, -0.8); };
const Curve kWeibull = [](double t) { return 0.85 - 0.6 * std::exp(-std::pow(0.15 * t, 0.9)); };

struct Accuracy {
  double mean_error = 0, max_error = 0;
  int inside = 0;  // truths within mean +- 3 stddev
};

/// Predictions at step 30 from `observed` noisy steps, over seeds 1..10.
Accuracy accuracy(const Curve& curve, int observed, double noise) {
  Accuracy a;
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    const auto p = extrapolate(observe(curve, observed, noise, seed), 30);
    if (!p) {
      ADD_FAILURE() << "no prediction for seed " << seed;
      continue;
    }
    const double error = std::abs(p->mean - curve(30));
    a.mean_error += error / 10;
    a.max_error = std::max(a.max_error, error);
    if (error <= 3 * p->stddev) ++a.inside;
  }
  return a;
}

TEST(CurveModels, ListsTheFamilies) {
  EXPECT_EQ(curve_families(), (std::vector<std::string>{"ilog2", "pow3", "exp3", "pow4", "exp4",
                                                        "mmf", "vapor_pressure"}));
}

TEST(CurveModels, EachFamilyRecoversItsOwnCurve) {
  // Noise-free curves of each shape, 10 of 30 steps seen: the family's own fit finds the value at
  // step 30 (exact up to the 1% noise floor's effect on nothing: the fit is exact).
  const std::vector<std::pair<std::string, Curve>> cases = {
      {"ilog2", [](double t) { return 0.9 - 0.4 / std::log(t + 1); }},
      {"pow3", kPow3},
      {"exp3", [](double t) { return 0.8 - 0.5 * std::exp(-0.3 * t); }},
      {"pow4", [](double t) { return 0.9 - std::pow(0.5 * t + 1.5, -0.7); }},
      {"exp4", kWeibull},
      {"mmf", [](double t) { return 0.9 - 0.7 / (1 + std::pow(0.3 * t, 1.2)); }},
      {"vapor_pressure",
       [](double t) { return 0.2 + 0.5 * std::exp(-1.0 / t - 0.1 * std::log(t)); }},
  };
  for (const auto& [family, curve] : cases) {
    const auto fit = fit_family(family, observe(curve, 10), 30);
    ASSERT_TRUE(fit) << family;
    EXPECT_NEAR(fit->mean, curve(30), 2e-3) << family;
    EXPECT_LT(fit->rss, 1e-8) << family;
  }
}

TEST(CurveModels, Pow3SeenForFiveOfThirtyStepsIsPredictedWithin004) {
  // 0.9 - 0.5 t^-0.8 (0.867 at step 30) plus noise of sd 0.005, seeds 1..10.
  // Measured: mean error 0.010, max 0.032, truth within 3 stddev for 10 of 10.
  const Accuracy a = accuracy(kPow3, 5, 0.005);
  EXPECT_LT(a.mean_error, 0.02);
  EXPECT_LT(a.max_error, 0.04);
  EXPECT_EQ(a.inside, 10);
}

TEST(CurveModels, WeibullSeenForFiveOfThirtyStepsIsHarderButStillCovered) {
  // 0.85 - 0.6 e^-(0.15 t)^0.9 (0.84 at 30) is nearly straight over steps 1..5, so five points
  // say little about where it bends; the stddev says so. Measured: mean error 0.079, max 0.15,
  // truth within 3 stddev for 8 of 10; with 10 points seen: 0.047, 0.13, 10 of 10.
  const Accuracy five = accuracy(kWeibull, 5, 0.005);
  EXPECT_LT(five.mean_error, 0.11);
  EXPECT_GE(five.inside, 8);
  const Accuracy ten = accuracy(kWeibull, 10, 0.005);
  EXPECT_LT(ten.mean_error, 0.06);
  EXPECT_GE(ten.inside, 9);
}

TEST(CurveModels, AnyScaleGivesTheSamePrediction) {
  // Percent instead of fractions, and a falling loss curve: the same curve in other units.
  const Points points = observe(kPow3, 6, 0.005, 3);
  Points percent, loss;
  for (const auto& [t, y] : points) {
    percent.emplace_back(t, 100 * y);
    loss.emplace_back(t, 2.0 - 3.0 * y);
  }
  const auto p = extrapolate(points, 30), q = extrapolate(percent, 30), r = extrapolate(loss, 30);
  ASSERT_TRUE(p && q && r);
  // Equal up to rounding (the fits take slightly different paths).
  EXPECT_NEAR(q->mean, 100 * p->mean, 1e-5 * 100);
  EXPECT_NEAR(q->stddev, 100 * p->stddev, 1e-5 * 100);
  EXPECT_NEAR(r->mean, 2.0 - 3.0 * p->mean, 1e-5 * 3);
  EXPECT_NEAR(r->stddev, 3.0 * p->stddev, 1e-5 * 3);
}

TEST(CurveModels, FallingLossCurveIsExtrapolatedDownwards) {
  const Curve loss = [](double t) { return 0.3 + 2.0 / t; };
  const auto p = extrapolate(observe(loss, 8, 0.01, 1), 30);
  ASSERT_TRUE(p);
  EXPECT_LT(p->mean, loss(8));
  EXPECT_NEAR(p->mean, loss(30), 3 * p->stddev);
}

TEST(CurveModels, IsDeterministic) {
  const Points points = observe(kWeibull, 7, 0.01, 4);
  const auto a = extrapolate(points, 30), b = extrapolate(points, 30);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->mean, b->mean);
  EXPECT_EQ(a->stddev, b->stddev);
  EXPECT_EQ(a->families, b->families);
}

TEST(CurveModels, WeightsSumToOneAndFamiliesNeedEnoughPoints) {
  // 4 and 5 points: ilog2, pow3, exp3; from 6 points the four-parameter families join.
  for (int n : {4, 5, 6, 10}) {
    const auto fits = fit_families(observe(kPow3, n, 0.005, 2), 30);
    double total = 0;
    for (const auto& f : fits) total += f.weight;
    EXPECT_NEAR(total, 1.0, 1e-12) << n;
    EXPECT_EQ(fits.size(), n < 6 ? 3u : 7u) << n;
  }
}

TEST(CurveModels, TooFewPointsOrAFlatCurve) {
  EXPECT_FALSE(extrapolate({}, 30));
  EXPECT_FALSE(extrapolate(observe(kPow3, 3, 0.005, 1), 30));
  EXPECT_FALSE(fit_family("pow4", observe(kPow3, 5), 30));
  const auto flat = extrapolate({{1, 0.5}, {2, 0.5}, {3, 0.5}, {4, 0.5}}, 30);
  ASSERT_TRUE(flat);
  EXPECT_EQ(flat->mean, 0.5);
  EXPECT_EQ(flat->stddev, 0.0);
  EXPECT_EQ(flat->families, 0);
}

TEST(CurveModels, RefusesBadInput) {
  EXPECT_EQ(error_of([] {
              extrapolate({{0, 1.0}, {1, 2.0}}, 30);
            }),
            "extrapolate: every step >= 1 must hold, got 0");
  EXPECT_EQ(error_of([] {
              extrapolate({{1, 1.0}, {1, 2.0}}, 30);
            }),
            "extrapolate: step 1 appears twice");
  EXPECT_THAT(error_of([] {
                extrapolate({{1, std::numeric_limits<double>::quiet_NaN()}}, 30);
              }),
              HasSubstr("values must be finite"));
  EXPECT_EQ(error_of([] {
              extrapolate({{1, 1.0}}, 0.5);
            }),
            "extrapolate: target_step >= 1 must hold, got 0.5");
  EXPECT_THAT(error_of([] { fit_family("weibul", {}, 30); }),
              HasSubstr("unknown family 'weibul' (known: ilog2, pow3,"));
}

}  // namespace
}  // namespace quarry::pruners
