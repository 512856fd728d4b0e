// The throwaway PostgreSQL server the tests use: ctest starts it before them (the `session`
// fixture, tests/CMakeLists.txt, scripts/test-postgres) and writes its URL to the file CMake names
// in QUARRY_TEST_POSTGRES_FILE. Run by hand: scripts/test-postgres start <that file>.
#pragma once

#include <libpq-fe.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>

namespace quarry::testing {

/// The test server's URL (its `postgres` database); std::runtime_error saying how to start one
/// when there is none (the tests that need it fail then: they never skip).
inline std::string postgres_url() {
  std::ifstream in(QUARRY_TEST_POSTGRES_FILE);
  std::string url;
  if (!std::getline(in, url) || url.empty())
    throw std::runtime_error(std::string("no test PostgreSQL server: ") +
                             QUARRY_TEST_POSTGRES_FILE +
                             " is missing (ctest starts one; by hand: scripts/test-postgres "
                             "start " +
                             QUARRY_TEST_POSTGRES_FILE + ")");
  return url;
}

/// The database a test URL (postgresql://user@/NAME?host=...) names.
inline std::string database_of(const std::string& url) {
  const auto slash = url.find('/', url.find("://") + 3);
  return url.substr(slash + 1, url.find('?') - slash - 1);
}

/// `url` with its database name replaced by `database`.
inline std::string with_database(const std::string& url, const std::string& database) {
  const auto slash = url.find('/', url.find("://") + 3);
  const auto query = url.find('?');
  return url.substr(0, slash) + "/" + database +
         (query == std::string::npos ? "" : url.substr(query));
}

/// Runs `sql` on the test server's `postgres` database as its superuser; the result's first
/// value ("" when none). std::runtime_error with the server's message when it fails.
inline std::string postgres_admin(const std::string& sql) {
  const auto url = postgres_url();
  std::unique_ptr<PGconn, void (*)(PGconn*)> conn(PQconnectdb(url.c_str()), PQfinish);
  if (PQstatus(conn.get()) != CONNECTION_OK)
    throw std::runtime_error("cannot connect to " + url + ": " + PQerrorMessage(conn.get()));
  std::unique_ptr<PGresult, void (*)(PGresult*)> result(PQexec(conn.get(), sql.c_str()), PQclear);
  const auto status = PQresultStatus(result.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
    throw std::runtime_error(sql + ": " + PQresultErrorMessage(result.get()));
  return status == PGRES_TUPLES_OK && PQntuples(result.get()) > 0 ? PQgetvalue(result.get(), 0, 0)
                                                                  : "";
}

/// The URL of a database named after `key` (a test's own folder, say), created empty the first
/// time: the same key gives the same database, so a test can open several stores on it.
inline std::string postgres_database(const std::string& key) {
  char name[32];
  std::snprintf(name, sizeof name, "q%016zx", std::hash<std::string>{}(key));
  if (postgres_admin(std::string("SELECT 1 FROM pg_database WHERE datname = '") + name + "'")
          .empty())
    postgres_admin(std::string("CREATE DATABASE ") + name);
  return with_database(postgres_url(), name);
}

}  // namespace quarry::testing
