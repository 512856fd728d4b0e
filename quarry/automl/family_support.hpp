// What the built-in model families share (internal to quarry/automl): the deadline clock, checks of
// training data and fit options, reading a trial's parameters, and the standardisation that the
// linear and kNN families fit on their training rows.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "quarry/automl/estimator.hpp"
#include "quarry/automl/matrix.hpp"
#include "quarry/automl/task.hpp"
#include "quarry/space/param.hpp"
#include "quarry/space/value.hpp"

namespace quarry::automl::detail {

/// Seconds since the steady clock's epoch: the clock of FitOptions::deadline.
double steady_seconds();
/// True when `deadline` is set (> 0) and has passed.
bool deadline_passed(double deadline);

/// The number of outputs per row: the classes for classification, 1 for regression.
std::int64_t output_width(TaskType task, std::int64_t num_classes);

/// Checks what every family's fit needs and returns the number of classes (0 for regression):
/// rows and features present, one finite target per row, class indices in [0, num_classes),
/// num_classes 2 for binary and >= 2 for multiclass, budget_fraction in (0, 1], threads >= 1.
/// Throws InvalidArgument "<who>: ..." naming the rule.
std::int64_t check_fit(const std::string& who, const Matrix& x, const std::vector<double>& y,
                       TaskType task, const FitOptions& options);
/// Throws InvalidArgument when `x` has a NaN or an infinity (families that need imputed input).
void check_finite(const std::string& who, const Matrix& x);
/// Throws InvalidArgument unless `x` has `features` columns.
void check_features(const std::string& who, const Matrix& x, std::int64_t features);

/// The task a saved model records (to_string's name); InvalidArgument for anything else.
TaskType task_from_key(const std::string& key);

/// The parameters of one family's trial: every parameter of its space must be present (and no
/// other parameter named "<family>.*"); values are read by their short name ("max_leaves").
class FamilyParams {
 public:
  FamilyParams(std::string family, const std::vector<space::Param>& space,
               const space::Params& params);
  double real(const std::string& name) const;
  std::int64_t integer(const std::string& name) const;
  std::string text(const std::string& name) const;

 private:
  const Value& value(const std::string& name) const;
  std::string family_;
  space::Params params_;
};

/// Per-feature mean and scale (the population standard deviation, 1 for a constant feature),
/// fitted on training rows: z = (x - mean) / scale. A feature whose training values are all 0 or 1
/// (one-hot levels, missing indicators) keeps them: mean 0, scale 1.
struct Standardizer {
  std::vector<double> mean, scale;

  static Standardizer fit(const Matrix& x);
  double apply(std::int64_t feature, float value) const {
    const auto j = static_cast<std::size_t>(feature);
    return (static_cast<double>(value) - mean[j]) / scale[j];
  }
  /// Every value of `x` standardised (same shape).
  Matrix transform(const Matrix& x) const;

  nlohmann::json to_json() const;
  static Standardizer from_json(const nlohmann::json& j);
};

}  // namespace quarry::automl::detail
