// Columns -> features, fitted on training rows only (inside each fold: no leakage) and saved with
// the model so that prediction applies exactly what training saw.
//
// Numeric: the value; missing -> the training median, plus an indicator feature "<col>:missing"
// when the column had at least `min_missing` missing values in training (AutoML: kMinMissingRows;
// fewer: a feature that singles out one or two rows, which a weakly regularised model memorises).
// Categorical with at most kMaxOneHotLevels levels: one-hot ("<col>=<level>", a "<col>=missing"
// level when training had at least `min_missing` missing cells; fewer: a missing cell is an
// unseen level); a column of integer codes also keeps its value as the feature "<col>" (missing ->
// the training median), so that the codes' order still reaches linear models, kNN and the MLP;
// more levels: target encoding (the smoothed mean of the target per level: the class-1 rate for
// binary, the mean for regression, one feature per class with its rate for multiclass) fitted on
// the training rows.
// A level never seen in training, or a missing cell in a column that had none: all one-hot
// features 0 / the target encoding's prior. Numbers that do not parse at prediction are missing.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "quarry/automl/matrix.hpp"
#include "quarry/automl/task.hpp"
#include "quarry/data/table.hpp"

namespace quarry::automl {

inline constexpr std::int64_t kMaxOneHotLevels = 16;
/// Missing cells a column needs in training for a missing indicator or a missing level, as
/// `quarry automl` fits them (Preprocessor::fit's default is 1: any missing cell).
inline constexpr std::int64_t kMinMissingRows = 5;

class Preprocessor {
 public:
  /// Fits on `rows` of `table` (plan: from plan_columns; y: the target, one per table row). A
  /// column gets a missing indicator / level when `min_missing` of those rows have no value.
  static Preprocessor fit(const data::Table& table, const std::vector<ColumnPlan>& plan,
                          const std::vector<double>& y, TaskType task,
                          const std::vector<std::int64_t>& rows, std::int64_t min_missing = 1);

  /// The features of `rows` of `table` (rows x feature_names().size()). Columns are found by name;
  /// a used column missing from `table` is an InvalidArgument naming it and the table's source.
  Matrix transform(const data::Table& table, const std::vector<std::int64_t>& rows) const;
  /// Every row.
  Matrix transform(const data::Table& table) const;

  const std::vector<std::string>& feature_names() const { return feature_names_; }
  /// The used source columns, in order.
  std::vector<std::string> columns() const;

  nlohmann::json to_json() const;
  static Preprocessor from_json(const nlohmann::json& j);

 private:
  struct Encoder;  // one source column's encoding (defined in preprocess.cpp)
  std::vector<std::shared_ptr<const Encoder>> encoders_;  // immutable once fitted: shared by copies
  std::vector<std::string> feature_names_;
};

}  // namespace quarry::automl
