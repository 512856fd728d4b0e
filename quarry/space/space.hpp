// The search space: parameters in registration order (a parent always comes before the parameters
// conditioned on it), looked up by name.
#pragma once

#include <cstddef>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "quarry/space/param.hpp"

namespace quarry::space {

class Space {
 public:
  Space() = default;
  explicit Space(std::vector<Param> params);

  /// Registers `p`, or returns the existing parameter of that name if its definition is equal.
  /// Throws InvalidArgument when the name exists with another definition, or a condition names a
  /// parent that is not registered yet.
  const Param& add(Param p);
  /// Adds every parameter of `other` (same rules as add).
  void merge(const Space& other);

  const Param* find(const std::string& name) const;
  const std::vector<Param>& params() const { return params_; }
  std::size_t size() const { return params_.size(); }
  bool empty() const { return params_.empty(); }

  /// True when every condition of `p` holds for the values assigned so far.
  static bool is_active(const Param& p, const Params& assigned);

  /// Each active parameter's default, in order.
  Params defaults() const;
  /// Fills every active parameter in order: `pick(param, assigned_so_far)` gives its value.
  template <typename Pick>
  Params assign(Pick&& pick) const {
    Params out;
    for (const auto& p : params_)
      if (is_active(p, out)) out[p.name()] = p.normalize(pick(p, out));
    return out;
  }
  /// Throws InvalidArgument naming the first parameter whose value is missing or out of range,
  /// or a value given for a parameter that does not exist.
  void validate(const Params& values) const;

  bool operator==(const Space& other) const { return params_ == other.params_; }
  nlohmann::json to_json() const;
  static Space from_json(const nlohmann::json& j);

 private:
  std::vector<Param> params_;
  std::unordered_map<std::string, std::size_t> index_;
};

}  // namespace quarry::space

namespace quarry {
using space::Space;
}
