// `quarry dashboard` serving a store while trials arrive: the JSON API (studies, a study, trials
// after N with "settled"), the study's page in headless Chromium drawing every chart with no
// JavaScript error, a trial finished by `quarry tell` while the page is open appearing on it, the
// index of studies, Ctrl-C stopping the server; and its one-line errors (port in use, unknown
// study or store), exit 2.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>

#include "tests/cli/cli_helpers.hpp"
#include "tests/report/page_checks.hpp"
#include "tests/report/webdriver.hpp"

namespace quarry::cli_test {
namespace {

using ::testing::HasSubstr;

constexpr const char* kStudy =
    "study: live\n"
    "objective: loss\n"
    "space:\n"
    "  x: {int: [0, 9]}\n"
    "  lr: {float: [0.0001, 0.1], log: true}\n"
    "command: [sh, -c, \"echo quarry: step=1 loss=$((3 * {x} + 4)); echo quarry: loss=$((2 * "
    "{x}))\"]\n"
    "sampler: random\n"
    "max_trials: 20\n";

/// The dashboard's base URL from its first line ("dashboard: http://127.0.0.1:PORT/...").
std::string base_url(CliProcess& dashboard) {
  std::string url;
  eventually(
      [&] {
        std::smatch m;
        const std::string out = dashboard.out_so_far();
        if (!std::regex_search(out, m, std::regex("http://127\\.0\\.0\\.1:[0-9]+"))) return false;
        url = m.str();
        return true;
      },
      20);
  return url;
}

/// GET `url` through the browser's fetch (the page's own origin), as text.
std::string get(test::WebDriver& browser, const std::string& url) {
  return browser
      .execute(
          "return fetch(arguments[0]).then(r => r.status + ' ' + r.statusText)"
          ".then(s => s)",
          {url})
      .get<std::string>();
}

TEST(CliDashboard, ServesTheStudyAndShowsATrialFinishedWhileItIsOpen) {
  TempDir dir;
  const auto study = dir.write("s.yaml", kStudy);
  const auto search = run_cli({"search", study.string(), "--workers", "2", "--max-trials", "12"});
  ASSERT_EQ(search.exit_code, 0) << search.describe();

  CliProcess dashboard({"dashboard", study.string(), "--port", "0"});
  const std::string base = base_url(dashboard);
  ASSERT_FALSE(base.empty()) << dashboard.out_so_far() << dashboard.err_so_far();
  EXPECT_THAT(dashboard.out_so_far(), HasSubstr(base + "/studies/live"));

  if (!test::WebDriver::available()) GTEST_FAIL() << "chromium and chromedriver are not installed";
  test::WebDriver browser;
  browser.open(base + "/studies/live");
  ASSERT_TRUE(browser.wait_for("document.body.dataset.quarryTrials === '12'", 20))
      << "the page did not load the 12 trials";

  // The JSON API, read through the page's origin.
  const auto api = browser.execute(R"(
    return Promise.all([fetch('/api/studies').then(r => r.json()),
                        fetch('/api/studies/live').then(r => r.json()),
                        fetch('/api/studies/live/trials?after=9').then(r => r.json())]);)");
  ASSERT_EQ(api.size(), 3u) << api.dump();
  EXPECT_EQ(api[0][0]["name"], "live");
  EXPECT_EQ(api[0][0]["trials"], 12);
  EXPECT_EQ(api[1]["params"].size(), 2u);
  EXPECT_EQ(api[1]["importance"][0]["param"], "x");
  EXPECT_FALSE(api[1].contains("trials"));
  EXPECT_EQ(api[2]["trials"].size(), 2u);  // 10 and 11
  EXPECT_EQ(api[2]["settled"], 11);
  EXPECT_EQ(get(browser, "/api/studies/nope"), "404 Not Found");
  EXPECT_EQ(get(browser, "/api/studies/live/trials?after=x"), "400 Bad Request");
  EXPECT_EQ(browser.console_errors().size(), 2u);  // the two failed loads (and the log is read)

  // A trial started and finished by hand while the page is open appears on it.
  const auto ask = run_cli({"ask", study.string()});
  ASSERT_EQ(ask.exit_code, 0) << ask.describe();
  const auto number = std::to_string(nlohmann::json::parse(ask.out)["number"].get<int>());
  ASSERT_TRUE(browser.wait_for("document.body.dataset.quarryTrials === '13'", 20));
  const auto tell = run_cli({"tell", study.string(), "--trial", number, "--value", "-5"});
  ASSERT_EQ(tell.exit_code, 0) << tell.describe();
  EXPECT_TRUE(browser.wait_for(
      "[...document.querySelectorAll('#quarry-summary td')].some(td => td.textContent === '-5')",
      20))
      << "the finished trial (the new best) did not appear";

  const auto marks = test::canvas_marks(browser);
  for (const char* id : {"chart-history-0", "chart-importance", "chart-contour", "chart-parallel",
                         "chart-slice-0", "chart-slice-1", "chart-curves", "chart-timeline"})
    EXPECT_GT(marks.value(id, 0), 150) << id << " drew nothing: " << marks.dump();
  EXPECT_FALSE(marks.contains("chart-budgets")) << "no budgets: its section is hidden";
  EXPECT_THAT(browser.console_errors(), ::testing::IsEmpty());
  fs::create_directories(QUARRY_SCREENSHOT_DIR);
  browser.screenshot(std::string(QUARRY_SCREENSHOT_DIR) + "/dashboard.png");

  browser.open(base + "/");
  EXPECT_TRUE(browser.wait_for("document.querySelector('a[href=\"/studies/live\"]')", 10));
  EXPECT_THAT(browser.console_errors(), ::testing::IsEmpty());

  // A second dashboard on the same port: one line, exit 2.
  const std::string port = base.substr(base.rfind(':') + 1);
  const auto busy = run_cli({"dashboard", study.string(), "--port", port}, {.timeout = 20});
  EXPECT_EQ(busy.exit_code, 2) << busy.describe();
  EXPECT_THAT(busy.err_first_line(), HasSubstr("cannot listen on 127.0.0.1:" + port));

  dashboard.send(SIGINT);
  const auto stopped = dashboard.wait();
  EXPECT_EQ(stopped.exit_code, 0) << stopped.describe();
  EXPECT_THAT(stopped.out, HasSubstr("dashboard stopped"));
}

TEST(CliDashboard, UnknownStudyOrStoreIsOneLineExit2) {
  TempDir dir;
  const auto study = dir.write("s.yaml", kStudy);
  const auto missing = run_cli({"dashboard", study.string(), "--port", "0"});
  EXPECT_EQ(missing.exit_code, 2) << missing.describe();
  EXPECT_THAT(missing.err_first_line(), HasSubstr("does not exist"));
  const auto ask = run_cli({"ask", study.string()});  // creates the store and the study
  ASSERT_EQ(ask.exit_code, 0) << ask.describe();
  const auto url = "sqlite://" + (dir.path() / "live" / "quarry.db").string();
  const auto other = run_cli({"dashboard", study.string(), "--port", "0", "--storage",
                              "sqlite://" + (dir.path() / "other.db").string()});
  EXPECT_EQ(other.exit_code, 2) << other.describe();
  const auto usage = run_cli({"dashboard", "--port", "0"});
  EXPECT_EQ(usage.exit_code, 2) << usage.describe();
  EXPECT_THAT(usage.err_first_line(), HasSubstr("name a study file or --storage URL"));
  const auto port = run_cli({"dashboard", "--storage", url, "--port", "70000"});
  EXPECT_EQ(port.exit_code, 2) << port.describe();
}

}  // namespace
}  // namespace quarry::cli_test
