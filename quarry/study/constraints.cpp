#include "quarry/study/constraints.hpp"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <nlohmann/json.hpp>

#include "quarry/core/error.hpp"

namespace quarry::study {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

[[noreturn]] void refuse(const std::string& text, const std::string& why) {
  throw InvalidArgument("constraint '" + text + "': " + why +
                        "; expected METRIC <= NUMBER or METRIC >= NUMBER (METRIC: letters, "
                        "digits, '_' or '.'; NUMBER: finite)");
}

bool is_metric_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.';
}

void skip_spaces(const std::string& s, std::size_t& at) {
  while (at < s.size() && std::isspace(static_cast<unsigned char>(s[at]))) ++at;
}

double parse_bound(const std::string& text, std::string number) {
  while (!number.empty() && std::isspace(static_cast<unsigned char>(number.back())))
    number.pop_back();
  if (number.empty()) refuse(text, "the bound is missing");
  const char* first = number.data() + (number[0] == '+' ? 1 : 0);
  const char* last = number.data() + number.size();
  double bound = 0;
  const auto [end, ec] = std::from_chars(first, last, bound);
  if (ec != std::errc() || end != last || first == last || !std::isfinite(bound))
    refuse(text, "the bound '" + number + "' is not a finite number");
  return bound;
}

}  // namespace

Constraint parse_constraint(const std::string& text) {
  std::size_t at = 0;
  skip_spaces(text, at);
  const std::size_t start = at;
  while (at < text.size() && is_metric_char(text[at])) ++at;
  Constraint c;
  c.metric = text.substr(start, at - start);
  if (c.metric.empty()) refuse(text, "the metric name is missing");
  skip_spaces(text, at);
  const std::string op = text.substr(at, 2);
  if (op == "<=")
    c.op = Constraint::Op::Le;
  else if (op == ">=")
    c.op = Constraint::Op::Ge;
  else
    refuse(text, "expected <= or >= after '" + c.metric + "'");
  at += 2;
  skip_spaces(text, at);
  c.bound = parse_bound(text, text.substr(at));
  return c;
}

std::string to_string(const Constraint& c) {
  std::string bound;
  if (c.bound == std::trunc(c.bound) && std::abs(c.bound) < 1e15) {
    bound = std::to_string(static_cast<std::int64_t>(c.bound));
  } else {
    char buf[40];
    for (int precision = 1; precision <= 17; ++precision) {  // the shortest text that round-trips
      std::snprintf(buf, sizeof buf, "%.*g", precision, c.bound);
      if (std::strtod(buf, nullptr) == c.bound) break;
    }
    bound = buf;
  }
  return c.metric + (c.op == Constraint::Op::Le ? " <= " : " >= ") + bound;
}

double violation(const Constraint& c, double value) {
  if (std::isnan(value)) return kInf;
  const double past = c.op == Constraint::Op::Le ? value - c.bound : c.bound - value;
  return past > 0 ? past : 0.0;
}

std::map<std::string, std::string> constraint_attrs(const std::vector<Constraint>& constraints,
                                                    const std::map<std::string, double>& metrics) {
  std::map<std::string, double> by_metric;
  for (const Constraint& c : constraints) {
    const auto it = metrics.find(c.metric);
    by_metric[c.metric] += it == metrics.end() ? kInf : violation(c, it->second);
  }
  bool feasible = true;
  nlohmann::json violations = nlohmann::json::object();
  for (const auto& [metric, v] : by_metric) {
    feasible = feasible && v == 0;
    violations[metric] = std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
  }
  return {{kFeasibleAttr, feasible ? "true" : "false"}, {kConstraintsAttr, violations.dump()}};
}

bool is_feasible(const Trial& trial) {
  const auto it = trial.attrs.find(kFeasibleAttr);
  if (it == trial.attrs.end()) return true;
  const auto value = nlohmann::json::parse(it->second, nullptr, false);
  return !(value.is_boolean() && !value.get<bool>());
}

double total_violation(const Trial& trial) {
  const auto it = trial.attrs.find(kConstraintsAttr);
  if (it == trial.attrs.end()) return 0.0;
  const auto all = nlohmann::json::parse(it->second, nullptr, false);
  if (!all.is_object()) return kInf;
  double total = 0;
  for (const auto& [metric, v] : all.items()) {
    if (!v.is_number()) return kInf;
    const double x = v.get<double>();
    if (std::isnan(x)) return kInf;
    total += x > 0 ? x : 0.0;
  }
  return total;
}

}  // namespace quarry::study
