// The conformance suite every registered model family passes, for each task it can do: it learns
// (beats the trivial model on held-out rows), predicts the right shapes and valid probabilities,
// saves and loads to identical predictions, is deterministic for a seed, fits its cheap point
// and each configuration of its portfolio,
// stops at a deadline, and names its space "<family>.<param>".
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <ostream>
#include <string>
#include <vector>

#include "quarry/automl/estimator.hpp"
#include "quarry/core/error.hpp"
#include "tests/automl/family_data.hpp"
#include "tests/test_util.hpp"

namespace quarry::automl {
namespace {

using testing::baseline_loss;
using testing::expect_valid;
using testing::loss;
using testing::make_split;
using testing::params_at;

struct Case {
  std::string family;
  TaskType task;
};

/// Every registered family with every task it can do (`regression`: with regression).
std::vector<Case> cases(bool regression = true) {
  std::vector<Case> all;
  for (const auto& f : families()) {
    if (f.classification) all.push_back({f.name, TaskType::Binary});
    if (f.classification) all.push_back({f.name, TaskType::Multiclass});
    if (f.regression && regression) all.push_back({f.name, TaskType::Regression});
  }
  return all;
}

void PrintTo(const Case& c, std::ostream* os) {
  *os << c.family << " (" << static_cast<int>(c.task) << ")";
}

/// A configuration of each built-in family that should learn these data well; the middle of the
/// space for any other family.
space::Params sensible(const Family& f) {
  using P = space::Params;
  if (f.name == "xgboost")
    return P{{"xgboost.n_estimators", std::int64_t{100}},
             {"xgboost.max_leaves", std::int64_t{8}},
             {"xgboost.learning_rate", 0.1},
             {"xgboost.min_child_weight", 1.0},
             {"xgboost.subsample", 0.8},
             {"xgboost.colsample_bytree", 0.8},
             {"xgboost.reg_alpha", 1.0 / 1024},
             {"xgboost.reg_lambda", 1.0}};
  if (f.name == "random_forest")
    return P{{"random_forest.n_estimators", std::int64_t{100}},
             {"random_forest.max_leaves", std::int64_t{64}},
             {"random_forest.colsample_bynode", 0.5}};
  if (f.name == "linear") return P{{"linear.alpha", 1e-3}, {"linear.l1_ratio", 0.5}};
  if (f.name == "knn")
    return P{{"knn.k", std::int64_t{10}},
             {"knn.weights", std::string("distance")},
             {"knn.p", std::int64_t{2}}};
  return params_at(f, 0.5);
}

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  const char* task = info.param.task == TaskType::Binary       ? "binary"
                     : info.param.task == TaskType::Multiclass ? "multiclass"
                                                               : "regression";
  return info.param.family + "_" + task;
}

class FamilyConformance : public ::testing::TestWithParam<Case> {
 protected:
  const Family& fam() const { return family(GetParam().family); }
  testing::Split data() const { return make_split(GetParam().task); }
};

TEST(Families, BuiltinOnesComeFirstInOrder) {
  const auto& all = families();
  ASSERT_GE(all.size(), 4u);
  EXPECT_EQ(all[0].name, "xgboost");
  EXPECT_EQ(all[1].name, "random_forest");
  EXPECT_EQ(all[2].name, "linear");
  EXPECT_EQ(all[3].name, "knn");
  EXPECT_TRUE(all[0].has_budget);
  EXPECT_TRUE(all[1].has_budget);
  EXPECT_FALSE(all[2].has_budget);
  EXPECT_FALSE(all[3].has_budget);
  for (const auto& f : all) EXPECT_FALSE(f.description.empty()) << f.name;
}

TEST_P(FamilyConformance, SpaceIsNamedAndHoldsTheCheapPoint) {
  const auto& f = fam();
  ASSERT_FALSE(f.params.empty());
  EXPECT_EQ(f.cheap.size(), f.params.size());
  for (const auto& p : f.params) {
    EXPECT_EQ(p.name().rfind(f.name + ".", 0), 0u) << p.name();
    EXPECT_GT(p.name().size(), f.name.size() + 1) << p.name();
    auto it = f.cheap.find(p.name());
    ASSERT_NE(it, f.cheap.end()) << p.name() << " has no cheap value";
    EXPECT_TRUE(p.contains(it->second)) << p.name() << " = " << space::to_string(it->second);
  }
}

TEST_P(FamilyConformance, BeatsTheTrivialModelOnHeldOutRows) {
  const auto s = data();
  auto model = fam().make(sensible(fam()), s.task);
  model->fit(s.x_train, s.y_train, s.options());
  const Matrix predicted = model->predict(s.x_test);
  expect_valid(s, predicted, s.x_test.rows);
  const double ours = loss(s, predicted), trivial = baseline_loss(s);
  EXPECT_LT(ours, 0.6 * trivial) << "loss " << ours << " against the trivial " << trivial;
}

TEST_P(FamilyConformance, MiddleOfTheSpaceLearns) {
  const auto s = data();
  auto model = fam().make(params_at(fam(), 0.5), s.task);
  model->fit(s.x_train, s.y_train, s.options());
  const Matrix predicted = model->predict(s.x_test);
  expect_valid(s, predicted, s.x_test.rows);
  EXPECT_LT(loss(s, predicted), 0.9 * baseline_loss(s));
}

TEST_P(FamilyConformance, CheapPointFitsAndLearns) {
  const auto s = data();
  auto model = fam().make(fam().cheap, s.task);
  model->fit(s.x_train, s.y_train, s.options());
  const Matrix predicted = model->predict(s.x_test);
  expect_valid(s, predicted, s.x_test.rows);
  EXPECT_LT(loss(s, predicted), 0.95 * baseline_loss(s));
}

TEST_P(FamilyConformance, EveryPortfolioConfigurationIsInItsSpaceAndLearns) {
  const auto s = data();
  const auto& f = fam();
  for (const auto& preset : f.portfolio) {
    auto params = f.cheap;
    for (const auto& [name, value] : preset) {
      const auto p = std::find_if(f.params.begin(), f.params.end(),
                                  [&](const space::Param& q) { return q.name() == name; });
      ASSERT_NE(p, f.params.end()) << name << " is not a parameter of " << f.name;
      EXPECT_TRUE(p->contains(value)) << name << " = " << space::to_string(value);
      params[name] = value;
    }
    auto model = f.make(params, s.task);
    model->fit(s.x_train, s.y_train, s.options());
    const Matrix predicted = model->predict(s.x_test);
    expect_valid(s, predicted, s.x_test.rows);
    EXPECT_LT(loss(s, predicted), 0.6 * baseline_loss(s)) << f.name;
  }
}

TEST_P(FamilyConformance, PredictsAnyNumberOfRows) {
  const auto s = data();
  auto model = fam().make(params_at(fam(), 0.3), s.task);
  model->fit(s.x_train, s.y_train, s.options());
  expect_valid(s, model->predict(s.x_test.take({4})), 1);
  expect_valid(s, model->predict(s.x_test.take({})), 0);
  const Matrix all = model->predict(s.x_test);
  const Matrix some = model->predict(s.x_test.take({9, 2}));
  for (std::int64_t c = 0; c < all.cols; ++c) {
    EXPECT_EQ(some.at(0, c), all.at(9, c));
    EXPECT_EQ(some.at(1, c), all.at(2, c));
  }
}

TEST_P(FamilyConformance, SaveThenLoadPredictsIdentically) {
  const auto s = data();
  auto model = fam().make(params_at(fam(), 0.45), s.task);
  model->fit(s.x_train, s.y_train, s.options());
  quarry::testing::TempDir dir;
  const nlohmann::json saved = model->save(dir.path(), "model-3");
  // Through text, as a saved run keeps it.
  auto loaded = fam().load(nlohmann::json::parse(saved.dump()), dir.path());
  EXPECT_EQ(loaded->predict(s.x_test).values, model->predict(s.x_test).values);
  // The files it wrote are named from the stem.
  for (const auto& entry : std::filesystem::directory_iterator(dir.path()))
    EXPECT_EQ(entry.path().filename().string().rfind("model-3", 0), 0u) << entry.path();
}

TEST_P(FamilyConformance, SameSeedSamePredictions) {
  const auto s = data();
  const auto params = params_at(fam(), 0.4);
  auto a = fam().make(params, s.task);
  auto b = fam().make(params, s.task);
  a->fit(s.x_train, s.y_train, s.options(11));
  b->fit(s.x_train, s.y_train, s.options(11));
  EXPECT_EQ(a->predict(s.x_test).values, b->predict(s.x_test).values);
}

TEST_P(FamilyConformance, PassedDeadlineStillGivesAUsableModelFast) {
  const auto s = data();
  auto model = fam().make(params_at(fam(), 0.97), s.task);  // the costly end of the space
  auto options = s.options();
  const auto start = std::chrono::steady_clock::now();
  options.deadline =
      std::chrono::duration<double>(start.time_since_epoch()).count() - 1;  // a second ago
  model->fit(s.x_train, s.y_train, options);
  const Matrix predicted = model->predict(s.x_test);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  expect_valid(s, predicted, s.x_test.rows);
  EXPECT_LT(seconds, 0.5);
}

TEST_P(FamilyConformance, RejectsUnusableInput) {
  const auto s = data();
  auto model = fam().make(fam().cheap, s.task);
  std::vector<double> short_y(s.y_train.begin(), s.y_train.end() - 1);
  EXPECT_THROW(model->fit(s.x_train, short_y, s.options()), InvalidArgument);
  EXPECT_THROW(model->fit(Matrix(0, 5), {}, s.options()), InvalidArgument);
  auto bad = s.options();
  bad.budget_fraction = 0;
  EXPECT_THROW(model->fit(s.x_train, s.y_train, bad), InvalidArgument);
  if (s.classes > 0) {
    auto y = s.y_train;
    y[3] = static_cast<double>(s.classes);  // not a class index
    EXPECT_THROW(model->fit(s.x_train, y, s.options()), InvalidArgument);
    y[3] = 0.5;
    EXPECT_THROW(model->fit(s.x_train, y, s.options()), InvalidArgument);
  }
  model->fit(s.x_train, s.y_train, s.options());
  EXPECT_THROW(model->predict(Matrix(3, 4)), InvalidArgument);  // 4 features, trained on 5
}

TEST_P(FamilyConformance, RejectsParametersNotItsOwn) {
  const auto& f = fam();
  auto params = f.cheap;
  params[f.name + ".no_such_thing"] = std::int64_t{1};
  EXPECT_THROW(f.make(params, GetParam().task), InvalidArgument);
  params = f.cheap;
  params.erase(params.begin());
  const std::string message = quarry::testing::error_of([&] { f.make(params, GetParam().task); });
  EXPECT_NE(message.find(f.cheap.begin()->first), std::string::npos) << message;
  // Another family's parameters, or the family choice itself, are not its business.
  params = f.cheap;
  params["family"] = f.name;
  params["other_family.depth"] = std::int64_t{3};
  EXPECT_NO_THROW(f.make(params, GetParam().task));
}

/// The same for the classification tasks only.
class ClassifierConformance : public FamilyConformance {};

TEST_P(ClassifierConformance, AClassAbsentFromTrainingStillGetsAColumn) {
  auto s = data();
  // Training rows of classes 0 and 1 only; the model is told there are `classes`.
  std::vector<std::int64_t> keep;
  for (std::size_t i = 0; i < s.y_train.size(); ++i)
    if (s.y_train[i] < 2) keep.push_back(static_cast<std::int64_t>(i));
  if (s.classes == 2) keep.pop_back();
  s.x_train = s.x_train.take(keep);
  std::vector<double> y;
  for (auto i : keep) y.push_back(s.y_train[static_cast<std::size_t>(i)]);
  s.y_train = y;
  auto model = fam().make(params_at(fam(), 0.5), s.task);
  model->fit(s.x_train, s.y_train, s.options());
  const Matrix predicted = model->predict(s.x_test);
  expect_valid(s, predicted, s.x_test.rows);
  if (s.classes == 3) {
    for (std::int64_t r = 0; r < predicted.rows; ++r) EXPECT_LT(predicted.at(r, 2), 0.2f) << r;
  }
}

INSTANTIATE_TEST_SUITE_P(Registered, FamilyConformance, ::testing::ValuesIn(cases()), case_name);
INSTANTIATE_TEST_SUITE_P(Registered, ClassifierConformance, ::testing::ValuesIn(cases(false)),
                         case_name);

}  // namespace
}  // namespace quarry::automl
