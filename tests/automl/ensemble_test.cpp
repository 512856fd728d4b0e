// Ensemble selection: blends that beat their members where the members err on different rows,
// never worse than the best member, weights that sum to 1, and the shape errors. The predictions
// are made here: exact constructions, and seeded noisy copies of the truth.
#include "quarry/automl/ensemble.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "quarry/core/error.hpp"
#include "quarry/core/rng.hpp"
#include "tests/automl/tables.hpp"
#include "tests/test_util.hpp"

namespace quarry::automl {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

using quarry::testing::error_of;

Matrix binary(const std::vector<float>& p1) {
  return test::binary_predictions(p1);
}

Matrix column(const std::vector<double>& values, double shift) {
  Matrix m(static_cast<std::int64_t>(values.size()), 1);
  for (std::size_t r = 0; r < values.size(); ++r)
    m.values[r] = static_cast<float>(values[r] + shift);
  return m;
}

double sum(const std::vector<double>& w) {
  return std::accumulate(w.begin(), w.end(), 0.0);
}

// Five positives then five negatives. A misses rows 0 and 1, B rows 5 and 6, C knows nothing.
const std::vector<double> kY = {1, 1, 1, 1, 1, 0, 0, 0, 0, 0};
const Matrix kA = binary({0.3f, 0.3f, 0.8f, 0.8f, 0.8f, 0.2f, 0.2f, 0.2f, 0.2f, 0.2f});
const Matrix kB = binary({0.8f, 0.8f, 0.8f, 0.8f, 0.8f, 0.7f, 0.7f, 0.2f, 0.2f, 0.2f});
const Matrix kC = binary(std::vector<float>(10, 0.5f));

TEST(EnsembleSelect, BlendsModelsThatErrOnDifferentRows) {
  // Accuracy: A and B score 0.8 each; their average is right on every row.
  const Ensemble e = select_ensemble({kC, kA, kB}, kY, TaskType::Binary, Metric::Accuracy);
  EXPECT_THAT(e.weights, ElementsAre(0.0, 0.5, 0.5));
  EXPECT_EQ(e.rounds, 2);  // A (first of the two best), then B; a third pick cannot improve
  EXPECT_DOUBLE_EQ(e.score, 1.0);
  EXPECT_DOUBLE_EQ(score(Metric::Accuracy, TaskType::Binary, kY, blend({kC, kA, kB}, e.weights)),
                   1.0);
  // Log loss too: the blend beats the best single model.
  const Ensemble ll = select_ensemble({kC, kA, kB}, kY, TaskType::Binary, Metric::LogLoss);
  double best_single = std::numeric_limits<double>::infinity();
  for (const Matrix& m : {kC, kA, kB})
    best_single = std::min(best_single, score(Metric::LogLoss, TaskType::Binary, kY, m));
  EXPECT_LT(ll.score, best_single - 0.01);
  EXPECT_GT(ll.weights[1], 0);
  EXPECT_GT(ll.weights[2], 0);
  EXPECT_DOUBLE_EQ(sum(ll.weights), 1.0);
}

TEST(EnsembleSelect, RoundsCapAndEarlyStop) {
  // Biases +1 and -2: the greedy path is A (RMSE 1), A+B (0.5), 2A+B (0), then nothing improves.
  std::vector<double> y(12);
  for (std::size_t i = 0; i < y.size(); ++i) y[i] = double(i * 3 % 7);
  const std::vector<Matrix> models = {column(y, 1), column(y, -2)};
  const Ensemble full = select_ensemble(models, y, TaskType::Regression, Metric::Rmse);
  EXPECT_EQ(full.rounds, 3);
  EXPECT_DOUBLE_EQ(full.weights[0], 2.0 / 3);
  EXPECT_DOUBLE_EQ(full.weights[1], 1.0 / 3);
  EXPECT_DOUBLE_EQ(full.score, 0.0);
  const Ensemble two = select_ensemble(models, y, TaskType::Regression, Metric::Rmse, 2);
  EXPECT_EQ(two.rounds, 2);
  EXPECT_THAT(two.weights, ElementsAre(0.5, 0.5));
  EXPECT_DOUBLE_EQ(two.score, 0.5);
  const Ensemble one = select_ensemble(models, y, TaskType::Regression, Metric::Rmse, 1);
  EXPECT_THAT(one.weights, ElementsAre(1.0, 0.0));
  EXPECT_DOUBLE_EQ(one.score, 1.0);
}

TEST(EnsembleSelect, TiesGoToTheLowestIndex) {
  // Two equal models: the first is picked and a second pick changes nothing, so the search stops.
  const Ensemble e = select_ensemble({kB, kB, kA}, kY, TaskType::Binary, Metric::RocAuc, 1);
  EXPECT_THAT(e.weights, ElementsAre(1.0, 0.0, 0.0));
  const Ensemble same = select_ensemble({kA, kA}, kY, TaskType::Binary, Metric::RocAuc);
  EXPECT_EQ(same.rounds, 1);
  EXPECT_THAT(same.weights, ElementsAre(1.0, 0.0));
  EXPECT_DOUBLE_EQ(same.score, score(Metric::RocAuc, TaskType::Binary, kY, kA));
}

/// `count` multiclass models: the truth's one-hot blurred by seeded noise of varying strength.
std::vector<Matrix> noisy_models(const std::vector<double>& y, int classes, int count,
                                 std::uint64_t seed) {
  Rng rng(seed);
  std::vector<Matrix> out;
  for (int m = 0; m < count; ++m) {
    const double noise = 0.5 + 0.4 * m;
    Matrix p(static_cast<std::int64_t>(y.size()), classes);
    for (std::int64_t r = 0; r < p.rows; ++r) {
      double total = 0;
      for (int c = 0; c < classes; ++c) {
        const double v = std::exp((c == int(y[std::size_t(r)]) ? 1.0 : 0.0) + noise * rng.normal());
        p.at(r, c) = static_cast<float>(v);
        total += v;
      }
      for (int c = 0; c < classes; ++c) p.at(r, c) = static_cast<float>(p.at(r, c) / total);
    }
    out.push_back(std::move(p));
  }
  return out;
}

TEST(EnsembleSelect, NeverWorseThanTheBestSingleModel) {
  std::vector<double> y(300);
  for (std::size_t i = 0; i < y.size(); ++i) y[i] = double(i * 7 % 4);
  std::vector<double> y2(y.size());
  for (std::size_t i = 0; i < y.size(); ++i) y2[i] = double(int(y[i]) % 2);
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    const auto multi = noisy_models(y, 4, 6, seed);
    const auto bin = noisy_models(y2, 2, 6, seed + 10);
    for (Metric metric : {Metric::LogLoss, Metric::RocAuc, Metric::Accuracy,
                          Metric::BalancedAccuracy, Metric::F1}) {
      for (TaskType task : {TaskType::Multiclass, TaskType::Binary}) {
        const auto& models = task == TaskType::Binary ? bin : multi;
        const auto& truth = task == TaskType::Binary ? y2 : y;
        double best = std::numeric_limits<double>::infinity();
        for (const Matrix& m : models) best = std::min(best, loss(metric, task, truth, m));
        const Ensemble e = select_ensemble(models, truth, task, metric, 20);
        const std::string what = to_string(metric) + " seed " + std::to_string(seed);
        const double e_loss = greater_is_better(metric) ? -e.score : e.score;
        EXPECT_LE(e_loss, best) << what;
        EXPECT_NEAR(sum(e.weights), 1.0, 1e-12) << what;
        EXPECT_GE(e.rounds, 1) << what;
        EXPECT_LE(e.rounds, 20) << what;
        for (double w : e.weights) {
          EXPECT_GE(w, 0) << what;
          // Each weight is a count of picks over the picks made.
          EXPECT_NEAR(w * e.rounds, std::round(w * e.rounds), 1e-9) << what;
        }
        EXPECT_NEAR(score(metric, task, truth, blend(models, e.weights)), e.score, 1e-5) << what;
      }
    }
  }
}

TEST(EnsembleBlend, WeightedAverage) {
  const Matrix a = column({1, 2, 3}, 0), b = column({5, 6, 7}, 0);
  EXPECT_THAT(blend({a, b}, {0.25, 0.75}).values, ElementsAre(4.0f, 5.0f, 6.0f));
  EXPECT_THAT(blend({a, b}, {1, 0}).values, ElementsAre(1.0f, 2.0f, 3.0f));
  // Weights are normalised by their sum.
  EXPECT_THAT(blend({a, b}, {1, 3}).values, ElementsAre(4.0f, 5.0f, 6.0f));
  const Matrix m = blend({kA, kB}, {0.5, 0.5});
  EXPECT_EQ(m.rows, 10);
  EXPECT_EQ(m.cols, 2);
  EXPECT_FLOAT_EQ(m.at(0, 1), 0.55f);
  EXPECT_FLOAT_EQ(m.at(5, 0), 0.55f);
}

TEST(EnsembleErrors, Shapes) {
  EXPECT_EQ(error_of([] { select_ensemble({}, kY, TaskType::Binary, Metric::RocAuc); }),
            "select_ensemble: no candidate");
  EXPECT_EQ(error_of([] {
              select_ensemble({kA, binary({0.1f, 0.2f})}, kY, TaskType::Binary, Metric::RocAuc);
            }),
            "select_ensemble: candidate 1 is 2 x 2, candidate 0 is 10 x 2");
  EXPECT_EQ(error_of([] {
              select_ensemble({kA, kB}, {0, 1, 0}, TaskType::Binary, Metric::RocAuc);
            }),
            "select_ensemble: the candidates have 10 rows, y has 3");
  EXPECT_EQ(error_of([] { select_ensemble({kA}, kY, TaskType::Binary, Metric::RocAuc, 0); }),
            "select_ensemble: rounds >= 1 must hold, got 0");
  Matrix broken = kB;
  broken.values.pop_back();
  EXPECT_EQ(error_of([&] {
              select_ensemble({kA, broken}, kY, TaskType::Binary, Metric::F1);
            }),
            "select_ensemble: candidate 1 holds 19 values for 10 x 2");
  // The metric's own errors come through.
  EXPECT_EQ(error_of([] { select_ensemble({kA}, kY, TaskType::Binary, Metric::Rmse); }),
            "metric rmse does not apply to a binary task");

  EXPECT_EQ(error_of([] { blend({}, {}); }), "blend: no prediction");
  EXPECT_EQ(error_of([] { blend({kA, kB}, {1}); }), "blend: 1 weights for 2 predictions");
  EXPECT_EQ(error_of([] {
              blend({kA, binary({0.5f})}, {0.5, 0.5});
            }),
            "blend: prediction 1 is 1 x 2, prediction 0 is 10 x 2");
  EXPECT_THAT(error_of([] {
                blend({kA, kB}, {1.5, -0.5});
              }),
              HasSubstr("blend: weight 1 is -0.500000; weights must be finite and >= 0"));
  EXPECT_EQ(error_of([] { blend({kA, kB}, {0, 0}); }), "blend: the weights sum to 0");
}

}  // namespace
}  // namespace quarry::automl
