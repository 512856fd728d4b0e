// `quarry` with a PostgreSQL store: two searches on one study split its trials, `quarry worker`
// runs a stored study without its file, `quarry status` shows the URL without its password and
// lists the workers, and a bad URL or server is one line and exit code 2.
// Against the test server (tests/storage/test_postgres.hpp).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "quarry/storage/storage.hpp"
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

/// A Branin study named `name` on the store `url`, with `extra` keys (max_trials, sampler...).
std::string branin_study(const std::string& name, const std::string& url,
                         const std::string& extra) {
  return "study: " + name +
         "\n"
         "objective: {metric: value, direction: minimize}\n"
         "function: branin\n" +
         extra + "storage: " + url + "\n";
}

/// `url` with a password in it, which the test server (trust authentication) ignores.
std::string with_password(const std::string& url, const std::string& password) {
  const auto at = url.find('@');
  return url.substr(0, at) + ":" + password + url.substr(at);
}

TEST(CliPostgres, TwoSearchesOnOneStudySplitItsTrials) {
  TempDir dir;
  const auto url = fresh_database();
  const auto study = dir.write(
      "study.yaml", branin_study("shared", url, "sampler: random\nmax_trials: 60\nseed: 3\n"));
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

/// A study whose trials take a while (so that both processes get some): sleepy_trial.py.
std::string slow_study(const std::string& url, int trials) {
  return "study: slow\n"
         "objective: {metric: loss, direction: minimize}\n"
         "space: {x: {float: [-1, 1]}}\n"
         "command: [python3, " +
         program_path("sleepy_trial.py").string() +
         ", \"{x}\", pids, \"0.05\", \"0.15\"]\n"
         "sampler: random\n"
         "max_trials: " +
         std::to_string(trials) +
         "\n"
         "storage: " +
         url + "\n";
}

TEST(CliPostgres, WorkerRunsAStoredStudyWithoutItsFile) {
  TempDir dir, elsewhere;  // the worker runs in a folder without the study file
  const auto url = fresh_database();
  const auto study = dir.write("study.yaml", slow_study(url, 24));
  fs::create_directories(dir / "pids");
  CliProcess search({"search", study.string(), "--workers", "2", "--quiet"}, {.real_python = true});
  // The worker starts once the search has stored the study's definition and runs trials; status
  // then lists the search's process: host, pid, trials running, last heartbeat.
  std::string status;
  ASSERT_TRUE(eventually([&] {
    const CliResult s = run_cli({"status", "--storage", url, "--study", "slow"}, {.probe = true});
    status = s.out;
    return s.exit_code == 0 && s.out.find("\n  workers: 1\n") != std::string::npos;
  })) << status;
  EXPECT_THAT(status, ::testing::ContainsRegex("\n    host +pid +running +last heartbeat\n"));
  EXPECT_THAT(status, ::testing::ContainsRegex("\n    [^ ]+ +" + std::to_string(search.pid()) +
                                               " +[12] +[0-9.]+m?s ago\n"));
  const CliResult worker = run_cli({"worker", "--storage", url, "--workers", "2"},
                                   {.real_python = true, .cwd = elsewhere.path()});
  const CliResult searched = search.wait();
  ASSERT_EQ(worker.exit_code, 0) << worker.describe();
  ASSERT_EQ(searched.exit_code, 0) << searched.describe();
  EXPECT_THAT(worker.out, HasSubstr("study 'slow' in " + url));

  const auto trials = trials_json({"--storage", url, "--study", "slow"});
  ASSERT_EQ(trials.size(), 24u);
  std::set<std::string> processes;
  for (std::size_t i = 0; i < trials.size(); ++i) {
    EXPECT_EQ(trials[i]["number"], i);
    EXPECT_EQ(trials[i]["state"], "complete") << trials[i].dump();
    const auto w = trials[i]["worker"].get<std::string>();
    processes.insert(w.substr(0, w.rfind(':')));  // host:pid
  }
  EXPECT_EQ(processes.size(), 2u) << "the search and the worker each ran trials";

  // The study is done: another worker finds nothing to do, and says so.
  const CliResult idle = run_cli({"worker", "--storage", url}, {.cwd = elsewhere.path()});
  EXPECT_EQ(idle.exit_code, 0) << idle.describe();
  EXPECT_THAT(idle.out, HasSubstr("worker: no study with work left in " + url));
}

TEST(CliPostgres, WorkerRunsAStudyUnderTheNameItWasStoredWith) {
  TempDir dir;
  const auto url = fresh_database();
  const auto study =
      dir.write("study.yaml", branin_study("s", url, "sampler: random\nmax_trials: 6\n"));
  const CliResult search =
      run_cli({"search", study.string(), "--study", "renamed", "--max-trials", "2"});
  ASSERT_EQ(search.exit_code, 0) << search.describe();
  const CliResult worker = run_cli({"worker", "--storage", url});
  ASSERT_EQ(worker.exit_code, 0) << worker.describe();
  EXPECT_EQ(trials_json({"--storage", url, "--study", "renamed"}).size(), 6u);
  EXPECT_EQ(run_cli({"status", "--storage", url, "--study", "s"}).exit_code, 2)
      << "the worker must not create the file's own name";
}

TEST(CliPostgres, WorkerRefusesDataThatDiffersFromTheStudys) {
  TempDir dir;
  const auto url = fresh_database();
  const auto data = dir.write("table.csv", "a,y\n1,0\n2,1\n");
  const auto yaml =
      "study: tabular\n"
      "objective: {metric: val_accuracy, direction: maximize}\n"
      "data: {csv: table.csv, target: y}\n"
      "model: {layers: [{dense: 2}]}\n";
  {
    auto store = storage::open_storage(url);
    const auto id = store->create_study("tabular", {study::Direction::Maximize}).id;
    const nlohmann::json definition = {
        {"path", (dir / "study.yaml").string()},
        {"text", yaml},
        {"data", {{{"path", data.string()}, {"sha256", std::string(64, '0')}}}}};
    store->set_attr(id, "definition", definition.dump());
  }
  const CliResult differs = run_cli({"worker", "--storage", url});
  EXPECT_EQ(differs.exit_code, 2) << differs.describe();
  EXPECT_THAT(differs.err, HasSubstr(data.string() + ": differs from the data study 'tabular' was "
                                                     "created with"));
  EXPECT_EQ(differs.err.find('\n'), differs.err.size() - 1) << "one line: " << differs.err;

  fs::remove(data);
  const CliResult missing = run_cli({"worker", "--storage", url, "--study", "tabular"});
  EXPECT_EQ(missing.exit_code, 2) << missing.describe();
  EXPECT_THAT(missing.err, HasSubstr(data.string() + ": data file of study 'tabular' is missing "
                                                     "on this machine"));

  const CliResult unknown = run_cli({"worker", "--storage", url, "--study", "nope"});
  EXPECT_EQ(unknown.exit_code, 2) << unknown.describe();
  EXPECT_THAT(unknown.err, HasSubstr("no study named 'nope'"));
}

TEST(CliPostgres, StatusShowsTheUrlWithoutItsPassword) {
  TempDir dir;
  const auto url = fresh_database();
  const auto secret = with_password(url, "hunter2");
  const auto study = dir.write("study.yaml", branin_study("s", secret, "max_trials: 3\n"));
  const CliResult search = run_cli({"search", study.string()});
  ASSERT_EQ(search.exit_code, 0) << search.describe();
  EXPECT_THAT(search.out + search.err, Not(HasSubstr("hunter2")));
  const CliResult status = run_cli({"status", "--storage", secret, "--study", "s"});
  ASSERT_EQ(status.exit_code, 0) << status.describe();
  EXPECT_THAT(status.out, HasSubstr("study 's' in " + url));
  EXPECT_THAT(status.out + status.err, Not(HasSubstr("hunter2")));
  // Nor is it kept in the study's stored definition (the file's text).
  auto store = storage::open_storage(url);
  const auto definition = store->get_attr(store->find_study("s")->id, "definition");
  ASSERT_TRUE(definition);
  EXPECT_THAT(*definition, HasSubstr("storage: " + url));
  EXPECT_THAT(*definition, Not(HasSubstr("hunter2")));
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
    const auto study = dir.write("study.yaml", branin_study("s", c.url, "max_trials: 3\n"));
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
