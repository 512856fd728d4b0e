// PostgresStorage: the store in a PostgreSQL database, for many workers on many machines. Every
// worker process opens its own PostgresStorage on the same URL; the Storage contract
// (storage.hpp) holds across all of them.
//
// The URL is any libpq connection URI: postgresql://user@host:port/dbname?sslmode=require, or
// postgresql://user@/dbname?host=/run/postgresql for a unix socket (`postgres://` too). The
// password comes from the URL, PGPASSWORD or ~/.pgpass (libpq's rules); errors and `quarry status`
// show the URL without it (shown_url() in storage.hpp).
//
// How it keeps the contract:
//  - a trial number is taken from the study's row by one UPDATE (trials = trials + 1), which
//    locks that row until the trial is inserted, so concurrent creators queue for it;
//    compare-and-set locks the same row;
//  - a claim is one UPDATE of the lowest Waiting trial that no other transaction holds
//    (FOR UPDATE SKIP LOCKED), so two workers never get the same trial;
//  - writes to a trial lock its row first and then check its state, so a finished trial never
//    changes;
//  - a dropped connection, a restarting server, a deadlock or serialization victim: the call runs
//    again after a pause (up to `retry_for`, then StoreFailure), and a write whose COMMIT was cut
//    off is looked up, never applied twice (postgres_connection.hpp).
// The schema is versioned (table quarry_meta): a database written by a newer Quarry is refused,
// an older one is migrated in place in one transaction, and a database holding tables of another
// program under Quarry's names is refused rather than written into.
//
// One connection per object, behind a mutex: the threads of one process share it. Open the store
// after fork(), never before.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "quarry/storage/storage.hpp"

namespace quarry::storage {

namespace detail {
class PgConnection;  // postgres_connection.hpp
}  // namespace detail

struct PostgresOptions {
  /// How long a call keeps retrying a failing server before StoreFailure (> 0).
  std::chrono::milliseconds retry_for{std::chrono::seconds(60)};
};

class PostgresStorage final : public Storage {
 public:
  /// The schema version this build writes; it reads this one and migrates older ones.
  static constexpr int kSchemaVersion = 1;

  /// Connects and checks (or creates) the schema. StorageError naming the URL without its
  /// password when the server cannot be reached, refuses the login, has no such database, the URL
  /// is malformed, or the database was written by a newer Quarry.
  explicit PostgresStorage(const std::string& url, PostgresOptions options = {});
  ~PostgresStorage() override;
  PostgresStorage(const PostgresStorage&) = delete;
  PostgresStorage& operator=(const PostgresStorage&) = delete;

  /// The URL without its password.
  const std::string& url() const { return shown_; }

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
  /// Checks the schema version; creates the tables in an empty database, migrates older ones.
  void open_schema();
  /// Locks the study's row for this transaction (InvalidArgument for an unknown study).
  void lock_study(std::int64_t study);
  /// Locks the trial's row; its state (and attempts). InvalidArgument for an unknown trial.
  TrialState lock_trial(std::int64_t study, std::int64_t number, std::int64_t* attempts = nullptr);
  void require_study(std::int64_t study);
  [[noreturn]] void unknown_trial(std::int64_t study, std::int64_t number);
  Trial load_trial(std::int64_t study, std::int64_t number);
  const std::vector<Direction>& directions_of(std::int64_t study);

  std::string shown_;
  std::mutex mutex_;  ///< one call at a time uses the connection
  std::unique_ptr<detail::PgConnection> db_;
  std::unordered_map<std::int64_t, std::vector<Direction>> directions_;  ///< by study id
};

}  // namespace quarry::storage
