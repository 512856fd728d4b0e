// `quarry analyze` end to end on a real table (tests/analysis/data/diabetes.csv, whose `sex` column
// the fairness view is shown on): slices, the JSON contract, the gate's exit codes with and
// without a baseline, the HTML page, the verdict stored with an automl study, and bad input (one
// line, exit 2).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "quarry/storage/storage.hpp"
#include "tests/cli/cli_helpers.hpp"

namespace quarry::cli_test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

/// The diabetes rows [begin, end) with the header, as a file in `dir`.
fs::path diabetes_rows(TempDir& dir, const std::string& name, int begin, int end) {
  std::istringstream in(read_text(source_dir() / "tests" / "analysis" / "data" / "diabetes.csv"));
  std::string line, out;
  std::getline(in, line);
  out = line + "\n";
  for (int r = 0; std::getline(in, line); ++r)
    if (r >= begin && r < end) out += line + "\n";
  return dir.write(name, out);
}

/// A quick automl model of the diabetes progression (regression), and its test score as
/// `quarry automl` reports it.
struct Trained {
  fs::path model;
  double test_rmse = 0;
};
Trained train(TempDir& dir, const fs::path& train, const fs::path& test, const std::string& name,
              const std::string& families, int trials) {
  const auto r =
      run_cli({"automl", train.string(), "--target", "progression", "--time", "30", "--max-trials",
               std::to_string(trials), "--families", families, "--workers", "1", "--test",
               test.string(), "--out", (dir / name).string(), "--format", "json"},
              {.timeout = 120});
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  const auto j = nlohmann::json::parse(r.out);
  return {j["model_dir"].get<std::string>(), j["test_score"].get<double>()};
}

class CliAnalyze : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir;
    train_ = diabetes_rows(*dir_, "train.csv", 0, 330);
    test_ = diabetes_rows(*dir_, "test.csv", 330, 442);
    good_ = train(*dir_, train_, test_, "good", "linear,xgboost", 6);
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static inline TempDir* dir_ = nullptr;
  static inline fs::path train_, test_;
  static inline Trained good_;
};

TEST_F(CliAnalyze, SlicesAndFairnessAsJson) {
  const auto r = run_cli({"analyze", good_.model.string(), test_.string(), "--slice", "sex",
                          "--slice", "bmi", "--slice", "sex,bmi", "--slice", "sex=2", "--fairness",
                          "sex", "--ci", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["task"], "regression");
  EXPECT_EQ(j["rows"], 112);
  const auto& slices = j["slices"];
  ASSERT_TRUE(slices.is_array());
  // overall, sex=1, sex=2, four bmi quartiles, up to eight crosses, sex=2 again by name.
  ASSERT_GE(slices.size(), 12u);
  EXPECT_EQ(slices[0]["name"], "overall");
  EXPECT_EQ(slices[0]["count"], 112);
  // The overall RMSE is the test score `quarry automl --test` printed: the same predictions.
  EXPECT_NEAR(slices[0]["metrics"]["rmse"].get<double>(), good_.test_rmse, 1e-3);
  const auto interval = slices[0]["intervals"]["rmse"];
  EXPECT_LT(interval[0].get<double>(), good_.test_rmse);
  EXPECT_GT(interval[1].get<double>(), good_.test_rmse);
  int by_sex = 0, quartiles = 0, named = 0;
  for (const auto& s : slices) {
    if (s["spec"] == "sex") by_sex += s["count"].get<int>();
    if (s["spec"] == "bmi") ++quartiles;
    if (s["spec"] == "sex=2") named = s["count"].get<int>();
    EXPECT_TRUE(s.contains("residual_quantiles"));
  }
  EXPECT_EQ(by_sex, 112);
  EXPECT_EQ(quartiles, 4);
  EXPECT_GT(named, 0);
  ASSERT_EQ(j["fairness"].size(), 1u);
  EXPECT_EQ(j["fairness"][0]["column"], "sex");
  EXPECT_EQ(j["fairness"][0]["groups"], nlohmann::json({"sex=1", "sex=2"}));
  bool rmse = false;
  for (const auto& d : j["fairness"][0]["disparities"])
    if (d["metric"] == "rmse") {
      rmse = true;
      EXPECT_NEAR(d["difference"].get<double>(),
                  std::fabs(d["best"].get<double>() - d["worst"].get<double>()), 1e-9);
      EXPECT_LE(d["ratio"].get<double>(), 1.0);
    }
  EXPECT_TRUE(rmse);
}

TEST_F(CliAnalyze, TableShowsEverySliceAndTheGateExitsThreeOnAFailure) {
  const auto pass = dir_->write("pass.yaml",
                                "thresholds:\n"
                                "  - {metric: rmse, max: " +
                                    std::to_string(good_.test_rmse + 1) +
                                    "}\n"
                                    "  - {metric: r2, slice: sex, min: -10, min_count: 10}\n");
  const auto ok =
      run_cli({"analyze", good_.model.string(), test_.string(), "--thresholds", pass.string()});
  ASSERT_EQ(ok.exit_code, 0) << ok.describe();
  EXPECT_THAT(ok.out, HasSubstr("sex=1"));  // the thresholds' slices are analysed too
  EXPECT_THAT(ok.out, HasSubstr("gate: PASSED (3 checks, 0 failed)"));

  const auto fail = dir_->write("fail.yaml", "thresholds:\n  - {metric: rmse, max: 1}\n");
  const auto bad = run_cli({"analyze", good_.model.string(), test_.string(), "--thresholds",
                            fail.string(), "--format", "json"});
  EXPECT_EQ(bad.exit_code, 3) << bad.describe();
  const auto j = nlohmann::json::parse(bad.out);
  EXPECT_EQ(j["verdict"]["passed"], false);
  EXPECT_THAT(bad.err, HasSubstr("FAIL rmse on overall is"));
  EXPECT_THAT(bad.err, HasSubstr("above the maximum 1"));
}

TEST_F(CliAnalyze, ChangeThresholdsAgainstABaselineModel) {
  // The baseline: a single k-nearest-neighbours model. Against itself nothing changes; against the
  // candidate the change is what the two analyses say.
  const auto base = train(*dir_, train_, test_, "base", "knn", 1);
  ASSERT_NE(base.test_rmse, good_.test_rmse);
  const auto same = dir_->write("same.yaml", "thresholds:\n  - {metric: rmse, max_increase: 0}\n");
  const auto self =
      run_cli({"analyze", base.model.string(), test_.string(), "--baseline", base.model.string(),
               "--thresholds", same.string(), "--format", "json"});
  ASSERT_EQ(self.exit_code, 0) << self.describe();
  const auto j = nlohmann::json::parse(self.out);
  EXPECT_EQ(j["baseline"]["slices"][0]["metrics"]["rmse"], j["slices"][0]["metrics"]["rmse"]);

  // The worse of the two as the candidate fails a zero-increase threshold; the better passes.
  const bool good_is_better = good_.test_rmse < base.test_rmse;
  const auto worse = good_is_better ? base.model : good_.model;
  const auto better = good_is_better ? good_.model : base.model;
  const auto r = run_cli({"analyze", worse.string(), test_.string(), "--baseline", better.string(),
                          "--thresholds", same.string()});
  EXPECT_EQ(r.exit_code, 3) << r.describe();
  EXPECT_THAT(r.out, HasSubstr("from the baseline's"));
  EXPECT_THAT(r.out, HasSubstr("against the baseline"));
  const auto r2 = run_cli({"analyze", better.string(), test_.string(), "--baseline", worse.string(),
                           "--thresholds", same.string()});
  EXPECT_EQ(r2.exit_code, 0) << r2.describe();
}

TEST_F(CliAnalyze, HtmlPageIsOneSelfContainedFile) {
  const auto page = *dir_ / "report.html";
  const auto r = run_cli({"analyze", good_.model.string(), test_.string(), "--slice", "sex",
                          "--fairness", "sex", "--format", "html", "--out", page.string()});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  const auto html = read_text(page);
  EXPECT_THAT(html, HasSubstr("<svg"));
  EXPECT_THAT(html, HasSubstr("sex=2"));
  EXPECT_THAT(html, Not(HasSubstr("<script src")));
  EXPECT_THAT(html, Not(HasSubstr("href=\"http")));
}

TEST_F(CliAnalyze, AutomlStudyFileStoresTheVerdict) {
  dir_->write("study_train.csv", read_text(train_));
  dir_->write("study_test.csv", read_text(test_));
  const auto study = dir_->write("diabetes.yaml",
                                 "study: diabetes\n"
                                 "automl:\n"
                                 "  train: study_train.csv\n"
                                 "  target: progression\n"
                                 "  test: study_test.csv\n"
                                 "  time: 3\n"
                                 "  families: [linear]\n");
  const auto s = run_cli({"search", study.string()});
  ASSERT_EQ(s.exit_code, 0) << s.describe();
  const auto gate = dir_->write("gate.yaml", "thresholds:\n  - {metric: r2, min: 0.99}\n");
  const auto r = run_cli({"analyze", study.string(), "--thresholds", gate.string()});
  EXPECT_EQ(r.exit_code, 3) << r.describe();
  EXPECT_THAT(r.out, HasSubstr("data: " + (*dir_ / "study_test.csv").string()));
  auto store = storage::open_storage("sqlite://" + (*dir_ / "diabetes" / "quarry.db").string());
  const auto info = store->find_study("diabetes");
  ASSERT_TRUE(info);
  const auto verdict = store->get_attr(info->id, "analysis.verdict");
  ASSERT_TRUE(verdict);
  const auto j = nlohmann::json::parse(*verdict);
  EXPECT_EQ(j["passed"], false);
  EXPECT_EQ(j["failed"], 1);
}

TEST_F(CliAnalyze, BadInputIsOneLineAndExitTwo) {
  const auto one_line = [](const CliResult& r, const std::string& what) {
    EXPECT_EQ(r.exit_code, 2) << r.describe();
    EXPECT_THAT(r.err, HasSubstr(what)) << r.describe();
    EXPECT_LE(line_count(r.err), 2u) << r.err;
  };
  one_line(run_cli({"analyze", good_.model.string(), test_.string(), "--slice", "smoker"}),
           "slice 'smoker': " + test_.string() + " has no column 'smoker'");
  one_line(run_cli({"analyze", good_.model.string(), test_.string(), "--slice", "sex=3"}),
           "no row of " + test_.string() + " has sex = '3'");
  const auto unknown = dir_->write("unknown.yaml", "thresholds:\n  - {metric: acuracy, min: 1}\n");
  one_line(
      run_cli({"analyze", good_.model.string(), test_.string(), "--thresholds", unknown.string()}),
      unknown.string() + ":2: unknown metric 'acuracy'");
  const auto key = dir_->write("key.yaml", "thresholds:\n  - {metric: rmse, maximum: 1}\n");
  one_line(run_cli({"analyze", good_.model.string(), test_.string(), "--thresholds", key.string()}),
           key.string() + ":2: unknown key 'maximum'");
  const auto no_target = dir_->write("no_target.csv", "age,sex,bmi\n50,1,20\n");
  one_line(run_cli({"analyze", good_.model.string(), no_target.string()}),
           "no target column 'progression'");
  one_line(run_cli({"analyze", (*dir_ / "nowhere").string(), test_.string()}), "nowhere");
  one_line(run_cli({"analyze", good_.model.string(), test_.string(), "--format", "pdf"}),
           "--format must be table, json or html");
  const auto change = dir_->write("change.yaml", "thresholds:\n  - {metric: r2, max_drop: 0}\n");
  one_line(
      run_cli({"analyze", good_.model.string(), test_.string(), "--thresholds", change.string()}),
      "needs --baseline");
}

}  // namespace
}  // namespace quarry::cli_test
