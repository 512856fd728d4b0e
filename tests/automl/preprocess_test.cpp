// The Preprocessor: imputation, one-hot and target encodings fitted on training rows only,
// prediction tables matched by column name, and the JSON round trip.
#include "quarry/automl/preprocess.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "quarry/automl/task.hpp"
#include "quarry/data/table.hpp"
#include "tests/test_util.hpp"

namespace quarry::automl {
namespace {

using quarry::testing::error_of;
using ::testing::HasSubstr;
using Strings = std::vector<std::string>;
using Role = ColumnPlan::Role;
using Rows = std::vector<std::int64_t>;

const double kNaN = std::numeric_limits<double>::quiet_NaN();

Rows all_rows(std::int64_t n) {
  Rows rows;
  for (std::int64_t i = 0; i < n; ++i) rows.push_back(i);
  return rows;
}

std::vector<float> row_of(const Matrix& x, std::int64_t r) {
  return {x.row(r), x.row(r) + x.cols};
}

data::Table fixture() {
  return data::read_table(QUARRY_SOURCE_DIR "/tests/automl/data/small.csv");
}

TEST(PreprocessMissing, FewerMissingCellsThanTheMinimumGetNoIndicatorNorLevel) {
  // Two missing cells in each column: with min_missing 3 (AutoML uses kMinMissingRows), no
  // "a:missing" and no "c=missing"; a missing cell is then the median / an unseen level.
  const data::Table t = data::parse_table("a,c\n4,x\nNA,y\n1,\n10,x\nNA,\n2,y\n", "m.csv");
  const std::vector<ColumnPlan> plan{{"a", Role::Numeric, ""}, {"c", Role::Categorical, ""}};
  const std::vector<double> y(6, 0.0);
  const Preprocessor few = Preprocessor::fit(t, plan, y, TaskType::Regression, all_rows(6), 3);
  EXPECT_EQ(few.feature_names(), (Strings{"a", "c=x", "c=y"}));
  const Matrix x = few.transform(t);
  EXPECT_EQ(row_of(x, 1), (std::vector<float>{3, 0, 1}));  // median of 4, 1, 10, 2
  EXPECT_EQ(row_of(x, 2), (std::vector<float>{1, 0, 0}));  // unseen level: all zero
  const Preprocessor enough = Preprocessor::fit(t, plan, y, TaskType::Regression, all_rows(6), 2);
  EXPECT_EQ(enough.feature_names(), (Strings{"a", "a:missing", "c=x", "c=y", "c=missing"}));
  EXPECT_GE(kMinMissingRows, 2);
}

TEST(PreprocessNumeric, MedianImputationAndIndicator) {
  const data::Table t = data::parse_table("a,b\n4,1\nNA,2\n1,3\n10,4\n2,5\n", "n.csv");
  const std::vector<ColumnPlan> plan{{"a", Role::Numeric, ""}, {"b", Role::Numeric, ""}};
  const std::vector<double> y(5, 0.0);
  const Preprocessor p = Preprocessor::fit(t, plan, y, TaskType::Regression, all_rows(5));
  EXPECT_EQ(p.feature_names(), (Strings{"a", "a:missing", "b"}));
  EXPECT_EQ(p.columns(), (Strings{"a", "b"}));
  const Matrix x = p.transform(t);
  EXPECT_EQ(x.rows, 5);
  EXPECT_EQ(x.cols, 3);
  // The median of 4, 1, 10, 2 is 3 (the mean of the middle two).
  EXPECT_EQ(x.values, (std::vector<float>{4, 0, 1, 3, 1, 2, 1, 0, 3, 10, 0, 4, 2, 0, 5}));

  // Odd count: the middle value (a: 4, 1, 10 -> 4; b: 1, 3, 4 -> 3). Without a missing cell in
  // training, a missing one gets the median and no indicator; a cell that is not a number is
  // missing.
  const Preprocessor odd = Preprocessor::fit(t, plan, y, TaskType::Regression, {0, 2, 3});
  EXPECT_EQ(odd.feature_names(), (Strings{"a", "b"}));
  const data::Table later = data::parse_table("b,a\n,abc\n7,NA\n", "later.csv");
  EXPECT_EQ(odd.transform(later).values, (std::vector<float>{4, 3, 4, 7}));
}

TEST(PreprocessOneHot, LevelsMissingAndUnseen) {
  const data::Table t = data::parse_table(
      "color,n,flag\n"
      "red,10,yes\n"
      "blue,2,No\n"
      ",3,\n"
      "red,2,YES\n",
      "c.csv");
  const std::vector<ColumnPlan> plan{{"color", Role::Categorical, ""},
                                     {"n", Role::Categorical, ""},
                                     {"flag", Role::Categorical, ""}};
  const Preprocessor p = Preprocessor::fit(t, plan, {0, 1, 0, 1}, TaskType::Binary, all_rows(4));
  // Integer codes keep their value ("n") before their levels.
  EXPECT_EQ(p.feature_names(), (Strings{"color=blue", "color=red", "color=missing", "n", "n=2",
                                        "n=3", "n=10", "flag=false", "flag=true", "flag=missing"}));
  EXPECT_EQ(row_of(p.transform(t), 0), (std::vector<float>{0, 1, 0, 10, 0, 0, 1, 0, 1, 0}));
  EXPECT_EQ(row_of(p.transform(t), 2), (std::vector<float>{0, 0, 1, 3, 0, 1, 0, 0, 0, 1}));
  // Unseen levels: all zeros (an unseen code still gives its value; a missing one the training
  // median, 2.5). Numbers match by value ("3.0" is level 3), truth values in any spelling.
  const data::Table later =
      data::parse_table("flag,n,color\nno,3.0,green\nTrue,7,blue\nno,,red\n", "later.csv");
  const Matrix x = p.transform(later);
  EXPECT_EQ(row_of(x, 0), (std::vector<float>{0, 0, 0, 3, 0, 1, 0, 1, 0, 0}));
  EXPECT_EQ(row_of(x, 1), (std::vector<float>{1, 0, 0, 7, 0, 0, 0, 0, 1, 0}));
  EXPECT_EQ(row_of(x, 2), (std::vector<float>{0, 1, 0, 2.5, 0, 0, 0, 1, 0, 0}));
  // The saved form reads back to the same features.
  EXPECT_EQ(Preprocessor::from_json(p.to_json()).transform(later).values, x.values);

  // Without a missing cell in training there is no missing level: a missing cell is all zeros.
  const Preprocessor q = Preprocessor::fit(t, {plan[0]}, {0, 1, 0, 1}, TaskType::Binary, {0, 1});
  EXPECT_EQ(q.feature_names(), (Strings{"color=blue", "color=red"}));
  EXPECT_EQ(q.transform(t, {2}).values, (std::vector<float>{0, 0}));
}

TEST(PreprocessOneHot, ALevelNamedMissingKeepsItsName) {
  const data::Table t = data::parse_table("s,y\nmissing,0\n,1\nok,0\n", "m.csv");
  const Preprocessor p = Preprocessor::fit(t, {{"s", Role::Categorical, ""}}, {0, 1, 0},
                                           TaskType::Binary, all_rows(3));
  EXPECT_EQ(p.feature_names(), (Strings{"s=missing", "s=ok", "s=(missing)"}));
  EXPECT_EQ(p.transform(t).values, (std::vector<float>{1, 0, 0, 0, 0, 1, 0, 1, 0}));
}

/// A column `lvl` with level a four times, 16 levels b..q once each, two missing cells and one
/// more `a` (rows 0-3, 4-19, 20-21, 22): 17 levels, more than kMaxOneHotLevels.
data::Table levels_table() {
  std::string text = "lvl\na\na\na\na\n";
  for (char c = 'b'; c <= 'q'; ++c) text += std::string(1, c) + "\n";
  text += "NA\n\"\"\na\n";  // "" is an empty cell; a blank line would be skipped
  return data::parse_table(text, "te.csv");
}

TEST(PreprocessTargetEncoding, BinaryIsTheSmoothedClassOneRate) {
  const data::Table t = levels_table();
  // a: 1, 1, 1, 0; b..i: 0; j..q: 1; missing: 1, 1; the last a has no target (left out).
  std::vector<double> y{1, 1, 1, 0};
  for (int i = 0; i < 16; ++i) y.push_back(i < 8 ? 0 : 1);
  y.insert(y.end(), {1, 1, kNaN});
  const Preprocessor p =
      Preprocessor::fit(t, {{"lvl", Role::Categorical, ""}}, y, TaskType::Binary, all_rows(23));
  EXPECT_EQ(p.feature_names(), (Strings{"lvl:target"}));
  const Matrix x = p.transform(t);
  const double prior = 13.0 / 22;  // 22 rows with a target, 13 of class 1
  EXPECT_FLOAT_EQ(x.at(0, 0), (3 + 10 * prior) / (4 + 10));
  EXPECT_FLOAT_EQ(x.at(22, 0), (3 + 10 * prior) / (4 + 10));
  EXPECT_FLOAT_EQ(x.at(4, 0), (0 + 10 * prior) / (1 + 10));   // b
  EXPECT_FLOAT_EQ(x.at(19, 0), (1 + 10 * prior) / (1 + 10));  // q
  EXPECT_FLOAT_EQ(x.at(20, 0), (2 + 10 * prior) / (2 + 10));  // missing
  const Matrix unseen = p.transform(data::parse_table("lvl\nzz\n", "u.csv"));
  EXPECT_FLOAT_EQ(unseen.at(0, 0), prior);

  // Trained without missing cells, a missing cell gets the prior.
  const Preprocessor q =
      Preprocessor::fit(t, {{"lvl", Role::Categorical, ""}}, y, TaskType::Binary, all_rows(20));
  const double prior20 = 11.0 / 20;
  EXPECT_FLOAT_EQ(q.transform(t, {21}).at(0, 0), prior20);
  EXPECT_FLOAT_EQ(q.transform(t, {0}).at(0, 0), (3 + 10 * prior20) / 14);
}

TEST(PreprocessTargetEncoding, RegressionIsTheSmoothedMean) {
  const data::Table t = levels_table();
  std::vector<double> y{10, 20, 30, 40};
  y.insert(y.end(), 16, 2.0);
  y.insert(y.end(), {5, 7, 1000});
  const Preprocessor p =
      Preprocessor::fit(t, {{"lvl", Role::Categorical, ""}}, y, TaskType::Regression, all_rows(20));
  const double prior = 132.0 / 20;
  const Matrix x = p.transform(t);
  EXPECT_FLOAT_EQ(x.at(1, 0), (100 + 10 * prior) / 14);
  EXPECT_FLOAT_EQ(x.at(5, 0), (2 + 10 * prior) / 11);
  EXPECT_FLOAT_EQ(x.at(20, 0), prior);  // missing, none in training
}

TEST(PreprocessTargetEncoding, MulticlassHasOneRatePerClass) {
  const data::Table t = levels_table();
  // a: 0, 0, 1, 2; b..i: 1; j..q: 2.
  std::vector<double> y{0, 0, 1, 2};
  for (int i = 0; i < 16; ++i) y.push_back(i < 8 ? 1 : 2);
  y.insert(y.end(), {0, 0, 0});
  const Preprocessor p =
      Preprocessor::fit(t, {{"lvl", Role::Categorical, ""}}, y, TaskType::Multiclass, all_rows(20));
  EXPECT_EQ(p.feature_names(), (Strings{"lvl:target=0", "lvl:target=1", "lvl:target=2"}));
  const Matrix x = p.transform(t, {0, 4, 21});
  const std::vector<double> prior{2.0 / 20, 9.0 / 20, 9.0 / 20};
  const std::vector<double> a{2, 1, 1}, b{0, 1, 0};
  for (std::int64_t c = 0; c < 3; ++c) {
    const auto k = static_cast<std::size_t>(c);
    EXPECT_FLOAT_EQ(x.at(0, c), (a[k] + 10 * prior[k]) / 14) << c;
    EXPECT_FLOAT_EQ(x.at(1, c), (b[k] + 10 * prior[k]) / 11) << c;
    EXPECT_FLOAT_EQ(x.at(2, c), prior[k]) << c;
  }
}

TEST(PreprocessFit, UsesOnlyTheTrainingRows) {
  const data::Table t = fixture();
  const Target target = detect_target(t, "label");
  const auto plan = plan_columns(t, "label");
  Rows train;
  for (std::int64_t r = 0; r < t.rows(); r += 2) train.push_back(r);
  const Preprocessor p = Preprocessor::fit(t, plan, target.y, target.task, train);

  // Change every feature cell and target outside the training rows.
  data::Table other = t;
  std::vector<double> other_y = target.y;
  for (data::Column& col : other.columns)
    for (std::size_t r = 1; r < col.text.size(); r += 2) {
      col.text[r] = "other";
      col.numbers[r] = 12345.5;
      col.missing[r] = r % 4 == 1;
    }
  for (std::size_t r = 1; r < other_y.size(); r += 2) other_y[r] = 1 - other_y[r];
  const Preprocessor q = Preprocessor::fit(other, plan, other_y, target.task, train);
  EXPECT_EQ(q.to_json(), p.to_json());
  EXPECT_EQ(q.transform(t).values, p.transform(t).values);

  // A change inside them does change the fit (of the numbers, the one-hot levels, the rates).
  for (const std::size_t column : {1, 2, 5}) {
    data::Table inside = t;
    inside.columns[column].text[2] = "other";
    inside.columns[column].numbers[2] = 12345.5;
    EXPECT_NE(Preprocessor::fit(inside, plan, target.y, target.task, train).to_json(), p.to_json())
        << t.columns[column].name;
  }
}

TEST(PreprocessFit, TheFixtureEndToEnd) {
  const data::Table t = fixture();
  const Target target = detect_target(t, "label");
  const Preprocessor p =
      Preprocessor::fit(t, plan_columns(t, "label"), target.y, target.task, all_rows(t.rows()));
  EXPECT_EQ(p.feature_names(), (Strings{"age", "age:missing", "color=blue", "color=green",
                                        "color=red", "color=missing", "rooms", "rooms=1", "rooms=2",
                                        "rooms=3", "rooms=4", "zip:target", "income"}));
  EXPECT_EQ(p.columns(), (Strings{"age", "color", "rooms", "zip", "income"}));
  const Matrix x = p.transform(t);
  EXPECT_EQ(x.rows, 60);
  for (const float v : x.values) EXPECT_TRUE(std::isfinite(v));
  // Row 5 of the file (index 4) has no age; row 9 (index 8) no color.
  EXPECT_EQ(x.at(4, 1), 1.0f);
  EXPECT_EQ(x.at(3, 1), 0.0f);
  EXPECT_EQ(x.at(8, 5), 1.0f);
  EXPECT_EQ(x.at(8, 2) + x.at(8, 3) + x.at(8, 4), 0.0f);
}

TEST(PreprocessTransform, ColumnsByNameAndMissingOnes) {
  const data::Table t = fixture();
  const Target target = detect_target(t, "label");
  const Preprocessor p =
      Preprocessor::fit(t, plan_columns(t, "label"), target.y, target.task, all_rows(t.rows()));
  // Columns in another order, without the target and the dropped ones, with an extra one.
  const data::Table shuffled = data::parse_table(
      "extra,income,zip,rooms,color,age\n"
      "1,50000.5,z03,2,red,40\n"
      "2,NA,z99,9,purple,\n",
      "pred.csv");
  const Matrix x = p.transform(shuffled);
  const Matrix again = p.transform(data::parse_table(
      "age,color,rooms,zip,income\n40,red,2,z03,50000.5\n,purple,9,z99,NA\n", "same.csv"));
  EXPECT_EQ(x.values, again.values);
  EXPECT_EQ(x.at(0, 0), 40.0f);
  EXPECT_EQ(x.at(0, 4), 1.0f);   // color=red
  EXPECT_EQ(x.at(0, 6), 2.0f);   // rooms
  EXPECT_EQ(x.at(0, 8), 1.0f);   // rooms=2
  EXPECT_EQ(x.at(1, 1), 1.0f);   // age missing
  EXPECT_EQ(x.at(1, 6), 9.0f);   // rooms: 9 was never seen, yet it is a number
  EXPECT_EQ(x.at(1, 10), 0.0f);  // rooms=4
  const data::Table lacking = data::parse_table("age,rooms,zip,income\n1,2,z01,3\n", "p.csv");
  EXPECT_EQ(error_of([&] { p.transform(lacking); }),
            "p.csv: no column 'color', which the model uses (columns: age, rooms, zip, income)");
  EXPECT_EQ(error_of([&] { p.transform(shuffled, {2}); }),
            "pred.csv: row index 2 out of range (2 rows)");
}

TEST(PreprocessJson, RoundTripIsExact) {
  const data::Table t = fixture();
  for (const TaskType task : {TaskType::Binary, TaskType::Regression, TaskType::Multiclass}) {
    // The label's class index for classification, income / 1000 for regression (its exact
    // decimals exercise the doubles); income is then left out of the features.
    const Target target = detect_target(t, "label");
    std::vector<double> y = target.y;
    if (task == TaskType::Regression)
      for (std::size_t r = 0; r < y.size(); ++r) y[r] = t.find("income")->numbers[r] / 1000;
    if (task == TaskType::Multiclass)
      for (std::size_t r = 0; r < y.size(); ++r) y[r] = static_cast<double>(r % 3);
    Rows train;
    for (std::int64_t r = 0; r < t.rows(); ++r)
      if (r % 5 != 0) train.push_back(r);
    const Preprocessor p = Preprocessor::fit(t, plan_columns(t, "label"), y, task, train);
    const std::string text = p.to_json().dump();
    const Preprocessor back = Preprocessor::from_json(nlohmann::json::parse(text));
    EXPECT_EQ(back.feature_names(), p.feature_names());
    EXPECT_EQ(back.columns(), p.columns());
    EXPECT_EQ(back.to_json(), p.to_json());
    const Matrix a = p.transform(t), b = back.transform(t);
    EXPECT_EQ(a.cols, b.cols);
    EXPECT_EQ(a.values, b.values) << to_string(task);
    EXPECT_THAT(text, HasSubstr("\"target\""));  // the zip column is target-encoded
  }
}

TEST(PreprocessJson, MalformedInput) {
  EXPECT_EQ(error_of([] { Preprocessor::from_json(nlohmann::json::array()); }),
            "saved preprocessor: expected an object with \"version\": 1");
  EXPECT_EQ(error_of([] {
              Preprocessor::from_json(
                  {{"version", 1},
                   {"encoders", {{{"column", "a"}, {"kind", "magic"}, {"key", "text"}}}}});
            }),
            "saved preprocessor: column 'a': unknown kind 'magic'");
  EXPECT_THAT(error_of([] {
                Preprocessor::from_json({{"version", 1}, {"encoders", {{{"column", "a"}}}}});
              }),
              HasSubstr("saved preprocessor: "));
}

TEST(PreprocessFit, BadArguments) {
  const data::Table t = data::parse_table("a\n1\n2\n", "b.csv");
  const std::vector<ColumnPlan> plan{{"a", Role::Numeric, ""}};
  EXPECT_EQ(error_of([&] { Preprocessor::fit(t, plan, {0}, TaskType::Regression, {0}); }),
            "b.csv: the target has 1 values for 2 rows");
  EXPECT_EQ(error_of([&] {
              Preprocessor::fit(t, plan, {0, 1}, TaskType::Regression, {0, 5});
            }),
            "b.csv: row index 5 out of range (2 rows)");
  EXPECT_EQ(error_of([&] {
              Preprocessor::fit(t, {{"b", Role::Numeric, ""}}, {0, 1}, TaskType::Regression, {0});
            }),
            "b.csv: no column 'b', which the model uses (columns: a)");
  EXPECT_EQ(error_of([&] {
              Preprocessor::fit(t, plan, {0, 2}, TaskType::Binary, {0, 1});
            }),
            "b.csv: row 1 has target 2, not a class index of a binary task");
  EXPECT_EQ(error_of([&] {
              Preprocessor::fit(t, plan, {-1, 0}, TaskType::Multiclass, {0});
            }),
            "b.csv: row 0 has target -1, not a class index of a multiclass task");
  EXPECT_EQ(error_of([&] {
              Preprocessor::fit(t, plan, {0.5, 0}, TaskType::Multiclass, {0});
            }),
            "b.csv: row 0 has target 0.5, not a class index of a multiclass task");
  // Dropped columns need not exist.
  EXPECT_TRUE(
      Preprocessor::fit(t, {{"gone", Role::Dropped, "constant"}}, {0, 1}, TaskType::Regression, {0})
          .feature_names()
          .empty());
}

}  // namespace
}  // namespace quarry::automl
