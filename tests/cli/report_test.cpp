// `quarry importance` and `quarry report` on a finished search: the importance a known function
// implies (x dominates, y matters a little, z not at all), in both formats; the report written
// where -o / --out say, then opened in headless Chromium (WebDriver): every chart drew marks on its
// canvas and the page logged no JavaScript error (screenshots under the build folder); and the
// one-line errors with exit 2 (unknown study or objective, nothing finished yet). Also drawn in the
// browser: Hyperband's budgets by bracket, and a two-objective study of models (the Pareto front,
// infeasible trials, the objective against the models' parameters and FLOPs).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "quarry/samplers/random.hpp"
#include "quarry/storage/storage.hpp"
#include "quarry/study/study.hpp"
#include "tests/cli/cli_helpers.hpp"
#include "tests/report/page_checks.hpp"
#include "tests/report/webdriver.hpp"

namespace quarry::cli_test {
namespace {

using ::testing::HasSubstr;

// loss = 10 x + y: x's share of the variance is ~99%, y's ~1%, z's 0. Two intermediate values per
// trial; a trial with x = 9 and y = 9 fails.
constexpr const char* kStudy =
    "study: known\n"
    "objective: loss\n"
    "space:\n"
    "  x: {int: [0, 9]}\n"
    "  y: {int: [0, 9]}\n"
    "  z: {choice: [a, b]}\n"
    "command: [sh, -c, \"test {x}{y} = 99 && exit 3; echo quarry: step=1 loss=$((20 * {x} + {y} "
    "+ 5)); echo quarry: step=2 loss=$((12 * {x} + {y})); echo quarry: loss=$((10 * {x} + "
    "{y}))\"]\n"
    "sampler: random\n"
    "max_trials: 60\n";

class CliReport : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir;
    study_ = new fs::path(dir_->write("study.yaml", kStudy));
    search_ = new CliResult(run_cli({"search", study_->string(), "--workers", "2", "--seed", "4"}));
  }
  static void TearDownTestSuite() {
    delete search_;
    delete study_;
    delete dir_;
  }
  void SetUp() override { ASSERT_EQ(search_->exit_code, 0) << search_->describe(); }

  static TempDir* dir_;
  static fs::path* study_;
  static CliResult* search_;
};

TempDir* CliReport::dir_ = nullptr;
fs::path* CliReport::study_ = nullptr;
CliResult* CliReport::search_ = nullptr;

TEST_F(CliReport, ImportanceRanksTheParametersOfAKnownFunction) {
  const auto r = run_cli({"importance", study_->string(), "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  const auto json = nlohmann::json::parse(r.out);
  ASSERT_EQ(json.size(), 3u);
  EXPECT_EQ(json.begin().key(), "x");  // most important first
  EXPECT_GT(json["x"].get<double>(), 0.9);
  EXPECT_GT(json["y"].get<double>(), json["z"].get<double>());
  EXPECT_LT(json["z"].get<double>(), 0.02);
  EXPECT_NEAR(json["x"].get<double>() + json["y"].get<double>() + json["z"].get<double>(), 1.0,
              1e-9);

  const auto table = run_cli({"importance", study_->string()});
  ASSERT_EQ(table.exit_code, 0) << table.describe();
  EXPECT_THAT(table.out, HasSubstr("of loss over"));
  EXPECT_LT(table.out.find("  x "), table.out.find("  y "));
}

TEST_F(CliReport, ImportanceRefusesAnUnknownObjective) {
  const auto r = run_cli({"importance", study_->string(), "--objective", "accuracy"});
  EXPECT_EQ(r.exit_code, 2) << r.describe();
  EXPECT_THAT(r.err_first_line(), HasSubstr("--objective 'accuracy' is not an objective"));
}

TEST_F(CliReport, ReportGoesWhereOutSaysAndDrawsInABrowser) {
  const auto path = dir_->path() / "known.html";
  const auto r = run_cli({"report", study_->string(), "-o", path.string()});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_THAT(r.out, HasSubstr("wrote " + path.string()));
  const auto html = read_text(path);
  for (const char* id :
       {"chart-history-0", "chart-importance", "chart-contour", "chart-parallel", "chart-slice-0",
        "chart-slice-1", "chart-slice-2", "chart-curves", "chart-timeline"})
    EXPECT_THAT(html, HasSubstr(id));
  const auto same =
      run_cli({"report", "--storage", "sqlite://" + (dir_->path() / "known" / "quarry.db").string(),
               "--study", "known", "--out", (dir_->path() / "b.html").string()});
  ASSERT_EQ(same.exit_code, 0) << same.describe();

  if (!test::WebDriver::available()) GTEST_FAIL() << "chromium and chromedriver are not installed";
  test::WebDriver browser;
  browser.open("file://" + path.string());
  ASSERT_TRUE(browser.wait_for("document.body.dataset.quarryCharts", 20))
      << "the charts were not drawn";
  const auto marks = test::canvas_marks(browser);
  EXPECT_EQ(marks.size(), 9u) << marks.dump();
  for (const auto& [id, painted] : marks.items())
    EXPECT_GT(painted.get<int>(), 150) << id << " drew nothing";
  EXPECT_GT(browser.execute("return document.querySelectorAll('#quarry-trials tbody tr').length")
                .get<int>(),
            50);
  // A click on loss's name (column 2) sorts the rows by it, smallest first, blanks last.
  browser.execute("document.querySelector('#quarry-trials th[data-column=\"2\"]').click()");
  const auto losses = browser.execute(
      "return [...document.querySelectorAll('#quarry-trials tbody tr td:nth-child(3)')]"
      ".map(td => td.textContent)");
  std::vector<double> sorted;
  for (const auto& text : losses)
    if (!text.get<std::string>().empty()) sorted.push_back(std::stod(text.get<std::string>()));
  EXPECT_GT(sorted.size(), 50u);
  EXPECT_TRUE(std::is_sorted(sorted.begin(), sorted.end()));
  EXPECT_THAT(browser.console_errors(), ::testing::IsEmpty());
  fs::create_directories(QUARRY_SCREENSHOT_DIR);
  browser.screenshot(std::string(QUARRY_SCREENSHOT_DIR) + "/report.png");
}

TEST(CliReportHyperband, BudgetsAreDrawnPerBracket) {
  TempDir dir;
  const auto study = dir.write("hb.yaml", kTinyHyperbandStudy);
  ASSERT_EQ(run_cli({"search", study.string(), "--workers", "1"}).exit_code, 0);
  const auto path = dir.path() / "hb.html";
  const auto r = run_cli({"report", study.string(), "-o", path.string()});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  if (!test::WebDriver::available()) GTEST_FAIL() << "chromium and chromedriver are not installed";
  test::WebDriver browser;
  browser.open("file://" + path.string());
  ASSERT_TRUE(browser.wait_for("document.body.dataset.quarryCharts", 20));
  EXPECT_GT(test::canvas_marks(browser).value("chart-budgets", 0), 150);
  const auto labels = browser.execute(
      "return Chart.getChart(document.getElementById('chart-budgets')).data.datasets"
      ".map(d => d.label + ':' + d.data.length)");
  EXPECT_EQ(labels, nlohmann::json({"bracket 0:4", "bracket 1:2"}));
  EXPECT_THAT(browser.console_errors(), ::testing::IsEmpty());
}

TEST(CliReportModelFacts, ParetoFrontAndModelFactsDraw) {
  // A study stored through the library, as a model study's trials are: two objectives (accuracy
  // up, latency down), each trial's "complexity" (params, flops), one in five infeasible.
  TempDir dir;
  const auto url = "sqlite://" + (dir.path() / "m.db").string();
  {
    Study study(
        storage::open_storage(url), "models",
        {.directions = {Direction::Maximize, Direction::Minimize},
         .sampler = std::make_shared<samplers::RandomSampler>(samplers::RandomOptions{.seed = 3})});
    study.register_space(
        Space({space::Param::Int("units", 16, 512), space::Param::Int("layers", 1, 4)}));
    study.storage().set_attr(study.id(), "metrics", R"(["accuracy", "latency_ms"])");
    for (int i = 0; i < 30; ++i) {
      const auto t = study.ask("host:1:0");
      ASSERT_TRUE(t);
      const auto units = std::get<std::int64_t>(t->params.at("units"));
      const auto layers = std::get<std::int64_t>(t->params.at("layers"));
      const double params = static_cast<double>(units * units * layers);
      study.storage().set_trial_attr(
          study.id(), t->number, "complexity",
          nlohmann::json{{"params", params}, {"flops", 2 * params}}.dump());
      study.storage().set_trial_attr(study.id(), t->number, "feasible",
                                     i % 5 == 4 ? "false" : "true");
      study.tell(t->number, {0.7 + 0.25 * std::log(params) / std::log(512.0 * 512 * 4),
                             0.001 * params / 1000 + 0.1 * static_cast<double>(i % 3)});
    }
  }
  const auto path = dir.path() / "m.html";
  const auto r = run_cli({"report", "--storage", url, "--study", "models", "-o", path.string()});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  if (!test::WebDriver::available()) GTEST_FAIL() << "chromium and chromedriver are not installed";
  test::WebDriver browser;
  browser.open("file://" + path.string());
  ASSERT_TRUE(browser.wait_for("document.body.dataset.quarryCharts", 20));
  const auto marks = test::canvas_marks(browser);
  for (const char* id :
       {"chart-history-0", "chart-history-1", "chart-pareto-0-1", "chart-fact-0", "chart-fact-1"})
    EXPECT_GT(marks.value(id, 0), 150) << id << " drew nothing: " << marks.dump();
  const auto pareto = browser.execute(
      "return Chart.getChart(document.getElementById('chart-pareto-0-1')).data.datasets"
      ".map(d => d.label + ':' + (d.data.length > 0))");
  EXPECT_EQ(pareto, nlohmann::json({"Pareto front:true", "feasible:true", "infeasible:true"}));
  EXPECT_THAT(browser.console_errors(), ::testing::IsEmpty());
  fs::create_directories(QUARRY_SCREENSHOT_DIR);
  browser.screenshot(std::string(QUARRY_SCREENSHOT_DIR) + "/report-pareto.png");
}

TEST(CliReportErrors, UnknownStudyAndNothingFinishedAreOneLineExit2) {
  TempDir dir;
  const auto study = dir.write("s.yaml", kStudy);
  const auto url = "sqlite://" + (dir.path() / "known" / "quarry.db").string();
  // A store with the study, whose only trial is still running.
  const auto ask = run_cli({"ask", study.string()});
  ASSERT_EQ(ask.exit_code, 0) << ask.describe();
  const auto empty = run_cli({"report", study.string(), "-o", (dir.path() / "r.html").string()});
  EXPECT_EQ(empty.exit_code, 2) << empty.describe();
  EXPECT_THAT(empty.err_first_line(), HasSubstr("has no finished trial yet"));
  EXPECT_FALSE(fs::exists(dir.path() / "r.html"));
  const auto importance = run_cli({"importance", study.string()});
  EXPECT_EQ(importance.exit_code, 2) << importance.describe();
  EXPECT_THAT(importance.err_first_line(), HasSubstr("at least 2 complete trials"));
  const auto unknown = run_cli({"report", "--storage", url, "--study", "nope"});
  EXPECT_EQ(unknown.exit_code, 2) << unknown.describe();
  EXPECT_THAT(unknown.err_first_line(), HasSubstr("nope"));
}

}  // namespace
}  // namespace quarry::cli_test
