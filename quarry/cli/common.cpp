#include "quarry/cli/common.hpp"

#include <signal.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "quarry/core/error.hpp"
#include "quarry/objectives/command.hpp"
#include "quarry/objectives/functions.hpp"
#include "quarry/process/process.hpp"
#include "quarry/pruners/registry.hpp"
#include "quarry/samplers/registry.hpp"
#include "quarry/schedulers/registry.hpp"
#include "quarry/storage/storage.hpp"

namespace quarry::cli {

namespace {

std::atomic<bool> g_stop{false};
std::atomic<int> g_interrupts{0};
std::atomic<int> g_signal{0};  // the first stopping signal

constexpr const char* kSearchStopping =
    "\nquarry: stopping; running trials go back to the queue (Ctrl-C again to kill)\n";
std::atomic<const char*> g_stop_message{kSearchStopping};

extern "C" void on_interrupt(int signal) {
  if (g_interrupts.fetch_add(1) == 0) {
    g_signal.store(signal);
    g_stop.store(true);
    const char* msg = g_stop_message.load();
    (void)!write(STDERR_FILENO, msg, strlen(msg));
    return;
  }
  process::kill_all_children_and_exit(128 + signal);
}

/// Builds a part the study file names; its InvalidArgument becomes a UsageError naming the file
/// and the key ("/path/study.yaml: sampler: unknown sampler 'sobol' (known: grid, random)").
template <typename Build>
auto built_from(const config::StudyFile& file, const std::string& key, Build build)
    -> decltype(build()) {
  try {
    return build();
  } catch (const InvalidArgument& e) {
    throw UsageError(file.path.string() + ": " + key + ": " + e.what());
  }
}

std::string start_over_hint(const config::StudyFile& file) {
  return " (the stored trials would be misread: to start over, give the study a new name, e.g. "
         "study: " +
         file.study + "_2)";
}

/// Refuses a study file that no longer describes its stored trials: renamed or reordered metrics
/// (the stored values would be listed under the new names) or, for a command or a function, a
/// parameter the file no longer defines (it would still be sampled). New parameters and the same
/// definitions are fine. Directions are checked by the store, ranges by Study::register_space.
void check_stored_definition(const config::StudyFile& file, Study& study,
                             const nlohmann::json& metrics, const Space& space) {
  if (const auto text = study.storage().get_attr(study.id(), "metrics")) {
    const auto stored = nlohmann::json::parse(*text);
    if (stored != metrics)
      throw UsageError(file.path.string() + ": objective: study '" + file.study +
                       "' stores the metrics " + stored.dump() + ", the file names " +
                       metrics.dump() + start_over_hint(file));
  }
  if (file.model) return;  // a model study's trainer may add parameters of its own
  const Space stored = study.space();
  for (const auto& p : stored.params())
    if (space.find(p.name()) == nullptr)
      throw UsageError(file.path.string() + ": space: study '" + file.study +
                       "' stores the parameter '" + p.name() + "' (" + p.describe() +
                       "), which the file no longer defines" + start_over_hint(file));
}

}  // namespace

const std::atomic<bool>& install_interrupt_handlers(const char* message) {
  g_stop_message.store(message ? message : kSearchStopping);
  struct sigaction sa {};
  sa.sa_handler = on_interrupt;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGHUP, &sa, nullptr);  // the terminal closed
  return g_stop;
}

int interrupted_exit_code() {
  const int signal = g_signal.load();
  return 128 + (signal ? signal : SIGINT);
}

StudyRef resolve_study(const Args& args, const std::string& command) {
  StudyRef ref;
  if (args.positionals().size() > 1)
    throw CommandLineError(command + ": expected one study file, got " +
                           std::to_string(args.positionals().size()));
  if (!args.positionals().empty()) {
    ref.file = config::load_study_file(args.positionals()[0]);
    ref.storage = ref.file->storage;
    ref.name = ref.file->study;
  }
  if (auto s = args.get("storage")) ref.storage = *s;
  if (auto n = args.get("study")) {
    ref.name = *n;
    if (ref.file) ref.file->study = *n;  // search and ask open the study by the file's name
  }
  if (ref.storage.empty() || ref.name.empty())
    throw CommandLineError(command + ": name a study file, or both --storage URL and --study NAME");
  return ref;
}

void require_existing_store(const std::string& url, const std::string& prefix) {
  // Reading must not create a store: a SQLite file that is not there holds no study.
  if (const auto file = storage::sqlite_path(url);
      file && !file->empty() && !std::filesystem::exists(*file))
    throw InvalidArgument(prefix + "the store '" + *file +
                          "' does not exist (a search creates it)");
}

Study open_existing(const StudyRef& ref, bool read_only) {
  require_existing_store(ref.storage, "no study named '" + ref.name + "': ");
  return Study::open(read_only ? storage::open_storage_for_reading(ref.storage)
                               : storage::open_storage(ref.storage),
                     ref.name);
}

Space space_of(const config::StudyFile& file) {
  if (!file.function.empty() && file.space.empty())
    return built_from(file, "function", [&] {
      return objectives::make_function(file.function, file.function_options)->space();
    });
  return file.space;
}

std::unique_ptr<objectives::Objective> objective_of(const config::StudyFile& file) {
  if (!file.function.empty())
    return built_from(file, "function", [&] {
      return objectives::make_function(file.function, file.function_options);
    });
  std::vector<std::string> metrics;
  for (const auto& m : file.objectives) metrics.push_back(m.name);
  objectives::CommandOptions options{.argv = file.command,
                                     .metrics = metrics,
                                     .cwd = file.base_dir.string(),
                                     .env = file.env,
                                     .timeout = file.trial_timeout};
  return built_from(file, "command", [&]() -> std::unique_ptr<objectives::Objective> {
    return std::make_unique<objectives::CommandObjective>(options, file.space);
  });
}

std::unique_ptr<Study> open_for_search(const config::StudyFile& file, const std::string& storage,
                                       std::uint64_t seed) {
  std::vector<Direction> directions;
  for (const auto& m : file.objectives) directions.push_back(m.direction);
  StudyOptions options{
      .directions = directions,
      .sampler = built_from(
          file, "sampler",
          [&] { return samplers::make_sampler(file.sampler, file.sampler_options, seed); }),
      .scheduler = built_from(
          file, "scheduler",
          [&] { return schedulers::make_scheduler(file.scheduler, file.scheduler_options); }),
      .pruner = built_from(file, file.pruner_key, [&] {
        try {
          return pruners::make_pruner(file.pruner, file.pruner_options);
        } catch (const InvalidArgument& e) {  // errors name the key the file used
          const std::string what = e.what();
          if (file.pruner_key == "pruner" || !what.starts_with("pruner '")) throw;
          throw InvalidArgument(file.pruner_key + what.substr(std::string("pruner").size()));
        }
      })};
  auto study =
      std::make_unique<Study>(storage::open_storage(storage), file.study, std::move(options));
  nlohmann::json metrics = nlohmann::json::array();
  for (const auto& m : file.objectives) metrics.push_back(m.name);
  const Space space = space_of(file);
  check_stored_definition(file, *study, metrics, space);
  try {
    study->register_space(space);
  } catch (const InvalidArgument& e) {  // a parameter redefined: old trials came from the old one
    throw UsageError(file.path.string() + ": space: " + e.what() + start_over_hint(file));
  }
  study->storage().set_attr(study->id(), "metrics", metrics.dump());
  return study;
}

std::vector<std::string> metric_names(Study& study) {
  const auto text = study.storage().get_attr(study.id(), "metrics");
  if (!text) return {};
  return nlohmann::json::parse(*text).get<std::vector<std::string>>();
}

std::string fixed(double v, int digits) {
  if (std::isnan(v)) return "-";
  std::ostringstream out;
  out << std::fixed << std::setprecision(digits) << v;
  return out.str();
}

std::string pad(const std::string& s, std::size_t width) {
  return s.size() >= width ? s : s + std::string(width - s.size(), ' ');
}

void write_output(const std::optional<std::string>& path,
                  const std::function<void(std::ostream&)>& write) {
  std::ofstream file;
  std::ostream* out = &std::cout;
  if (path) {
    file.open(*path);
    if (!file) throw InvalidArgument(*path + ": cannot write");
    out = &file;
  }
  write(*out);
  out->flush();
  if (!*out) throw InvalidArgument(path.value_or("stdout") + ": write failed");
}

}  // namespace quarry::cli
