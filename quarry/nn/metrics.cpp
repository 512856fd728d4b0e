// Metric names and directions; torch-free, compiled into the core library.
#include "quarry/nn/metrics.hpp"

#include <algorithm>
#include <functional>

#include "quarry/core/error.hpp"
#include "quarry/nn/spec_rules.hpp"

namespace quarry::nn {

namespace {

/// One complexity metric: its name and how it is read from a measured model.
struct Measure {
  std::string_view name;
  std::function<double(const Complexity&, double train_time)> value;
  bool before_training = false;
};

const std::vector<Measure>& measures() {
  static const std::vector<Measure> kMeasures = {
      {"params", [](const Complexity& c, double) { return static_cast<double>(c.parameters); },
       true},
      {"flops", [](const Complexity& c, double) { return static_cast<double>(c.flops); }, true},
      {"latency_b1_ms", [](const Complexity& c, double) { return c.latency_b1_ms; }},
      {"latency_b256_ms", [](const Complexity& c, double) { return c.latency_b256_ms; }},
      {"train_time", [](const Complexity&, double train_time) { return train_time; }}};
  return kMeasures;
}

const Measure* find_measure(std::string_view name) {
  for (const Measure& m : measures())
    if (m.name == name) return &m;
  return nullptr;
}

}  // namespace

const std::vector<std::string>& training_metrics() {
  static const std::vector<std::string> kMetrics = {"loss", "accuracy", "val_loss", "val_accuracy"};
  return kMetrics;
}

const std::vector<std::string>& compiled_metrics() {
  static const std::vector<std::string> kMetrics = {"accuracy", "loss"};
  return kMetrics;
}

const std::vector<std::string>& complexity_metrics() {
  static const std::vector<std::string> kNames = [] {
    std::vector<std::string> names;
    for (const Measure& m : measures()) names.emplace_back(m.name);
    return names;
  }();
  return kNames;
}

bool is_complexity_metric(std::string_view name) {
  return find_measure(name) != nullptr;
}

bool measured_before_training(std::string_view name) {
  const Measure* m = find_measure(name);
  return m != nullptr && m->before_training;
}

std::optional<double> complexity_value(std::string_view name, const Complexity& c,
                                       double train_time) {
  const Measure* m = find_measure(name);
  if (m == nullptr) return std::nullopt;
  return m->value(c, train_time);
}

bool higher_is_better(std::string_view metric) {
  return metric.find("acc") != std::string_view::npos;
}

bool higher_is_better(std::string_view metric, std::string_view mode, std::string_view who) {
  const std::string text(mode);
  if (!accepts(Rule::Mode, space::Value{text}))
    throw InvalidArgument(std::string(who) + ": mode must be " + rule_text(Rule::Mode) + ", got " +
                          text);
  return mode == "auto" ? higher_is_better(metric) : mode == "max";
}

}  // namespace quarry::nn
