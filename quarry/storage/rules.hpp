// The rules every store applies to its callers' requests, in one place so that MemoryStorage and
// SqliteStorage raise the same errors with the same messages (the conformance suite checks both).
// Implementation detail of the stores in this folder, not part of Quarry's API.
//
// Each check returns quietly when the request is allowed and builds its message only when it
// throws, so the common path costs a comparison or two.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "quarry/study/trial.hpp"

namespace quarry::storage::detail {

/// The trial attribute a requeue leaves, so that every requeue stays on record after the trial
/// finishes: "requeue.<attempts>" (the claim it ended) = the reason as a JSON string.
std::string requeue_key(std::int64_t attempts);
std::string requeue_value(const std::string& reason);

/// "trial 3 of study 1", as errors name a trial.
std::string trial_name(std::int64_t study, std::int64_t number);

/// InvalidArgument unless the study has a name and at least one direction.
void check_new_study(const std::string& name, const std::vector<study::Direction>& directions);

/// InvalidArgument unless a new trial starts Waiting or Running.
void check_new_trial(study::TrialState state);

/// The trial create_trial stores as `number`: created now; a Running one started now, by its
/// worker, in its first attempt.
study::Trial new_trial_record(std::int64_t number, const study::NewTrial& trial);

/// InvalidArgument unless `state` is a finished state and `values` fits it: Complete needs one
/// value per objective; Pruned and Failed take none or one per objective.
void check_finish(std::int64_t study, std::int64_t number, study::TrialState state,
                  std::size_t values, std::size_t objectives);

/// StorageError naming `operation` unless the trial's `state` is one of `allowed` (a finished
/// trial never changes; the others are "not running").
void check_writable(study::TrialState state, std::int64_t study, std::int64_t number,
                    const char* operation, std::initializer_list<study::TrialState> allowed);

}  // namespace quarry::storage::detail
