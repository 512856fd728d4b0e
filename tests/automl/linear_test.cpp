// The linear family beyond the conformance suite: the solvers reach the elastic-net optimum (ridge
// against the normal equations, logistic by its optimality conditions), lasso zeroes irrelevant
// features, standardisation makes feature scales irrelevant, and NaN is refused.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "quarry/automl/estimator.hpp"
#include "quarry/core/error.hpp"
#include "tests/automl/family_data.hpp"
#include "tests/test_util.hpp"

namespace quarry::automl {
namespace {

using testing::make_split;

space::Params elastic(double alpha, double l1_ratio) {
  return {{"linear.alpha", alpha}, {"linear.l1_ratio", l1_ratio}};
}

struct Fitted {
  std::unique_ptr<Estimator> model;
  nlohmann::json saved;
};

Fitted fit(const testing::Split& s, double alpha, double l1_ratio) {
  Fitted f{family("linear").make(elastic(alpha, l1_ratio), s.task), {}};
  f.model->fit(s.x_train, s.y_train, s.options());
  quarry::testing::TempDir dir;
  f.saved = f.model->save(dir.path(), "linear");
  return f;
}

/// The training rows standardised with the model's own means and scales.
std::vector<std::vector<double>> standardised(const testing::Split& s,
                                              const nlohmann::json& saved) {
  const auto mean = saved.at("standardizer").at("mean").get<std::vector<double>>();
  const auto scale = saved.at("standardizer").at("scale").get<std::vector<double>>();
  std::vector<std::vector<double>> z(static_cast<std::size_t>(s.x_train.rows));
  for (std::int64_t r = 0; r < s.x_train.rows; ++r)
    for (std::size_t j = 0; j < mean.size(); ++j)
      z[static_cast<std::size_t>(r)].push_back(
          (s.x_train.at(r, static_cast<std::int64_t>(j)) - mean[j]) / scale[j]);
  return z;
}

TEST(Linear, LassoZeroesTheIrrelevantFeatures) {
  for (auto task : {TaskType::Regression, TaskType::Binary}) {
    const auto s = make_split(task);
    const auto f = fit(s, task == TaskType::Regression ? 0.05 : 0.02, 1.0);
    const auto w = f.saved.at("weights")[0].get<std::vector<double>>();
    ASSERT_EQ(w.size(), 5u);
    for (int j = 0; j < 3; ++j) EXPECT_NE(w[static_cast<std::size_t>(j)], 0.0) << j;
    EXPECT_EQ(w[3], 0.0) << f.saved.at("weights").dump();
    EXPECT_EQ(w[4], 0.0) << f.saved.at("weights").dump();
  }
  // Ridge keeps every feature.
  const auto s = make_split(TaskType::Regression);
  for (double w : fit(s, 0.05, 0.0).saved.at("weights")[0].get<std::vector<double>>())
    EXPECT_NE(w, 0.0);
}

TEST(Linear, RidgeSolvesTheNormalEquations) {
  auto s = make_split(TaskType::Regression);
  // Feature 3 becomes nearly a copy of feature 0 (correlation ~0.95): coordinate descent needs
  // many passes here.
  for (std::int64_t r = 0; r < s.x_train.rows; ++r)
    s.x_train.at(r, 3) = s.x_train.at(r, 0) + 0.06f * s.x_train.at(r, 3);
  const double alpha = 0.1;
  const auto f = fit(s, alpha, 0.0);
  const auto z = standardised(s, f.saved);
  const double mean = f.saved.at("target_mean"), scale = f.saved.at("target_scale");
  // (z'z/n + alpha I) w = z't/n with t the standardised target, by Gauss-Jordan elimination.
  const std::size_t p = 5;
  const double n = static_cast<double>(z.size());
  std::vector<std::vector<double>> a(p, std::vector<double>(p + 1, 0.0));
  for (std::size_t i = 0; i < z.size(); ++i)
    for (std::size_t j = 0; j < p; ++j) {
      for (std::size_t k = 0; k < p; ++k) a[j][k] += z[i][j] * z[i][k] / n;
      a[j][p] += z[i][j] * (s.y_train[i] - mean) / scale / n;
    }
  for (std::size_t j = 0; j < p; ++j) a[j][j] += alpha;
  for (std::size_t c = 0; c < p; ++c)
    for (std::size_t r = 0; r < p; ++r) {
      if (r == c) continue;
      const double factor = a[r][c] / a[c][c];
      for (std::size_t k = c; k <= p; ++k) a[r][k] -= factor * a[c][k];
    }
  const auto w = f.saved.at("weights")[0].get<std::vector<double>>();
  for (std::size_t j = 0; j < p; ++j) EXPECT_NEAR(w[j], a[j][p] / a[j][j], 1e-5) << j;
}

TEST(Linear, LogisticReachesTheElasticNetOptimum) {
  for (auto task : {TaskType::Binary, TaskType::Multiclass}) {
    const auto s = make_split(task);
    const double alpha = 0.01, l1_ratio = 0.5;
    const auto f = fit(s, alpha, l1_ratio);
    const auto z = standardised(s, f.saved);
    const auto weights = f.saved.at("weights").get<std::vector<std::vector<double>>>();
    const Matrix prob = f.model->predict(s.x_train);
    const std::size_t outputs = weights.size();
    ASSERT_EQ(outputs, task == TaskType::Binary ? 1u : 3u);
    const double n = static_cast<double>(z.size());
    for (std::size_t c = 0; c < outputs; ++c) {
      // The column of class c's probability (binary: class 1).
      const std::int64_t col = task == TaskType::Binary ? 1 : static_cast<std::int64_t>(c);
      std::vector<double> grad(6, 0.0);  // 5 weights and the intercept
      for (std::size_t i = 0; i < z.size(); ++i) {
        const double e = prob.at(static_cast<std::int64_t>(i), col) -
                         (s.y_train[i] == static_cast<double>(col) ? 1.0 : 0.0);
        for (std::size_t j = 0; j < 5; ++j) grad[j] += e * z[i][j] / n;
        grad[5] += e / n;
      }
      EXPECT_NEAR(grad[5], 0.0, 1e-5) << "intercept of output " << c;
      for (std::size_t j = 0; j < 5; ++j) {
        const double w = weights[c][j];
        const double smooth = grad[j] + alpha * (1 - l1_ratio) * w, l1 = alpha * l1_ratio;
        if (w == 0)
          EXPECT_LE(std::abs(smooth), l1 + 1e-5) << "output " << c << " feature " << j;
        else
          EXPECT_NEAR(smooth + l1 * (w > 0 ? 1 : -1), 0.0, 1e-5)
              << "output " << c << " feature " << j;
      }
    }
  }
}

TEST(Linear, FeatureScalesDoNotMatter) {
  for (auto task : {TaskType::Regression, TaskType::Multiclass}) {
    const auto s = make_split(task);
    auto scaled = s;
    for (Matrix* x : {&scaled.x_train, &scaled.x_test})
      for (std::int64_t r = 0; r < x->rows; ++r) x->at(r, 0) = 250 * x->at(r, 0) - 7;
    const Matrix a = fit(s, 0.01, 0.3).model->predict(s.x_test);
    const Matrix b = fit(scaled, 0.01, 0.3).model->predict(scaled.x_test);
    for (std::size_t i = 0; i < a.values.size(); ++i)
      EXPECT_NEAR(a.values[i], b.values[i], 1e-4 * std::max(1.0f, std::abs(a.values[i]))) << i;
  }
}

TEST(Linear, AConstantFeatureGetsNoWeight) {
  auto s = make_split(TaskType::Binary);
  for (std::int64_t r = 0; r < s.x_train.rows; ++r) s.x_train.at(r, 2) = 4.5f;
  const auto f = fit(s, 0.01, 0.0);
  EXPECT_EQ(f.saved.at("weights")[0][2], 0.0);
  testing::expect_valid(s, f.model->predict(s.x_test), s.x_test.rows);
}

TEST(Linear, MissingValuesAreRefused) {
  auto s = make_split(TaskType::Regression);
  auto model = family("linear").make(elastic(0.01, 0.5), s.task);
  model->fit(s.x_train, s.y_train, s.options());
  s.x_test.at(3, 1) = std::numeric_limits<float>::quiet_NaN();
  const std::string predicting = quarry::testing::error_of([&] { model->predict(s.x_test); });
  EXPECT_NE(predicting.find("feature 1 of row 3 is missing"), std::string::npos) << predicting;
  s.x_train.at(7, 4) = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THROW(model->fit(s.x_train, s.y_train, s.options()), InvalidArgument);
}

}  // namespace
}  // namespace quarry::automl
