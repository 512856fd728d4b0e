#include "quarry/samplers/registry.hpp"

#include <algorithm>

#include "quarry/core/error.hpp"
#include "quarry/samplers/grid.hpp"
#include "quarry/samplers/random.hpp"

namespace quarry::samplers {

namespace {

/// One sampler's options object: refuses unknown keys and a "seed" that is not a count.
class Options {
 public:
  Options(std::string sampler, const nlohmann::json& j, std::vector<std::string> known)
      : sampler_(std::move(sampler)), json_(j.is_null() ? nlohmann::json::object() : j) {
    if (!json_.is_object())
      throw InvalidArgument("sampler '" + sampler_ +
                            "': options must be a mapping of names to values, got " + json_.dump());
    known.emplace_back("seed");
    for (const auto& [key, value] : json_.items())
      if (std::find(known.begin(), known.end(), key) == known.end())
        throw InvalidArgument("sampler '" + sampler_ + "': unknown option '" + key + "'");
    if (json_.contains("seed")) {
      const auto& v = json_["seed"];
      if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<std::int64_t>() >= 0))
        throw InvalidArgument("sampler '" + sampler_ +
                              "': option 'seed' must be a non-negative integer, got " + v.dump());
    }
  }

  /// The "seed" option when given, else the study seed.
  std::uint64_t seed(std::uint64_t study_seed) const {
    return json_.contains("seed") ? json_["seed"].get<std::uint64_t>() : study_seed;
  }

 private:
  std::string sampler_;
  nlohmann::json json_;
};

std::vector<SamplerEntry> build_registry() {
  std::vector<SamplerEntry> entries = {
      {"grid", "every combination of the discrete values, in order; stops when exhausted",
       [](const nlohmann::json& j, std::uint64_t) -> std::unique_ptr<Sampler> {
         const Options options("grid", j, {});  // validates; a grid has no seed
         return std::make_unique<GridSampler>(GridOptions{});
       }},
      {"random", "independent uniform draws (log-uniform for log scales), no duplicates on grids",
       [](const nlohmann::json& j, std::uint64_t seed) -> std::unique_ptr<Sampler> {
         const Options options("random", j, {});
         return std::make_unique<RandomSampler>(RandomOptions{.seed = options.seed(seed)});
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
  const auto& registry = sampler_registry();
  for (const auto& entry : registry)
    if (entry.name == name) return entry.make(options, seed);
  std::string known;
  for (const auto& entry : registry) known += (known.empty() ? "" : ", ") + entry.name;
  throw InvalidArgument("unknown sampler '" + name + "' (known: " + known + ")");
}

}  // namespace quarry::samplers
