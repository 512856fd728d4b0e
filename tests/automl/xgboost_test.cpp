// The xgboost and random_forest families beyond the conformance suite: the budget scales the rounds
// (trees), the deadline keeps what was grown, NaN is missing, tiny feature fractions, XGBoost's
// errors on one line, and the saved files.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <limits>
#include <string>

#include "quarry/automl/estimator.hpp"
#include "quarry/core/error.hpp"
#include "tests/automl/family_data.hpp"
#include "tests/test_util.hpp"

namespace quarry::automl {
namespace {

using testing::make_split;

space::Params boosting(std::int64_t rounds) {
  auto p = family("xgboost").cheap;
  p["xgboost.n_estimators"] = rounds;
  p["xgboost.max_leaves"] = std::int64_t{8};
  p["xgboost.learning_rate"] = 0.1;
  return p;
}

space::Params forest(std::int64_t trees) {
  return {{"random_forest.n_estimators", trees},
          {"random_forest.max_leaves", std::int64_t{16}},
          {"random_forest.colsample_bynode", 0.6}};
}

double train_mse(const Estimator& model, const testing::Split& s) {
  const Matrix predicted = model.predict(s.x_train);
  double total = 0;
  for (std::int64_t r = 0; r < s.x_train.rows; ++r) {
    const double d = predicted.at(r, 0) - s.y_train[static_cast<std::size_t>(r)];
    total += d * d;
  }
  return total / static_cast<double>(s.x_train.rows);
}

double seconds_ago(double ago) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
             .count() -
         ago;
}

TEST(XGBoost, BudgetFractionScalesTheRounds) {
  const auto s = make_split(TaskType::Regression);
  const auto& f = family("xgboost");
  quarry::testing::TempDir dir;
  auto full = f.make(boosting(80), s.task);
  full->fit(s.x_train, s.y_train, s.options());
  auto quarter = f.make(boosting(80), s.task);
  auto options = s.options();
  options.budget_fraction = 0.25;
  quarter->fit(s.x_train, s.y_train, options);
  EXPECT_EQ(full->save(dir.path(), "full").at("sizes"), nlohmann::json::array({80}));
  EXPECT_EQ(quarter->save(dir.path(), "quarter").at("sizes"), nlohmann::json::array({20}));
  EXPECT_GT(train_mse(*quarter, s), 1.5 * train_mse(*full, s));
  // A fraction of a tiny budget still boosts one round.
  auto one = f.make(boosting(4), s.task);
  options.budget_fraction = 0.01;
  one->fit(s.x_train, s.y_train, options);
  EXPECT_EQ(one->save(dir.path(), "one").at("sizes"), nlohmann::json::array({1}));
}

TEST(XGBoost, PassedDeadlineKeepsTheFirstRound) {
  const auto s = make_split(TaskType::Binary);
  auto model = family("xgboost").make(boosting(500), s.task);
  auto options = s.options();
  options.deadline = seconds_ago(1);
  model->fit(s.x_train, s.y_train, options);
  quarry::testing::TempDir dir;
  EXPECT_EQ(model->save(dir.path(), "m").at("sizes"), nlohmann::json::array({1}));
  // A deadline far ahead changes nothing.
  options.deadline = seconds_ago(-3600);
  model->fit(s.x_train, s.y_train, options);
  EXPECT_EQ(model->save(dir.path(), "m").at("sizes"), nlohmann::json::array({500}));
}

TEST(XGBoost, MissingValuesAreMissingNotZero) {
  // The target is whether feature 0 is missing; its present values say nothing.
  auto s = make_split(TaskType::Binary);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  auto blank = [&](Matrix& x, std::vector<double>& y) {
    for (std::int64_t r = 0; r < x.rows; ++r) {
      const bool missing = r % 3 == 0;
      if (missing) x.at(r, 0) = nan;
      y[static_cast<std::size_t>(r)] = missing ? 1 : 0;
    }
  };
  blank(s.x_train, s.y_train);
  blank(s.x_test, s.y_test);
  auto model = family("xgboost").make(boosting(30), s.task);
  model->fit(s.x_train, s.y_train, s.options());
  const Matrix predicted = model->predict(s.x_test);
  testing::expect_valid(s, predicted, s.x_test.rows);
  for (std::int64_t r = 0; r < predicted.rows; ++r)
    EXPECT_EQ(predicted.at(r, 1) > 0.5, s.y_test[static_cast<std::size_t>(r)] == 1) << r;
  // A row with every feature missing still gets probabilities.
  Matrix empty(1, s.x_test.cols, nan);
  testing::expect_valid(s, model->predict(empty), 1);
}

TEST(XGBoost, FeatureFractionsBelowOneFeatureStillSampleOne) {
  auto s = make_split(TaskType::Regression);
  auto three = [](const Matrix& x) {
    Matrix out(x.rows, 3);
    for (std::int64_t r = 0; r < x.rows; ++r)
      for (std::int64_t c = 0; c < 3; ++c) out.at(r, c) = x.at(r, c);
    return out;
  };
  s.x_train = three(s.x_train);
  s.x_test = three(s.x_test);
  auto p = boosting(50);
  p["xgboost.colsample_bytree"] = 0.01;
  auto model = family("xgboost").make(p, s.task);
  model->fit(s.x_train, s.y_train, s.options());
  EXPECT_LT(testing::loss(s, model->predict(s.x_test)), 0.8 * testing::baseline_loss(s));
  auto f = forest(20);
  f["random_forest.colsample_bynode"] = 0.1;
  auto rf = family("random_forest").make(f, s.task);
  rf->fit(s.x_train, s.y_train, s.options());
  EXPECT_LT(testing::loss(s, rf->predict(s.x_test)), 0.8 * testing::baseline_loss(s));
}

TEST(XGBoost, SavesOneUbjsonFileNamedFromTheStem) {
  const auto s = make_split(TaskType::Multiclass);
  auto model = family("xgboost").make(boosting(10), s.task);
  model->fit(s.x_train, s.y_train, s.options());
  quarry::testing::TempDir dir;
  const auto saved = model->save(dir.path(), "best");
  EXPECT_EQ(saved.at("files"), nlohmann::json::array({"best.ubj"}));
  EXPECT_EQ(saved.at("task"), "multiclass");
  EXPECT_EQ(saved.at("classes"), 3);
  EXPECT_EQ(saved.at("features"), 5);
  EXPECT_TRUE(std::filesystem::is_regular_file(dir.path() / "best.ubj"));
}

TEST(XGBoost, ErrorsFromTheLibraryAreOneLine) {
  quarry::testing::TempDir dir;
  const auto s = make_split(TaskType::Binary);
  auto model = family("xgboost").make(boosting(5), s.task);
  model->fit(s.x_train, s.y_train, s.options());
  auto saved = model->save(dir.path(), "m");
  {
    std::ofstream broken(dir.path() / "m.ubj", std::ios::trunc);
    broken << "not a model";
  }
  const std::string message = quarry::testing::error_of<Error>(
      [&] { family("xgboost").load(saved, dir.path())->predict(s.x_test); });
  const std::string start = "XGBoost XGBoosterLoadModel(" + (dir.path() / "m.ubj").string() + "): ";
  EXPECT_EQ(message.rfind(start, 0), 0u) << message;
  EXPECT_NE(message.find("Check failed"), std::string::npos) << message;  // XGBoost's own words
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  EXPECT_EQ(message.find("[bt]"), std::string::npos) << message;  // no stack trace
  // A saved model of another family is refused before XGBoost sees it.
  EXPECT_THROW(family("random_forest").load(saved, dir.path()), InvalidArgument);
  saved.erase("files");
  EXPECT_THROW(family("xgboost").load(saved, dir.path()), InvalidArgument);
}

TEST(XGBoost, ParametersOutsideWhatXGBoostTakesAreRefused) {
  auto p = boosting(10);
  p["xgboost.subsample"] = 0.0;
  EXPECT_NE(quarry::testing::error_of([&] {
              family("xgboost").make(p, TaskType::Binary);
            }).find("subsample"),
            std::string::npos);
  p = boosting(10);
  p["xgboost.n_estimators"] = std::string("many");
  EXPECT_THROW(family("xgboost").make(p, TaskType::Binary), InvalidArgument);
  p = boosting(10);
  p["xgboost.n_estimators"] = 2.5;
  EXPECT_THROW(family("xgboost").make(p, TaskType::Binary), InvalidArgument);
  p["xgboost.n_estimators"] = 20.0;  // a whole number read back from JSON as a real is fine
  EXPECT_NO_THROW(family("xgboost").make(p, TaskType::Binary));
}

TEST(RandomForest, BudgetFractionScalesTheTreesGrownInChunks) {
  const auto s = make_split(TaskType::Regression);
  quarry::testing::TempDir dir;
  auto model = family("random_forest").make(forest(100), s.task);
  model->fit(s.x_train, s.y_train, s.options());
  // 4, 8, then at most an eighth of the forest (13) per chunk.
  EXPECT_EQ(model->save(dir.path(), "full").at("sizes"),
            nlohmann::json::array({4, 8, 13, 13, 13, 13, 13, 13, 10}));
  auto options = s.options();
  options.budget_fraction = 0.25;
  model->fit(s.x_train, s.y_train, options);
  const auto saved = model->save(dir.path(), "quarter");
  EXPECT_EQ(saved.at("sizes"), nlohmann::json::array({4, 4, 4, 4, 4, 4, 1}));
  EXPECT_EQ(saved.at("files").size(), 7u);
  EXPECT_EQ(saved.at("files")[6], "quarter.6.ubj");
}

TEST(RandomForest, PassedDeadlineKeepsTheFirstChunk) {
  const auto s = make_split(TaskType::Multiclass);
  auto model = family("random_forest").make(forest(1000), s.task);
  auto options = s.options();
  options.deadline = seconds_ago(1);
  model->fit(s.x_train, s.y_train, options);
  quarry::testing::TempDir dir;
  EXPECT_EQ(model->save(dir.path(), "m").at("sizes"), nlohmann::json::array({4}));
}

TEST(RandomForest, LeavesHoldClassSharesSoPureRegionsPredictCertainty) {
  // Two well-separated clusters: every tree's leaves are pure, so the forest is certain.
  testing::Split s;
  s.task = TaskType::Binary;
  s.classes = 2;
  s.x_train = Matrix(40, 2);
  s.y_train.assign(40, 0);
  for (std::int64_t r = 0; r < 40; ++r) {
    const bool one = r % 2 == 1;
    s.x_train.at(r, 0) = static_cast<float>(one ? 10 + r % 5 : -10 - r % 5);
    s.x_train.at(r, 1) = static_cast<float>(r % 7);
    s.y_train[static_cast<std::size_t>(r)] = one ? 1 : 0;
  }
  auto p = forest(20);
  p["random_forest.colsample_bynode"] = 1.0;
  auto model = family("random_forest").make(p, s.task);
  model->fit(s.x_train, s.y_train, s.options());
  const Matrix predicted = model->predict(s.x_train);
  for (std::int64_t r = 0; r < predicted.rows; ++r)
    EXPECT_EQ(predicted.at(r, 1), r % 2 == 1 ? 1.0f : 0.0f) << r;
}

}  // namespace
}  // namespace quarry::automl
