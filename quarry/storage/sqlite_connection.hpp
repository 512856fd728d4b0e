// SqliteConnection: one SQLite handle with its prepared statements cached, the transactions that
// SqliteStorage runs each call in, and the loop that runs a transaction again while another
// connection holds the lock. Implementation detail of SqliteStorage (sqlite.hpp), not part of
// Quarry's API; <sqlite3.h> stays out of this header.
//
// Not thread safe: SqliteStorage's mutex lets one call at a time use a connection. Errors are
// StorageError naming the file; inside a transaction, a locked file throws Busy, which write() and
// read() catch: they roll back and run the whole transaction again, for up to the busy timeout.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <unordered_map>

struct sqlite3;
struct sqlite3_stmt;

namespace quarry::storage::detail {

/// Another connection holds a lock this one needs: the transaction is rolled back and run again.
struct Busy {};

/// A cached prepared statement with its arguments bound to its ?s in order (NaN and nullopt bind
/// NULL); reset, ready for reuse, when destroyed.
class Query {
 public:
  template <typename... Args>
  Query(sqlite3_stmt* stmt, const std::string& path, const Args&... args)
      : stmt_(stmt), path_(path) {
    int index = 0;
    (bind(++index, args), ...);
  }
  ~Query();
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;

  /// Steps once: true when a row is ready, false when the statement is done.
  bool step();
  /// Steps to the end (for statements that return no rows).
  void run();

  // The current row's columns, from 0. A NULL real reads as NaN, a NULL text as "".
  bool is_null(int col) const;
  std::int64_t integer(int col) const;
  double real(int col) const;
  std::optional<double> optional_real(int col) const;
  std::string text(int col) const;

 private:
  void check(int rc);  ///< StorageError (or Busy) unless rc is SQLITE_OK
  void bind(int i, std::int64_t v);
  void bind(int i, int v);
  void bind(int i, double v);
  void bind(int i, const std::string& v);
  void bind(int i, const char* v);  ///< not copied: a string literal
  void bind_null(int i);
  template <typename T>
  void bind(int i, const std::optional<T>& v) {
    if (v)
      bind(i, *v);
    else
      bind_null(i);
  }

  sqlite3_stmt* stmt_;
  const std::string& path_;
};

class SqliteConnection {
 public:
  /// Opens `path` (created if missing) for reading and writing, in WAL mode, with
  /// synchronous=FULL when `full_sync`, else NORMAL. StorageError naming the path and the reason
  /// (the operating system's when it has one) if it cannot.
  /// With `read_only`: opens an existing file for reading only (mode=ro); when SQLite cannot
  /// set up its shared memory for that (a folder the user may not write and no -shm file), as an
  /// immutable file (what other writers add meanwhile is not seen).
  SqliteConnection(const std::string& path, int busy_timeout_ms, bool full_sync,
                   bool read_only = false);
  ~SqliteConnection();
  SqliteConnection(const SqliteConnection&) = delete;
  SqliteConnection& operator=(const SqliteConnection&) = delete;

  const std::string& path() const { return path_; }

  /// The statement for `sql` (prepared once, then cached; `sql` is the cache key) with `args`.
  template <typename... Args>
  Query query(const char* sql, const Args&... args) {
    return Query(statement(sql), path_, args...);
  }
  /// Runs `sql` (one or more statements) without caching it.
  void exec(const char* sql);
  std::int64_t last_insert_id() const;
  /// Rows changed by the last INSERT, UPDATE or DELETE.
  std::int64_t changes() const;

  /// Runs `body` in a BEGIN IMMEDIATE transaction (the write lock is taken first), again from the
  /// start while the file is busy; commits, or rolls back if `body` throws.
  /// StoreFailure, before anything is written, when the file at the path is not the one opened
  /// (deleted or replaced under a running search: SQLite would go on writing to the unlinked file).
  template <typename F>
  auto write(F&& body) {
    check_file();
    return transaction("BEGIN IMMEDIATE", body);
  }
  /// Runs `body` in a read transaction, so what it reads is one consistent snapshot.
  template <typename F>
  auto read(F&& body) {
    return transaction("BEGIN", body);
  }

 private:
  using Deadline = std::chrono::steady_clock::time_point;

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
  auto retry(const F& attempt) -> std::invoke_result_t<const F&> {
    const Deadline deadline = std::chrono::steady_clock::now() + timeout_;
    for (int tries = 1;; ++tries) {
      try {
        return attempt();
      } catch (const Busy&) {
        back_off(deadline, tries);
      } catch (...) {
        rollback();
        throw;
      }
    }
  }
  /// After Busy: rolls back, then waits a little before the next try, or throws StoreFailure
  /// once `deadline` has passed.
  void back_off(Deadline deadline, int tries);
  void check_file() const;
  /// Opens path_ for reading only (see the constructor); the reason when it cannot, else "".
  std::string open_for_reading();
  void rollback();
  void close();
  sqlite3_stmt* statement(const char* sql);

  std::string path_;
  std::chrono::milliseconds timeout_;
  struct FileId {
    dev_t device;
    ino_t inode;
    bool operator==(const FileId&) const = default;
  };
  std::optional<FileId> file_;  ///< the file opened; nullopt for an in-memory database
  sqlite3* db_ = nullptr;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

}  // namespace quarry::storage::detail
