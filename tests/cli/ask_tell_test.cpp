// `quarry ask` / `quarry tell`: a script drives a study by hand, through the same store.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "tests/cli/cli_helpers.hpp"

namespace quarry::cli_test {
namespace {

using ::testing::HasSubstr;

constexpr const char* kStudy =
    "study: manual\n"
    "objective: {metric: acc, direction: maximize}\n"
    "space:\n"
    "  lr: {float: [1e-4, 1e-1], log: true}\n"
    "  units: {int: [16, 64], step: 16}\n"
    "  opt: {choice: [adam, sgd]}\n"
    "command: [sh, -c, \"echo quarry: acc=0.5\"]\n"
    "max_trials: 4\n"
    "seed: 5\n";

class CliAskTell : public ::testing::Test {
 protected:
  /// `quarry ask`, parsed; fails the test unless it succeeds.
  nlohmann::json ask() {
    const CliResult r = run_cli({"ask", study_.string()});
    EXPECT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_EQ(line_count(r.out), 1u) << r.describe();
    return nlohmann::json::parse(r.out);
  }
  CliResult tell(const std::vector<std::string>& options) {
    std::vector<std::string> args = {"tell", study_.string()};
    args.insert(args.end(), options.begin(), options.end());
    return run_cli(args);
  }
  nlohmann::json trial(int number) { return trials_json({study_.string()}).at(number); }

  TempDir dir_;
  fs::path study_ = dir_.write("study.yaml", kStudy);
};

void expect_params_in_range(const nlohmann::json& params) {
  ASSERT_EQ(params.size(), 3u) << params;
  const double lr = params.at("lr").get<double>();
  EXPECT_GE(lr, 1e-4);
  EXPECT_LE(lr, 1e-1);
  const auto units = params.at("units").get<std::int64_t>();
  EXPECT_TRUE(units == 16 || units == 32 || units == 48 || units == 64) << units;
  EXPECT_THAT((std::vector<std::string>{"adam", "sgd"}),
              ::testing::Contains(params.at("opt").get<std::string>()));
}

TEST_F(CliAskTell, AskPrintsNumberAndParamsInRange) {
  for (int i = 0; i < 4; ++i) {
    const auto asked = ask();
    EXPECT_EQ(asked.at("number"), i);
    expect_params_in_range(asked.at("params"));
    // The trial is stored as running, with the parameters that were printed.
    const auto stored = trial(i);
    EXPECT_EQ(stored["state"], "running");
    EXPECT_EQ(stored["params"], asked["params"]);
  }
  // max_trials: 4 — nothing left to ask for.
  const CliResult r = run_cli({"ask", study_.string()});
  EXPECT_EQ(r.exit_code, 2) << r.describe();
  EXPECT_EQ(r.err_first_line(),
            "quarry: error: study 'manual' is complete: no trial left to ask for");
}

TEST_F(CliAskTell, TellCompletesOnceAndBestShowsIt) {
  const auto asked = ask();
  CliResult r = tell({"--trial", "0", "--value", "0.9"});
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.out, "trial 0 complete\n");
  EXPECT_EQ(trial(0)["values"], (nlohmann::json{{"acc", 0.9}}));

  // Telling it again is refused: finished trials never change.
  r = tell({"--trial", "0", "--value", "0.1"});
  EXPECT_EQ(r.exit_code, 2) << r.describe();
  EXPECT_EQ(line_count(r.err), 1u) << r.describe();
  EXPECT_THAT(r.err_first_line(), HasSubstr("trial 0"));
  EXPECT_THAT(r.err_first_line(), HasSubstr("the trial is complete; finished trials never change"));
  EXPECT_EQ(trial(0)["values"], (nlohmann::json{{"acc", 0.9}}));

  r = run_cli({"best", study_.string(), "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  const auto best = nlohmann::json::parse(r.out);
  EXPECT_EQ(best["number"], 0);
  EXPECT_EQ(best["values"]["acc"], 0.9);
  EXPECT_EQ(best["params"], asked["params"]);

  r = run_cli({"best", study_.string()});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_THAT(r.out, HasSubstr("best trial: 0\n  acc = 0.9\nhyperparameters:\n"));
  EXPECT_THAT(r.out, HasSubstr("  opt: " + asked["params"]["opt"].get<std::string>() + "\n"));
}

TEST_F(CliAskTell, BestFollowsTheDirection) {
  for (int i = 0; i < 3; ++i) ask();
  ASSERT_EQ(tell({"--trial", "0", "--value", "0.5"}).exit_code, 0);
  ASSERT_EQ(tell({"--trial", "1", "--value", "0.75"}).exit_code, 0);
  ASSERT_EQ(tell({"--trial", "2", "--value", "0.25"}).exit_code, 0);
  const CliResult r = run_cli({"best", study_.string(), "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(nlohmann::json::parse(r.out)["number"], 1) << "acc is maximized";
}

TEST_F(CliAskTell, TellFailedAndPrunedWithReason) {
  ask();
  ask();
  CliResult r = tell({"--trial", "0", "--state", "failed", "--reason", "out of memory"});
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.out, "trial 0 failed\n");
  EXPECT_EQ(trial(0)["state"], "failed");
  EXPECT_EQ(trial(0)["failure"], "out of memory");

  r = tell({"--trial", "1", "--state", "pruned"});
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(trial(1)["state"], "pruned");

  // No complete trial: `best` says so.
  r = run_cli({"best", study_.string()});
  EXPECT_EQ(r.exit_code, 2) << r.describe();
  EXPECT_EQ(r.err_first_line(), "quarry: error: study 'manual' has no complete trial yet");
}

TEST_F(CliAskTell, BadTellsAreRefused) {
  ask();
  struct Case {
    std::vector<std::string> options;
    std::string message;
  };
  for (const auto& c : std::vector<Case>{
           {{"--trial", "7", "--value", "1"}, "trial 7"},
           {{"--trial", "0", "--value", "abc"}, "--value expects a number, got 'abc'"},
           {{"--trial", "0"}, "give --value V (one per objective) or --state pruned|failed"},
           {{"--trial", "0", "--state", "running"}, "not running"},
           {{"--trial", "0", "--state", "finished"}, "finished"},
           {{"--trial", "0", "--value", "1", "--value", "2"}, "1 objective(s)"},
       }) {
    SCOPED_TRACE(c.message);
    const CliResult r = tell(c.options);
    EXPECT_EQ(r.exit_code, 2) << r.describe();
    EXPECT_THAT(r.err_first_line(), HasSubstr(c.message));
  }
  EXPECT_EQ(trial(0)["state"], "running") << "a refused tell changes nothing";
}

TEST_F(CliAskTell, SearchLeavesTrialsAskedByHandAlone) {
  const auto asked = ask();
  ASSERT_EQ(asked["number"], 0);
  const CliResult r = run_cli({"search", study_.string(), "--workers", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  auto trials = trials_json({study_.string()});
  ASSERT_EQ(trials.size(), 4u);
  EXPECT_EQ(trials[0]["state"], "running") << "the search must not take over a trial run by hand";
  for (int i = 1; i < 4; ++i) EXPECT_EQ(trials[i]["state"], "complete") << trials[i];
  EXPECT_EQ(tell({"--trial", "0", "--value", "0.99"}).exit_code, 0);
  EXPECT_EQ(trial(0)["state"], "complete");
}

/// `quarry ask --lease S`: renewed with `quarry heartbeat`, the trial stays the caller's; once the
/// lease lapses, the next ask (or any search) puts it back and runs it again, with a record.
TEST_F(CliAskTell, ALeasedTrialIsRunAgainOnceItsLeaseLapses) {
  const CliResult leased = run_cli({"ask", study_.string(), "--lease", "1.5"});
  ASSERT_EQ(leased.exit_code, 0) << leased.describe();
  const auto first = nlohmann::json::parse(leased.out);
  EXPECT_EQ(first["number"], 0);
  EXPECT_EQ(first["lease"], 1.5);
  EXPECT_EQ(trial(0)["worker"], "lease/1.5/manual");
  // Renewed twice across 2 s: still the caller's.
  for (int i = 0; i < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1000));
    const CliResult renewed = run_cli({"heartbeat", study_.string(), "--trial", "0"});
    EXPECT_EQ(renewed.exit_code, 0) << renewed.describe();
    EXPECT_EQ(renewed.out, "trial 0: lease of 1.5 s renewed\n");
  }
  EXPECT_EQ(ask()["number"], 1);  // trial 0 is still running under its lease
  // Not renewed: the next ask finds it lapsed, puts it back, and takes it.
  std::this_thread::sleep_for(std::chrono::milliseconds(1800));
  const auto again = ask();
  EXPECT_EQ(again["number"], 0);
  EXPECT_EQ(again["params"], first["params"]);
  const auto t = trial(0);
  EXPECT_EQ(t["attempts"], 2);
  EXPECT_EQ(t["attrs"]["requeue.1"], "worker lease/1.5/manual let its lease lapse");
  const CliResult late = run_cli({"heartbeat", study_.string(), "--trial", "0"});
  EXPECT_EQ(late.exit_code, 2) << late.describe();
  EXPECT_THAT(late.err, ::testing::HasSubstr("trial 0 of study 'manual' is not running under a "
                                             "lease of worker 'manual'"));
  EXPECT_EQ(tell({"--trial", "0", "--value", "0.5"}).exit_code, 0);  // the new holder tells it
  EXPECT_EQ(run_cli({"ask", study_.string(), "--lease", "0"}).exit_code, 2);
}

TEST_F(CliAskTell, StorageAndStudyOptionsNameTheStudy) {
  ask();
  const std::string url = "sqlite://" + (dir_ / "manual" / "quarry.db").string();
  const CliResult r =
      run_cli({"tell", "--storage", url, "--study", "manual", "--trial", "0", "--value", "0.3"});
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(trial(0)["state"], "complete");
}

}  // namespace
}  // namespace quarry::cli_test

namespace quarry::cli_test {
namespace {

TEST(CliAskTellHyperband, AskPrintsBudgetsAndParentsAndSaysWhenItMustWait) {
  TempDir dir;
  // max_epochs 3, factor 3: bracket 1 runs 3 trials for 1 epoch, then promotes the best to 3.
  const auto study = dir.write("hb.yaml",
                               "study: hb\n"
                               "objective: {metric: acc, direction: maximize}\n"
                               "space:\n"
                               "  x: {float: [0, 1]}\n"
                               "command: [sh, -c, \"echo quarry: acc=0.5\"]\n"
                               "scheduler: {hyperband: {max_epochs: 3, factor: 3}}\n");
  const auto ask = [&] { return run_cli({"ask", study.string()}); };
  for (int i = 0; i < 5; ++i) {  // bracket 1's three trials, then bracket 0's two
    const CliResult r = ask();
    ASSERT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_EQ(nlohmann::json::parse(r.out)["budget"], i < 3 ? 1.0 : 3.0) << r.out;
  }
  const CliResult wait = ask();
  EXPECT_EQ(wait.exit_code, 2) << wait.describe();
  EXPECT_THAT(wait.err_first_line(), ::testing::HasSubstr("nothing to run until running trials"));
  for (const char* told : {"0", "1", "2"})
    ASSERT_EQ(run_cli({"tell", study.string(), "--trial", told, "--value",
                       std::string(told) == "1" ? "0.9" : "0.1"})
                  .exit_code,
              0);
  const CliResult promoted = ask();
  ASSERT_EQ(promoted.exit_code, 0) << promoted.describe();
  const auto j = nlohmann::json::parse(promoted.out);
  EXPECT_EQ(j["parent"], 1);
  EXPECT_EQ(j["budget"], 3.0);
}

}  // namespace
}  // namespace quarry::cli_test
