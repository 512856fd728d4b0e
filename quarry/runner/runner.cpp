#include "quarry/runner/runner.hpp"

#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "quarry/core/error.hpp"
#include "quarry/process/worker.hpp"

namespace quarry::runner {

namespace {

using Clock = std::chrono::steady_clock;

/// Shared state of one run: counters, the trials being run (for heartbeats), the event lock.
class RunState {
 public:
  RunState(Study& study, const RunOptions& options) : study_(study), options_(options) {}

  bool stopping() const {
    if (failed_.load() || (options_.stop && options_.stop->load())) return true;
    return options_.timeout && elapsed() >= *options_.timeout;
  }
  double elapsed() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }

  void started(const Trial& t) {
    {
      std::lock_guard lock(running_mutex_);
      running_.insert({t.number, t.worker});
    }
    emit(Event::Kind::Started, t);  // as claimed: nothing to read back
  }

  void ended(const Trial& t, TrialState state) {
    {
      std::lock_guard lock(running_mutex_);
      running_.erase({t.number, t.worker});
    }
    {
      std::lock_guard lock(done_mutex_);
      ++ended_count_;
    }
    done_cv_.notify_all();
    {
      std::lock_guard lock(event_mutex_);
      if (state == TrialState::Complete)
        ++summary_.complete;
      else if (state == TrialState::Pruned)
        ++summary_.pruned;
      else if (state == TrialState::Failed)
        ++summary_.failed;
      else
        ++summary_.interrupted;
      if (state == TrialState::Complete || state == TrialState::Pruned) failed_in_a_row_ = 0;
    }
    if (state == TrialState::Failed) count_failure(t.number);
    if (options_.on_event)
      emit(state == TrialState::Waiting ? Event::Kind::Requeued : Event::Kind::Finished,
           study_.trial(t.number));  // as stored: its values, state and timings
  }

  /// Heartbeats for running trials, and requeues other workers' dead trials, until `done`.
  void heartbeat_loop() {
    std::unique_lock lock(done_mutex_);
    while (!done_cv_.wait_for(lock, std::chrono::duration<double>(options_.heartbeat_interval),
                              [&] { return done_; })) {
      std::set<std::pair<std::int64_t, std::string>> now;
      {
        std::lock_guard running_lock(running_mutex_);
        now = running_;
      }
      try {
        for (const auto& [number, worker] : now)
          study_.storage().heartbeat(study_.id(), number, worker);
        study_.requeue_stale(options_.stale_after, options_.max_attempts);
      } catch (const StorageError&) {
        // A busy or briefly unavailable store: the next beat tries again.
      }
    }
  }

  /// Blocks until a trial of this run ends, the run stops, or `seconds` pass (a trial of another
  /// process may have ended): the scheduler said "wait".
  void wait_for_change(double seconds) {
    std::unique_lock lock(done_mutex_);
    const std::int64_t seen = ended_count_;
    done_cv_.wait_for(lock, std::chrono::duration<double>(seconds),
                      [&] { return done_ || ended_count_ != seen || stopping(); });
  }

  /// A worker hit an error that ends the search: the others start no new trial.
  void fail() { failed_ = true; }

  /// The ConsecutiveFailures error once max_consecutive_failures trials failed in a row.
  std::exception_ptr too_many_failures() {
    std::lock_guard lock(event_mutex_);
    return too_many_failures_;
  }

  void finish() {
    {
      std::lock_guard lock(done_mutex_);
      done_ = true;
    }
    done_cv_.notify_all();
  }

  RunSummary summary() {
    std::lock_guard lock(event_mutex_);
    summary_.elapsed = elapsed();
    summary_.stopped = stopping();
    return summary_;
  }

 private:
  void count_failure(std::int64_t number) {
    const auto limit = options_.max_consecutive_failures;
    std::string reason;
    {
      std::lock_guard lock(event_mutex_);
      if (!limit || ++failed_in_a_row_ < *limit || too_many_failures_) return;
    }
    try {
      reason = study_.trial(number).failure;
    } catch (const StorageError&) {
      reason = "(its reason could not be read back)";
    }
    const auto cut = reason.find('\n');  // the first line; the stderr tail is stored with it
    std::lock_guard lock(event_mutex_);
    too_many_failures_ = std::make_exception_ptr(ConsecutiveFailures(
        std::to_string(*limit) +
        " trials failed in a row (max_consecutive_failures: " + std::to_string(*limit) +
        "); the last, trial " + std::to_string(number) + ": " + reason.substr(0, cut)));
    failed_ = true;
  }

  void emit(Event::Kind kind, Trial t) {
    if (!options_.on_event) return;
    std::lock_guard lock(event_mutex_);
    options_.on_event({kind, std::move(t)});
  }

  Study& study_;
  const RunOptions& options_;
  const Clock::time_point start_ = Clock::now();
  std::mutex running_mutex_, event_mutex_, done_mutex_;
  std::set<std::pair<std::int64_t, std::string>> running_;
  std::condition_variable done_cv_;
  bool done_ = false;
  std::int64_t ended_count_ = 0;  // guarded by done_mutex_
  RunSummary summary_;
  std::int64_t failed_in_a_row_ = 0;      // guarded by event_mutex_
  std::exception_ptr too_many_failures_;  // guarded by event_mutex_
  std::atomic<bool> failed_{false};
};

/// Evaluates one claimed trial and records its outcome; returns the state it ended in.
TrialState evaluate(Study& study, objectives::Objective& objective, const Trial& trial,
                    const RunOptions& options) {
  static const std::atomic<bool> kNever{false};
  objectives::TrialContext context(
      trial.number, trial.params, trial.budget,
      [&](std::int64_t step, double value) { return study.report(trial.number, step, value); },
      options.stop ? options.stop : &kNever, trial.parent,
      [&](const std::string& key, const std::string& json) {
        study.storage().set_trial_attr(study.id(), trial.number, key, json);
      });
  try {
    study.tell(trial.number, objective.evaluate(context));
    return study.trial(trial.number).state;
  } catch (const TrialPruned&) {
    study.tell(trial.number, TrialState::Pruned);
    return TrialState::Pruned;
  } catch (const TrialInterrupted&) {
    study.requeue(trial, "interrupted");
    return TrialState::Waiting;
  } catch (const TrialFailed& e) {
    study.tell(trial.number, TrialState::Failed, e.what());
    return TrialState::Failed;
  } catch (const FatalTrialError& e) {
    study.tell(trial.number, TrialState::Failed, e.what());
    throw;  // the objective cannot run at all: stop the search
  } catch (const StorageError&) {
    throw;  // the store itself is failing: stop this worker, keep what is stored
  } catch (const std::exception& e) {
    study.tell(trial.number, TrialState::Failed, std::string("objective raised: ") + e.what());
    return TrialState::Failed;
  }
}

}  // namespace

RunSummary run(Study& study, objectives::Objective& objective, const RunOptions& options) {
  if (options.workers < 1)
    throw InvalidArgument("run: workers >= 1 must hold, got " + std::to_string(options.workers));
  RunState state(study, options);
  study.requeue_stale(options.stale_after, options.max_attempts);
  std::thread beat([&] { state.heartbeat_loop(); });

  std::mutex error_mutex;
  std::exception_ptr error;
  std::vector<std::thread> workers;
  for (int slot = 0; slot < options.workers; ++slot)
    workers.emplace_back([&, slot] {
      const std::string worker = process::local_worker_id(slot);
      try {
        while (!state.stopping()) {
          auto next = study.next(worker, options.max_trials);
          if (next.kind == schedulers::Assignment::Kind::Done) break;
          if (next.kind == schedulers::Assignment::Kind::Wait) {
            state.wait_for_change(0.5);
            continue;
          }
          state.started(*next.trial);
          state.ended(*next.trial, evaluate(study, objective, *next.trial, options));
        }
      } catch (...) {
        state.fail();
        std::lock_guard lock(error_mutex);
        if (!error) error = std::current_exception();
      }
    });
  for (auto& w : workers) w.join();
  state.finish();
  beat.join();
  if (error) std::rethrow_exception(error);
  if (auto failures = state.too_many_failures()) std::rethrow_exception(failures);
  return state.summary();
}

}  // namespace quarry::runner
