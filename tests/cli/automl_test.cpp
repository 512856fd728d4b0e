// `quarry automl` and `quarry predict` end to end: a generated table with numeric, categorical and
// missing values, the JSON contract, the saved model, resuming, the study-file section, and bad
// input (one line, exit 2).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "tests/cli/cli_helpers.hpp"

namespace quarry::cli_test {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// A binary problem: the label depends on x1, x2 and the colour; `noise` is irrelevant, `id` is an
// ID column, `const` is constant, and some cells are missing. Rows [first, first + rows) of one
// seeded stream, so that train and test come from the same distribution.
std::string binary_table(int rows, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal;
  std::uniform_int_distribution<int> colour(0, 2), missing(0, 19);
  const char* colours[] = {"red", "green", "blue"};
  std::string csv = "id,x1,x2,colour,noise,const,label\n";
  for (int i = 0; i < rows; ++i) {
    const double x1 = normal(rng), x2 = normal(rng), noise = normal(rng);
    const int c = colour(rng);
    const double logit = 2.5 * x1 - 2.0 * x2 + (c == 0 ? 1.5 : c == 1 ? -1.5 : 0.0);
    const bool label = logit + 0.5 * normal(rng) > 0;
    csv += std::to_string(1000 + i) + ",";
    csv += (missing(rng) == 0 ? std::string("") : std::to_string(x1)) + ",";
    csv += std::to_string(x2) + ",";
    csv += (missing(rng) == 0 ? std::string("NA") : std::string(colours[c])) + ",";
    csv += std::to_string(noise) + ",7,";
    csv += label ? "yes\n" : "no\n";
  }
  return csv;
}

// A regression problem with a categorical.
std::string regression_table(int rows, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal;
  std::uniform_int_distribution<int> group(0, 3);
  std::string csv = "a,b,group,y\n";
  for (int i = 0; i < rows; ++i) {
    const double a = normal(rng), b = normal(rng);
    const int g = group(rng);
    const double y = 3 * a + a * b + 2 * g + 0.1 * normal(rng);
    csv += std::to_string(a) + "," + std::to_string(b) + ",g" + std::to_string(g) + "," +
           std::to_string(y) + "\n";
  }
  return csv;
}

CliResult automl(const std::vector<std::string>& args, double timeout = 120) {
  std::vector<std::string> all = {"automl"};
  all.insert(all.end(), args.begin(), args.end());
  return run_cli(all, {.timeout = timeout});
}

TEST(CliAutoml, BinaryTableEndToEndAsJsonThenPredict) {
  TempDir dir;
  const auto train = dir.write("train.csv", binary_table(400, 1));
  const auto test = dir.write("test.csv", binary_table(200, 2));
  const auto out = dir / "run";
  const double budget = 8;
  const auto r =
      automl({train.string(), "--target", "label", "--time", std::to_string(budget), "--workers",
              "2", "--test", test.string(), "--out", out.string(), "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["task"], "binary");
  EXPECT_THAT(j["task_reason"].get<std::string>(), HasSubstr("2 distinct values"));
  EXPECT_EQ(j["metric"], "roc_auc");
  EXPECT_GT(j["validation_score"].get<double>(), 0.9);
  EXPECT_GT(j["test_score"].get<double>(), 0.9);
  ASSERT_TRUE(j["leaderboard"].is_array());
  ASSERT_GE(j["leaderboard"].size(), 3u);  // the cheap first tries at least
  for (const auto& row : j["leaderboard"]) {
    EXPECT_TRUE(row.contains("family"));
    EXPECT_TRUE(row.contains("fit_time"));
    EXPECT_TRUE(row.contains("predict_time_per_row"));
  }
  // Families beyond the first were tried, and the ID-like and constant columns were dropped.
  std::set<std::string> families;
  for (const auto& row : j["leaderboard"]) families.insert(row["family"].get<std::string>());
  EXPECT_GE(families.size(), 3u) << j["leaderboard"].dump();
  std::set<std::string> dropped;
  for (const auto& c : j["columns"]["dropped"]) dropped.insert(c["column"].get<std::string>());
  EXPECT_EQ(dropped, (std::set<std::string>{"id", "const"}));
  EXPECT_EQ(fs::path(j["model_dir"].get<std::string>()), out / "model");
  EXPECT_LE(j["elapsed"].get<double>(), budget * 1.1) << "the budget covers everything";
  // x1, x2 and the colour matter; the noise column does not.
  ASSERT_FALSE(j["importance"].empty());
  std::map<std::string, double> importance;
  for (const auto& i : j["importance"]) importance[i["column"]] = i["importance"];
  EXPECT_GT(importance["x1"], importance["noise"]);
  EXPECT_GT(importance["x2"], importance["noise"]);

  const auto p = run_cli(
      {"predict", (out / "model").string(), test.string(), "--out", (dir / "p.csv").string()});
  ASSERT_EQ(p.exit_code, 0) << p.describe();
  std::istringstream lines(read_text(dir / "p.csv"));
  std::string line;
  std::getline(lines, line);
  EXPECT_EQ(line, "label,proba_no,proba_yes");
  int rows = 0, right = 0;
  std::istringstream truth(read_text(test));
  std::string truth_line;
  std::getline(truth, truth_line);
  while (std::getline(lines, line)) {
    ++rows;
    std::getline(truth, truth_line);
    const auto label = line.substr(0, line.find(','));
    const auto rest = line.substr(line.find(',') + 1);
    const double p_no = std::stod(rest.substr(0, rest.find(',')));
    const double p_yes = std::stod(rest.substr(rest.find(',') + 1));
    EXPECT_NEAR(p_no + p_yes, 1.0, 1e-4);
    EXPECT_EQ(label, p_yes > p_no ? "yes" : "no");
    right += truth_line.substr(truth_line.rfind(',') + 1) == label;
  }
  EXPECT_EQ(rows, 200);
  EXPECT_GT(right, 170) << "accuracy of the saved model on the test rows";
}

TEST(CliAutoml, RegressionTableAndResumeKeepsTheTrials) {
  TempDir dir;
  const auto train = dir.write("train.csv", regression_table(300, 3));
  const auto out = dir / "run";
  const std::vector<std::string> args = {
      train.string(), "--target",   "y",        "--time", "4",          "--workers",     "2",
      "--out",        out.string(), "--format", "json",   "--families", "linear,xgboost"};
  const auto first = automl(args);
  ASSERT_EQ(first.exit_code, 0) << first.describe();
  const auto a = nlohmann::json::parse(first.out);
  EXPECT_EQ(a["task"], "regression");
  EXPECT_EQ(a["metric"], "rmse");
  EXPECT_FALSE(a.contains("test_score"));
  for (const auto& row : a["leaderboard"])
    EXPECT_THAT(row["family"].get<std::string>(),
                ::testing::AnyOf("linear", "xgboost", "ensemble"));
  const auto second = automl(args);
  ASSERT_EQ(second.exit_code, 0) << second.describe();
  const auto b = nlohmann::json::parse(second.out);
  EXPECT_GT(b["trials"].get<int>(), a["trials"].get<int>()) << "the second run adds to the first";
  // The rmse of the target's own standard deviation (~4.5) is far above what a model reaches.
  EXPECT_LT(b["validation_score"].get<double>(), 1.5);
}

TEST(CliAutoml, AStudyFileSectionRunsAndIsAStudyLikeAnyOther) {
  TempDir dir;
  dir.write("train.csv", binary_table(300, 4));
  const auto study = dir.write("automl.yaml",
                               "study: tables\n"
                               "automl:\n"
                               "  train: train.csv\n"
                               "  target: label\n"
                               "  metric: accuracy\n"
                               "  time: 4\n"
                               "  families: [linear, knn]\n"
                               "workers: 2\n");
  const auto r = run_cli({"search", study.string()});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_THAT(r.out, HasSubstr("task: binary"));
  EXPECT_THAT(r.out, HasSubstr("leaderboard (accuracy"));
  EXPECT_TRUE(fs::exists(dir / "tables" / "model" / "model.json"));
  const auto status = run_cli({"status", study.string()});
  ASSERT_EQ(status.exit_code, 0) << status.describe();
  EXPECT_THAT(status.out, HasSubstr("complete"));
}

struct BadInput {
  std::string name, train, args, message;
};

TEST(CliAutoml, BadInputIsOneLineWithExitCode2) {
  TempDir dir;
  const auto good = dir.write("good.csv", binary_table(100, 5));
  const std::vector<BadInput> cases = {
      {"missing_target", good.string(), "--target nope", "'nope'"},
      {"one_class", dir.write("one.csv", "a,b\n1,x\n2,x\n3,x\n").string(), "--target b",
       "single value"},
      {"all_missing", dir.write("na.csv", "a,b\n1,\n2,NA\n3,?\n").string(), "--target b",
       "missing"},
      {"empty", dir.write("empty.csv", "").string(), "--target b", "empty.csv"},
      {"ragged", dir.write("ragged.csv", "a,b\n1,2\n3\n").string(), "--target b", "ragged.csv:3"},
      {"binary_file", dir.write("bin.csv", std::string("a,b\n1,\0\x01\x02", 9)).string(),
       "--target b", "bin.csv"},
      {"bad_metric", good.string(), "--target label --metric rmse", "rmse"},
      {"bad_task", good.string(), "--target label --task ordinal", "ordinal"},
      {"test_columns", good.string(),
       "--target label --test " + dir.write("t.csv", "x1,label\n1,yes\n").string(), "t.csv"},
      {"tiny_budget", good.string(), "--target label --time 0.00001", "too small"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> args = {c.train};
    std::istringstream words(c.args);
    for (std::string w; words >> w;) args.push_back(w);
    args.push_back("--out");
    args.push_back((dir / ("out_" + c.name)).string());
    const auto r = automl(args);
    EXPECT_EQ(r.exit_code, 2) << c.name << "\n" << r.describe();
    EXPECT_THAT(r.err_first_line(), StartsWith("quarry: error: ")) << c.name;
    EXPECT_THAT(r.err_first_line(), HasSubstr(c.message)) << c.name << "\n" << r.describe();
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << c.name << "\n" << r.err;
  }
  const auto p = run_cli({"predict", (dir / "nowhere").string(), good.string()});
  EXPECT_EQ(p.exit_code, 2) << p.describe();
  EXPECT_THAT(p.err_first_line(), HasSubstr("nowhere"));
}

}  // namespace
}  // namespace quarry::cli_test
