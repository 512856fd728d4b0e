// What an AutoML run predicts: the task type, the encoded target, and why that task was chosen.
//
// Detection (TaskType::Auto), after AutoGluon's documented rules (infer_problem_type): a target
// with 2 distinct values is binary; a non-numeric (or boolean) one with more is multiclass; a
// numeric one is multiclass when every value is an integer, it has at most 1000 distinct values
// and few relative to the rows (distinct / rows <= 0.05 with more than 1000 rows, <= 0.1 with
// fewer), regression otherwise. The reason reads "2 distinct values: binary".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "quarry/data/table.hpp"

namespace quarry::automl {

enum class TaskType { Binary, Multiclass, Regression };
std::string to_string(TaskType type);  ///< "binary", "multiclass", "regression"
/// "auto" -> nullopt; throws InvalidArgument naming the choices for anything else unknown.
std::optional<TaskType> task_from_string(const std::string& name);

struct Target {
  std::string column;
  TaskType task = TaskType::Regression;
  std::string reason;  ///< "2 distinct values: binary"
  /// Class labels in class-index order (sorted: numerically when all are numbers); empty for
  /// regression.
  std::vector<std::string> classes;
  /// One per row of the table: the class index, or the value; NaN where the target is missing.
  std::vector<double> y;
  std::int64_t missing = 0;  ///< rows whose target is missing (left out of training)

  std::int64_t num_classes() const { return static_cast<std::int64_t>(classes.size()); }
};

/// Reads `column` of `table` as the target. `forced` overrides detection (a regression target must
/// be numeric). Throws InvalidArgument of one line naming the file and column: no such column (the
/// message lists those that exist), every value missing, a single class.
Target detect_target(const data::Table& table, const std::string& column,
                     std::optional<TaskType> forced = std::nullopt);

/// A table's target column in a trained model's encoding: class indices (a label matches its class
/// by text, or by number: "1.0" is class "1") or values. Rows whose target is missing are left
/// out; `rows` lists the rows kept.
struct EncodedTarget {
  std::vector<double> y;
  std::vector<std::int64_t> rows;
};
/// Throws InvalidArgument of one line naming the file and row: no such column, a class the
/// model was not trained on, a regression target that is not a number, every value missing.
EncodedTarget encode_target(const data::Table& table, const std::string& column, TaskType task,
                            const std::vector<std::string>& classes);

inline constexpr std::int64_t kMaxIntegerCategories = 10;

/// What happens to each feature column.
struct ColumnPlan {
  enum class Role { Numeric, Categorical, Dropped };
  std::string name;
  Role role = Role::Numeric;
  std::string reason;  ///< why (always for Dropped): "constant", "ID-like: 569 distinct of 569"
};

/// The plan for every column but the target: constant (one distinct present value) and ID-like
/// columns (a categorical with a distinct value in every row; an integer column that is a
/// permutation of a run of consecutive integers) are dropped; strings, booleans and integer
/// columns with at most kMaxIntegerCategories distinct values are Categorical; other numbers are
/// Numeric.
std::vector<ColumnPlan> plan_columns(const data::Table& table, const std::string& target);

}  // namespace quarry::automl
