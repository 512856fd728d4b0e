// Helpers shared by the architecture spaces' tests.
#pragma once

#include <string>
#include <vector>

#include "quarry/core/rng.hpp"
#include "quarry/nn/spec.hpp"
#include "quarry/space/space.hpp"

namespace quarry::nas::testing {

/// The parameters' names, in order.
inline std::vector<std::string> names(const space::Space& s) {
  std::vector<std::string> out;
  for (const auto& p : s.params()) out.push_back(p.name());
  return out;
}

/// A random assignment of `s` (each active parameter drawn from its unit interval).
inline Params sample(const space::Space& s, Rng& rng) {
  return s.assign([&](const space::Param& p, const Params&) { return p.from_unit(rng.uniform()); });
}

/// nn::describe of each layer.
inline std::vector<std::string> described(const std::vector<nn::Layer>& layers) {
  std::vector<std::string> out;
  for (const auto& l : layers) out.push_back(nn::describe(l));
  return out;
}

}  // namespace quarry::nas::testing
