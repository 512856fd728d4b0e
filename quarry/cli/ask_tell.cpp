// `quarry ask` / `quarry tell`: let a script drive a study by hand, as Optuna's CLI does.
//
//   $ quarry ask study.yaml
//   {"number": 3, "params": {"x": 1.25, "y": 7.5}}
//   $ quarry tell study.yaml --trial 3 --value 0.42
// With `quarry ask --lease 300`, the trial is run again elsewhere unless `quarry heartbeat
// study.yaml --trial 3` renews the lease every < 300 s until it is told.
#include <iostream>
#include <nlohmann/json.hpp>

#include "quarry/cli/commands.hpp"
#include "quarry/cli/common.hpp"
#include "quarry/core/error.hpp"
#include "quarry/process/worker.hpp"

namespace quarry::cli {

int ask_command(int argc, char** argv) {
  Args args(argc, argv, 2, {}, {"storage", "study", "seed", "worker", "lease"});
  const auto lease = args.number("lease", 0);
  if (lease && !(*lease > 0)) throw CommandLineError("--lease expects seconds > 0");
  const auto ref = resolve_study(args, "ask");
  if (!ref.file)
    throw CommandLineError("ask: needs the study file (it defines the space and the sampler)");
  const auto seed = args.integer("seed", 0);
  const auto opened = open_for_search(*ref.file, ref.storage,
                                      seed ? static_cast<std::uint64_t>(*seed) : ref.file->seed);
  Study& study = *opened;
  // A trial asked by hand has no worker process to watch: it stays Running until told, unless
  // it was asked with a lease, which lapses when not renewed (quarry heartbeat) in time. Trials
  // whose lease lapsed, or whose worker died, are put back first.
  study.requeue_stale(ref.file->stale_after.value_or(60.0), ref.file->max_attempts.value_or(3));
  const std::string name = args.get("worker").value_or("manual");
  const auto next =
      study.next(lease ? process::leased_worker_id(name, *lease) : name, ref.file->max_trials);
  if (next.kind == schedulers::Assignment::Kind::Wait)
    throw InvalidArgument("study '" + study.name() +
                          "': nothing to run until running trials are told (the scheduler waits "
                          "for them to decide what comes next)");
  if (!next.trial)
    throw InvalidArgument("study '" + study.name() + "' is complete: no trial left to ask for");
  const Trial& trial = *next.trial;
  nlohmann::json out{{"number", trial.number}, {"params", space::to_json(trial.params)}};
  if (trial.budget > 0) out["budget"] = trial.budget;  // e.g. Hyperband's epochs
  if (trial.parent) out["parent"] = *trial.parent;     // continue from this trial's checkpoint
  if (lease) out["lease"] = *lease;
  std::cout << out.dump() << "\n";
  return 0;
}

int heartbeat_command(int argc, char** argv) {
  Args args(argc, argv, 2, {}, {"storage", "study", "trial", "worker"});
  const auto number = args.integer("trial", 0);
  if (!number) throw CommandLineError("heartbeat: --trial N is required");
  Study study = open_existing(resolve_study(args, "heartbeat"));
  const std::string name = args.get("worker").value_or("manual");
  const auto t = study.trial(*number);
  const auto lease = process::lease_seconds(t.worker);
  const bool mine = lease && t.worker.ends_with("/" + name);
  if (t.state != TrialState::Running || !mine ||
      !study.storage().heartbeat(study.id(), t.number, t.worker))
    throw InvalidArgument(
        "trial " + std::to_string(t.number) + " of study '" + study.name() +
        "' is not running under a lease of worker '" + name + "' (it is " +
        study::to_string(t.state) +
        (t.state == TrialState::Running ? ", run by " + t.worker : std::string()) +
        "): its lease lapsed and it was put back, or it was told already; do not tell it");
  std::cout << "trial " << t.number << ": lease of " << *lease << " s renewed\n";
  return 0;
}

int tell_command(int argc, char** argv) {
  Args args(argc, argv, 2, {}, {"storage", "study", "trial", "value", "state", "reason"});
  const auto number = args.integer("trial", 0);
  if (!number) throw CommandLineError("tell: --trial N is required");
  Study study = open_existing(resolve_study(args, "tell"));
  const auto state = study::trial_state_from_string(args.get("state").value_or("complete"));
  if (state == TrialState::Complete) {
    std::vector<double> values;
    for (const auto& text : args.all("value")) {
      std::size_t used = 0;
      double v = 0;
      try {
        v = std::stod(text, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used == 0 || used != text.size())
        throw CommandLineError("--value expects a number, got '" + text + "'");
      values.push_back(v);
    }
    if (values.empty())
      throw CommandLineError("tell: give --value V (one per objective) or --state pruned|failed");
    study.tell(*number, values);
  } else {
    study.tell(*number, state, args.get("reason").value_or("told by hand"));
  }
  const auto t = study.trial(*number);
  std::cout << "trial " << t.number << " " << study::to_string(t.state) << "\n";
  return 0;
}

}  // namespace quarry::cli
