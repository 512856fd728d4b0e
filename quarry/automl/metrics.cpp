// Metrics of predictions against the truth (metrics.hpp), computed in double and matching
// scikit-learn 1.2's definitions:
//
// - ROC AUC: the Mann-Whitney statistic with average ranks for tied scores, which equals the area
//   under the trapezoid ROC curve (roc_auc_score). Binary: column 1 scores the positive class.
//   Multiclass: the mean over classes of class-vs-rest AUC on that class's column (multi_class
//   "ovr", average "macro"); a class absent from y has no AUC and is left out of the mean (sklearn
//   refuses such data). Fewer than 2 classes present in y is an InvalidArgument.
// - Log loss: probabilities clipped to [1e-15, 1 - 1e-15], each row then divided by its sum (as
//   sklearn 1.2 does), the mean of -log p(true class).
// - Accuracy, balanced accuracy, F1 score the predicted classes. Binary: class 1 when column 1 is
//   >= 0.5 (a tie at exactly 0.5 goes to the positive class), class 0 otherwise. Multiclass: the
//   column with the largest probability, a tie going to the lowest class index (numpy's argmax).
//   Balanced accuracy: the mean recall over the classes present in y. F1: binary, of class 1 (0
//   when the positive class is neither present nor predicted); multiclass, the mean per-class F1
//   over the classes present in y or predicted (f1_score(average="macro")).
// - RMSE, MAE, R². R² of a constant truth: 1 for a perfect prediction, 0 otherwise (sklearn's
//   force_finite).
//
// Besides the shape errors of the header, y must hold class indices in [0, columns) for
// classification and finite values for regression, and predictions must be finite: each is an
// InvalidArgument naming the row.
#include "quarry/automl/metrics.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <utility>

#include "quarry/core/error.hpp"

namespace quarry::automl {

namespace {

struct MetricName {
  Metric metric;
  const char* name;
};

constexpr std::array<MetricName, 8> kNames = {{
    {Metric::RocAuc, "roc_auc"},
    {Metric::LogLoss, "log_loss"},
    {Metric::Rmse, "rmse"},
    {Metric::Accuracy, "accuracy"},
    {Metric::BalancedAccuracy, "balanced_accuracy"},
    {Metric::F1, "f1"},
    {Metric::Mae, "mae"},
    {Metric::R2, "r2"},
}};

bool is_classification(TaskType task) {
  return task != TaskType::Regression;
}

/// The task's name as task.hpp's to_string spells it (kept here so the metrics stand alone).
/// Throws unless y and `predicted` describe the same rows in the shape `task` needs, y holds class
/// indices (classification) or finite values (regression) and every prediction is finite.
void check_input(Metric metric, TaskType task, const std::vector<double>& y,
                 const Matrix& predicted) {
  const std::string who = "metric " + to_string(metric);
  if (!applies_to(metric, task))
    throw InvalidArgument(who + " does not apply to a " + to_string(task) + " task");
  if (y.empty()) throw InvalidArgument(who + ": no rows to score");
  if (predicted.rows < 0 || predicted.cols < 0 ||
      static_cast<std::int64_t>(predicted.values.size()) != predicted.rows * predicted.cols)
    throw InvalidArgument(who + ": the predictions hold " +
                          std::to_string(predicted.values.size()) + " values for " +
                          std::to_string(predicted.rows) + " x " + std::to_string(predicted.cols));
  if (predicted.rows != static_cast<std::int64_t>(y.size()))
    throw InvalidArgument(who + ": " + std::to_string(predicted.rows) + " predicted rows for " +
                          std::to_string(y.size()) + " true values");
  const bool ok_cols = task == TaskType::Binary       ? predicted.cols == 2
                       : task == TaskType::Multiclass ? predicted.cols >= 2
                                                      : predicted.cols == 1;
  if (!ok_cols)
    throw InvalidArgument(who + ": " + to_string(task) + " predictions need " +
                          (task == TaskType::Binary       ? std::string("2 columns")
                           : task == TaskType::Multiclass ? std::string("at least 2 columns")
                                                          : std::string("1 column")) +
                          ", got " + std::to_string(predicted.cols));
  for (std::size_t i = 0; i < y.size(); ++i) {
    const double v = y[i];
    if (is_classification(task)) {
      if (!(v >= 0 && v < static_cast<double>(predicted.cols)) || v != std::floor(v))
        throw InvalidArgument(who + ": y[" + std::to_string(i) + "] = " + std::to_string(v) +
                              " is not a class index in [0, " + std::to_string(predicted.cols) +
                              ")");
    } else if (!std::isfinite(v)) {
      throw InvalidArgument(who + ": y[" + std::to_string(i) + "] is not finite");
    }
  }
  for (std::size_t k = 0; k < predicted.values.size(); ++k)
    if (!std::isfinite(predicted.values[k]))
      throw InvalidArgument(who + ": the prediction for row " +
                            std::to_string(static_cast<std::int64_t>(k) / predicted.cols) +
                            " is not finite");
}

std::size_t label(double v) {
  return static_cast<std::size_t>(v);
}

/// (score, is a positive row) of one row.
using Scored = std::pair<float, bool>;

/// AUC of the positive rows against the others: (rank sum of the positives - P(P+1)/2) / (P N)
/// with average ranks for tied scores. NaN when either side is empty. Sorts `rows`.
double auc(std::vector<Scored>& rows) {
  const std::size_t n = rows.size();
  std::sort(rows.begin(), rows.end(),
            [](const Scored& a, const Scored& b) { return a.first < b.first; });
  double rank_sum = 0, positives = 0;
  for (std::size_t start = 0; start < n;) {
    std::size_t end = start + 1;
    while (end < n && rows[end].first == rows[start].first) ++end;
    // Ranks start + 1 .. end (1-based) share their average.
    const double rank = (static_cast<double>(start + 1) + static_cast<double>(end)) / 2;
    for (std::size_t k = start; k < end; ++k)
      if (rows[k].second) {
        rank_sum += rank;
        positives += 1;
      }
    start = end;
  }
  const double negatives = static_cast<double>(n) - positives;
  if (positives == 0 || negatives == 0) return std::nan("");
  return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives);
}

double roc_auc(TaskType task, const std::vector<double>& y, const Matrix& p) {
  const std::size_t n = y.size();
  std::vector<Scored> rows(n);
  const std::int64_t first = task == TaskType::Binary ? 1 : 0;
  double sum = 0;
  int counted = 0;
  for (std::int64_t c = first; c < p.cols; ++c) {
    for (std::size_t i = 0; i < n; ++i)
      rows[i] = {p.at(static_cast<std::int64_t>(i), c), label(y[i]) == static_cast<std::size_t>(c)};
    const double a = auc(rows);
    if (std::isnan(a)) continue;
    sum += a;
    ++counted;
  }
  if (counted == 0)
    throw InvalidArgument("metric roc_auc: y holds a single class; ROC AUC needs two");
  return sum / counted;
}

double log_loss(const std::vector<double>& y, const Matrix& p) {
  constexpr double kEps = 1e-15;
  double total = 0;
  std::vector<double> row(static_cast<std::size_t>(p.cols));
  for (std::size_t i = 0; i < y.size(); ++i) {
    double row_sum = 0;
    for (std::int64_t c = 0; c < p.cols; ++c) {
      const double v =
          std::clamp(static_cast<double>(p.at(static_cast<std::int64_t>(i), c)), kEps, 1 - kEps);
      row[static_cast<std::size_t>(c)] = v;
      row_sum += v;
    }
    total -= std::log(row[label(y[i])] / row_sum);
  }
  return total / static_cast<double>(y.size());
}

/// The predicted class of each row (the rules at the top of this file).
std::vector<std::size_t> predicted_classes(TaskType task, const Matrix& p) {
  std::vector<std::size_t> out(static_cast<std::size_t>(p.rows));
  for (std::int64_t i = 0; i < p.rows; ++i) {
    if (task == TaskType::Binary) {
      out[static_cast<std::size_t>(i)] = p.at(i, 1) >= 0.5f ? 1 : 0;
    } else {
      const float* row = p.row(i);
      out[static_cast<std::size_t>(i)] =
          static_cast<std::size_t>(std::max_element(row, row + p.cols) - row);
    }
  }
  return out;
}

double class_score(Metric metric, TaskType task, const std::vector<double>& y, const Matrix& p) {
  const auto predicted = predicted_classes(task, p);
  const auto k = static_cast<std::size_t>(p.cols);
  // Per class: rows of the class, rows predicted as it, rows both.
  std::vector<double> truth(k), guessed(k), hit(k);
  for (std::size_t i = 0; i < y.size(); ++i) {
    const std::size_t t = label(y[i]);
    truth[t] += 1;
    guessed[predicted[i]] += 1;
    if (predicted[i] == t) hit[t] += 1;
  }
  const double n = static_cast<double>(y.size());
  if (metric == Metric::Accuracy) return std::accumulate(hit.begin(), hit.end(), 0.0) / n;
  if (metric == Metric::BalancedAccuracy) {
    double sum = 0;
    int present = 0;
    for (std::size_t c = 0; c < k; ++c)
      if (truth[c] > 0) {
        sum += hit[c] / truth[c];
        ++present;
      }
    return sum / present;
  }
  // F1 = 2 TP / (2 TP + FP + FN) = 2 hit / (truth + guessed).
  const auto f1 = [&](std::size_t c) {
    return truth[c] + guessed[c] > 0 ? 2 * hit[c] / (truth[c] + guessed[c]) : 0.0;
  };
  if (task == TaskType::Binary) return f1(1);
  double sum = 0;
  int counted = 0;
  for (std::size_t c = 0; c < k; ++c)
    if (truth[c] + guessed[c] > 0) {
      sum += f1(c);
      ++counted;
    }
  return sum / counted;
}

double regression_score(Metric metric, const std::vector<double>& y, const Matrix& p) {
  const double n = static_cast<double>(y.size());
  double squared = 0, absolute = 0, mean = 0;
  for (std::size_t i = 0; i < y.size(); ++i) {
    const double e = y[i] - static_cast<double>(p.values[i]);
    squared += e * e;
    absolute += std::abs(e);
    mean += y[i];
  }
  if (metric == Metric::Rmse) return std::sqrt(squared / n);
  if (metric == Metric::Mae) return absolute / n;
  mean /= n;
  double total = 0;
  for (double v : y) total += (v - mean) * (v - mean);
  if (total == 0) return squared == 0 ? 1.0 : 0.0;
  return 1 - squared / total;
}

}  // namespace

std::string to_string(Metric metric) {
  for (const auto& m : kNames)
    if (m.metric == metric) return m.name;
  throw InvalidArgument("metric " + std::to_string(static_cast<int>(metric)) + " has no name");
}

Metric metric_from_string(const std::string& name) {
  std::string names;
  for (const auto& m : kNames) {
    if (name == m.name) return m.metric;
    names += (names.empty() ? "" : ", ") + std::string(m.name);
  }
  throw InvalidArgument("unknown metric '" + name + "' (metrics: " + names + ")");
}

bool greater_is_better(Metric metric) {
  switch (metric) {
    case Metric::RocAuc:
    case Metric::Accuracy:
    case Metric::BalancedAccuracy:
    case Metric::F1:
    case Metric::R2:
      return true;
    case Metric::LogLoss:
    case Metric::Rmse:
    case Metric::Mae:
      return false;
  }
  return false;
}

bool applies_to(Metric metric, TaskType task) {
  const bool regression = metric == Metric::Rmse || metric == Metric::Mae || metric == Metric::R2;
  return regression == (task == TaskType::Regression);
}

Metric default_metric(TaskType task) {
  switch (task) {
    case TaskType::Binary:
      return Metric::RocAuc;
    case TaskType::Multiclass:
      return Metric::LogLoss;
    case TaskType::Regression:
      return Metric::Rmse;
  }
  return Metric::Rmse;
}

double score(Metric metric, TaskType task, const std::vector<double>& y, const Matrix& predicted) {
  check_input(metric, task, y, predicted);
  switch (metric) {
    case Metric::RocAuc:
      return roc_auc(task, y, predicted);
    case Metric::LogLoss:
      return log_loss(y, predicted);
    case Metric::Accuracy:
    case Metric::BalancedAccuracy:
    case Metric::F1:
      return class_score(metric, task, y, predicted);
    case Metric::Rmse:
    case Metric::Mae:
    case Metric::R2:
      return regression_score(metric, y, predicted);
  }
  return std::nan("");
}

double loss(Metric metric, TaskType task, const std::vector<double>& y, const Matrix& predicted) {
  const double value = score(metric, task, y, predicted);
  return greater_is_better(metric) ? -value : value;
}

}  // namespace quarry::automl
