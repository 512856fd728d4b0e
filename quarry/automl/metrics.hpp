// Scores of predictions against the truth. Defaults are the AutoML Benchmark's: ROC AUC for
// binary, log loss for multiclass, RMSE for regression.
//
// Predictions are a Matrix: classification, rows x classes of probabilities (binary: 2 columns,
// the second the positive class = class index 1); regression, rows x 1 values. y holds class
// indices or values.
#pragma once

#include <string>
#include <vector>

#include "quarry/automl/matrix.hpp"
#include "quarry/automl/task.hpp"

namespace quarry::automl {

enum class Metric { RocAuc, LogLoss, Rmse, Accuracy, BalancedAccuracy, F1, Mae, R2 };

/// "roc_auc", "log_loss", "rmse", "accuracy", "balanced_accuracy", "f1", "mae", "r2".
std::string to_string(Metric metric);
/// Reads those names; throws InvalidArgument listing them for an unknown one.
Metric metric_from_string(const std::string& name);
/// True for the scores where more is better (AUC, accuracy, balanced accuracy, F1, R²).
bool greater_is_better(Metric metric);
/// True when `metric` applies to `task` (classification metrics to binary and multiclass,
/// regression ones to regression).
bool applies_to(Metric metric, TaskType task);
/// ROC AUC (binary), log loss (multiclass), RMSE (regression).
Metric default_metric(TaskType task);

/// The metric's value. Multiclass ROC AUC and F1 are macro averages (one-vs-rest); log loss clips
/// probabilities to [1e-15, 1 - 1e-15]. Throws InvalidArgument when the metric does not apply to
/// the task or the shapes disagree.
double score(Metric metric, TaskType task, const std::vector<double>& y, const Matrix& predicted);

/// score() turned so that smaller is better (the search minimises it): the value itself, or its
/// negation for greater_is_better metrics.
double loss(Metric metric, TaskType task, const std::vector<double>& y, const Matrix& predicted);

}  // namespace quarry::automl
