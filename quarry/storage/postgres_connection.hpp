// PgConnection: one libpq connection, the transactions PostgresStorage runs each call in, and the
// retries that carry a call across a dropped connection or a restarting server. Implementation
// detail of PostgresStorage (postgres.hpp), not part of Quarry's API; <libpq-fe.h> stays out of
// this header.
//
// Retries. Inside a transaction, a failure that another try may cure throws Retry: the connection
// dropped or the server is shutting down or starting up (SQLSTATE classes 08 and 57P0x: reconnect
// first), or the server chose this transaction as a deadlock or serialization victim (40P01,
// 40001). write() and read() then roll back, wait (50 ms, doubling, at most 2 s) and run the whole
// transaction again, for up to `retry_for`; after that StoreFailure. Any other error is
// StorageError with the server's message, and is not retried.
//
// Exactly once. A connection lost while COMMIT is on its way leaves the outcome unknown. Each
// write transaction learns its transaction id first (txid_current()); after such a loss,
// write() reconnects and asks the server (txid_status()) whether that transaction committed: if
// it did, the caller gets that try's result and nothing runs again; if it did not, the
// transaction runs again. So a write the caller was told succeeded is in the database, and none
// is applied twice.
//
// Not thread safe: PostgresStorage's mutex lets one call at a time use a connection.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <vector>

struct pg_conn;
struct pg_result;

namespace quarry::storage::detail {

/// A failure another try may cure (see above); `reconnect` when the connection is gone.
struct Retry {
  std::string what;
  bool reconnect = false;
};

/// The rows of one statement's result. Columns from 0; a NULL real reads as NaN, a NULL text as "".
class PgResult {
 public:
  explicit PgResult(pg_result* result) : result_(result) {}
  ~PgResult();
  PgResult(PgResult&& other) noexcept : result_(other.result_) { other.result_ = nullptr; }
  PgResult& operator=(PgResult&&) = delete;
  PgResult(const PgResult&) = delete;
  PgResult& operator=(const PgResult&) = delete;

  int rows() const;
  bool is_null(int row, int col) const;
  std::string text(int row, int col) const;
  std::int64_t integer(int row, int col) const;
  double real(int row, int col) const;
  std::optional<double> optional_real(int row, int col) const;
  /// Rows an INSERT, UPDATE or DELETE touched.
  std::int64_t affected() const;
  pg_result* raw() const { return result_; }

 private:
  pg_result* result_;
};

class PgConnection {
 public:
  /// Connects to `url` (any libpq connection URI). StorageError naming `shown` (the URL without
  /// its password) and libpq's reason when it cannot: no retries here, so a wrong URL fails fast.
  PgConnection(std::string url, std::string shown, std::chrono::milliseconds retry_for);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  /// The URL as errors show it (without the password).
  const std::string& shown() const { return shown_; }

  /// Runs one statement with `args` bound to $1, $2, ... (as text; nullopt binds NULL), prepared
  /// once per connection. Inside write(), snapshot() or read() only: failures throw Retry or
  /// StorageError.
  template <typename... Args>
  PgResult query(const char* sql, const Args&... args) {
    std::vector<std::optional<std::string>> texts;
    texts.reserve(sizeof...(args));
    (texts.push_back(text_of(args)), ...);
    return run(sql, texts);
  }

  /// Runs `sql` (no arguments; may hold several statements). Inside a transaction only.
  void exec(const char* sql);

  /// Runs `body` in a READ COMMITTED transaction and commits, with the retries and the
  /// exactly-once commit described above; rolls back if `body` throws anything but Retry.
  template <typename F>
  auto write(F&& body) {
    return transaction(true, body);
  }
  /// Runs `body` in a REPEATABLE READ, READ ONLY transaction: what it reads is one consistent
  /// snapshot.
  template <typename F>
  auto snapshot(F&& body) {
    return transaction(false, body);
  }
  /// Runs `body`, whose statements only read, without a transaction (each statement sees what was
  /// committed when it started; two round trips fewer than snapshot()); retried like a
  /// transaction.
  template <typename F>
  auto read(F&& body) -> std::invoke_result_t<F&> {
    const auto deadline = Clock::now() + retry_for_;
    for (int tries = 1;; ++tries) {
      try {
        if (!conn_ || !connected()) connect();
        return body();
      } catch (const Retry& retry) {
        back_off(deadline, tries, retry);
      }
    }
  }

 private:
  using Clock = std::chrono::steady_clock;
  struct Nothing {};

  template <typename F>
  auto transaction(bool writes, F& body) -> std::invoke_result_t<F&> {
    using R = std::invoke_result_t<F&>;
    using Held = std::conditional_t<std::is_void_v<R>, Nothing, R>;
    const auto deadline = Clock::now() + retry_for_;
    for (int tries = 1;; ++tries) {
      std::optional<Held> result;
      std::optional<std::int64_t> xid;
      bool committing = false;
      try {
        xid = begin(writes);
        if constexpr (std::is_void_v<R>) {
          body();
          result.emplace();
        } else {
          result.emplace(body());
        }
        committing = true;
        commit();
        if constexpr (!std::is_void_v<R>)
          return std::move(*result);
        else
          return;
      } catch (const Retry& retry) {
        if (committing && retry.reconnect && xid && committed(*xid, deadline)) {
          if constexpr (!std::is_void_v<R>)
            return std::move(*result);
          else
            return;
        }
        back_off(deadline, tries, retry);
      } catch (...) {
        rollback();
        throw;
      }
    }
  }

  /// Connects if the connection is gone; BEGIN; for a write, returns the transaction id.
  std::optional<std::int64_t> begin(bool writes);
  void commit();
  void rollback();
  /// After a connection lost during COMMIT: whether transaction `xid` committed (reconnecting and
  /// asking until `deadline`; StoreFailure when the server cannot tell).
  bool committed(std::int64_t xid, Clock::time_point deadline);
  /// Rolls back (or drops the connection), then sleeps before the next try; StoreFailure naming
  /// `retry.what` once `deadline` has passed.
  void back_off(Clock::time_point deadline, int tries, const Retry& retry);
  /// A new connection; Retry (reconnect) when it cannot be made.
  void connect();
  bool connected() const;
  PgResult run(const char* sql, const std::vector<std::optional<std::string>>& args);
  /// Retry or StorageError unless `result` is a success.
  void check(pg_result* result, const char* sql);

  static std::optional<std::string> text_of(std::int64_t v) { return std::to_string(v); }
  static std::optional<std::string> text_of(int v) { return std::to_string(v); }
  static std::optional<std::string> text_of(double v);
  static std::optional<std::string> text_of(const std::string& v) { return v; }
  static std::optional<std::string> text_of(const char* v) { return std::string(v); }
  template <typename T>
  static std::optional<std::string> text_of(const std::optional<T>& v) {
    return v ? text_of(*v) : std::nullopt;
  }

  std::string url_;
  std::string shown_;
  std::chrono::milliseconds retry_for_;
  pg_conn* conn_ = nullptr;
  /// The statements prepared on this connection: SQL text -> statement name (cleared with it).
  std::unordered_map<std::string, std::string> prepared_;
};

}  // namespace quarry::storage::detail
