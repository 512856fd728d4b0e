// Small tabular data sets for the model families' tests, generated from a seeded generator (so no
// fixture file): 5 features of very different scales (the last two irrelevant), targets
//   binary:     1 when  a + b - c + noise > 0
//   multiclass: the largest of a, b, c (each plus noise)
//   regression: 100 + 3a + 2b - c + 1.5 sin(2a) + noise
// where a, b, c are the first three features' standard-normal draws; plus the trivial baselines
// a model must beat and checks of predictions.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "quarry/automl/estimator.hpp"
#include "quarry/automl/matrix.hpp"
#include "quarry/automl/task.hpp"

namespace quarry::automl::testing {

struct Split {
  TaskType task = TaskType::Regression;
  std::int64_t classes = 0;  ///< 0 for regression
  Matrix x_train, x_test;
  std::vector<double> y_train, y_test;

  FitOptions options(std::uint64_t seed = 7) const {
    FitOptions o;
    o.num_classes = classes;
    o.seed = seed;
    return o;
  }
};

inline std::int64_t classes_of(TaskType task) {
  return task == TaskType::Binary ? 2 : task == TaskType::Multiclass ? 3 : 0;
}

inline Split make_split(TaskType task, std::uint64_t seed = 1, std::int64_t train = 300,
                        std::int64_t test = 200) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0, 1);
  const double scales[5] = {1, 1000, 0.01, 5, 1};
  const double offsets[5] = {0, -50, 3, 0, 10};
  Split s;
  s.task = task;
  s.classes = classes_of(task);
  auto fill = [&](Matrix& x, std::vector<double>& y, std::int64_t rows) {
    x = Matrix(rows, 5);
    y.assign(static_cast<std::size_t>(rows), 0.0);
    for (std::int64_t r = 0; r < rows; ++r) {
      double raw[5];
      for (int j = 0; j < 5; ++j) {
        raw[j] = normal(rng);
        x.at(r, j) = static_cast<float>(offsets[j] + scales[j] * raw[j]);
      }
      const double a = raw[0], b = raw[1], c = raw[2];
      double& t = y[static_cast<std::size_t>(r)];
      if (task == TaskType::Binary) {
        t = a + b - c + 0.5 * normal(rng) > 0 ? 1 : 0;
      } else if (task == TaskType::Multiclass) {
        const double score[3] = {a + 0.3 * normal(rng), b + 0.3 * normal(rng),
                                 c + 0.3 * normal(rng)};
        t = score[0] > score[1] ? (score[0] > score[2] ? 0 : 2) : (score[1] > score[2] ? 1 : 2);
      } else {
        t = 100 + 3 * a + 2 * b - c + 1.5 * std::sin(2 * a) + 0.5 * normal(rng);
      }
    }
  };
  fill(s.x_train, s.y_train, train);
  fill(s.x_test, s.y_test, test);
  return s;
}

/// Regression: the mean squared error; classification: the Brier score (the mean over rows of the
/// squared distance between the probabilities and the one-hot label).
inline double loss(const Split& s, const Matrix& predicted) {
  double total = 0;
  for (std::int64_t r = 0; r < predicted.rows; ++r) {
    const double y = s.y_test[static_cast<std::size_t>(r)];
    if (s.classes == 0) {
      total += (predicted.at(r, 0) - y) * (predicted.at(r, 0) - y);
      continue;
    }
    for (std::int64_t c = 0; c < s.classes; ++c) {
      const double d = predicted.at(r, c) - (static_cast<double>(c) == y ? 1.0 : 0.0);
      total += d * d;
    }
  }
  return total / static_cast<double>(predicted.rows);
}

/// The trivial model's loss on the test rows: the training mean, or the training class shares.
inline double baseline_loss(const Split& s) {
  const std::int64_t width = s.classes == 0 ? 1 : s.classes;
  std::vector<double> prior(static_cast<std::size_t>(width), 0.0);
  for (double y : s.y_train) {
    if (s.classes == 0)
      prior[0] += y;
    else
      prior[static_cast<std::size_t>(y)] += 1;
  }
  Matrix constant(s.x_test.rows, width);
  for (std::int64_t r = 0; r < constant.rows; ++r)
    for (std::int64_t c = 0; c < width; ++c)
      constant.at(r, c) = static_cast<float>(prior[static_cast<std::size_t>(c)] /
                                             static_cast<double>(s.y_train.size()));
  return loss(s, constant);
}

/// Shape, finiteness, and for classification probabilities in [0, 1] summing to 1 per row.
inline void expect_valid(const Split& s, const Matrix& predicted, std::int64_t rows) {
  ASSERT_EQ(predicted.rows, rows);
  ASSERT_EQ(predicted.cols, s.classes == 0 ? 1 : s.classes);
  ASSERT_EQ(predicted.values.size(), static_cast<std::size_t>(predicted.rows * predicted.cols));
  for (std::int64_t r = 0; r < predicted.rows; ++r) {
    double sum = 0;
    for (std::int64_t c = 0; c < predicted.cols; ++c) {
      const float v = predicted.at(r, c);
      ASSERT_TRUE(std::isfinite(v)) << "row " << r << " column " << c;
      if (s.classes > 0) {
        ASSERT_GE(v, 0.0f) << "row " << r << " column " << c;
        ASSERT_LE(v, 1.0f) << "row " << r << " column " << c;
      }
      sum += v;
    }
    if (s.classes > 0) {
      ASSERT_NEAR(sum, 1.0, 1e-5) << "row " << r;
    }
  }
}

/// Every parameter of `family` at unit coordinate u (0.5: the middle of the space).
inline space::Params params_at(const Family& family, double u) {
  space::Params p;
  for (const auto& param : family.params) p[param.name()] = param.from_unit(u);
  return p;
}

}  // namespace quarry::automl::testing
