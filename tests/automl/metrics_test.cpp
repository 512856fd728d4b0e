// Metrics against scikit-learn 1.2.1: each expected number was printed by the sklearn.metrics call
// named beside it, on the same data, the probabilities given as numpy float32 and widened to
// float64 (what Matrix holds). log_loss always ran with eps=1e-15 (sklearn 1.2's default, "auto",
// clips at float64's epsilon instead).
#include "quarry/automl/metrics.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "quarry/core/error.hpp"
#include "tests/automl/tables.hpp"
#include "tests/test_util.hpp"

namespace quarry::automl {
namespace {

using ::testing::HasSubstr;

using quarry::testing::error_of;

Matrix matrix(const std::vector<std::vector<float>>& rows) {
  Matrix m(static_cast<std::int64_t>(rows.size()), static_cast<std::int64_t>(rows[0].size()));
  for (std::size_t r = 0; r < rows.size(); ++r)
    for (std::size_t c = 0; c < rows[r].size(); ++c)
      m.at(static_cast<std::int64_t>(r), static_cast<std::int64_t>(c)) = rows[r][c];
  return m;
}

Matrix binary(const std::vector<float>& p1) {
  return test::binary_predictions(p1);
}

Matrix column(const std::vector<float>& values) {
  Matrix m(static_cast<std::int64_t>(values.size()), 1);
  m.values = values;
  return m;
}

constexpr double kTol = 1e-12;

// Ties at 0.4 across both classes (rows 1, 4 negative; row 5 positive) and one row at exactly 0.5.
const std::vector<double> kBinaryY = {0, 0, 1, 1, 0, 1, 0, 1, 1, 0};
const Matrix kBinaryP = binary({0.1f, 0.4f, 0.35f, 0.8f, 0.4f, 0.4f, 0.2f, 0.9f, 0.65f, 0.5f});

// Row 1 ties classes 0 and 1 (truth 1): argmax takes class 0.
const std::vector<double> kMultiY = {0, 1, 2, 2, 1, 0, 2, 1};
const Matrix kMultiP = matrix({{0.7f, 0.2f, 0.1f},
                               {0.4f, 0.4f, 0.2f},
                               {0.1f, 0.3f, 0.6f},
                               {0.3f, 0.3f, 0.4f},
                               {0.2f, 0.5f, 0.3f},
                               {0.25f, 0.5f, 0.25f},
                               {0.2f, 0.2f, 0.6f},
                               {0.1f, 0.8f, 0.1f}});

TEST(MetricsNames, RoundTripAndUnknown) {
  for (Metric m : {Metric::RocAuc, Metric::LogLoss, Metric::Rmse, Metric::Accuracy,
                   Metric::BalancedAccuracy, Metric::F1, Metric::Mae, Metric::R2})
    EXPECT_EQ(metric_from_string(to_string(m)), m);
  EXPECT_EQ(to_string(Metric::BalancedAccuracy), "balanced_accuracy");
  EXPECT_EQ(to_string(Metric::RocAuc), "roc_auc");
  EXPECT_EQ(error_of([] { metric_from_string("auc"); }),
            "unknown metric 'auc' (metrics: roc_auc, log_loss, rmse, accuracy, balanced_accuracy, "
            "f1, mae, r2)");
}

TEST(MetricsKinds, DirectionTaskAndDefaults) {
  for (Metric m :
       {Metric::RocAuc, Metric::Accuracy, Metric::BalancedAccuracy, Metric::F1, Metric::R2})
    EXPECT_TRUE(greater_is_better(m)) << to_string(m);
  for (Metric m : {Metric::LogLoss, Metric::Rmse, Metric::Mae})
    EXPECT_FALSE(greater_is_better(m)) << to_string(m);
  for (Metric m :
       {Metric::RocAuc, Metric::LogLoss, Metric::Accuracy, Metric::BalancedAccuracy, Metric::F1}) {
    EXPECT_TRUE(applies_to(m, TaskType::Binary)) << to_string(m);
    EXPECT_TRUE(applies_to(m, TaskType::Multiclass)) << to_string(m);
    EXPECT_FALSE(applies_to(m, TaskType::Regression)) << to_string(m);
  }
  for (Metric m : {Metric::Rmse, Metric::Mae, Metric::R2}) {
    EXPECT_FALSE(applies_to(m, TaskType::Binary)) << to_string(m);
    EXPECT_FALSE(applies_to(m, TaskType::Multiclass)) << to_string(m);
    EXPECT_TRUE(applies_to(m, TaskType::Regression)) << to_string(m);
  }
  EXPECT_EQ(default_metric(TaskType::Binary), Metric::RocAuc);
  EXPECT_EQ(default_metric(TaskType::Multiclass), Metric::LogLoss);
  EXPECT_EQ(default_metric(TaskType::Regression), Metric::Rmse);
}

TEST(MetricsBinary, MatchSklearnWithTies) {
  const auto s = [](Metric m) { return score(m, TaskType::Binary, kBinaryY, kBinaryP); };
  EXPECT_NEAR(s(Metric::RocAuc), 0.8, kTol);                  // roc_auc_score(y, p1)
  EXPECT_NEAR(s(Metric::LogLoss), 0.4768702369170594, kTol);  // log_loss(y, P, labels=[0, 1])
  // Predicted classes (p1 >= 0.5, so row 9 at exactly 0.5 is positive): 0 0 0 1 0 0 0 1 1 1.
  EXPECT_NEAR(s(Metric::Accuracy), 0.7, kTol);           // accuracy_score(y, pred)
  EXPECT_NEAR(s(Metric::BalancedAccuracy), 0.7, kTol);   // balanced_accuracy_score(y, pred)
  EXPECT_NEAR(s(Metric::F1), 0.6666666666666665, kTol);  // f1_score(y, pred)
}

TEST(MetricsBinary, RocAucOrderOnlyAndTies) {
  const std::vector<double> y = {0, 1, 0, 1};
  EXPECT_DOUBLE_EQ(score(Metric::RocAuc, TaskType::Binary, y, binary({0.1f, 0.9f, 0.2f, 0.3f})),
                   1.0);
  EXPECT_DOUBLE_EQ(score(Metric::RocAuc, TaskType::Binary, y, binary({0.9f, 0.1f, 0.8f, 0.3f})),
                   0.0);
  // roc_auc_score([0, 1, 0, 1], [0.3] * 4) = 0.5: every pair tied counts half.
  EXPECT_DOUBLE_EQ(score(Metric::RocAuc, TaskType::Binary, y, binary({0.3f, 0.3f, 0.3f, 0.3f})),
                   0.5);
  // Only column 1 matters, and only its order.
  Matrix odd = binary({0.01f, 0.02f, 0.025f, 0.03f});
  for (std::int64_t r = 0; r < odd.rows; ++r) odd.at(r, 0) = 7;
  EXPECT_DOUBLE_EQ(score(Metric::RocAuc, TaskType::Binary, y, odd), 0.75);
}

TEST(MetricsMulticlass, MatchSklearnWithTies) {
  const auto s = [](Metric m) { return score(m, TaskType::Multiclass, kMultiY, kMultiP); };
  // roc_auc_score(y, P, multi_class='ovr', average='macro')
  EXPECT_NEAR(s(Metric::RocAuc), 0.9111111111111111, kTol);
  EXPECT_NEAR(s(Metric::LogLoss), 0.6891865968971345, kTol);  // log_loss(y, P, labels=[0, 1, 2])
  // Predicted classes (argmax, row 1's tie to class 0): 0 0 2 2 1 1 2 1.
  EXPECT_NEAR(s(Metric::Accuracy), 0.75, kTol);  // accuracy_score(y, pred)
  EXPECT_NEAR(s(Metric::BalancedAccuracy), 0.7222222222222222, kTol);
  EXPECT_NEAR(s(Metric::F1), 0.7222222222222222, kTol);  // f1_score(y, pred, 'macro')
}

TEST(MetricsMulticlass, ClassAbsentFromTruth) {
  // Class 2 is predicted once but never true. pred = 0 2 1 1 0.
  const std::vector<double> y = {0, 0, 1, 1, 1};
  const Matrix p = matrix({{0.8f, 0.1f, 0.1f},
                           {0.1f, 0.2f, 0.7f},
                           {0.1f, 0.8f, 0.1f},
                           {0.1f, 0.8f, 0.1f},
                           {0.8f, 0.1f, 0.1f}});
  const auto s = [&](Metric m) { return score(m, TaskType::Multiclass, y, p); };
  EXPECT_NEAR(s(Metric::Accuracy), 0.6, kTol);  // accuracy_score(y, pred)
  EXPECT_NEAR(s(Metric::BalancedAccuracy), 0.5833333333333333, kTol);
  // f1_score(y, pred, average='macro'): class 2 counts (F1 0), being predicted.
  EXPECT_NEAR(s(Metric::F1), 0.43333333333333335, kTol);
  // sklearn refuses; here the mean of roc_auc_score(y == 0, P[:, 0]) and (y == 1, P[:, 1]).
  EXPECT_NEAR(s(Metric::RocAuc), 0.6666666666666667, kTol);
}

TEST(MetricsLogLoss, ClipsAndRenormalises) {
  // log_loss([0, 0, 2], P, labels=[0, 1, 2], eps=1e-15): row 0 gives its true class 0, and the
  // rows do not sum to 1 (row 0: 0.8 after clipping).
  const Matrix p = matrix({{0.0f, 0.5f, 0.3f}, {1.0f, 0.0f, 0.0f}, {0.2f, 0.2f, 0.2f}});
  EXPECT_NEAR(score(Metric::LogLoss, TaskType::Multiclass, {0, 0, 2}, p), 11.804748382388581, 1e-9);
  // log_loss([0, 1, 1], one-hot, eps=1e-15) = 9.992007221626415e-16: clipped, not zero.
  const Matrix perfect = matrix({{1, 0}, {0, 1}, {0, 1}});
  EXPECT_NEAR(score(Metric::LogLoss, TaskType::Binary, {0, 1, 1}, perfect), 9.992007221626415e-16,
              1e-20);
}

TEST(MetricsClasses, PerfectAndNoPositives) {
  const std::vector<double> y = {0, 1, 1, 0};
  const Matrix p = binary({0.2f, 0.7f, 0.5f, 0.49f});
  for (Metric m : {Metric::Accuracy, Metric::BalancedAccuracy, Metric::F1, Metric::RocAuc})
    EXPECT_DOUBLE_EQ(score(m, TaskType::Binary, y, p), 1.0) << to_string(m);
  // f1_score([0, 0, 0], [0, 0, 0], zero_division=0) = 0: no positive class true or predicted.
  EXPECT_DOUBLE_EQ(score(Metric::F1, TaskType::Binary, {0, 0, 0}, binary({0.1f, 0.2f, 0.3f})), 0.0);
}

TEST(MetricsRegression, MatchSklearn) {
  const std::vector<double> y = {3, -0.5, 2, 7};
  const Matrix p = column({2.5f, 0.0f, 2, 8});
  const auto s = [&](Metric m) { return score(m, TaskType::Regression, y, p); };
  EXPECT_NEAR(s(Metric::Rmse), 0.6123724356957945, kTol);  // mean_squared_error(squared=False)
  EXPECT_NEAR(s(Metric::Mae), 0.5, kTol);                  // mean_absolute_error
  EXPECT_NEAR(s(Metric::R2), 0.9486081370449679, kTol);    // r2_score
}

TEST(MetricsRegression, ConstantTruthAndPerfect) {
  // r2_score([2, 2, 2], [2, 2, 2]) = 1.0; r2_score([2, 2, 2], [2, 2, 3]) = 0.0.
  EXPECT_DOUBLE_EQ(score(Metric::R2, TaskType::Regression, {2, 2, 2}, column({2, 2, 2})), 1.0);
  EXPECT_DOUBLE_EQ(score(Metric::R2, TaskType::Regression, {2, 2, 2}, column({2, 2, 3})), 0.0);
  EXPECT_DOUBLE_EQ(score(Metric::Rmse, TaskType::Regression, {1, 5}, column({1, 5})), 0.0);
  EXPECT_DOUBLE_EQ(score(Metric::R2, TaskType::Regression, {1, 5}, column({1, 5})), 1.0);
}

TEST(MetricsLoss, NegatesGreaterIsBetter) {
  EXPECT_NEAR(loss(Metric::RocAuc, TaskType::Binary, kBinaryY, kBinaryP), -0.8, kTol);
  EXPECT_NEAR(loss(Metric::LogLoss, TaskType::Binary, kBinaryY, kBinaryP), 0.4768702369170594,
              kTol);
  EXPECT_NEAR(loss(Metric::R2, TaskType::Regression, {3, -0.5, 2, 7}, column({2.5f, 0, 2, 8})),
              -0.9486081370449679, kTol);
  EXPECT_NEAR(loss(Metric::Mae, TaskType::Regression, {3, -0.5, 2, 7}, column({2.5f, 0, 2, 8})),
              0.5, kTol);
}

TEST(MetricsErrors, TaskAndShape) {
  const auto err = [](Metric m, TaskType t, const std::vector<double>& y, const Matrix& p) {
    return error_of([&] { score(m, t, y, p); });
  };
  EXPECT_EQ(err(Metric::Rmse, TaskType::Binary, kBinaryY, kBinaryP),
            "metric rmse does not apply to a binary task");
  EXPECT_EQ(err(Metric::RocAuc, TaskType::Regression, {1}, column({1})),
            "metric roc_auc does not apply to a regression task");
  EXPECT_EQ(err(Metric::LogLoss, TaskType::Binary, {}, Matrix(0, 2)),
            "metric log_loss: no rows to score");
  EXPECT_EQ(err(Metric::LogLoss, TaskType::Binary, {0, 1, 1}, binary({0.1f, 0.2f})),
            "metric log_loss: 2 predicted rows for 3 true values");
  EXPECT_EQ(err(Metric::Accuracy, TaskType::Binary, {0, 1}, matrix({{1, 0, 0}, {0, 1, 0}})),
            "metric accuracy: binary predictions need 2 columns, got 3");
  EXPECT_EQ(err(Metric::LogLoss, TaskType::Multiclass, {0, 0}, column({1, 1})),
            "metric log_loss: multiclass predictions need at least 2 columns, got 1");
  EXPECT_EQ(err(Metric::Mae, TaskType::Regression, {0, 1}, binary({0.1f, 0.2f})),
            "metric mae: regression predictions need 1 column, got 2");
  Matrix short_values = binary({0.1f, 0.2f});
  short_values.values.pop_back();
  EXPECT_EQ(err(Metric::F1, TaskType::Binary, {0, 1}, short_values),
            "metric f1: the predictions hold 3 values for 2 x 2");
}

TEST(MetricsErrors, BadValues) {
  const auto err = [](Metric m, TaskType t, const std::vector<double>& y, const Matrix& p) {
    return error_of([&] { score(m, t, y, p); });
  };
  EXPECT_THAT(err(Metric::Accuracy, TaskType::Binary, {0, 2}, binary({0.1f, 0.2f})),
              HasSubstr("y[1] = 2.000000 is not a class index in [0, 2)"));
  EXPECT_THAT(err(Metric::Accuracy, TaskType::Multiclass, {0.5, 1}, matrix({{1, 0}, {0, 1}})),
              HasSubstr("y[0] = 0.500000 is not a class index"));
  EXPECT_THAT(err(Metric::LogLoss, TaskType::Binary, {-1, 1}, binary({0.1f, 0.2f})),
              HasSubstr("y[0] = -1.000000 is not a class index"));
  EXPECT_EQ(err(Metric::Rmse, TaskType::Regression, {1, std::nan("")}, column({1, 2})),
            "metric rmse: y[1] is not finite");
  EXPECT_EQ(err(Metric::Rmse, TaskType::Regression, {1, 2},
                column({1, std::numeric_limits<float>::infinity()})),
            "metric rmse: the prediction for row 1 is not finite");
  EXPECT_EQ(err(Metric::RocAuc, TaskType::Binary, {0, 1}, binary({0.1f, std::nanf("")})),
            "metric roc_auc: the prediction for row 1 is not finite");
  EXPECT_EQ(err(Metric::RocAuc, TaskType::Binary, {1, 1}, binary({0.1f, 0.2f})),
            "metric roc_auc: y holds a single class; ROC AUC needs two");
  EXPECT_EQ(err(Metric::RocAuc, TaskType::Multiclass, {2, 2}, matrix({{1, 0, 0}, {0, 1, 0}})),
            "metric roc_auc: y holds a single class; ROC AUC needs two");
  EXPECT_EQ(error_of([] {
              loss(Metric::R2, TaskType::Multiclass, {0, 1}, binary({0.1f, 0.2f}));
            }),
            "metric r2 does not apply to a multiclass task");
}

}  // namespace
}  // namespace quarry::automl
