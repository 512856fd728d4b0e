// `quarry bench PROBLEM`: how well, and how fast, samplers search. For each sampler and seed
// (0 .. seeds-1) a fresh in-memory study runs max(evaluations) trials, one worker, sequential; the
// best value so far is taken after each checkpoint of --evaluations. The table shows, per sampler
// and checkpoint, the median and quartiles over the seeds of the final regret (best value minus the
// known optimum) for the functions, or of the best accuracy found for the NAS tables, and the mean
// seconds of one whole run. With --time-proposals N it instead times one proposal (sample_all) with
// N finished random trials in the history.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <limits>
#include <nlohmann/json.hpp>

#include "quarry/cli/commands.hpp"
#include "quarry/cli/common.hpp"
#include "quarry/objectives/functions.hpp"
#include "quarry/objectives/table.hpp"
#include "quarry/report/export.hpp"
#include "quarry/runner/runner.hpp"
#include "quarry/samplers/random.hpp"
#include "quarry/samplers/registry.hpp"
#include "quarry/storage/memory.hpp"

namespace quarry::cli {

namespace {

constexpr int kTimedProposals = 5;  // proposals timed per sampler with --time-proposals
constexpr std::uint64_t kHistorySeed = 20240601;
const std::vector<std::string> kProblems = {"branin", "hartmann6", "nas-bench-201",
                                            "nas-bench-macro", "rosenbrock"};

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

/// What is searched and how a run is scored.
struct Problem {
  std::string name;  // as shown: "rosenbrock(dims=10)", "nas-bench-201 (cifar10-val)"
  std::unique_ptr<objectives::Objective> objective;
  Space space;
  Direction direction = Direction::Minimize;
  double reference = 0;  // the optimum (functions) or the table's best (tables)
  bool regret = true;    // score: best - optimum (functions), or the best value itself (tables)
  std::int64_t default_evaluations = 100;
};

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

Problem function_problem(const std::string& name, const Args& args) {
  if (args.get("data") || args.get("metric"))
    throw CommandLineError("bench: --data and --metric apply to the NAS tables, not to " + name);
  if (args.get("dims") && name != "rosenbrock")
    throw CommandLineError("bench: --dims applies to rosenbrock only");
  nlohmann::json options;
  if (name == "rosenbrock") options["dims"] = args.integer("dims", 2).value_or(10);
  auto f = objectives::make_function(name, options);
  Problem p{.name = f->describe(), .objective = nullptr, .space = f->space()};
  p.reference = f->optimum();
  p.default_evaluations = name == "branin" ? 50 : 100;
  p.objective = std::move(f);
  return p;
}

Problem table_problem(const std::string& name, const Args& args) {
  if (args.get("dims")) throw CommandLineError("bench: --dims applies to rosenbrock only");
  const auto data = args.get("data");
  if (!data) throw CommandLineError("bench: " + name + " needs --data PATH (the table's file)");
  auto table = objectives::load_table(name, *data, args.get("metric").value_or(""));
  Problem p{.name = table->describe(), .objective = nullptr, .space = table->space()};
  p.direction = Direction::Maximize;
  p.reference = table->best_value();
  p.regret = false;
  p.objective = std::move(table);
  return p;
}

Problem make_problem(const Args& args) {
  if (args.positionals().size() != 1)
    throw CommandLineError("bench: needs one problem (" + joined(kProblems) + ")");
  const std::string& name = args.positionals()[0];
  if (std::find(kProblems.begin(), kProblems.end(), name) == kProblems.end())
    throw CommandLineError("bench: unknown problem '" + name + "' (known: " + joined(kProblems) +
                           ")");
  return name.rfind("nas-bench-", 0) == 0 ? table_problem(name, args)
                                          : function_problem(name, args);
}

std::vector<std::string> split_list(const std::string& text, const std::string& option) {
  std::vector<std::string> out(1);
  for (char c : text)
    if (c == ',')
      out.emplace_back();
    else
      out.back().push_back(c);
  for (const auto& item : out)
    if (item.empty()) throw CommandLineError("--" + option + ": empty item in '" + text + "'");
  return out;
}

/// --evaluations "40,100": sorted, distinct, each >= 1.
std::vector<std::int64_t> checkpoints(const Args& args, std::int64_t fallback) {
  const auto text = args.get("evaluations");
  if (!text) return {fallback};
  std::vector<std::int64_t> out;
  for (const auto& item : split_list(*text, "evaluations")) {
    std::size_t used = 0;
    std::int64_t n = 0;
    try {
      n = std::stoll(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != item.size() || n < 1)
      throw CommandLineError("--evaluations expects integers >= 1, got '" + item + "'");
    out.push_back(n);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

/// --samplers, each checked by building it once (unknown names fail before anything runs).
std::vector<std::string> sampler_names(const Args& args) {
  std::vector<std::string> names;
  if (const auto text = args.get("samplers")) {
    names = split_list(*text, "samplers");
  } else {
    for (const auto& e : samplers::sampler_registry())
      if (e.name != "grid") names.push_back(e.name);  // a grid does not search a continuous box
  }
  for (const auto& n : names) (void)samplers::make_sampler(n, nlohmann::json(), 0);
  return names;
}

// ---- Search quality ----

/// The score after each checkpoint (NaN before the first complete trial), and the run's seconds.
struct RunResult {
  std::vector<double> scores;
  double seconds = 0;
};

RunResult run_once(const Problem& problem, const std::string& sampler, std::int64_t seed,
                   const std::vector<std::int64_t>& points) {
  auto storage = std::make_shared<storage::MemoryStorage>();
  Study study(storage, "bench",
              {.directions = {problem.direction},
               .sampler = samplers::make_sampler(sampler, nlohmann::json(),
                                                 static_cast<std::uint64_t>(seed)),
               .scheduler = nullptr});
  study.register_space(problem.space);
  runner::RunOptions options;
  options.max_trials = points.back();
  const auto start = Clock::now();
  runner::run(study, *problem.objective, options);
  RunResult result{.scores = {}, .seconds = seconds_since(start)};
  double best = std::numeric_limits<double>::quiet_NaN();
  const auto score = [&] { return problem.regret ? best - problem.reference : best; };
  const auto trials = study.trials();
  for (std::size_t i = 0; i < trials.size() && result.scores.size() < points.size(); ++i) {
    const auto& t = trials[i];
    if (t.state == TrialState::Complete && (std::isnan(best) || study.better(t.values[0], best)))
      best = t.values[0];
    if (static_cast<std::int64_t>(i) + 1 == points[result.scores.size()])
      result.scores.push_back(score());
  }
  while (result.scores.size() < points.size()) result.scores.push_back(score());  // exhausted
  return result;
}

/// The q-quantile of `xs` with linear interpolation between order statistics (numpy's default,
/// Hyndman & Fan type 7); NaN values are left out.
double quantile(std::vector<double> xs, double q) {
  std::erase_if(xs, [](double x) { return std::isnan(x); });
  if (xs.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::sort(xs.begin(), xs.end());
  const double h = q * static_cast<double>(xs.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(h));
  const auto hi = std::min(lo + 1, xs.size() - 1);
  return xs[lo] + (h - static_cast<double>(lo)) * (xs[hi] - xs[lo]);
}

struct Row {
  std::string sampler;
  std::int64_t evaluations = 0;
  double median = 0, q25 = 0, q75 = 0, seconds = 0;
};

std::vector<Row> quality_rows(const Problem& problem, const std::string& sampler,
                              std::int64_t seeds, const std::vector<std::int64_t>& points) {
  std::vector<std::vector<double>> scores(points.size());
  double seconds = 0;
  for (std::int64_t seed = 0; seed < seeds; ++seed) {
    const auto run = run_once(problem, sampler, seed, points);
    for (std::size_t i = 0; i < points.size(); ++i) scores[i].push_back(run.scores[i]);
    seconds += run.seconds;
  }
  std::vector<Row> rows;
  for (std::size_t i = 0; i < points.size(); ++i)
    rows.push_back({sampler, points[i], quantile(scores[i], 0.5), quantile(scores[i], 0.25),
                    quantile(scores[i], 0.75), seconds / static_cast<double>(seeds)});
  return rows;
}

std::string measure_of(const Problem& p) {
  return p.regret ? "final regret = best value - optimum (" + report::format_number(p.reference) +
                        "), lower is better"
                  : "best accuracy found (table best " + report::format_number(p.reference) +
                        "), higher is better";
}

void print_quality(const Problem& p, std::int64_t seeds, const std::vector<Row>& rows,
                   const std::string& format) {
  auto& out = std::cout;
  if (format == "csv") {
    out << "problem,sampler,evaluations,median,q25,q75,seconds_per_run\n";
    for (const auto& r : rows)
      out << '"' << p.name << "\"," << r.sampler << ',' << r.evaluations << ','
          << report::format_number(r.median) << ',' << report::format_number(r.q25) << ','
          << report::format_number(r.q75) << ',' << report::format_number(r.seconds) << "\n";
    return;
  }
  if (format == "json") {
    nlohmann::json j = {{"problem", p.name},
                        {"measure", p.regret ? "regret" : "best"},
                        {"reference", p.reference},
                        {"seeds", seeds},
                        {"rows", nlohmann::json::array()}};
    for (const auto& r : rows)
      j["rows"].push_back({{"sampler", r.sampler},
                           {"evaluations", r.evaluations},
                           {"median", r.median},
                           {"q25", r.q25},
                           {"q75", r.q75},
                           {"seconds_per_run", r.seconds}});
    out << j.dump(2) << "\n";
    return;
  }
  out << p.name << ": " << measure_of(p) << "; " << seeds << " seeds\n";
  char line[160];
  std::snprintf(line, sizeof line, "%-14s %11s %12s %12s %12s %10s\n", "sampler", "evaluations",
                "median", "q25", "q75", "s/run");
  out << line;
  for (const auto& r : rows) {
    std::snprintf(line, sizeof line, "%-14s %11lld %12s %12s %12s %10s\n", r.sampler.c_str(),
                  static_cast<long long>(r.evaluations), report::format_number(r.median).c_str(),
                  report::format_number(r.q25).c_str(), report::format_number(r.q75).c_str(),
                  report::format_number(r.seconds).c_str());
    out << line;
  }
}

// ---- Proposal time ----

/// A store holding study "history": `size` finished trials drawn at random and evaluated (as
/// Optuna's add_trials inserts them).
std::pair<std::shared_ptr<storage::Storage>, std::int64_t> random_history(const Problem& problem,
                                                                          std::int64_t size) {
  auto store = std::make_shared<storage::MemoryStorage>();
  const auto id = store->create_study("history", {problem.direction}).id;
  samplers::RandomSampler random({.seed = kHistorySeed});
  for (std::int64_t n = 0; n < size; ++n) {
    const auto params = samplers::sample_all(random, problem.space, {}, n);
    const auto trial = store->create_trial(id, {.params = params, .worker = "bench"});
    TrialContext context(trial->number, params, 0, nullptr, nullptr, std::nullopt,
                         [&](const std::string& key, const std::string& json) {
                           store->set_trial_attr(id, trial->number, key, json);
                         });
    try {
      store->finish_trial(id, trial->number, TrialState::Complete,
                          problem.objective->evaluate(context));
    } catch (const TrialFailed& e) {
      store->finish_trial(id, trial->number, TrialState::Failed, {}, e.what());
    }
  }
  return {store, id};
}

/// Seconds of each of kTimedProposals proposals by `name`, each for a new trial after the history.
std::vector<double> time_proposals(const Problem& problem, const std::string& name,
                                   std::int64_t history) {
  const auto [store, id] = random_history(problem, history);
  std::shared_ptr<samplers::Sampler> sampler = samplers::make_sampler(name, nlohmann::json(), 0);
  // Opening the study attaches the sampler as a search would (directions, its stored state).
  const Study study = Study::open(store, "history", {.sampler = sampler});
  std::vector<double> seconds;
  for (int k = 0; k < kTimedProposals; ++k) {
    const auto trial = store->create_trial(id, {.worker = "bench"});
    const auto trials = store->get_trials(id);
    const auto start = Clock::now();
    const auto params = samplers::sample_all(*sampler, problem.space, trials, trial->number);
    seconds.push_back(seconds_since(start));
    store->set_params(id, trial->number, params);
    store->finish_trial(id, trial->number, TrialState::Failed, {}, "bench: timed proposal only");
  }
  return seconds;
}

void print_proposals(const Problem& p, std::int64_t history, const std::vector<std::string>& names,
                     const std::vector<std::vector<double>>& times, const std::string& format) {
  const auto ms = [](double s) { return report::format_number(s * 1e3); };
  if (format == "csv") std::cout << "problem,sampler,history,ms_per_proposal,min_ms,max_ms\n";
  if (format == "table") {
    std::cout << p.name << ": milliseconds per proposal with " << history
              << " finished random trials in the history (median, min, max of " << kTimedProposals
              << " proposals)\n";
    std::printf("%-14s %8s %14s %10s %10s\n", "sampler", "history", "ms/proposal", "min", "max");
  }
  nlohmann::json rows = nlohmann::json::array();
  for (std::size_t i = 0; i < names.size(); ++i) {
    const auto [lo, hi] = std::minmax_element(times[i].begin(), times[i].end());
    const double median = quantile(times[i], 0.5);
    if (format == "csv")
      std::cout << '"' << p.name << "\"," << names[i] << ',' << history << ',' << ms(median) << ','
                << ms(*lo) << ',' << ms(*hi) << "\n";
    if (format == "table")
      std::printf("%-14s %8lld %14s %10s %10s\n", names[i].c_str(), static_cast<long long>(history),
                  ms(median).c_str(), ms(*lo).c_str(), ms(*hi).c_str());
    rows.push_back({{"sampler", names[i]},
                    {"history", history},
                    {"ms_per_proposal", median * 1e3},
                    {"min_ms", *lo * 1e3},
                    {"max_ms", *hi * 1e3}});
  }
  if (format == "json")
    std::cout << nlohmann::json({{"problem", p.name}, {"proposals", rows}}).dump(2) << "\n";
  std::fflush(stdout);
}

std::string format_option(const Args& args) {
  const std::string f = args.get("format").value_or("table");
  if (f != "table" && f != "csv" && f != "json")
    throw CommandLineError("--format must be one of table, csv, json, got '" + f + "'");
  return f;
}

}  // namespace

int bench_command(int argc, char** argv) {
  Args args(
      argc, argv, 2, {},
      {"data", "samplers", "seeds", "evaluations", "dims", "metric", "format", "time-proposals"});
  const auto format = format_option(args);
  const auto seeds = args.integer("seeds", 1).value_or(10);
  const auto history = args.integer("time-proposals", 0);
  const Problem problem = make_problem(args);
  const auto points = checkpoints(args, problem.default_evaluations);
  const auto names = sampler_names(args);
  const bool progress = isatty(STDERR_FILENO) != 0;
  if (history) {
    std::vector<std::vector<double>> times;
    for (const auto& name : names) times.push_back(time_proposals(problem, name, *history));
    print_proposals(problem, *history, names, times, format);
    return 0;
  }
  std::vector<Row> rows;
  for (const auto& name : names) {
    if (progress) std::cerr << "bench: " << name << " (" << seeds << " seeds)..." << std::endl;
    for (auto& row : quality_rows(problem, name, seeds, points)) rows.push_back(std::move(row));
  }
  print_quality(problem, seeds, rows, format);
  return 0;
}

}  // namespace quarry::cli
