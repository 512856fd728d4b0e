// The report and the dashboard at scale: 10,000 trials (optuna-dashboard broke at 46,000, its
// issue #385; the goal is each chart drawn in under 2 s).
//
//   bench_report_scale make DIR N      a SQLite store DIR/scale.db with study "scale": N trials
//                                      of a 6-parameter function, 8 steps each, 4 workers; then
//                                      times the report's HTML and writes DIR/report.html
//   bench_report_scale open URL N      opens URL (the report's file:// or the dashboard's
//                                      http://) in headless Chromium, waits for the N trials, and
//                                      prints the time to the first full drawing and each chart's
//
// bench/report.sh runs both, and `quarry dashboard` in between. Prints "name seconds" lines.
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include "quarry/core/rng.hpp"
#include "quarry/report/study_page.hpp"
#include "quarry/samplers/random.hpp"
#include "quarry/storage/sqlite.hpp"
#include "quarry/study/study.hpp"
#include "tests/report/webdriver.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

int make(const std::filesystem::path& dir, std::int64_t count) {
  using quarry::space::Param;
  std::filesystem::create_directories(dir);
  const auto url = "sqlite://" + (dir / "scale.db").string();
  auto store = quarry::storage::open_storage(url);
  quarry::Study study(store, "scale",
                      {.sampler = std::make_shared<quarry::samplers::RandomSampler>(
                           quarry::samplers::RandomOptions{.seed = 1})});
  quarry::Space space;
  space.add(Param::Float("lr", 1e-5, 1e-1, {.log = true}));
  space.add(Param::Int("units", 16, 512, {.step = 16}));
  space.add(Param::Float("dropout", 0, 0.5));
  space.add(Param::Choice("optimizer",
                          {quarry::Value{std::string("adam")}, quarry::Value{std::string("sgd")},
                           quarry::Value{std::string("rmsprop")}}));
  space.add(Param::Int("layers", 1, 4));
  space.add(Param::Float("decay", 1e-6, 1e-2, {.log = true}));
  study.register_space(space);
  store->set_attr(study.id(), "metrics", R"(["loss"])");
  const auto start = Clock::now();
  quarry::Rng noise(2);
  for (std::int64_t i = 0; i < count; ++i) {
    const auto t = study.ask("bench:" + std::to_string(1000 + i % 4) + ":0");
    if (!t) break;
    const auto& p = t->params;
    const double lr = std::log10(std::get<double>(p.at("lr")));
    const double loss = std::pow(lr + 3, 2) + 0.002 * std::get<std::int64_t>(p.at("units")) / 16 +
                        std::get<double>(p.at("dropout")) +
                        (std::get<std::string>(p.at("optimizer")) == "sgd" ? 0.5 : 0) +
                        0.1 * noise.uniform();
    for (int step = 1; step <= 8; ++step) study.report(t->number, step, loss + 2.0 / step);
    if (i % 10 == 9)
      study.tell(t->number, quarry::TrialState::Pruned);
    else
      study.tell(t->number, {loss});
  }
  std::cout << "make_store_s " << since(start) << "\n";
  const auto html_start = Clock::now();
  quarry::report::StudyData data{.name = "scale",
                                 .storage = url,
                                 .space = study.space(),
                                 .directions = study.directions(),
                                 .metrics = {"loss"},
                                 .trials = study.trials()};
  const auto html = quarry::report::study_report(data);
  std::cout << "report_html_s " << since(html_start) << "\n";
  std::cout << "report_bytes " << html.size() << "\n";
  std::ofstream(dir / "report.html") << html;
  return 0;
}

int open_page(const std::string& url, std::int64_t count) {
  quarry::test::WebDriver browser;
  const auto start = Clock::now();
  browser.open(url);
  const std::string ready =
      url.rfind("file:", 0) == 0
          ? "document.body.dataset.quarryCharts"
          : "document.body.dataset.quarryTrials === '" + std::to_string(count) + "'";
  if (!browser.wait_for(ready, 300)) {
    std::cerr << "the page did not finish drawing in 300 s\n";
    return 1;
  }
  std::cout << "page_ready_s " << since(start) << "\n";
  const auto status = browser.execute(
      "const s = document.getElementById('quarry-status'); return s ? s.textContent : ''");
  if (!status.get<std::string>().empty())
    std::cout << "status " << status.get<std::string>() << "\n";
  const auto times = browser.execute("return window.quarryChartTimes");
  double worst = 0;
  for (const auto& [id, ms] : times.items()) {
    std::cout << "chart " << id << " " << ms.get<double>() / 1000 << "\n";
    worst = std::max(worst, ms.get<double>() / 1000);
  }
  std::cout << "slowest_chart_s " << worst << "\n";
  const auto errors = browser.console_errors();
  for (const auto& e : errors) std::cerr << "console: " << e << "\n";
  return errors.empty() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: bench_report_scale make DIR N | open URL N\n";
    return 2;
  }
  const std::string mode = argv[1];
  const std::int64_t count = std::atoll(argv[3]);
  try {
    if (mode == "make") return make(argv[2], count);
    if (mode == "open") return open_page(argv[2], count);
  } catch (const std::exception& e) {
    std::cerr << "bench_report_scale: " << e.what() << "\n";
    return 1;
  }
  std::cerr << "usage: bench_report_scale make DIR N | open URL N\n";
  return 2;
}
