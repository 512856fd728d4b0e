#include "quarry/schedulers/registry.hpp"

#include <algorithm>
#include <cstdint>

#include "quarry/core/error.hpp"
#include "quarry/core/options.hpp"
#include "quarry/schedulers/asha.hpp"
#include "quarry/schedulers/bohb.hpp"
#include "quarry/schedulers/hyperband.hpp"

namespace quarry::schedulers {

namespace {

std::vector<SchedulerEntry> build_registry() {
  std::vector<SchedulerEntry> entries = {
      {"asha",
       "asynchronous successive halving (Li et al. 2020): a trial in the top 1/eta of its rung "
       "goes on at eta times the budget; workers never wait for a rung to fill",
       [](const nlohmann::json& j) -> std::unique_ptr<Scheduler> {
         const ComponentOptions options("scheduler 'asha'", j,
                                        {"max_budget", "min_budget", "eta", "group_by"});
         if (!options.has("max_budget"))
           throw InvalidArgument("scheduler 'asha': option 'max_budget' is required");
         const AshaOptions defaults;
         return std::make_unique<Asha>(
             AshaOptions{.max_budget = options.integer("max_budget", defaults.max_budget, 1),
                         .min_budget = options.integer("min_budget", defaults.min_budget, 1),
                         .eta = options.integer("eta", defaults.eta, 2),
                         .group_by = options.text("group_by", defaults.group_by)});
       }},
      {"bohb",
       "BOHB (Falkner et al. 2018): Hyperband whose new configurations maximise l(x)/g(x) of "
       "Parzen estimators fitted on the largest budget with enough results",
       [](const nlohmann::json& j) -> std::unique_ptr<Scheduler> {
         return std::make_unique<Bohb>(bohb_options_from_json(j));
       }},
      {"hyperband",
       "Keras Tuner's Hyperband: brackets of successive halving over epochs; promoted trials "
       "continue from their parent's checkpoint",
       [](const nlohmann::json& j) -> std::unique_ptr<Scheduler> {
         const ComponentOptions options(
             "scheduler 'hyperband'", j,
             {"max_epochs", "factor", "min_epochs", "hyperband_iterations"});
         if (!options.has("max_epochs"))
           throw InvalidArgument("scheduler 'hyperband': option 'max_epochs' is required");
         const HyperbandOptions defaults;
         return std::make_unique<Hyperband>(HyperbandOptions{
             .max_epochs = options.integer("max_epochs", defaults.max_epochs, 1),
             .factor = options.integer("factor", defaults.factor, 2),
             .min_epochs = options.integer("min_epochs", defaults.min_epochs, 1),
             .hyperband_iterations =
                 options.integer("hyperband_iterations", defaults.hyperband_iterations, 1)});
       }},
      {"none", "every trial runs at its full budget: a waiting trial first, else a new one",
       [](const nlohmann::json& j) -> std::unique_ptr<Scheduler> {
         (void)ComponentOptions("scheduler 'none'", j, {});
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
  return find_entry(scheduler_registry(), "scheduler", name).make(options);
}

}  // namespace quarry::schedulers
