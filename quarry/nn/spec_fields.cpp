// Reading and writing a spec's fields by the names study files give them (spec_rules.hpp);
// torch-free, compiled into the core library.
#include <cmath>
#include <type_traits>

#include "quarry/core/error.hpp"
#include "quarry/nn/spec_rules.hpp"

namespace quarry::nn {

namespace {

[[noreturn]] void no_field(std::string_view owner, std::string_view key) {
  throw InvalidArgument(std::string(owner) + " has no field '" + std::string(key) + "'");
}

/// The rule of `key` among `fields`; InvalidArgument naming `owner` when it has no such field.
Rule rule_of(const std::vector<FieldRule>& fields, std::string_view owner, std::string_view key) {
  const FieldRule* field = find_field(fields, key);
  if (field == nullptr) no_field(owner, key);
  return field->rule;
}

/// The text of `v` for a field whose rule names its values (activation, padding, mode);
/// InvalidArgument when it is not one of them.
const std::string& named_value(Rule rule, std::string_view key, const space::Value& v) {
  if (!accepts(rule, v)) throw InvalidArgument(broken_rule(key, rule, v));
  return std::get<std::string>(v);
}

/// A number (integers and reals alike); InvalidArgument for a text or a boolean.
double number(std::string_view key, const space::Value& v) {
  if (std::holds_alternative<std::string>(v) || std::holds_alternative<bool>(v))
    throw InvalidArgument(std::string(key) + " must be a number, got " + space::to_string(v));
  return space::to_double(v);
}

bool boolean(std::string_view key, const space::Value& v) {
  if (!std::holds_alternative<bool>(v)) throw InvalidArgument(broken_rule(key, Rule::Boolean, v));
  return std::get<bool>(v);
}

std::int64_t as_int(std::string_view key, const space::Value& v) {
  return std::llround(number(key, v));
}

}  // namespace

space::Value field_value(const Layer& layer, std::string_view key) {
  return std::visit(
      [&](const auto& l) -> space::Value {
        using T = std::decay_t<decltype(l)>;
        if constexpr (requires { l.activation; })
          if (key == "activation") return to_string(l.activation);
        if constexpr (std::is_same_v<T, Dense>) {
          if (key == "units") return l.units;
        } else if constexpr (std::is_same_v<T, Conv2d> || std::is_same_v<T, SepConv2d>) {
          if (key == "filters") return l.filters;
          if (key == "kernel_size") return l.kernel_size;
          if (key == "strides") return l.stride;
          if constexpr (std::is_same_v<T, Conv2d>)
            if (key == "padding") return std::string(l.same_padding ? "same" : "valid");
        } else if constexpr (std::is_same_v<T, MaxPool2d> || std::is_same_v<T, AvgPool2d>) {
          if (key == "pool_size") return l.pool_size;
          if (key == "strides") return l.stride == 0 ? l.pool_size : l.stride;
        } else if constexpr (std::is_same_v<T, Dropout>) {
          if (key == "rate") return l.rate;
        } else if constexpr (std::is_same_v<T, ResidualReduce>) {
          if (key == "filters") return l.filters;
        }
        no_field(layer_fields(layer).name, key);
      },
      layer);
}

void set_field(Layer& layer, std::string_view key, const space::Value& v) {
  const LayerFields& kind = layer_fields(layer);
  const Rule rule = rule_of(kind.fields, kind.name, key);
  std::visit(
      [&](auto& l) {
        using T = std::decay_t<decltype(l)>;
        if constexpr (requires { l.activation; })
          if (key == "activation") l.activation = activation_from_string(named_value(rule, key, v));
        if constexpr (std::is_same_v<T, Dense>) {
          if (key == "units") l.units = as_int(key, v);
        } else if constexpr (std::is_same_v<T, Conv2d> || std::is_same_v<T, SepConv2d>) {
          if (key == "filters") l.filters = as_int(key, v);
          if (key == "kernel_size") l.kernel_size = as_int(key, v);
          if (key == "strides") l.stride = as_int(key, v);
          if constexpr (std::is_same_v<T, Conv2d>)
            if (key == "padding") l.same_padding = named_value(rule, key, v) == "same";
        } else if constexpr (std::is_same_v<T, MaxPool2d> || std::is_same_v<T, AvgPool2d>) {
          if (key == "pool_size") l.pool_size = as_int(key, v);
          if (key == "strides") l.stride = as_int(key, v);
        } else if constexpr (std::is_same_v<T, Dropout>) {
          if (key == "rate") l.rate = number(key, v);
        } else if constexpr (std::is_same_v<T, ResidualReduce>) {
          if (key == "filters") l.filters = as_int(key, v);
        }
      },
      layer);
}

space::Value field_value(const OptimizerSpec& o, std::string_view key) {
  if (key == "nesterov") return o.nesterov;
  if (key == "learning_rate") return o.learning_rate;
  if (key == "momentum") return o.momentum;
  if (key == "beta_1") return o.beta1;
  if (key == "beta_2") return o.beta2;
  if (key == "epsilon") return o.epsilon;
  if (key == "weight_decay") return o.weight_decay;
  if (key == "rho") return o.rho;
  no_field("the optimizer", key);
}

void set_field(OptimizerSpec& o, std::string_view key, const space::Value& v) {
  field_value(o, key);  // the key exists
  if (key == "nesterov") {
    o.nesterov = boolean(key, v);
    return;
  }
  const double x = number(key, v);
  if (key == "learning_rate") o.learning_rate = x;
  if (key == "momentum") o.momentum = x;
  if (key == "beta_1") o.beta1 = x;
  if (key == "beta_2") o.beta2 = x;
  if (key == "epsilon") o.epsilon = x;
  if (key == "weight_decay") o.weight_decay = x;
  if (key == "rho") o.rho = x;
}

space::Value field_value(const EarlyStoppingOptions& o, std::string_view key) {
  if (key == "monitor") return o.monitor;
  if (key == "mode") return o.mode;
  if (key == "patience") return o.patience;
  if (key == "min_delta") return o.min_delta;
  if (key == "restore_best_weights") return o.restore_best_weights;
  no_field("early stopping", key);
}

void set_field(EarlyStoppingOptions& o, std::string_view key, const space::Value& v) {
  rule_of(early_stopping_fields(), "early stopping", key);
  if (key == "mode") {
    if (!std::holds_alternative<std::string>(v))
      throw InvalidArgument(broken_rule(key, Rule::Mode, v));
    o.mode = std::get<std::string>(v);
  }
  if (key == "patience") o.patience = as_int(key, v);
  if (key == "min_delta") o.min_delta = number(key, v);
  if (key == "restore_best_weights") o.restore_best_weights = boolean(key, v);
}

}  // namespace quarry::nn
