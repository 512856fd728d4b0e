// Model families for tabular AutoML and the estimators they make.
//
// A Family owns its conditional search space (parameters named "<family>.<name>", active when
// the choice parameter "family" takes its name), a cheap starting configuration (FLAML's low-cost
// initial point: the search tries it first), a factory and a loader. The registry holds the
// built-in families (xgboost, random_forest, linear, knn); the LibTorch MLP registers itself
// where the trainer is linked (register_family).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "quarry/automl/matrix.hpp"
#include "quarry/automl/task.hpp"
#include "quarry/space/param.hpp"
#include "quarry/space/value.hpp"

namespace quarry::automl {

struct FitOptions {
  std::int64_t num_classes = 0;  ///< 0 for regression
  std::uint64_t seed = 0;
  int threads = 1;
  /// The share of the family's full budget (boosting rounds, epochs) to use, in (0, 1]: successive
  /// halving trains candidates at a fraction first.
  double budget_fraction = 1.0;
  /// Seconds from the steady clock's epoch after which fit must stop early and keep what it has
  /// (0: none). Families check it between rounds / epochs / passes.
  double deadline = 0;
};

class Estimator {
 public:
  virtual ~Estimator() = default;
  /// Trains on x (rows x features; NaN = missing, only XGBoost sees any) and y (class indices or
  /// values). Throws InvalidArgument for unusable input; quarry::Error for a model that diverged.
  virtual void fit(const Matrix& x, const std::vector<double>& y, const FitOptions& options) = 0;
  /// Classification: rows x classes of probabilities; regression: rows x 1.
  virtual Matrix predict(const Matrix& x) const = 0;
  /// Writes what predict needs under `dir` (files named from `stem`) and returns a JSON object that
  /// the family's `load` reads back (with `dir`).
  virtual nlohmann::json save(const std::filesystem::path& dir, const std::string& stem) const = 0;
};

struct Family {
  std::string name;         ///< "xgboost"
  std::string description;  ///< "gradient-boosted trees (XGBoost)"
  /// The family's own parameters, named "<name>.<param>", without the family condition.
  std::vector<space::Param> params;
  /// Values of those parameters for the cheap first try (FLAML's low-cost init).
  space::Params cheap;
  /// Configurations that do well on most tables (a portfolio, as AutoGluon's presets), tried at
  /// the whole budget once every family's cheap try is queued. Each names only what differs from
  /// `cheap`.
  std::vector<space::Params> portfolio;
  /// A model for the parameters of one trial (only this family's, with their full names).
  std::function<std::unique_ptr<Estimator>(const space::Params& params, TaskType task)> make;
  /// A saved model back (the JSON its save returned, the folder it wrote to).
  std::function<std::unique_ptr<Estimator>(const nlohmann::json& saved,
                                           const std::filesystem::path& dir)>
      load;
  /// True when budget_fraction changes the work (rounds or epochs): successive halving applies.
  bool has_budget = false;
  bool classification = true, regression = true;  ///< the tasks it can do
};

/// Adds (or replaces) a family in the registry.
void register_family(Family family);
/// The registered families, built-in ones first.
const std::vector<Family>& families();
/// The family named `name`; throws InvalidArgument listing the registered ones otherwise.
const Family& family(const std::string& name);

}  // namespace quarry::automl
