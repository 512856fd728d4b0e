#include "quarry/samplers/random.hpp"

#include <algorithm>

#include "quarry/core/rng.hpp"

namespace quarry::samplers {

namespace {

bool all_discrete(const Space& space) {
  return std::all_of(space.params().begin(), space.params().end(),
                     [](const Param& p) { return p.is_discrete(); });
}

}  // namespace

Value RandomSampler::draw(const Param& param, std::int64_t number, std::uint64_t attempt) const {
  Rng rng = Rng::stream(options_.seed,
                        {static_cast<std::uint64_t>(number), hash_name(param.name()), attempt});
  return param.from_unit(rng.uniform());
}

Params RandomSampler::sample_relative(const Space& space, const std::vector<Trial>& history,
                                      std::int64_t number) {
  if (!uses_history(space)) return {};
  Params first;
  for (std::uint64_t attempt = 0; attempt < kMaxAttempts; ++attempt) {
    Params params =
        space.assign([&](const Param& p, const Params&) { return draw(p, number, attempt); });
    if (!seen_before(params, history, number)) return params;
    if (attempt == 0) first = std::move(params);
  }
  return first;  // every redraw was taken: the space is (nearly) exhausted, accept a duplicate
}

Value RandomSampler::sample_independent(const Param& param, const Params& assigned,
                                        const std::vector<Trial>& history, std::int64_t number) {
  (void)assigned, (void)history;
  return draw(param, number, 0);
}

bool RandomSampler::uses_history(const Space& space) const {
  return !space.empty() && all_discrete(space);
}

}  // namespace quarry::samplers
