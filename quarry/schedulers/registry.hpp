// The schedulers the CLI and study files pick by name: a name, a one-line description and a
// factory taking the options (a JSON object whose keys are the options struct's fields).
//
//   auto scheduler = make_scheduler("hyperband", {{"max_epochs", 27}});
//
// Adding a scheduler: one entry in scheduler_registry() (schedulers/registry.cpp, sorted by name)
// and one line in tests/schedulers/conformance_test.cpp.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "quarry/schedulers/scheduler.hpp"

namespace quarry::schedulers {

struct SchedulerEntry {
  std::string name, description;
  std::function<std::unique_ptr<Scheduler>(const nlohmann::json& options)> make;
};

/// Every scheduler, sorted by name.
const std::vector<SchedulerEntry>& scheduler_registry();

/// The scheduler called `name`, built from `options` (an object, or null for none).
/// InvalidArgument: "unknown scheduler 'foo' (known: asha, bohb, hyperband, none)", "scheduler
/// 'asha': unknown option 'bar'", or an option of the wrong type or out of range.
std::unique_ptr<Scheduler> make_scheduler(const std::string& name, const nlohmann::json& options);

}  // namespace quarry::schedulers
