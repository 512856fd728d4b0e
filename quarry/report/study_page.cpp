#include "quarry/report/study_page.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "quarry/core/error.hpp"
#include "quarry/report/export.hpp"
#include "quarry/report/html.hpp"
#include "quarry/report/importance.hpp"
#include "quarry/study/constraints.hpp"
#include "quarry/study/pareto.hpp"

namespace quarry::report {

// Made at build time from Debian's libjs-chart.js and quarry/report/study_page.js
// (cmake/embed.cmake).
namespace assets {
extern const char* const kChartJs;
extern const char* const kChartJsNotice;
extern const char* const kStudyPageJs;
}  // namespace assets

const std::string& chart_js() {
  static const std::string text = [] {
    // The licence notice goes in a comment, which a "*/" inside it would end.
    std::string notice = assets::kChartJsNotice;
    for (auto at = notice.find("*/"); at != std::string::npos; at = notice.find("*/", at))
      notice.replace(at, 2, "* /");
    return "/*\n" + notice + "\n*/\n" + assets::kChartJs;
  }();
  return text;
}

const std::string& study_page_js() {
  static const std::string text = assets::kStudyPageJs;
  return text;
}

namespace {

constexpr int kContourSize = 30;

std::string kind_name(space::ParamKind kind) {
  switch (kind) {
    case space::ParamKind::Int:
      return "int";
    case space::ParamKind::Float:
      return "float";
    case space::ParamKind::Choice:
      return "choice";
    case space::ParamKind::Boolean:
      return "boolean";
    case space::ParamKind::Fixed:
      return "fixed";
  }
  return "fixed";
}

nlohmann::json number_or_null(double x) {
  return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr);
}

// Numbers among a trial's attributes: top-level numbers, and the numeric members of objects
// (a model's "complexity": params, flops, latency_b1_ms...). Requeue records, the training
// history, the fidelity used and the donor's trial number are not facts about the model.
std::map<std::string, double> facts_of(const Trial& t) {
  static const std::set<std::string> kNotFacts = {"history", "fidelity", "inherited_from"};
  std::map<std::string, double> facts;
  for (const auto& [key, text] : t.attrs) {
    if (key.rfind("requeue.", 0) == 0 || kNotFacts.contains(key)) continue;
    const auto json = nlohmann::json::parse(text, nullptr, false);
    if (json.is_number()) {
      facts[key] = json.get<double>();
    } else if (json.is_object()) {
      for (const auto& [member, value] : json.items())
        if (value.is_number()) facts.emplace(member, value.get<double>());
    }
  }
  std::erase_if(facts, [](const auto& kv) { return !std::isfinite(kv.second); });
  return facts;
}

nlohmann::json trial_json(const Trial& t) {
  nlohmann::json j = {{"number", t.number}, {"state", study::to_string(t.state)}};
  nlohmann::json values = nlohmann::json::array();
  for (double v : t.values) values.push_back(number_or_null(v));
  j["values"] = values;
  j["params"] = space::to_json(t.params);
  if (!t.intermediate.empty()) {
    nlohmann::json steps = nlohmann::json::array();
    for (const auto& [step, value] : t.intermediate) steps.push_back({step, number_or_null(value)});
    j["steps"] = steps;
  }
  if (t.budget > 0) j["budget"] = t.budget;
  if (t.started_at) j["start"] = *t.started_at;
  if (t.finished_at) j["end"] = *t.finished_at;
  j["created"] = t.created_at;
  if (!t.worker.empty()) j["worker"] = t.worker;
  j["attempts"] = t.attempts;
  int requeues = 0;
  for (const auto& [key, text] : t.attrs) requeues += key.rfind("requeue.", 0) == 0;
  if (requeues) j["requeues"] = requeues;
  if (t.parent) j["parent"] = *t.parent;
  if (!study::is_feasible(t)) j["feasible"] = false;
  if (!t.failure.empty()) j["failure"] = t.failure.substr(0, 300);
  const auto facts = facts_of(t);
  if (!facts.empty()) j["facts"] = facts;
  return j;
}

// trial number -> (bracket, rung) from Hyperband's state: brackets numbered in the order they
// started (0, 1, ...), rungs 0 (new configurations) up. Empty when there is no (readable) state.
std::map<std::int64_t, std::pair<int, int>> brackets_of(const std::string& state) {
  std::map<std::int64_t, std::pair<int, int>> out;
  const auto json = nlohmann::json::parse(state, nullptr, false);
  if (!json.is_object() || !json.contains("brackets") || !json["brackets"].is_array()) return out;
  int bracket = 0;
  for (const auto& b : json["brackets"]) {
    int rung = 0;
    for (const auto& round : b.value("rounds", nlohmann::json::array())) {
      for (const auto& slot : round)
        if (slot.contains("trial") && slot["trial"].is_number_integer())
          out[slot["trial"].get<std::int64_t>()] = {bracket, rung};
      ++rung;
    }
    ++bracket;
  }
  return out;
}

// Facts worth a chart: numeric in at least half of the complete trials, and varying.
std::vector<std::string> chart_facts(const std::vector<Trial>& trials) {
  std::map<std::string, std::set<double>> seen;
  std::map<std::string, int> count;
  int complete = 0;
  for (const auto& t : trials) {
    if (t.state != TrialState::Complete) continue;
    ++complete;
    for (const auto& [name, value] : facts_of(t)) {
      ++count[name];
      if (seen[name].size() < 3) seen[name].insert(value);
    }
  }
  std::vector<std::string> out;
  for (const auto& [name, n] : count)
    if (2 * n >= complete && seen[name].size() > 1) out.push_back(name);
  return out;
}

std::string canvas(const std::string& id, int height = 320) {
  return "<div class=\"chart\" style=\"height:" + std::to_string(height) + "px\"><canvas id=\"" +
         id + "\"></canvas></div>";
}

std::string metric_name(const StudyData& data, std::size_t i) {
  return i < data.metrics.size() && !data.metrics[i].empty() ? data.metrics[i]
         : data.directions.size() > 1                        ? "value " + std::to_string(i)
                                                             : "value";
}

}  // namespace

nlohmann::json study_json(const StudyData& data, bool with_trials) {
  nlohmann::json j;
  j["name"] = data.name;
  nlohmann::json directions = nlohmann::json::array(), metrics = nlohmann::json::array();
  for (std::size_t i = 0; i < data.directions.size(); ++i) {
    directions.push_back(study::to_string(data.directions[i]));
    metrics.push_back(metric_name(data, i));
  }
  j["directions"] = directions;
  j["metrics"] = metrics;
  nlohmann::json params = nlohmann::json::array();
  for (const auto& p : data.space.params()) {
    nlohmann::json q = {{"name", p.name()}, {"kind", kind_name(p.kind())}, {"log", p.log()}};
    if (p.kind() == space::ParamKind::Int || p.kind() == space::ParamKind::Float) {
      q["low"] = p.low();
      q["high"] = p.high();
    }
    if (p.kind() == space::ParamKind::Choice || p.kind() == space::ParamKind::Boolean ||
        p.kind() == space::ParamKind::Fixed) {
      nlohmann::json choices = nlohmann::json::array();
      for (const auto& v : p.discrete_values()) choices.push_back(space::to_string(v));
      if (p.kind() == space::ParamKind::Fixed) choices = {space::to_string(p.default_value())};
      q["choices"] = choices;
    }
    params.push_back(q);
  }
  j["params"] = params;
  if (with_trials) {
    const auto brackets = brackets_of(data.hyperband);
    nlohmann::json trials = nlohmann::json::array();
    for (const auto& t : data.trials) {
      auto tj = trial_json(t);
      if (const auto it = brackets.find(t.number); it != brackets.end()) {
        tj["bracket"] = it->second.first;
        tj["rung"] = it->second.second;
      }
      trials.push_back(std::move(tj));
    }
    j["trials"] = trials;
  }
  j["trial_count"] = data.trials.size();
  j["facts"] = chart_facts(data.trials);
  if (data.directions.size() > 1) {
    nlohmann::json front = nlohmann::json::array();
    for (const auto& t : study::pareto_front(data.trials, data.directions))
      front.push_back(t.number);
    j["front"] = front;
  }
  try {
    const auto fitted = fit_importance(data.space, data.trials, 0);
    nlohmann::json importance = nlohmann::json::array();
    std::vector<std::size_t> order(fitted.shares.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](auto a, auto b) { return fitted.shares[a] > fitted.shares[b]; });
    for (auto i : order)
      importance.push_back({{"param", fitted.data.params[i]}, {"share", fitted.shares[i]}});
    j["importance"] = importance;
    if (order.size() >= 2) {
      const auto a = static_cast<int>(order[0]), b = static_cast<int>(order[1]);
      nlohmann::json z = nlohmann::json::array();
      for (double v : marginal_2d(fitted.forest, a, b, kContourSize))
        z.push_back(number_or_null(v));
      j["contour"] = {{"x", fitted.data.params[order[0]]},
                      {"y", fitted.data.params[order[1]]},
                      {"size", kContourSize},
                      {"z", z}};
    }
  } catch (const InvalidArgument&) {
    // Too few complete trials, or nothing varies: the page says so instead.
  }
  return j;
}

nlohmann::json trials_json(const std::vector<Trial>& trials, std::int64_t after) {
  nlohmann::json out = nlohmann::json::array();
  std::int64_t settled = -1;
  bool open = false;  // an unfinished trial was seen: nothing after it is settled
  std::vector<const Trial*> ordered;
  for (const auto& t : trials) ordered.push_back(&t);
  std::sort(ordered.begin(), ordered.end(),
            [](const Trial* a, const Trial* b) { return a->number < b->number; });
  for (const Trial* t : ordered) {
    if (!open && t->finished() && t->number == settled + 1)
      settled = t->number;
    else
      open = true;
    if (t->number > after) out.push_back(trial_json(*t));
  }
  return {{"trials", out}, {"settled", std::max(settled, after)}};
}

namespace {

// What decides which charts a page has: the report draws those with data; the live page has
// every chart the study could get (its script hides a section until its chart has data).
struct Layout {
  bool live = false;
  std::size_t objectives = 1;
  bool importance = false, contour = false, steps = false, budget = false, workers = false;
  std::size_t workers_count = 1;
};

// A section's charts are wrapped in <div data-charts>: the script hides a section whose charts
// have nothing to draw.
std::string charts(const std::string& html) {
  return "<div data-charts>" + html + "</div>";
}

std::vector<Section> chart_sections(const StudyData& data, const Layout& layout,
                                    std::size_t importance_rows) {
  std::vector<Section> sections;
  std::string history;
  for (std::size_t k = 0; k < layout.objectives; ++k)
    history += canvas("chart-history-" + std::to_string(k));
  sections.push_back({.title = "Optimization history", .html = charts(history), .id = "history"});
  if (layout.importance || layout.live) {
    std::string html = canvas("chart-importance", 60 + 28 * static_cast<int>(importance_rows));
    html += paragraph("fANOVA: each parameter's share of the variance of " + metric_name(data, 0) +
                          " (a random forest of 64 trees on the complete trials; parameters on "
                          "the scale they are sampled on).",
                      "note");
    sections.push_back({.title = "Parameter importance", .html = charts(html), .id = "importance"});
  } else {
    sections.push_back(
        {.title = "Parameter importance",
         .html =
             paragraph("Needs at least two complete trials and a parameter that varies.", "note"),
         .id = "importance"});
  }
  if (layout.contour || layout.live)
    sections.push_back({.title = "Contour of the two most important parameters",
                        .html = charts(canvas("chart-contour", 420) +
                                       paragraph("The forest's prediction averaged over the other "
                                                 "parameters; dots are complete trials.",
                                                 "note")),
                        .id = "contour"});
  if (!data.space.params().empty()) {
    sections.push_back({.title = "Parallel coordinates",
                        .html = charts(canvas("chart-parallel", 380)),
                        .id = "parallel"});
    std::vector<std::string> slices;
    for (std::size_t i = 0; i < data.space.params().size(); ++i)
      slices.push_back("<div class=\"slice\">" + canvas("chart-slice-" + std::to_string(i), 260) +
                       "</div>");
    sections.push_back({.title = "Slices", .html = charts(grid(slices)), .id = "slices"});
  }
  if (layout.steps || layout.live)
    sections.push_back({.title = "Learning curves",
                        .html = charts(canvas("chart-curves", 360) +
                                       paragraph("Intermediate values per trial; a cross marks "
                                                 "where a pruned or stopped trial ended.",
                                                 "note")),
                        .id = "curves"});
  if (layout.budget || layout.live)
    sections.push_back(
        {.title = "Budgets", .html = charts(canvas("chart-budgets")), .id = "budgets"});
  if (layout.workers || layout.live)
    sections.push_back(
        {.title = "Workers",
         .html = charts(canvas("chart-timeline",
                               80 + 26 * static_cast<int>(std::min<std::size_t>(
                                             std::max<std::size_t>(layout.workers_count, 2), 40)))),
         .id = "workers"});
  if (layout.objectives > 1) {
    std::vector<std::string> pairs;
    for (std::size_t a = 0; a < layout.objectives; ++a)
      for (std::size_t b = a + 1; b < layout.objectives; ++b)
        pairs.push_back("<div class=\"slice\">" +
                        canvas("chart-pareto-" + std::to_string(a) + "-" + std::to_string(b), 320) +
                        "</div>");
    sections.push_back({.title = "Pareto front", .html = charts(grid(pairs)), .id = "pareto"});
  }
  // The script adds a chart per fact (chart-fact-I) here.
  sections.push_back({.title = "Objective against model facts",
                      .html = charts("<div class=\"grid\" id=\"quarry-facts\"></div>"),
                      .id = "facts"});
  sections.push_back({.title = "Trials",
                      .html = "<p class=\"note\">Click a column's name to sort by it.</p>"
                              "<div class=\"trials\"><table id=\"quarry-trials\"></table></div>",
                      .id = "trials"});
  return sections;
}

// `json` as a JavaScript expression inside a <script>: "</" written "<\/" (the same string).
std::string script_json(const nlohmann::json& json) {
  std::string text = json.dump();
  for (std::size_t at = text.find("</"); at != std::string::npos; at = text.find("</", at + 3))
    text.replace(at, 2, "<\\/");
  return text;
}

PageOptions chart_page_options(std::vector<std::string> scripts) {
  PageOptions options;
  options.style =
      ".chart { position: relative; width: 100%; } .grid > div { flex: 1 1 360px; min-width: "
      "300px; } .slice .chart { width: 100%; } div.trials { max-height: 640px; overflow: auto; }"
      " #quarry-trials th { cursor: pointer; white-space: nowrap; }"
      " #quarry-status { color: var(--muted); }";
  options.scripts = {chart_js(), study_page_js()};
  options.scripts.insert(options.scripts.end(), scripts.begin(), scripts.end());
  options.footer_note = "Charts drawn by Chart.js 3.9.1 (MIT License), embedded in this page.";
  return options;
}

}  // namespace

std::string study_report(const StudyData& data) {
  std::map<TrialState, int> counts;
  double first = 0, last = 0;
  std::set<std::string> workers;
  Layout layout;
  for (const auto& t : data.trials) {
    ++counts[t.state];
    if (t.started_at) first = first == 0 ? *t.started_at : std::min(first, *t.started_at);
    if (t.finished_at) last = std::max(last, *t.finished_at);
    if (!t.worker.empty()) workers.insert(t.worker);
    layout.steps |= !t.intermediate.empty();
    layout.budget |= t.budget > 0;
  }
  const int finished =
      counts[TrialState::Complete] + counts[TrialState::Pruned] + counts[TrialState::Failed];
  if (finished == 0)
    throw InvalidArgument("study '" + data.name + "' has no finished trial yet: nothing to report");
  const auto json = study_json(data);
  layout.objectives = std::max<std::size_t>(1, data.directions.size());
  layout.importance = json.contains("importance");
  layout.contour = json.contains("contour");
  layout.workers = !workers.empty();
  layout.workers_count = workers.size();

  std::vector<std::pair<std::string, std::string>> summary = {
      {"trials", std::to_string(data.trials.size())},
      {"complete", std::to_string(counts[TrialState::Complete])},
      {"pruned", std::to_string(counts[TrialState::Pruned])},
      {"failed", std::to_string(counts[TrialState::Failed])},
      {"running", std::to_string(counts[TrialState::Running])},
      {"waiting", std::to_string(counts[TrialState::Waiting])},
      {"wall time", last > first ? format_duration(last - first) : "-"},
      {"workers", std::to_string(workers.size())},
      {"store", data.storage}};
  std::string summary_html = facts(summary);
  if (layout.objectives == 1) {
    std::optional<Trial> best;
    for (const auto& t : data.trials) {
      if (t.state != TrialState::Complete || t.values.empty() || !std::isfinite(t.values[0]) ||
          !study::is_feasible(t))
        continue;
      const bool maximize = !data.directions.empty() && data.directions[0] == Direction::Maximize;
      if (!best || (maximize ? t.values[0] > best->values[0] : t.values[0] < best->values[0]))
        best = t;
    }
    if (best) {
      std::vector<std::vector<Cell>> rows = {
          {text_cell("trial"), int_cell(best->number)},
          {text_cell(metric_name(data, 0)), number_cell(best->values[0], 6)}};
      for (const auto& [name, value] : best->params)
        rows.push_back({text_cell(name), text_cell(space::to_string(value))});
      summary_html += table({"best", ""}, rows);
    } else {
      summary_html += paragraph("No trial has completed with a feasible value yet.", "note");
    }
  } else {
    summary_html += paragraph(
        "Pareto front: " + std::to_string(json.value("front", nlohmann::json::array()).size()) +
        " trials (see below).");
  }
  std::vector<Section> sections = {{.title = "Summary", .html = summary_html, .id = "summary"}};
  const auto rows = json.value("importance", nlohmann::json::array()).size();
  for (auto& section : chart_sections(data, layout, rows)) sections.push_back(std::move(section));
  return page("Study '" + data.name + "'", sections,
              chart_page_options({"quarryDrawStudy(" + script_json(json) + ");"}));
}

std::string live_study_page(const StudyData& data, const std::string& api) {
  Layout layout{.live = true, .objectives = std::max<std::size_t>(1, data.directions.size())};
  std::vector<Section> sections = {
      {.title = "Summary",
       .html = "<p id=\"quarry-status\">Loading...</p><div id=\"quarry-summary\"></div>",
       .id = "summary"}};
  for (auto& section : chart_sections(data, layout, data.space.params().size()))
    sections.push_back(std::move(section));
  PageOptions options = chart_page_options({"quarryLiveStudy(" + script_json(api) + ");"});
  options.subtitle_html = "<p class=\"note\">Live from " + escape(data.storage) +
                          ": new trials appear as they finish. <a href=\"/\">All studies</a></p>";
  options.footer_note += " Read-only: this page changes nothing in the store.";
  return page("Study '" + data.name + "'", sections, options);
}

}  // namespace quarry::report
