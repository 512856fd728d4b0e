// The page of `quarry analyze --format html` (quarry/analysis/html.hpp), rendered from report
// JSON written here by hand in the shape analysis::to_json documents (binary, multiclass and
// regression, with a baseline and a verdict): its sections, charts and tables hold the report's
// numbers, text from the data is escaped, nothing is fetched, and missing keys do not throw.
#include "quarry/analysis/html.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "tests/report/markup.hpp"

namespace quarry::analysis {
namespace {

using nlohmann::json;
using quarry::testing::markup_problem;
using quarry::testing::mentions_non_finite;
using quarry::testing::occurrences;
using ::testing::HasSubstr;
using ::testing::Not;

/// The text of the <section> whose id is `id`, or "" when the page has none.
std::string section(const std::string& html, const std::string& id) {
  const auto start = html.find("<section id=\"" + id + "\">");
  if (start == std::string::npos) return "";
  return html.substr(start, html.find("</section>", start) - start);
}

/// Checks every page: well formed, no raw NaN, nothing fetched or run.
void expect_self_contained(const std::string& html) {
  EXPECT_EQ(markup_problem(html), "");
  EXPECT_FALSE(mentions_non_finite(html));
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_THAT(html, Not(HasSubstr("http")));
  EXPECT_THAT(html, Not(HasSubstr("<script")));
  EXPECT_THAT(html, Not(HasSubstr("src=")));
  EXPECT_THAT(html, Not(HasSubstr("<link")));
  EXPECT_THAT(html, Not(HasSubstr("@import")));
}

/// A binary classifier's report: four slices (one too small, one with an undefined AUC), bootstrap
/// intervals, curves, a fairness view, a baseline and a failed verdict.
json binary_report() {
  json report = json::parse(R"j({
    "task": "binary", "classes": ["no", "yes"], "model": "models/candidate",
    "data": "test<1>.csv", "rows": 203, "seconds": 0.0421,
    "slices": [
      {"name": "overall", "spec": "", "features": [], "count": 203, "too_small": false,
       "metrics": {"accuracy": 0.85, "roc_auc": 0.91, "log_loss": 0.40, "ece": 0.031},
       "intervals": {"accuracy": [0.80, 0.89], "roc_auc": [0.87, 0.94]},
       "per_class": [{"label": "no", "precision": 0.9, "recall": 0.8, "f1": 0.847, "support": 120},
                     {"label": "yes", "precision": 0.78, "recall": 0.89, "f1": 0.83, "support": 83}],
       "confusion": [[96, 24], [9, 74]],
       "reliability": [{"low": 0.5, "high": 0.6, "confidence": 0.55, "accuracy": 0.5, "count": 30},
                       {"low": 0.6, "high": 0.8, "confidence": 0.7, "accuracy": 0.72, "count": 70},
                       {"low": 0.8, "high": 1.0, "confidence": 0.93, "accuracy": 0.95, "count": 103}],
       "roc": [[0, 0], [0.1, 0.6], [0.2, 0.89], [1, 1]],
       "thresholds": [{"threshold": 0.5, "accuracy": 0.85, "precision": 0.78, "recall": 0.89,
                       "f1": 0.83, "false_positive_rate": 0.2, "true_positives": 74,
                       "false_positives": 24, "true_negatives": 96, "false_negatives": 9},
                      {"threshold": 0.735, "accuracy": 0.86, "precision": 0.9, "recall": 0.7,
                       "f1": 0.79, "false_positive_rate": 0.05, "true_positives": 58,
                       "false_positives": 6, "true_negatives": 114, "false_negatives": 25}],
       "residual_quantiles": []},
      {"name": "sex=a<b", "spec": "sex", "features": [["sex", "a<b"]], "count": 100,
       "too_small": false, "metrics": {"accuracy": 0.61, "roc_auc": 0.7, "log_loss": 0.6, "ece": 0.05},
       "intervals": {"accuracy": [0.52, 0.7]}},
      {"name": "sex=male", "spec": "sex", "features": [["sex", "male"]], "count": 100,
       "too_small": false, "metrics": {"accuracy": 0.95, "roc_auc": null, "log_loss": 0.2, "ece": 0.02}},
      {"name": "sex=(missing)", "spec": "sex", "features": [["sex", "(missing)"]], "count": 3,
       "too_small": true, "metrics": {}}
    ],
    "fairness": [{"column": "sex", "groups": ["sex=a<b", "sex=male"],
                  "disparities": [{"metric": "accuracy", "best": 0.95, "worst": 0.61,
                                   "best_group": "sex=male", "worst_group": "sex=a<b",
                                   "difference": 0.34, "ratio": 0.642},
                                  {"metric": "roc_auc", "best": 0.7, "worst": 0.7,
                                   "best_group": "sex=a<b", "worst_group": "sex=a<b",
                                   "difference": 0, "ratio": null}]}]
})j");
  report["baseline"] = json::parse(R"j({
    "task": "binary", "classes": ["no", "yes"], "model": "models/production", "rows": 203,
    "slices": [{"name": "overall", "count": 203, "too_small": false,
                "metrics": {"accuracy": 0.80, "roc_auc": 0.93, "log_loss": 0.35, "ece": 0.04},
                "reliability": [{"low": 0.5, "high": 1, "confidence": 0.8, "accuracy": 0.7, "count": 203}],
                "roc": [[0, 0], [0.3, 0.8], [1, 1]]}]
  })j");
  report["verdict"] = json::parse(R"j({
    "passed": false, "failed": 1,
    "checks": [{"metric": "accuracy", "slice": "sex=a<b", "rule": ">= 0.8", "value": 0.61,
                "baseline": null, "passed": false,
                "message": "accuracy on sex=a<b is 0.61, below the minimum 0.8"},
               {"metric": "roc_auc", "slice": "overall", "rule": "drop <= 0.05", "value": 0.91,
                "baseline": 0.93, "passed": true, "message": "roc_auc drops 0.02, within 0.05"}]
  })j");
  return report;
}

TEST(AnalysisHtml, BinaryPageHasEverySectionAndTheReportsNumbers) {
  const std::string html = render_html(binary_report());
  expect_self_contained(html);
  for (const char* id : {"overall-against-the-baseline", "slices", "classes", "calibration",
                         "roc-curve-and-thresholds", "fairness", "checks"})
    EXPECT_THAT(html, HasSubstr("<section id=\"" + std::string(id) + "\">")) << id;
  EXPECT_EQ(section(html, "residuals"), "");  // a classifier has no residuals

  // The header: facts (escaped) and the verdict with its failed check.
  EXPECT_THAT(html, HasSubstr("<dd>models/candidate</dd>"));
  EXPECT_THAT(html, HasSubstr("<dd>models/production</dd>"));
  EXPECT_THAT(html, HasSubstr("<dd>test&lt;1&gt;.csv</dd>"));
  EXPECT_THAT(html, HasSubstr("<dd>203</dd>"));
  EXPECT_THAT(html, HasSubstr("<span class=\"badge fail\">FAIL</span> 1 of 2 checks failed"));
  EXPECT_THAT(html, HasSubstr("<li>accuracy on sex=a&lt;b is 0.61, below the minimum 0.8</li>"));
  EXPECT_THAT(html, Not(HasSubstr("a<b")));

  // Overall against the baseline: value, interval, baseline and the change, coloured by direction.
  const std::string overall = section(html, "overall-against-the-baseline");
  EXPECT_THAT(overall, HasSubstr("<th>interval</th><th>baseline</th><th>change</th>"));
  EXPECT_THAT(overall, HasSubstr("<td>accuracy</td><td class=\"num\">0.85</td><td class=\"num\">"
                                 "[0.8, 0.89]</td><td class=\"num\">0.8</td><td class=\"num "
                                 "good\">+0.05</td>"));
  EXPECT_THAT(overall, HasSubstr("<td class=\"num bad\">-0.02</td>"));    // roc_auc fell
  EXPECT_THAT(overall, HasSubstr("<td class=\"num bad\">+0.05</td>"));    // log_loss rose
  EXPECT_THAT(overall, HasSubstr("<td class=\"num good\">-0.009</td>"));  // ece fell

  // Slices: one bar chart per metric, a bar per scored slice, the too-small one named in each.
  const std::string slices = section(html, "slices");
  EXPECT_EQ(occurrences(slices, "class=\"chart bars\""), 4u);
  EXPECT_EQ(occurrences(slices, "<rect class=\"bar"), 4u * 3 - 1);  // roc_auc of sex=male: null
  EXPECT_EQ(occurrences(slices, "<tspan class=\"muted\">too small (n=3)</tspan>"), 4u);
  EXPECT_EQ(occurrences(slices, "class=\"whisker\""), 3u);  // accuracy: 2, roc_auc: 1
  EXPECT_EQ(occurrences(slices, "class=\"reference\""), 4u);
  EXPECT_THAT(slices, HasSubstr("<span class=\"badge warn\">too small</span>"));
  EXPECT_THAT(slices, HasSubstr("sex=a&lt;b"));
  EXPECT_THAT(slices, HasSubstr("the baseline scores 0.93 overall"));

  // Classes: the per-class table and the 2 x 2 confusion matrix.
  const std::string classes = section(html, "classes");
  EXPECT_THAT(classes, HasSubstr("<td>yes</td><td class=\"num\">0.78</td>"));
  EXPECT_EQ(occurrences(classes, "<rect class=\"cell"), 4u);
  EXPECT_THAT(classes, HasSubstr("no taken for yes: 24 (20.0% of no)"));

  // Curves: the candidate's and the baseline's, with the diagonal, named with their scores.
  const std::string calibration = section(html, "calibration");
  EXPECT_EQ(occurrences(calibration, "<polyline class=\"series\""), 1u);  // baseline: one point
  EXPECT_EQ(occurrences(calibration, "<circle class=\"point\""), 4u);
  EXPECT_EQ(occurrences(calibration, "class=\"diagonal\""), 1u);
  EXPECT_THAT(calibration, HasSubstr("candidate models/candidate (ECE 0.031)"));
  const std::string roc = section(html, "roc-curve-and-thresholds");
  EXPECT_EQ(occurrences(roc, "<polyline class=\"series\""), 2u);
  EXPECT_EQ(occurrences(roc, "class=\"diagonal\""), 1u);
  EXPECT_THAT(roc, HasSubstr("(AUC 0.91)"));
  EXPECT_THAT(roc, HasSubstr("(AUC 0.93)"));
  EXPECT_THAT(roc, HasSubstr("<td class=\"num\">0.735</td><td class=\"num\">0.86</td>"));
  EXPECT_THAT(roc, HasSubstr("<td class=\"num\">114</td>"));

  // Fairness: difference and ratio per metric, a low ratio marked, an undefined one "n/a".
  const std::string fairness = section(html, "fairness");
  EXPECT_THAT(fairness, HasSubstr("Column sex"));
  EXPECT_THAT(fairness, HasSubstr("<td>accuracy</td><td class=\"num\">0.95</td><td>sex=male</td>"
                                  "<td class=\"num\">0.61</td><td>sex=a&lt;b</td><td class=\"num"
                                  "\">0.34</td><td class=\"num bad\">0.642</td>"));
  EXPECT_THAT(fairness, HasSubstr("<td class=\"num muted\">n/a</td>"));

  // Checks: both, with their results.
  const std::string checks = section(html, "checks");
  EXPECT_EQ(occurrences(checks, "<span class=\"badge fail\">FAIL</span>"), 1u);
  EXPECT_EQ(occurrences(checks, "<span class=\"badge pass\">PASS</span>"), 1u);
  EXPECT_THAT(checks, HasSubstr("<td>drop &lt;= 0.05</td>"));
}

TEST(AnalysisHtml, MulticlassPageShowsTheConfusionAndTheMistakes) {
  json report = json::parse(R"j({
    "task": "multiclass", "classes": ["T-shirt", "Shirt", "Coat"], "model": "fashion", "rows": 300,
    "slices": [{"name": "overall", "count": 300, "too_small": false,
                "metrics": {"accuracy": 0.8, "balanced_accuracy": 0.79, "f1": 0.78},
                "per_class": [{"label": "T-shirt", "precision": 0.8, "recall": 0.9, "f1": 0.85, "support": 100},
                              {"label": "Shirt", "precision": 0.7, "recall": 0.55, "f1": 0.62, "support": 100},
                              {"label": "Coat", "precision": 0.9, "recall": 0.95, "f1": 0.92, "support": 100}],
                "confusion": [[90, 8, 2], [40, 55, 5], [1, 4, 95]]}]
  })j");
  report["verdict"] = json::parse(R"j({"passed": true, "failed": 0,
    "checks": [{"metric": "accuracy", "slice": "overall", "rule": ">= 0.7", "value": 0.8,
                "passed": true, "message": "accuracy on overall is 0.8, at least 0.7"}]})j");
  const std::string html = render_html(report);
  expect_self_contained(html);
  EXPECT_THAT(html, HasSubstr("<span class=\"badge pass\">PASS</span> 0 of 1 checks failed"));
  EXPECT_THAT(html, Not(HasSubstr("badge fail")));
  const std::string classes = section(html, "classes");
  EXPECT_EQ(occurrences(classes, "<rect class=\"cell"), 9u);
  EXPECT_EQ(occurrences(classes, "class=\"cell accent\""), 3u);
  EXPECT_THAT(classes, HasSubstr(">40<"));
  // The largest mistake first: shirts taken for T-shirts.
  EXPECT_THAT(classes, HasSubstr("<ol><li>Shirt taken for T-shirt: 40 (40.0% of Shirt)</li>"));
  EXPECT_EQ(occurrences(classes, "<li>"), 5u);
  EXPECT_THAT(classes, HasSubstr("<td>Shirt</td><td class=\"num\">0.7</td><td class=\"num\">"
                                 "0.55</td>"));
  EXPECT_EQ(section(html, "roc-curve-and-thresholds"), "");  // no curve in the report
  EXPECT_EQ(section(html, "calibration"), "");
  EXPECT_EQ(section(html, "overall-against-the-baseline"), "");
  EXPECT_THAT(section(html, "overall"), HasSubstr("<td>balanced_accuracy</td>"));
}

TEST(AnalysisHtml, RegressionPageShowsResidualsAgainstTheBaseline) {
  const json report = json::parse(R"j({
    "task": "regression", "model": "price", "rows": 500,
    "slices": [{"name": "overall", "count": 500, "too_small": false,
                "metrics": {"rmse": 3.5, "mae": 2.5, "r2": 0.8, "mean_residual": -0.1},
                "residual_quantiles": [[0.05, -6.0], [0.5, 0.2], [0.95, 5.5]]},
               {"name": "rooms=[1, 3)", "spec": "rooms", "count": 250, "too_small": false,
                "metrics": {
  "rmse" : 2.0, "mae" : 1.5, "r2" : -0.25, "mean_residual" : 0.3}}],
    "baseline": {
  "task" : "regression", "model" : "price-old", "slices" : [ {
    "name" : "overall",
    "count" : 500,
    "metrics" : {"rmse" : 4.0, "mae" : 2.4, "r2" : 0.75, "mean_residual" : 0.05},
    "residual_quantiles" : [ [ 0.05, -8.0 ], [ 0.5, 0.1 ], [ 0.95, 7.0 ] ]
  } ]
}
})j");
  const std::string html = render_html(report);
  expect_self_contained(html);
  const std::string residuals = section(html, "residuals");
  EXPECT_EQ(occurrences(residuals, "<polyline class=\"series\""), 2u);
  EXPECT_EQ(occurrences(residuals, "<circle class=\"point\""), 6u);
  EXPECT_THAT(residuals, HasSubstr("<td class=\"num\">0.95</td><td class=\"num\">5.5</td>"
                                   "<td class=\"num\">7</td>"));
  for (const char* absent : {"classes", "calibration", "roc-curve-and-thresholds", "checks"})
    EXPECT_EQ(section(html, absent), "") << absent;
  const std::string overall = section(html, "overall-against-the-baseline");
  EXPECT_THAT(overall, HasSubstr("<td>rmse</td><td class=\"num\">3.5</td><td class=\"num\">4</td>"
                                 "<td class=\"num good\">-0.5</td>"));  // lower is better
  EXPECT_THAT(overall, HasSubstr("<td class=\"num bad\">+0.1</td>"));   // mae rose
  EXPECT_THAT(overall, HasSubstr("<td class=\"num bad\">-0.15</td>"));  // |mean residual| grew
  const std::string slices = section(html, "slices");
  EXPECT_EQ(occurrences(slices, "class=\"chart bars\""), 4u);
  // r2 of rooms=[1, 3) and the overall mean residual grow left of zero.
  EXPECT_EQ(occurrences(slices, "class=\"bar negative\""), 2u);
  EXPECT_THAT(slices, HasSubstr("rooms=[1, 3)"));
  EXPECT_THAT(slices, HasSubstr("(lower is better)"));
}

TEST(AnalysisHtml, MissingOrMistypedKeysDoNotThrow) {
  const json cases[] = {
      json::object(),
      json(nullptr),
      json::array(),
      json::parse(R"j({"slices": [{}]})j"),
      json::parse(R"j({"task": "binary", "slices": [{"name": "overall", "metrics": null,
                      "intervals": {"accuracy": [null]}, "confusion": [[1, "x"], [null], 3],
                      "reliability": [{}], "roc": [[0.1], "y"], "thresholds": [{}],
                      "per_class": [{}]}],
                      "baseline": {"slices": 3}, "verdict": {"checks": [{}]},
                      "fairness": [{}, {"disparities": [{}]}]})j"),
      json::parse(
          R"j({"slices": [{"name": "overall", "too_small": true, "count": 2, "metrics": {}}],
                      "verdict": {"passed": false}})j"),
  };
  for (const auto& report : cases) {
    std::string html;
    ASSERT_NO_THROW(html = render_html(report)) << report.dump();
    expect_self_contained(html);
    EXPECT_THAT(html, HasSubstr("<h1>Model analysis</h1>"));
  }
  EXPECT_THAT(render_html(json::object()), HasSubstr("The report has no slices."));
  const std::string small = render_html(cases[5]);
  EXPECT_THAT(small, HasSubstr("<span class=\"badge fail\">FAIL</span>"));
  EXPECT_THAT(small, HasSubstr("2 rows (too small to score): no metrics."));
  const std::string odd = render_html(cases[4]);
  EXPECT_EQ(occurrences(section(odd, "classes"), "<rect class=\"cell"), 4u);  // 2 x 2, gaps n/a
  EXPECT_THAT(section(odd, "checks"), HasSubstr("<span class=\"badge fail\">FAIL</span>"));
}

}  // namespace
}  // namespace quarry::analysis
