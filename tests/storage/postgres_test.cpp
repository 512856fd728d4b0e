// PostgresStorage beyond the shared contract: URLs and their passwords, bad URLs and servers,
// the versioned schema, and retries across dropped connections. Against the test server
// (tests/storage/test_postgres.hpp).
#include "quarry/storage/postgres.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "quarry/core/error.hpp"
#include "tests/storage/test_postgres.hpp"
#include "tests/test_util.hpp"

namespace quarry::storage {
namespace {

using quarry::testing::database_of;
using quarry::testing::error_of;
using quarry::testing::postgres_admin;
using quarry::testing::postgres_database;
using quarry::testing::postgres_url;
using quarry::testing::with_database;
using ::testing::HasSubstr;
using ::testing::Not;

/// A fresh database for one test, named after it.
std::string fresh_database() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return postgres_database(std::string(info->test_suite_name()) + "." + info->name() + "." +
                           std::to_string(::getpid()));
}

/// The host=... part of the test server's URL (its socket folder).
std::string socket_query() {
  return postgres_url().substr(postgres_url().find('?'));
}

TEST(ShownUrl, DropsThePasswordAndNothingElse) {
  EXPECT_EQ(shown_url("postgresql://ann:s3cret@db.example:5433/runs?sslmode=require"),
            "postgresql://ann@db.example:5433/runs?sslmode=require");
  EXPECT_EQ(shown_url("postgres://ann:p%40ss@host/db"), "postgres://ann@host/db");
  EXPECT_EQ(shown_url("postgresql://host/db?password=s3cret"), "postgresql://host/db");
  EXPECT_EQ(shown_url("postgresql://host/db?user=ann&password=s3cret&sslmode=disable"),
            "postgresql://host/db?user=ann&sslmode=disable");
  EXPECT_EQ(shown_url("postgresql://host/db?password=s3cret&user=ann"),
            "postgresql://host/db?user=ann");
  EXPECT_EQ(shown_url("postgresql://ann@/db?host=/run/postgresql"),
            "postgresql://ann@/db?host=/run/postgresql");
  EXPECT_EQ(shown_url("postgresql://[::1]:5432/db"), "postgresql://[::1]:5432/db");
  EXPECT_EQ(shown_url("sqlite:///tmp/a:b@c.db"), "sqlite:///tmp/a:b@c.db");  // not PostgreSQL
}

TEST(PostgresStorage, OpenStorageTakesBothSchemes) {
  const auto url = fresh_database();
  auto a = open_storage(url);
  EXPECT_NE(dynamic_cast<PostgresStorage*>(a.get()), nullptr);
  a->create_study("s", {Direction::Minimize});
  const auto b = open_storage("postgres://" + url.substr(std::string("postgresql://").size()));
  EXPECT_TRUE(b->find_study("s"));
  EXPECT_TRUE(is_postgres_url("postgres://x/y"));
  EXPECT_FALSE(is_postgres_url("runs/x.db"));
}

TEST(PostgresStorage, KeepsEverythingAcrossReopen) {
  const auto url = fresh_database();
  {
    PostgresStorage store(url);
    const auto s = store.create_study("s", {Direction::Maximize}).id;
    store.create_trial(s, {.state = TrialState::Running, .params = {{"x", 0.25}}, .worker = "w"});
    store.report(s, 0, 1, 0.5);
    store.finish_trial(s, 0, TrialState::Complete, {0.75});
    store.set_attr(s, "k", "v");
  }
  PostgresStorage store(url);
  const auto s = store.find_study("s").value().id;
  const auto t = store.get_trial(s, 0);
  EXPECT_EQ(t.state, TrialState::Complete);
  EXPECT_EQ(t.values, std::vector<double>{0.75});
  EXPECT_EQ(t.intermediate.at(1), 0.5);
  EXPECT_EQ(std::get<double>(t.params.at("x")), 0.25);
  EXPECT_EQ(store.get_attr(s, "k"), "v");
}

TEST(PostgresStorage, ErrorsNameTheUrlButNeverThePassword) {
  const auto missing = with_database(postgres_url(), "no_such_database");
  const auto with_password = "postgresql://quarry:hunter2@/no_such_database" + socket_query();
  const auto error = error_of<StorageError>([&] { PostgresStorage store(with_password); });
  EXPECT_THAT(error, HasSubstr("postgresql://quarry@/no_such_database"));
  EXPECT_THAT(error, HasSubstr("no_such_database\" does not exist"));
  EXPECT_THAT(error, Not(HasSubstr("hunter2")));
  EXPECT_EQ(error.find('\n'), std::string::npos) << error;  // one line
  EXPECT_THAT(error_of<StorageError>([&] { open_storage(missing + "&password=hunter2"); }),
              Not(HasSubstr("hunter2")));
}

TEST(PostgresStorage, RefusesAnUnreachableServerAndABadUrlAtOnce) {
  const auto unreachable = error_of<StorageError>(
      [] { PostgresStorage store("postgresql://quarry@/postgres?host=/nonexistent/socket/dir"); });
  EXPECT_THAT(unreachable, HasSubstr("cannot connect to 'postgresql://quarry@/postgres?host="
                                     "/nonexistent/socket/dir'"));
  EXPECT_THAT(unreachable, HasSubstr("No such file or directory"));
  EXPECT_THAT(
      error_of<StorageError>([] { PostgresStorage store(postgres_url() + "&colour=blue"); }),
      HasSubstr("invalid URI query parameter: \"colour\""));
  EXPECT_THAT(error_of<InvalidArgument>([] {
                PostgresStorage store(postgres_url(), {.retry_for = std::chrono::seconds(0)});
              }),
              HasSubstr("retry_for"));
}

TEST(PostgresStorage, RefusesAStoreWrittenByANewerQuarry) {
  const auto url = fresh_database();
  { PostgresStorage store(url); }
  {
    PostgresStorage store(url);  // the same version opens
  }
  const auto name = database_of(url);
  // Another connection raises the version, as a newer Quarry would have.
  PGconn* conn = PQconnectdb(url.c_str());
  ASSERT_EQ(PQstatus(conn), CONNECTION_OK);
  PQclear(PQexec(conn, "UPDATE quarry_meta SET value = '99' WHERE key = 'schema_version'"));
  PQfinish(conn);
  const auto error = error_of<StorageError>([&] { PostgresStorage store(url); });
  EXPECT_THAT(error, HasSubstr(name));
  EXPECT_THAT(error, HasSubstr("written by a newer Quarry (schema version 99; this one reads up "
                               "to 1)"));
}

TEST(PostgresStorage, RefusesADatabaseWithAnotherProgramsTables) {
  const auto url = fresh_database();
  PGconn* conn = PQconnectdb(url.c_str());
  ASSERT_EQ(PQstatus(conn), CONNECTION_OK);
  PQclear(PQexec(conn, "CREATE TABLE trials (id INTEGER)"));
  PQfinish(conn);
  EXPECT_THAT(error_of<StorageError>([&] { PostgresStorage store(url); }),
              HasSubstr("is not a Quarry store"));
  // Nothing was written into it.
  PGconn* check = PQconnectdb(url.c_str());
  PGresult* r = PQexec(check, "SELECT to_regclass('quarry_meta') IS NULL");
  EXPECT_STREQ(PQgetvalue(r, 0, 0), "t");
  PQclear(r);
  PQfinish(check);
}

/// The server drops every connection to the database (an administrator, a failover, a network
/// blip): the next calls reconnect and go on; nothing is lost or doubled.
TEST(PostgresStorage, CarriesOnAcrossDroppedConnections) {
  const auto url = fresh_database();
  const auto database = database_of(url);
  PostgresStorage store(url);
  const auto s = store.create_study("s", {Direction::Minimize}).id;
  for (int i = 0; i < 5; ++i) {
    const auto t = store.create_trial(s, {.state = TrialState::Running, .worker = "w"}).value();
    EXPECT_EQ(t.number, i);
    postgres_admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" +
                   database + "' AND pid <> pg_backend_pid()");
    store.finish_trial(s, t.number, TrialState::Complete, {double(i)});
  }
  const auto trials = store.get_trials(s);
  ASSERT_EQ(trials.size(), 5u);
  for (const auto& t : trials) {
    EXPECT_EQ(t.state, TrialState::Complete);
    EXPECT_EQ(t.values, std::vector<double>{double(t.number)});
  }
}

/// A server that stays away: the call gives up after `retry_for` with StoreFailure (exit 4 in
/// the command line), naming the URL.
TEST(PostgresStorage, GivesUpWithStoreFailureWhenTheServerStaysAway) {
  const auto url = fresh_database();
  const auto database = database_of(url);
  PostgresStorage store(url, {.retry_for = std::chrono::milliseconds(600)});
  const auto s = store.create_study("s", {Direction::Minimize}).id;
  // New connections to the database are refused; the open one is dropped.
  postgres_admin("ALTER DATABASE " + database + " ALLOW_CONNECTIONS false");
  postgres_admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" +
                 database + "' AND pid <> pg_backend_pid()");
  const auto error = error_of<StoreFailure>([&] { store.count_trials(s); });
  EXPECT_THAT(error, HasSubstr(database));
  EXPECT_THAT(error, HasSubstr("is not currently accepting connections"));
  EXPECT_THAT(error, HasSubstr("of retries"));
  postgres_admin("ALTER DATABASE " + database + " ALLOW_CONNECTIONS true");
  EXPECT_EQ(store.count_trials(s), 0);  // and works again once the server is back
}

}  // namespace
}  // namespace quarry::storage
