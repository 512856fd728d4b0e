#include "quarry/pruners/registry.hpp"

#include <algorithm>

#include "quarry/core/options.hpp"
#include "quarry/pruners/curve.hpp"
#include "quarry/pruners/median.hpp"

namespace quarry::pruners {

namespace {

std::vector<PrunerEntry> build_registry() {
  std::vector<PrunerEntry> entries = {
      {"learning_curve",
       "learning-curve extrapolation (Domhan et al. 2015): stop a trial whose curve, extrapolated "
       "by an ensemble of parametric families, is unlikely to beat the best value so far",
       [](const nlohmann::json& j) -> std::unique_ptr<Pruner> {
         return std::make_unique<LearningCurveStopping>(learning_curve_options_from_json(j));
       }},
      {"median", "stop a trial whose best value so far is worse than the median at its step",
       [](const nlohmann::json& j) -> std::unique_ptr<Pruner> {
         const ComponentOptions options("pruner 'median'", j, {"min_trials", "warmup_steps"});
         const MedianOptions defaults;
         return std::make_unique<MedianStopping>(
             MedianOptions{.min_trials = options.integer("min_trials", defaults.min_trials),
                           .warmup_steps = options.integer("warmup_steps", defaults.warmup_steps)});
       }},
      {"none", "never stop a trial: every trial runs to its full budget",
       [](const nlohmann::json& j) -> std::unique_ptr<Pruner> {
         (void)ComponentOptions("pruner 'none'", j, {});
         return std::make_unique<NopPruner>();
       }},
  };
  std::sort(entries.begin(), entries.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  return entries;
}

}  // namespace

const std::vector<PrunerEntry>& pruner_registry() {
  static const std::vector<PrunerEntry> registry = build_registry();
  return registry;
}

bool is_pruner(const std::string& name) {
  const auto& r = pruner_registry();
  return std::any_of(r.begin(), r.end(), [&](const auto& e) { return e.name == name; });
}

std::unique_ptr<Pruner> make_pruner(const std::string& name, const nlohmann::json& options) {
  return find_entry(pruner_registry(), "pruner", name).make(options);
}

}  // namespace quarry::pruners
