// `quarry status | best | trials | importance`: read a study from its store (also while a search
// runs).
#include <algorithm>
#include <cmath>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "quarry/cli/commands.hpp"
#include "quarry/cli/common.hpp"
#include "quarry/core/error.hpp"
#include "quarry/process/worker.hpp"
#include "quarry/report/export.hpp"
#include "quarry/report/importance.hpp"

namespace quarry::cli {

namespace {

std::string format_of(const Args& args, const std::set<std::string>& allowed) {
  const std::string f = args.get("format").value_or("table");
  if (!allowed.count(f)) {
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
    throw CommandLineError("--format must be one of " + list + ", got '" + f + "'");
  }
  return f;
}

/// `rows` as columns two spaces apart, each line after `indent`.
void print_aligned(const std::vector<std::vector<std::string>>& rows, const std::string& indent) {
  std::vector<std::size_t> width(rows[0].size(), 0);
  for (const auto& row : rows)
    for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  for (const auto& row : rows) {
    std::string line = indent;
    for (std::size_t i = 0; i < row.size(); ++i)
      line += row[i] + (i + 1 < row.size() ? std::string(width[i] - row[i].size() + 2, ' ') : "");
    std::cout << line << "\n";
  }
}

/// The Pareto front as a table: number, each metric, then each parameter; columns aligned.
void print_front(const std::vector<Trial>& front, const report::Columns& columns) {
  std::vector<std::vector<std::string>> rows = {{"number"}};
  rows[0].insert(rows[0].end(), columns.metrics.begin(), columns.metrics.end());
  rows[0].insert(rows[0].end(), columns.params.begin(), columns.params.end());
  for (const Trial& t : front) {
    std::vector<std::string> row = {std::to_string(t.number)};
    for (std::size_t i = 0; i < columns.metrics.size(); ++i)
      row.push_back(i < t.values.size() ? report::format_number(t.values[i]) : "");
    for (const auto& name : columns.params) {
      const auto it = t.params.find(name);
      row.push_back(it == t.params.end() ? "" : space::to_string(it->second));
    }
    rows.push_back(std::move(row));
  }
  print_aligned(rows, "");
}

/// `quarry best` with several objectives: the Pareto front.
int print_pareto_front(Study& study, const std::string& format) {
  const auto front = study.pareto_front();
  if (front.empty())
    throw InvalidArgument("study '" + study.name() + "' has no complete feasible trial yet");
  const auto columns = report::columns_for(front, metric_names(study), study.directions().size());
  if (format == "json") {
    report::write_json(std::cout, front, columns);
    return 0;
  }
  std::cout << "pareto front: " << front.size() << " trial" << (front.size() == 1 ? "" : "s")
            << "\n";
  print_front(front, columns);
  return 0;
}

/// The processes running trials now (from the running trials' "host:pid:slot" ids): host, pid,
/// trials running, seconds since the last heartbeat.
void print_workers(const std::vector<Trial>& trials) {
  struct Process {
    int running = 0;
    double heartbeat = 0;
  };
  std::map<std::pair<std::string, std::string>, Process> processes;  // (host, pid)
  for (const auto& t : trials) {
    if (t.state != TrialState::Running) continue;
    const auto first = t.worker.find(':');
    const auto second = first == std::string::npos ? first : t.worker.find(':', first + 1);
    const auto key =
        second == std::string::npos
            ? std::pair<std::string, std::string>{t.worker, "-"}  // `quarry ask`
            : std::pair{t.worker.substr(0, first), t.worker.substr(first + 1, second - first - 1)};
    auto& p = processes[key];
    ++p.running;
    p.heartbeat = std::max(p.heartbeat, t.heartbeat.value_or(t.started_at.value_or(0)));
  }
  if (processes.empty()) return;
  std::cout << "  workers: " << processes.size() << "\n";
  const double now = study::now_seconds();
  std::vector<std::vector<std::string>> rows = {{"host", "pid", "running", "last heartbeat"}};
  for (const auto& [key, p] : processes)
    rows.push_back({key.first, key.second, std::to_string(p.running),
                    report::format_duration(std::max(0.0, now - p.heartbeat)) + " ago"});
  print_aligned(rows, "    ");
}

}  // namespace

int status_command(int argc, char** argv) {
  Args args(argc, argv, 2, {}, {"storage", "study"});
  const auto ref = resolve_study(args, "status");
  Study study = open_existing(ref, true);
  const auto trials = study.trials();
  std::map<TrialState, int> counts;
  int orphaned = 0;  // running, but their process on this host is gone (killed)
  for (const auto& t : trials) {
    ++counts[t.state];
    if (t.state == TrialState::Running && process::local_worker_is_dead(t.worker)) ++orphaned;
  }
  std::cout << "study '" << study.name() << "' in " << storage::shown_url(ref.storage) << "\n";
  std::cout << "  trials: " << trials.size() << " (" << counts[TrialState::Complete]
            << " complete, " << counts[TrialState::Running] << " running"
            << (orphaned ? " of which " + std::to_string(orphaned) +
                               " orphaned (their process is gone: the next search runs them "
                               "again)"
                         : std::string())
            << ", " << counts[TrialState::Waiting] << " waiting, " << counts[TrialState::Pruned]
            << " pruned, " << counts[TrialState::Failed] << " failed)\n";
  std::string dirs;
  for (auto d : study.directions()) dirs += (dirs.empty() ? "" : ", ") + study::to_string(d);
  std::cout << "  directions: " << dirs << "\n";
  if (study.directions().size() > 1) {
    const auto size = study.pareto_front().size();
    std::cout << "  pareto front: " << size << " trial" << (size == 1 ? "" : "s") << "\n";
  } else if (auto best = study.best_trial()) {
    const auto metrics = metric_names(study);
    std::cout << "  best: " << (metrics.empty() ? "value" : metrics[0]) << "="
              << report::format_number(best->values[0]) << " (trial " << best->number << ")\n";
  } else {
    std::cout << "  best: none yet\n";
  }
  print_workers(trials);
  return 0;
}

int best_command(int argc, char** argv) {
  Args args(argc, argv, 2, {}, {"storage", "study", "format"});
  const auto format = format_of(args, {"table", "json"});
  Study study = open_existing(resolve_study(args, "best"), true);
  if (study.directions().size() > 1) return print_pareto_front(study, format);
  const auto best = study.best_trial();
  if (!best) throw InvalidArgument("study '" + study.name() + "' has no complete trial yet");
  const auto columns = report::columns_for({*best}, metric_names(study), study.directions().size());
  if (format == "json") {
    std::cout << report::trial_to_json(*best, columns).dump(2) << "\n";
    return 0;
  }
  std::cout << "best trial: " << best->number << "\n";
  for (std::size_t i = 0; i < best->values.size(); ++i)
    std::cout << "  " << columns.metrics[i] << " = " << report::format_number(best->values[i])
              << "\n";
  std::cout << "hyperparameters:\n";
  for (const auto& [name, value] : best->params)
    std::cout << "  " << name << ": " << space::to_string(value) << "\n";
  return 0;
}

int trials_command(int argc, char** argv) {
  Args args(argc, argv, 2, {}, {"storage", "study", "format", "state"});
  const auto format = format_of(args, {"table", "csv", "json"});
  Study study = open_existing(resolve_study(args, "trials"), true);
  auto trials = study.trials();
  if (auto state = args.get("state")) {
    const auto wanted = study::trial_state_from_string(*state);
    std::erase_if(trials, [&](const Trial& t) { return t.state != wanted; });
  }
  const auto columns = report::columns_for(trials, metric_names(study), study.directions().size());
  if (format == "csv")
    report::write_csv(std::cout, trials, columns);
  else if (format == "json")
    report::write_json(std::cout, trials, columns);
  else
    report::write_table(std::cout, trials, columns);
  return 0;
}

int importance_command(int argc, char** argv) {
  Args args(argc, argv, 2, {}, {"storage", "study", "format", "objective", "seed"});
  const auto format = format_of(args, {"table", "json"});
  Study study = open_existing(resolve_study(args, "importance"), true);
  const auto metrics = metric_names(study);
  std::size_t objective = 0;
  if (const auto name = args.get("objective")) {
    const auto it = std::find(metrics.begin(), metrics.end(), *name);
    if (it == metrics.end()) {
      std::string known;
      for (const auto& m : metrics) known += (known.empty() ? "" : ", ") + m;
      throw CommandLineError("--objective '" + *name + "' is not an objective of study '" +
                             study.name() + "' (" + (known.empty() ? "none named" : known) + ")");
    }
    objective = static_cast<std::size_t>(it - metrics.begin());
  }
  report::ForestOptions forest;
  forest.seed = static_cast<std::uint64_t>(args.integer("seed", 0).value_or(0));
  const auto trials = study.trials();
  const auto ranked = report::parameter_importance(study.space(), trials, objective, forest);
  if (format == "json") {
    nlohmann::ordered_json out = nlohmann::ordered_json::object();
    for (const auto& [name, share] : ranked) out[name] = share;
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  const auto used = report::importance_data(study.space(), trials, objective).y.size();
  std::cout << "parameter importance (fANOVA, " << forest.trees << " trees) of "
            << (objective < metrics.size() ? metrics[objective] : "the objective") << " over "
            << used << " complete trial" << (used == 1 ? "" : "s") << ":\n";
  std::vector<std::vector<std::string>> rows;
  for (const auto& [name, share] : ranked)
    rows.push_back({name, fixed(share, 4),
                    std::string(static_cast<std::size_t>(std::lround(share * 40)), '#')});
  print_aligned(rows, "  ");
  return 0;
}

}  // namespace quarry::cli
