// The study report (`quarry report`): one self-contained HTML page with the search's charts,
// drawn in the browser by Chart.js (Debian's libjs-chart.js, embedded in the page with its
// licence when Quarry is built) from the study's trials, which the page carries as JSON. Nothing
// is fetched when the page is opened.
//
// The page shows: a summary; the optimization history with the best so far; parameter importance
// (fANOVA, importance.hpp) and a contour of the two most important parameters (the forest's
// marginal prediction); parallel coordinates; a slice plot per parameter (log-scaled parameters
// on log axes, choices as categories); learning curves with pruned trials marked where they
// stopped; budgets per trial (Hyperband, ASHA, BOHB); a timeline per worker (failures and
// requeues shown); with several objectives the Pareto front of each pair, infeasible trials
// marked; the objective against model facts (FLOPs, parameters, latency); the trials, sortable.
//
//   report::StudyData data{.name = "mnist", .space = study.space(), ...};
//   std::ofstream("report.html") << report::study_report(data);
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "quarry/space/space.hpp"
#include "quarry/study/trial.hpp"

namespace quarry::report {

struct StudyData {
  std::string name;
  std::string storage;  ///< the store's URL as shown to people (no password)
  Space space;
  std::vector<Direction> directions;
  std::vector<std::string> metrics;  ///< one name per direction (may be empty: "value")
  std::vector<Trial> trials;
  /// Hyperband's (and BOHB's) brackets: the study attribute "hyperband" (JSON), or empty. Each
  /// trial's bracket and rung are read from it for the budgets chart.
  std::string hyperband;
};

/// What the page's script draws from: the space, the trials (values, parameters, states,
/// intermediate values, budgets, times, workers, numeric facts from their attributes), the
/// Pareto front, and, when they can be computed, importance and the contour grid.
nlohmann::json study_json(const StudyData& data, bool with_trials = true);

/// The whole page. Throws InvalidArgument when no trial has finished (there is nothing to draw).
std::string study_report(const StudyData& data);

/// The dashboard's page for one study (`quarry dashboard`): every chart the study's space and
/// objectives allow, each section shown once it has something to draw, drawn from the JSON API
/// at `api` (`GET api`: study_json without trials; `GET api/trials?after=N`: trials_json) and
/// redrawn as trials arrive. `data.trials` is not used.
std::string live_study_page(const StudyData& data, const std::string& api);

/// The trials numbered above `after`, as study_json writes them, and "settled": the largest
/// number up to which every trial has finished (finished trials no longer change, so a client
/// asks for the trials after it next time), or `after` when that is larger.
nlohmann::json trials_json(const std::vector<Trial>& trials, std::int64_t after);

/// Chart.js as embedded (for pages of Quarry's that draw with it), its licence's notice first.
const std::string& chart_js();
/// The script that draws a study's charts from study_json (`quarryDrawStudy(data)`).
const std::string& study_page_js();

}  // namespace quarry::report
