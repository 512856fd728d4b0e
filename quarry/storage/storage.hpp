// The store: the single source of truth for studies, trials and scheduler state.
//
// CONTRACT — every implementation (in-memory, SQLite, later PostgreSQL) keeps all of these, and the
// shared conformance suite (tests/storage/conformance_test.cpp) checks them:
//  1. Thread safe: any method may be called from any thread, and several processes (SQLite) or
//     machines (PostgreSQL) may use one store at once.
//  2. Trial numbering is atomic: create_trial gives 0, 1, 2, ... per study, never a number twice,
//     even under concurrent callers; with `limit`, no number >= limit is ever created.
//  3. A trial is claimed by exactly one worker: claim_trial moves one Waiting trial to Running in
//     one atomic step; two callers never get the same trial.
//  4. Finished trials (Complete, Pruned, Failed) are immutable: every later write to one throws
//     StorageError; nothing ever deletes a trial.
//  5. Every write is durable when the call returns (to the limits of the backing medium).
//  6. Study attributes hold sampler and scheduler state; compare_and_set_attr is atomic, so state
//     machines shared by many workers (Hyperband's brackets) can advance without a lock.
// Errors: StorageError for I/O and misuse, DuplicateStudy from create_study, InvalidArgument for
// unknown studies or trials.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "quarry/study/trial.hpp"

namespace quarry::storage {

using study::Direction;
using study::Trial;
using study::TrialState;

struct StudyInfo {
  std::int64_t id = -1;
  std::string name;
  std::vector<Direction> directions;  ///< one per objective
  double created_at = 0;
};

using study::NewTrial;

class Storage {
 public:
  virtual ~Storage() = default;

  // --- studies -----------------------------------------------------------------------------
  /// Creates a study; throws DuplicateStudy if the name is taken.
  virtual StudyInfo create_study(const std::string& name,
                                 const std::vector<Direction>& directions) = 0;
  virtual std::optional<StudyInfo> find_study(const std::string& name) = 0;
  virtual std::vector<StudyInfo> list_studies() = 0;

  /// Finds the study or creates it (safe when many processes race); throws InvalidArgument when it
  /// exists with other directions.
  StudyInfo open_or_create_study(const std::string& name, const std::vector<Direction>& directions);

  virtual std::optional<std::string> get_attr(std::int64_t study, const std::string& key) = 0;
  virtual void set_attr(std::int64_t study, const std::string& key, const std::string& value) = 0;
  /// Sets key to `desired` only if its current value equals `expected` (nullopt: key absent).
  /// Returns whether it was set.
  virtual bool compare_and_set_attr(std::int64_t study, const std::string& key,
                                    const std::optional<std::string>& expected,
                                    const std::string& desired) = 0;

  // --- trials ------------------------------------------------------------------------------
  /// Creates a trial with the next number; nullopt (nothing created) when the study already has
  /// `limit` trials or more.
  virtual std::optional<Trial> create_trial(std::int64_t study, const NewTrial& trial,
                                            std::optional<std::int64_t> limit = std::nullopt) = 0;
  /// Atomically moves the lowest-numbered Waiting trial to Running for `worker` (attempts + 1,
  /// started_at and heartbeat = now); nullopt when none is waiting.
  virtual std::optional<Trial> claim_trial(std::int64_t study, const std::string& worker) = 0;

  /// Sets the parameters of a Waiting or Running trial (define-by-run adds them as they are met).
  virtual void set_params(std::int64_t study, std::int64_t number, const Params& params) = 0;
  /// Records an intermediate value of a Running trial (overwrites the same step).
  virtual void report(std::int64_t study, std::int64_t number, std::int64_t step, double value) = 0;
  /// Refreshes the heartbeat of Running trials; returns false for any that is no longer Running
  /// for this worker (it was requeued or finished elsewhere).
  virtual bool heartbeat(std::int64_t study, std::int64_t number, const std::string& worker) = 0;
  /// Ends a Running trial. Complete needs `values`; Failed takes a `failure` reason.
  virtual void finish_trial(std::int64_t study, std::int64_t number, TrialState state,
                            const std::vector<double>& values, const std::string& failure = {}) = 0;
  /// Puts a Running trial back to Waiting (intermediate values cleared, params kept) if it is still
  /// in its `attempts`-th claim; returns whether it did. Used for interrupted and dead workers.
  virtual bool requeue_trial(std::int64_t study, std::int64_t number, std::int64_t attempts,
                             const std::string& reason) = 0;
  /// Sets a free-form attribute (JSON text) of a trial that is not finished.
  virtual void set_trial_attr(std::int64_t study, std::int64_t number, const std::string& key,
                              const std::string& value) = 0;

  virtual Trial get_trial(std::int64_t study, std::int64_t number) = 0;
  /// All trials of the study, by number.
  virtual std::vector<Trial> get_trials(std::int64_t study) = 0;
  /// How many trials the study has (cheaper than get_trials).
  virtual std::int64_t count_trials(std::int64_t study) = 0;
};

/// Opens a store from a URL: "memory:", "sqlite:///abs/path.db", "sqlite://rel/path.db" or a plain
/// path ending in .db / .sqlite (SQLite), or a libpq connection URI "postgresql://..." /
/// "postgres://..." (PostgreSQL, postgres.hpp). Throws StorageError for unknown schemes, and when
/// the store cannot be opened.
std::shared_ptr<Storage> open_storage(const std::string& url);
/// The same for commands that only read (status, best, trials): a SQLite store is opened
/// read-only, so a user who may read the file but not write it (or its folder) can still look.
std::shared_ptr<Storage> open_storage_for_reading(const std::string& url);
/// Whether `url` names a PostgreSQL store (postgresql:// or postgres://).
bool is_postgres_url(const std::string& url);
/// The URL as Quarry shows it in output, logs and errors: a PostgreSQL URL without its password
/// (postgresql://user:secret@host/db -> postgresql://user@host/db, ?password=... dropped); other
/// URLs unchanged.
std::string shown_url(const std::string& url);
/// The file a SQLite store URL names (same rules as open_storage); nullopt for other stores.
std::optional<std::string> sqlite_path(const std::string& url);

}  // namespace quarry::storage

namespace quarry {
using storage::Storage;
}
