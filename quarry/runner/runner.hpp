// The worker loop: ask -> evaluate -> tell, with N trials side by side in one process.
//
// Every step goes through the store before it counts, so the search can be stopped at any moment
// (Ctrl-C, kill -9, a power cut) and resumed: finished trials stay, and a trial that was running is
// put back in the queue — at once by a graceful stop, or by the next search that finds its worker
// process gone or silent (no heartbeat for `stale_after` seconds).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>

#include "quarry/core/error.hpp"
#include "quarry/objectives/objective.hpp"
#include "quarry/study/study.hpp"

namespace quarry::runner {

/// What the runner tells an observer (the CLI's progress line).
struct Event {
  enum class Kind { Started, Finished, Requeued } kind;
  Trial trial;  ///< the trial as stored after the event
};

struct RunOptions {
  int workers = 1;  ///< trials run side by side (threads)
  std::optional<std::int64_t>
      max_trials;                   ///< total trials in the study (resumes count earlier ones)
  std::optional<double> timeout;    ///< seconds after which no new trial starts
  double heartbeat_interval = 2.0;  ///< seconds between heartbeats of running trials
  double stale_after = 60.0;        ///< a running trial silent this long is requeued...
  std::int64_t max_attempts = 3;    ///< ...or failed, when this was its max_attempts-th run
  const std::atomic<bool>* stop =
      nullptr;  ///< set it (e.g. from a SIGINT handler) to stop gracefully
  std::function<void(const Event&)> on_event;  ///< called from worker threads, one call at a time
  /// Stop (ConsecutiveFailures) once this many trials in a row failed, in the order they ended
  /// (Keras Tuner's max_consecutive_failed_trials); nullopt: never.
  std::optional<std::int64_t> max_consecutive_failures;
};

/// `max_consecutive_failures` trials failed in a row: the objective is broken, not one
/// configuration. what(): "3 trials failed in a row (max_consecutive_failures: 3); the last,
/// trial 7: exited with status 1". Finished trials stay stored.
class ConsecutiveFailures : public Error {
 public:
  using Error::Error;
};

struct RunSummary {
  std::int64_t complete = 0, pruned = 0, failed = 0, interrupted = 0;
  double elapsed = 0;    ///< seconds
  bool stopped = false;  ///< ended by `stop` or `timeout` rather than by running out of trials
};

/// Runs the study until max_trials, the sampler's capacity, the timeout or a stop. Trials that fail
/// (TrialFailed or any other exception from the objective) are recorded and the search goes on.
RunSummary run(Study& study, objectives::Objective& objective, const RunOptions& options);

}  // namespace quarry::runner
