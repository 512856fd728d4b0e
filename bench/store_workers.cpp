// Many worker processes on one store: what the store costs per trial when every worker shares it.
//
// Starts P processes (fork, then each opens its own store on URL) that together run T trials of
// f(x, y) = (x - 2)^2 + (y + 1)^2 with the random sampler, the way a user of the C++ API writes a
// worker:
//
//   while (auto t = study.ask("bench", trials)) study.tell(t->number, {f(t->params)});
//
// `ask` with the study's trial limit T: the store hands out numbers 0..T-1 across all processes.
// Then checks the store: T trials, every number 0..T-1 exactly once, all Complete, and counts the
// errors the workers met. Prints one line:
//   quarry store=postgresql processes=16 trials=2000 errors=0 numbers_ok=1 loop_s=1.93
//   trials_per_s=1036
//
// Usage: bench_store_workers --storage URL [--processes P] [--trials T]
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <set>
#include <string>
#include <vector>

#include "quarry/core/error.hpp"
#include "quarry/samplers/random.hpp"
#include "quarry/space/space.hpp"
#include "quarry/storage/storage.hpp"
#include "quarry/study/study.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double objective(const quarry::Params& params) {
  const double x = std::get<double>(params.at("x"));
  const double y = std::get<double>(params.at("y"));
  return (x - 2) * (x - 2) + (y + 1) * (y + 1);
}

quarry::Study open_study(const std::string& url, std::uint64_t seed) {
  quarry::Study study(quarry::storage::open_storage(url), "bench",
                      {.sampler = std::make_shared<quarry::samplers::RandomSampler>(
                           quarry::samplers::RandomOptions{.seed = seed})});
  quarry::Space space;
  space.add(quarry::space::Param::Float("x", -10, 10));
  space.add(quarry::space::Param::Float("y", -10, 10));
  study.register_space(space);
  return study;
}

/// One worker process: trials until the study has `trials`; exit status = errors met (max 100).
[[noreturn]] void work(const std::string& url, int index, std::int64_t trials) {
  int errors = 0;
  try {
    quarry::Study study = open_study(url, 1000 + static_cast<std::uint64_t>(index));
    while (auto t = study.ask("bench", trials)) {
      try {
        study.tell(t->number, {objective(t->params)});
      } catch (const std::exception& e) {
        std::cerr << "worker " << index << ": " << e.what() << "\n";
        ++errors;
      }
    }
  } catch (const std::exception& e) {
    std::cerr << "worker " << index << ": " << e.what() << "\n";
    ++errors;
  }
  std::_Exit(errors > 100 ? 100 : errors);
}

[[noreturn]] void usage(const std::string& why) {
  std::cerr << "bench_store_workers: " << why
            << "\nusage: bench_store_workers --storage URL [--processes P] [--trials T]\n";
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  std::string url;
  int processes = 16;
  std::int64_t trials = 2000;
  for (int i = 1; i < argc; i += 2) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) usage(flag + " needs a value");
    const std::string value = argv[i + 1];
    if (flag == "--storage")
      url = value;
    else if (flag == "--processes")
      processes = std::atoi(value.c_str());
    else if (flag == "--trials")
      trials = std::atoll(value.c_str());
    else
      usage("unknown flag " + flag);
  }
  if (url.empty() || processes < 1 || trials < 1) usage("--storage is needed; P, T >= 1");
  try {
    open_study(url, 1);  // creates the study (and the schema) before the workers race for it
  } catch (const std::exception& e) {
    std::cerr << "bench_store_workers: " << e.what() << "\n";
    return 2;
  }

  const auto start = Clock::now();
  std::vector<pid_t> children;
  for (int i = 0; i < processes; ++i) {
    const pid_t pid = fork();
    if (pid < 0) usage("fork failed");
    if (pid == 0) work(url, i, trials);  // opens its store after fork(), as it must
    children.push_back(pid);
  }
  int errors = 0;
  for (const pid_t pid : children) {
    int status = 0;
    waitpid(pid, &status, 0);
    errors += WIFEXITED(status) ? WEXITSTATUS(status) : 1;
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();

  const auto stored = open_study(url, 1).trials();
  std::set<std::int64_t> numbers;
  bool ok = static_cast<std::int64_t>(stored.size()) == trials;
  for (const auto& t : stored) {
    ok = ok && numbers.insert(t.number).second && t.state == quarry::TrialState::Complete;
  }
  ok = ok && !numbers.empty() && *numbers.begin() == 0 && *numbers.rbegin() == trials - 1;
  std::printf(
      "quarry store=%s processes=%d trials=%lld errors=%d numbers_ok=%d loop_s=%.3f "
      "trials_per_s=%.0f\n",
      quarry::storage::is_postgres_url(url) ? "postgresql" : "sqlite", processes,
      static_cast<long long>(stored.size()), errors, ok ? 1 : 0, seconds,
      static_cast<double>(stored.size()) / seconds);
  return ok && errors == 0 ? 0 : 1;
}
