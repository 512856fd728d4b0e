#include "quarry/samplers/sampler.hpp"

namespace quarry::samplers {

Params sample_all(Sampler& sampler, const Space& space, const std::vector<Trial>& history,
                  std::int64_t number) {
  const Params joint = sampler.sample_relative(space, history, number);
  return space.assign([&](const Param& p, const Params& assigned) -> Value {
    if (auto it = joint.find(p.name()); it != joint.end()) return it->second;
    return sampler.sample_independent(p, assigned, history, number);
  });
}

}  // namespace quarry::samplers
