#include "quarry/schedulers/registry.hpp"

#include <algorithm>
#include <cstdint>

#include "quarry/core/error.hpp"
#include "quarry/schedulers/median.hpp"

namespace quarry::schedulers {

namespace {

/// One scheduler's options object: refuses unknown keys and values of the wrong type.
class Options {
 public:
  Options(std::string scheduler, const nlohmann::json& j, const std::vector<std::string>& known)
      : scheduler_(std::move(scheduler)), json_(j.is_null() ? nlohmann::json::object() : j) {
    if (!json_.is_object())
      throw InvalidArgument("scheduler '" + scheduler_ +
                            "': options must be a mapping of names to values, got " + json_.dump());
    for (const auto& [key, value] : json_.items())
      if (std::find(known.begin(), known.end(), key) == known.end())
        throw InvalidArgument("scheduler '" + scheduler_ + "': unknown option '" + key + "'");
  }

  std::int64_t integer(const std::string& key, std::int64_t fallback) const {
    if (!json_.contains(key)) return fallback;
    const auto& v = json_[key];
    if (!v.is_number_integer())
      throw InvalidArgument("scheduler '" + scheduler_ + "': option '" + key +
                            "' must be an integer, got " + v.dump());
    return v.get<std::int64_t>();
  }

 private:
  std::string scheduler_;
  nlohmann::json json_;
};

std::vector<SchedulerEntry> build_registry() {
  std::vector<SchedulerEntry> entries = {
      {"median", "stop a trial whose best value so far is worse than the median at its step",
       [](const nlohmann::json& j) -> std::unique_ptr<Scheduler> {
         const Options options("median", j, {"min_trials", "warmup_steps"});
         const MedianOptions defaults;
         return std::make_unique<MedianStopping>(
             MedianOptions{.min_trials = options.integer("min_trials", defaults.min_trials),
                           .warmup_steps = options.integer("warmup_steps", defaults.warmup_steps)});
       }},
      {"none", "never stop a trial: every trial runs to its full budget",
       [](const nlohmann::json& j) -> std::unique_ptr<Scheduler> {
         const Options options("none", j, {});
         return std::make_unique<FullBudget>();
       }},
  };
  std::sort(entries.begin(), entries.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  return entries;
}

}  // namespace

const std::vector<SchedulerEntry>& scheduler_registry() {
  static const std::vector<SchedulerEntry> registry = build_registry();
  return registry;
}

std::unique_ptr<Scheduler> make_scheduler(const std::string& name, const nlohmann::json& options) {
  const auto& registry = scheduler_registry();
  for (const auto& entry : registry)
    if (entry.name == name) return entry.make(options);
  std::string known;
  for (const auto& entry : registry) known += (known.empty() ? "" : ", ") + entry.name;
  throw InvalidArgument("unknown scheduler '" + name + "' (known: " + known + ")");
}

}  // namespace quarry::schedulers
