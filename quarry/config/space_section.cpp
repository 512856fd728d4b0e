// The search-space syntax of docs/study-file.md (`space:` and searched values in `model:`);
// declared in yaml_fields.hpp.
#include <algorithm>

#include "quarry/config/yaml_fields.hpp"
#include "quarry/core/error.hpp"

namespace quarry::config::detail {

namespace {

using space::Param;
using space::Value;

std::pair<Value, Value> bounds(const Field& f, bool integers) {
  const std::string what =
      integers ? "expected [low, high] of integers, got " : "expected [low, high], got ";
  const YAML::Node& n = f.node;
  if (!n.IsSequence() || n.size() != 2 || !n[0].IsScalar() || !n[1].IsScalar())
    f.fail(what + show(n));
  const Field low = f.item(0, n[0]), high = f.item(1, n[1]);
  if (integers) return {int_of(low), int_of(high)};
  return {number_of(low), number_of(high)};
}

Param int_param(const std::string& name, const Field& spec, const Entries& es) {
  const auto [low, high] = bounds(spec, true);
  space::IntOptions o;
  if (const Field* f = find(es, "step")) o.step = int_of(*f);
  if (const Field* f = find(es, "log")) o.log = bool_of(*f);
  if (const Field* f = find(es, "default")) o.default_value = int_of(*f);
  return Param::Int(name, std::get<std::int64_t>(low), std::get<std::int64_t>(high), o);
}

Param float_param(const std::string& name, const Field& spec, const Entries& es) {
  const auto [low, high] = bounds(spec, false);
  space::FloatOptions o;
  if (const Field* f = find(es, "step")) o.step = number_of(*f);
  if (const Field* f = find(es, "log")) o.log = bool_of(*f);
  if (const Field* f = find(es, "default")) o.default_value = number_of(*f);
  return Param::Float(name, std::get<double>(low), std::get<double>(high), o);
}

std::vector<Value> values_of(const Field& f, const std::string& expected) {
  if (f.node.IsScalar()) return {scalar_value(f.node)};
  if (!f.node.IsSequence()) f.fail("expected " + expected + ", got " + show(f.node));
  std::vector<Value> out;
  for (std::size_t i = 0; i < f.node.size(); ++i) {
    if (!f.node[i].IsScalar()) f.fail("expected " + expected + ", got " + show(f.node));
    out.push_back(scalar_value(f.node[i]));
  }
  return out;
}

Param choice_param(const std::string& name, const Field& spec, const Entries& es) {
  if (!spec.node.IsSequence()) spec.fail("expected a list of values, got " + show(spec.node));
  const std::vector<Value> values = values_of(spec, "a list of values");
  space::ChoiceOptions o;
  if (const Field* f = find(es, "ordered")) o.ordered = bool_of(*f);
  if (const Field* f = find(es, "default")) o.default_value = value_of(*f);
  return Param::Choice(name, values, o);
}

const std::vector<std::pair<std::string, Keys>>& kinds() {
  static const std::vector<std::pair<std::string, Keys>> kKinds = {
      {"float", {"float", "step", "log", "default", "when"}},
      {"int", {"int", "step", "log", "default", "when"}},
      {"choice", {"choice", "ordered", "default", "when"}},
      {"bool", {"bool", "when"}},
      {"fixed", {"fixed", "when"}}};
  return kKinds;
}

/// The one type key of a parameter ("float", "int"...) and the keys allowed with it.
std::pair<std::string, Keys> param_kind(const Field& f) {
  const std::pair<std::string, Keys>* kind = nullptr;
  for (const auto& [k, v] : entries(f, {})) {
    const std::string& key = k;  // a structured binding cannot be captured before C++20's clang 16
    auto it =
        std::find_if(kinds().begin(), kinds().end(), [&](const auto& e) { return e.first == key; });
    if (it == kinds().end()) continue;
    if (kind != nullptr)
      v.fail_here(f.key + ": give one type, got both '" + kind->first + "' and '" + k + "'");
    kind = &*it;
  }
  if (kind == nullptr)
    f.fail_here(
        f.key +
        ": missing the type, one of: float, int, choice, bool, fixed (e.g. {float: [0, 1]})");
  return *kind;
}

Param with_conditions(Param p, const Field& when) {
  const Entries es = entries(when, {});
  if (es.empty()) when.fail("expected {parent: value or [values]}, got {}");
  for (const auto& [parent, values] : es) {
    try {
      p = p.with_condition({parent, values_of(values, "a value or a list of values")});
    } catch (const InvalidArgument& e) {
      values.fail_here(when.key + ": " + e.what());
    }
  }
  return p;
}

}  // namespace

bool is_param_definition(const Field& f) {
  if (!f.node.IsMap()) return false;
  for (auto it = f.node.begin(); it != f.node.end(); ++it) {
    if (!it->first.IsScalar()) continue;
    const std::string& k = it->first.Scalar();
    if (std::any_of(kinds().begin(), kinds().end(), [&](const auto& e) { return e.first == k; }))
      return true;
  }
  return false;
}

Param read_param(const std::string& name, const Field& f, const Keys& extra) {
  if (!f.node.IsMap()) f.fail("expected a mapping like {float: [0, 1]}, got " + show(f.node));
  auto [kind, allowed] = param_kind(f);
  allowed.insert(allowed.end(), extra.begin(), extra.end());
  const Entries es = entries(f, allowed);
  const Field& spec = *find(es, kind);
  try {
    if (kind == "int") return int_param(name, spec, es);
    if (kind == "float") return float_param(name, spec, es);
    if (kind == "choice") return choice_param(name, spec, es);
    if (kind == "bool") return Param::Boolean(name, {.default_value = bool_of(spec)});
    return Param::Fixed(name, value_of(spec));
  } catch (const InvalidArgument& e) {
    f.fail_here(f.key + ": " + e.what());
  }
}

const Param& add_param(space::Space& out, const std::string& name, const Field& f,
                       const Keys& extra) {
  Param p = read_param(name, f, extra);
  const Entries parts = entries(f, {});  // a mapping: read_param checked it
  const Field* when = find(parts, "when");
  if (when != nullptr) p = with_conditions(std::move(p), *when);
  try {
    return out.add(std::move(p));
  } catch (const InvalidArgument& e) {
    (when != nullptr ? *when : f).fail_here(f.key + ": " + e.what());
  }
}

space::Space read_space(const Field& f) {
  const Entries es = entries(f, {});
  if (es.empty()) f.fail("expected at least one parameter, got " + show(f.node));
  space::Space out;
  for (const auto& [name, spec] : es) add_param(out, name, spec);
  return out;
}

}  // namespace quarry::config::detail
