#include "quarry/study/trial.hpp"

#include <chrono>

#include "quarry/core/error.hpp"

namespace quarry::study {

std::string to_string(TrialState s) {
  switch (s) {
    case TrialState::Waiting:
      return "waiting";
    case TrialState::Running:
      return "running";
    case TrialState::Complete:
      return "complete";
    case TrialState::Pruned:
      return "pruned";
    case TrialState::Failed:
      return "failed";
  }
  return "?";
}

TrialState trial_state_from_string(const std::string& s) {
  for (auto st : {TrialState::Waiting, TrialState::Running, TrialState::Complete,
                  TrialState::Pruned, TrialState::Failed})
    if (to_string(st) == s) return st;
  throw InvalidArgument("unknown trial state '" + s +
                        "' (expected waiting, running, complete, pruned or failed)");
}

std::string to_string(Direction d) {
  return d == Direction::Minimize ? "minimize" : "maximize";
}

Direction direction_from_string(const std::string& s) {
  if (s == "minimize" || s == "min") return Direction::Minimize;
  if (s == "maximize" || s == "max") return Direction::Maximize;
  throw InvalidArgument("unknown direction '" + s + "' (expected minimize or maximize)");
}

std::optional<double> Trial::duration() const {
  if (!started_at) return std::nullopt;
  return finished_at.value_or(now_seconds()) - *started_at;
}

std::optional<double> Trial::last_intermediate() const {
  if (intermediate.empty()) return std::nullopt;
  return intermediate.rbegin()->second;
}

double now_seconds() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

}  // namespace quarry::study
