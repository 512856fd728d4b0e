// The rules, the field table of layers, optimizers and early stopping, and the checks made from
// them; torch-free, compiled into the core library. Reading and writing fields by name:
// spec_fields.cpp.
#include "quarry/nn/spec_rules.hpp"

#include <algorithm>
#include <cmath>
#include <initializer_list>

#include "quarry/core/error.hpp"
#include "quarry/nn/metrics.hpp"

namespace quarry::nn {

namespace {

bool is_activation(const std::string& s) {
  try {
    activation_from_string(s);
    return true;
  } catch (const InvalidArgument&) {
    return false;
  }
}

/// Every optimizer field (each optimizer uses some of them).
const std::vector<FieldRule>& all_optimizer_fields() {
  static const std::vector<FieldRule> kFields = {
      {"learning_rate", Rule::Positive},    {"momentum", Rule::Fraction},
      {"nesterov", Rule::Boolean},          {"beta_1", Rule::Fraction},
      {"beta_2", Rule::Fraction},           {"epsilon", Rule::Positive},
      {"weight_decay", Rule::UnitInterval}, {"rho", Rule::Fraction}};
  return kFields;
}

std::vector<FieldRule> optimizer_subset(std::initializer_list<std::string_view> keys) {
  std::vector<FieldRule> out;
  for (std::string_view key : keys) out.push_back(*find_field(all_optimizer_fields(), key));
  return out;
}

}  // namespace

std::string broken_rule(std::string_view key, Rule rule, const space::Value& v) {
  return std::string(key) + " must be " + rule_text(rule) + ", got " + space::to_string(v);
}

std::string rule_text(Rule rule) {
  switch (rule) {
    case Rule::Count:
      return "an integer >= 1";
    case Rule::Natural:
      return "an integer >= 0";
    case Rule::Fraction:
      return "a number in [0, 1)";
    case Rule::UnitInterval:
      return "a number in [0, 1]";
    case Rule::Positive:
      return "a number > 0";
    case Rule::NonNegative:
      return "a number >= 0";
    case Rule::Boolean:
      return "true or false";
    case Rule::Activation:
      return "an activation (none, relu, tanh, sigmoid, gelu)";
    case Rule::Padding:
      return "same or valid";
    case Rule::Mode:
      return "min, max or auto";
  }
  return "";
}

bool accepts(Rule rule, const space::Value& v) {
  const auto* text = std::get_if<std::string>(&v);
  switch (rule) {
    case Rule::Boolean:
      return std::holds_alternative<bool>(v);
    case Rule::Activation:
      return text != nullptr && is_activation(*text);
    case Rule::Padding:
      return text != nullptr && (*text == "same" || *text == "valid");
    case Rule::Mode:
      return text != nullptr && (*text == "min" || *text == "max" || *text == "auto");
    default:
      break;
  }
  if (text != nullptr || std::holds_alternative<bool>(v)) return false;
  const double x = space::to_double(v);
  const bool integral = x == std::trunc(x) && std::abs(x) <= 0x1.0p53;
  switch (rule) {
    case Rule::Count:
      return integral && x >= 1;
    case Rule::Natural:
      return integral && x >= 0;
    case Rule::Fraction:
      return x >= 0 && x < 1;
    case Rule::UnitInterval:
      return x >= 0 && x <= 1;
    case Rule::Positive:
      return x > 0 && std::isfinite(x);
    default:  // non_negative
      return x >= 0 && std::isfinite(x);
  }
}

const FieldRule* find_field(const std::vector<FieldRule>& fields, std::string_view key) {
  for (const FieldRule& f : fields)
    if (f.key == key) return &f;
  return nullptr;
}

// --- the table ---------------------------------------------------------------------------------

const std::vector<LayerFields>& layer_fields() {
  static const FieldRule kActivation{"activation", Rule::Activation};
  static const std::vector<LayerFields> kLayers = {
      {"flatten", Flatten{}, {}},
      {"dense", Dense{}, {{"units", Rule::Count}, kActivation}, true},
      {"conv2d",
       Conv2d{},
       {{"filters", Rule::Count},
        {"kernel_size", Rule::Count},
        {"strides", Rule::Count},
        {"padding", Rule::Padding},
        kActivation},
       true},
      {"maxpool", MaxPool2d{}, {{"pool_size", Rule::Count}, {"strides", Rule::Count}}},
      {"avgpool", AvgPool2d{}, {{"pool_size", Rule::Count}, {"strides", Rule::Count}}},
      {"dropout", Dropout{}, {{"rate", Rule::Fraction}}, true},
      {"batchnorm", BatchNorm{}, {}},
      {"activation", ActivationLayer{}, {kActivation}, true},
      // Made by the architecture spaces (quarry/nas), not written in study files.
      {"sepconv2d",
       SepConv2d{},
       {{"filters", Rule::Count},
        {"kernel_size", Rule::Count},
        {"strides", Rule::Count},
        kActivation},
       true,
       false},
      {"identity", Identity{}, {}, false, false},
      {"global_avg_pool", GlobalAvgPool{}, {}, false, false},
      {"cell", Cell{}, {}, false, false},
      {"residual_reduce", ResidualReduce{}, {{"filters", Rule::Count}}, true, false}};
  return kLayers;
}

const LayerFields& layer_fields(const Layer& layer) {
  for (const LayerFields& k : layer_fields())
    if (k.prototype.index() == layer.index()) return k;
  throw InvalidArgument("layer_fields: a layer type without an entry");
}

const OptimizerFields& optimizer_fields(OptimizerKind kind) {
  static const std::vector<OptimizerFields> kOptimizers = {
      {OptimizerKind::Sgd, SGD(), optimizer_subset({"learning_rate", "momentum", "nesterov"})},
      {OptimizerKind::Adam, Adam(),
       optimizer_subset({"learning_rate", "beta_1", "beta_2", "epsilon"})},
      {OptimizerKind::AdamW, AdamW(),
       optimizer_subset({"learning_rate", "beta_1", "beta_2", "epsilon", "weight_decay"})},
      {OptimizerKind::RmsProp, RMSprop(),
       optimizer_subset({"learning_rate", "rho", "momentum", "epsilon"})}};
  for (const OptimizerFields& o : kOptimizers)
    if (o.kind == kind) return o;
  throw InvalidArgument("optimizer_fields: unknown optimizer kind");
}

const std::vector<FieldRule>& early_stopping_fields() {
  static const std::vector<FieldRule> kFields = {{"patience", Rule::Natural},
                                                 {"min_delta", Rule::NonNegative},
                                                 {"mode", Rule::Mode},
                                                 {"restore_best_weights", Rule::Boolean}};
  return kFields;
}

// --- whole specs ---------------------------------------------------------------------------------

namespace {

template <typename Spec>
std::optional<std::string> first_broken(const Spec& spec, const std::vector<FieldRule>& fields) {
  for (const FieldRule& f : fields) {
    const space::Value v = field_value(spec, f.key);
    if (!accepts(f.rule, v)) return broken_rule(f.key, f.rule, v);
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> layer_problem(const Layer& layer) {
  if (auto problem = first_broken(layer, layer_fields(layer).fields)) return problem;
  if (const auto* cell = std::get_if<Cell>(&layer)) {
    const std::size_t edges = cell_edges(cell->nodes).size();
    if (cell->nodes < 2 || cell->edges.size() != edges)
      return "nodes must be >= 2 and the edges nodes * (nodes - 1) / 2 = " + std::to_string(edges) +
             ", got " + std::to_string(cell->edges.size()) + " edges";
  }
  return std::nullopt;
}

std::optional<std::string> optimizer_problem(const OptimizerSpec& o) {
  if (auto problem = first_broken(o, optimizer_fields(o.kind).fields)) return problem;
  if (o.kind == OptimizerKind::Sgd && o.nesterov && !(o.momentum > 0))
    return "nesterov needs momentum > 0, got momentum " +
           space::to_string(space::Value{o.momentum});
  return std::nullopt;
}

std::optional<std::string> metrics_problem(Loss loss, const std::vector<std::string>& metrics) {
  const auto& known = compiled_metrics();
  for (const std::string& metric : metrics) {
    if (std::find(known.begin(), known.end(), metric) == known.end()) {
      std::string names;
      for (const auto& k : known) names += (names.empty() ? "" : ", ") + k;
      return "unknown metric '" + metric + "'; known: " + names;
    }
    if (metric == "accuracy" && loss == Loss::MeanSquaredError)
      return "accuracy is not defined for mean_squared_error; list only loss";
  }
  return std::nullopt;
}

std::optional<std::string> early_stopping_problem(const EarlyStoppingOptions& o) {
  if (o.monitor.empty()) return std::string("monitor must not be empty");
  return first_broken(o, early_stopping_fields());
}

}  // namespace quarry::nn
