// A trial: one configuration evaluated at one budget, and everything recorded about it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "quarry/space/value.hpp"

namespace quarry::study {

/// Waiting (queued, not claimed) -> Running (claimed by one worker) -> Complete | Pruned | Failed.
/// A running trial whose worker stopped (Ctrl-C, crash, lost heartbeat) goes back to Waiting and is
/// run again; finished trials never change.
enum class TrialState { Waiting, Running, Complete, Pruned, Failed };

std::string to_string(TrialState s);
TrialState trial_state_from_string(const std::string& s);  // throws InvalidArgument
inline bool is_finished(TrialState s) {
  return s == TrialState::Complete || s == TrialState::Pruned || s == TrialState::Failed;
}

enum class Direction { Minimize, Maximize };
std::string to_string(Direction d);
/// "minimize" | "maximize"; throws InvalidArgument.
Direction direction_from_string(const std::string& s);

struct Trial {
  /// Unique within the study, assigned atomically by the store: 0, 1, 2...
  std::int64_t number = -1;
  TrialState state = TrialState::Waiting;
  Params params;
  std::vector<double> values;                   ///< one per objective, set when Complete
  std::map<std::int64_t, double> intermediate;  ///< step (e.g. epoch) -> reported value
  double budget = 0;  ///< resource granted (epochs, fraction...); 0 = the full budget
  std::optional<std::int64_t> parent;  ///< the trial this one continues (promotion, morphism)
  double created_at = 0;               ///< seconds since the Unix epoch
  std::optional<double> started_at;    ///< last claim
  std::optional<double> finished_at;
  std::string worker;               ///< "host:pid:slot" of the worker that claimed it last
  std::optional<double> heartbeat;  ///< last sign of life from that worker
  std::int64_t attempts = 0;        ///< how many times it was claimed
  std::string failure;              ///< why it failed, with the tail of the program's stderr
  std::map<std::string, std::string> attrs;  ///< free-form facts (JSON text), e.g. model size

  bool finished() const { return is_finished(state); }
  /// Seconds from start to finish (or to now while running); nullopt before it starts.
  std::optional<double> duration() const;
  /// The last reported intermediate value, if any.
  std::optional<double> last_intermediate() const;
};

/// What creating a trial needs to know; the store fills number, created_at, attempts.
struct NewTrial {
  TrialState state = TrialState::Running;  ///< Running (claimed at once by `worker`) or Waiting
  Params params;
  double budget = 0;
  std::optional<std::int64_t> parent;
  std::string worker;  ///< who claims it when state is Running
};

/// Seconds since the Unix epoch, with sub-millisecond resolution.
double now_seconds();

}  // namespace quarry::study

namespace quarry {
using study::Direction;
using study::Trial;
using study::TrialState;
}  // namespace quarry
