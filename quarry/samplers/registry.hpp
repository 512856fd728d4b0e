// The samplers the CLI and study files pick by name. Each entry is a name, a one-line description
// and a factory taking the options (a JSON object whose keys are the options struct's fields; the
// config layer converts YAML to JSON) and the study seed (XGBoost's REGISTER_...().describe()).
//
//   auto sampler = make_sampler("random", {{"seed", 3}}, study_seed);
//
// Every sampler accepts "seed": it overrides the study seed (the grid, deterministic, ignores it).
// Adding a sampler: one entry in sampler_registry() (samplers/registry.cpp, kept sorted by name)
// and one line in tests/samplers/conformance_test.cpp.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "quarry/samplers/sampler.hpp"

namespace quarry::samplers {

struct SamplerEntry {
  std::string name, description;
  std::function<std::unique_ptr<Sampler>(const nlohmann::json& options, std::uint64_t seed)> make;
};

/// Every sampler, sorted by name.
const std::vector<SamplerEntry>& sampler_registry();

/// The sampler called `name`, built from `options` (an object, or null for none) and the study
/// seed. InvalidArgument: "unknown sampler 'foo' (known: grid, random)", "sampler 'random': unknown
/// option 'bar'", or an option of the wrong type.
std::unique_ptr<Sampler> make_sampler(const std::string& name, const nlohmann::json& options,
                                      std::uint64_t seed);

}  // namespace quarry::samplers
