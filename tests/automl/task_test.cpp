// The target's task (AutoGluon's detection rules), its class encoding, and the column plan.
#include "quarry/automl/task.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "quarry/data/table.hpp"
#include "tests/test_util.hpp"

namespace quarry::automl {
namespace {

using quarry::testing::error_of;
using Strings = std::vector<std::string>;
using Role = ColumnPlan::Role;

/// A table with one column `y` holding `values` (and a feature `x`).
data::Table target_table(const std::vector<std::string>& values) {
  std::string text = "x,y\n";
  for (std::size_t i = 0; i < values.size(); ++i)
    text += std::to_string(i % 3) + "," + values[i] + "\n";
  return data::parse_table(text, "t.csv");
}

/// `n` rows cycling through the integers first, first + 1, ..., first + distinct - 1.
std::vector<std::string> integers(int n, int distinct, int first = 0) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back(std::to_string(first + i % distinct));
  return out;
}

TEST(TaskNames, RoundTripAndUnknownNames) {
  EXPECT_EQ(to_string(TaskType::Binary), "binary");
  EXPECT_EQ(to_string(TaskType::Multiclass), "multiclass");
  EXPECT_EQ(to_string(TaskType::Regression), "regression");
  EXPECT_EQ(task_from_string("auto"), std::nullopt);
  EXPECT_EQ(task_from_string("binary"), TaskType::Binary);
  EXPECT_EQ(task_from_string("multiclass"), TaskType::Multiclass);
  EXPECT_EQ(task_from_string("regression"), TaskType::Regression);
  EXPECT_EQ(error_of([] { task_from_string("classification"); }),
            "unknown task 'classification' (choices: auto, binary, multiclass, regression)");
}

TEST(DetectTarget, TwoValuesAreBinaryWhateverTheirType) {
  const Target words = detect_target(target_table({"yes", "no", "yes", "yes"}), "y");
  EXPECT_EQ(words.column, "y");
  EXPECT_EQ(words.task, TaskType::Binary);
  EXPECT_EQ(words.reason, "2 distinct values: binary");
  EXPECT_EQ(words.classes, (Strings{"no", "yes"}));
  EXPECT_EQ(words.y, (std::vector<double>{1, 0, 1, 1}));
  EXPECT_EQ(words.num_classes(), 2);
  EXPECT_EQ(words.missing, 0);

  const Target numbers = detect_target(target_table({"10", "2.5", "10"}), "y");
  EXPECT_EQ(numbers.task, TaskType::Binary);
  EXPECT_EQ(numbers.classes, (Strings{"2.5", "10"}));  // numeric order
  EXPECT_EQ(numbers.y, (std::vector<double>{1, 0, 1}));

  // Booleans: false before true, each class labelled as first written.
  const Target flags = detect_target(target_table({"Yes", "no", "yes", "NO"}), "y");
  EXPECT_EQ(flags.classes, (Strings{"no", "Yes"}));
  EXPECT_EQ(flags.y, (std::vector<double>{1, 0, 1, 0}));
}

TEST(DetectTarget, WordsWithMoreValuesAreMulticlass) {
  const Target t = detect_target(target_table({"b", "a", "c", "2", "a"}), "y");
  EXPECT_EQ(t.task, TaskType::Multiclass);
  EXPECT_EQ(t.reason, "4 distinct values, not numbers: multiclass");
  EXPECT_EQ(t.classes, (Strings{"2", "a", "b", "c"}));
  EXPECT_EQ(t.y, (std::vector<double>{2, 1, 3, 0, 1}));
}

TEST(DetectTarget, FewIntegersAreMulticlassInNumericOrder) {
  // Like the glass data set: 7 integer classes (1, 2, 3, 5, 6, 7, 10) in 214 rows.
  std::vector<std::string> values;
  const Strings labels{"10", "1", "2", "3", "5", "6", "7"};
  for (int i = 0; i < 214; ++i) values.push_back(labels[i % 7]);
  const Target t = detect_target(target_table(values), "y");
  EXPECT_EQ(t.task, TaskType::Multiclass);
  EXPECT_EQ(t.reason, "7 distinct integer values in 214 rows (3.3 %): multiclass");
  EXPECT_EQ(t.classes, (Strings{"1", "2", "3", "5", "6", "7", "10"}));
  EXPECT_EQ(t.y[0], 6);  // "10"
  EXPECT_EQ(t.y[1], 0);  // "1"
  EXPECT_EQ(t.y[6], 5);  // "7"
}

TEST(DetectTarget, TheShareOfDistinctIntegersDecides) {
  // Up to 1000 rows: at most 10 %.
  EXPECT_EQ(detect_target(target_table(integers(100, 10)), "y").task, TaskType::Multiclass);
  const Target many = detect_target(target_table(integers(100, 11)), "y");
  EXPECT_EQ(many.task, TaskType::Regression);
  EXPECT_EQ(many.reason,
            "11 distinct integer values in 100 rows (11.0 %, more than 10.0 %): regression");
  EXPECT_TRUE(many.classes.empty());
  EXPECT_EQ(many.y[10], 10);
  // More than 1000 rows: at most 5 %.
  const Target large = detect_target(target_table(integers(2000, 100, 1)), "y");
  EXPECT_EQ(large.task, TaskType::Multiclass);
  EXPECT_EQ(large.reason, "100 distinct integer values in 2000 rows (5.0 %): multiclass");
  EXPECT_EQ(large.classes.front(), "1");
  EXPECT_EQ(large.classes.back(), "100");
  EXPECT_EQ(detect_target(target_table(integers(2000, 101)), "y").task, TaskType::Regression);
  // Never more than 1000 classes, however many rows.
  const Target huge = detect_target(target_table(integers(30000, 1001)), "y");
  EXPECT_EQ(huge.task, TaskType::Regression);
  EXPECT_EQ(huge.reason, "1001 distinct integer values (more than 1000): regression");
}

TEST(DetectTarget, FractionsAreRegression) {
  const Target t = detect_target(target_table({"1", "0.5", "2", "1", "0.5"}), "y");
  EXPECT_EQ(t.task, TaskType::Regression);
  EXPECT_EQ(t.reason, "non-integer numbers: regression");
  EXPECT_EQ(t.y, (std::vector<double>{1, 0.5, 2, 1, 0.5}));
}

TEST(DetectTarget, MissingTargetsAreCountedAndNaN) {
  const Target t = detect_target(target_table({"a", "NA", "b", "", "a"}), "y");
  EXPECT_EQ(t.task, TaskType::Binary);
  EXPECT_EQ(t.missing, 2);
  ASSERT_EQ(t.y.size(), 5U);
  EXPECT_EQ(t.y[0], 0);
  EXPECT_TRUE(std::isnan(t.y[1]));
  EXPECT_EQ(t.y[2], 1);
  EXPECT_TRUE(std::isnan(t.y[3]));
  // The share counts present rows only: 10 values in 100 present rows of 150.
  std::vector<std::string> values = integers(100, 10);
  values.insert(values.end(), 50, "?");
  const Target m = detect_target(target_table(values), "y");
  EXPECT_EQ(m.missing, 50);
  EXPECT_EQ(m.reason, "10 distinct integer values in 100 rows (10.0 %): multiclass");
  EXPECT_TRUE(std::isnan(m.y.back()));
}

TEST(DetectTarget, ForcedTaskOverridesDetection) {
  const data::Table ints = target_table({"1", "0", "1"});
  const Target r = detect_target(ints, "y", TaskType::Regression);
  EXPECT_EQ(r.task, TaskType::Regression);
  EXPECT_EQ(r.reason, "regression (chosen)");
  EXPECT_TRUE(r.classes.empty());
  EXPECT_EQ(r.y, (std::vector<double>{1, 0, 1}));
  const Target m = detect_target(ints, "y", TaskType::Multiclass);
  EXPECT_EQ(m.task, TaskType::Multiclass);
  EXPECT_EQ(m.classes, (Strings{"0", "1"}));
  const Target f =
      detect_target(target_table({"0.5", "1.5", "0.5", "2"}), "y", TaskType::Multiclass);
  EXPECT_EQ(f.classes, (Strings{"0.5", "1.5", "2"}));
  EXPECT_EQ(f.y, (std::vector<double>{0, 1, 0, 2}));

  EXPECT_EQ(error_of([] {
              detect_target(target_table({"2", "NA", "big", "3"}), "y", TaskType::Regression);
            }),
            "t.csv: target column 'y' has 'big' in row 3, not a number (a regression target must "
            "be numeric)");
  EXPECT_EQ(error_of([] {
              detect_target(target_table({"yes", "no"}), "y", TaskType::Regression);
            }),
            "t.csv: target column 'y' has 'yes' in row 1, not a number (a regression target must "
            "be numeric)");
  EXPECT_EQ(error_of([] {
              detect_target(target_table({"a", "b", "c"}), "y", TaskType::Binary);
            }),
            "t.csv: target column 'y' has 3 distinct values; binary needs exactly 2");
}

TEST(DetectTarget, Errors) {
  const data::Table t = target_table({"a", "b"});
  EXPECT_EQ(error_of([&] { detect_target(t, "label"); }),
            "t.csv: no target column 'label' (columns: x, y)");
  EXPECT_EQ(error_of([] {
              detect_target(target_table({"NA", ""}), "y");
            }),
            "t.csv: target column 'y': every value is missing");
  EXPECT_EQ(error_of([] {
              detect_target(target_table({"a", "NA", "a"}), "y");
            }),
            "t.csv: target column 'y' has a single value ('a'): nothing to predict");
  EXPECT_EQ(error_of([] {
              detect_target(target_table({"3.0", "3"}), "y", TaskType::Regression);
            }),
            "t.csv: target column 'y' has a single value ('3'): nothing to predict");
}

/// The plan as "name role reason" lines, for one comparison.
Strings describe(const std::vector<ColumnPlan>& plan) {
  Strings out;
  for (const ColumnPlan& p : plan) {
    const char* role = p.role == Role::Numeric       ? "numeric"
                       : p.role == Role::Categorical ? "categorical"
                                                     : "dropped";
    out.push_back(p.name + " " + role + " " + p.reason);
  }
  return out;
}

TEST(PlanColumns, TheFixture) {
  const data::Table t = data::read_table(QUARRY_SOURCE_DIR "/tests/automl/data/small.csv");
  EXPECT_EQ(describe(plan_columns(t, "label")),
            (Strings{
                "id dropped ID-like: the integers 1..60, each once",
                "age numeric numbers",
                "color categorical text, 3 distinct values",
                "rooms categorical 4 distinct integers",
                "site dropped constant",
                "zip categorical text, 20 distinct values",
                "income numeric numbers",
            }));
  const Target y = detect_target(t, "label");
  EXPECT_EQ(y.task, TaskType::Binary);
  EXPECT_EQ(y.classes, (Strings{"no", "yes"}));
}

TEST(PlanColumns, EveryRule) {
  const data::Table t = data::parse_table(
      "gone,const,flag,code,word,small,many,gaps,holey,real,y\n"
      "NA,5,yes,a,p,1,1,1,1,0.5,0\n"
      ",5,no,b,q,2,2,3,NA,1,1\n"
      "?,NA,yes,c,p,3,3,5,3,1.5,0\n"
      ",5,no,d,q,4,4,7,4,2,1\n"
      ",5,yes,e,p,5,5,9,5,2.5,0\n"
      ",5,no,f,q,6,6,11,6,3,1\n"
      ",5,yes,g,p,7,7,13,7,3.5,0\n"
      ",5,no,h,q,8,8,15,8,4,1\n"
      ",5,yes,i,p,9,9,17,9,4.5,0\n"
      ",5,no,j,q,10,10,19,10,5,1\n"
      ",5,yes,k,p,10,11,21,11,5.5,0\n"
      ",5,no,l,q,1,12,23,12,6,1\n",
      "plan.csv");
  EXPECT_EQ(describe(plan_columns(t, "y")),
            (Strings{
                "gone dropped all missing",
                "const dropped constant",
                "flag categorical boolean",
                "code dropped ID-like: 12 distinct of 12",
                "word categorical text, 2 distinct values",
                "small categorical 10 distinct integers",
                "many dropped ID-like: the integers 1..12, each once",
                "gaps numeric numbers",
                "holey numeric numbers",
                "real numeric numbers",
            }));
  // Without the target's name every column is planned.
  EXPECT_EQ(plan_columns(t, "").size(), 11U);
}

TEST(PlanColumns, ElevenIntegersAreNumeric) {
  std::string text = "n,y\n";
  for (int i = 0; i < 30; ++i) text += std::to_string(i % 11) + "," + std::to_string(i % 2) + "\n";
  const auto plan = plan_columns(data::parse_table(text, "p.csv"), "y");
  ASSERT_EQ(plan.size(), 1U);
  EXPECT_EQ(plan[0].role, Role::Numeric);
}

}  // namespace
}  // namespace quarry::automl
