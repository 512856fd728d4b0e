#include "quarry/samplers/evolution.hpp"

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

#include "quarry/core/error.hpp"
#include "quarry/core/options.hpp"
#include "quarry/core/rng.hpp"

namespace quarry::samplers {

namespace {

constexpr std::uint64_t kBreedStream = hash_name("evolution/breed");
constexpr std::uint64_t kFillStream = hash_name("evolution/fill");

bool is_categorical(const Param& p) {
  return p.kind() == space::ParamKind::Choice || p.kind() == space::ParamKind::Boolean;
}

/// True when `p` has more than one value, so a mutation can change it.
bool is_mutable(const Param& p) {
  switch (p.kind()) {
    case space::ParamKind::Fixed:
      return false;
    case space::ParamKind::Choice:
      return p.choices().size() > 1;
    case space::ParamKind::Boolean:
      return true;
    default:
      return p.high() > p.low();
  }
}

/// x folded into [0, 1] by reflection at both ends.
double reflect(double x) {
  x = std::fmod(std::abs(x), 2.0);
  return x > 1.0 ? 2.0 - x : x;
}

/// A value of `p` other than `parent` (p is mutable).
Value mutate(const Param& p, const Value& parent, Rng& rng, double sigma) {
  if (is_categorical(p)) {
    const auto values = p.discrete_values();
    const auto at = std::find_if(values.begin(), values.end(),
                                 [&](const Value& v) { return space::same_value(v, parent); });
    const auto slot = static_cast<std::size_t>(at - values.begin());
    auto k = static_cast<std::size_t>(rng.below(values.size() - 1));
    return values[k >= slot ? k + 1 : k];  // uniform over the values other than the parent's
  }
  const double u0 = p.to_unit(parent);
  double delta = sigma * rng.normal();
  if (delta == 0.0) delta = sigma;
  for (int doubling = 0; doubling < 64; ++doubling, delta *= 2.0) {
    Value v = p.from_unit(reflect(u0 + delta));
    if (!space::same_value(v, parent)) return v;
  }
  for (int draw = 0; draw < 64; ++draw) {  // not reached for a mutable parameter in practice
    Value v = p.from_unit(rng.uniform());
    if (!space::same_value(v, parent)) return v;
  }
  return parent;
}

}  // namespace

EvolutionOptions evolution_options_from_json(const nlohmann::json& j, std::uint64_t seed) {
  const ComponentOptions options("sampler 'evolution'", j,
                                 {"seed", "population", "sample_size", "sigma"});
  const EvolutionOptions d;
  return {.seed = options.count("seed", seed),
          .population = options.integer("population", d.population, 2),
          .sample_size = options.integer("sample_size", d.sample_size, 1),
          .sigma = options.real("sigma", d.sigma)};
}

EvolutionSampler::EvolutionSampler(EvolutionOptions options)
    : options_(options), random_({.seed = options.seed}) {
  require(options_.population >= 2, "EvolutionSampler", "population >= 2", options_.population);
  require(options_.sample_size >= 1 && options_.sample_size <= options_.population,
          "EvolutionSampler", "1 <= sample_size <= population",
          "sample_size=" + std::to_string(options_.sample_size) +
              ", population=" + std::to_string(options_.population));
  require(options_.sigma > 0 && options_.sigma <= 1, "EvolutionSampler", "0 < sigma <= 1",
          options_.sigma);
}

std::vector<const Trial*> EvolutionSampler::members(const std::vector<Trial>& history,
                                                    std::int64_t number) const {
  std::vector<const Trial*> complete;
  for (const Trial& t : history)
    if (t.number != number && loss(t)) complete.push_back(&t);
  std::sort(complete.begin(), complete.end(),
            [](const Trial* a, const Trial* b) { return a->number < b->number; });
  const auto size = static_cast<std::size_t>(options_.population);
  if (complete.size() > size)
    complete.erase(complete.begin(), complete.end() - static_cast<std::ptrdiff_t>(size));
  return complete;
}

std::vector<std::int64_t> EvolutionSampler::population(const std::vector<Trial>& history,
                                                       std::int64_t number) const {
  std::vector<std::int64_t> out;
  for (const Trial* t : members(history, number)) out.push_back(t->number);
  return out;
}

std::optional<EvolutionSampler::Proposal> EvolutionSampler::breed(
    const Space& space, const std::vector<const Trial*>& members, std::int64_t number,
    std::uint64_t attempt) const {
  Rng rng = Rng::stream(options_.seed, {static_cast<std::uint64_t>(number), kBreedStream, attempt});
  const Trial* parent = nullptr;
  for (std::int64_t draw = 0; draw < options_.sample_size; ++draw) {
    const Trial* t = members[static_cast<std::size_t>(rng.below(members.size()))];
    if (!parent || *loss(*t) < *loss(*parent) ||
        (*loss(*t) == *loss(*parent) && t->number > parent->number))
      parent = t;
  }
  std::vector<const Param*> candidates;
  for (const Param& p : space.params())
    if (is_mutable(p) && parent->params.count(p.name()) && p.contains(parent->params.at(p.name())))
      candidates.push_back(&p);
  if (candidates.empty()) return std::nullopt;
  const Param& target = *candidates[static_cast<std::size_t>(rng.below(candidates.size()))];
  const Value changed = mutate(target, parent->params.at(target.name()), rng, options_.sigma);
  Proposal child;
  child.parent = parent->number;
  child.mutated = target.name();
  child.params = space.assign([&](const Param& p, const Params&) -> Value {
    if (p.name() == target.name()) return changed;
    if (auto it = parent->params.find(p.name());
        it != parent->params.end() && p.contains(it->second))
      return it->second;
    Rng fill = Rng::stream(options_.seed, {static_cast<std::uint64_t>(number), kFillStream,
                                           hash_name(p.name()), attempt});
    return p.from_unit(fill.uniform());  // newly active under the mutated parent
  });
  return child;
}

EvolutionSampler::Proposal EvolutionSampler::propose(const Space& space,
                                                     const std::vector<Trial>& history,
                                                     std::int64_t number) const {
  const auto pool = members(history, number);
  if (space.empty() || pool.size() < static_cast<std::size_t>(options_.population)) return {};
  for (std::uint64_t attempt = 0; attempt < kMaxAttempts; ++attempt) {
    auto child = breed(space, pool, number, attempt);
    if (!child) return {};  // nothing to mutate (every parameter fixed)
    if (!seen_before(child->params, history, number)) return std::move(*child);
  }
  return {};  // every child was taken already: explore at random instead
}

Params EvolutionSampler::sample_relative(const Space& space, const std::vector<Trial>& history,
                                         std::int64_t number) {
  Proposal proposal = propose(space, history, number);
  if (proposal.parent) return std::move(proposal.params);
  return random_.sample_relative(space, history, number);
}

Value EvolutionSampler::sample_independent(const Param& param, const Params& assigned,
                                           const std::vector<Trial>& history, std::int64_t number) {
  return random_.sample_independent(param, assigned, history, number);
}

}  // namespace quarry::samplers
