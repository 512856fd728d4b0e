// `quarry status | best | trials` read what a finished search stored, in every format, named by
// the study file or by --storage URL --study NAME.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/cli/cli_helpers.hpp"

namespace quarry::cli_test {
namespace {

using ::testing::HasSubstr;

// (Columns: parameters in name order.) A grid over x = 0..5: x < 4 completes with loss = 5 - x, x
// >= 4 fails with a stderr message that has a comma (so the CSV must quote it). Best: trial 3,
// loss 2.
constexpr const char* kStudy =
    "study: grid\n"
    "objective: loss\n"
    "space:\n"
    "  x: {int: [0, 5]}\n"
    "  tag: {fixed: a}\n"
    "command: [sh, -c, \"if test {x} -ge 4; then echo 'x too big, giving up' >&2; exit 3; fi;"
    " echo quarry: loss=$((5 - {x}))\"]\n"
    "sampler: grid\n"
    "max_trials: 10\n";

class CliInspect : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir;
    study_ = new fs::path(dir_->write("study.yaml", kStudy));
    search_ = new CliResult(run_cli({"search", study_->string(), "--workers", "2"}));
  }
  static void TearDownTestSuite() {
    delete search_;
    delete study_;
    delete dir_;
  }
  void SetUp() override { ASSERT_EQ(search_->exit_code, 0) << search_->describe(); }

  /// `quarry COMMAND` for the study, once by file and once by store and name: both must agree.
  CliResult inspect(const std::vector<std::string>& command) {
    std::vector<std::string> by_file = command, by_name = command;
    by_file.insert(by_file.begin() + 1, study_->string());
    by_name.insert(by_name.begin() + 1, {"--storage", url(), "--study", "grid"});
    const CliResult a = run_cli(by_file), b = run_cli(by_name);
    EXPECT_EQ(a.exit_code, 0) << a.describe();
    EXPECT_EQ(b.exit_code, 0) << b.describe();
    EXPECT_EQ(a.out, b.out);
    return a;
  }
  static std::string url() { return "sqlite://" + (dir_->path() / "grid" / "quarry.db").string(); }

  static TempDir* dir_;
  static fs::path* study_;
  static CliResult* search_;
};

TempDir* CliInspect::dir_ = nullptr;
fs::path* CliInspect::study_ = nullptr;
CliResult* CliInspect::search_ = nullptr;

/// The lines of `text`, which must end with `eol`.
std::vector<std::string> lines_of(const std::string& text, const std::string& eol = "\n") {
  EXPECT_TRUE(text.ends_with(eol)) << text;
  std::vector<std::string> out;
  for (std::size_t at = 0; at < text.size();) {
    const auto end = text.find(eol, at);
    out.push_back(text.substr(at, end - at));
    if (end == std::string::npos) break;
    at = end + eol.size();
  }
  return out;
}

TEST_F(CliInspect, SearchPrintsProgressAndSummary) {
  EXPECT_THAT(search_->out, HasSubstr("2 worker(s), objective: command sh -c"));
  EXPECT_THAT(search_->out, HasSubstr("trial 4 failed: exited with status 3"));
  EXPECT_THAT(search_->out,
              HasSubstr("study 'grid': 6 trials; this run: 4 complete, 0 pruned, 2 failed"));
  EXPECT_THAT(search_->out, HasSubstr("best hyperparameters (trial 3):\n  tag: a\n  x: 3\n"));
}

TEST_F(CliInspect, StatusCountsAndBest) {
  const CliResult r = inspect({"status"});
  EXPECT_EQ(r.out, "study 'grid' in " + url() +
                       "\n"
                       "  trials: 6 (4 complete, 0 running, 0 waiting, 0 pruned, 2 failed)\n"
                       "  directions: minimize\n"
                       "  best: loss=2 (trial 3)\n");
}

TEST_F(CliInspect, BestAsTableAndJson) {
  CliResult r = inspect({"best"});
  EXPECT_EQ(r.out, "best trial: 3\n  loss = 2\nhyperparameters:\n  tag: a\n  x: 3\n");
  r = inspect({"best", "--format", "json"});
  const auto best = nlohmann::json::parse(r.out);
  EXPECT_EQ(best["number"], 3);
  EXPECT_EQ(best["state"], "complete");
  EXPECT_EQ(best["values"], (nlohmann::json{{"loss", 2.0}}));
  EXPECT_EQ(best["params"], (nlohmann::json{{"x", 3}, {"tag", "a"}}));
}

TEST_F(CliInspect, TrialsAsJson) {
  const auto trials = nlohmann::json::parse(inspect({"trials", "--format", "json"}).out);
  ASSERT_EQ(trials.size(), 6u);
  for (int i = 0; i < 6; ++i) {
    const auto& t = trials[i];
    EXPECT_EQ(t["number"], i);
    EXPECT_EQ(t["params"]["x"], i) << "the grid runs its points in order";
    EXPECT_EQ(t["attempts"], 1);
    if (i < 4) {
      EXPECT_EQ(t["state"], "complete");
      EXPECT_EQ(t["values"]["loss"], 5.0 - i);
      EXPECT_FALSE(t.contains("failure"));
    } else {
      EXPECT_EQ(t["state"], "failed");
      EXPECT_EQ(t["failure"], "exited with status 3; stderr tail:\nx too big, giving up");
      EXPECT_EQ(t["values"], nlohmann::json::object());
    }
  }
}

TEST_F(CliInspect, TrialsAsTable) {
  const auto rows = lines_of(inspect({"trials"}).out);
  ASSERT_EQ(rows.size(), 7u);  // header, 6 trials
  EXPECT_THAT(rows[0], ::testing::MatchesRegex("number +state +loss +tag +x +duration +note"));
  EXPECT_THAT(rows[1], ::testing::MatchesRegex("0 +complete +5 +a +0 +[0-9.]+s"));
  EXPECT_THAT(rows[5], ::testing::MatchesRegex(
                           "4 +failed +a +4 +[0-9.]+s +exited with status 3; stderr tail:"));
}

TEST_F(CliInspect, TrialsAsCsv) {
  const auto rows = lines_of(inspect({"trials", "--format", "csv"}).out, "\r\n");
  ASSERT_EQ(rows.size(), 7u);
  EXPECT_EQ(rows[0], "number,state,loss,tag,x,duration,note");
  EXPECT_THAT(rows[4], ::testing::MatchesRegex("3,complete,2,a,3,[0-9.]+s,"));
  // The whole failure reason, quoted (it holds a comma and a newline).
  EXPECT_THAT(
      rows[5],
      ::testing::MatchesRegex(
          "4,failed,,a,4,[0-9.]+s,\"exited with status 3; stderr tail:\nx too big, giving up\""));
}

TEST_F(CliInspect, TrialsFilteredByState) {
  auto trials =
      nlohmann::json::parse(inspect({"trials", "--format", "json", "--state", "failed"}).out);
  ASSERT_EQ(trials.size(), 2u);
  EXPECT_EQ(trials[0]["number"], 4);
  EXPECT_EQ(trials[1]["number"], 5);
  trials = nlohmann::json::parse(inspect({"trials", "--format", "json", "--state", "pruned"}).out);
  EXPECT_EQ(trials, nlohmann::json::array());
  const CliResult r = run_cli({"trials", study_->string(), "--state", "done"});
  EXPECT_EQ(r.exit_code, 2) << r.describe();
}

TEST_F(CliInspect, PlainDatabasePathIsAStoreUrl) {
  const CliResult r = run_cli(
      {"status", "--storage", (dir_->path() / "grid" / "quarry.db").string(), "--study", "grid"});
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_THAT(r.out, HasSubstr("trials: 6 (4 complete"));
}

TEST_F(CliInspect, RunningTheSearchAgainFindsItComplete) {
  const CliResult r = run_cli({"search", study_->string()});
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_THAT(r.out, HasSubstr("6 trials stored"));
  EXPECT_THAT(r.out, HasSubstr("this run: 0 complete, 0 pruned, 0 failed"));
  EXPECT_EQ(trials_json({study_->string()}).size(), 6u);
}

TEST(CliStudyOverride, StorageAndStudyOptionsOverrideTheFile) {
  TempDir dir;
  const auto study = dir.write("study.yaml", kStudy);
  const std::string url = "sqlite://" + (dir / "elsewhere.db").string();
  CliResult r = run_cli({"search", study.string(), "--storage", url, "--study", "renamed"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_THAT(r.out, HasSubstr("study 'renamed' in " + url + ": 0 trials stored"));
  EXPECT_FALSE(fs::exists(dir / "grid")) << "the file's own store is not touched";

  r = run_cli({"status", "--storage", url, "--study", "renamed"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_THAT(r.out, HasSubstr("trials: 6 (4 complete, 0 running, 0 waiting, 0 pruned, 2 failed)"));
  r = run_cli({"status", "--storage", url, "--study", "grid"});
  EXPECT_EQ(r.exit_code, 2) << r.describe();
  EXPECT_EQ(r.err_first_line(),
            "quarry: error: no study named 'grid' in this store (it has: renamed)");
}

}  // namespace
}  // namespace quarry::cli_test
