// Model analysis (`quarry analyze`): where a model fails. The model predicts every row once;
// slices of the rows (overall, each value of a column, quantile bins of a numeric column, crosses
// of two columns, one named value) are then scored from those predictions, in the manner of
// TensorFlow Model Analysis and fairlearn's MetricFrame.
//
//   auto model = quarry::automl::AutoModel::load("automl_out/model");
//   auto table = quarry::data::read_table("test.csv");
//   auto p = quarry::analysis::predictions_of(model, table);  // table: rows with a target
//   auto a = quarry::analysis::analyze(p, table, {.slices = {parse_slice("sex"),
//                                                            parse_slice("island,sex")},
//                                                 .fairness = {"sex"}});
//   std::cout << quarry::analysis::to_json(a).dump(2);
//
// Metric names (what a thresholds file and the JSON use): classifiers accuracy,
// balanced_accuracy, f1 (macro over classes; binary: of the positive class), precision and
// recall (same averaging), roc_auc (macro one-vs-rest for multiclass), log_loss, ece (expected
// calibration error of the top class, equal-width bins); regressors rmse, mae, r2,
// mean_residual. Per class (classifiers): precision, recall, f1, support.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "quarry/automl/matrix.hpp"
#include "quarry/automl/task.hpp"
#include "quarry/data/table.hpp"

namespace quarry::automl {
class AutoModel;
}

namespace quarry::analysis {

using automl::Matrix;
using automl::TaskType;

/// What a model predicted for each row, with the truth: the input of every analysis.
struct Predictions {
  TaskType task = TaskType::Binary;
  std::vector<std::string> classes;  ///< classifiers: class names in the columns' order
  Matrix predicted;                  ///< rows x classes of probabilities, or rows x 1 values
  std::vector<double> y;             ///< the truth: class indices, or values
};

/// A saved AutoML model's predictions on `table`, whose target column holds the truth. Rows whose
/// target is missing are left out: `table` is narrowed to the rows kept, so that it and the
/// predictions stay row for row. Throws InvalidArgument naming the file when the target column is
/// missing, holds a class the model never saw, or a used feature column is missing.
Predictions predictions_of(const automl::AutoModel& model, data::Table& table);

/// One --slice argument: "COL" (each value; a numeric column of many values: quantile bins),
/// "COL1,COL2" (their cross), "COL=VALUE" (the rows where COL is VALUE).
struct SliceSpec {
  std::vector<std::string> columns;  ///< one or two
  std::optional<std::string> value;  ///< COL=VALUE
  std::string text;                  ///< as written
};
/// Throws InvalidArgument for an empty part, more than two columns, or "A,B=V".
SliceSpec parse_slice(const std::string& text);

/// A group of rows. `features` lists (column, value or bin) pairs; empty for overall.
struct Slice {
  std::string name;  ///< "overall", "sex=female", "island=Biscoe, sex=male",
                     ///< "bill_length_mm=[39.2, 44.5)", "sex=(missing)"
  std::string spec;  ///< the SliceSpec text it came from ("" for overall)
  std::vector<std::pair<std::string, std::string>> features;
  std::vector<std::int64_t> rows;
};

struct SlicingOptions {
  int bins = 4;         ///< quantile bins of a numeric column with more than max_levels values
  int max_levels = 10;  ///< numeric columns with at most this many distinct values: by value
};
/// The overall slice first, then each spec's slices in order (values sorted; numbers by value;
/// missing last). Throws InvalidArgument naming the column (and the table's columns) when a
/// column does not exist, and naming the spec when COL=VALUE matches no row.
std::vector<Slice> make_slices(const data::Table& table, const std::vector<SliceSpec>& specs,
                               const SlicingOptions& options = {});

struct Interval {
  double low = 0, high = 0;
};

struct ClassMetrics {
  std::string label;
  double precision = 0, recall = 0, f1 = 0;
  std::int64_t support = 0;  ///< rows of this class in the slice
};

struct ReliabilityBin {
  double low = 0, high = 0;  ///< the bin of predicted confidence
  double confidence = 0;     ///< mean predicted probability of the top class in the bin
  double accuracy = 0;       ///< share of the bin's rows whose top class is right
  std::int64_t count = 0;
};

/// Binary classifiers: the positive class (class index 1) predicted when p >= threshold.
struct ThresholdMetrics {
  double threshold = 0.5;
  double accuracy = 0, precision = 0, recall = 0, f1 = 0, false_positive_rate = 0;
  std::int64_t true_positives = 0, false_positives = 0, true_negatives = 0, false_negatives = 0;
};

struct SliceResult {
  Slice slice;
  std::int64_t count = 0;
  bool too_small = false;                 ///< fewer rows than min_count: listed, no metrics
  std::map<std::string, double> metrics;  ///< by name (see the top of this file); NaN: undefined
  std::map<std::string, Interval> intervals;  ///< with bootstrap: each metric's interval
  // Classifiers:
  std::vector<ClassMetrics> per_class;
  std::vector<std::vector<std::int64_t>> confusion;  ///< [truth][predicted]
  std::vector<ReliabilityBin> reliability;           ///< non-empty bins only
  std::vector<std::pair<double, double>> roc;        ///< binary: (false, true positive rate)
  std::vector<ThresholdMetrics> at_thresholds;       ///< binary
  // Regressors: residual (truth - prediction) quantiles, by probability (0.05 ... 0.95).
  std::vector<std::pair<double, double>> residual_quantiles;
};

/// For one column: each metric's spread between the best and the worst of its groups
/// (fairlearn's MetricFrame difference() and ratio()).
struct Disparity {
  std::string metric;
  double best = 0, worst = 0;
  std::string best_group, worst_group;  ///< slice names
  double difference = 0;                ///< |best - worst|
  double ratio = 0;                     ///< min / max of the two (1 = parity); NaN if max is 0
};
struct FairnessView {
  std::string column;
  std::vector<std::string> groups;  ///< the slices compared (too-small ones left out)
  std::vector<Disparity> disparities;
};

struct AnalysisOptions {
  std::vector<SliceSpec> slices;
  SlicingOptions slicing;
  std::int64_t min_count = 1;  ///< slices with fewer rows are listed as too small
  int bootstrap = 0;           ///< resamples for confidence intervals (0: none; --ci: 1000)
  double confidence = 0.95;
  std::vector<double> thresholds = {0.5};  ///< binary decision thresholds
  int reliability_bins = 10;
  std::vector<std::string> fairness;  ///< columns to compare groups of (each also sliced)
  std::uint64_t seed = 0;             ///< the bootstrap's
};

struct Analysis {
  TaskType task = TaskType::Binary;
  std::vector<std::string> classes;
  std::string model;  ///< what was analysed (a path), for reports
  std::string data;
  std::int64_t rows = 0;
  std::vector<SliceResult> slices;  ///< overall first
  std::vector<FairnessView> fairness;
  double seconds = 0;  ///< time to slice and score
};

/// Scores every slice. Throws InvalidArgument when the predictions and the table disagree in rows,
/// or for the slice errors of make_slices.
Analysis analyze(const Predictions& predictions, const data::Table& table,
                 const AnalysisOptions& options);

/// The metric names that apply to a task, in display order.
std::vector<std::string> metric_names(TaskType task);
/// True for metrics where more is better.
bool higher_is_better(const std::string& metric);

/// {"task", "classes", "model", "data", "rows", "slices": [{"name", "spec", "features", "count",
/// "too_small", "metrics", "intervals", "per_class", "confusion", "reliability", "roc",
/// "thresholds", "residual_quantiles"}...], "fairness": [...]}; NaN as null.
nlohmann::json to_json(const Analysis& analysis);

}  // namespace quarry::analysis
