// SqliteStorage: the store in one SQLite file, the embedded default. Many threads (one object) and
// many processes (one object each) may share a file; the Storage contract (storage.hpp) holds
// across them.
//
// How it keeps the contract:
//  - the file runs in WAL mode (readers never block the writer), synchronous=NORMAL by default:
//    a returned write survives a crash of any process; only a power loss or OS crash can drop the
//    last commits (set `full_sync` for those too, at a cost of an fsync per write);
//  - every write is one `BEGIN IMMEDIATE` transaction, so it takes the write lock before it reads:
//    trial numbers (MAX(number)+1), `limit`, claims and compare-and-set are decided and written in
//    that one step. A writer that finds the file busy waits and retries (SQLite's busy handler,
//    then our own loop) for up to `busy_timeout_ms` before anything reaches the caller.
//    claim_trial first looks in a read transaction and takes the write lock only when a trial
//    waits, so idle workers polling for work do not queue behind writers;
//  - one connection per object, behind a mutex, with its prepared statements cached. Open the store
//    after fork(), never before: a connection must not cross into a child process.
// The file is marked as Quarry's (PRAGMA application_id, PRAGMA user_version = schema version), so
// a SQLite file written by anything else is refused instead of being written into.
//
// Options:
//  - busy_timeout_ms (60000): how long a call waits for other writers before StorageError;
//  - full_sync (false): synchronous=FULL instead of NORMAL (durable across power loss, slower).
//
// Conventions shared with MemoryStorage (see memory.hpp): study ids from 1, set_params merges,
// requeue records its reason as `failure`. Values that are not finite (inf, -inf, NaN) in params,
// objective values and intermediate values are stored so that they read back unchanged.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "quarry/storage/storage.hpp"

namespace quarry::storage {

namespace detail {
class SqliteConnection;  // sqlite_connection.hpp: the handle, statements and transactions
}  // namespace detail

struct SqliteOptions {
  int busy_timeout_ms = 60000;  ///< > 0
  bool full_sync = false;
  /// Read an existing store without writing anything (a user who may read the file but not
  /// write it or its folder): writes then throw StorageError. The file must be a Quarry store.
  bool read_only = false;
};

class SqliteStorage final : public Storage {
 public:
  /// Opens `path`, creating it and its parent directories if needed. Throws StorageError (naming
  /// the path and the reason) if the file cannot be opened, is not a SQLite database, or is a
  /// SQLite database that is not a Quarry store.
  explicit SqliteStorage(std::string path, SqliteOptions options = {});
  ~SqliteStorage() override;
  SqliteStorage(const SqliteStorage&) = delete;
  SqliteStorage& operator=(const SqliteStorage&) = delete;

  const std::string& path() const { return path_; }

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
  /// The study's directions, read once (they never change); empty for an unknown study. Called
  /// inside a transaction, with the mutex held.
  const std::vector<Direction>& directions_of(std::int64_t study);

  std::string path_;
  std::mutex mutex_;  ///< guards db_ and directions_: one call at a time uses the connection
  std::unique_ptr<detail::SqliteConnection> db_;
  std::unordered_map<std::int64_t, std::vector<Direction>> directions_;  ///< by study id
};

}  // namespace quarry::storage
