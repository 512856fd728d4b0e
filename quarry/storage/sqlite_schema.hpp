// SqliteStorage's tables: creating and checking them, and the lookups that several of its calls
// share. Implementation detail of SqliteStorage (sqlite.hpp), not part of Quarry's API.
//
// Tables: studies, study_attrs, trials (one row per trial, params and values as JSON, see
// codec.hpp), intermediate_values and trial_attrs. The file is marked as Quarry's with
// PRAGMA application_id and carries its schema version (1) in PRAGMA user_version.
// Every function but open_schema runs inside a transaction of the caller's (SqliteConnection's
// write() or read()); an unknown study id or trial number throws InvalidArgument.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "quarry/storage/sqlite_connection.hpp"
#include "quarry/study/trial.hpp"

namespace quarry::storage::detail {

/// Creates the tables in an empty file and marks it; accepts a Quarry store of this version;
/// throws StorageError for a store of another version or a file written by something else.
void open_schema(SqliteConnection& db);
/// The same checks without writing (a store opened read-only): StorageError unless the file is a
/// Quarry store of this version.
void check_schema(SqliteConnection& db);

void require_study(SqliteConnection& db, std::int64_t study);
/// InvalidArgument naming the study (if it is unknown) or else the trial.
[[noreturn]] void unknown_trial(SqliteConnection& db, std::int64_t study, std::int64_t number);
/// The trial's state, and its number of claims in `attempts` when given.
study::TrialState state_of(SqliteConnection& db, std::int64_t study, std::int64_t number,
                           std::int64_t* attempts = nullptr);
/// The lowest number of a Waiting trial of the study; nullopt when none is waiting.
std::optional<std::int64_t> first_waiting(SqliteConnection& db, std::int64_t study);
/// The trial with its intermediate values and attrs.
study::Trial load_trial(SqliteConnection& db, std::int64_t study, std::int64_t number);
/// Every trial of the study, by number, in three queries.
std::vector<study::Trial> load_trials(SqliteConnection& db, std::int64_t study);

}  // namespace quarry::storage::detail
