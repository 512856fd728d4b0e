// The gate of `quarry analyze --thresholds FILE.yaml`: checks that bless a model or refuse it, in
// the manner of TensorFlow Model Analysis' value and change thresholds.
//
//   thresholds:
//     - {metric: accuracy, min: 0.85}                      # overall
//     - {metric: recall, class: Shirt, min: 0.6}           # one class's recall
//     - {metric: accuracy, slice: sex, min: 0.8, min_count: 30}  # every slice of column sex
//                                                          # with at least 30 rows
//     - {metric: rmse, slice: "island=Biscoe", max: 300}
//     - {metric: auc, max_drop: 0.01}                      # against --baseline
//     - {metric: log_loss, max_increase: 0.02}
//
// Keys: metric (required; "auc" is roc_auc), min, max, max_drop (baseline - candidate may not
// exceed it), max_increase (candidate - baseline), slice (a --slice text or a slice's name; default
// overall), class (per-class precision, recall or f1), min_count (skip smaller slices).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "quarry/analysis/analysis.hpp"

namespace quarry::analysis {

struct Threshold {
  std::string metric;
  std::optional<double> min, max, max_drop, max_increase;
  std::string slice;                 ///< "" = overall
  std::optional<std::string> label;  ///< `class:` for per-class metrics
  std::int64_t min_count = 0;
  std::string where;  ///< "FILE:LINE", for messages
};

/// Reads a thresholds file. Throws InvalidArgument naming the file and line for an unknown key or
/// metric, a threshold without a bound, a `class` on a metric that has none, or malformed YAML.
std::vector<Threshold> read_thresholds(const std::filesystem::path& path);
std::vector<Threshold> parse_thresholds(const std::string& yaml, const std::string& source);

/// The slices a threshold needs (its `slice` as a spec), so the analysis computes them.
std::vector<SliceSpec> slices_needed(const std::vector<Threshold>& thresholds);

struct Check {
  std::string metric;  ///< with its class: "recall[Shirt]"
  std::string slice;   ///< the slice's name
  std::string rule;    ///< ">= 0.85", "drop <= 0.01"
  double value = 0;
  std::optional<double> baseline;
  bool passed = false;
  std::string message;  ///< one line: "accuracy on sex=female is 0.81, below the minimum 0.85"
};

struct Verdict {
  bool passed = true;
  std::vector<Check> checks;
  std::int64_t failed() const;
};

/// Every threshold against the candidate (and the baseline for change thresholds, on the slice of
/// the same name). A check on a metric that is undefined on a slice fails (NaN is not a pass).
/// Throws InvalidArgument for a change threshold without a baseline, or a slice no analysis has.
Verdict validate(const Analysis& candidate, const Analysis* baseline,
                 const std::vector<Threshold>& thresholds);

/// {"passed", "failed", "checks": [{"metric", "slice", "rule", "value", "baseline", "passed",
/// "message"}...]}
nlohmann::json to_json(const Verdict& verdict);

}  // namespace quarry::analysis
