// Search overhead: what Quarry itself costs per trial when the objective costs nothing.
//
// Runs N trials (default 1,000) of f(x, y) = (x - 2)^2 + (y + 1)^2 over Float x, y in [-10, 10]
// with the random sampler, one thread, sequential ask/tell, the way a user of the C++ API writes
// it:
//
//   while (auto t = study.ask("bench", trials)) study.tell(t->number, {f(t->params)});
//
// against a MemoryStorage and against a fresh SqliteStorage file; and the same trials through the
// parallel runner (quarry::runner::run with one worker), which adds what `quarry search` does per
// trial (a FunctionObjective, a TrialContext, a read-back of the finished trial).
//
// Usage: bench_overhead [--trials N] [--repeat R] [--dir DIR] [--only RUN]...
//   RUN: memory, sqlite, sqlite-fullsync (SqliteOptions::full_sync, an fsync per commit, as durable
//   as Optuna's default SQLite setup), runner-memory, runner-sqlite (default: all)
// Prints one machine-readable line per measurement (bench/overhead.sh reads them):
//   quarry backend=sqlite mode=ask_tell trials=1000 setup_s=0.000812 loop_s=0.104 total_s=0.105
// setup_s: open the store, create the study, register the space; loop_s: the N trials.
// SQLite files go to DIR (default: a fresh directory under the system temp dir), one new file per
// measurement, removed afterwards.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "quarry/core/error.hpp"
#include "quarry/objectives/objective.hpp"
#include "quarry/runner/runner.hpp"
#include "quarry/samplers/random.hpp"
#include "quarry/storage/memory.hpp"
#include "quarry/storage/sqlite.hpp"
#include "quarry/study/study.hpp"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr std::uint64_t kSeed = 42;
const std::vector<std::string> kRuns = {"memory", "sqlite", "sqlite-fullsync", "runner-memory",
                                        "runner-sqlite"};

struct Args {
  std::int64_t trials = 1000;
  int repeat = 1;
  fs::path dir;
  std::vector<std::string> runs = kRuns;
};

struct Timing {
  double setup = 0;
  double loop = 0;
};

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double objective(const quarry::Params& params) {
  const double x = std::get<double>(params.at("x"));
  const double y = std::get<double>(params.at("y"));
  return (x - 2) * (x - 2) + (y + 1) * (y + 1);
}

quarry::Space bench_space() {
  quarry::Space space;
  space.add(quarry::space::Param::Float("x", -10, 10));
  space.add(quarry::space::Param::Float("y", -10, 10));
  return space;
}

enum class Backend { Memory, Sqlite, SqliteFullSync };

const char* backend_name(Backend b) {
  return b == Backend::Memory ? "memory" : b == Backend::Sqlite ? "sqlite" : "sqlite-fullsync";
}

std::shared_ptr<quarry::Storage> open_store(Backend backend, const fs::path& file) {
  if (backend == Backend::Memory) return std::make_shared<quarry::storage::MemoryStorage>();
  return std::make_shared<quarry::storage::SqliteStorage>(
      file.string(),
      quarry::storage::SqliteOptions{.full_sync = backend == Backend::SqliteFullSync});
}

/// One measurement: a fresh store and study, then `trials` trials, by hand or through the runner.
Timing measure(Backend backend, bool runner, std::int64_t trials, const fs::path& file) {
  Timing timing;
  const auto start = Clock::now();
  quarry::Study study(open_store(backend, file), "bench",
                      {.sampler = std::make_shared<quarry::samplers::RandomSampler>(
                           quarry::samplers::RandomOptions{.seed = kSeed})});
  study.register_space(bench_space());
  timing.setup = seconds_since(start);

  const auto loop_start = Clock::now();
  if (runner) {
    quarry::objectives::FunctionObjective f("quadratic", [](quarry::TrialContext& c) {
      return std::vector<double>{objective(c.params())};
    });
    quarry::runner::run(study, f, {.workers = 1, .max_trials = trials});
  } else {
    while (auto t = study.ask("bench", trials)) study.tell(t->number, {objective(t->params)});
  }
  timing.loop = seconds_since(loop_start);

  const auto stored = static_cast<std::int64_t>(study.trials().size());
  if (stored != trials)
    throw quarry::UsageError("bench_overhead: expected " + std::to_string(trials) +
                             " trials in the store, found " + std::to_string(stored));
  return timing;
}

void remove_store(const fs::path& file) {
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(file.string() + suffix);
}

void run_one(const std::string& what, const Args& args, int index) {
  const bool runner = what.starts_with("runner");
  const Backend backend = what.ends_with("fullsync") ? Backend::SqliteFullSync
                          : what.ends_with("sqlite") ? Backend::Sqlite
                                                     : Backend::Memory;
  const fs::path file = args.dir / ("quarry-" + what + "-" + std::to_string(index) + ".db");
  remove_store(file);
  const Timing t = measure(backend, runner, args.trials, file);
  remove_store(file);
  std::printf("quarry backend=%s mode=%s trials=%lld setup_s=%.6f loop_s=%.6f total_s=%.6f\n",
              backend_name(backend), runner ? "runner" : "ask_tell",
              static_cast<long long>(args.trials), t.setup, t.loop, t.setup + t.loop);
  std::fflush(stdout);
}

[[noreturn]] void usage(const std::string& problem) {
  std::cerr << "bench_overhead: " << problem << "\n"
            << "usage: bench_overhead [--trials N] [--repeat R] [--dir DIR] "
               "[--only memory|sqlite|sqlite-fullsync|runner-memory|runner-sqlite]...\n";
  std::exit(2);
}

Args parse(int argc, char** argv) {
  Args args;
  std::vector<std::string> only;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) usage(flag + " needs a value");
    const std::string value = argv[++i];
    if (flag == "--trials")
      args.trials = std::stoll(value);
    else if (flag == "--repeat")
      args.repeat = std::stoi(value);
    else if (flag == "--dir")
      args.dir = value;
    else if (flag == "--only")
      only.push_back(value);
    else
      usage("unknown option " + flag);
  }
  if (args.trials < 1 || args.repeat < 1) usage("--trials and --repeat must be >= 1");
  for (const auto& o : only)
    if (std::find(kRuns.begin(), kRuns.end(), o) == kRuns.end()) usage("unknown --only " + o);
  if (!only.empty()) args.runs = only;
  return args;
}

}  // namespace

int main(int argc, char** argv) {
  Args args = parse(argc, argv);
  const bool own_dir = args.dir.empty();
  if (own_dir) args.dir = fs::temp_directory_path() / ("quarry-bench-" + std::to_string(getpid()));
  try {
    fs::create_directories(args.dir);
    for (int r = 0; r < args.repeat; ++r)
      for (const auto& what : args.runs) run_one(what, args, r);
  } catch (const std::exception& e) {
    std::cerr << "bench_overhead: " << e.what() << "\n";
    if (own_dir) fs::remove_all(args.dir);
    return 1;
  }
  if (own_dir) fs::remove_all(args.dir);
  return 0;
}
