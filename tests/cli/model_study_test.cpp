// `quarry search` on a model study: the seed study's shape on a few hundred Fashion-MNIST rows,
// Hyperband over 3 epochs. Proves the YAML -> data -> trainer -> Hyperband -> retrain path end to
// end through the built command (and its hand-over to quarry-nn).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <signal.h>

#include "quarry/core/sha256.hpp"
#include "quarry/data/dataset.hpp"
#include "tests/cli/cli_helpers.hpp"

namespace quarry::cli_test {
namespace {

using ::testing::HasSubstr;

bool have_fashion_mnist() {
  return fs::exists(data::kFashionMnistFolder);
}

std::string seed_study(const std::string& name, const std::string& learning_rates,
                       const std::string& optimizer = "adam",
                       const std::string& data =
                           "{idx: fashion-mnist, validation_split: 0.2, "
                           "max_rows: 600}") {
  return "study: " + name +
         "\n"
         "objective: {metric: val_accuracy, direction: maximize}\n"
         "data: " +
         data +
         "\n"
         "model:\n"
         "  layers: [flatten, {dense: {units: {int: [16, 64], step: 16}, activation: relu}},\n"
         "           {dropout: 0.2}, {dense: 10}]\n"
         "  optimizer: {" +
         optimizer + ": {learning_rate: {choice: " + learning_rates +
         "}}}\n"
         "fit: {epochs: 50, early_stopping: {monitor: val_loss, patience: 5}}\n"
         "scheduler: {hyperband: {max_epochs: 3, factor: 3}}\n"
         "seed: 3\n";
}

TEST(ModelStudy, HyperbandTrainsPromotesRetrainsAndSaves) {
  ASSERT_TRUE(have_fashion_mnist()) << "needs dataset-fashion-mnist (scripts/install-deps)";
  TempDir dir;
  const auto file = dir.write("seed.yaml", seed_study("seed", "[1e-2, 1e-3]"));
  const CliResult r = run_cli({"search", file.string(), "--workers", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_THAT(r.out, HasSubstr("data: /usr/share/datasets/fashion-mnist: 480 training, 120 "
                               "validation, 10000 test rows"));
  EXPECT_THAT(r.out, HasSubstr("epoch 1/1: loss"));  // per-epoch progress
  EXPECT_THAT(r.out, HasSubstr("best hyperparameters"));
  EXPECT_THAT(r.out, HasSubstr("test: loss"));
  // One retrain seed per worker.
  EXPECT_THAT(r.out, HasSubstr("with 2 seeds at once (one per worker) on the training and "
                               "validation rows..."));
  EXPECT_THAT(r.out, HasSubstr("  best, seed 2 epoch 1/"));
  // By default the model averages the seeds' networks.
  EXPECT_THAT(r.out, HasSubstr(" (2 seeds averaged)\nseeds: accuracy "));
  EXPECT_THAT(r.out, HasSubstr("); the model averages them\nmodel: 2 networks averaged, each "));
  EXPECT_THAT(r.out, HasSubstr("and 1 more network(s) beside it (weights)"));
  EXPECT_TRUE(fs::exists(dir / "seed" / "best_model.pt"));
  EXPECT_TRUE(fs::exists(dir / "seed" / "best_model_2.pt"));
  const auto saved = nlohmann::json::parse(read_text(dir / "seed" / "best_model.json"));
  EXPECT_EQ(saved["version"], 2);
  ASSERT_EQ(saved["ensemble"].size(), 2u) << saved.dump(1);
  EXPECT_EQ(saved["ensemble"][0]["weights"], "best_model.pt");
  EXPECT_EQ(saved["ensemble"][1]["weights"], "best_model_2.pt");
  EXPECT_EQ(saved["ensemble"][1]["sha256"], sha256_file(dir / "seed" / "best_model_2.pt"));

  // Run again with one network kept: the search is done, the retrain replaces the ensemble.
  std::string one = seed_study("seed", "[1e-2, 1e-3]");
  one.replace(one.find("patience: 5}"), 12, "patience: 5}, retrain: {average: false}");
  write_text(file, one);
  const CliResult again = run_cli({"search", file.string(), "--workers", "2", "--quiet"});
  ASSERT_EQ(again.exit_code, 0) << again.describe();
  EXPECT_THAT(again.out, HasSubstr("; kept seed "));
  EXPECT_FALSE(fs::exists(dir / "seed" / "best_model_2.pt")) << "not part of the model any more";
  EXPECT_FALSE(
      nlohmann::json::parse(read_text(dir / "seed" / "best_model.json")).contains("ensemble"));

  // max_epochs 3, factor 3: bracket 1 runs 3 trials for 1 epoch and promotes 1 to 3 epochs;
  // bracket 0 runs 2 trials for 3 epochs.
  const auto trials = trials_json({file.string()});
  ASSERT_EQ(trials.size(), 6u) << trials.dump(1);
  int promoted = 0;
  for (const auto& t : trials) {
    EXPECT_EQ(t["state"], "complete") << t.dump();
    const auto& attrs = t["attrs"];
    EXPECT_GT(attrs["complexity"]["parameters"].get<double>(), 784.0 * 16) << t.dump();
    EXPECT_GT(attrs["complexity"]["latency_b1_ms"].get<double>(), 0.0);
    EXPECT_EQ(attrs["history"].size(),
              attrs["epochs"].get<std::size_t>() - (t.contains("parent") ? 1 : 0))
        << t.dump();
    if (t.contains("parent")) {
      ++promoted;
      EXPECT_EQ(attrs["inherited_from"], t["parent"]) << "continued from its parent's weights";
      EXPECT_EQ(attrs["history"][0]["epoch"], 2) << "starts after the parent's epoch";
      EXPECT_TRUE(
          fs::exists(dir / "seed" / "checkpoints" / ("trial_" + t["parent"].dump() + ".pt")));
    }
  }
  EXPECT_EQ(promoted, 1);
}

TEST(ModelStudy, KilledInTheMiddleOfABracketItContinuesThatBracket) {
  ASSERT_TRUE(have_fashion_mnist()) << "needs dataset-fashion-mnist (scripts/install-deps)";
  TempDir dir;
  std::string text = seed_study("resume", "[1e-2, 1e-3]");
  text.replace(text.find("max_epochs: 3"), 13, "max_epochs: 9");
  const auto file = dir.write("resume.yaml", text);
  // max_epochs 9, factor 3: brackets of 9 -> 3 -> 1, 5 -> 2 and 3 trials: 23, 6 of them promoted.
  CliProcess first({"search", file.string(), "--workers", "2", "--quiet"});
  ASSERT_TRUE(eventually([&] {
    if (!fs::exists(dir / "resume" / "quarry.db")) return false;
    const CliResult r = run_cli({"trials", file.string(), "--format", "json"}, {.probe = true});
    if (r.exit_code != 0) return false;
    int done = 0;
    for (const auto& t : nlohmann::json::parse(r.out)) done += t["state"] == "complete" ? 1 : 0;
    return done >= 5;
  })) << "five trials never completed";
  first.send(SIGKILL);
  const CliResult killed = first.wait();
  ASSERT_EQ(killed.signal, SIGKILL) << "the search ended before the kill: " << killed.describe();
  const auto before = trials_json({file.string()});
  ASSERT_LT(before.size(), 23u);

  const CliResult second = run_cli({"search", file.string(), "--workers", "2", "--quiet"});
  ASSERT_EQ(second.exit_code, 0) << second.describe();
  const auto after = trials_json({file.string()});
  ASSERT_EQ(after.size(), 23u) << "the schedule went on where it stopped, not from scratch";
  int promoted = 0;
  for (const auto& t : after) {
    EXPECT_EQ(t["state"], "complete") << t.dump();
    promoted += t.contains("parent") ? 1 : 0;
  }
  EXPECT_EQ(promoted, 6);
  for (const auto& t : before) {  // finished trials are kept as they were
    if (t["state"] == "complete") {
      EXPECT_EQ(after[t["number"].get<std::size_t>()]["values"], t["values"]) << t.dump();
    }
  }
}

TEST(ModelStudy, ADivergingTrialFailsWithItsReasonAndTheSearchGoesOn) {
  ASSERT_TRUE(have_fashion_mnist()) << "needs dataset-fashion-mnist (scripts/install-deps)";
  TempDir dir;
  // Every trial may diverge: the search goes on past the 3 failures in a row that would stop it.
  const auto file =
      dir.write("nan.yaml", seed_study("nan", "[1e12]", "sgd") + "max_consecutive_failures: 100\n");
  const CliResult r = run_cli({"search", file.string(), "--workers", "1", "--quiet"});
  const auto trials = trials_json({file.string()});
  ASSERT_FALSE(trials.empty()) << r.describe();
  std::size_t diverged = 0;
  for (const auto& t : trials) {
    // A learning rate of 1e12 makes the loss NaN, unless the first step kills every ReLU (the
    // loss then stays finite at chance level): initial weights are not seeded per trial.
    if (t["state"] == "failed") {
      EXPECT_THAT(t["failure"].get<std::string>(), HasSubstr("loss became")) << t.dump();
      ++diverged;
    } else {
      EXPECT_EQ(t["state"], "complete") << t.dump();
    }
  }
  EXPECT_GT(diverged, 0u);
  if (diverged == trials.size()) {
    EXPECT_EQ(r.exit_code, 0) << r.describe();  // nothing to retrain
  } else if (r.exit_code != 0) {  // the retrained best diverged: one line, not a crash
    EXPECT_EQ(r.exit_code, 2) << r.describe();
    EXPECT_THAT(r.err, HasSubstr("quarry: error: retraining the best configuration"))
        << r.describe();
    EXPECT_THAT(r.err, HasSubstr("loss became")) << r.describe();
  }
}

TEST(ModelStudy, AMissingDatasetIsOneLineNamingIt) {
  TempDir dir;
  const auto file = dir.write(
      "missing.yaml",
      seed_study("missing", "[1e-3]", "adam", "{idx: " + (dir / "nowhere").string() + "}"));
  const CliResult r = run_cli({"search", file.string()});
  EXPECT_EQ(r.exit_code, 2) << r.describe();
  EXPECT_THAT(r.err_first_line(), HasSubstr((dir / "nowhere").string()));
  EXPECT_EQ(line_count(r.err), 1u) << r.err;
  EXPECT_FALSE(fs::exists(dir / "missing" / "quarry.db")) << "nothing stored for a bad file";
}

// The same study file and seed give the same trials, bit for bit, with one worker or two: each
// trial's initial weights and dropout masks come from its own seed, not from LibTorch's
// process-wide generator, which the other worker's trial draws from meanwhile.
TEST(ModelStudy, TheSameSeedGivesTheSameValuesWithOneWorkerOrTwo) {
  ASSERT_TRUE(have_fashion_mnist()) << "needs dataset-fashion-mnist (scripts/install-deps)";
  const std::string text =
      "study: same\n"
      "objective: {metric: val_loss, direction: minimize}\n"
      "data: {idx: fashion-mnist, validation_split: 0.2, max_rows: 600}\n"
      "model:\n"
      "  layers: [flatten, {dense: {units: {int: [16, 64], step: 16}, activation: relu}},\n"
      "           {dropout: 0.3}, {dense: 10}]\n"
      "  optimizer: {adam: {learning_rate: {float: [1e-3, 1e-2], log: true}}}\n"
      "fit: {epochs: 2, retrain: {seeds: 2, average: false, validation_rows: false}}\n"
      "sampler: random\n"
      "max_trials: 3\n"
      "seed: 11\n";
  std::vector<nlohmann::json> runs;
  std::vector<std::string> tests;
  for (const char* workers : {"1", "2"}) {
    TempDir dir;
    const auto file = dir.write("same.yaml", text);
    const CliResult r = run_cli({"search", file.string(), "--workers", workers, "--quiet"});
    ASSERT_EQ(r.exit_code, 0) << r.describe();
    runs.push_back(trials_json({file.string()}));
    // fit.retrain: two seeds whatever the workers, on the training rows, the better one kept.
    EXPECT_THAT(r.out, HasSubstr("for 2 epoch(s) with 2 seeds at once...\n"));
    EXPECT_THAT(r.out, HasSubstr("; kept seed "));
    EXPECT_FALSE(fs::exists(dir / "same" / "best_model_2.pt"));
    tests.push_back(r.out.substr(r.out.find("\ntest: ")));
  }
  EXPECT_EQ(tests[0].substr(0, tests[0].find("\nmodel: ")),
            tests[1].substr(0, tests[1].find("\nmodel: ")))
      << "the same retrain, seed for seed";
  ASSERT_EQ(runs[0].size(), 3u) << runs[0].dump(1);
  ASSERT_EQ(runs[1].size(), 3u) << runs[1].dump(1);
  for (std::size_t i = 0; i < 3; ++i) {
    const auto& a = runs[0][i];
    const auto& b = runs[1][i];
    ASSERT_EQ(a["number"], b["number"]);
    EXPECT_EQ(a["state"], "complete") << a.dump();
    EXPECT_EQ(a["params"], b["params"]) << "trial " << a["number"];
    EXPECT_EQ(a["values"], b["values"]) << "trial " << a["number"];  // exactly, not nearly
    EXPECT_EQ(a["attrs"]["history"], b["attrs"]["history"]) << "trial " << a["number"];
  }
}

}  // namespace
}  // namespace quarry::cli_test
