// `quarry best` and `quarry status` with two objectives: the Pareto front, as a table and as JSON.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/cli/cli_helpers.hpp"

namespace quarry::cli_test {
namespace {

using ::testing::HasSubstr;

// Maximise accuracy, minimise size; trials are asked and told by hand.
constexpr const char* kStudy =
    "study: tradeoff\n"
    "objectives:\n"
    "  - {metric: acc, direction: maximize}\n"
    "  - {metric: size, direction: minimize}\n"
    "space:\n"
    "  units: {int: [1, 9]}\n"
    "command: [sh, -c, \"echo quarry: acc=0.5 size=1\"]\n"
    "sampler: grid\n"
    "max_trials: 9\n";

class CliBestPareto : public ::testing::Test {
 protected:
  void SetUp() override {
    // Trial: (acc, size). 0 (0.80, 5) front; 1 (0.90, 10) front; 2 (0.70, 6) dominated by 0;
    // 3 (0.95, 30) front; 4 pruned; 5 running (never told).
    const std::vector<std::pair<std::string, std::string>> told = {
        {"0.8", "5"}, {"0.9", "10"}, {"0.7", "6"}, {"0.95", "30"}};
    for (std::size_t i = 0; i < 6; ++i) {
      const CliResult asked = run_cli({"ask", study_.string()});
      ASSERT_EQ(asked.exit_code, 0) << asked.describe();
      const std::string number = std::to_string(i);
      CliResult r;
      if (i < told.size())
        r = run_cli({"tell", study_.string(), "--trial", number, "--value", told[i].first,
                     "--value", told[i].second});
      else if (i == 4)
        r = run_cli({"tell", study_.string(), "--trial", number, "--state", "pruned"});
      else
        continue;
      ASSERT_EQ(r.exit_code, 0) << r.describe();
    }
  }

  TempDir dir_;
  fs::path study_ = dir_.write("study.yaml", kStudy);
};

TEST_F(CliBestPareto, TablePrintsOneRowPerFrontTrialBestAccuracyFirst) {
  const CliResult r = run_cli({"best", study_.string()});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.out,
            "pareto front: 3 trials\n"
            "number  acc   size  units\n"
            "3       0.95  30    4\n"
            "1       0.9   10    2\n"
            "0       0.8   5     1\n");
}

TEST_F(CliBestPareto, JsonIsAnArrayOfTrials) {
  const CliResult r = run_cli({"best", study_.string(), "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  const auto front = nlohmann::json::parse(r.out);
  ASSERT_TRUE(front.is_array());
  ASSERT_EQ(front.size(), 3u);
  EXPECT_EQ(front[0]["number"], 3);
  EXPECT_EQ(front[1]["number"], 1);
  EXPECT_EQ(front[2]["number"], 0);
  EXPECT_EQ(front[0]["values"], (nlohmann::json{{"acc", 0.95}, {"size", 30.0}}));
  EXPECT_EQ(front[2]["params"], (nlohmann::json{{"units", 1}}));
  for (const auto& t : front) EXPECT_EQ(t["state"], "complete");
}

TEST_F(CliBestPareto, StatusCountsTheFront) {
  const CliResult r = run_cli({"status", study_.string()});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_THAT(r.out, HasSubstr("  directions: maximize, minimize\n  pareto front: 3 trials\n"));
  EXPECT_THAT(r.out, ::testing::Not(HasSubstr("best:")));
}

TEST(CliBestParetoEmpty, NoCompleteTrialIsAOneLineError) {
  TempDir dir;
  const auto study = dir.write("study.yaml", kStudy);
  ASSERT_EQ(run_cli({"ask", study.string()}).exit_code, 0);
  const CliResult r = run_cli({"best", study.string()});
  EXPECT_NE(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.err_first_line(),
            "quarry: error: study 'tradeoff' has no complete feasible trial yet");
  const CliResult status = run_cli({"status", study.string()});
  EXPECT_THAT(status.out, HasSubstr("  pareto front: 0 trials\n"));
}

}  // namespace
}  // namespace quarry::cli_test
