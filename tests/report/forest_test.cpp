// The random forest behind parameter importance (quarry/report/forest.hpp): it learns a step and
// a smooth function, is deterministic in its seed, and refuses data it cannot fit.
#include "quarry/report/forest.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "quarry/core/error.hpp"
#include "quarry/core/rng.hpp"

namespace quarry::report {
namespace {

TEST(Forest, LearnsAStep) {
  std::vector<std::vector<double>> x;
  std::vector<double> y;
  for (int i = 0; i < 40; ++i) {
    x.push_back({i / 40.0});
    y.push_back(i < 20 ? 1.0 : 5.0);
  }
  const auto forest = Forest::fit(x, y, {.trees = 16, .seed = 3});
  EXPECT_EQ(forest.trees().size(), 16u);
  EXPECT_DOUBLE_EQ(forest.predict({0.1}), 1.0);
  EXPECT_DOUBLE_EQ(forest.predict({0.9}), 5.0);
}

TEST(Forest, FitsASmoothFunctionBetterThanItsMean) {
  Rng rng(7);
  std::vector<std::vector<double>> x;
  std::vector<double> y;
  const auto f = [](double a, double b) { return std::sin(6 * a) + b * b; };
  for (int i = 0; i < 300; ++i) {
    const double a = rng.uniform(), b = rng.uniform();
    x.push_back({a, b});
    y.push_back(f(a, b));
  }
  const auto forest = Forest::fit(x, y, {});
  double error = 0, spread = 0, mean = 0;
  for (double v : y) mean += v / static_cast<double>(y.size());
  for (int i = 0; i < 200; ++i) {
    const double a = rng.uniform(), b = rng.uniform();
    error += std::pow(forest.predict({a, b}) - f(a, b), 2);
    spread += std::pow(mean - f(a, b), 2);
  }
  EXPECT_LT(error, 0.05 * spread);
}

TEST(Forest, SameSeedSameTreesOtherSeedOtherTrees) {
  Rng rng(1);
  std::vector<std::vector<double>> x;
  std::vector<double> y;
  for (int i = 0; i < 50; ++i) {
    x.push_back({rng.uniform(), rng.uniform()});
    y.push_back(x.back()[0] * 3 + rng.normal());
  }
  const auto a = Forest::fit(x, y, {.trees = 8, .seed = 1});
  const auto b = Forest::fit(x, y, {.trees = 8, .seed = 1});
  const auto c = Forest::fit(x, y, {.trees = 8, .seed = 2});
  EXPECT_EQ(a.predict({0.3, 0.6}), b.predict({0.3, 0.6}));
  bool differs = false;
  for (double u = 0.05; u < 1; u += 0.1) differs |= a.predict({u, u}) != c.predict({u, u});
  EXPECT_TRUE(differs);
}

TEST(Forest, MinSamplesLeafLimitsTheLeaves) {
  std::vector<std::vector<double>> x;
  std::vector<double> y;
  for (int i = 0; i < 30; ++i) {
    x.push_back({static_cast<double>(i)});
    y.push_back(i);
  }
  const auto forest = Forest::fit(x, y, {.trees = 4, .min_samples_leaf = 10});
  for (const auto& tree : forest.trees()) EXPECT_LE(tree.nodes.size(), 5u);  // at most 3 leaves
}

TEST(Forest, RefusesMismatchedOrEmptyData) {
  EXPECT_THROW(Forest::fit({}, {}), InvalidArgument);
  EXPECT_THROW(Forest::fit({{0.1}, {0.2}}, {1.0}), InvalidArgument);
  EXPECT_THROW(Forest::fit({{0.1}, {0.2, 0.3}}, {1.0, 2.0}), InvalidArgument);
  EXPECT_THROW(Forest::fit({{0.1}}, {1.0}, {.trees = 0}), InvalidArgument);
}

}  // namespace
}  // namespace quarry::report
