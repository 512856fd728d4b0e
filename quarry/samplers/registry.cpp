#include "quarry/samplers/registry.hpp"

#include <algorithm>

#include "quarry/core/options.hpp"
#include "quarry/samplers/grid.hpp"
#include "quarry/samplers/random.hpp"

namespace quarry::samplers {

namespace {

std::vector<SamplerEntry> build_registry() {
  std::vector<SamplerEntry> entries = {
      {"grid", "every combination of the discrete values, in order; stops when exhausted",
       [](const nlohmann::json& j, std::uint64_t) -> std::unique_ptr<Sampler> {
         (void)ComponentOptions("sampler 'grid'", j,
                                {"seed"});  // validates; a grid ignores its seed
         return std::make_unique<GridSampler>(GridOptions{});
       }},
      {"random", "independent uniform draws (log-uniform for log scales), no duplicates on grids",
       [](const nlohmann::json& j, std::uint64_t seed) -> std::unique_ptr<Sampler> {
         const ComponentOptions options("sampler 'random'", j, {"seed"});
         return std::make_unique<RandomSampler>(RandomOptions{.seed = options.count("seed", seed)});
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
