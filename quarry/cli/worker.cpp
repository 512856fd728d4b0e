// `quarry worker --storage URL [--study NAME]... [--workers N]`: run trials of studies stored in
// a shared store, on any machine, without their study files (definition.hpp).
#include <algorithm>
#include <iostream>

#include "quarry/cli/args.hpp"
#include "quarry/cli/commands.hpp"
#include "quarry/cli/common.hpp"
#include "quarry/cli/definition.hpp"
#include "quarry/cli/model_study.hpp"
#include "quarry/core/error.hpp"
#include "quarry/storage/storage.hpp"

namespace quarry::cli {

int worker_command(int argc, char** argv) {
  Args args(argc, argv, 2, {"quiet"}, {"storage", "study", "workers"});
  if (!args.positionals().empty())
    throw CommandLineError(
        "worker: takes no study file (the store holds the studies' definitions)");
  const auto url = args.get("storage");
  if (!url) throw CommandLineError("worker: needs --storage URL");
  const auto store = storage::open_storage(*url);
  const auto shown = storage::shown_url(*url);

  // The studies to serve: those named (each must be there, with a definition), else every study
  // in the store that has one.
  std::vector<std::string> names;
  for (const auto& value : args.all("study"))
    for (std::size_t from = 0; from <= value.size();) {
      const auto comma = std::min(value.find(',', from), value.size());
      if (comma > from) names.push_back(value.substr(from, comma - from));
      from = comma + 1;
    }
  std::vector<StoredDefinition> studies;
  if (names.empty()) {
    for (const auto& info : store->list_studies())
      if (auto d = load_definition(*store, info.id, info.name)) studies.push_back(std::move(*d));
  } else {
    for (const auto& name : names) {
      const auto info = store->find_study(name);
      if (!info) throw InvalidArgument("worker: no study named '" + name + "' in " + shown);
      auto d = load_definition(*store, info->id, name);
      if (!d)
        throw InvalidArgument("worker: study '" + name + "' in " + shown +
                              " has no stored definition (it was not created by quarry search "
                              "STUDY.yaml): run it with quarry search");
      studies.push_back(std::move(*d));
    }
  }
  // The data first, so that a machine with other data stops before anything runs.
  for (const auto& d : studies) check_data(d);
  // Model studies train in quarry-nn, which runs this same worker (a no-op there).
  for (const auto& d : studies)
    if (d.file.model) {
      hand_over_to_trainer(argc, argv, true);
      break;
    }

  const bool quiet = args.flag("quiet");
  int ran = 0;
  for (auto& d : studies) {
    if (d.file.automl) {
      if (!quiet)
        std::cout << "worker: study '" << d.file.study
                  << "' is an AutoML run: run it with quarry search on its machine\n";
      continue;
    }
    if (d.file.max_trials) {  // a study with all its trials finished has no work left
      const auto trials = store->get_trials(d.id);
      const bool done =
          static_cast<std::int64_t>(trials.size()) >= *d.file.max_trials &&
          std::all_of(trials.begin(), trials.end(), [](const Trial& t) { return t.finished(); });
      if (done) continue;
    }
    d.file.storage = *url;
    ++ran;
    const int code = run_search(d.file, *url, args, argc, argv, false);
    if (code != 0) return code;  // interrupted, or its trials kept failing
  }
  if (ran == 0 && !quiet) std::cout << "worker: no study with work left in " << shown << "\n";
  return 0;
}

}  // namespace quarry::cli
