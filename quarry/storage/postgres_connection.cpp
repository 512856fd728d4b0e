#include "quarry/storage/postgres_connection.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string>
#include <thread>

#include "quarry/core/error.hpp"

namespace quarry::storage::detail {

namespace {

/// libpq's messages end in a newline and may run to several lines; errors are one line.
std::string first_line(const char* message) {
  std::string s = message ? message : "";
  if (const auto nl = s.find('\n'); nl != std::string::npos) s.resize(nl);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s.empty() ? "unknown error" : s;
}

/// Whether SQLSTATE `state` is a failure another try may cure, and whether it needs a new
/// connection first.
std::optional<bool> retryable(const std::string& state) {
  if (state.rfind("08", 0) == 0) return true;                                 // connection
  if (state == "57P01" || state == "57P02" || state == "57P03") return true;  // shutdown, start
  if (state == "40001" || state == "40P01") return false;  // serialization failure, deadlock
  return std::nullopt;
}

void ignore_notice(void*, const char*) {}

}  // namespace

// --- PgResult --------------------------------------------------------------------------------

PgResult::~PgResult() {
  PQclear(result_);
}

int PgResult::rows() const {
  return PQntuples(result_);
}

bool PgResult::is_null(int row, int col) const {
  return PQgetisnull(result_, row, col) != 0;
}

std::string PgResult::text(int row, int col) const {
  return std::string(PQgetvalue(result_, row, col),
                     static_cast<std::size_t>(PQgetlength(result_, row, col)));
}

std::int64_t PgResult::integer(int row, int col) const {
  return std::strtoll(PQgetvalue(result_, row, col), nullptr, 10);
}

double PgResult::real(int row, int col) const {
  if (is_null(row, col)) return std::nan("");
  // strtod reads PostgreSQL's "NaN", "Infinity" and "-Infinity" as well as numbers.
  return std::strtod(PQgetvalue(result_, row, col), nullptr);
}

std::optional<double> PgResult::optional_real(int row, int col) const {
  if (is_null(row, col)) return std::nullopt;
  return real(row, col);
}

std::int64_t PgResult::affected() const {
  const char* n = PQcmdTuples(result_);
  return n && *n ? std::strtoll(n, nullptr, 10) : 0;
}

// --- PgConnection ----------------------------------------------------------------------------

PgConnection::PgConnection(std::string url, std::string shown, std::chrono::milliseconds retry_for)
    : url_(std::move(url)), shown_(std::move(shown)), retry_for_(retry_for) {
  try {
    connect();
  } catch (const Retry& failure) {
    throw StorageError("cannot connect to '" + shown_ + "': " + failure.what);
  }
}

PgConnection::~PgConnection() {
  PQfinish(conn_);
}

bool PgConnection::connected() const {
  return PQstatus(conn_) == CONNECTION_OK;
}

void PgConnection::connect() {
  PQfinish(conn_);
  conn_ = nullptr;
  prepared_.clear();
  // The URL is expanded from `dbname`; keywords before it are defaults the URL may override.
  const char* keys[] = {"connect_timeout", "fallback_application_name", "dbname", nullptr};
  const char* values[] = {"10", "quarry", url_.c_str(), nullptr};
  conn_ = PQconnectdbParams(keys, values, 1);
  if (!conn_) throw Retry{"out of memory", true};
  if (PQstatus(conn_) != CONNECTION_OK) {
    std::string why = first_line(PQerrorMessage(conn_));
    // libpq names the server, never the password; drop its "connection to server ... failed: "
    // preamble, which repeats what the URL says.
    if (const auto at = why.find(" failed: ");
        at != std::string::npos && why.rfind("connection", 0) == 0)
      why = why.substr(at + 9);
    if (why.rfind("FATAL:  ", 0) == 0) why = why.substr(8);
    PQfinish(conn_);
    conn_ = nullptr;
    throw Retry{why, true};
  }
  PQsetNoticeProcessor(conn_, ignore_notice, nullptr);
}

std::optional<std::string> PgConnection::text_of(double v) {
  if (std::isnan(v)) return std::string("NaN");
  if (std::isinf(v)) return std::string(v > 0 ? "Infinity" : "-Infinity");
  char buffer[32];
  const auto end = std::to_chars(buffer, buffer + sizeof buffer, v).ptr;  // shortest exact form
  return std::string(buffer, end);
}

PgResult PgConnection::run(const char* sql, const std::vector<std::optional<std::string>>& args) {
  if (!conn_) throw Retry{"not connected", true};
  std::vector<const char*> values;
  values.reserve(args.size());
  for (const auto& a : args) values.push_back(a ? a->c_str() : nullptr);
  auto name = prepared_.find(sql);
  if (name == prepared_.end()) {
    const std::string fresh = "q" + std::to_string(prepared_.size());
    PgResult prepared(PQprepare(conn_, fresh.c_str(), sql, 0, nullptr));
    check(prepared.raw(), sql);
    name = prepared_.emplace(sql, fresh).first;
  }
  PgResult result(PQexecPrepared(conn_, name->second.c_str(), static_cast<int>(values.size()),
                                 values.data(), nullptr, nullptr, 0));
  check(result.raw(), sql);
  return result;
}

void PgConnection::exec(const char* sql) {
  PgResult result(PQexec(conn_, sql));
  check(result.raw(), sql);
}

void PgConnection::check(pg_result* result, const char* sql) {
  const auto status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return;
  const char* state_field = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  const std::string state = state_field ? state_field : "";
  const std::string why = first_line(result ? PQresultErrorMessage(result) : PQerrorMessage(conn_));
  if (PQstatus(conn_) != CONNECTION_OK) throw Retry{why.empty() ? "connection lost" : why, true};
  if (const auto reconnect = retryable(state)) throw Retry{why, *reconnect};
  std::string statement = sql;
  if (statement.size() > 60) statement = statement.substr(0, 57) + "...";
  throw StorageError("'" + shown_ + "': " + why + " (in: " + statement + ")");
}

std::optional<std::int64_t> PgConnection::begin(bool writes) {
  if (!conn_ || PQstatus(conn_) != CONNECTION_OK) connect();
  if (!writes) {
    exec("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
    return std::nullopt;
  }
  // One round trip: several statements in one message; the result is the last one's.
  PgResult id(PQexec(conn_, "BEGIN ISOLATION LEVEL READ COMMITTED; SELECT txid_current()"));
  check(id.raw(), "BEGIN; SELECT txid_current()");
  return id.integer(0, 0);
}

void PgConnection::commit() {
  exec("COMMIT");
}

void PgConnection::rollback() {
  if (!conn_) return;
  if (PQstatus(conn_) != CONNECTION_OK) {
    PQfinish(conn_);
    conn_ = nullptr;
    return;
  }
  if (PQtransactionStatus(conn_) == PQTRANS_IDLE) return;
  PgResult result(PQexec(conn_, "ROLLBACK"));
  if (!result.raw() || PQresultStatus(result.raw()) != PGRES_COMMAND_OK) {
    PQfinish(conn_);  // a connection that cannot roll back is not used again
    conn_ = nullptr;
  }
}

bool PgConnection::committed(std::int64_t xid, Clock::time_point deadline) {
  for (int tries = 1;; ++tries) {
    try {
      if (!conn_ || PQstatus(conn_) != CONNECTION_OK) connect();
      auto status = query("SELECT txid_status($1)", xid);
      if (status.is_null(0, 0))
        throw StoreFailure("'" + shown_ + "': the connection dropped while a write was being " +
                           "committed, and the server can no longer tell whether it was");
      const auto s = status.text(0, 0);
      if (s == "committed") return true;
      if (s == "aborted") return false;
      back_off(deadline, tries, Retry{"a write was still being committed", false});
    } catch (const Retry& retry) {
      back_off(deadline, tries, retry);
    }
  }
}

void PgConnection::back_off(Clock::time_point deadline, int tries, const Retry& retry) {
  if (retry.reconnect) {
    PQfinish(conn_);
    conn_ = nullptr;
  } else {
    rollback();
  }
  const auto now = Clock::now();
  if (now >= deadline)
    throw StoreFailure("'" + shown_ + "': " + retry.what + " (still failing after " +
                       std::to_string(retry_for_.count() / 1000) + " s of retries)");
  const auto wait = std::chrono::milliseconds(50) * (1 << std::min(tries - 1, 6));
  std::this_thread::sleep_for(std::min<Clock::duration>(
      std::min<Clock::duration>(wait, std::chrono::seconds(2)), deadline - now));
}

}  // namespace quarry::storage::detail
