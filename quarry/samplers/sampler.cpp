#include "quarry/samplers/sampler.hpp"

#include <algorithm>
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

namespace {

bool same_params(const Params& a, const Params& b) {
  if (a.size() != b.size()) return false;
  for (auto ia = a.begin(), ib = b.begin(); ia != a.end(); ++ia, ++ib)
    if (ia->first != ib->first || !space::same_value(ia->second, ib->second)) return false;
  return true;
}

}  // namespace

bool seen_before(const Params& params, const std::vector<Trial>& history, std::int64_t number) {
  return std::any_of(history.begin(), history.end(), [&](const Trial& t) {
    return t.number != number && same_params(t.params, params);
  });
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
