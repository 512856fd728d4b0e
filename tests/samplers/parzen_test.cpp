#include "quarry/samplers/parzen.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "quarry/core/error.hpp"

namespace quarry::samplers {
namespace {

using space::Param;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

/// Midpoint-rule integral of exp(log_pdf) over [0, 1] for a one-dimensional continuous estimator.
double integral(const ParzenEstimator& p) {
  constexpr int kSteps = 20000;
  double sum = 0;
  for (int i = 0; i < kSteps; ++i) {
    const double x = (i + 0.5) / kSteps;
    sum += std::exp(p.log_pdf(std::vector<double>{x})) / kSteps;
  }
  return sum;
}

TEST(ParzenDim, FollowsTheParameterKind) {
  using space::Value;
  EXPECT_EQ(ParzenDim::of(Param::Float("x", 0, 1)), (ParzenDim{}));
  EXPECT_EQ(ParzenDim::of(Param::Float("x", 1e-3, 1, {.log = true})), (ParzenDim{}));
  EXPECT_EQ(ParzenDim::of(Param::Float("x", 0, 1, {.step = 0.25})), (ParzenDim{.cells = 5}));
  EXPECT_EQ(ParzenDim::of(Param::Int("n", 1, 10)), (ParzenDim{.cells = 10}));
  EXPECT_EQ(ParzenDim::of(Param::Int("n", 1, 64, {.log = true})), (ParzenDim{}));
  EXPECT_EQ(ParzenDim::of(Param::Choice("b", {Value{16}, Value{32}, Value{64}})),
            (ParzenDim{.cells = 3}));  // numbers: ordered
  EXPECT_EQ(ParzenDim::of(Param::Choice("a", {Value{std::string("x")}, Value{std::string("y")}})),
            (ParzenDim{.choices = 2}));
  EXPECT_EQ(ParzenDim::of(Param::Boolean("bn")), (ParzenDim{.choices = 2}));
}

TEST(ParzenEstimator, ContinuousDensityIntegratesToOneOnTheUnitInterval) {
  for (const auto rule : {Bandwidth::Neighbours, Bandwidth::Scott}) {
    const ParzenEstimator p({ParzenDim{}}, {{0.02}, {0.3}, {0.31}, {0.97}}, {1, 2, 1, 0.5},
                            {.bandwidth = rule});
    EXPECT_NEAR(integral(p), 1.0, 1e-3);
  }
}

TEST(ParzenEstimator, DiscreteAndCategoricalMassesSumToOne) {
  const ParzenEstimator p({ParzenDim{.cells = 4}, ParzenDim{.choices = 3}},
                          {{0.125, 1.0 / 6}, {0.625, 5.0 / 6}, {0.875, 5.0 / 6}}, {},
                          {.bandwidth = Bandwidth::Scott});
  double total = 0;
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 3; ++j)
      total += std::exp(p.log_pdf(std::vector<double>{(i + 0.5) / 4, (j + 0.5) / 3}));
  EXPECT_NEAR(total, 1.0, 1e-9);
}

TEST(ParzenEstimator, NeighbourBandwidthsFollowOptunasRule) {
  // Points 0.1, 0.2, 0.9 and the prior's centre 0.5, sorted: 0.1 0.2 0.5 0.9. The outer points
  // take the gap to their inner neighbour (0.1 -> 0.1, 0.9 -> 0.4), 0.2 the larger gap (0.3);
  // the magic clip's floor is 1 / min(100, 3 + 1 + 1) = 0.2, the prior's bandwidth 1.
  const ParzenEstimator p({ParzenDim{}}, {{0.1}, {0.2}, {0.9}});
  ASSERT_EQ(p.size(), 4u);
  EXPECT_DOUBLE_EQ(p.bandwidth(0, 0), 0.2);  // 0.1 clipped up to 0.2
  EXPECT_DOUBLE_EQ(p.bandwidth(1, 0), 0.3);
  EXPECT_DOUBLE_EQ(p.bandwidth(2, 0), 0.4);
  EXPECT_DOUBLE_EQ(p.bandwidth(3, 0), 1.0);
}

TEST(ParzenEstimator, ScottBandwidthShrinksWithTheNumberOfPoints) {
  // 1.06 * std * n^(-1/(d+4)) with d = 1: for points spread evenly over [0, 1] the standard
  // deviation stays ~0.29 while n^(-1/5) falls.
  std::vector<double> widths;
  for (int n : {10, 100, 1000}) {
    std::vector<std::vector<double>> points;
    for (int i = 0; i < n; ++i) points.push_back({(i + 0.5) / n});
    const ParzenEstimator p({ParzenDim{}}, points, {},
                            {.bandwidth = Bandwidth::Scott, .magic_clip = false});
    double mean = 0, var = 0;
    for (const auto& x : points) mean += x[0] / n;
    for (const auto& x : points) var += (x[0] - mean) * (x[0] - mean) / n;
    EXPECT_NEAR(p.bandwidth(0, 0), 1.06 * std::sqrt(var) * std::pow(n, -0.2), 1e-12);
    widths.push_back(p.bandwidth(0, 0));
  }
  EXPECT_GT(widths[0], widths[1]);
  EXPECT_GT(widths[1], widths[2]);
}

TEST(ParzenEstimator, SamplesStayInTheCubeAndFollowTheDensity) {
  const ParzenEstimator p(
      {ParzenDim{}, ParzenDim{.cells = 5}, ParzenDim{.choices = 2}},
      {{0.8, 0.9, 0.75}, {0.85, 0.9, 0.75}, {0.82, 0.7, 0.75}}, {},
      {.bandwidth = Bandwidth::Scott, .prior_weight = 0.2, .magic_clip = false});
  Rng rng(5);
  int near = 0, second_choice = 0;
  for (int i = 0; i < 2000; ++i) {
    const auto x = p.sample(rng, 3.0);
    ASSERT_EQ(x.size(), 3u);
    for (double v : x) ASSERT_TRUE(v >= 0.0 && v < 1.0) << v;
    EXPECT_NEAR(std::fmod(x[1] * 5, 1.0), 0.5, 1e-9) << "snapped to a slice centre";
    EXPECT_TRUE(x[2] == 0.25 || x[2] == 0.75);
    near += std::abs(x[0] - 0.82) < 0.2;
    second_choice += x[2] == 0.75;
  }
  EXPECT_GT(near, 1700);           // most draws near the points, even with widened bandwidths
  EXPECT_GT(second_choice, 1600);  // the observed value dominates...
  EXPECT_LT(second_choice, 2000);  // ...and the prior keeps the other one possible
}

TEST(ParzenEstimator, InactiveCoordinatesAreUniform) {
  // A point without coordinate 1 (an inactive conditional parameter): its kernel is flat along
  // it, so the density is the one-dimensional estimator's, whatever the query's coordinate 1.
  const ParzenEstimator p({ParzenDim{}, ParzenDim{}}, {{0.4, kNaN}}, {}, {.prior_weight = 0});
  const ParzenEstimator q({ParzenDim{}}, {{0.4}}, {}, {.prior_weight = 0});
  for (double x : {0.1, 0.4, 0.9}) {
    for (double y : {0.0, 0.5, 0.99, kNaN})
      EXPECT_NEAR(p.log_pdf(std::vector<double>{x, y}), q.log_pdf(std::vector<double>{x}), 1e-12);
  }
  Rng rng(1);
  int low = 0;
  for (int i = 0; i < 1000; ++i) low += p.sample(rng)[1] < 0.25;
  EXPECT_NEAR(low, 250, 60);  // uniform along the inactive coordinate
}

TEST(ParzenEstimator, PriorAloneIsAProperDensity) {
  const ParzenEstimator p({ParzenDim{}}, {});
  EXPECT_EQ(p.size(), 1u);
  EXPECT_NEAR(integral(p), 1.0, 1e-3);
}

TEST(ParzenEstimator, RefusesMismatchedInputs) {
  EXPECT_THROW(ParzenEstimator({ParzenDim{}}, {{0.1, 0.2}}), InvalidArgument);
  EXPECT_THROW(ParzenEstimator({ParzenDim{}}, {{0.1}}, {1.0, 2.0}), InvalidArgument);
  EXPECT_THROW(ParzenEstimator({ParzenDim{}}, {}, {}, {.prior_weight = 0}), InvalidArgument);
}

}  // namespace
}  // namespace quarry::samplers
