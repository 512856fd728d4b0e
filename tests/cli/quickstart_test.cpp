// Black-box studies tuning real programs: the README's quickstart example, and a study whose
// learning curves make the median scheduler stop trials.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "tests/cli/cli_helpers.hpp"

namespace quarry::cli_test {
namespace {

using ::testing::HasSubstr;

TEST(CliQuickstart, ExampleStudyTunesToyTrainingScript) {
  TempDir dir;
  for (const char* name : {"quickstart.yaml", "toy_train.py"})
    fs::copy_file(source_dir() / "examples" / name, dir / name);
  const std::string study = (dir / "quickstart.yaml").string();
  const CliResult r =
      run_cli({"search", study, "--max-trials", "12", "--workers", "2"}, {.real_python = true});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_THAT(r.out, HasSubstr("best hyperparameters (trial "));
  EXPECT_TRUE(fs::exists(dir / "quickstart" / "quarry.db"))
      << "the store lives next to the study file";

  const auto trials = trials_json({study});
  ASSERT_EQ(trials.size(), 12u);
  double best = INFINITY, worst = -INFINITY;
  int complete = 0;
  for (const auto& t : trials) {
    EXPECT_TRUE(t["state"] == "complete" || t["state"] == "pruned") << t.dump();
    // toy_train.py reports 8 epochs; a pruned trial stopped after the warm-up (2 steps).
    EXPECT_GE(t["intermediate"].size(), t["state"] == "complete" ? 8u : 2u) << t.dump();
    if (t["state"] != "complete") continue;
    ++complete;
    const double loss = t["values"]["loss"].get<double>();
    best = std::min(best, loss);
    worst = std::max(worst, loss);
    // momentum is only active with sgd.
    EXPECT_EQ(t["params"].contains("momentum"), t["params"]["optimizer"] == "sgd") << t.dump();
  }
  ASSERT_GE(complete, 5) << "the median scheduler needs 5 finished trials before it stops any";
  EXPECT_LT(best, worst);

  const CliResult b = run_cli({"best", study, "--format", "json"});
  ASSERT_EQ(b.exit_code, 0) << b.describe();
  EXPECT_EQ(nlohmann::json::parse(b.out)["values"]["loss"].get<double>(), best);

  // Run again: the study is complete in its store, and the results are printed again.
  const CliResult again =
      run_cli({"search", study, "--max-trials", "12", "--workers", "2"}, {.real_python = true});
  ASSERT_EQ(again.exit_code, 0) << again.describe();
  EXPECT_THAT(again.out, HasSubstr("12 trials stored"));
  EXPECT_THAT(again.out, HasSubstr("this run: 0 complete, 0 pruned, 0 failed"));
  EXPECT_THAT(again.out, HasSubstr("best hyperparameters (trial "));
  EXPECT_EQ(trials_json({study}).size(), 12u);
}

// A grid over x = 0..7 run in order by one worker; trial x reports loss 10 x + 4 - s at step s.
// With median stopping over 3 finished trials, trials 0-2 complete and every later one is worse
// than the median at step 1, so it is stopped there: exactly trials 3..7 are pruned.
TEST(CliQuickstart, MedianSchedulerPrunesTrialsWithPoorCurves) {
  TempDir dir;
  const auto study = dir.write("study.yaml",
                               "study: curves\n"
                               "objective: {metric: loss, direction: minimize}\n"
                               "space:\n"
                               "  x: {int: [0, 7]}\n"
                               "command: [sh, \"" +
                                   program_path("steps.sh").string() +
                                   "\", \"{x}\"]\n"
                                   "sampler: grid\n"
                                   "scheduler: {median: {min_trials: 3}}\n");
  const CliResult r = run_cli({"search", study.string(), "--workers", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_THAT(r.out, HasSubstr("this run: 3 complete, 5 pruned, 0 failed"));
  EXPECT_THAT(r.out, HasSubstr("trial 3 pruned"));

  const auto trials = trials_json({study.string()});
  ASSERT_EQ(trials.size(), 8u);
  for (int x = 0; x < 8; ++x) {
    const auto& t = trials[x];
    ASSERT_EQ(t["params"]["x"], x);
    if (x < 3) {
      EXPECT_EQ(t["state"], "complete") << t.dump();
      EXPECT_EQ(t["values"]["loss"], 10.0 * x);
      EXPECT_EQ(t["intermediate"].size(), 4u);
    } else {
      EXPECT_EQ(t["state"], "pruned") << t.dump();
      // Stopped at step 1, its value is the last one reported there.
      EXPECT_EQ(t["intermediate"], (nlohmann::json{{"1", 10.0 * x + 3}})) << t.dump();
      EXPECT_EQ(t["values"]["loss"], 10.0 * x + 3);
    }
  }
  const CliResult status = run_cli({"status", study.string()});
  EXPECT_THAT(status.out,
              HasSubstr("trials: 8 (3 complete, 0 running, 0 waiting, 5 pruned, 0 failed)"));
  EXPECT_THAT(status.out, HasSubstr("best: loss=0 (trial 0)"));
}

// A study of a built-in function needs no program and no space: both come from the function.
TEST(CliQuickstart, BuiltInFunctionStudy) {
  TempDir dir;
  const auto study = dir.write("study.yaml",
                               "study: branin\n"
                               "objective: value\n"
                               "function: branin\n"
                               "max_trials: 20\n"
                               "seed: 1\n");
  const CliResult r = run_cli({"search", study.string(), "--workers", "2", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  const auto trials = trials_json({study.string()});
  ASSERT_EQ(trials.size(), 20u);
  for (const auto& t : trials) {
    ASSERT_EQ(t["state"], "complete") << t.dump();
    const double x0 = t["params"]["x0"].get<double>(), x1 = t["params"]["x1"].get<double>();
    EXPECT_GE(x0, -5);
    EXPECT_LE(x0, 10);
    EXPECT_GE(x1, 0);
    EXPECT_LE(x1, 15);
    // Branin-Hoo (Dixon & Szego 1978): a (x1 - b x0^2 + c x0 - r)^2 + s (1 - t) cos(x0) + s.
    const double pi = std::acos(-1.0), b = 5.1 / (4 * pi * pi), c = 5 / pi, t8 = 1 / (8 * pi);
    const double expected =
        std::pow(x1 - b * x0 * x0 + c * x0 - 6, 2) + 10 * (1 - t8) * std::cos(x0) + 10;
    EXPECT_NEAR(t["values"]["value"].get<double>(), expected, 1e-9 * std::max(1.0, expected));
  }
}

// A command that can never work: no max_trials, no timeout, yet the search stops after 3 failed
// trials in a row (or the study file's max_consecutive_failures) with the reason and exit 1.
TEST(CliQuickstart, ACommandThatAlwaysFailsStopsTheSearch) {
  TempDir dir;
  const std::string head =
      "study: broken\n"
      "objective: loss\n"
      "space: {x: {float: [0, 1]}}\n"
      "command: [sh, -c, \"echo no data >&2; exit 1\"]\n";
  for (const auto& [extra, count] : std::vector<std::pair<std::string, std::size_t>>{
           {"", 3}, {"max_consecutive_failures: 5\n", 5}}) {
    const auto study = dir.write("study.yaml", head + extra);
    fs::remove_all(dir / "broken");
    const CliResult r = run_cli({"search", study.string(), "--workers", "1", "--quiet"});
    EXPECT_EQ(r.exit_code, 1) << r.describe();
    EXPECT_THAT(r.err, HasSubstr(std::to_string(count) + " trials failed in a row"));
    EXPECT_THAT(r.err, HasSubstr("exited with status 1"));
    EXPECT_EQ(trials_json({study.string()}).size(), count);
  }
  // A metric of -inf is no result: the trial fails, and so the search stops the same way.
  const auto minus_inf = dir.write("inf.yaml",
                                   "study: inf\nobjective: loss\nspace: {x: {float: [0, 1]}}\n"
                                   "command: [sh, -c, \"echo quarry: loss=-inf\"]\n");
  const CliResult r = run_cli({"search", minus_inf.string(), "--workers", "1", "--quiet"});
  EXPECT_EQ(r.exit_code, 1) << r.describe();
  EXPECT_THAT(r.err, HasSubstr("metric 'loss' is -inf"));
}

// The store deleted under a running search: the next write says so, exit code 4 (not bad input),
// instead of writing on into the unlinked file and exiting 0 with everything lost.
TEST(CliQuickstart, AStoreDeletedUnderTheSearchStopsItWithExitCode4) {
  TempDir dir;
  const std::string store = (dir / "gone" / "quarry.db").string();
  const auto study = dir.write("study.yaml",
                               "study: gone\nobjective: loss\nspace: {x: {float: [0, 1]}}\n"
                               "command: [sh, -c, \"rm -f '" +
                                   store + "'*; echo quarry: loss=1\"]\nmax_trials: 5\n");
  const CliResult r = run_cli({"search", study.string(), "--workers", "1", "--quiet"});
  EXPECT_EQ(r.exit_code, 4) << r.describe();
  EXPECT_THAT(r.err_first_line(), HasSubstr("was deleted or replaced while in use"));
}

}  // namespace
}  // namespace quarry::cli_test
