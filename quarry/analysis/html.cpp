// `quarry analyze --format html` (see html.hpp): the report JSON drawn as one page. Every key but
// the shape of the whole is optional: a missing, null or mistyped value reads as absent (a
// section without data is left out, a number as "n/a"), so a partial report still renders.
#include "quarry/analysis/html.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <set>
#include <tuple>
#include <utility>
#include <vector>

#include "quarry/analysis/analysis.hpp"
#include "quarry/report/html.hpp"

namespace quarry::analysis {

namespace {

using nlohmann::json;
namespace r = quarry::report;

const json& null_json() {
  static const json kNull;
  return kNull;
}
const json& empty_array() {
  static const json kEmpty = json::array();
  return kEmpty;
}

/// j[key], or null when j is not an object or has no such key.
const json& at(const json& j, const char* key) {
  if (!j.is_object()) return null_json();
  auto it = j.find(key);
  return it == j.end() ? null_json() : *it;
}
/// j[i] of an array, or null.
const json& nth(const json& j, std::size_t i) {
  return j.is_array() && i < j.size() ? j[i] : null_json();
}
/// j when it is an array, else an empty one.
const json& items(const json& j) {
  return j.is_array() ? j : empty_array();
}
double number(const json& j) {
  return j.is_number() ? j.get<double>() : r::kNaN;
}
std::string text(const json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_number()) return r::format_value(j.get<double>(), 6);
  if (j.is_boolean()) return j.get<bool>() ? "true" : "false";
  return "";
}
bool truthy(const json& j) {
  return j.is_boolean() && j.get<bool>();
}

/// Metrics in display order: the analysis' own names first (analysis::metric_names), then any
/// others by name.
std::vector<std::string> known_metrics() {
  auto out = metric_names(TaskType::Binary);
  for (auto& m : metric_names(TaskType::Regression)) out.push_back(std::move(m));
  return out;
}
std::vector<std::string> metric_order(const std::vector<const json*>& analyses) {
  std::set<std::string> seen;
  for (const json* a : analyses)
    for (const auto& s : items(at(*a, "slices"))) {
      const json& m = at(s, "metrics");
      if (m.is_object())
        for (auto it = m.begin(); it != m.end(); ++it) seen.insert(it.key());
    }
  std::vector<std::string> out;
  for (const auto& name : known_metrics())
    if (seen.erase(name)) out.push_back(name);
  out.insert(out.end(), seen.begin(), seen.end());
  return out;
}

/// +1 when more is better, -1 when less is, 0 when closest to zero is (mean_residual).
int better_direction(const std::string& metric) {
  if (metric == "mean_residual") return 0;
  return higher_is_better(metric) ? 1 : -1;
}
/// "good" / "bad" / "" for a change from `baseline` to `value`.
std::string change_class(const std::string& metric, double value, double baseline) {
  if (!std::isfinite(value) || !std::isfinite(baseline) || value == baseline) return "";
  const int d = better_direction(metric);
  const bool better = d > 0   ? value > baseline
                      : d < 0 ? value < baseline
                              : std::abs(value) < std::abs(baseline);
  return better ? "good" : "bad";
}
std::string signed_value(double x) {
  if (!std::isfinite(x)) return r::format_value(x);
  return (x > 0 ? "+" : "") + r::format_value(x, 4);
}

/// The slice named `name` in an analysis, or null.
const json& slice_named(const json& analysis, const std::string& name) {
  for (const auto& s : items(at(analysis, "slices")))
    if (text(at(s, "name")) == name) return s;
  return null_json();
}
/// The overall slice: the one named "overall", else the first.
const json& overall_of(const json& analysis) {
  const json& s = slice_named(analysis, "overall");
  return s.is_null() ? nth(at(analysis, "slices"), 0) : s;
}
double metric_of(const json& slice, const std::string& metric) {
  return number(at(at(slice, "metrics"), metric.c_str()));
}
std::pair<double, double> interval_of(const json& slice, const std::string& metric) {
  const json& i = at(at(slice, "intervals"), metric.c_str());
  return {number(nth(i, 0)), number(nth(i, 1))};
}
std::int64_t count_of(const json& slice) {
  const double c = number(at(slice, "count"));
  return std::isfinite(c) ? static_cast<std::int64_t>(c) : 0;
}
std::string interval_text(std::pair<double, double> i) {
  if (!std::isfinite(i.first) || !std::isfinite(i.second)) return "";
  return "[" + r::format_value(i.first) + ", " + r::format_value(i.second) + "]";
}

std::string task_of(const json& report) {
  std::string task = text(at(report, "task"));
  if (!task.empty()) return task;
  const json& m = at(overall_of(report), "metrics");
  return m.is_object() && m.contains("rmse") ? "regression" : "";
}

// ---- The header ----------------------------------------------------------------------------

std::string header_html(const json& report, const json& baseline, const json& verdict) {
  std::vector<std::pair<std::string, std::string>> facts;
  auto add = [&](const std::string& name, const std::string& value) {
    if (!value.empty()) facts.emplace_back(name, value);
  };
  add("model", text(at(report, "model")));
  if (baseline.is_object()) add("baseline", text(at(baseline, "model")));
  add("data", text(at(report, "data")));
  add("rows", text(at(report, "rows")));
  add("task", task_of(report));
  const json& classes = items(at(report, "classes"));
  if (!classes.empty()) {
    std::string list;
    for (std::size_t i = 0; i < classes.size() && i < 12; ++i)
      list += (i ? ", " : "") + text(classes[i]);
    if (classes.size() > 12) list += ", \u2026";
    add("classes", std::to_string(classes.size()) + " (" + list + ")");
  }
  add("slices", items(at(report, "slices")).empty()
                    ? ""
                    : std::to_string(items(at(report, "slices")).size()));
  const double seconds = number(at(report, "seconds"));
  if (std::isfinite(seconds)) add("analysed in", r::format_value(seconds, 3) + " s");
  std::string out = r::facts(facts);
  if (verdict.is_object()) {
    const json& checks = items(at(verdict, "checks"));
    std::int64_t failed = 0;
    for (const auto& c : checks) failed += !truthy(at(c, "passed"));  // no answer is no pass
    const double stated = number(at(verdict, "failed"));
    if (std::isfinite(stated)) failed = std::max(failed, static_cast<std::int64_t>(stated));
    const bool passed =
        at(verdict, "passed").is_boolean() ? truthy(at(verdict, "passed")) : failed == 0;
    out += "<div class=\"verdict\">" + r::badge(passed ? "PASS" : "FAIL", passed ? "pass" : "fail");
    out += " " + r::escape(std::to_string(failed) + " of " + std::to_string(checks.size()) +
                           " checks failed");
    std::string list;
    for (const auto& c : checks)
      if (!truthy(at(c, "passed"))) {
        std::string message = text(at(c, "message"));
        if (message.empty())
          message =
              text(at(c, "metric")) + " on " + text(at(c, "slice")) + ": " + text(at(c, "rule"));
        list += "<li>" + r::escape(message) + "</li>";
      }
    if (!list.empty()) out += "<ul class=\"failed\">" + list + "</ul>";
    out += "</div>";
  }
  return out;
}

// ---- The sections --------------------------------------------------------------------------

std::string overall_html(const json& report, const json& baseline,
                         const std::vector<std::string>& metrics) {
  const json& overall = overall_of(report);
  if (overall.is_null()) return r::paragraph("The report has no slices.", "note");
  const json& base = baseline.is_object() ? overall_of(baseline) : null_json();
  bool intervals = false;
  for (const auto& m : metrics) intervals |= !interval_text(interval_of(overall, m)).empty();
  std::vector<std::string> header = {"metric", "value"};
  if (intervals) header.push_back("interval");
  if (baseline.is_object()) header.insert(header.end(), {"baseline", "change"});
  std::vector<std::vector<r::Cell>> rows;
  for (const auto& m : metrics) {
    const double v = metric_of(overall, m);
    std::vector<r::Cell> row = {r::text_cell(m), r::number_cell(v)};
    if (intervals) row.push_back(r::text_cell(interval_text(interval_of(overall, m)), "num"));
    if (baseline.is_object()) {
      const double b = metric_of(base, m);
      row.push_back(r::number_cell(b));
      row.push_back({r::escape(signed_value(v - b)), true, change_class(m, v, b)});
    }
    rows.push_back(std::move(row));
  }
  std::string caption = "Slice \u201c" + text(at(overall, "name")) + "\u201d, " +
                        std::to_string(count_of(overall)) + " rows";
  if (truthy(at(overall, "too_small"))) caption += " (too small to score)";
  if (rows.empty()) return r::paragraph(caption + ": no metrics.", "note");
  return r::table(header, rows, caption);
}

std::string slices_html(const json& report, const json& baseline,
                        const std::vector<std::string>& metrics) {
  const json& slices = items(at(report, "slices"));
  std::vector<std::string> header = {"slice", "from", "rows", ""};
  header.insert(header.end(), metrics.begin(), metrics.end());
  std::vector<std::vector<r::Cell>> rows;
  for (const auto& s : slices) {
    const bool small = truthy(at(s, "too_small"));
    std::vector<r::Cell> row = {
        r::text_cell(text(at(s, "name"))), r::text_cell(text(at(s, "spec")), "muted"),
        r::int_cell(count_of(s)),
        small ? r::html_cell(r::badge("too small", "warn")) : r::text_cell("")};
    for (const auto& m : metrics)
      row.push_back(small ? r::text_cell("", "muted") : r::number_cell(metric_of(s, m)));
    rows.push_back(std::move(row));
  }
  std::string out = r::table(header, rows);

  const json& overall = overall_of(report);
  const json& base_overall = baseline.is_object() ? overall_of(baseline) : null_json();
  std::vector<std::string> charts;
  for (const auto& m : metrics) {
    std::vector<r::Bar> bars;
    bool any = false;
    for (const auto& s : slices) {
      r::Bar b{.label = text(at(s, "name"))};
      if (truthy(at(s, "too_small"))) {
        b.note = "too small (n=" + std::to_string(count_of(s)) + ")";
      } else {
        b.value = metric_of(s, m);
        std::tie(b.low, b.high) = interval_of(s, m);
        any |= std::isfinite(b.value);
      }
      bars.push_back(std::move(b));
    }
    if (!any) continue;
    r::BarChartOptions options{.title = m + " per slice", .value_label = m, .width = 540};
    const double reference = metric_of(overall, m);
    if (std::isfinite(reference)) options.reference = reference;
    std::string caption = m;
    if (std::isfinite(reference)) caption += "; the dashed line is the overall value";
    const double base = metric_of(base_overall, m);
    if (std::isfinite(base))
      caption += "; the baseline scores " + r::format_value(base) + " overall";
    if (better_direction(m) < 0) caption += " (lower is better)";
    charts.push_back(r::figure(r::bar_chart(bars, options), caption));
  }
  if (!charts.empty()) out += "<h3>Metrics per slice</h3>" + r::grid(charts);
  return out;
}

std::vector<std::string> class_labels(const json& report, std::size_t n) {
  std::vector<std::string> labels;
  const json& classes = items(at(report, "classes"));
  for (std::size_t i = 0; i < n; ++i)
    labels.push_back(i < classes.size() ? text(classes[i]) : std::to_string(i));
  return labels;
}

std::string classes_html(const json& report) {
  const json& overall = overall_of(report);
  std::string out;
  std::vector<std::vector<r::Cell>> rows;
  for (const auto& c : items(at(overall, "per_class")))
    rows.push_back({r::text_cell(text(at(c, "label"))), r::number_cell(number(at(c, "precision"))),
                    r::number_cell(number(at(c, "recall"))), r::number_cell(number(at(c, "f1"))),
                    r::number_cell(number(at(c, "support")))});
  const json& confusion = items(at(overall, "confusion"));
  std::vector<std::vector<double>> values;
  std::size_t width = 0;
  for (const auto& row : confusion) {
    if (!row.is_array()) continue;
    std::vector<double> v;
    for (const auto& x : items(row)) v.push_back(number(x));
    width = std::max(width, v.size());
    values.push_back(std::move(v));
  }
  std::vector<std::string> parts;
  if (!rows.empty())
    parts.push_back(
        r::table({"class", "precision", "recall", "f1", "support"}, rows, "Per class, overall"));
  if (!values.empty() && width > 0) {
    const auto labels = class_labels(report, std::max(values.size(), width));
    const std::vector<std::string> truth(labels.begin(), labels.begin() + values.size());
    const std::vector<std::string> predicted(labels.begin(), labels.begin() + width);
    parts.push_back(
        r::figure(r::heat_map(truth, predicted, values,
                              {.title = "Confusion matrix",
                               .row_title = "truth",
                               .column_title = "predicted",
                               .digits = 6,
                               .diagonal_accent = true}),
                  "Confusion matrix, overall: rows are the truth, columns the prediction"));
    // The largest off-diagonal cells: what the model most often gets wrong.
    struct Mistake {
      double count;
      std::size_t truth, predicted;
    };
    std::vector<Mistake> mistakes;
    for (std::size_t t = 0; t < values.size(); ++t)
      for (std::size_t p = 0; p < values[t].size(); ++p)
        if (t != p && std::isfinite(values[t][p]) && values[t][p] > 0)
          mistakes.push_back({values[t][p], t, p});
    std::stable_sort(mistakes.begin(), mistakes.end(),
                     [](const Mistake& a, const Mistake& b) { return a.count > b.count; });
    std::string list;
    for (std::size_t i = 0; i < mistakes.size() && i < 5; ++i) {
      const auto& m = mistakes[i];
      double row_total = 0;
      for (double x : values[m.truth]) row_total += std::isfinite(x) ? x : 0;
      std::string line =
          truth[m.truth] + " taken for " + predicted[m.predicted] + ": " + r::format_value(m.count);
      if (row_total > 0) {
        char share[32];
        std::snprintf(share, sizeof share, "%.1f%%", 100 * m.count / row_total);
        line += " (" + std::string(share) + " of " + truth[m.truth] + ")";
      }
      list += "<li>" + r::escape(line) + "</li>";
    }
    if (!list.empty())
      parts.push_back("<div><h3>Most common mistakes</h3><ol>" + list + "</ol></div>");
  }
  if (parts.empty()) return "";
  return r::grid(parts);
}

/// (candidate, baseline) series of one per-slice curve of the overall slices.
std::vector<r::Series> curves(
    const json& report, const json& baseline,
    const std::function<std::vector<std::pair<double, double>>(const json& slice)>& points_of,
    const std::function<std::string(const json& slice)>& name_of) {
  std::vector<r::Series> out;
  auto add = [&](const json& analysis) {
    const json& s = overall_of(analysis);
    auto points = points_of(s);
    if (!points.empty()) out.push_back({.name = name_of(analysis), .points = std::move(points)});
  };
  add(report);
  if (baseline.is_object()) add(baseline);
  return out;
}

std::string model_name(const json& analysis, const char* fallback) {
  const std::string m = text(at(analysis, "model"));
  return m.empty() ? fallback : m;
}

std::string calibration_html(const json& report, const json& baseline) {
  auto points_of = [](const json& s) {
    std::vector<std::pair<double, double>> p;
    for (const auto& b : items(at(s, "reliability")))
      p.emplace_back(number(at(b, "confidence")), number(at(b, "accuracy")));
    return p;
  };
  auto series = curves(report, baseline, points_of, [&](const json& a) {
    const char* who = &a == &report ? "candidate" : "baseline";
    const double ece = metric_of(overall_of(a), "ece");
    std::string name = who + std::string(" ") + model_name(a, "");
    if (std::isfinite(ece)) name += " (ECE " + r::format_value(ece, 3) + ")";
    return name;
  });
  if (series.empty()) return "";
  std::string chart =
      r::line_chart(series, {.title = "Reliability diagram",
                             .x = {.label = "mean predicted confidence", .min = 0, .max = 1},
                             .y = {.label = "observed accuracy", .min = 0, .max = 1},
                             .diagonal = true});
  std::vector<std::vector<r::Cell>> rows;
  for (const auto& b : items(at(overall_of(report), "reliability")))
    rows.push_back({r::text_cell("[" + r::format_value(number(at(b, "low")), 3) + ", " +
                                     r::format_value(number(at(b, "high")), 3) + ")",
                                 "num"),
                    r::number_cell(number(at(b, "count"))),
                    r::number_cell(number(at(b, "confidence"))),
                    r::number_cell(number(at(b, "accuracy")))});
  return r::grid({r::figure(chart,
                            "Reliability diagram, overall: points on the dashed diagonal are "
                            "calibrated; below it, the model is overconfident"),
                  r::table({"confidence bin", "rows", "mean confidence", "accuracy"}, rows,
                           "Reliability bins (candidate)")});
}

std::string roc_html(const json& report, const json& baseline) {
  auto points_of = [](const json& s) {
    std::vector<std::pair<double, double>> p;
    for (const auto& pt : items(at(s, "roc")))
      p.emplace_back(number(nth(pt, 0)), number(nth(pt, 1)));
    return p;
  };
  auto series = curves(report, baseline, points_of, [&](const json& a) {
    const char* who = &a == &report ? "candidate" : "baseline";
    const double auc = metric_of(overall_of(a), "roc_auc");
    std::string name = who + std::string(" ") + model_name(a, "");
    if (std::isfinite(auc)) name += " (AUC " + r::format_value(auc, 3) + ")";
    return name;
  });
  for (auto& s : series) s.markers = s.points.size() <= 60;
  std::vector<std::string> parts;
  if (!series.empty())
    parts.push_back(
        r::figure(r::line_chart(series, {.title = "ROC curve",
                                         .x = {.label = "false positive rate", .min = 0, .max = 1},
                                         .y = {.label = "true positive rate", .min = 0, .max = 1},
                                         .diagonal = true}),
                  "ROC curve, overall; the dashed diagonal is a random guess"));
  std::vector<std::vector<r::Cell>> rows;
  for (const auto& t : items(at(overall_of(report), "thresholds")))
    rows.push_back(
        {r::number_cell(number(at(t, "threshold"))), r::number_cell(number(at(t, "accuracy"))),
         r::number_cell(number(at(t, "precision"))), r::number_cell(number(at(t, "recall"))),
         r::number_cell(number(at(t, "f1"))), r::number_cell(number(at(t, "false_positive_rate"))),
         r::number_cell(number(at(t, "true_positives"))),
         r::number_cell(number(at(t, "false_positives"))),
         r::number_cell(number(at(t, "true_negatives"))),
         r::number_cell(number(at(t, "false_negatives")))});
  if (!rows.empty())
    parts.push_back(r::table(
        {"threshold", "accuracy", "precision", "recall", "f1", "FPR", "TP", "FP", "TN", "FN"}, rows,
        "Decision thresholds, overall (positive when p \u2265 threshold)"));
  return parts.empty() ? "" : r::grid(parts);
}

std::string residuals_html(const json& report, const json& baseline) {
  auto points_of = [](const json& s) {
    std::vector<std::pair<double, double>> p;
    for (const auto& q : items(at(s, "residual_quantiles")))
      p.emplace_back(number(nth(q, 0)), number(nth(q, 1)));
    return p;
  };
  auto series = curves(report, baseline, points_of, [&](const json& a) {
    return (&a == &report ? "candidate " : "baseline ") + model_name(a, "");
  });
  if (series.empty()) return "";
  std::string chart = r::line_chart(series, {.title = "Residual quantiles",
                                             .x = {.label = "probability", .min = 0, .max = 1},
                                             .y = {.label = "residual (truth \u2212 prediction)"}});
  const json& base_q =
      baseline.is_object() ? items(at(overall_of(baseline), "residual_quantiles")) : empty_array();
  std::vector<std::vector<r::Cell>> rows;
  const json& q = items(at(overall_of(report), "residual_quantiles"));
  for (std::size_t i = 0; i < q.size(); ++i) {
    std::vector<r::Cell> row = {r::number_cell(number(nth(q[i], 0))),
                                r::number_cell(number(nth(q[i], 1)))};
    if (baseline.is_object()) row.push_back(r::number_cell(number(nth(nth(base_q, i), 1))));
    rows.push_back(std::move(row));
  }
  std::vector<std::string> header = {"probability", "residual"};
  if (baseline.is_object()) header.push_back("baseline");
  return r::grid({r::figure(chart,
                            "Residual quantiles, overall: a model without bias crosses "
                            "zero at 0.5; a narrow spread is a precise model"),
                  r::table(header, rows, "Residual quantiles")});
}

std::string fairness_html(const json& report) {
  std::string out;
  for (const auto& view : items(at(report, "fairness"))) {
    out += "<h3>" + r::escape("Column " + text(at(view, "column"))) + "</h3>";
    std::string groups;
    for (const auto& g : items(at(view, "groups")))
      groups += (groups.empty() ? "" : ", ") + text(g);
    if (!groups.empty()) out += r::paragraph("Groups compared: " + groups, "note");
    std::vector<std::vector<r::Cell>> rows;
    for (const auto& d : items(at(view, "disparities"))) {
      const double ratio = number(at(d, "ratio"));
      rows.push_back(
          {r::text_cell(text(at(d, "metric"))), r::number_cell(number(at(d, "best"))),
           r::text_cell(text(at(d, "best_group"))), r::number_cell(number(at(d, "worst"))),
           r::text_cell(text(at(d, "worst_group"))), r::number_cell(number(at(d, "difference"))),
           r::number_cell(ratio, 4, std::isfinite(ratio) && ratio < 0.8 ? "bad" : "")});
    }
    if (!rows.empty())
      out += r::table(
          {"metric", "best", "best group", "worst", "worst group", "difference", "ratio"}, rows);
    else
      out += r::paragraph("No metric could be compared (fewer than two groups).", "note");
  }
  if (!out.empty())
    out += r::paragraph(
        "Difference: |best \u2212 worst|; ratio: the smaller over the larger "
        "(1 is parity; below 0.8 is marked).",
        "note");
  return out;
}

std::string checks_html(const json& verdict) {
  std::vector<std::vector<r::Cell>> rows;
  for (const auto& c : items(at(verdict, "checks"))) {
    const bool passed = truthy(at(c, "passed"));
    rows.push_back({r::html_cell(r::badge(passed ? "PASS" : "FAIL", passed ? "pass" : "fail")),
                    r::text_cell(text(at(c, "metric"))), r::text_cell(text(at(c, "slice"))),
                    r::text_cell(text(at(c, "rule"))), r::number_cell(number(at(c, "value"))),
                    r::number_cell(number(at(c, "baseline"))),
                    r::text_cell(text(at(c, "message")))});
  }
  if (rows.empty()) return r::paragraph("The thresholds file holds no check.", "note");
  return r::table({"", "metric", "slice", "rule", "value", "baseline", "message"}, rows);
}

}  // namespace

std::string render_html(const nlohmann::json& report) {
  const json& baseline = at(report, "baseline").is_object() ? at(report, "baseline") : null_json();
  const json& verdict = at(report, "verdict").is_object() ? at(report, "verdict") : null_json();
  std::vector<const json*> analyses = {&report};
  if (baseline.is_object()) analyses.push_back(&baseline);
  const auto metrics = metric_order(analyses);
  const std::string task = task_of(report);

  std::vector<r::Section> sections;
  auto add = [&](const std::string& title, std::string html) {
    if (!html.empty()) sections.push_back({.title = title, .html = std::move(html)});
  };
  add(baseline.is_object() ? "Overall, against the baseline" : "Overall",
      overall_html(report, baseline, metrics));
  if (!items(at(report, "slices")).empty()) add("Slices", slices_html(report, baseline, metrics));
  if (task != "regression") {
    add("Classes", classes_html(report));
    add("Calibration", calibration_html(report, baseline));
    add("ROC curve and thresholds", roc_html(report, baseline));
  }
  add("Residuals", residuals_html(report, baseline));
  if (!items(at(report, "fairness")).empty()) add("Fairness", fairness_html(report));
  if (verdict.is_object()) add("Checks", checks_html(verdict));

  std::string model = text(at(report, "model"));
  return r::page(model.empty() ? "Model analysis" : "Model analysis: " + model, sections,
                 {.subtitle_html = header_html(report, baseline, verdict)});
}

}  // namespace quarry::analysis
