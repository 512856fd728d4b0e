// `quarry search STUDY.yaml`: run (or resume) a study, with a line per trial and, on a terminal,
// a live progress line.

#include <sys/ioctl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <iostream>
#include <mutex>
#include <thread>

#include "quarry/cli/commands.hpp"
#include "quarry/cli/common.hpp"
#include "quarry/cli/definition.hpp"
#include "quarry/cli/model_study.hpp"
#include "quarry/core/error.hpp"
#include "quarry/report/export.hpp"
#include "quarry/runner/runner.hpp"
#include "quarry/schedulers/hyperband.hpp"

namespace quarry::cli {

namespace {

// Failed trials in a row that stop a search when the study file does not say (Keras Tuner's
// max_consecutive_failed_trials default).
constexpr std::int64_t kMaxConsecutiveFailures = 3;

/// Keeps the counts behind the progress line and prints one line per finished trial. On a
/// terminal (and without --quiet) a live line stays under them: a bar, trials done of the total,
/// running, best so far, elapsed time and ETA, redrawn each second and after every trial.
class Progress {
 public:
  Progress(Study& study, std::vector<std::string> metrics, std::optional<std::int64_t> total,
           bool quiet)
      : study_(study),
        metrics_(std::move(metrics)),
        total_(total),
        quiet_(quiet),
        live_(!quiet && isatty(STDOUT_FILENO) == 1) {
    for (const auto& t : study.trials()) {
      if (t.finished()) ++finished_before_;
      if (t.state == TrialState::Failed) ++failed_;
      if (t.state == TrialState::Pruned) ++pruned_;
      consider_best(t);
    }
    if (live_)
      ticker_ = std::thread([this] {
        std::unique_lock lock(mutex_);
        while (!done_) {
          redraw();
          wake_.wait_for(lock, std::chrono::seconds(1));
        }
      });
  }
  ~Progress() { finish(); }
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void on_event(const runner::Event& e) {
    std::lock_guard lock(mutex_);
    if (e.kind == runner::Event::Kind::Started) {
      ++running_;
      if (live_) redraw();
      return;
    }
    --running_;
    if (e.kind == runner::Event::Kind::Requeued) return;
    ++finished_now_;
    if (e.trial.state == TrialState::Failed) ++failed_;
    if (e.trial.state == TrialState::Pruned) ++pruned_;
    consider_best(e.trial);
    if (quiet_) return;
    if (live_) {
      std::cout << "\r\033[K" << trial_line(e.trial) << "\n";
      redraw();
    } else {
      std::cout << trial_line(e.trial) << " | " << counts() << std::endl;
    }
  }

  /// Stops the live line and clears it (the summary follows).
  void finish() {
    {
      std::lock_guard lock(mutex_);
      if (done_) return;
      done_ = true;
      if (live_) std::cout << "\r\033[K" << std::flush;
    }
    wake_.notify_all();
    if (ticker_.joinable()) ticker_.join();
  }

 private:
  void consider_best(const Trial& t) {
    if (t.state != TrialState::Complete || t.values.empty()) return;
    if (!best_ || study_.better(t.values[0], best_->values[0])) best_ = t;
  }

  std::string trial_line(const Trial& t) const {
    std::string s = "trial " + std::to_string(t.number) + " " + study::to_string(t.state);
    if (t.state == TrialState::Complete)
      for (std::size_t i = 0; i < t.values.size(); ++i)
        s += " " + (i < metrics_.size() ? metrics_[i] : "value") + "=" +
             report::format_number(t.values[i]);
    if (t.state == TrialState::Failed) s += ": " + t.failure.substr(0, t.failure.find('\n'));
    if (auto d = t.duration()) s += " (" + report::format_duration(*d) + ")";
    return s;
  }

  /// "12/40 done, 2 running, 1 pruned, 0 failed | best 0.31 (trial 7) | 1m 2s, ETA 2m 10s".
  std::string counts() const {
    const std::int64_t done = finished_before_ + finished_now_;
    std::string s = std::to_string(done) + (total_ ? "/" + std::to_string(*total_) : "") +
                    " done, " + std::to_string(running_) + " running, " + std::to_string(pruned_) +
                    " pruned, " + std::to_string(failed_) + " failed";
    if (best_)
      s += " | best " + report::format_number(best_->values[0]) + " (trial " +
           std::to_string(best_->number) + ")";
    const double elapsed = clock_.elapsed();
    s += " | " + report::format_duration(elapsed);
    if (total_ && finished_now_ > 0 && done < *total_)
      s += ", ETA " + report::format_duration(elapsed / static_cast<double>(finished_now_) *
                                              static_cast<double>(*total_ - done));
    return s;
  }

  /// The live line, cut to the terminal's width so that it never wraps.
  void redraw() const {
    std::string line;
    if (total_ && *total_ > 0) {
      constexpr int kWidth = 20;
      const auto done = std::min(finished_before_ + finished_now_, *total_);
      const auto filled = static_cast<int>(done * kWidth / *total_);
      line = "[" + std::string(static_cast<std::size_t>(filled), '#') +
             std::string(static_cast<std::size_t>(kWidth - filled), '-') + "] ";
    }
    line += counts();
    winsize size{};
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 1 &&
        line.size() >= size.ws_col)
      line.resize(size.ws_col - 1);
    std::cout << "\r\033[K" << line << std::flush;
  }

  struct Clock {
    std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
    double elapsed() const {
      return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
  };

  Study& study_;
  std::vector<std::string> metrics_;
  std::optional<std::int64_t> total_;
  bool quiet_, live_;
  Clock clock_;
  std::int64_t finished_before_ = 0, finished_now_ = 0, failed_ = 0, pruned_ = 0;
  int running_ = 0;
  std::optional<Trial> best_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool done_ = false;
  std::thread ticker_;
};

/// The most trials this search runs: max_trials, or a Hyperband schedule's size (BOHB's too),
/// the smaller of the two; nullopt when nothing bounds it.
std::optional<std::int64_t> planned_trials(Study& study, std::optional<std::int64_t> max_trials) {
  if (const auto* hb = dynamic_cast<const schedulers::Hyperband*>(&study.scheduler())) {
    const auto schedule = hb->schedule().total_trials();
    return max_trials ? std::min(*max_trials, schedule) : schedule;
  }
  return max_trials;
}

void print_summary(Study& study, const std::vector<std::string>& metrics,
                   const runner::RunSummary& s) {
  auto trials = study.trials();
  std::cout << "\nstudy '" << study.name() << "': " << trials.size()
            << " trials; this run: " << s.complete << " complete, " << s.pruned << " pruned, "
            << s.failed << " failed in " << report::format_duration(s.elapsed) << "\n";
  std::vector<Trial> complete;
  for (auto& t : trials)
    if (t.state == TrialState::Complete && !t.values.empty()) complete.push_back(std::move(t));
  std::stable_sort(complete.begin(), complete.end(), [&](const Trial& a, const Trial& b) {
    return study.better(a.values[0], b.values[0]);
  });
  if (complete.empty()) {
    std::cout << "no trial completed yet\n";
    return;
  }
  if (complete.size() > 10) complete.resize(10);
  std::cout << "\nbest trials:\n";
  report::write_table(std::cout, complete,
                      report::columns_for(complete, metrics, study.directions().size()));
  std::cout << "\nbest hyperparameters (trial " << complete[0].number << "):\n";
  for (const auto& [name, value] : complete[0].params)
    std::cout << "  " << name << ": " << space::to_string(value) << "\n";
}

}  // namespace

int search_command(int argc, char** argv) {
  Args args(argc, argv, 2, {"quiet"},
            {"workers", "max-trials", "timeout", "seed", "storage", "study"});
  StudyRef ref = resolve_study(args, "search");
  if (!ref.file) throw CommandLineError("search: needs a study file (quarry search STUDY.yaml)");
  if (ref.file->automl) return automl_study(*ref.file, args, argc, argv);
  return run_search(*ref.file, ref.storage, args, argc, argv, true);
}

int run_search(const config::StudyFile& file, const std::string& storage, const Args& args,
               int argc, char** argv, bool from_file) {
  const auto seed = args.integer("seed", 0);
  const bool quiet = args.flag("quiet");
  // First the objective: a bad command or missing data creates no store.
  std::optional<ModelStudy> model_study;
  if (file.model) {
    hand_over_to_trainer(argc, argv);
    model_study = load_model_study(file, quiet);
  }
  auto objective = model_study ? model_objective(*model_study) : objective_of(file);
  const auto opened =
      open_for_search(file, storage, seed ? static_cast<std::uint64_t>(*seed) : file.seed);
  Study& study = *opened;
  // What `quarry worker` on another machine needs to run this study without the file.
  if (from_file) store_definition(study, file);
  const auto metrics = metric_names(study);
  if (model_study) {  // donors for weight inheritance, parents' budgets for lower fidelities
    model_study->options.trials = [&study] { return study.trials(); };
    objective = model_objective(*model_study);
  }

  runner::RunOptions options;
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  options.workers =
      static_cast<int>(args.integer("workers", 1).value_or(file.workers.value_or(cores)));
  options.max_trials = args.integer("max-trials", 1);
  if (!options.max_trials) options.max_trials = file.max_trials;
  options.timeout = args.number("timeout", 0);
  if (!options.timeout) options.timeout = file.timeout;
  options.max_consecutive_failures =
      file.max_consecutive_failures.value_or(kMaxConsecutiveFailures);
  if (file.stale_after) options.stale_after = *file.stale_after;
  if (file.max_attempts) options.max_attempts = *file.max_attempts;
  const auto& stop = install_interrupt_handlers();
  options.stop = &stop;
  if (!quiet)
    std::cout << "study '" << study.name() << "' in " << storage::shown_url(storage) << ": "
              << study.trials().size() << " trials stored; " << options.workers
              << " worker(s), objective: " << objective->describe() << std::endl;
  Progress progress(study, metrics, planned_trials(study, options.max_trials), quiet);
  options.on_event = [&](const runner::Event& e) { progress.on_event(e); };
  runner::RunSummary summary;
  try {
    summary = runner::run(study, *objective, options);
  } catch (const runner::ConsecutiveFailures& e) {  // exit 1: the trials failed, not the input
    progress.finish();
    std::cerr << "quarry: error: " << e.what() << "\n";
    return 1;
  }
  progress.finish();
  print_summary(study, metrics, summary);
  // The retrain of the best is the search's to do, not every worker's.
  // Its seeds: one per worker (so the same file, seed and workers give the same saved model).
  if (model_study && !stop.load() && from_file)
    finish_model_study(study, *model_study, std::cout, options.workers);
  if (stop.load()) {
    std::cout << "\nstopped: " << summary.interrupted
              << " running trial(s) put back in the queue; run the same command to resume\n";
    return interrupted_exit_code();
  }
  return 0;
}

}  // namespace quarry::cli
