// `quarry analyze MODEL DATA`: metrics per slice of a saved model, a baseline to compare with, and
// the thresholds gate (exit 3 when a check fails). MODEL is a `quarry automl` model folder, a
// model study's best_model.pt or a study file (a model study's retrained best on its test rows; an
// automl study's model on its test file). Networks are analysed in quarry-nn (analyze_nn.hpp).
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "quarry/analysis/analysis.hpp"
#include "quarry/analysis/gate.hpp"
#include "quarry/analysis/html.hpp"
#include "quarry/automl/mlp.hpp"
#include "quarry/automl/model.hpp"
#include "quarry/cli/analyze_nn.hpp"
#include "quarry/cli/args.hpp"
#include "quarry/cli/commands.hpp"
#include "quarry/cli/common.hpp"
#include "quarry/cli/model_study.hpp"
#include "quarry/config/study_file.hpp"
#include "quarry/core/error.hpp"
#include "quarry/report/export.hpp"

namespace quarry::cli {

namespace {

namespace fs = std::filesystem;

bool is_study_file(const std::string& path) {
  const auto ext = fs::path(path).extension().string();
  return ext == ".yaml" || ext == ".yml";
}

/// An automl model folder (or a study file with an `automl:` section) on DATA.
AnalysisInput automl_input(const std::string& model_arg, const std::optional<std::string>& data) {
  AnalysisInput in;
  fs::path dir = model_arg;
  std::optional<std::string> rows = data;
  if (is_study_file(model_arg)) {
    const auto file = config::load_study_file(model_arg);
    dir = file.directory / file.study / "model";
    in.study_file = file.path;
    if (!rows && !file.automl->test.empty()) rows = file.automl->test.string();
    if (!rows)
      throw InvalidArgument(model_arg + ": its automl section names no test file; give DATA");
  }
  if (!rows) throw CommandLineError("analyze takes a model and a data file");
  const auto model = automl::AutoModel::load(dir);
  in.table = data::read_table(*rows);
  in.predictions = analysis::predictions_of(model, in.table);
  in.model = dir.string();
  in.data = *rows;
  return in;
}

AnalysisInput input_of(const std::string& model, const std::optional<std::string>& data) {
  if (needs_trainer(model)) return nn_analysis_input(model, data);
  return automl_input(model, data);  // a model folder, or an automl study file (needs_trainer)
}

std::string fmt(double v, int digits = 4) {
  return fixed(v, digits);
}

void print_table(std::ostream& out, const analysis::Analysis& a, const analysis::Analysis* base,
                 const std::optional<analysis::Verdict>& verdict) {
  out << "model: " << a.model << "\ndata: " << a.data << " (" << a.rows << " rows, "
      << automl::to_string(a.task) << ")\n\n";
  // One row per slice; every column as wide as its widest cell.
  const auto names = analysis::metric_names(a.task);
  std::vector<std::vector<std::string>> rows{{"slice", "count"}};
  for (const auto& n : names) rows.front().push_back(n);
  for (const auto& s : a.slices) {
    rows.push_back({s.slice.name, std::to_string(s.count)});
    if (s.too_small) {
      rows.back().push_back("(too small)");
      continue;
    }
    for (const auto& n : names) {
      std::string cell = fmt(s.metrics.at(n));
      if (auto it = s.intervals.find(n); it != s.intervals.end())
        cell += " [" + fmt(it->second.low, 3) + ", " + fmt(it->second.high, 3) + "]";
      rows.back().push_back(cell);
    }
  }
  std::vector<std::size_t> width(rows.front().size());
  for (const auto& r : rows)
    for (std::size_t c = 0; c < r.size(); ++c)
      if (!(r.size() == 3 && c == 2)) width[c] = std::max(width[c], r[c].size());
  for (const auto& r : rows) {
    for (std::size_t c = 0; c < r.size(); ++c) {
      if (c == 0)
        out << pad(r[c], width[c]);
      else
        out << "  " << std::setw(static_cast<int>(width[c])) << r[c];
    }
    out << "\n";
  }
  const auto& overall = a.slices.front();
  if (base) {
    const auto& b = base->slices.front();
    out << "\nagainst the baseline " << base->model << " (overall):\n";
    for (const auto& n : names) {
      if (!b.metrics.contains(n) || !overall.metrics.contains(n)) continue;
      const double d = overall.metrics.at(n) - b.metrics.at(n);
      out << "  " << pad(n, 18) << fmt(b.metrics.at(n)) << " -> " << fmt(overall.metrics.at(n))
          << " (" << (d >= 0 ? "+" : "") << fmt(d) << ")\n";
    }
  }
  if (!overall.per_class.empty()) {
    out << "\nper class (overall):\n  " << pad("class", 14) << "precision  recall      f1  support"
        << "  most often taken for\n";
    for (std::size_t c = 0; c < overall.per_class.size(); ++c) {
      const auto& m = overall.per_class[c];
      // The class this one is most often mistaken for, from the confusion matrix's row.
      std::size_t worst = c;
      std::int64_t most = 0;
      for (std::size_t j = 0; j < overall.confusion[c].size(); ++j)
        if (j != c && overall.confusion[c][j] > most) {
          most = overall.confusion[c][j];
          worst = j;
        }
      out << "  " << pad(m.label, 14) << std::setw(9) << fmt(m.precision, 3) << std::setw(8)
          << fmt(m.recall, 3) << std::setw(8) << fmt(m.f1, 3) << std::setw(9) << m.support;
      if (worst != c)
        out << "  " << overall.per_class[worst].label << " (" << most << " of " << m.support << ")";
      out << "\n";
    }
  }
  for (const auto& t : overall.at_thresholds)
    out << "at threshold " << fmt(t.threshold, 2) << ": precision " << fmt(t.precision, 3)
        << ", recall " << fmt(t.recall, 3) << ", false positive rate "
        << fmt(t.false_positive_rate, 3) << "\n";
  if (!overall.residual_quantiles.empty()) {
    out << "\nresidual (truth - prediction) quantiles (overall):";
    for (const auto& [p, v] : overall.residual_quantiles)
      out << "  p" << std::llround(p * 100) << " " << fmt(v, 3);
    out << "\n";
  }
  for (const auto& f : a.fairness) {
    out << "\nfairness by " << f.column << " (" << f.groups.size() << " groups):\n  "
        << pad("metric", 18) << pad("best", 26) << pad("worst", 26) << "difference   ratio\n";
    for (const auto& d : f.disparities)
      out << "  " << pad(d.metric, 18) << pad(d.best_group + " " + fmt(d.best, 3), 26)
          << pad(d.worst_group + " " + fmt(d.worst, 3), 26) << std::setw(10) << fmt(d.difference)
          << std::setw(8) << fmt(d.ratio, 3) << "\n";
  }
  if (verdict) {
    out << "\ngate: " << (verdict->passed ? "PASSED" : "FAILED") << " (" << verdict->checks.size()
        << " checks, " << verdict->failed() << " failed)\n";
    for (const auto& c : verdict->checks)
      if (!c.passed) out << "  FAIL " << c.message << "\n";
  }
  out << "\nanalysed in " << fmt(a.seconds, 3) << " s\n";
}

}  // namespace

int analyze_command(int argc, char** argv) {
  Args args(argc, argv, 2, {"ci"},
            {"slice", "baseline", "thresholds", "min-count", "format", "out", "fairness", "bins",
             "threshold", "bootstrap", "seed"});
  const auto& pos = args.positionals();
  if (pos.empty() || pos.size() > 2)
    throw CommandLineError(
        "analyze takes a model (a folder, best_model.pt or study file) and "
        "optionally a data file");
  const std::string format = args.get("format").value_or("table");
  if (format != "table" && format != "json" && format != "html")
    throw CommandLineError("--format must be table, json or html, got '" + format + "'");
  // Networks need the trainer: hand the whole command over to quarry-nn. So do automl models (an
  // MLP member) when quarry-nn is there, as `quarry predict` does; an automl study file stays here
  // when it is not.
  const bool network = needs_trainer(pos[0]);
  const auto baseline_arg = args.get("baseline");
  hand_over_to_trainer(argc, argv,
                       /*required=*/network || (baseline_arg && needs_trainer(*baseline_arg)));
#ifdef QUARRY_WITH_TORCH
  automl::register_mlp_family();
#endif

  analysis::AnalysisOptions options;
  for (const auto& s : args.all("slice")) options.slices.push_back(analysis::parse_slice(s));
  for (const auto& f : args.all("fairness")) options.fairness.push_back(f);
  if (auto n = args.integer("min-count", 0)) options.min_count = *n;
  if (auto n = args.integer("bins", 1)) options.slicing.bins = static_cast<int>(*n);
  if (args.flag("ci")) options.bootstrap = 1000;
  if (auto n = args.integer("bootstrap", 0)) options.bootstrap = static_cast<int>(*n);
  if (auto n = args.integer("seed", 0)) options.seed = static_cast<std::uint64_t>(*n);
  if (!args.all("threshold").empty()) {
    options.thresholds.clear();
    for (const auto& t : args.all("threshold")) {
      std::size_t used = 0;
      double v = 0;
      try {
        v = std::stod(t, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != t.size() || !(v >= 0 && v <= 1))
        throw CommandLineError("--threshold must be a number in [0, 1], got '" + t + "'");
      options.thresholds.push_back(v);
    }
  }
  std::vector<analysis::Threshold> thresholds;
  if (auto path = args.get("thresholds")) {
    thresholds = analysis::read_thresholds(*path);
    // The slices the thresholds name are analysed too.
    for (auto& spec : analysis::slices_needed(thresholds))
      if (std::none_of(options.slices.begin(), options.slices.end(),
                       [&](const analysis::SliceSpec& s) { return s.text == spec.text; }))
        options.slices.push_back(std::move(spec));
  }

  const std::optional<std::string> data =
      pos.size() == 2 ? std::optional<std::string>(pos[1]) : std::nullopt;
  auto input = input_of(pos[0], data);
  auto analysis = analysis::analyze(input.predictions, input.table, options);
  analysis.model = input.model;
  analysis.data = input.data;

  std::optional<analysis::Analysis> baseline;
  if (baseline_arg) {
    // The baseline runs on the candidate's rows: DATA, or the automl study's test file.
    auto base_in =
        input_of(*baseline_arg, data                              ? data
                                : fs::is_regular_file(input.data) ? std::optional(input.data)
                                                                  : std::nullopt);
    if (base_in.predictions.task != input.predictions.task ||
        base_in.predictions.classes != input.predictions.classes)
      throw InvalidArgument("--baseline " + *baseline_arg + ": a " +
                            automl::to_string(base_in.predictions.task) +
                            " model with other classes than " + input.model +
                            "; a baseline must predict the same target");
    baseline = analysis::analyze(base_in.predictions, base_in.table, options);
    baseline->model = base_in.model;
    baseline->data = base_in.data;
  }
  std::optional<analysis::Verdict> verdict;
  if (!thresholds.empty())
    verdict = analysis::validate(analysis, baseline ? &*baseline : nullptr, thresholds);

  nlohmann::json report = analysis::to_json(analysis);
  if (baseline) report["baseline"] = analysis::to_json(*baseline);
  if (verdict) report["verdict"] = analysis::to_json(*verdict);

  if (verdict && input.study_file) {
    // The verdict is stored with the study it analysed: `quarry trials`/`best` leave it alone.
    const auto file = config::load_study_file(input.study_file->string());
    StudyRef ref{file, file.storage, file.study};
    auto study = open_existing(ref);
    nlohmann::json stored = analysis::to_json(*verdict);
    stored["model"] = input.model;
    stored["data"] = input.data;
    study.storage().set_attr(study.id(), "analysis.verdict", stored.dump());
  }

  write_output(args.get("out"), [&](std::ostream& out) {
    if (format == "json")
      out << report.dump(2) << "\n";
    else if (format == "html")
      out << analysis::render_html(report);
    else
      print_table(out, analysis, baseline ? &*baseline : nullptr, verdict);
  });
  if (auto path = args.get("out"); path && format != "table")
    std::cerr << "analysis of " << analysis.slices.size() << " slice(s) written to " << *path
              << (verdict ? (verdict->passed ? "; gate passed" : "; gate FAILED") : "") << "\n";
  if (verdict && !verdict->passed) {
    if (format != "table")
      for (const auto& c : verdict->checks)
        if (!c.passed) std::cerr << "FAIL " << c.message << "\n";
    return 3;
  }
  return 0;
}

}  // namespace quarry::cli
