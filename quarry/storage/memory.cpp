#include "quarry/storage/memory.hpp"

#include "quarry/core/error.hpp"
#include "quarry/storage/rules.hpp"

namespace quarry::storage {

namespace {

using Lock = std::lock_guard<std::mutex>;
using detail::check_finish;
using detail::check_new_study;
using detail::trial_name;

}  // namespace

// --- studies ---------------------------------------------------------------------------------

StudyInfo MemoryStorage::create_study(const std::string& name,
                                      const std::vector<Direction>& directions) {
  check_new_study(name, directions);
  Lock lock(mutex_);
  if (ids_by_name_.count(name)) throw DuplicateStudy("study '" + name + "' already exists");
  StudyData data;
  data.info = {static_cast<std::int64_t>(studies_.size()) + 1, name, directions,
               study::now_seconds()};
  studies_.push_back(std::move(data));
  ids_by_name_[name] = studies_.back().info.id;
  return studies_.back().info;
}

std::optional<StudyInfo> MemoryStorage::find_study(const std::string& name) {
  Lock lock(mutex_);
  auto it = ids_by_name_.find(name);
  if (it == ids_by_name_.end()) return std::nullopt;
  return studies_[it->second - 1].info;
}

std::vector<StudyInfo> MemoryStorage::list_studies() {
  Lock lock(mutex_);
  std::vector<StudyInfo> out;
  for (const auto& s : studies_) out.push_back(s.info);
  return out;
}

std::optional<std::string> MemoryStorage::get_attr(std::int64_t study, const std::string& key) {
  Lock lock(mutex_);
  const auto& attrs = study_data(study).attrs;
  auto it = attrs.find(key);
  if (it == attrs.end()) return std::nullopt;
  return it->second;
}

void MemoryStorage::set_attr(std::int64_t study, const std::string& key, const std::string& value) {
  Lock lock(mutex_);
  study_data(study).attrs[key] = value;
}

bool MemoryStorage::compare_and_set_attr(std::int64_t study, const std::string& key,
                                         const std::optional<std::string>& expected,
                                         const std::string& desired) {
  Lock lock(mutex_);
  auto& attrs = study_data(study).attrs;
  auto it = attrs.find(key);
  const bool matches = it == attrs.end() ? !expected : expected && it->second == *expected;
  if (matches) attrs[key] = desired;
  return matches;
}

// --- trials ----------------------------------------------------------------------------------

std::optional<Trial> MemoryStorage::create_trial(std::int64_t study, const NewTrial& trial,
                                                 std::optional<std::int64_t> limit) {
  detail::check_new_trial(trial.state);
  Lock lock(mutex_);
  auto& data = study_data(study);
  const auto number = static_cast<std::int64_t>(data.trials.size());
  if (limit && number >= *limit) return std::nullopt;
  Trial t = detail::new_trial_record(number, trial);
  if (trial.state == TrialState::Waiting) data.waiting.insert(number);
  data.trials.push_back(t);
  return t;
}

std::optional<Trial> MemoryStorage::claim_trial(std::int64_t study, const std::string& worker) {
  Lock lock(mutex_);
  auto& data = study_data(study);
  if (data.waiting.empty()) return std::nullopt;
  Trial& t = data.trials[*data.waiting.begin()];
  data.waiting.erase(data.waiting.begin());
  t.state = TrialState::Running;
  t.worker = worker;
  t.started_at = t.heartbeat = study::now_seconds();
  t.attempts += 1;
  return t;
}

void MemoryStorage::set_params(std::int64_t study, std::int64_t number, const Params& params) {
  Lock lock(mutex_);
  Trial& t =
      writable_trial(study, number, "set_params", {TrialState::Waiting, TrialState::Running});
  for (const auto& [name, value] : params) t.params[name] = value;
}

void MemoryStorage::report(std::int64_t study, std::int64_t number, std::int64_t step,
                           double value) {
  Lock lock(mutex_);
  writable_trial(study, number, "report", {TrialState::Running}).intermediate[step] = value;
}

bool MemoryStorage::heartbeat(std::int64_t study, std::int64_t number, const std::string& worker) {
  Lock lock(mutex_);
  Trial& t = trial_data(study, number);
  if (t.state != TrialState::Running || t.worker != worker) return false;
  t.heartbeat = study::now_seconds();
  return true;
}

void MemoryStorage::finish_trial(std::int64_t study, std::int64_t number, TrialState state,
                                 const std::vector<double>& values, const std::string& failure) {
  Lock lock(mutex_);
  Trial& t = writable_trial(study, number, "finish_trial", {TrialState::Running});
  check_finish(study, number, state, values.size(), study_data(study).info.directions.size());
  t.state = state;
  t.values = values;
  t.failure = failure;
  t.finished_at = study::now_seconds();
}

bool MemoryStorage::requeue_trial(std::int64_t study, std::int64_t number, std::int64_t attempts,
                                  const std::string& reason) {
  Lock lock(mutex_);
  Trial& t =
      writable_trial(study, number, "requeue_trial", {TrialState::Waiting, TrialState::Running});
  if (t.state != TrialState::Running || t.attempts != attempts) return false;
  t.state = TrialState::Waiting;
  t.intermediate.clear();
  t.heartbeat.reset();
  t.failure = reason;
  t.attrs[detail::requeue_key(attempts)] = detail::requeue_value(reason);
  study_data(study).waiting.insert(number);
  return true;
}

void MemoryStorage::set_trial_attr(std::int64_t study, std::int64_t number, const std::string& key,
                                   const std::string& value) {
  Lock lock(mutex_);
  writable_trial(study, number, "set_trial_attr", {TrialState::Waiting, TrialState::Running})
      .attrs[key] = value;
}

Trial MemoryStorage::get_trial(std::int64_t study, std::int64_t number) {
  Lock lock(mutex_);
  return trial_data(study, number);
}

std::vector<Trial> MemoryStorage::get_trials(std::int64_t study) {
  Lock lock(mutex_);
  return study_data(study).trials;
}

std::int64_t MemoryStorage::count_trials(std::int64_t study) {
  Lock lock(mutex_);
  return static_cast<std::int64_t>(study_data(study).trials.size());
}

// --- lookups (the mutex is held) -------------------------------------------------------------

MemoryStorage::StudyData& MemoryStorage::study_data(std::int64_t study) {
  if (study < 1 || study > static_cast<std::int64_t>(studies_.size()))
    throw InvalidArgument("MemoryStorage: unknown study id " + std::to_string(study));
  return studies_[study - 1];
}

Trial& MemoryStorage::trial_data(std::int64_t study, std::int64_t number) {
  auto& trials = study_data(study).trials;
  if (number < 0 || number >= static_cast<std::int64_t>(trials.size()))
    throw InvalidArgument("MemoryStorage: unknown " + trial_name(study, number));
  return trials[number];
}

Trial& MemoryStorage::writable_trial(std::int64_t study, std::int64_t number, const char* operation,
                                     std::initializer_list<TrialState> allowed) {
  Trial& t = trial_data(study, number);
  detail::check_writable(t.state, study, number, operation, allowed);
  return t;
}

}  // namespace quarry::storage
