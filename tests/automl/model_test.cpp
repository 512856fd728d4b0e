// The saved AutoML model (AutoModel): a folder that loads back to the same predictions, the
// errors of a folder that is not one, columns found by name, and labels. The models are fitted
// here on small seeded generated tables (tables.hpp) from the registered families.
#include "quarry/automl/model.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/automl/tables.hpp"
#include "tests/test_util.hpp"

namespace quarry::automl {
namespace {

using quarry::testing::error_of;
using quarry::testing::TempDir;
using test::binary_table;
using test::regression_table;
using ::testing::HasSubstr;

/// A model of `family_names` (each at its cheap configuration, equal weights) trained on every
/// row of `table` to predict `target`.
AutoModel train(const data::Table& table, const std::string& target,
                const std::vector<std::string>& family_names) {
  const auto t = detect_target(table, target);
  const auto plan = plan_columns(table, target);
  std::vector<std::int64_t> rows;
  for (std::int64_t r = 0; r < table.rows(); ++r) rows.push_back(r);
  const auto prep = Preprocessor::fit(table, plan, t.y, t.task, rows);
  const auto x = prep.transform(table);
  std::vector<Member> members;
  for (const auto& name : family_names) {
    const Family& f = family(name);
    auto estimator = f.make(f.cheap, t.task);
    estimator->fit(x, t.y, {.num_classes = t.num_classes(), .seed = 3});
    members.push_back({name, 1.0 / static_cast<double>(family_names.size()), f.cheap,
                       std::shared_ptr<Estimator>(std::move(estimator))});
  }
  return AutoModel(t.task, target, t.classes, default_metric(t.task), prep, std::move(members));
}

/// `table` with `column` left out.
data::Table without(data::Table table, const std::string& column) {
  std::erase_if(table.columns, [&](const data::Column& c) { return c.name == column; });
  return table;
}

TEST(AutoModel, SaveAndLoadGiveIdenticalPredictions) {
  TempDir dir;
  const auto table = binary_table(200, 21);
  const auto model = train(table, "label", {"xgboost", "linear", "knn", "random_forest"});
  model.save(dir.path() / "model");
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "model" / "model.json"));
  const auto loaded = AutoModel::load(dir.path() / "model");

  EXPECT_EQ(loaded.task(), TaskType::Binary);
  EXPECT_EQ(loaded.target(), "label");
  EXPECT_EQ(loaded.classes(), (std::vector<std::string>{"no", "yes"}));
  EXPECT_EQ(loaded.metric(), Metric::RocAuc);
  EXPECT_EQ(loaded.preprocessor().feature_names(), model.preprocessor().feature_names());
  ASSERT_EQ(loaded.members().size(), 4u);
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(loaded.members()[i].family, model.members()[i].family);
    EXPECT_EQ(loaded.members()[i].weight, 0.25);
    EXPECT_EQ(loaded.members()[i].params, model.members()[i].params);
  }
  EXPECT_EQ(loaded.describe(), model.describe());
  EXPECT_THAT(model.describe(), HasSubstr("ensemble of 4"));

  const auto fresh = binary_table(80, 22);
  const auto p = model.predict(fresh);
  EXPECT_EQ(p.rows, 80);
  EXPECT_EQ(loaded.predict(fresh).values, p.values);
  EXPECT_EQ(loaded.predict_labels(fresh), model.predict_labels(fresh));

  // Saving over an earlier model replaces it.
  const auto other = train(table, "label", {"linear"});
  other.save(dir.path() / "model");
  const auto reloaded = AutoModel::load(dir.path() / "model");
  ASSERT_EQ(reloaded.members().size(), 1u);
  EXPECT_EQ(reloaded.predict(fresh).values, other.predict(fresh).values);
  EXPECT_EQ(reloaded.describe(), "linear");
}

TEST(AutoModel, RegressionRoundTripAndLabelsAreTheValues) {
  TempDir dir;
  const auto model = train(regression_table(200, 23), "y", {"xgboost", "knn"});
  model.save(dir.path() / "model");
  const auto loaded = AutoModel::load(dir.path() / "model");
  EXPECT_EQ(loaded.task(), TaskType::Regression);
  EXPECT_TRUE(loaded.classes().empty());
  const auto fresh = regression_table(50, 24);
  const auto p = loaded.predict(fresh);
  ASSERT_EQ(p.cols, 1);
  EXPECT_EQ(p.values, model.predict(fresh).values);
  const auto labels = loaded.predict_labels(fresh);
  ASSERT_EQ(labels.size(), 50u);
  for (std::size_t i = 0; i < labels.size(); ++i)
    EXPECT_NEAR(std::stod(labels[i]), p.values[i], 1e-5 * (1 + std::abs(p.values[i])));
}

TEST(AutoModel, LoadOfAFolderThatIsNotAModelNamesTheFile) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() / "empty");
  EXPECT_THAT(error_of([&] { AutoModel::load(dir.path() / "empty"); }), HasSubstr("model.json"));
  EXPECT_THAT(error_of([&] { AutoModel::load(dir.path() / "absent"); }), HasSubstr("absent"));

  train(binary_table(100, 25), "label", {"linear"}).save(dir.path() / "model");
  const auto file = dir.path() / "model" / "model.json";
  nlohmann::json j = nlohmann::json::parse(std::ifstream(file));
  ASSERT_EQ(j.at("version"), 1);

  j["version"] = 99;
  std::ofstream(file) << j.dump();
  auto e = error_of([&] { AutoModel::load(dir.path() / "model"); });
  EXPECT_THAT(e, HasSubstr(file.string()));
  EXPECT_THAT(e, HasSubstr("version 99"));

  j["version"] = 1;
  j["format"] = "something-else";
  std::ofstream(file) << j.dump();
  EXPECT_THAT(error_of([&] { AutoModel::load(dir.path() / "model"); }), HasSubstr(file.string()));

  std::ofstream(file) << "{ not json";
  EXPECT_THAT(error_of([&] { AutoModel::load(dir.path() / "model"); }), HasSubstr(file.string()));

  j["format"] = "quarry-automl";
  j["members"][0]["family"] = "no_such_family";
  std::ofstream(file) << j.dump();
  e = error_of([&] { AutoModel::load(dir.path() / "model"); });
  EXPECT_THAT(e, HasSubstr(file.string()));
  EXPECT_THAT(e, HasSubstr("no_such_family"));
}

TEST(AutoModel, ColumnsAreFoundByNameExtraOnesIgnoredMissingOnesNamed) {
  const auto table = binary_table(150, 26);
  const auto model = train(table, "label", {"linear", "knn"});
  const auto fresh = binary_table(40, 27);
  const auto p = model.predict(fresh);

  // Without the target, columns in another order, one more column: the same predictions.
  auto shuffled = without(fresh, "label");
  std::reverse(shuffled.columns.begin(), shuffled.columns.end());
  data::Column extra = shuffled.columns.front();
  extra.name = "extra";
  shuffled.columns.insert(shuffled.columns.begin() + 1, extra);
  EXPECT_EQ(model.predict(shuffled).values, p.values);
  EXPECT_EQ(model.predict_labels(shuffled), model.predict_labels(fresh));

  // A used column missing: one line naming it.
  for (const std::string column : {"x2", "color"}) {
    const auto e = error_of([&] { model.predict(without(fresh, column)); });
    EXPECT_THAT(e, HasSubstr("'" + column + "'"));
    EXPECT_EQ(e.find('\n'), std::string::npos) << e;
  }
}

TEST(AutoModel, PredictLabelsGivesClassNames) {
  const auto model = train(binary_table(200, 28), "label", {"linear"});
  const auto fresh = binary_table(100, 29);
  const auto p = model.predict(fresh);
  const auto labels = model.predict_labels(fresh);
  ASSERT_EQ(labels.size(), 100u);
  const auto& truth = fresh.find("label")->text;
  int right = 0;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const auto r = static_cast<std::int64_t>(i);
    EXPECT_EQ(labels[i], p.at(r, 1) > p.at(r, 0) ? "yes" : "no") << "row " << i;
    right += labels[i] == truth[i];
  }
  EXPECT_GT(right, 85);  // the label is nearly linear in x1, x2

  // Three classes named by words.
  auto multi = binary_table(200, 30);
  auto& label = multi.columns.back();
  const auto& x1 = multi.find("x1")->numbers;
  label.type = data::ColumnType::Categorical;  // was Boolean (yes / no)
  for (std::size_t i = 0; i < label.text.size(); ++i) {
    label.text[i] = x1[i] < -0.5 ? "low" : x1[i] < 0.5 ? "mid" : "high";
    label.numbers[i] = std::nan("");
  }
  const auto three = train(multi, "label", {"linear"});
  EXPECT_EQ(three.task(), TaskType::Multiclass);
  EXPECT_EQ(three.classes(), (std::vector<std::string>{"high", "low", "mid"}));
  const auto names = three.predict_labels(multi);
  right = 0;
  for (std::size_t i = 0; i < names.size(); ++i) right += names[i] == label.text[i];
  EXPECT_GT(right, 160);
}

}  // namespace
}  // namespace quarry::automl
