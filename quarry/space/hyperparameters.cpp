#include "quarry/space/hyperparameters.hpp"

#include "quarry/core/error.hpp"

namespace quarry::space {

namespace {
template <typename T>
std::vector<Value> as_values(const T& xs) {
  std::vector<Value> out;
  for (const auto& x : xs) out.emplace_back(x);
  return out;
}
}  // namespace

Value HyperParameters::get(const Param& param) {
  Param p = param;
  for (const auto& c : scopes_) p = p.with_condition(c);
  const Param& registered = space_.add(std::move(p));
  if (!Space::is_active(registered, values_)) return registered.default_value();
  if (auto it = values_.find(registered.name()); it != values_.end()) {
    it->second = registered.normalize(it->second);
    return it->second;
  }
  Value v =
      suggest_ ? registered.normalize(suggest_(registered, values_)) : registered.default_value();
  values_[registered.name()] = v;
  return v;
}

const Value& HyperParameters::operator[](const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end())
    throw InvalidArgument("parameter '" + name + "' has no value in this trial");
  return it->second;
}

std::int64_t HyperParameters::Int(const std::string& name, std::int64_t low, std::int64_t high,
                                  IntOptions options) {
  return std::get<std::int64_t>(get(Param::Int(name, low, high, options)));
}

double HyperParameters::Float(const std::string& name, double low, double high,
                              FloatOptions options) {
  return std::get<double>(get(Param::Float(name, low, high, options)));
}

double HyperParameters::Choice(const std::string& name, std::vector<double> values,
                               ChoiceOptions options) {
  return to_double(get(Param::Choice(name, as_values(values), options)));
}

std::int64_t HyperParameters::Choice(const std::string& name, std::vector<std::int64_t> values,
                                     ChoiceOptions options) {
  return static_cast<std::int64_t>(to_double(get(Param::Choice(name, as_values(values), options))));
}

std::int64_t HyperParameters::Choice(const std::string& name, std::initializer_list<int> values,
                                     ChoiceOptions options) {
  std::vector<std::int64_t> wide(values.begin(), values.end());
  return Choice(name, std::move(wide), options);
}

std::string HyperParameters::Choice(const std::string& name, std::vector<std::string> values,
                                    ChoiceOptions options) {
  return std::get<std::string>(get(Param::Choice(name, as_values(values), options)));
}

std::string HyperParameters::Choice(const std::string& name,
                                    std::initializer_list<const char*> values,
                                    ChoiceOptions options) {
  return Choice(name, std::vector<std::string>(values.begin(), values.end()), options);
}

bool HyperParameters::Boolean(const std::string& name, BooleanOptions options) {
  return std::get<bool>(get(Param::Boolean(name, options)));
}

std::int64_t HyperParameters::Fixed(const std::string& name, std::int64_t value) {
  return std::get<std::int64_t>(get(Param::Fixed(name, value)));
}
double HyperParameters::Fixed(const std::string& name, double value) {
  return std::get<double>(get(Param::Fixed(name, value)));
}
std::string HyperParameters::Fixed(const std::string& name, const std::string& value) {
  return std::get<std::string>(get(Param::Fixed(name, value)));
}
bool HyperParameters::Fixed(const std::string& name, bool value) {
  return std::get<bool>(get(Param::Fixed(name, value)));
}

HyperParameters::Scope HyperParameters::conditional_scope(const std::string& parent,
                                                          std::vector<Value> values) {
  const Param* p = space_.find(parent);
  if (p == nullptr)
    throw InvalidArgument("conditional_scope: parent '" + parent +
                          "' is not a registered parameter");
  if (values.empty())
    throw InvalidArgument("conditional_scope('" + parent + "'): needs at least one parent value");
  for (auto& v : values) {
    if (!p->contains(v))
      throw InvalidArgument("conditional_scope('" + parent + "'): " + to_string(v) +
                            " is not a value of " + p->describe());
    v = p->normalize(v);
  }
  scopes_.push_back({parent, std::move(values)});
  return Scope(this);
}

bool HyperParameters::is_active(const std::string& name) const {
  const Param* p = space_.find(name);
  return p != nullptr && Space::is_active(*p, values_);
}

}  // namespace quarry::space
