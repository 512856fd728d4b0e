// `quarry automl` (tabular AutoML from a CSV file) and `quarry predict` (a saved model on new
// rows).
#include <algorithm>
#include <cmath>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "quarry/automl/automl.hpp"
#include "quarry/automl/model.hpp"
#include "quarry/cli/args.hpp"
#include "quarry/cli/commands.hpp"
#include "quarry/cli/common.hpp"
#include "quarry/cli/model_study.hpp"
#include "quarry/core/error.hpp"
#include "quarry/report/export.hpp"

#ifdef QUARRY_WITH_TORCH
#include "quarry/automl/mlp.hpp"
#endif

namespace quarry::cli {
namespace {

// The test file must have the training file's columns (any order).
void check_same_columns(const data::Table& train, const data::Table& test) {
  std::string missing, extra;
  for (const auto& c : train.columns)
    if (!test.find(c.name)) missing += (missing.empty() ? "'" : ", '") + c.name + "'";
  for (const auto& c : test.columns)
    if (!train.find(c.name)) extra += (extra.empty() ? "'" : ", '") + c.name + "'";
  if (missing.empty() && extra.empty()) return;
  std::string what = test.source + ": its columns differ from " + train.source + "'s:";
  if (!missing.empty()) what += " missing " + missing;
  if (!extra.empty()) what += (missing.empty() ? " extra " : "; extra ") + extra;
  throw InvalidArgument(what);
}

nlohmann::json row_json(const automl::LeaderboardRow& r) {
  return {{"model", r.model},
          {"family", r.family},
          {"trial", r.trial},
          {"validation_score",
           std::isnan(r.validation_score) ? nlohmann::json() : nlohmann::json(r.validation_score)},
          {"fit_time", r.fit_time},
          {"predict_time_per_row", r.predict_time_per_row},
          {"budget_fraction", r.budget_fraction}};
}

// A CSV field, quoted when it holds a comma, a quote or a line break.
std::string csv_cell(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

int run_automl(automl::AutoMLOptions options, const std::string& train_path,
               const std::optional<std::string>& test_path, bool json, bool quiet) {
  std::ostream& log = json ? std::cerr : std::cout;
  const auto train = data::read_table(train_path);
  // What fit() will decide, said (and the test file checked against) before the search starts.
  const auto t = automl::detect_target(train, options.target, options.task);
  std::optional<data::Table> test;
  if (const auto& path = test_path) {
    test = data::read_table(*path);
    check_same_columns(train, *test);
    automl::encode_target(*test, options.target, t.task, t.classes);
  }
  const auto& stop = install_interrupt_handlers();
  options.stop = &stop;

  if (!quiet) {
    log << "data: " << train.source << ": " << train.rows() << " rows, " << train.columns.size()
        << " columns" << std::endl;
  }
  const auto on_progress = [&](const automl::Progress& p) {
    if (quiet) return;
    log << "  [" << std::setw(6) << fixed(p.elapsed, 1) << " s] " << pad(p.row.model, 20);
    if (std::isnan(p.row.validation_score))
      log << "failed: " << p.failure.substr(0, p.failure.find('\n'));
    else
      log << fixed(p.row.validation_score, 4) << "   best " << fixed(p.best.validation_score, 4)
          << " (" << p.best.model << ")";
    log << std::endl;
  };
  // Say what was decided before the search starts: the first progress line comes after.
  {
    const auto plan = automl::plan_columns(train, options.target);
    if (!quiet) {
      log << "task: " << automl::to_string(t.task) << " (" << t.reason << "), target '"
          << options.target << "'";
      if (t.missing) log << ", " << t.missing << " rows without a target left out";
      log << "\n";
      std::size_t numeric = 0, categorical = 0;
      std::string dropped;
      for (const auto& c : plan) {
        if (c.role == automl::ColumnPlan::Role::Numeric) ++numeric;
        if (c.role == automl::ColumnPlan::Role::Categorical) ++categorical;
        if (c.role == automl::ColumnPlan::Role::Dropped)
          dropped += (dropped.empty() ? "" : ", ") + c.name + " (" + c.reason + ")";
      }
      log << "columns: " << numeric + categorical << " used (" << numeric << " numeric, "
          << categorical << " categorical)";
      if (!dropped.empty()) log << "; dropped: " << dropped;
      log << "\n";
      const auto metric = options.metric.value_or(automl::default_metric(t.task));
      log << "metric: " << automl::to_string(metric)
          << (automl::greater_is_better(metric) ? " (higher is better)" : " (lower is better)")
          << "\nsearching for " << options.time_budget << " s with " << options.workers
          << " worker(s); results in " << options.out.string() << std::endl;
    }
  }
  const auto result = automl::fit(train, options, on_progress);
  const auto model = automl::AutoModel::load(result.model_dir);

  std::optional<double> test_score;
  std::string test_error;
  if (test) {
    const auto tt = automl::encode_target(*test, model.target(), model.task(), model.classes());
    const auto p = model.predict(test->take(tt.rows));
    try {
      test_score = automl::score(result.metric, model.task(), tt.y, p);
    } catch (const InvalidArgument& e) {  // e.g. ROC AUC of a test file with one class
      test_error = e.what();
    }
  }

  const std::string metric = automl::to_string(result.metric);
  if (json) {
    nlohmann::json board = nlohmann::json::array();
    for (const auto& r : result.leaderboard) board.push_back(row_json(r));
    nlohmann::json used = nlohmann::json::array(), dropped = nlohmann::json::array();
    for (const auto& c : result.columns) {
      if (c.role == automl::ColumnPlan::Role::Dropped)
        dropped.push_back({{"column", c.name}, {"reason", c.reason}});
      else
        used.push_back(
            {{"column", c.name},
             {"type", c.role == automl::ColumnPlan::Role::Numeric ? "numeric" : "categorical"}});
    }
    nlohmann::json weights = nlohmann::json::array();
    for (std::size_t i = 0; i < result.ensemble.weights.size(); ++i)
      if (result.ensemble.weights[i] > 0)
        weights.push_back(
            {{"trial", result.ensemble_trials[i]}, {"weight", result.ensemble.weights[i]}});
    nlohmann::json importance = nlohmann::json::array();
    for (const auto& [c, v] : result.importance)
      importance.push_back({{"column", c}, {"importance", v}});
    nlohmann::json out = {{"task", automl::to_string(result.target.task)},
                          {"task_reason", result.target.reason},
                          {"target", options.target},
                          {"classes", result.target.classes},
                          {"metric", metric},
                          {"greater_is_better", automl::greater_is_better(result.metric)},
                          {"validation", result.validation},
                          {"validation_score", std::isnan(result.validation_score)
                                                   ? nlohmann::json()
                                                   : nlohmann::json(result.validation_score)},
                          {"winner", result.winner},
                          {"model", model.describe()},
                          {"leaderboard", board},
                          {"ensemble",
                           {{"validation_score", result.ensemble.score},
                            {"best_single_validation_score", result.best_single_validation_score},
                            {"weights", weights}}},
                          {"columns", {{"used", used}, {"dropped", dropped}}},
                          {"importance", importance},
                          {"trials", result.trials},
                          {"failed", result.failed},
                          {"model_dir", result.model_dir.string()},
                          {"elapsed", result.elapsed},
                          {"time_budget", options.time_budget}};
    if (test) out["test_score"] = test_score ? nlohmann::json(*test_score) : nlohmann::json();
    if (!test_error.empty()) out["test_error"] = test_error;
    if (!result.refit_errors.empty()) out["refit_errors"] = result.refit_errors;
    if (result.ensemble.weights.empty()) {
      out["ensemble"]["validation_score"] = nullptr;
      out["ensemble"]["best_single_validation_score"] = nullptr;
    }
    std::cout << out.dump(2) << std::endl;
  } else {
    std::cout << "\nleaderboard (" << metric << " on " << result.validation << "):\n";
    std::cout << "  " << pad("model", 22) << pad("validation", 12) << pad("budget", 8)
              << pad("fit s", 10) << "predict ms/row\n";
    const std::size_t shown = std::min<std::size_t>(10, result.leaderboard.size());
    for (std::size_t i = 0; i < shown; ++i) {
      const auto& r = result.leaderboard[i];
      std::cout << "  " << pad(r.model, 22) << pad(fixed(r.validation_score, 4), 12)
                << pad(r.family == "ensemble" ? "-" : fixed(r.budget_fraction, 2), 8)
                << pad(fixed(r.fit_time, 2), 10) << fixed(r.predict_time_per_row * 1e3, 4) << "\n";
    }
    if (result.leaderboard.size() > shown)
      std::cout << "  ... " << result.leaderboard.size() - shown << " more (--format json)\n";
    std::cout << "trials: " << result.trials << " (" << result.failed << " failed)\n";
    if (!result.importance.empty()) {
      std::cout << "importance (" << metric << " loss increase when shuffled):";
      for (std::size_t i = 0; i < result.importance.size() && i < 8; ++i)
        std::cout << (i ? ", " : " ") << result.importance[i].first << " "
                  << fixed(result.importance[i].second, 4);
      std::cout << "\n";
    }
    for (const auto& e : result.refit_errors) std::cout << "refit failed: " << e << "\n";
    if (!test_error.empty()) std::cout << "test " << metric << ": " << test_error << "\n";
    if (test_score)
      std::cout << "test " << metric << ": " << fixed(*test_score, 4) << " (" << test->source
                << ")\n";
    std::cout << "model: " << result.model_dir.string() << " (" << model.describe() << ")\n";
    std::cout << "time: " << fixed(result.elapsed, 1) << " s of " << options.time_budget << " s\n";
  }
  return stop.load() ? interrupted_exit_code() : 0;
}

}  // namespace

int automl_command(int argc, char** argv) {
  // The MLP family needs LibTorch: run in quarry-nn when it is there (else without the MLP).
  hand_over_to_trainer(argc, argv, /*required=*/false);
#ifdef QUARRY_WITH_TORCH
  automl::register_mlp_family();
#endif
  Args args(argc, argv, 2, {"quiet"},
            {"target", "task", "metric", "time", "workers", "test", "out", "format", "seed",
             "families", "max-trials"});
  if (args.positionals().size() != 1)
    throw CommandLineError("automl takes one training file (TRAIN.csv)");
  const auto target = args.get("target");
  if (!target) throw CommandLineError("--target COLUMN is required");
  const auto format = args.get("format").value_or("table");
  if (format != "table" && format != "json")
    throw CommandLineError("--format must be table or json, got '" + format + "'");
  const bool json = format == "json", quiet = args.flag("quiet");

  automl::AutoMLOptions options;
  options.target = *target;
  if (auto t = args.get("task")) options.task = automl::task_from_string(*t);
  if (auto m = args.get("metric")) options.metric = automl::metric_from_string(*m);
  options.time_budget = args.number("time", 0).value_or(60);
  if (!(options.time_budget > 0)) throw CommandLineError("--time must be > 0 seconds");
  options.workers = static_cast<int>(
      args.integer("workers", 1).value_or(std::max(1u, std::thread::hardware_concurrency())));
  options.out = args.get("out").value_or("automl_out");
  options.seed = static_cast<std::uint64_t>(args.integer("seed", 0).value_or(0));
  options.max_trials = args.integer("max-trials", 1);
  if (auto f = args.get("families")) {
    std::stringstream list(*f);
    for (std::string name; std::getline(list, name, ',');)
      if (!name.empty()) options.families.push_back(name);
  }

  return run_automl(options, args.positionals()[0], args.get("test"), json, quiet);
}

int automl_study(const config::StudyFile& file, const Args& args, int argc, char** argv) {
  hand_over_to_trainer(argc, argv, /*required=*/false);
#ifdef QUARRY_WITH_TORCH
  automl::register_mlp_family();
#endif
  const auto& section = *file.automl;
  automl::AutoMLOptions options;
  options.target = section.target;
  const auto key = [&](const std::string& name, auto read) {
    try {
      return read();
    } catch (const InvalidArgument& e) {
      throw UsageError(file.path.string() + ": automl." + name + ": " + e.what());
    }
  };
  options.task = key("task", [&] { return automl::task_from_string(section.task); });
  if (!section.metric.empty())
    options.metric = key("metric", [&] { return automl::metric_from_string(section.metric); });
  for (const auto& name : section.families)
    key("families", [&] { return automl::family(name).name; });
  options.families = section.families;
  options.time_budget = section.time;
  options.out = file.directory / file.study;
  options.study = file.study;
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  options.workers =
      static_cast<int>(args.integer("workers", 1).value_or(file.workers.value_or(cores)));
  options.seed = static_cast<std::uint64_t>(args.integer("seed", 0).value_or(file.seed));
  options.max_trials = args.integer("max-trials", 1);
  if (!options.max_trials) options.max_trials = file.max_trials;
  if (auto t = args.number("timeout", 0)) options.time_budget = *t;
  std::optional<std::string> test;
  if (!section.test.empty()) test = section.test.string();
  return run_automl(options, section.train.string(), test, false, args.flag("quiet"));
}

int predict_command(int argc, char** argv) {
  hand_over_to_trainer(argc, argv, /*required=*/false);
#ifdef QUARRY_WITH_TORCH
  automl::register_mlp_family();
#endif
  Args args(argc, argv, 2, {}, {"out"});
  if (args.positionals().size() != 2)
    throw CommandLineError("predict takes a model folder and a data file");
  const auto model = automl::AutoModel::load(args.positionals()[0]);
  const auto table = data::read_table(args.positionals()[1]);
  const auto p = model.predict(table);
  const auto labels = model.labels(p);
  write_output(args.get("out"), [&](std::ostream& out) {
    out << csv_cell(model.target());
    if (model.task() != automl::TaskType::Regression)
      for (const auto& c : model.classes()) out << "," << csv_cell("proba_" + c);
    out << "\n";
    for (std::int64_t r = 0; r < p.rows; ++r) {
      out << csv_cell(labels[static_cast<std::size_t>(r)]);
      if (model.task() != automl::TaskType::Regression)
        for (std::int64_t c = 0; c < p.cols; ++c) out << "," << report::format_number(p.at(r, c));
      out << "\n";
    }
  });
  if (args.get("out"))
    std::cerr << "predicted " << p.rows << " rows with " << model.describe() << " -> "
              << *args.get("out") << "\n";
  return 0;
}

}  // namespace quarry::cli
