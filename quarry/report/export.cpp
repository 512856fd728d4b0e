#include "quarry/report/export.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>

namespace quarry::report {

namespace {

std::vector<std::string> row_of(const study::Trial& t, const Columns& c) {
  std::vector<std::string> row = {std::to_string(t.number), study::to_string(t.state)};
  for (std::size_t i = 0; i < c.metrics.size(); ++i)
    row.push_back(i < t.values.size() ? format_number(t.values[i]) : "");
  for (const auto& p : c.params) {
    auto it = t.params.find(p);
    row.push_back(it == t.params.end() ? "" : space::to_string(it->second));
  }
  const auto d = t.duration();
  row.push_back(d ? format_duration(*d) : "");
  std::string failure = t.failure.substr(0, t.failure.find('\n'));
  row.push_back(failure);
  return row;
}

std::vector<std::string> header_of(const Columns& c) {
  std::vector<std::string> h = {"number", "state"};
  h.insert(h.end(), c.metrics.begin(), c.metrics.end());
  h.insert(h.end(), c.params.begin(), c.params.end());
  h.push_back("duration");
  h.push_back("note");
  return h;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char ch : s) out += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return out + "\"";
}

nlohmann::json number_json(double x) {
  if (std::isfinite(x)) return x;
  return std::isnan(x) ? "nan" : (x > 0 ? "inf" : "-inf");
}

}  // namespace

Columns columns_for(const std::vector<study::Trial>& trials, std::vector<std::string> metrics,
                    std::size_t objectives) {
  Columns c;
  c.metrics = std::move(metrics);
  for (std::size_t i = c.metrics.size(); i < objectives; ++i)
    c.metrics.push_back(i == 0 ? "value" : "value_" + std::to_string(i));
  std::set<std::string> seen;
  for (const auto& t : trials)
    for (const auto& [name, _] : t.params)
      if (seen.insert(name).second) c.params.push_back(name);
  return c;
}

void write_table(std::ostream& out, const std::vector<study::Trial>& trials,
                 const Columns& columns) {
  std::vector<std::vector<std::string>> rows = {header_of(columns)};
  for (const auto& t : trials) rows.push_back(row_of(t, columns));
  std::vector<std::size_t> width(rows[0].size(), 0);
  for (const auto& r : rows)
    for (std::size_t i = 0; i < r.size(); ++i)
      width[i] = std::max(width[i], std::min<std::size_t>(r[i].size(), 60));
  for (const auto& r : rows) {
    std::string line;
    for (std::size_t i = 0; i < r.size(); ++i) {
      std::string cell = r[i].size() > 60 ? r[i].substr(0, 57) + "..." : r[i];
      line += cell + std::string(width[i] - cell.size() + (i + 1 < r.size() ? 2 : 0), ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out << line << '\n';
  }
}

void write_csv(std::ostream& out, const std::vector<study::Trial>& trials, const Columns& columns) {
  auto write_row = [&](const std::vector<std::string>& r) {
    for (std::size_t i = 0; i < r.size(); ++i) out << (i ? "," : "") << csv_field(r[i]);
    out << "\r\n";
  };
  write_row(header_of(columns));
  for (const auto& t : trials) {
    auto r = row_of(t, columns);
    r.back() = t.failure;  // the whole reason in CSV
    write_row(r);
  }
}

nlohmann::json trial_to_json(const study::Trial& t, const Columns& columns) {
  nlohmann::json j = {{"number", t.number},
                      {"state", study::to_string(t.state)},
                      {"params", space::to_json(t.params)},
                      {"budget", t.budget},
                      {"attempts", t.attempts},
                      {"worker", t.worker}};
  nlohmann::json values = nlohmann::json::object();
  for (std::size_t i = 0; i < t.values.size(); ++i)
    values[i < columns.metrics.size() ? columns.metrics[i] : "value_" + std::to_string(i)] =
        number_json(t.values[i]);
  j["values"] = values;
  nlohmann::json steps = nlohmann::json::object();
  for (const auto& [step, v] : t.intermediate) steps[std::to_string(step)] = number_json(v);
  j["intermediate"] = steps;
  if (t.parent) j["parent"] = *t.parent;
  if (t.started_at) j["started_at"] = *t.started_at;
  if (t.finished_at) j["finished_at"] = *t.finished_at;
  if (auto d = t.duration()) j["duration"] = *d;
  if (!t.failure.empty()) j["failure"] = t.failure;
  if (!t.attrs.empty()) {
    nlohmann::json attrs = nlohmann::json::object();  // values are JSON text: shown as JSON
    for (const auto& [key, text] : t.attrs) {
      auto value = nlohmann::json::parse(text, nullptr, false);
      attrs[key] = value.is_discarded() ? nlohmann::json(text) : std::move(value);
    }
    j["attrs"] = std::move(attrs);
  }
  return j;
}

void write_json(std::ostream& out, const std::vector<study::Trial>& trials,
                const Columns& columns) {
  nlohmann::json all = nlohmann::json::array();
  for (const auto& t : trials) all.push_back(trial_to_json(t, columns));
  out << all.dump(2) << '\n';
}

std::string format_number(double x) {
  if (std::isnan(x)) return "nan";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", x);
  return buf;
}

std::string format_duration(double seconds) {
  char buf[32];
  if (seconds < 60)
    std::snprintf(buf, sizeof buf, "%.1fs", seconds);
  else if (seconds < 3600)
    std::snprintf(buf, sizeof buf, "%dm%02ds", static_cast<int>(seconds) / 60,
                  static_cast<int>(seconds) % 60);
  else
    std::snprintf(buf, sizeof buf, "%dh%02dm", static_cast<int>(seconds) / 3600,
                  static_cast<int>(seconds) % 3600 / 60);
  return buf;
}

}  // namespace quarry::report
