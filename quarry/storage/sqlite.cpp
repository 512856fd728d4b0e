#include "quarry/storage/sqlite.hpp"

#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>
#include <thread>
#include <type_traits>
#include <unordered_map>

#include "quarry/core/error.hpp"
#include "quarry/space/value.hpp"

namespace quarry::storage {

namespace {

constexpr std::int32_t kApplicationId = 0x51525259;  // "QRRY" in the file header
constexpr int kSchemaVersion = 1;

// Trial numbers are dense (0..n-1, nothing is deleted), so MAX(number) + 1 is both the next number
// and the count. NULL in intermediate_values.value is NaN (SQLite stores NaN as NULL anyway).
constexpr const char* kSchema = R"sql(
CREATE TABLE studies (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  directions TEXT NOT NULL,
  created_at REAL NOT NULL);
CREATE TABLE study_attrs (
  study_id INTEGER NOT NULL REFERENCES studies (id),
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (study_id, key)) WITHOUT ROWID;
CREATE TABLE trials (
  study_id INTEGER NOT NULL REFERENCES studies (id),
  number INTEGER NOT NULL,
  state TEXT NOT NULL,
  params TEXT NOT NULL,
  objective_values TEXT NOT NULL,
  budget REAL NOT NULL,
  parent INTEGER,
  created_at REAL NOT NULL,
  started_at REAL,
  finished_at REAL,
  worker TEXT NOT NULL,
  heartbeat REAL,
  attempts INTEGER NOT NULL,
  failure TEXT NOT NULL,
  PRIMARY KEY (study_id, number)) WITHOUT ROWID;
CREATE INDEX trials_by_state ON trials (study_id, state, number);
CREATE TABLE intermediate_values (
  study_id INTEGER NOT NULL,
  number INTEGER NOT NULL,
  step INTEGER NOT NULL,
  value REAL,
  PRIMARY KEY (study_id, number, step)) WITHOUT ROWID;
CREATE TABLE trial_attrs (
  study_id INTEGER NOT NULL,
  number INTEGER NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (study_id, number, key)) WITHOUT ROWID;
)sql";

constexpr const char* kTrialColumns =
    "number, state, params, objective_values, budget, parent, created_at, started_at, "
    "finished_at, worker, heartbeat, attempts, failure";

/// Another connection holds a lock this one needs: the transaction is rolled back and run again.
struct Busy {};

using Json = nlohmann::json;
using Lock = std::lock_guard<std::mutex>;

// --- encoding: JSON has no inf or NaN, so non-finite doubles are written as strings ------------

Json encode_double(double x) {
  if (std::isfinite(x)) return x;
  return std::isnan(x) ? "nan" : x > 0 ? "inf" : "-inf";
}

double decode_double(const Json& j) {
  if (j.is_number()) return j.get<double>();
  const auto s = j.is_string() ? j.get<std::string>() : std::string();
  if (s == "inf") return std::numeric_limits<double>::infinity();
  if (s == "-inf") return -std::numeric_limits<double>::infinity();
  if (s == "nan") return std::numeric_limits<double>::quiet_NaN();
  throw StorageError("SqliteStorage: stored number " + j.dump() + " is not a number");
}

/// A parameter that is a non-finite double becomes {"float": "inf"}, so it stays a double and a
/// string parameter "inf" stays a string.
std::string encode_params(const Params& params) {
  Json j = Json::object();
  for (const auto& [name, value] : params) {
    const auto* d = std::get_if<double>(&value);
    j[name] = d && !std::isfinite(*d) ? Json{{"float", encode_double(*d)}} : space::to_json(value);
  }
  return j.dump();
}

Params decode_params(const Json& j) {
  Params params;
  for (const auto& [name, value] : j.items())
    params[name] =
        value.is_object() ? Value(decode_double(value.at("float"))) : space::value_from_json(value);
  return params;
}

std::string encode_values(const std::vector<double>& values) {
  Json j = Json::array();
  for (double v : values) j.push_back(encode_double(v));
  return j.dump();
}

std::vector<double> decode_values(const Json& j) {
  std::vector<double> values;
  for (const auto& v : j) values.push_back(decode_double(v));
  return values;
}

std::string encode_directions(const std::vector<Direction>& directions) {
  Json j = Json::array();
  for (auto d : directions) j.push_back(study::to_string(d));
  return j.dump();
}

std::vector<Direction> decode_directions(const Json& j) {
  std::vector<Direction> directions;
  for (const auto& d : j) directions.push_back(study::direction_from_string(d.get<std::string>()));
  return directions;
}

Json parse_json(const std::string& text) {
  try {
    return Json::parse(text);
  } catch (const Json::exception& e) {
    throw StorageError("SqliteStorage: stored JSON '" + text + "' cannot be read: " + e.what());
  }
}

// --- the rules every store applies (the same as MemoryStorage's, checked by the conformance suite)

std::string trial_name(std::int64_t study, std::int64_t number) {
  return "trial " + std::to_string(number) + " of study " + std::to_string(study);
}

void check_new_study(const std::string& name, const std::vector<Direction>& directions) {
  if (name.empty()) throw InvalidArgument("create_study: a study needs a name, got ''");
  if (directions.empty())
    throw InvalidArgument("create_study('" + name + "'): needs at least one direction");
}

void check_finish(std::int64_t study, std::int64_t number, TrialState state, std::size_t values,
                  std::size_t objectives) {
  const std::string who = "finish_trial(" + trial_name(study, number) + ")";
  if (!is_finished(state))
    throw InvalidArgument(who + ": the new state must be complete, pruned or failed, got " +
                          study::to_string(state));
  if (values == objectives || (values == 0 && state != TrialState::Complete)) return;
  throw InvalidArgument(who + ": " + study::to_string(state) + " needs " +
                        (state == TrialState::Complete ? "" : "0 or ") +
                        std::to_string(objectives) + " value(s), one per objective, got " +
                        std::to_string(values));
}

void check_writable(TrialState state, std::int64_t study, std::int64_t number,
                    const char* operation, std::initializer_list<TrialState> allowed) {
  for (auto a : allowed)
    if (a == state) return;
  throw StorageError(
      std::string(operation) + "(" + trial_name(study, number) + "): the trial is " +
      study::to_string(state) +
      (is_finished(state) ? "; finished trials never change" : "; it is not running"));
}

// --- statements ------------------------------------------------------------------------------

/// StorageError for a failed SQLite call (Busy when another connection holds the lock).
[[noreturn]] void raise(sqlite3* db, int rc, const std::string& path) {
  const int primary = rc & 0xff;
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) throw Busy{};
  if (primary == SQLITE_NOTADB) throw StorageError("'" + path + "' is not a SQLite database");
  std::string reason = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  if (const int err = db ? sqlite3_system_errno(db) : 0; err != 0)
    reason += std::string(" (") + std::strerror(err) + ")";
  throw StorageError("SqliteStorage: '" + path + "': " + reason);
}

/// Why the operating system refuses to let us write `path` (or create it in its directory), e.g.
/// "Permission denied"; `fallback` (an errno) when it does not say.
std::string os_reason(const std::string& path, int fallback) {
  std::error_code ec;
  const bool exists = std::filesystem::exists(path, ec);
  auto dir = std::filesystem::path(path).parent_path();
  const std::string target = exists ? path : dir.empty() ? "." : dir.string();
  if (access(target.c_str(), W_OK) != 0) return std::strerror(errno);
  return fallback ? std::strerror(fallback) : "unknown reason";
}

/// A cached prepared statement with its arguments bound; reset (ready for reuse) when destroyed.
class Query {
 public:
  template <typename... Args>
  Query(sqlite3_stmt* stmt, const std::string& path, const Args&... args)
      : stmt_(stmt), path_(path) {
    int index = 0;
    (bind(++index, args), ...);
  }
  ~Query() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;

  /// Steps once: true when a row is ready, false when the statement is done.
  bool step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    raise(sqlite3_db_handle(stmt_), rc, path_);
  }
  void run() {
    while (step()) {
    }
  }

  bool is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::int64_t integer(int col) const { return sqlite3_column_int64(stmt_, col); }
  double real(int col) const {
    return is_null(col) ? std::numeric_limits<double>::quiet_NaN()
                        : sqlite3_column_double(stmt_, col);
  }
  std::optional<double> optional_real(int col) const {
    return is_null(col) ? std::nullopt : std::optional(real(col));
  }
  std::string text(int col) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
    return p ? std::string(p, sqlite3_column_bytes(stmt_, col)) : std::string();
  }

 private:
  void check(int rc) {
    if (rc != SQLITE_OK) raise(sqlite3_db_handle(stmt_), rc, path_);
  }
  void bind(int i, std::int64_t v) { check(sqlite3_bind_int64(stmt_, i, v)); }
  void bind(int i, int v) { check(sqlite3_bind_int64(stmt_, i, v)); }
  void bind(int i, double v) {
    check(std::isnan(v) ? sqlite3_bind_null(stmt_, i) : sqlite3_bind_double(stmt_, i, v));
  }
  void bind(int i, const std::string& v) {
    check(sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
  }
  void bind(int i, const char* v) { check(sqlite3_bind_text(stmt_, i, v, -1, SQLITE_STATIC)); }
  template <typename T>
  void bind(int i, const std::optional<T>& v) {
    if (v)
      bind(i, *v);
    else
      check(sqlite3_bind_null(stmt_, i));
  }

  sqlite3_stmt* stmt_;
  const std::string& path_;
};

/// A trial from a row of `SELECT kTrialColumns`; intermediate values and attrs are loaded apart.
Trial trial_from_row(const Query& q) {
  Trial t;
  t.number = q.integer(0);
  t.state = study::trial_state_from_string(q.text(1));
  t.params = decode_params(parse_json(q.text(2)));
  t.values = decode_values(parse_json(q.text(3)));
  t.budget = q.real(4);
  if (!q.is_null(5)) t.parent = q.integer(5);
  t.created_at = q.real(6);
  t.started_at = q.optional_real(7);
  t.finished_at = q.optional_real(8);
  t.worker = q.text(9);
  t.heartbeat = q.optional_real(10);
  t.attempts = q.integer(11);
  t.failure = q.text(12);
  return t;
}

}  // namespace

// --- the connection: statement cache and transactions ----------------------------------------

class SqliteStorage::Connection {
 public:
  Connection(const std::string& path, const SqliteOptions& options);
  ~Connection();

  template <typename... Args>
  Query query(const char* sql, const Args&... args) {
    return Query(statement(sql), path_, args...);
  }
  std::int64_t last_insert_id() const { return sqlite3_last_insert_rowid(db_); }
  std::int64_t changes() const { return sqlite3_changes64(db_); }

  // Lookups shared by several operations; called inside a transaction.
  void require_study(std::int64_t study);  ///< InvalidArgument when there is no such study
  [[noreturn]] void unknown_trial(std::int64_t study, std::int64_t number);
  TrialState state_of(std::int64_t study, std::int64_t number, std::int64_t* attempts = nullptr);
  Trial load_trial(std::int64_t study, std::int64_t number);
  std::vector<Trial> load_trials(std::int64_t study);

  /// Runs `body` in a BEGIN IMMEDIATE transaction (the write lock is taken first), again from the
  /// start while the file is busy; commits, or rolls back if `body` throws.
  template <typename F>
  auto write(F&& body) {
    return transaction("BEGIN IMMEDIATE", body);
  }
  /// Runs `body` in a read transaction, so what it reads is one consistent snapshot.
  template <typename F>
  auto read(F&& body) {
    return transaction("BEGIN", body);
  }

 private:
  template <typename F>
  auto transaction(const char* begin, F& body) -> std::invoke_result_t<F&> {
    return retry([&]() -> std::invoke_result_t<F&> {
      query(begin).run();
      if constexpr (std::is_void_v<std::invoke_result_t<F&>>) {
        body();
        query("COMMIT").run();
      } else {
        auto result = body();
        query("COMMIT").run();
        return result;
      }
    });
  }
  template <typename F>
  auto retry(const F& attempt) -> std::invoke_result_t<const F&>;
  void rollback();
  void close();
  void exec(const char* sql);
  void open_schema(bool full_sync);
  sqlite3_stmt* statement(const char* sql);

  std::string path_;
  std::chrono::milliseconds timeout_;
  sqlite3* db_ = nullptr;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

SqliteStorage::Connection::Connection(const std::string& path, const SqliteOptions& options)
    : path_(path), timeout_(options.busy_timeout_ms) {
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  std::string failure;
  if (rc != SQLITE_OK)
    failure = std::string(db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc)) + " (" +
              os_reason(path, db_ ? sqlite3_system_errno(db_) : 0) + ")";
  else if (sqlite3_db_readonly(db_, "main") == 1)  // SQLite fell back to reading only
    failure = "it can be read but not written (" + os_reason(path, EACCES) + ")";
  if (!failure.empty()) {
    close();
    throw StorageError("SqliteStorage: cannot open '" + path + "': " + failure);
  }
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, options.busy_timeout_ms);
  try {
    open_schema(options.full_sync);
  } catch (...) {
    close();
    throw;
  }
}

SqliteStorage::Connection::~Connection() {
  close();
}

void SqliteStorage::Connection::close() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  cache_.clear();
  sqlite3_close_v2(db_);
  db_ = nullptr;
}

/// WAL mode, then the schema: created in an empty file, checked in a Quarry file, refused
/// otherwise.
void SqliteStorage::Connection::open_schema(bool full_sync) {
  retry([&] { query("PRAGMA journal_mode = WAL").run(); });
  exec(full_sync ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL");
  write([&] {
    const auto scalar = [&](const char* sql) {
      auto q = query(sql);
      return q.step() ? q.integer(0) : 0;
    };
    const auto application_id = scalar("PRAGMA application_id");
    const auto version = scalar("PRAGMA user_version");
    const auto tables = scalar("SELECT COUNT(*) FROM sqlite_master");
    if (application_id == kApplicationId) {
      if (version == kSchemaVersion) return;
      throw StorageError("'" + path_ + "' has Quarry schema version " + std::to_string(version) +
                         "; this build reads version " + std::to_string(kSchemaVersion));
    }
    if (application_id != 0 || tables != 0)
      throw StorageError("'" + path_ +
                         "' is not a Quarry store (it was written by something else)");
    exec(kSchema);
    exec(("PRAGMA application_id = " + std::to_string(kApplicationId)).c_str());
    exec(("PRAGMA user_version = " + std::to_string(kSchemaVersion)).c_str());
  });
}

template <typename F>
auto SqliteStorage::Connection::retry(const F& attempt) -> std::invoke_result_t<const F&> {
  const auto deadline = std::chrono::steady_clock::now() + timeout_;
  for (int tries = 1;; ++tries) {
    try {
      return attempt();
    } catch (const Busy&) {
      // SQLite's busy handler has waited already, or the lock cannot be waited for (WAL recovery,
      // a snapshot gone stale): back off a little and run the whole transaction again.
      rollback();
      if (std::chrono::steady_clock::now() >= deadline)
        throw StorageError("SqliteStorage: '" + path_ + "' stayed locked by other writers for " +
                           std::to_string(timeout_.count()) + " ms (database is locked)");
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min(tries, 20)));
    } catch (...) {
      rollback();
      throw;
    }
  }
}

void SqliteStorage::Connection::rollback() {
  if (!sqlite3_get_autocommit(db_)) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

void SqliteStorage::Connection::exec(const char* sql) {
  if (const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr); rc != SQLITE_OK)
    raise(db_, rc, path_);
}

sqlite3_stmt* SqliteStorage::Connection::statement(const char* sql) {
  auto it = cache_.find(sql);
  if (it != cache_.end()) return it->second;
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) raise(db_, rc, path_);
  cache_.emplace(sql, stmt);
  return stmt;
}

// --- lookups ---------------------------------------------------------------------------------

void SqliteStorage::Connection::require_study(std::int64_t study) {
  if (!query("SELECT 1 FROM studies WHERE id = ?", study).step())
    throw InvalidArgument("SqliteStorage: unknown study id " + std::to_string(study));
}

void SqliteStorage::Connection::unknown_trial(std::int64_t study, std::int64_t number) {
  require_study(study);
  throw InvalidArgument("SqliteStorage: unknown " + trial_name(study, number));
}

TrialState SqliteStorage::Connection::state_of(std::int64_t study, std::int64_t number,
                                               std::int64_t* attempts) {
  auto q =
      query("SELECT state, attempts FROM trials WHERE study_id = ? AND number = ?", study, number);
  if (!q.step()) unknown_trial(study, number);
  if (attempts) *attempts = q.integer(1);
  return study::trial_state_from_string(q.text(0));
}

Trial SqliteStorage::Connection::load_trial(std::int64_t study, std::int64_t number) {
  static const std::string sql =
      std::string("SELECT ") + kTrialColumns + " FROM trials WHERE study_id = ? AND number = ?";
  Trial t;
  {
    auto q = query(sql.c_str(), study, number);
    if (!q.step()) unknown_trial(study, number);
    t = trial_from_row(q);
  }
  auto steps =
      query("SELECT step, value FROM intermediate_values WHERE study_id = ? AND number = ?", study,
            number);
  while (steps.step()) t.intermediate[steps.integer(0)] = steps.real(1);
  auto attrs =
      query("SELECT key, value FROM trial_attrs WHERE study_id = ? AND number = ?", study, number);
  while (attrs.step()) t.attrs[attrs.text(0)] = attrs.text(1);
  return t;
}

/// Every trial of the study in three queries (trials, intermediate values, attrs).
std::vector<Trial> SqliteStorage::Connection::load_trials(std::int64_t study) {
  static const std::string sql =
      std::string("SELECT ") + kTrialColumns + " FROM trials WHERE study_id = ? ORDER BY number";
  require_study(study);
  std::vector<Trial> trials;
  {
    auto q = query(sql.c_str(), study);
    while (q.step()) trials.push_back(trial_from_row(q));
  }
  const auto at = [&](std::int64_t number) -> Trial& {
    if (number < 0 || number >= static_cast<std::int64_t>(trials.size()) ||
        trials[number].number != number)
      throw StorageError("SqliteStorage: '" + path_ + "' has a gap in the numbers of study " +
                         std::to_string(study) + " at trial " + std::to_string(number));
    return trials[number];
  };
  for (std::size_t i = 0; i < trials.size(); ++i) at(static_cast<std::int64_t>(i));
  auto steps =
      query("SELECT number, step, value FROM intermediate_values WHERE study_id = ?", study);
  while (steps.step()) at(steps.integer(0)).intermediate[steps.integer(1)] = steps.real(2);
  auto attrs = query("SELECT number, key, value FROM trial_attrs WHERE study_id = ?", study);
  while (attrs.step()) at(attrs.integer(0)).attrs[attrs.text(1)] = attrs.text(2);
  return trials;
}

// --- SqliteStorage: studies ------------------------------------------------------------------

SqliteStorage::SqliteStorage(std::string path, SqliteOptions options) : path_(std::move(path)) {
  if (path_.empty()) throw InvalidArgument("SqliteStorage: the path is empty");
  if (options.busy_timeout_ms <= 0)
    throw InvalidArgument("SqliteStorage: busy_timeout_ms must be > 0, got " +
                          std::to_string(options.busy_timeout_ms));
  const auto parent = std::filesystem::path(path_).parent_path();
  std::error_code ec;
  if (!parent.empty() && !std::filesystem::is_directory(parent, ec)) {
    std::filesystem::create_directories(parent, ec);
    if (ec)
      throw StorageError("SqliteStorage: cannot create the directory of '" + path_ +
                         "': " + ec.message());
  }
  db_ = std::make_unique<Connection>(path_, options);
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
    return StudyInfo{q.integer(0), name, decode_directions(parse_json(q.text(1))), q.real(2)};
  });
}

std::vector<StudyInfo> SqliteStorage::list_studies() {
  Lock lock(mutex_);
  return db_->read([&] {
    std::vector<StudyInfo> out;
    auto q = db_->query("SELECT id, name, directions, created_at FROM studies ORDER BY id");
    while (q.step())
      out.push_back({q.integer(0), q.text(1), decode_directions(parse_json(q.text(2))), q.real(3)});
    return out;
  });
}

std::optional<std::string> SqliteStorage::get_attr(std::int64_t study, const std::string& key) {
  Lock lock(mutex_);
  return db_->read([&]() -> std::optional<std::string> {
    auto q = db_->query("SELECT value FROM study_attrs WHERE study_id = ? AND key = ?", study, key);
    if (q.step()) return q.text(0);
    db_->require_study(study);
    return std::nullopt;
  });
}

void SqliteStorage::set_attr(std::int64_t study, const std::string& key, const std::string& value) {
  Lock lock(mutex_);
  db_->write([&] {
    db_->require_study(study);
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
    db_->require_study(study);
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
  if (trial.state != TrialState::Waiting && trial.state != TrialState::Running)
    throw InvalidArgument("create_trial: a new trial is waiting or running, got " +
                          study::to_string(trial.state));
  Lock lock(mutex_);
  return db_->write([&]() -> std::optional<Trial> {
    Trial t;
    {
      auto q = db_->query(
          "SELECT (SELECT COALESCE(MAX(number) + 1, 0) FROM trials WHERE study_id = ?1) "
          "FROM studies WHERE id = ?1",
          study);
      if (!q.step()) db_->require_study(study);
      t.number = q.integer(0);
    }
    if (limit && t.number >= *limit) return std::nullopt;
    t.state = trial.state;
    t.params = trial.params;
    t.budget = trial.budget;
    t.parent = trial.parent;
    t.created_at = study::now_seconds();
    if (t.state == TrialState::Running) {
      t.started_at = t.heartbeat = t.created_at;
      t.worker = trial.worker;
      t.attempts = 1;
    }
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
  return db_->write([&]() -> std::optional<Trial> {
    std::int64_t number = 0;
    {
      auto q = db_->query(
          "SELECT number FROM trials WHERE study_id = ? AND state = 'waiting' ORDER BY number "
          "LIMIT 1",
          study);
      if (!q.step()) {
        db_->require_study(study);
        return std::nullopt;
      }
      number = q.integer(0);
    }
    const double now = study::now_seconds();
    db_->query(
           "UPDATE trials SET state = 'running', worker = ?, started_at = ?, heartbeat = ?, "
           "attempts = attempts + 1 WHERE study_id = ? AND number = ?",
           worker, now, now, study, number)
        .run();
    return db_->load_trial(study, number);
  });
}

void SqliteStorage::set_params(std::int64_t study, std::int64_t number, const Params& params) {
  Lock lock(mutex_);
  db_->write([&] {
    Params merged;
    {
      auto q = db_->query("SELECT state, params FROM trials WHERE study_id = ? AND number = ?",
                          study, number);
      if (!q.step()) db_->unknown_trial(study, number);
      check_writable(study::trial_state_from_string(q.text(0)), study, number, "set_params",
                     {TrialState::Waiting, TrialState::Running});
      merged = decode_params(parse_json(q.text(1)));
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
    check_writable(db_->state_of(study, number), study, number, "report", {TrialState::Running});
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
    db_->state_of(study, number);  // InvalidArgument if there is no such trial
    return false;
  });
}

void SqliteStorage::finish_trial(std::int64_t study, std::int64_t number, TrialState state,
                                 const std::vector<double>& values, const std::string& failure) {
  Lock lock(mutex_);
  db_->write([&] {
    check_writable(db_->state_of(study, number), study, number, "finish_trial",
                   {TrialState::Running});
    std::size_t objectives = 0;
    {
      auto q = db_->query("SELECT directions FROM studies WHERE id = ?", study);
      if (q.step()) objectives = parse_json(q.text(0)).size();
    }
    check_finish(study, number, state, values.size(), objectives);
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
    const auto state = db_->state_of(study, number, &current);
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
    return true;
  });
}

void SqliteStorage::set_trial_attr(std::int64_t study, std::int64_t number, const std::string& key,
                                   const std::string& value) {
  Lock lock(mutex_);
  db_->write([&] {
    check_writable(db_->state_of(study, number), study, number, "set_trial_attr",
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
  return db_->read([&] { return db_->load_trial(study, number); });
}

std::vector<Trial> SqliteStorage::get_trials(std::int64_t study) {
  Lock lock(mutex_);
  return db_->read([&] { return db_->load_trials(study); });
}

std::int64_t SqliteStorage::count_trials(std::int64_t study) {
  Lock lock(mutex_);
  return db_->read([&] {
    auto q = db_->query(
        "SELECT (SELECT COALESCE(MAX(number) + 1, 0) FROM trials WHERE study_id = ?1) "
        "FROM studies WHERE id = ?1",
        study);
    if (!q.step()) db_->require_study(study);
    return q.integer(0);
  });
}

}  // namespace quarry::storage
