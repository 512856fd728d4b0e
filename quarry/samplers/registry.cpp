#include "quarry/samplers/registry.hpp"

#include <algorithm>

#include "quarry/core/options.hpp"
#include "quarry/samplers/auto.hpp"
#include "quarry/samplers/cmaes.hpp"
#include "quarry/samplers/evolution.hpp"
#include "quarry/samplers/gp.hpp"
#include "quarry/samplers/grid.hpp"
#include "quarry/samplers/nsga2.hpp"
#include "quarry/samplers/random.hpp"
#include "quarry/samplers/rl_controller.hpp"
#include "quarry/samplers/surrogate.hpp"
#include "quarry/samplers/tpe.hpp"

namespace quarry::samplers {

namespace {

std::vector<SamplerEntry> build_registry() {
  std::vector<SamplerEntry> entries = {
      {"auto",
       "the default: per trial, NSGA-II for several objectives, TPE for conditional, constrained "
       "or scheduled (pruned) searches, the GP for mostly numeric spaces up to gp_trials "
       "complete trials, TPE after",
       [](const nlohmann::json& j, std::uint64_t seed) -> std::unique_ptr<Sampler> {
         return std::make_unique<AutoSampler>(auto_options_from_json(j, seed));
       }},
      {"cmaes",
       "CMA-ES: a multivariate normal over the numeric parameters, its mean, covariance and step "
       "size adapted each generation; restarts with twice the population (Hansen 2016, IPOP)",
       [](const nlohmann::json& j, std::uint64_t seed) -> std::unique_ptr<Sampler> {
         return std::make_unique<CmaEsSampler>(cmaes_options_from_json(j, seed));
       }},
      {"evolution",
       "regularised evolution: tournament among the most recent complete trials, one parameter "
       "mutated (Real et al. 2019)",
       [](const nlohmann::json& j, std::uint64_t seed) -> std::unique_ptr<Sampler> {
         return std::make_unique<EvolutionSampler>(evolution_options_from_json(j, seed));
       }},
      {"gp",
       "Gaussian-process Bayesian optimisation: Matern 5/2 ARD kernel, expected improvement or "
       "UCB, constant liar for running trials (Snoek et al. 2012)",
       [](const nlohmann::json& j, std::uint64_t seed) -> std::unique_ptr<Sampler> {
         return std::make_unique<GpSampler>(gp_options_from_json(j, seed));
       }},
      {"grid", "every combination of the discrete values, in order; stops when exhausted",
       [](const nlohmann::json& j, std::uint64_t) -> std::unique_ptr<Sampler> {
         (void)ComponentOptions("sampler 'grid'", j,
                                {"seed"});  // validates; a grid ignores its seed
         return std::make_unique<GridSampler>(GridOptions{});
       }},
      {"nsga2",
       "NSGA-II: constrained non-dominated sorting and crowding distance over the best trials, "
       "binary tournaments, uniform crossover, per-parameter mutation (Deb et al. 2002)",
       [](const nlohmann::json& j, std::uint64_t seed) -> std::unique_ptr<Sampler> {
         return std::make_unique<Nsga2Sampler>(nsga2_options_from_json(j, seed));
       }},
      {"random", "independent uniform draws (log-uniform for log scales), no duplicates on grids",
       [](const nlohmann::json& j, std::uint64_t seed) -> std::unique_ptr<Sampler> {
         const ComponentOptions options("sampler 'random'", j, {"seed"});
         return std::make_unique<RandomSampler>(RandomOptions{.seed = options.count("seed", seed)});
       }},
      {"rl",
       "REINFORCE-trained softmax policy, one decision per parameter, state kept in the store "
       "(Zoph & Le 2017)",
       [](const nlohmann::json& j, std::uint64_t seed) -> std::unique_ptr<Sampler> {
         return std::make_unique<RlController>(rl_controller_options_from_json(j, seed));
       }},
      {"surrogate",
       "predictor-guided search: an MLP ensemble fitted to the complete trials ranks many "
       "candidates, the best untried one is proposed (Liu et al. 2018, Progressive NAS)",
       [](const nlohmann::json& j, std::uint64_t seed) -> std::unique_ptr<Sampler> {
         return std::make_unique<SurrogateSampler>(surrogate_options_from_json(j, seed));
       }},
      {"tpe",
       "Tree-structured Parzen Estimator: l(x)/g(x) of Parzen estimators of the good and the bad "
       "trials (Bergstra et al. 2011, Optuna's TPESampler; multivariate by default)",
       [](const nlohmann::json& j, std::uint64_t seed) -> std::unique_ptr<Sampler> {
         return std::make_unique<TpeSampler>(tpe_options_from_json(j, seed));
       }},
  };
  std::sort(entries.begin(), entries.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  return entries;
}

}  // namespace

const std::vector<SamplerEntry>& sampler_registry() {
  static const std::vector<SamplerEntry> registry = build_registry();
  return registry;
}

std::unique_ptr<Sampler> make_sampler(const std::string& name, const nlohmann::json& options,
                                      std::uint64_t seed) {
  return find_entry(sampler_registry(), "sampler", name).make(options, seed);
}

}  // namespace quarry::samplers
