#include "quarry/storage/rules.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "quarry/core/error.hpp"

namespace quarry::storage::detail {

using study::TrialState;

study::Trial new_trial_record(std::int64_t number, const study::NewTrial& trial) {
  study::Trial t;
  t.number = number;
  t.state = trial.state;
  t.params = trial.params;
  t.budget = trial.budget;
  t.parent = trial.parent;
  t.created_at = study::now_seconds();
  if (t.state == study::TrialState::Running) {
    t.started_at = t.heartbeat = t.created_at;
    t.worker = trial.worker;
    t.attempts = 1;
  }
  return t;
}

std::string requeue_key(std::int64_t attempts) {
  return "requeue." + std::to_string(attempts);
}

std::string requeue_value(const std::string& reason) {
  return nlohmann::json(reason).dump();
}

std::string trial_name(std::int64_t study, std::int64_t number) {
  return "trial " + std::to_string(number) + " of study " + std::to_string(study);
}

void check_new_study(const std::string& name, const std::vector<study::Direction>& directions) {
  if (name.empty()) throw InvalidArgument("create_study: a study needs a name, got ''");
  if (directions.empty())
    throw InvalidArgument("create_study('" + name + "'): needs at least one direction");
}

void check_finish(std::int64_t study, std::int64_t number, TrialState state, std::size_t values,
                  std::size_t objectives) {
  const bool finished = is_finished(state);
  if (finished && (values == objectives || (values == 0 && state != TrialState::Complete))) return;
  const std::string who = "finish_trial(" + trial_name(study, number) + ")";
  if (!finished)
    throw InvalidArgument(who + ": the new state must be complete, pruned or failed, got " +
                          study::to_string(state));
  throw InvalidArgument(who + ": " + study::to_string(state) + " needs " +
                        (state == TrialState::Complete ? "" : "0 or ") +
                        std::to_string(objectives) + " value(s), one per objective, got " +
                        std::to_string(values));
}

void check_writable(TrialState state, std::int64_t study, std::int64_t number,
                    const char* operation, std::initializer_list<TrialState> allowed) {
  if (std::find(allowed.begin(), allowed.end(), state) != allowed.end()) return;
  throw StorageError(
      std::string(operation) + "(" + trial_name(study, number) + "): the trial is " +
      study::to_string(state) +
      (is_finished(state) ? "; finished trials never change" : "; it is not running"));
}

void check_new_trial(study::TrialState state) {
  if (state != study::TrialState::Waiting && state != study::TrialState::Running)
    throw InvalidArgument("create_trial: a new trial is waiting or running, got " +
                          study::to_string(state));
}

}  // namespace quarry::storage::detail
