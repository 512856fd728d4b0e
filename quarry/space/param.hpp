// One searchable parameter: Int, Float, Choice, Boolean or Fixed.
//
// Every parameter is validated once, in its constructor, and maps its values to and from the unit
// interval [0, 1) (Keras Tuner's value_to_prob / prob_to_value), so samplers work on unit cubes:
//   - Int:    `step` values low, low+step, ... <= high, each owning an equal slice of [0, 1);
//             with `log`, a log-uniform draw over [low-0.5, high+0.5] rounded to the nearest
//             integer.
//   - Float:  linear or log-uniform over [low, high]; with `step`, the grid low, low+step, ... <=
//             high.
//   - Choice: one equal slice per value; `ordered` (default: true for numbers) tells model-based
//             samplers that neighbouring values are similar.
//   - Boolean: a Choice of {false, true}.   - Fixed: one value, always.
// A parameter may carry conditions: it is active only when every named parent takes one of the
// given values (Keras Tuner's conditional_scope).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "quarry/space/value.hpp"

namespace quarry::space {

enum class ParamKind { Int, Float, Choice, Boolean, Fixed };

std::string to_string(ParamKind kind);

struct IntOptions {
  std::int64_t step = 1;  ///< distance between neighbouring values (> 0)
  bool log = false;       ///< sample log-uniformly (needs low >= 1 and step == 1)
  std::optional<std::int64_t> default_value;  ///< default: low
};

struct FloatOptions {
  std::optional<double> step;           ///< quantise to low + k * step (not with log)
  bool log = false;                     ///< sample log-uniformly (needs low > 0)
  std::optional<double> default_value;  ///< default: low
};

struct ChoiceOptions {
  std::optional<bool> ordered;         ///< default: true when every value is a number
  std::optional<Value> default_value;  ///< default: the first value
};

struct BooleanOptions {
  bool default_value = false;
};

/// "active only when `parent` takes one of `values`".
struct Condition {
  std::string parent;
  std::vector<Value> values;
  bool holds(const Params& assigned) const;
  bool operator==(const Condition& other) const;
};

class Param {
 public:
  static Param Int(std::string name, std::int64_t low, std::int64_t high, IntOptions options = {});
  static Param Float(std::string name, double low, double high, FloatOptions options = {});
  static Param Choice(std::string name, std::vector<Value> values, ChoiceOptions options = {});
  static Param Boolean(std::string name, BooleanOptions options = {});
  static Param Fixed(std::string name, Value value);

  const std::string& name() const { return name_; }
  ParamKind kind() const { return kind_; }
  double low() const { return low_; }
  double high() const { return high_; }
  std::optional<double> step() const { return step_; }
  bool log() const { return log_; }
  bool ordered() const { return ordered_; }
  const std::vector<Value>& choices() const { return choices_; }
  const Value& default_value() const { return default_; }
  const std::vector<Condition>& conditions() const { return conditions_; }

  /// A copy that is active only when `condition` holds (in addition to its own conditions).
  Param with_condition(Condition condition) const;

  /// The value owning unit coordinate u (clamped into [0, 1)).
  Value from_unit(double u) const;
  /// The centre of the slice owning `v` (exact inverse of from_unit for continuous types).
  double to_unit(const Value& v) const;

  /// True when v is a legal value of this parameter (type, range, step, choice list).
  bool contains(const Value& v) const;
  /// `v` converted to this parameter's value type (3.0 -> 3 for an Int); throws if not contained.
  Value normalize(const Value& v) const;

  /// Every value, in order, for discrete parameters; empty for a Float without a step.
  std::vector<Value> discrete_values() const;
  /// How many values discrete_values() lists, without listing them (0 for a Float without a step).
  std::size_t count() const;
  bool is_discrete() const;

  /// "Int('units', 16, 512, step=16)".
  std::string describe() const;

  /// Same name, kind, range, step, log, choices, default and conditions.
  bool operator==(const Param& other) const;

  nlohmann::json to_json() const;
  static Param from_json(const nlohmann::json& j);

 private:
  Param(std::string name, ParamKind kind) : name_(std::move(name)), kind_(kind) {}
  [[noreturn]] void fail(const std::string& rule) const;

  std::string name_;
  ParamKind kind_;
  double low_ = 0, high_ = 0;
  std::optional<double> step_;
  bool log_ = false;
  bool ordered_ = false;
  std::vector<Value> choices_;
  Value default_;
  std::vector<Condition> conditions_;
};

}  // namespace quarry::space
