#include "quarry/storage/sqlite_connection.hpp"

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <thread>

#include "quarry/core/error.hpp"

namespace quarry::storage::detail {

namespace {

/// StorageError for a failed SQLite call: Busy when another connection holds the lock,
/// StoreFailure for a full disk or an I/O error.
[[noreturn]] void raise(sqlite3* db, int rc, const std::string& path) {
  const int primary = rc & 0xff;
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) throw Busy{};
  if (primary == SQLITE_NOTADB) throw StorageError("'" + path + "' is not a SQLite database");
  std::string reason = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  if (const int err = db ? sqlite3_system_errno(db) : 0; err != 0)
    reason += std::string(" (") + std::strerror(err) + ")";
  if (primary == SQLITE_FULL)
    throw StoreFailure("SqliteStorage: '" + path + "': disk full (" + reason + ")");
  if (primary == SQLITE_IOERR)
    throw StoreFailure("SqliteStorage: '" + path + "': I/O error (" + reason + ")");
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

}  // namespace

// --- Query -----------------------------------------------------------------------------------

Query::~Query() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

bool Query::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  raise(sqlite3_db_handle(stmt_), rc, path_);
}

void Query::run() {
  while (step()) {
  }
}

bool Query::is_null(int col) const {
  return sqlite3_column_type(stmt_, col) == SQLITE_NULL;
}

std::int64_t Query::integer(int col) const {
  return sqlite3_column_int64(stmt_, col);
}

double Query::real(int col) const {
  return is_null(col) ? std::numeric_limits<double>::quiet_NaN()
                      : sqlite3_column_double(stmt_, col);
}

std::optional<double> Query::optional_real(int col) const {
  return is_null(col) ? std::nullopt : std::optional(real(col));
}

std::string Query::text(int col) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
  return p ? std::string(p, sqlite3_column_bytes(stmt_, col)) : std::string();
}

void Query::check(int rc) {
  if (rc != SQLITE_OK) raise(sqlite3_db_handle(stmt_), rc, path_);
}

void Query::bind(int i, std::int64_t v) {
  check(sqlite3_bind_int64(stmt_, i, v));
}
void Query::bind(int i, int v) {
  check(sqlite3_bind_int64(stmt_, i, v));
}
void Query::bind(int i, double v) {
  check(std::isnan(v) ? sqlite3_bind_null(stmt_, i) : sqlite3_bind_double(stmt_, i, v));
}
void Query::bind(int i, const std::string& v) {
  check(sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
}
void Query::bind(int i, const char* v) {
  check(sqlite3_bind_text(stmt_, i, v, -1, SQLITE_STATIC));
}
void Query::bind_null(int i) {
  check(sqlite3_bind_null(stmt_, i));
}

// --- SqliteConnection ------------------------------------------------------------------------

namespace {

/// `path` as a file: URI (its '%', '?' and '#' escaped) with `query`.
std::string file_uri(const std::string& path, const char* query) {
  std::string out = "file:";
  for (const char c : path) {
    if (c == '%' || c == '?' || c == '#') {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", static_cast<unsigned char>(c));
      out += hex;
    } else {
      out += c;
    }
  }
  return out + "?" + query;
}

}  // namespace

SqliteConnection::SqliteConnection(const std::string& path, int busy_timeout_ms, bool full_sync,
                                   bool read_only)
    : path_(path), timeout_(busy_timeout_ms) {
  std::string failure;
  if (read_only) {
    failure = open_for_reading();
  } else {
    const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    const int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
    if (rc != SQLITE_OK)
      failure = std::string(db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc)) + " (" +
                os_reason(path, db_ ? sqlite3_system_errno(db_) : 0) + ")";
    else if (sqlite3_db_readonly(db_, "main") == 1)  // SQLite fell back to reading only
      failure = "it can be read but not written (" + os_reason(path, EACCES) + ")";
  }
  if (!failure.empty()) {
    close();
    throw StorageError("SqliteStorage: cannot open '" + path + "': " + failure);
  }
  if (struct stat st{}; ::stat(path.c_str(), &st) == 0) file_ = FileId{st.st_dev, st.st_ino};
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, busy_timeout_ms);
  if (read_only) return;
  try {
    retry([&] { query("PRAGMA journal_mode = WAL").run(); });
    exec(full_sync ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL");
  } catch (...) {
    close();
    throw;
  }
}

std::string SqliteConnection::open_for_reading() {
  const int flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX;
  std::string failure;
  for (const char* query : {"mode=ro", "immutable=1"}) {
    close();
    const int rc = sqlite3_open_v2(file_uri(path_, query).c_str(), &db_, flags, nullptr);
    if (rc != SQLITE_OK) {
      failure = std::string(db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc)) + " (" +
                os_reason(path_, db_ ? sqlite3_system_errno(db_) : 0) + ")";
      continue;
    }
    // Reading is what fails when the WAL's shared memory cannot be set up.
    const int read =
        sqlite3_exec(db_, "SELECT COUNT(*) FROM sqlite_master", nullptr, nullptr, nullptr);
    if (read == SQLITE_OK) return {};
    if ((read & 0xff) == SQLITE_NOTADB) {  // as a read-write open says it
      close();
      throw StorageError("'" + path_ + "' is not a SQLite database");
    }
    failure = sqlite3_errmsg(db_);
  }
  return failure;
}

SqliteConnection::~SqliteConnection() {
  close();
}

void SqliteConnection::close() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  cache_.clear();
  sqlite3_close_v2(db_);
  db_ = nullptr;
}

void SqliteConnection::exec(const char* sql) {
  if (const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr); rc != SQLITE_OK)
    raise(db_, rc, path_);
}

std::int64_t SqliteConnection::last_insert_id() const {
  return sqlite3_last_insert_rowid(db_);
}

std::int64_t SqliteConnection::changes() const {
  return sqlite3_changes64(db_);
}

void SqliteConnection::back_off(Deadline deadline, int tries) {
  // SQLite's busy handler has waited already, or the lock cannot be waited for (WAL recovery, a
  // snapshot gone stale): back off a little and run the whole transaction again.
  rollback();
  if (std::chrono::steady_clock::now() >= deadline)
    throw StoreFailure("SqliteStorage: '" + path_ + "' stayed locked by other writers for " +
                       std::to_string(timeout_.count()) + " ms (database is locked)");
  std::this_thread::sleep_for(std::chrono::milliseconds(std::min(tries, 20)));
}

void SqliteConnection::check_file() const {
  if (!file_) return;  // an in-memory or temporary database
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0 || FileId{st.st_dev, st.st_ino} != *file_)
    throw StoreFailure("SqliteStorage: '" + path_ +
                       "' was deleted or replaced while in use; nothing more is written to it");
}

void SqliteConnection::rollback() {
  if (!sqlite3_get_autocommit(db_)) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

sqlite3_stmt* SqliteConnection::statement(const char* sql) {
  auto it = cache_.find(sql);
  if (it != cache_.end()) return it->second;
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) raise(db_, rc, path_);
  cache_.emplace(sql, stmt);
  return stmt;
}

}  // namespace quarry::storage::detail
