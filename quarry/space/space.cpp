#include "quarry/space/space.hpp"

#include <nlohmann/json.hpp>

#include "quarry/core/error.hpp"

namespace quarry::space {

Space::Space(std::vector<Param> params) {
  for (auto& p : params) add(std::move(p));
}

const Param& Space::add(Param p) {
  if (auto it = index_.find(p.name()); it != index_.end()) {
    const Param& existing = params_[it->second];
    if (!(existing == p))
      throw InvalidArgument("parameter '" + p.name() + "' is already defined as " +
                            existing.describe() + "; it cannot be redefined as " + p.describe());
    return existing;
  }
  for (const auto& c : p.conditions()) {
    const Param* parent = find(c.parent);
    if (parent == nullptr)
      throw InvalidArgument("parameter '" + p.name() + "' is conditioned on '" + c.parent +
                            "', which is not defined before it");
    for (const auto& v : c.values)
      if (!parent->contains(v))
        throw InvalidArgument("parameter '" + p.name() + "' is conditioned on " + c.parent + "=" +
                              to_string(v) + ", which is not a value of " + parent->describe());
  }
  index_.emplace(p.name(), params_.size());
  params_.push_back(std::move(p));
  return params_.back();
}

void Space::merge(const Space& other) {
  for (const auto& p : other.params_) add(p);
}

const Param* Space::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &params_[it->second];
}

bool Space::is_active(const Param& p, const Params& assigned) {
  for (const auto& c : p.conditions())
    if (!c.holds(assigned)) return false;
  return true;
}

Params Space::defaults() const {
  return assign([](const Param& p, const Params&) { return p.default_value(); });
}

void Space::validate(const Params& values) const {
  Params seen;
  for (const auto& p : params_) {
    if (!is_active(p, seen)) continue;
    auto it = values.find(p.name());
    if (it == values.end()) throw InvalidArgument("no value given for parameter " + p.describe());
    if (!p.contains(it->second))
      throw InvalidArgument("value " + to_string(it->second) + " is not allowed for " +
                            p.describe());
    seen[p.name()] = it->second;
  }
  for (const auto& [name, value] : values)
    if (!seen.count(name)) {
      if (!find(name)) throw InvalidArgument("unknown parameter '" + name + "'");
      throw InvalidArgument("parameter '" + name + "' is given but not active for these values");
    }
}

nlohmann::json Space::to_json() const {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& p : params_) j.push_back(p.to_json());
  return j;
}

Space Space::from_json(const nlohmann::json& j) {
  Space s;
  if (j.is_null()) return s;
  if (!j.is_array()) throw InvalidArgument("a search space must be a JSON array, got " + j.dump());
  for (const auto& p : j) s.add(Param::from_json(p));
  return s;
}

}  // namespace quarry::space
