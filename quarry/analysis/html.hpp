// `quarry analyze --format html`: one self-contained page (inline CSS and SVG, no script, nothing
// fetched) drawn with the page template and charts of quarry/report/html.hpp: the metrics per
// slice as bars with their intervals, the reliability diagram, the confusion matrix as a heat map,
// the ROC curve (binary), residual quantiles (regression), the fairness view, and the gate's
// checks.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace quarry::analysis {

/// `report` is the object `quarry analyze --format json` prints: analysis::to_json(Analysis)'s
/// keys, plus optionally "baseline" (the baseline model's analysis, same shape) and "verdict"
/// (to_json(Verdict)). Text from the data (slice names, class labels, paths) is escaped.
std::string render_html(const nlohmann::json& report);

}  // namespace quarry::analysis
