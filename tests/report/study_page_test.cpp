// The study report's page (quarry/report/study_page.hpp): which charts it has for which studies,
// the data its script draws from, Chart.js embedded with its licence and nothing fetched, text
// that cannot end a script early, and a study with nothing finished refused. (The charts drawing
// in a real browser: tests/cli/report_test.cpp.)
#include "quarry/report/study_page.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "quarry/core/error.hpp"
#include "quarry/core/rng.hpp"
#include "tests/report/markup.hpp"

namespace quarry::report {
namespace {

using quarry::testing::occurrences;
using space::Param;
using space::Value;

StudyData quadratic_study(int count) {
  StudyData data{
      .name = "quad",
      .storage = "sqlite:///tmp/q.db",
      .space =
          Space({Param::Float("lr", 1e-4, 1e-1, {.log = true}), Param::Int("units", 8, 64),
                 Param::Choice("act", {Value{std::string("relu")}, Value{std::string("tanh")}})}),
      .directions = {Direction::Minimize},
      .metrics = {"loss"},
      .trials = {}};
  Rng rng(3);
  for (int i = 0; i < count; ++i) {
    Trial t;
    t.number = i;
    t.state = i % 7 == 6 ? TrialState::Pruned : TrialState::Complete;
    t.params = data.space.assign(
        [&](const Param& p, const Params&) { return p.from_unit(rng.uniform()); });
    const double lr = std::get<double>(t.params["lr"]);
    const double loss = std::pow(std::log10(lr) + 2.5, 2) +
                        0.01 * static_cast<double>(std::get<std::int64_t>(t.params["units"]));
    if (t.state == TrialState::Complete) t.values = {loss};
    for (int step = 1; step <= (t.state == TrialState::Pruned ? 2 : 5); ++step)
      t.intermediate[step] = loss + 1.0 / step;
    t.started_at = 1000.0 + i;
    t.finished_at = 1000.5 + i;
    t.worker = i % 2 ? "host:1:0" : "host:2:0";
    t.attempts = 1;
    t.attrs["complexity"] = R"({"params": )" + std::to_string(100 * (i + 1)) + R"(, "flops": 5})";
    data.trials.push_back(t);
  }
  return data;
}

TEST(StudyPage, DataHasEveryTrialImportanceAndAContour) {
  const auto json = study_json(quadratic_study(40));
  ASSERT_EQ(json["trials"].size(), 40u);
  EXPECT_EQ(json["metrics"], nlohmann::json({"loss"}));
  EXPECT_EQ(json["params"][0]["name"], "lr");
  EXPECT_EQ(json["params"][0]["log"], true);
  EXPECT_EQ(json["params"][2]["choices"], nlohmann::json({"relu", "tanh"}));
  EXPECT_EQ(json["trials"][6]["state"], "pruned");
  EXPECT_EQ(json["trials"][6]["steps"].size(), 2u);
  EXPECT_EQ(json["trials"][0]["worker"], "host:2:0");
  // Numbers inside an object attribute are facts; "flops" is the same everywhere: no chart.
  EXPECT_EQ(json["trials"][1]["facts"]["params"], 200);
  EXPECT_EQ(json["facts"], nlohmann::json({"params"}));
  ASSERT_TRUE(json.contains("importance"));
  EXPECT_EQ(json["importance"][0]["param"], "lr");
  ASSERT_TRUE(json.contains("contour"));
  EXPECT_EQ(json["contour"]["x"], "lr");
  EXPECT_EQ(json["contour"]["z"].size(), static_cast<std::size_t>(30 * 30));
  EXPECT_FALSE(json.contains("front"));
}

/// Whether the page has an element with this id (the ids also appear in the script).
bool has_id(const std::string& html, const std::string& id) {
  return html.find("id=\"" + id + "\"") != std::string::npos;
}
bool has(const std::string& html, const std::string& text) {
  return html.find(text) != std::string::npos;
}

TEST(StudyPage, PageHasTheChartsAndEmbedsChartJs) {
  const auto html = study_report(quadratic_study(40));
  for (const char* id :
       {"chart-history-0", "chart-importance", "chart-contour", "chart-parallel", "chart-slice-0",
        "chart-slice-2", "chart-curves", "chart-timeline", "quarry-facts", "quarry-trials"})
    EXPECT_TRUE(has_id(html, id)) << id;
  EXPECT_FALSE(has_id(html, "chart-budgets"));     // no trial has a budget
  EXPECT_FALSE(has_id(html, "chart-pareto-0-1"));  // one objective
  EXPECT_TRUE(has(html, "Chart.js v3.9.1"));
  EXPECT_TRUE(has(html, "Permission is hereby granted"));  // its licence
  EXPECT_TRUE(has(html, "quarryDrawStudy({"));
  // Nothing is fetched: no external script, style sheet or image.
  EXPECT_FALSE(has(html, "<script src"));
  EXPECT_FALSE(has(html, "<link"));
  EXPECT_FALSE(has(html, "<img"));
}

TEST(StudyPage, TextFromTheStudyCannotEndAScript) {
  auto data = quadratic_study(10);
  data.space = Space(
      {Param::Choice("tag", {Value{std::string("</script><b>x")}, Value{std::string("plain")}})});
  for (auto& t : data.trials) t.params = {{"tag", Value{std::string("</script><b>x")}}};
  const auto html = study_report(data);
  EXPECT_EQ(occurrences(html, "<script>"), occurrences(html, "</script>"));
  EXPECT_FALSE(has(html, "</script><b>"));
}

TEST(StudyPage, SeveralObjectivesGetAParetoChartPerPair) {
  auto data = quadratic_study(20);
  data.directions = {Direction::Minimize, Direction::Maximize, Direction::Minimize};
  data.metrics = {"loss", "acc", "ms"};
  for (auto& t : data.trials)
    if (t.state == TrialState::Complete)
      t.values = {t.values[0], 1 - t.values[0], static_cast<double>(t.number)};
  data.trials[3].attrs["feasible"] = "false";
  const auto json = study_json(data);
  ASSERT_TRUE(json.contains("front"));
  EXPECT_FALSE(json["front"].empty());
  EXPECT_EQ(json["trials"][3]["feasible"], false);
  const auto html = study_report(data);
  for (const char* id :
       {"chart-pareto-0-1", "chart-pareto-0-2", "chart-pareto-1-2", "chart-history-2"})
    EXPECT_TRUE(has_id(html, id)) << id;
}

TEST(StudyPage, BudgetsRequeuesAndFailuresAreInTheData) {
  auto data = quadratic_study(8);
  data.trials[2].budget = 3;
  data.trials[4].attrs["requeue.1"] = R"({"reason": "worker died"})";
  data.trials[5].state = TrialState::Failed;
  data.trials[5].values.clear();
  data.trials[5].failure = "exit code 3";
  const auto json = study_json(data);
  EXPECT_EQ(json["trials"][2]["budget"], 3.0);
  EXPECT_EQ(json["trials"][4]["requeues"], 1);
  EXPECT_EQ(json["trials"][5]["failure"], "exit code 3");
  EXPECT_TRUE(has_id(study_report(data), "chart-budgets"));
  // Hyperband's state names each trial's bracket and rung.
  data.hyperband =
      R"({"brackets": [{"bracket": 1, "rounds": [[{"trial": 0, "parent": null}, {"trial": 1,)"
      R"( "parent": null}], [{"trial": 2, "parent": 1}]]}, {"bracket": 0, "rounds": [[{"trial":)"
      R"( 3, "parent": null}]]}]})";
  const auto with_brackets = study_json(data);
  EXPECT_EQ(with_brackets["trials"][2]["bracket"], 0);
  EXPECT_EQ(with_brackets["trials"][2]["rung"], 1);
  EXPECT_EQ(with_brackets["trials"][3]["bracket"], 1);
  EXPECT_EQ(with_brackets["trials"][3]["rung"], 0);
  EXPECT_FALSE(with_brackets["trials"][5].contains("bracket"));
  data.hyperband = "not json";
  EXPECT_FALSE(study_json(data)["trials"][0].contains("bracket"));
}

TEST(StudyPage, FewTrialsHaveNoImportanceAndNothingFinishedIsRefused) {
  auto data = quadratic_study(1);
  EXPECT_FALSE(study_json(data).contains("importance"));
  EXPECT_TRUE(has(study_report(data), "Needs at least two complete trials"));
  data.trials[0].state = TrialState::Running;
  data.trials[0].values.clear();
  EXPECT_THROW(study_report(data), InvalidArgument);
  data.trials.clear();
  EXPECT_THROW(study_report(data), InvalidArgument);
}

}  // namespace
}  // namespace quarry::report
