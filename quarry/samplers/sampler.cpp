#include "quarry/samplers/sampler.hpp"

#include <cmath>

namespace quarry::samplers {

std::optional<double> Sampler::loss(const Trial& trial) const {
  if (trial.state != TrialState::Complete || trial.values.empty()) return std::nullopt;
  const double v = trial.values.front();
  if (!std::isfinite(v)) return std::nullopt;
  const bool maximise =
      !context_.directions.empty() && context_.directions.front() == Direction::Maximize;
  return maximise ? -v : v;
}

Params sample_all(Sampler& sampler, const Space& space, const std::vector<Trial>& history,
                  std::int64_t number) {
  const Params joint = sampler.sample_relative(space, history, number);
  return space.assign([&](const Param& p, const Params& assigned) -> Value {
    if (auto it = joint.find(p.name()); it != joint.end()) return it->second;
    return sampler.sample_independent(p, assigned, history, number);
  });
}

}  // namespace quarry::samplers
