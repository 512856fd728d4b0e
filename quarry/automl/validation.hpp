// How candidates are validated: the same seeded folds for every trial.
//
// Rule: at most kMaxKFoldRows rows -> k-fold cross-validation (k = 5, stratified by class for
// classification); more -> one holdout split (20 % for validation, stratified). Every row is in
// exactly one validation part of k-fold, so out-of-fold predictions cover the whole training set;
// with a holdout they cover the validation part only (`scored` lists the rows).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "quarry/automl/task.hpp"

namespace quarry::automl {

inline constexpr std::int64_t kMaxKFoldRows = 10000;

struct Fold {
  std::vector<std::int64_t> train, valid;  ///< row indices (into the training rows), sorted
};

struct Validation {
  std::string method;  ///< "5-fold" or "holdout 20%"
  std::string reason;  ///< "569 rows <= 10000: stratified 5-fold cross-validation"
  std::vector<Fold> folds;
  std::vector<std::int64_t> scored;  ///< rows with an out-of-fold prediction, sorted
};

struct ValidationOptions {
  std::uint64_t seed = 0;
  int folds = 5;                  ///< k for k-fold (>= 2)
  double holdout_fraction = 0.2;  ///< for large data
  std::int64_t max_kfold_rows = kMaxKFoldRows;
};

/// Folds over y.size() rows (y: class indices or values; no NaN). Stratified for classification:
/// each fold's share of every class is within one row of the class's share. Throws InvalidArgument
/// when there are fewer rows than folds, or a class has fewer than 2 rows for a holdout.
Validation make_validation(const std::vector<double>& y, TaskType task,
                           const ValidationOptions& options = {});

}  // namespace quarry::automl
