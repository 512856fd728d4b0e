// A trained AutoML model: the preprocessing and the estimators (one, or an ensemble's members and
// their weights), saved as one folder that `quarry predict` and AutoModel::load read back.
//
//   auto model = quarry::automl::AutoModel::load("automl_out/model");
//   auto table = quarry::data::read_table("new_rows.csv");
//   auto p = model.predict(table);            // rows x classes (probabilities) or rows x 1
//   auto labels = model.predict_labels(table);  // "setosa", ... or "3.14"
//
// The folder: model.json (format, task, target, classes, metric, the preprocessor, the members
// with their family, weight and saved form) and one or more files per member (XGBoost's model,
// weights...). Columns are found by name: extra columns in the data are ignored (the target too),
// a missing used column is one line naming it.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "quarry/automl/estimator.hpp"
#include "quarry/automl/matrix.hpp"
#include "quarry/automl/metrics.hpp"
#include "quarry/automl/preprocess.hpp"
#include "quarry/automl/task.hpp"
#include "quarry/data/table.hpp"

namespace quarry::automl {

struct Member {
  std::string family;
  double weight = 1;
  space::Params params;
  std::shared_ptr<Estimator> estimator;
  double budget_fraction = 1;  ///< the share of the family's budget it was trained with
};

class AutoModel {
 public:
  AutoModel(TaskType task, std::string target, std::vector<std::string> classes, Metric metric,
            Preprocessor preprocessor, std::vector<Member> members);

  /// Reads a folder written by save(); InvalidArgument naming the folder when it is not one.
  static AutoModel load(const std::filesystem::path& dir);
  /// Writes the folder (created when absent; files of an earlier model there are replaced).
  void save(const std::filesystem::path& dir) const;

  /// Classification: rows x classes of probabilities; regression: rows x 1.
  Matrix predict(const data::Table& table) const;
  /// The predicted class label per row, or the predicted value as text.
  std::vector<std::string> predict_labels(const data::Table& table) const;
  /// The same from predict()'s output.
  std::vector<std::string> labels(const Matrix& predicted) const;
  /// predict() from features already transformed by preprocessor().
  Matrix predict_features(const Matrix& features) const;

  TaskType task() const { return task_; }
  const std::string& target() const { return target_; }
  const std::vector<std::string>& classes() const { return classes_; }
  Metric metric() const { return metric_; }
  const Preprocessor& preprocessor() const { return preprocessor_; }
  const std::vector<Member>& members() const { return members_; }
  /// "xgboost" for one member, "ensemble of 3 (xgboost 0.6, knn 0.2, linear 0.2)" for several.
  std::string describe() const;

 private:
  TaskType task_;
  std::string target_;
  std::vector<std::string> classes_;
  Metric metric_;
  Preprocessor preprocessor_;
  std::vector<Member> members_;
};

}  // namespace quarry::automl
