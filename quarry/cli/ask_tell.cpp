// `quarry ask` / `quarry tell`: let a script drive a study by hand, as Optuna's CLI does.
//
//   $ quarry ask study.yaml
//   {"number": 3, "params": {"x": 1.25, "y": 7.5}}
//   $ quarry tell study.yaml --trial 3 --value 0.42
#include <iostream>
#include <nlohmann/json.hpp>

#include "quarry/cli/commands.hpp"
#include "quarry/cli/common.hpp"
#include "quarry/core/error.hpp"

namespace quarry::cli {

int ask_command(int argc, char** argv) {
  Args args(argc, argv, 2, {}, {"storage", "study", "seed", "worker"});
  const auto ref = resolve_study(args, "ask");
  if (!ref.file)
    throw CommandLineError("ask: needs the study file (it defines the space and the sampler)");
  const auto seed = args.integer("seed", 0);
  const auto opened = open_for_search(*ref.file, ref.storage,
                                      seed ? static_cast<std::uint64_t>(*seed) : ref.file->seed);
  Study& study = *opened;
  // A trial asked by hand has no worker process to watch: it stays Running until told.
  const auto next = study.next(args.get("worker").value_or("manual"), ref.file->max_trials);
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
  std::cout << out.dump() << "\n";
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
