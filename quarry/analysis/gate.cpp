// The thresholds file and the verdict (gate.hpp).
#include "quarry/analysis/gate.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "quarry/core/error.hpp"

namespace quarry::analysis {

namespace {

const std::set<std::string>& per_class_metrics() {
  static const std::set<std::string> names = {"precision", "recall", "f1"};
  return names;
}

std::string canonical_metric(const std::string& name) {
  if (name == "auc") return "roc_auc";
  return name;
}

std::string all_metric_names() {
  std::set<std::string> names;
  for (auto task : {TaskType::Binary, TaskType::Regression})
    for (const auto& m : metric_names(task)) names.insert(m);
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out + " (auc = roc_auc)";
}

bool known_metric(const std::string& name) {
  for (auto task : {TaskType::Binary, TaskType::Regression}) {
    const auto names = metric_names(task);
    if (std::find(names.begin(), names.end(), name) != names.end()) return true;
  }
  return false;
}

std::string fmt(double v) {
  if (std::isnan(v)) return "undefined";
  std::ostringstream out;
  out.precision(4);
  out << v;
  return out.str();
}

/// The slices of `a` a threshold applies to: its named slice, or every slice its spec made.
std::vector<const SliceResult*> slices_for(const Analysis& a, const Threshold& t) {
  std::vector<const SliceResult*> out;
  const std::string name = t.slice.empty() ? "overall" : t.slice;
  for (const auto& s : a.slices)
    if (s.slice.name == name || (!t.slice.empty() && s.slice.spec == t.slice)) {
      if (std::none_of(out.begin(), out.end(),
                       [&](const SliceResult* o) { return o->slice.name == s.slice.name; }))
        out.push_back(&s);
    }
  return out;
}

double value_of(const Analysis& a, const SliceResult& s, const Threshold& t) {
  if (t.label) {
    for (const auto& c : s.per_class)
      if (c.label == *t.label) {
        if (t.metric == "precision") return c.precision;
        if (t.metric == "recall") return c.recall;
        return c.f1;
      }
    std::string labels;
    for (const auto& c : a.classes) labels += (labels.empty() ? "" : ", ") + c;
    throw InvalidArgument(t.where + ": class '" + *t.label + "' is not one of the model's (" +
                          labels + ")");
  }
  const auto it = s.metrics.find(t.metric);
  if (it == s.metrics.end()) {
    std::string names;
    for (const auto& n : metric_names(a.task)) names += (names.empty() ? "" : ", ") + n;
    throw InvalidArgument(t.where + ": metric '" + t.metric + "' does not apply to a " +
                          automl::to_string(a.task) + " model (its metrics: " + names + ")");
  }
  return it->second;
}

}  // namespace

std::int64_t Verdict::failed() const {
  return std::count_if(checks.begin(), checks.end(), [](const Check& c) { return !c.passed; });
}

std::vector<Threshold> parse_thresholds(const std::string& yaml, const std::string& source) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    throw InvalidArgument(source + ":" + std::to_string(std::max(e.mark.line + 1, 1)) + ": " +
                          e.msg);
  }
  const auto at = [&](const YAML::Node& n) {
    return source + ":" + std::to_string(n.Mark().line + 1);
  };
  if (!root.IsMap() || !root["thresholds"])
    throw InvalidArgument(source + ": expected a list under 'thresholds:'");
  for (const auto& kv : root)
    if (kv.first.as<std::string>() != "thresholds")
      throw InvalidArgument(at(kv.first) + ": unknown key '" + kv.first.as<std::string>() +
                            "' (the file holds 'thresholds:')");
  const auto list = root["thresholds"];
  if (!list.IsSequence() || list.size() == 0)
    throw InvalidArgument(at(list) + ": 'thresholds' must be a non-empty list");
  static const std::set<std::string> keys = {"metric",       "min",   "max",   "max_drop",
                                             "max_increase", "slice", "class", "min_count"};
  std::vector<Threshold> out;
  for (const auto& item : list) {
    const std::string where = at(item);
    if (!item.IsMap())
      throw InvalidArgument(where +
                            ": each threshold is a map such as {metric: accuracy, min: 0.9}");
    Threshold t;
    t.where = where;
    for (const auto& kv : item) {
      const auto key = kv.first.as<std::string>();
      if (!keys.contains(key))
        throw InvalidArgument(where + ": unknown key '" + key +
                              "' (keys: metric, min, max, max_drop, max_increase, slice, class, "
                              "min_count)");
      if (!kv.second.IsScalar())
        throw InvalidArgument(where + ": '" + key + "' must be a single value");
    }
    if (!item["metric"]) throw InvalidArgument(where + ": a threshold needs a 'metric'");
    t.metric = canonical_metric(item["metric"].as<std::string>());
    if (!known_metric(t.metric))
      throw InvalidArgument(where + ": unknown metric '" + item["metric"].as<std::string>() +
                            "' (metrics: " + all_metric_names() + ")");
    const auto number = [&](const char* key) -> std::optional<double> {
      if (!item[key]) return std::nullopt;
      try {
        const double v = item[key].as<double>();
        if (!std::isfinite(v)) throw YAML::Exception(item[key].Mark(), "");
        return v;
      } catch (const YAML::Exception&) {
        throw InvalidArgument(where + ": '" + key + "' must be a number, got '" +
                              item[key].as<std::string>() + "'");
      }
    };
    t.min = number("min");
    t.max = number("max");
    t.max_drop = number("max_drop");
    t.max_increase = number("max_increase");
    if (!t.min && !t.max && !t.max_drop && !t.max_increase)
      throw InvalidArgument(where + ": threshold on " + t.metric +
                            " has no bound (min, max, max_drop or max_increase)");
    for (const char* key : {"max_drop", "max_increase"})
      if (auto v = number(key); v && *v < 0)
        throw InvalidArgument(where + ": '" + key + "' must be >= 0, got " + fmt(*v));
    if (t.min && t.max && *t.min > *t.max)
      throw InvalidArgument(where + ": min " + fmt(*t.min) + " is above max " + fmt(*t.max));
    if (item["slice"]) t.slice = item["slice"].as<std::string>();
    if (t.slice == "overall") t.slice.clear();
    if (item["class"]) {
      if (!per_class_metrics().contains(t.metric))
        throw InvalidArgument(where + ": 'class' applies to precision, recall and f1, not " +
                              t.metric);
      t.label = item["class"].as<std::string>();
    }
    if (auto v = number("min_count")) {
      if (*v < 0 || *v != std::floor(*v))
        throw InvalidArgument(where + ": 'min_count' must be a whole number >= 0");
      t.min_count = static_cast<std::int64_t>(*v);
    }
    if (!t.slice.empty()) parse_slice(t.slice);  // a malformed slice fails here, with its text
    out.push_back(std::move(t));
  }
  return out;
}

std::vector<Threshold> read_thresholds(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw InvalidArgument(path.string() + ": cannot open the thresholds file");
  std::stringstream text;
  text << in.rdbuf();
  return parse_thresholds(text.str(), path.string());
}

std::vector<SliceSpec> slices_needed(const std::vector<Threshold>& thresholds) {
  std::vector<SliceSpec> out;
  for (const auto& t : thresholds) {
    if (t.slice.empty()) continue;
    auto spec = parse_slice(t.slice);
    if (std::none_of(out.begin(), out.end(),
                     [&](const SliceSpec& s) { return s.text == spec.text; }))
      out.push_back(std::move(spec));
  }
  return out;
}

Verdict validate(const Analysis& candidate, const Analysis* baseline,
                 const std::vector<Threshold>& thresholds) {
  Verdict v;
  for (const auto& t : thresholds) {
    const auto slices = slices_for(candidate, t);
    if (slices.empty())
      throw InvalidArgument(t.where + ": no slice '" + t.slice + "' in the analysis");
    const std::string metric = t.label ? t.metric + "[" + *t.label + "]" : t.metric;
    for (const auto* s : slices) {
      if (s->count < t.min_count) continue;
      const auto check = [&](std::string rule, double value, std::optional<double> base, bool ok,
                             const std::string& why) {
        Check c{metric, s->slice.name, std::move(rule), value, base, ok && !std::isnan(value), ""};
        if (!c.passed)
          c.message = metric + " on " + s->slice.name + " is " + fmt(value) + ", " + why;
        v.checks.push_back(std::move(c));
      };
      if (s->too_small) {
        check("count >= " + std::to_string(std::max<std::int64_t>(1, t.min_count)),
              static_cast<double>(s->count), std::nullopt, false,
              "a slice too small to score (" + std::to_string(s->count) + " rows)");
        continue;
      }
      const double value = value_of(candidate, *s, t);
      if (t.min)
        check(">= " + fmt(*t.min), value, std::nullopt, value >= *t.min,
              "below the minimum " + fmt(*t.min));
      if (t.max)
        check("<= " + fmt(*t.max), value, std::nullopt, value <= *t.max,
              "above the maximum " + fmt(*t.max));
      if (!t.max_drop && !t.max_increase) continue;
      if (!baseline)
        throw InvalidArgument(t.where +
                              ": a change threshold (max_drop, max_increase) needs "
                              "--baseline MODEL");
      const SliceResult* b = nullptr;
      for (const auto& bs : baseline->slices)
        if (bs.slice.name == s->slice.name) b = &bs;
      if (!b || b->too_small) {
        check("baseline on " + s->slice.name, value, std::nullopt, false,
              "and the baseline has no score on this slice");
        continue;
      }
      const double base = value_of(*baseline, *b, t);
      if (t.max_drop)
        check("drop <= " + fmt(*t.max_drop), value, base, base - value <= *t.max_drop + 1e-12,
              "down " + fmt(base - value) + " from the baseline's " + fmt(base) + " (at most " +
                  fmt(*t.max_drop) + " allowed)");
      if (t.max_increase)
        check("increase <= " + fmt(*t.max_increase), value, base,
              value - base <= *t.max_increase + 1e-12,
              "up " + fmt(value - base) + " from the baseline's " + fmt(base) + " (at most " +
                  fmt(*t.max_increase) + " allowed)");
    }
  }
  v.passed = v.failed() == 0;
  return v;
}

nlohmann::json to_json(const Verdict& verdict) {
  nlohmann::json checks = nlohmann::json::array();
  for (const auto& c : verdict.checks)
    checks.push_back(
        {{"metric", c.metric},
         {"slice", c.slice},
         {"rule", c.rule},
         {"value", std::isfinite(c.value) ? nlohmann::json(c.value) : nlohmann::json()},
         {"baseline", c.baseline && std::isfinite(*c.baseline) ? nlohmann::json(*c.baseline)
                                                               : nlohmann::json()},
         {"passed", c.passed},
         {"message", c.message}});
  return {{"passed", verdict.passed}, {"failed", verdict.failed()}, {"checks", checks}};
}

}  // namespace quarry::analysis
