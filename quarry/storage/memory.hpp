// MemoryStorage: the store in the process's memory, for tests, benchmarks and throw-away searches.
//
// Keeps the whole Storage contract (storage.hpp) except durability beyond the process: everything
// is lost when the object is destroyed. One mutex guards everything, so every method is thread safe
// and atomic; a call costs about a microsecond (no I/O, no encoding).
//
// Conventions shared with SqliteStorage (the conformance suite checks both):
//  - study ids start at 1; an unknown study id or trial number throws InvalidArgument;
//  - set_params merges: names given overwrite, names not given are kept;
//  - finish_trial: Complete takes one value per objective; Pruned and Failed take none or one per
//    objective; `failure` records why the trial did not complete;
//  - requeue_trial keeps params, attempts, worker and started_at, clears intermediate values and
//    the heartbeat, and records `reason` as the trial's `failure` until it is finished again.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "quarry/storage/storage.hpp"

namespace quarry::storage {

class MemoryStorage final : public Storage {
 public:
  MemoryStorage() = default;

  StudyInfo create_study(const std::string& name,
                         const std::vector<Direction>& directions) override;
  std::optional<StudyInfo> find_study(const std::string& name) override;
  std::vector<StudyInfo> list_studies() override;

  std::optional<std::string> get_attr(std::int64_t study, const std::string& key) override;
  void set_attr(std::int64_t study, const std::string& key, const std::string& value) override;
  bool compare_and_set_attr(std::int64_t study, const std::string& key,
                            const std::optional<std::string>& expected,
                            const std::string& desired) override;

  std::optional<Trial> create_trial(std::int64_t study, const NewTrial& trial,
                                    std::optional<std::int64_t> limit = std::nullopt) override;
  std::optional<Trial> claim_trial(std::int64_t study, const std::string& worker) override;
  void set_params(std::int64_t study, std::int64_t number, const Params& params) override;
  void report(std::int64_t study, std::int64_t number, std::int64_t step, double value) override;
  bool heartbeat(std::int64_t study, std::int64_t number, const std::string& worker) override;
  void finish_trial(std::int64_t study, std::int64_t number, TrialState state,
                    const std::vector<double>& values, const std::string& failure = {}) override;
  bool requeue_trial(std::int64_t study, std::int64_t number, std::int64_t attempts,
                     const std::string& reason) override;
  void set_trial_attr(std::int64_t study, std::int64_t number, const std::string& key,
                      const std::string& value) override;

  Trial get_trial(std::int64_t study, std::int64_t number) override;
  std::vector<Trial> get_trials(std::int64_t study) override;
  std::int64_t count_trials(std::int64_t study) override;

 private:
  struct StudyData {
    StudyInfo info;
    std::map<std::string, std::string> attrs;
    std::vector<Trial> trials;       ///< index == number
    std::set<std::int64_t> waiting;  ///< numbers of Waiting trials, so a claim is O(log n)
  };

  StudyData& study_data(std::int64_t study);
  Trial& trial_data(std::int64_t study, std::int64_t number);
  /// The trial, checked to be in one of `allowed` states; StorageError naming `operation` if not.
  Trial& writable_trial(std::int64_t study, std::int64_t number, const char* operation,
                        std::initializer_list<TrialState> allowed);

  std::mutex mutex_;
  std::vector<StudyData> studies_;  ///< index == id - 1
  std::unordered_map<std::string, std::int64_t> ids_by_name_;
};

}  // namespace quarry::storage
