// The rules a spec's fields follow, in one table that both the study-file reader (quarry/config)
// and the trainer (make_optimizer, build_layers, EarlyStopping) check: a study file that loads
// never builds a model the trainer rejects. Torch-free (core library).
//
// A field is named as study files write it (Keras' names: "units", "strides", "beta_1") and
// follows one Rule. Each layer type, each optimizer and the early-stopping settings list their
// fields; field_value / set_field read and write a spec's field by that name; the *_problem
// functions give the first broken rule as "<key> must be <rule>, got <value>" (the reader says
// "<file>:<line>: <key path>: expected <rule>, got <value>").
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "quarry/nn/spec.hpp"
#include "quarry/space/value.hpp"

namespace quarry::nn {

/// The values a field takes.
enum class Rule {
  Count,         ///< an integer >= 1
  Natural,       ///< an integer >= 0
  Fraction,      ///< a number in [0, 1)
  UnitInterval,  ///< a number in [0, 1]
  Positive,      ///< a finite number > 0
  NonNegative,   ///< a finite number >= 0
  Boolean,       ///< true or false
  Activation,    ///< an activation's name (activation_from_string)
  Padding,       ///< same or valid
  Mode,          ///< min, max or auto (which way a monitored metric improves)
};

/// "an integer >= 1", "a number in [0, 1)", "true or false", "min, max or auto"...
std::string rule_text(Rule rule);
/// "<key> must be <rule>, got <v>": how the trainer's checks word a broken rule.
std::string broken_rule(std::string_view key, Rule rule, const space::Value& v);
/// Whether `v` follows `rule`. A number may be an integer or a real (3.0 is a count: values read
/// back from JSON may be doubles); texts and booleans are never numbers, numbers never booleans.
bool accepts(Rule rule, const space::Value& v);

/// One field: its name in study files and messages, and its rule.
struct FieldRule {
  std::string_view key;
  Rule rule;
};
/// The field `key` among `fields`, or nullptr.
const FieldRule* find_field(const std::vector<FieldRule>& fields, std::string_view key);

/// One layer type, as study files write it.
struct LayerFields {
  std::string_view name;          ///< "dense": the file's key (describe()'s word)
  Layer prototype;                ///< the defaults (Keras')
  std::vector<FieldRule> fields;  ///< the first is the shorthand's: {dense: 64}
  bool needs_first = false;       ///< the first field has no default: it must be given
  bool in_files = true;           ///< false: made by architecture spaces (quarry/nas) only
};
/// Every type of Layer: those study files write in their order (flatten, dense, conv2d, maxpool,
/// avgpool, dropout, batchnorm, activation), then the architecture-search blocks.
const std::vector<LayerFields>& layer_fields();
/// The entry of `layer`'s type.
const LayerFields& layer_fields(const Layer& layer);

/// One optimizer, as study files write it.
struct OptimizerFields {
  OptimizerKind kind;
  OptimizerSpec defaults;         ///< Keras' (SGD(), Adam(), AdamW(), RMSprop())
  std::vector<FieldRule> fields;  ///< the fields it uses, in the order messages list them
};
const OptimizerFields& optimizer_fields(OptimizerKind kind);

/// EarlyStoppingOptions' fields besides `monitor` (a metric's name, checked by whoever knows the
/// metrics): patience, min_delta, mode, restore_best_weights.
const std::vector<FieldRule>& early_stopping_fields();

// Fields by name (spec_fields.cpp).

/// Field `key` as a file writes it: padding "same" / "valid", an activation by name, a pool's
/// strides as its pool size when the spec leaves them 0. InvalidArgument for a key the type does
/// not have.
space::Value field_value(const Layer& layer, std::string_view key);
space::Value field_value(const OptimizerSpec& o, std::string_view key);
space::Value field_value(const EarlyStoppingOptions& o, std::string_view key);

/// Sets field `key` to `v` (an integer field takes the rounded number) without checking its rule:
/// the *_problem functions below do, as the trainer does before using a spec. InvalidArgument
/// when the field cannot hold `v` (text for a number, a number for a name, an unknown activation
/// or padding) or the type has no field `key`.
void set_field(Layer& layer, std::string_view key, const space::Value& v);
void set_field(OptimizerSpec& o, std::string_view key, const space::Value& v);
void set_field(EarlyStoppingOptions& o, std::string_view key, const space::Value& v);

/// The first rule `layer` breaks ("units must be an integer >= 1, got 0"; a cell's edges must
/// number nodes * (nodes - 1) / 2); nullopt when it breaks none.
std::optional<std::string> layer_problem(const Layer& layer);
/// The first field of `o`'s kind that breaks its rule, then the rule between fields: "nesterov
/// needs momentum > 0, got momentum 0" (torch's SGD refuses Nesterov without momentum).
std::optional<std::string> optimizer_problem(const OptimizerSpec& o);
/// A metric not in compiled_metrics ("unknown metric 'f1'; known: accuracy, loss"), or accuracy
/// with a loss that has none ("accuracy is not defined for mean_squared_error; list only loss").
std::optional<std::string> metrics_problem(Loss loss, const std::vector<std::string>& metrics);
/// An empty monitor ("monitor must not be empty"), then the fields' rules.
std::optional<std::string> early_stopping_problem(const EarlyStoppingOptions& o);

}  // namespace quarry::nn
