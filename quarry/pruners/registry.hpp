// The pruners the CLI and study files pick by name: a name, a one-line description and a factory
// taking the options (a JSON object whose keys are the options struct's fields).
//
//   auto pruner = make_pruner("median", {{"min_trials", 3}});
//
// Adding a pruner: one entry in pruner_registry() (pruners/registry.cpp, sorted by name) and one
// line in tests/pruners/conformance_test.cpp.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "quarry/pruners/pruner.hpp"

namespace quarry::pruners {

struct PrunerEntry {
  std::string name, description;
  std::function<std::unique_ptr<Pruner>(const nlohmann::json& options)> make;
};

/// Every pruner, sorted by name.
const std::vector<PrunerEntry>& pruner_registry();

/// True when `name` is a registered pruner.
bool is_pruner(const std::string& name);

/// The pruner called `name`, built from `options` (an object, or null for none).
/// InvalidArgument: "unknown pruner 'foo' (known: learning_curve, median, none)", "pruner
/// 'median': unknown option 'bar'", or an option of the wrong type or out of range.
std::unique_ptr<Pruner> make_pruner(const std::string& name, const nlohmann::json& options);

}  // namespace quarry::pruners
