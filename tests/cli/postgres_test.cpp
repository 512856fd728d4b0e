// `quarry` with a PostgreSQL store: two searches on one study split its trials, `quarry status`
// shows the URL without its password, and a bad URL or server is one line and exit code 2.
// Against the test server (tests/storage/test_postgres.hpp).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "tests/cli/cli_helpers.hpp"
#include "tests/storage/test_postgres.hpp"

namespace quarry::cli_test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

/// A fresh database named after the running test.
std::string fresh_database() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return quarry::testing::postgres_database(std::string("cli.") + info->name() + "." +
                                            std::to_string(::getpid()));
}

/// `url` with a password in it, which the test server (trust authentication) ignores.
std::string with_password(const std::string& url, const std::string& password) {
  const auto at = url.find('@');
  return url.substr(0, at) + ":" + password + url.substr(at);
}

TEST(CliPostgres, TwoSearchesOnOneStudySplitItsTrials) {
  TempDir dir;
  const auto url = fresh_database();
  const auto study = dir.write("study.yaml",
                               "study: shared\n"
                               "objective: {metric: value, direction: minimize}\n"
                               "function: branin\n"
                               "sampler: random\n"
                               "max_trials: 60\n"
                               "seed: 3\n"
                               "storage: " +
                                   url + "\n");
  CliProcess a({"search", study.string(), "--workers", "2"});
  CliProcess b({"search", study.string(), "--workers", "2"});
  const CliResult ra = a.wait(), rb = b.wait();
  ASSERT_EQ(ra.exit_code, 0) << ra.describe();
  ASSERT_EQ(rb.exit_code, 0) << rb.describe();

  const auto trials = trials_json({study.string()});
  ASSERT_EQ(trials.size(), 60u);
  std::set<std::string> hosts;
  for (std::size_t i = 0; i < trials.size(); ++i) {
    EXPECT_EQ(trials[i]["number"], i);
    EXPECT_EQ(trials[i]["state"], "complete") << trials[i].dump();
    hosts.insert(trials[i]["worker"].get<std::string>());
  }
  EXPECT_GE(hosts.size(), 2u) << "the two searches and their workers each ran trials";
}

TEST(CliPostgres, StatusShowsTheUrlWithoutItsPassword) {
  TempDir dir;
  const auto url = fresh_database();
  const auto secret = with_password(url, "hunter2");
  const auto study = dir.write("study.yaml",
                               "study: s\n"
                               "objective: {metric: value, direction: minimize}\n"
                               "function: branin\n"
                               "max_trials: 3\n"
                               "storage: " +
                                   secret + "\n");
  const CliResult search = run_cli({"search", study.string()});
  ASSERT_EQ(search.exit_code, 0) << search.describe();
  EXPECT_THAT(search.out + search.err, Not(HasSubstr("hunter2")));
  const CliResult status = run_cli({"status", "--storage", secret, "--study", "s"});
  ASSERT_EQ(status.exit_code, 0) << status.describe();
  EXPECT_THAT(status.out, HasSubstr("study 's' in " + url));
  EXPECT_THAT(status.out + status.err, Not(HasSubstr("hunter2")));
}

TEST(CliPostgres, BadUrlsAndServersAreOneLineAndExitTwo) {
  TempDir dir;
  const auto url = quarry::testing::postgres_url();
  const auto socket = url.substr(url.find("?host="));
  const struct {
    std::string url, says;
  } cases[] = {
      {"postgresql://quarry:hunter2@/no_such_db" + socket,
       "database \"no_such_db\" does not exist"},
      {"postgresql://quarry@/postgres?host=/nonexistent", "No such file or directory"},
      {url + "&colour=blue", "invalid URI query parameter: \"colour\""},
  };
  for (const auto& c : cases) {
    const auto study = dir.write("study.yaml",
                                 "study: s\n"
                                 "objective: {metric: value, direction: minimize}\n"
                                 "function: branin\n"
                                 "max_trials: 3\n"
                                 "storage: " +
                                     c.url + "\n");
    const CliResult r = run_cli({"search", study.string()});
    EXPECT_EQ(r.exit_code, 2) << r.describe();
    EXPECT_THAT(r.err, HasSubstr("cannot connect to 'postgresql://quarry@")) << r.describe();
    EXPECT_THAT(r.err, HasSubstr(c.says)) << r.describe();
    EXPECT_THAT(r.err, Not(HasSubstr("hunter2")));
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "one line: " << r.err;
  }
}

}  // namespace
}  // namespace quarry::cli_test
