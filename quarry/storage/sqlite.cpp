#include "quarry/storage/sqlite.hpp"

#include <filesystem>

#include "quarry/core/error.hpp"
#include "quarry/storage/codec.hpp"
#include "quarry/storage/rules.hpp"
#include "quarry/storage/sqlite_connection.hpp"
#include "quarry/storage/sqlite_schema.hpp"

namespace quarry::storage {

using namespace detail;  // the SQLite internals: this file is their one user

namespace {

using Lock = std::lock_guard<std::mutex>;

}  // namespace

// --- SqliteStorage: studies ------------------------------------------------------------------

SqliteStorage::SqliteStorage(std::string path, SqliteOptions options) : path_(std::move(path)) {
  if (path_.empty()) throw InvalidArgument("SqliteStorage: the path is empty");
  if (options.busy_timeout_ms <= 0)
    throw InvalidArgument("SqliteStorage: busy_timeout_ms must be > 0, got " +
                          std::to_string(options.busy_timeout_ms));
  if (options.read_only) {
    db_ = std::make_unique<SqliteConnection>(path_, options.busy_timeout_ms, false, true);
    check_schema(*db_);
    return;
  }
  const auto parent = std::filesystem::path(path_).parent_path();
  std::error_code ec;
  if (!parent.empty() && !std::filesystem::is_directory(parent, ec)) {
    std::filesystem::create_directories(parent, ec);
    if (ec)
      throw StorageError("SqliteStorage: cannot create the directory of '" + path_ +
                         "': " + ec.message());
  }
  db_ = std::make_unique<SqliteConnection>(path_, options.busy_timeout_ms, options.full_sync);
  open_schema(*db_);
}

SqliteStorage::~SqliteStorage() = default;

StudyInfo SqliteStorage::create_study(const std::string& name,
                                      const std::vector<Direction>& directions) {
  check_new_study(name, directions);
  Lock lock(mutex_);
  return db_->write([&] {
    if (db_->query("SELECT 1 FROM studies WHERE name = ?", name).step())
      throw DuplicateStudy("study '" + name + "' already exists in '" + path_ + "'");
    const double now = study::now_seconds();
    db_->query("INSERT INTO studies (name, directions, created_at) VALUES (?, ?, ?)", name,
               encode_directions(directions), now)
        .run();
    return StudyInfo{db_->last_insert_id(), name, directions, now};
  });
}

std::optional<StudyInfo> SqliteStorage::find_study(const std::string& name) {
  Lock lock(mutex_);
  return db_->read([&]() -> std::optional<StudyInfo> {
    auto q = db_->query("SELECT id, directions, created_at FROM studies WHERE name = ?", name);
    if (!q.step()) return std::nullopt;
    return StudyInfo{q.integer(0), name, decode_directions(q.text(1)), q.real(2)};
  });
}

std::vector<StudyInfo> SqliteStorage::list_studies() {
  Lock lock(mutex_);
  return db_->read([&] {
    std::vector<StudyInfo> out;
    auto q = db_->query("SELECT id, name, directions, created_at FROM studies ORDER BY id");
    while (q.step())
      out.push_back({q.integer(0), q.text(1), decode_directions(q.text(2)), q.real(3)});
    return out;
  });
}

std::optional<std::string> SqliteStorage::get_attr(std::int64_t study, const std::string& key) {
  Lock lock(mutex_);
  return db_->read([&]() -> std::optional<std::string> {
    auto q = db_->query("SELECT value FROM study_attrs WHERE study_id = ? AND key = ?", study, key);
    if (q.step()) return q.text(0);
    require_study(*db_, study);
    return std::nullopt;
  });
}

void SqliteStorage::set_attr(std::int64_t study, const std::string& key, const std::string& value) {
  Lock lock(mutex_);
  db_->write([&] {
    require_study(*db_, study);
    db_->query("INSERT OR REPLACE INTO study_attrs (study_id, key, value) VALUES (?, ?, ?)", study,
               key, value)
        .run();
  });
}

bool SqliteStorage::compare_and_set_attr(std::int64_t study, const std::string& key,
                                         const std::optional<std::string>& expected,
                                         const std::string& desired) {
  Lock lock(mutex_);
  return db_->write([&] {
    require_study(*db_, study);
    std::optional<std::string> current;
    {
      auto q =
          db_->query("SELECT value FROM study_attrs WHERE study_id = ? AND key = ?", study, key);
      if (q.step()) current = q.text(0);
    }
    if (current != expected) return false;
    db_->query("INSERT OR REPLACE INTO study_attrs (study_id, key, value) VALUES (?, ?, ?)", study,
               key, desired)
        .run();
    return true;
  });
}

// --- SqliteStorage: trials -------------------------------------------------------------------

std::optional<Trial> SqliteStorage::create_trial(std::int64_t study, const NewTrial& trial,
                                                 std::optional<std::int64_t> limit) {
  detail::check_new_trial(trial.state);
  Lock lock(mutex_);
  return db_->write([&]() -> std::optional<Trial> {
    std::int64_t number = 0;
    {
      auto q = db_->query(
          "SELECT (SELECT COALESCE(MAX(number) + 1, 0) FROM trials WHERE study_id = ?1) "
          "FROM studies WHERE id = ?1",
          study);
      if (!q.step()) require_study(*db_, study);
      number = q.integer(0);
    }
    if (limit && number >= *limit) return std::nullopt;
    const Trial t = new_trial_record(number, trial);
    db_->query(
           "INSERT INTO trials (study_id, number, state, params, objective_values, budget, "
           "parent, created_at, started_at, finished_at, worker, heartbeat, attempts, failure) "
           "VALUES (?, ?, ?, ?, '[]', ?, ?, ?, ?, NULL, ?, ?, ?, '')",
           study, t.number, study::to_string(t.state), encode_params(t.params), t.budget, t.parent,
           t.created_at, t.started_at, t.worker, t.heartbeat, t.attempts)
        .run();
    return t;
  });
}

std::optional<Trial> SqliteStorage::claim_trial(std::int64_t study, const std::string& worker) {
  Lock lock(mutex_);
  // Most calls find nothing waiting: a read (no write lock, nothing logged) says so. The claim is
  // still decided and made in one write transaction, which looks again.
  if (!db_->read([&] { return first_waiting(*db_, study).has_value(); })) return std::nullopt;
  return db_->write([&]() -> std::optional<Trial> {
    const auto number = first_waiting(*db_, study);
    if (!number) return std::nullopt;  // another process claimed it in between
    const double now = study::now_seconds();
    db_->query(
           "UPDATE trials SET state = 'running', worker = ?, started_at = ?, heartbeat = ?, "
           "attempts = attempts + 1 WHERE study_id = ? AND number = ?",
           worker, now, now, study, *number)
        .run();
    return load_trial(*db_, study, *number);
  });
}

void SqliteStorage::set_params(std::int64_t study, std::int64_t number, const Params& params) {
  Lock lock(mutex_);
  db_->write([&] {
    Params merged;
    {
      auto q = db_->query("SELECT state, params FROM trials WHERE study_id = ? AND number = ?",
                          study, number);
      if (!q.step()) unknown_trial(*db_, study, number);
      check_writable(study::trial_state_from_string(q.text(0)), study, number, "set_params",
                     {TrialState::Waiting, TrialState::Running});
      merged = decode_params(q.text(1));
    }
    for (const auto& [name, value] : params) merged[name] = value;
    db_->query("UPDATE trials SET params = ? WHERE study_id = ? AND number = ?",
               encode_params(merged), study, number)
        .run();
  });
}

void SqliteStorage::report(std::int64_t study, std::int64_t number, std::int64_t step,
                           double value) {
  Lock lock(mutex_);
  db_->write([&] {
    check_writable(state_of(*db_, study, number), study, number, "report", {TrialState::Running});
    db_->query(
           "INSERT OR REPLACE INTO intermediate_values (study_id, number, step, value) "
           "VALUES (?, ?, ?, ?)",
           study, number, step, value)
        .run();
  });
}

bool SqliteStorage::heartbeat(std::int64_t study, std::int64_t number, const std::string& worker) {
  Lock lock(mutex_);
  return db_->write([&] {
    db_->query(
           "UPDATE trials SET heartbeat = ? WHERE study_id = ? AND number = ? AND "
           "state = 'running' AND worker = ?",
           study::now_seconds(), study, number, worker)
        .run();
    if (db_->changes() == 1) return true;
    state_of(*db_, study, number);  // InvalidArgument if there is no such trial
    return false;
  });
}

void SqliteStorage::finish_trial(std::int64_t study, std::int64_t number, TrialState state,
                                 const std::vector<double>& values, const std::string& failure) {
  Lock lock(mutex_);
  db_->write([&] {
    check_writable(state_of(*db_, study, number), study, number, "finish_trial",
                   {TrialState::Running});
    check_finish(study, number, state, values.size(), directions_of(study).size());
    db_->query(
           "UPDATE trials SET state = ?, objective_values = ?, failure = ?, finished_at = ? "
           "WHERE study_id = ? AND number = ?",
           study::to_string(state), encode_values(values), failure, study::now_seconds(), study,
           number)
        .run();
  });
}

bool SqliteStorage::requeue_trial(std::int64_t study, std::int64_t number, std::int64_t attempts,
                                  const std::string& reason) {
  Lock lock(mutex_);
  return db_->write([&] {
    std::int64_t current = 0;
    const auto state = state_of(*db_, study, number, &current);
    check_writable(state, study, number, "requeue_trial",
                   {TrialState::Waiting, TrialState::Running});
    if (state != TrialState::Running || current != attempts) return false;
    db_->query(
           "UPDATE trials SET state = 'waiting', heartbeat = NULL, failure = ? "
           "WHERE study_id = ? AND number = ?",
           reason, study, number)
        .run();
    db_->query("DELETE FROM intermediate_values WHERE study_id = ? AND number = ?", study, number)
        .run();
    db_->query(
           "INSERT OR REPLACE INTO trial_attrs (study_id, number, key, value) "
           "VALUES (?, ?, ?, ?)",
           study, number, requeue_key(attempts), requeue_value(reason))
        .run();
    return true;
  });
}

void SqliteStorage::set_trial_attr(std::int64_t study, std::int64_t number, const std::string& key,
                                   const std::string& value) {
  Lock lock(mutex_);
  db_->write([&] {
    check_writable(state_of(*db_, study, number), study, number, "set_trial_attr",
                   {TrialState::Waiting, TrialState::Running});
    db_->query(
           "INSERT OR REPLACE INTO trial_attrs (study_id, number, key, value) "
           "VALUES (?, ?, ?, ?)",
           study, number, key, value)
        .run();
  });
}

Trial SqliteStorage::get_trial(std::int64_t study, std::int64_t number) {
  Lock lock(mutex_);
  return db_->read([&] { return load_trial(*db_, study, number); });
}

std::vector<Trial> SqliteStorage::get_trials(std::int64_t study) {
  Lock lock(mutex_);
  return db_->read([&] { return load_trials(*db_, study); });
}

std::int64_t SqliteStorage::count_trials(std::int64_t study) {
  Lock lock(mutex_);
  return db_->read([&] {
    auto q = db_->query(
        "SELECT (SELECT COALESCE(MAX(number) + 1, 0) FROM trials WHERE study_id = ?1) "
        "FROM studies WHERE id = ?1",
        study);
    if (!q.step()) require_study(*db_, study);
    return q.integer(0);
  });
}

const std::vector<Direction>& SqliteStorage::directions_of(std::int64_t study) {
  if (auto it = directions_.find(study); it != directions_.end()) return it->second;
  auto q = db_->query("SELECT directions FROM studies WHERE id = ?", study);
  if (!q.step()) {
    static const std::vector<Direction> kNone;
    return kNone;
  }
  // A study row never changes once committed, and this transaction cannot have written it.
  return directions_.emplace(study, decode_directions(q.text(0))).first->second;
}

}  // namespace quarry::storage
