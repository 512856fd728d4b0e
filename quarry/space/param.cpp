#include "quarry/space/param.hpp"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "quarry/core/error.hpp"

namespace quarry::space {

namespace {

constexpr double kUnitMax = 1.0 - 0x1.0p-53;  // the largest double below 1

double clamp_unit(double u) {
  if (!(u >= 0.0)) return 0.0;  // also catches NaN
  return std::min(u, kUnitMax);
}

bool is_number(const Value& v) {
  return std::holds_alternative<std::int64_t>(v) || std::holds_alternative<double>(v);
}

std::string quoted(const Value& v) {
  return std::holds_alternative<std::string>(v) ? "'" + to_string(v) + "'" : to_string(v);
}

}  // namespace

std::string to_string(ParamKind kind) {
  switch (kind) {
    case ParamKind::Int:
      return "Int";
    case ParamKind::Float:
      return "Float";
    case ParamKind::Choice:
      return "Choice";
    case ParamKind::Boolean:
      return "Boolean";
    case ParamKind::Fixed:
      return "Fixed";
  }
  return "?";
}

bool Condition::holds(const Params& assigned) const {
  auto it = assigned.find(parent);
  if (it == assigned.end()) return false;
  return std::any_of(values.begin(), values.end(),
                     [&](const Value& v) { return same_value(v, it->second); });
}

bool Condition::operator==(const Condition& other) const {
  if (parent != other.parent || values.size() != other.values.size()) return false;
  for (std::size_t i = 0; i < values.size(); ++i)
    if (!same_value(values[i], other.values[i])) return false;
  return true;
}

void Param::fail(const std::string& rule) const {
  throw InvalidArgument(to_string(kind_) + "('" + name_ + "'): " + rule);
}

Param Param::Int(std::string name, std::int64_t low, std::int64_t high, IntOptions options) {
  Param p(std::move(name), ParamKind::Int);
  if (p.name_.empty()) p.fail("the name must not be empty");
  if (low > high)
    p.fail("low <= high must hold, got low=" + std::to_string(low) +
           ", high=" + std::to_string(high));
  if (options.step <= 0) p.fail("step > 0 must hold, got step=" + std::to_string(options.step));
  if (options.log && low < 1) p.fail("log sampling needs low >= 1, got low=" + std::to_string(low));
  if (options.log && options.step != 1)
    p.fail("log sampling needs step=1, got step=" + std::to_string(options.step));
  constexpr std::int64_t kExact = std::int64_t{1} << 53;
  if (low < -kExact || high > kExact) p.fail("low and high must lie within +-2^53");
  p.low_ = static_cast<double>(low);
  p.high_ = static_cast<double>(high);
  p.step_ = static_cast<double>(options.step);
  p.log_ = options.log;
  p.ordered_ = true;
  p.default_ = options.default_value.value_or(low);
  if (!p.contains(p.default_))
    p.fail("the default " + to_string(p.default_) + " is not one of its values");
  return p;
}

Param Param::Float(std::string name, double low, double high, FloatOptions options) {
  Param p(std::move(name), ParamKind::Float);
  if (p.name_.empty()) p.fail("the name must not be empty");
  if (!std::isfinite(low) || !std::isfinite(high))
    p.fail("low and high must be finite, got low=" + to_string(Value{low}) +
           ", high=" + to_string(Value{high}));
  if (low > high)
    p.fail("low <= high must hold, got low=" + to_string(Value{low}) +
           ", high=" + to_string(Value{high}));
  if (options.log && low <= 0)
    p.fail("log sampling needs low > 0, got low=" + to_string(Value{low}));
  if (options.step && options.log) p.fail("step and log cannot be used together");
  if (options.step && !(*options.step > 0))
    p.fail("step > 0 must hold, got step=" + to_string(Value{*options.step}));
  p.low_ = low;
  p.high_ = high;
  p.step_ = options.step;
  p.log_ = options.log;
  p.ordered_ = true;
  p.default_ = options.default_value.value_or(low);
  if (!p.contains(p.default_))
    p.fail("the default " + to_string(p.default_) + " lies outside [low, high] or off its step");
  return p;
}

Param Param::Choice(std::string name, std::vector<Value> values, ChoiceOptions options) {
  Param p(std::move(name), ParamKind::Choice);
  if (p.name_.empty()) p.fail("the name must not be empty");
  if (values.empty()) p.fail("needs at least one value, got an empty list");
  const bool numeric = std::all_of(values.begin(), values.end(), is_number);
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (!numeric && values[i].index() != values[0].index())
      p.fail("all values must have one type, got " + quoted(values[0]) + " and " +
             quoted(values[i]));
    for (std::size_t j = 0; j < i; ++j)
      if (same_value(values[i], values[j]))
        p.fail("the value " + quoted(values[i]) + " is listed twice");
  }
  // Numbers mixing 1 and 0.5 are all stored as doubles so every value has one type.
  const bool any_double = std::any_of(values.begin(), values.end(), [](const Value& v) {
    return std::holds_alternative<double>(v);
  });
  if (numeric && any_double)
    for (auto& v : values) v = to_double(v);
  p.ordered_ = options.ordered.value_or(numeric);
  if (p.ordered_ && !numeric) p.fail("ordered=true needs numeric values");
  p.choices_ = std::move(values);
  p.default_ = options.default_value.value_or(p.choices_.front());
  if (!p.contains(p.default_))
    p.fail("the default " + quoted(p.default_) + " is not one of its values");
  p.default_ = p.normalize(p.default_);
  return p;
}

Param Param::Boolean(std::string name, BooleanOptions options) {
  Param p(std::move(name), ParamKind::Boolean);
  if (p.name_.empty()) p.fail("the name must not be empty");
  p.choices_ = {false, true};
  p.default_ = options.default_value;
  return p;
}

Param Param::Fixed(std::string name, Value value) {
  Param p(std::move(name), ParamKind::Fixed);
  if (p.name_.empty()) p.fail("the name must not be empty");
  p.choices_ = {value};
  p.default_ = std::move(value);
  return p;
}

Param Param::with_condition(Condition condition) const {
  if (condition.values.empty())
    fail("a condition on '" + condition.parent + "' needs at least one parent value");
  Param p = *this;
  if (std::find(p.conditions_.begin(), p.conditions_.end(), condition) == p.conditions_.end())
    p.conditions_.push_back(std::move(condition));
  return p;
}

std::size_t Param::count() const {
  switch (kind_) {
    case ParamKind::Int:
      return static_cast<std::size_t>((high_ - low_) / *step_) + 1;
    case ParamKind::Float:
      return step_ ? static_cast<std::size_t>(std::floor((high_ - low_) / *step_ + 1e-9)) + 1 : 0;
    default:
      return choices_.size();
  }
}

bool Param::is_discrete() const {
  return kind_ != ParamKind::Float || step_.has_value();
}

Value Param::from_unit(double u) const {
  u = clamp_unit(u);
  switch (kind_) {
    case ParamKind::Int: {
      if (log_) {
        const double a = std::log(low_ - 0.5), b = std::log(high_ + 0.5);
        const double x = std::round(std::exp(a + u * (b - a)));
        return static_cast<std::int64_t>(std::clamp(x, low_, high_));
      }
      const auto k =
          static_cast<double>(static_cast<std::size_t>(u * static_cast<double>(count())));
      return static_cast<std::int64_t>(low_ + k * *step_);
    }
    case ParamKind::Float: {
      if (log_)
        return std::clamp(std::exp(std::log(low_) + u * (std::log(high_) - std::log(low_))), low_,
                          high_);
      if (step_) {
        const auto k =
            static_cast<double>(static_cast<std::size_t>(u * static_cast<double>(count())));
        return std::min(low_ + k * *step_, high_);
      }
      return low_ + u * (high_ - low_);
    }
    default:
      return choices_[static_cast<std::size_t>(u * static_cast<double>(choices_.size()))];
  }
}

double Param::to_unit(const Value& raw) const {
  const Value v = normalize(raw);
  switch (kind_) {
    case ParamKind::Int: {
      const double x = to_double(v);
      if (log_) {
        const double a = std::log(low_ - 0.5), b = std::log(high_ + 0.5);
        return clamp_unit((std::log(x) - a) / (b - a));
      }
      return (std::round((x - low_) / *step_) + 0.5) / static_cast<double>(count());
    }
    case ParamKind::Float: {
      const double x = to_double(v);
      if (high_ == low_) return 0.5;
      if (log_)
        return clamp_unit((std::log(x) - std::log(low_)) / (std::log(high_) - std::log(low_)));
      if (step_) return (std::round((x - low_) / *step_) + 0.5) / static_cast<double>(count());
      return clamp_unit((x - low_) / (high_ - low_));
    }
    default: {
      for (std::size_t i = 0; i < choices_.size(); ++i)
        if (same_value(choices_[i], v))
          return (static_cast<double>(i) + 0.5) / static_cast<double>(choices_.size());
      return 0.5;  // unreachable: normalize() checked membership
    }
  }
}

bool Param::contains(const Value& v) const {
  switch (kind_) {
    case ParamKind::Int: {
      double x;
      if (const auto* i = std::get_if<std::int64_t>(&v))
        x = static_cast<double>(*i);
      else if (const auto* d = std::get_if<double>(&v))
        x = *d;
      else
        return false;
      if (x != std::floor(x) || x < low_ || x > high_) return false;
      return std::fmod(x - low_, *step_) == 0.0;
    }
    case ParamKind::Float: {
      if (!is_number(v)) return false;
      const double x = to_double(v);
      if (!(x >= low_ && x <= high_)) return false;
      if (!step_) return true;
      const double k = (x - low_) / *step_;
      return std::abs(k - std::round(k)) <= 1e-9 * std::max(1.0, std::abs(k));
    }
    default:
      return std::any_of(choices_.begin(), choices_.end(),
                         [&](const Value& c) { return same_value(c, v); });
  }
}

Value Param::normalize(const Value& v) const {
  if (!contains(v))
    fail("the value " + quoted(v) + " is not one of its values (" + describe() + ")");
  switch (kind_) {
    case ParamKind::Int:
      return static_cast<std::int64_t>(to_double(v));
    case ParamKind::Float:
      return to_double(v);
    default:
      for (const auto& c : choices_)
        if (same_value(c, v)) return c;
      return v;
  }
}

std::vector<Value> Param::discrete_values() const {
  std::vector<Value> out;
  if (!is_discrete()) return out;
  const std::size_t n = count();
  out.reserve(n);
  if (kind_ == ParamKind::Int) {
    for (std::size_t k = 0; k < n; ++k)
      out.emplace_back(static_cast<std::int64_t>(low_ + static_cast<double>(k) * *step_));
  } else if (kind_ == ParamKind::Float) {
    for (std::size_t k = 0; k < n; ++k)
      out.emplace_back(std::min(low_ + static_cast<double>(k) * *step_, high_));
  } else {
    out = choices_;
  }
  return out;
}

std::string Param::describe() const {
  std::string s = to_string(kind_) + "('" + name_ + "'";
  switch (kind_) {
    case ParamKind::Int:
    case ParamKind::Float:
      s += ", " + to_string(kind_ == ParamKind::Int ? Value{static_cast<std::int64_t>(low_)}
                                                    : Value{low_});
      s += ", " + to_string(kind_ == ParamKind::Int ? Value{static_cast<std::int64_t>(high_)}
                                                    : Value{high_});
      if (step_ && !(kind_ == ParamKind::Int && *step_ == 1.0))
        s +=
            ", step=" + to_string(kind_ == ParamKind::Int ? Value{static_cast<std::int64_t>(*step_)}
                                                          : Value{*step_});
      if (log_) s += ", log=true";
      break;
    case ParamKind::Choice: {
      s += ", [";
      for (std::size_t i = 0; i < choices_.size(); ++i) s += (i ? ", " : "") + quoted(choices_[i]);
      s += "]";
      break;
    }
    case ParamKind::Boolean:
      break;
    case ParamKind::Fixed:
      s += ", " + quoted(default_);
      break;
  }
  return s + ")";
}

bool Param::operator==(const Param& o) const {
  if (name_ != o.name_ || kind_ != o.kind_ || low_ != o.low_ || high_ != o.high_ ||
      step_ != o.step_ || log_ != o.log_ || ordered_ != o.ordered_ ||
      choices_.size() != o.choices_.size() || !same_value(default_, o.default_) ||
      conditions_ != o.conditions_)
    return false;
  for (std::size_t i = 0; i < choices_.size(); ++i)
    if (!same_value(choices_[i], o.choices_[i])) return false;
  return true;
}

nlohmann::json Param::to_json() const {
  nlohmann::json j = {
      {"name", name_}, {"kind", to_string(kind_)}, {"default", space::to_json(default_)}};
  if (kind_ == ParamKind::Int || kind_ == ParamKind::Float) {
    j["low"] = low_;
    j["high"] = high_;
    if (step_) j["step"] = *step_;
    j["log"] = log_;
  } else if (kind_ == ParamKind::Choice) {
    j["choices"] = nlohmann::json::array();
    for (const auto& c : choices_) j["choices"].push_back(space::to_json(c));
    j["ordered"] = ordered_;
  }
  if (!conditions_.empty()) {
    j["conditions"] = nlohmann::json::array();
    for (const auto& c : conditions_) {
      nlohmann::json values = nlohmann::json::array();
      for (const auto& v : c.values) values.push_back(space::to_json(v));
      j["conditions"].push_back({{"parent", c.parent}, {"values", values}});
    }
  }
  return j;
}

Param Param::from_json(const nlohmann::json& j) {
  try {
    const auto name = j.at("name").get<std::string>();
    const auto kind = j.at("kind").get<std::string>();
    const Value def = value_from_json(j.at("default"));
    std::optional<Param> p;
    if (kind == "Int") {
      p = Int(name, j.at("low").get<std::int64_t>(), j.at("high").get<std::int64_t>(),
              {.step = j.contains("step") ? j["step"].get<std::int64_t>() : 1,
               .log = j.value("log", false),
               .default_value = static_cast<std::int64_t>(to_double(def))});
    } else if (kind == "Float") {
      FloatOptions o{.log = j.value("log", false), .default_value = to_double(def)};
      if (j.contains("step")) o.step = j["step"].get<double>();
      p = Float(name, j.at("low").get<double>(), j.at("high").get<double>(), o);
    } else if (kind == "Choice") {
      std::vector<Value> values;
      for (const auto& c : j.at("choices")) values.push_back(value_from_json(c));
      p = Choice(name, values, {.ordered = j.value("ordered", false), .default_value = def});
    } else if (kind == "Boolean") {
      p = Boolean(name, {.default_value = std::get<bool>(def)});
    } else if (kind == "Fixed") {
      p = Fixed(name, def);
    } else {
      throw InvalidArgument("unknown parameter kind '" + kind + "'");
    }
    if (j.contains("conditions"))
      for (const auto& c : j["conditions"]) {
        std::vector<Value> values;
        for (const auto& v : c.at("values")) values.push_back(value_from_json(v));
        p = p->with_condition({c.at("parent").get<std::string>(), values});
      }
    return *p;
  } catch (const nlohmann::json::exception& e) {
    throw InvalidArgument(std::string("malformed parameter definition: ") + e.what());
  } catch (const std::bad_variant_access&) {
    throw InvalidArgument("malformed parameter definition: " + j.dump());
  }
}

}  // namespace quarry::space
