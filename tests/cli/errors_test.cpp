// `quarry` on bad input: every mistake is one line naming the file, line and key, with exit code 2;
// a trial that cannot run or misbehaves fails (with its reason stored) while the search goes on.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "tests/cli/cli_helpers.hpp"

namespace quarry::cli_test {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// A valid study; the cases below change one line of it. Line numbers matter to the assertions.
constexpr const char* kStudy =
    "study: demo\n"                                     // 1
    "objective: {metric: loss, direction: minimize}\n"  // 2
    "space:\n"                                          // 3
    "  x: {float: [-5, 5]}\n"                           // 4
    "command: [sh, -c, \"echo quarry: loss=1\"]\n"      // 5
    "max_trials: 2\n";                                  // 6

/// kStudy with line `line` (1-based) replaced by `text` (several lines, or none when empty).
std::string with_line(int line, const std::string& text) {
  std::istringstream in(kStudy);
  std::string out, l;
  for (int i = 1; std::getline(in, l); ++i)
    out += i == line ? (text.empty() ? "" : text + "\n") : l + "\n";
  return out;
}

/// A model study whose optimizer is `optimizer` (line 6): the trainer's rules are checked when
/// the file is read, so a setting every trial would fail on is an input error, not a search of
/// failed trials.
std::string model_study(const std::string& optimizer) {
  const std::string lines_1_to_5 =
      "study: demo\nobjective: val_loss\ndata: {idx: fashion-mnist}\nmodel:\n"
      "  layers: [flatten, {dense: 10}]\n";
  return lines_1_to_5 + "  optimizer: " + optimizer + "\n";
}

struct BadFile {
  const char* name;
  std::string yaml;
  std::string where;  ///< ":<line>:" (or ":<line>:<column>:") right after the file's path
  std::string what;   ///< the key text the message must contain
};

void PrintTo(const BadFile& c, std::ostream* os) {
  *os << c.name;
}

class CliBadStudyFile : public ::testing::TestWithParam<BadFile> {};

TEST_P(CliBadStudyFile, FailsWithOneLineNamingFileLineAndKey) {
  const BadFile& c = GetParam();
  TempDir dir;
  const auto file = dir.write("study.yaml", c.yaml);
  for (const char* command : {"search", "status", "ask"}) {
    SCOPED_TRACE(command);
    const CliResult r = run_cli({command, file.string()});
    EXPECT_EQ(r.exit_code, 2) << r.describe();
    EXPECT_EQ(line_count(r.err), 1u) << r.describe();
    EXPECT_THAT(r.err_first_line(), StartsWith("quarry: error: " + file.string() + c.where));
    EXPECT_THAT(r.err_first_line(), HasSubstr(c.what));
    EXPECT_EQ(r.out, "");
  }
  EXPECT_FALSE(fs::exists(dir / "demo")) << "a bad study file must not create a store";
}

INSTANTIATE_TEST_SUITE_P(
    Cases, CliBadStudyFile,
    ::testing::Values(
        BadFile{"MalformedYaml", with_line(4, "  x: {float: [-5, 5]"), ":5:", "malformed YAML"},
        BadFile{"TabIndentedYaml", with_line(4, "\tx: {float: [-5, 5]}"), ":4:", "malformed YAML"},
        BadFile{"NotAMapping", "- study\n- demo\n", ":1:", "expected a mapping of study keys"},
        BadFile{"UnknownKey", with_line(6, "max_trial: 2"),
                ":6:", "unknown key 'max_trial' in the study (expected one of: "},
        BadFile{"LowAboveHigh", with_line(4, "  x: {float: [5, -5]}"),
                ":4:", "space.x: Float('x'): low <= high must hold, got low=5, high=-5"},
        BadFile{"IntLowAboveHigh", with_line(4, "  x: {int: [512, 16]}"),
                ":4:", "Int('x'): low <= high must hold"},
        BadFile{"LogWithLowZero", with_line(4, "  x: {float: [0, 1], log: true}"),
                ":4:", "Float('x'): log sampling needs low > 0, got low=0"},
        BadFile{"LogWithNegativeLow", with_line(4, "  x: {float: [-1, 1], log: true}"),
                ":4:", "log sampling needs low > 0"},
        BadFile{"EmptyChoice", with_line(4, "  x: {choice: []}"),
                ":4:", "Choice('x'): needs at least one value, got an empty list"},
        BadFile{"MissingCommand", with_line(5, ""),
                ":1:", "missing required key 'command' (or 'function')"},
        BadFile{"CommandAndFunction", with_line(5, "command: [sh]\nfunction: branin"),
                ":6:", "give either 'command' or 'function', not both"},
        BadFile{"MissingType", with_line(4, "  x: {low: 1}"), ":4:", "space.x: missing the type"},
        BadFile{"BadMaxTrials", with_line(6, "max_trials: -3"),
                ":6:", "max_trials: expected an integer > 0, got -3"},
        BadFile{"ZeroEpsilon", model_study("{adam: {epsilon: 0}}"),
                ":6:", "model.optimizer.adam.epsilon: expected a number > 0, got 0"},
        BadFile{"WeightDecayAboveOne", model_study("{adamw: {weight_decay: 2}}"),
                ":6:", "model.optimizer.adamw.weight_decay: expected a number in [0, 1], got 2"},
        BadFile{"NesterovWithoutMomentum", model_study("{sgd: {nesterov: true}}"),
                ":6:", "model.optimizer: nesterov needs momentum > 0, got momentum 0"}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

// Mistakes found when the search builds the parts the file names (the sampler, the scheduler, the
// command): still one line naming the file and the key, exit 2, and no store created.
struct BadPart {
  const char* name;
  std::string yaml;
  std::string key;   ///< the key named right after the file's path
  std::string what;  ///< the rule the message must contain
};

void PrintTo(const BadPart& c, std::ostream* os) {
  *os << c.name;
}

class CliBadStudyPart : public ::testing::TestWithParam<BadPart> {};

TEST_P(CliBadStudyPart, FailsWithOneLineNamingFileAndKey) {
  const BadPart& c = GetParam();
  TempDir dir;
  const auto file = dir.write("study.yaml", c.yaml);
  const CliResult r = run_cli({"search", file.string()});
  EXPECT_EQ(r.exit_code, 2) << r.describe();
  EXPECT_EQ(line_count(r.err), 1u) << r.describe();
  EXPECT_THAT(r.err_first_line(),
              StartsWith("quarry: error: " + file.string() + ": " + c.key + ": "));
  EXPECT_THAT(r.err_first_line(), HasSubstr(c.what));
  EXPECT_FALSE(fs::exists(dir / "demo")) << "a bad study file must not create a store";
}

INSTANTIATE_TEST_SUITE_P(
    Cases, CliBadStudyPart,
    ::testing::Values(
        BadPart{"UnknownSampler", std::string(kStudy) + "sampler: sobol\n", "sampler",
                "unknown sampler 'sobol' (known: auto, cmaes, evolution, gp, grid, nsga2, "
                "random, rl, surrogate, tpe)"},
        BadPart{"UnknownSchedulerOption",
                std::string(kStudy) + "scheduler: {median: {patience: 3}}\n", "scheduler",
                "scheduler 'median': unknown option 'patience'"},
        BadPart{"UnknownPrunerOption", std::string(kStudy) + "pruner: {median: {patience: 3}}\n",
                "pruner", "pruner 'median': unknown option 'patience'"},
        BadPart{"UnknownPruner", std::string(kStudy) + "pruner: hyperband\n", "pruner",
                "unknown pruner 'hyperband' (known: learning_curve, median, none)"},
        BadPart{"UnknownPlaceholder", with_line(5, "command: [sh, \"{y}\"]"), "command",
                "argument 1 '{y}' names parameter 'y', which is not in the search space"},
        BadPart{"ParametersSharingOneVariable",
                with_line(4, "  x: {float: [-5, 5]}\n  X: {float: [0, 1]}"), "command",
                "parameters 'x' and 'X' would share the environment variable QUARRY_PARAM_X"},
        BadPart{"UnknownFunctionOption",
                "study: demo\nobjective: value\nfunction: {branin: {dims: 3}}\n", "function",
                "function 'branin': unknown option 'dims'"}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

TEST(CliBadStudy, MissingStudyFileIsNamed) {
  TempDir dir;
  const auto missing = (dir / "nope.yaml").string();
  const CliResult r = run_cli({"search", missing});
  EXPECT_EQ(r.exit_code, 2) << r.describe();
  EXPECT_EQ(line_count(r.err), 1u) << r.describe();
  EXPECT_THAT(r.err_first_line(),
              HasSubstr("cannot read study file '" + missing + "': No such file or directory"));
}

// A study file edited after trials were stored: a change that would misread them is refused with
// one line naming the file, the key and both definitions, and the stored trials stay as they were.
TEST(CliBadStudy, AChangedStudyFileCannotRewriteStoredTrials) {
  TempDir dir;
  const std::string study = "study: demo\n";
  const std::string space = "space:\n  x: {float: [-5, 5]}\n  u: {int: [1, 4]}\n";
  const auto write = [&](const std::string& metric, const std::string& params) {
    return dir.write("study.yaml", study + "objective: " + metric + "\n" + params +
                                       "command: [sh, -c, \"echo quarry: " + metric +
                                       "=1\"]\nmax_trials: 2\n");
  };
  auto file = write("loss", space);
  ASSERT_EQ(run_cli({"search", file.string(), "--quiet"}).exit_code, 0);
  const auto before = trials_json({file.string()});
  ASSERT_EQ(before.size(), 2u);
  struct Change {
    std::string metric, params, key, what;
  };
  for (const Change& c : std::vector<Change>{
           {"acc", space,
            ": objective: ", "stores the metrics [\"loss\"], the file names [\"acc\"]"},
           {"loss", "space:\n  x: {float: [-5, 5]}\n", ": space: ",
            "stores the parameter 'u' (Int('u', 1, 4)), which the file no longer defines"},
           {"loss", "space:\n  x: {float: [-5, 6]}\n  u: {int: [1, 4]}\n",
            ": space: ", "parameter 'x' is already defined as Float('x', -5, 5)"}}) {
    SCOPED_TRACE(c.what);
    file = write(c.metric, c.params);
    const CliResult r = run_cli({"search", file.string(), "--max-trials", "4"});
    EXPECT_EQ(r.exit_code, 2) << r.describe();
    EXPECT_EQ(line_count(r.err), 1u) << r.describe();
    EXPECT_THAT(r.err_first_line(), StartsWith("quarry: error: " + file.string() + c.key));
    EXPECT_THAT(r.err_first_line(), HasSubstr(c.what));
    EXPECT_THAT(r.err_first_line(), HasSubstr("give the study a new name, e.g. study: demo_2"));
    EXPECT_EQ(trials_json({file.string()}), before);
  }
  // A new parameter describes the old trials as well as before: the search goes on.
  file = write("loss", space + "  v: {float: [0, 1]}\n");
  EXPECT_EQ(run_cli({"search", file.string(), "--quiet", "--max-trials", "3"}).exit_code, 0);
  EXPECT_EQ(trials_json({file.string()}).size(), 3u);
}

// --- trials that fail: recorded with their reason, and the search goes on (exit 0) -------------

/// Runs a search (one worker) of a study with `command_and_options`; returns the stored trials.
nlohmann::json search_and_list(const TempDir& dir, const std::string& command_and_options) {
  const auto file = dir.write("study.yaml",
                              "study: demo\n"
                              "objective: loss\n"
                              "space:\n"
                              "  x: {float: [0, 1]}\n" +
                                  command_and_options);
  const CliResult r = run_cli({"search", file.string(), "--workers", "1"});
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  return trials_json({file.string()});
}

// A program that does not exist would fail every trial the same way: the first trial is recorded
// as failed with the reason, and the search stops with that reason as an input error (exit 2).
TEST(CliFailingTrial, CommandNotFoundFailsTheTrialAndStopsTheSearch) {
  TempDir dir;
  const auto file = dir.write("study.yaml",
                              "study: demo\n"
                              "objective: loss\n"
                              "space:\n"
                              "  x: {float: [0, 1]}\n"
                              "command: [quarry-no-such-program-xyz, \"{x}\"]\n"
                              "max_trials: 3\n");
  for (std::size_t run = 1; run <= 2; ++run) {
    const CliResult r = run_cli({"search", file.string(), "--workers", "1"});
    EXPECT_EQ(r.exit_code, 2) << r.describe();
    EXPECT_EQ(line_count(r.err), 1u) << r.describe();
    EXPECT_EQ(r.err_first_line(), "quarry: error: command 'quarry-no-such-program-xyz' not found");
    // Each search records the one trial it tried; nothing is left running.
    const auto trials = trials_json({file.string()});
    ASSERT_EQ(trials.size(), run);
    for (const auto& t : trials) {
      EXPECT_EQ(t["state"], "failed");
      EXPECT_EQ(t["failure"], "command 'quarry-no-such-program-xyz' not found");
    }
  }
}

TEST(CliFailingTrial, HangingCommandTimesOut) {
  TempDir dir;
  const auto start = std::chrono::steady_clock::now();
  const auto trials =
      search_and_list(dir, "command: [sleep, \"30\"]\ntrial_timeout: 1\nmax_trials: 1\n");
  EXPECT_LT(Seconds(std::chrono::steady_clock::now() - start).count(), 25);
  ASSERT_EQ(trials.size(), 1u);
  EXPECT_EQ(trials[0]["state"], "failed");
  EXPECT_THAT(trials[0]["failure"].get<std::string>(), StartsWith("timed out after 1 s"));
}

TEST(CliFailingTrial, GarbageOutputLineFailsTheTrial) {
  TempDir dir;
  const auto trials = search_and_list(
      dir,
      "command: [sh, -c, \"echo starting; echo quarry: loss=abc; sleep 30\"]\nmax_trials: 2\n");
  ASSERT_EQ(trials.size(), 2u) << "the search goes on after a failed trial";
  for (const auto& t : trials) {
    EXPECT_EQ(t["state"], "failed");
    EXPECT_THAT(t["failure"].get<std::string>(),
                StartsWith("malformed line 2 of output: 'quarry: loss=abc' (expected"));
    // "the program is stopped at once": the sleep 30 did not run to its end.
    EXPECT_LT(t["duration"].get<double>(), 20);
  }
}

TEST(CliFailingTrial, MissingMetricAndNonZeroExitFail) {
  TempDir dir;
  auto trials =
      search_and_list(dir, "command: [sh, -c, \"echo quarry: accuracy=0.5\"]\nmax_trials: 1\n");
  ASSERT_EQ(trials.size(), 1u);
  EXPECT_THAT(trials[0]["failure"].get<std::string>(), StartsWith("did not report metric 'loss'"));

  TempDir other;
  trials = search_and_list(other, "command: [sh, -c, \"echo oops >&2; exit 3\"]\nmax_trials: 1\n");
  ASSERT_EQ(trials.size(), 1u);
  EXPECT_EQ(trials[0]["failure"], "exited with status 3; stderr tail:\noops");
}

// --- stores that cannot be used: exit 2, naming the path ----------------------------------------

class CliBadStore : public ::testing::Test {
 protected:
  void expect_refused(const std::string& store, const std::string& what) {
    const std::string url = "sqlite://" + store;
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"search", study_.string(), "--storage", url},
             {"status", "--storage", url, "--study", "demo"},
             {"trials", "--storage", url, "--study", "demo", "--format", "json"}}) {
      SCOPED_TRACE(args[0]);
      const CliResult r = run_cli(args);
      EXPECT_EQ(r.exit_code, 2) << r.describe();
      EXPECT_EQ(line_count(r.err), 1u) << r.describe();
      EXPECT_THAT(r.err_first_line(), HasSubstr("'" + store + "'"));
      EXPECT_THAT(r.err_first_line(), HasSubstr(what));
    }
  }

  TempDir dir_;
  fs::path study_ = dir_.write("study.yaml", kStudy);
};

TEST_F(CliBadStore, DirectoryIsRefused) {
  fs::create_directory(dir_ / "store.db");
  expect_refused((dir_ / "store.db").string(), "");
}

TEST_F(CliBadStore, TextFileIsRefused) {
  const auto store = dir_.write("store.db", "these are my notes, not a database\n");
  expect_refused(store.string(), "is not a SQLite database");
  EXPECT_EQ(read_text(store), "these are my notes, not a database\n")
      << "the file must be left alone";
}

TEST_F(CliBadStore, SqliteDatabaseOfSomethingElseIsRefused) {
  const auto store = (dir_ / "other.db").string();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(store.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "CREATE TABLE invoices(id INTEGER PRIMARY KEY, total REAL);"
                         "INSERT INTO invoices(total) VALUES (12.5);",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  expect_refused(store, "is not a Quarry store");
}

TEST_F(CliBadStore, ReadingAStudyNeverSearchedCreatesNothing) {
  const std::string store = (dir_ / "demo" / "quarry.db").string();
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"status", study_.string()},
           {"best", study_.string()},
           {"trials", study_.string()},
           {"tell", study_.string(), "--trial", "0", "--value", "1"},
           {"status", "--storage", (dir_ / "typo.db").string(), "--study", "demo"}}) {
    SCOPED_TRACE(args[0]);
    const CliResult r = run_cli(args);
    EXPECT_EQ(r.exit_code, 2) << r.describe();
    EXPECT_EQ(line_count(r.err), 1u) << r.describe();
    EXPECT_THAT(r.err_first_line(), HasSubstr("no study named 'demo': the store '"));
    EXPECT_THAT(r.err_first_line(), HasSubstr("' does not exist (a search creates it)"));
  }
  EXPECT_FALSE(fs::exists(dir_ / "demo"));
  EXPECT_FALSE(fs::exists(dir_ / "typo.db"));
}

TEST_F(CliBadStore, UnknownStudyInStoreIsNamed) {
  ASSERT_EQ(run_cli({"search", study_.string()}).exit_code, 0);
  const auto url = "sqlite://" + (dir_ / "demo" / "quarry.db").string();
  const CliResult r = run_cli({"status", "--storage", url, "--study", "other"});
  EXPECT_EQ(r.exit_code, 2) << r.describe();
  EXPECT_THAT(r.err_first_line(), HasSubstr("no study named 'other' in this store (it has: demo)"));
}

// --- the command line itself: exit 2 and the usage -----------------------------------------------

TEST(CliUsage, UnknownCommandShowsTheCommands) {
  const CliResult r = run_cli({"frobnicate"});
  EXPECT_EQ(r.exit_code, 2) << r.describe();
  EXPECT_EQ(r.err_first_line(), "quarry: error: unknown command 'frobnicate'");
  EXPECT_THAT(r.err, HasSubstr("quarry search STUDY.yaml"));
  EXPECT_THAT(r.err, HasSubstr("quarry tell STUDY.yaml"));
}

TEST(CliUsage, NoArgumentsShowsHelpAndFails) {
  const CliResult r = run_cli({});
  EXPECT_EQ(r.exit_code, 2) << r.describe();
  EXPECT_THAT(r.err, HasSubstr("usage:"));
  EXPECT_THAT(r.err, HasSubstr("quarry search STUDY.yaml"));
}

TEST(CliUsage, HelpGoesToStdoutAndSucceeds) {
  CliResult r = run_cli({"--help"});
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_THAT(r.out, HasSubstr("exit codes: 0 ok, 2 usage or input error"));
  r = run_cli({"search", "--help"});
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_THAT(r.out, StartsWith("usage: quarry search STUDY.yaml"));
}

struct BadCommandLine {
  const char* name;
  std::vector<std::string> args;  ///< "STUDY" stands for the study file's path
  std::string message;            ///< the first line, after "quarry: error: "
  std::string usage;              ///< the start of the usage line that must follow
};

void PrintTo(const BadCommandLine& c, std::ostream* os) {
  *os << c.name;
}

class CliBadCommandLine : public ::testing::TestWithParam<BadCommandLine> {};

TEST_P(CliBadCommandLine, FailsWithMessageAndUsage) {
  const BadCommandLine& c = GetParam();
  TempDir dir;
  const auto file = dir.write("study.yaml", kStudy);
  std::vector<std::string> args;
  for (const auto& a : c.args) args.push_back(a == "STUDY" ? file.string() : a);
  const CliResult r = run_cli(args);
  EXPECT_EQ(r.exit_code, 2) << r.describe();
  EXPECT_EQ(r.err_first_line(), "quarry: error: " + c.message);
  EXPECT_THAT(r.err, HasSubstr("\nusage: " + c.usage));
  EXPECT_EQ(r.out, "");
}

INSTANTIATE_TEST_SUITE_P(
    Cases, CliBadCommandLine,
    ::testing::Values(BadCommandLine{"UnknownOption",
                                     {"search", "STUDY", "--bogus"},
                                     "unknown option --bogus",
                                     "quarry search STUDY.yaml"},
                      BadCommandLine{"UnknownOptionOfStatus",
                                     {"status", "STUDY", "--workers", "2"},
                                     "unknown option --workers",
                                     "quarry status"},
                      BadCommandLine{"MissingValue",
                                     {"search", "STUDY", "--workers"},
                                     "option --workers needs a value",
                                     "quarry search"},
                      BadCommandLine{"ZeroWorkers",
                                     {"search", "STUDY", "--workers", "0"},
                                     "--workers must be >= 1, got 0",
                                     "quarry search"},
                      BadCommandLine{"NotANumber",
                                     {"search", "STUDY", "--max-trials", "ten"},
                                     "--max-trials expects an integer, got 'ten'",
                                     "quarry search"},
                      BadCommandLine{"TwoStudyFiles",
                                     {"status", "STUDY", "STUDY"},
                                     "status: expected one study file, got 2",
                                     "quarry status"},
                      BadCommandLine{
                          "NoStudy",
                          {"trials", "--format", "json"},
                          "trials: name a study file, or both --storage URL and --study NAME",
                          "quarry trials"},
                      BadCommandLine{"BadFormat",
                                     {"trials", "STUDY", "--format", "xml"},
                                     "--format must be one of csv, json, table, got 'xml'",
                                     "quarry trials"},
                      BadCommandLine{"TellWithoutTrial",
                                     {"tell", "STUDY", "--value", "1"},
                                     "tell: --trial N is required",
                                     "quarry tell"}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

}  // namespace
}  // namespace quarry::cli_test
