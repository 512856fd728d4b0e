#include "quarry/samplers/surrogate.hpp"

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

#include "quarry/core/error.hpp"
#include "quarry/core/options.hpp"
#include "quarry/core/rng.hpp"
#include "quarry/samplers/encoder.hpp"

namespace quarry::samplers {

namespace {

constexpr std::uint64_t kCandidateStream = hash_name("surrogate/candidates");
constexpr std::uint64_t kFitStream = hash_name("surrogate/fit");
constexpr double kSigma = 0.1;  ///< a numeric mutation's standard deviation (unit coordinates)

bool is_categorical(const Param& p) {
  return p.kind() == space::ParamKind::Choice || p.kind() == space::ParamKind::Boolean;
}

/// True when `p` has more than one value, so a mutation can change it.
bool is_mutable(const Param& p) {
  if (p.kind() == space::ParamKind::Fixed) return false;
  if (p.is_discrete()) return p.discrete_values().size() > 1;
  return p.high() > p.low();
}

/// x folded into [0, 1] by reflection at both ends.
double reflect(double x) {
  x = std::fmod(std::abs(x), 2.0);
  return x > 1.0 ? 2.0 - x : x;
}

/// A value of `p` near `parent`: another value of a choice, a Gaussian step of a number.
Value mutate(const Param& p, const Value& parent, Rng& rng) {
  if (is_categorical(p)) {
    const auto values = p.discrete_values();
    const auto at = std::find_if(values.begin(), values.end(),
                                 [&](const Value& v) { return space::same_value(v, parent); });
    const auto slot = static_cast<std::size_t>(at - values.begin());
    const auto k = static_cast<std::size_t>(rng.below(values.size() - 1));
    return values[k >= slot ? k + 1 : k];
  }
  return p.from_unit(reflect(p.to_unit(parent) + kSigma * rng.normal()));
}

/// `parent` with one or two of its active, mutable parameters changed; the space's conditions
/// decide what is active, a newly active parameter is drawn uniformly.
Params mutant(const Space& space, const Params& parent, Rng& rng) {
  std::vector<const Param*> mutable_params;
  for (const Param& p : space.params())
    if (is_mutable(p) && parent.count(p.name()) && p.contains(parent.at(p.name())))
      mutable_params.push_back(&p);
  Params changed;
  const std::uint64_t changes = std::min<std::uint64_t>(1 + rng.below(2), mutable_params.size());
  for (std::uint64_t c = 0; c < changes; ++c) {
    const auto at = static_cast<std::size_t>(rng.below(mutable_params.size() - c));
    std::swap(mutable_params[at], mutable_params[mutable_params.size() - c - 1]);
    const Param& p = *mutable_params[mutable_params.size() - c - 1];
    changed[p.name()] = mutate(p, parent.at(p.name()), rng);
  }
  return space.assign([&](const Param& p, const Params&) -> Value {
    if (auto it = changed.find(p.name()); it != changed.end()) return it->second;
    if (auto it = parent.find(p.name()); it != parent.end() && p.contains(it->second))
      return it->second;
    return p.from_unit(rng.uniform());
  });
}

}  // namespace

SurrogateOptions surrogate_options_from_json(const nlohmann::json& j, std::uint64_t seed) {
  const ComponentOptions options("sampler 'surrogate'", j,
                                 {"seed", "candidates", "min_trials", "kappa"});
  const SurrogateOptions d;
  return {.seed = options.count("seed", seed),
          .candidates = options.integer("candidates", d.candidates, 1),
          .min_trials = options.integer("min_trials", d.min_trials, 1),
          .kappa = options.real("kappa", d.kappa)};
}

SurrogateSampler::SurrogateSampler(SurrogateOptions options)
    : options_(options), random_({.seed = options.seed}) {
  require(options_.candidates >= 1, "SurrogateSampler", "candidates >= 1", options_.candidates);
  require(options_.min_trials >= 1, "SurrogateSampler", "min_trials >= 1", options_.min_trials);
  require(options_.kappa >= 0 && std::isfinite(options_.kappa), "SurrogateSampler", "kappa >= 0",
          options_.kappa);
}

std::vector<const Trial*> SurrogateSampler::complete(const std::vector<Trial>& history,
                                                     std::int64_t number) const {
  std::vector<const Trial*> out;
  for (const Trial& t : history)
    if (t.number != number && !t.params.empty() && loss(t)) out.push_back(&t);
  std::sort(out.begin(), out.end(),
            [](const Trial* a, const Trial* b) { return a->number < b->number; });
  return out;
}

std::vector<Params> SurrogateSampler::candidates(const Space& space,
                                                 const std::vector<const Trial*>& complete,
                                                 std::int64_t number) const {
  Rng rng = Rng::stream(options_.seed, {static_cast<std::uint64_t>(number), kCandidateStream});
  std::vector<const Trial*> parents = complete;
  std::stable_sort(parents.begin(), parents.end(),
                   [&](const Trial* a, const Trial* b) { return *loss(*a) < *loss(*b); });
  parents.resize(std::min(parents.size(), kParents));
  const auto total = static_cast<std::size_t>(options_.candidates);
  std::vector<Params> out;
  for (std::size_t i = 0; i < total; ++i) {
    if (i % 2 == 1 && !parents.empty()) {
      const Trial& parent = *parents[static_cast<std::size_t>(rng.below(parents.size()))];
      out.push_back(mutant(space, parent.params, rng));
    } else {
      out.push_back(space.assign(
          [&](const Param& p, const Params&) -> Value { return p.from_unit(rng.uniform()); }));
    }
  }
  return out;
}

std::vector<SurrogateSampler::Scored> SurrogateSampler::rank(const Space& space,
                                                             const std::vector<Trial>& history,
                                                             std::int64_t number) const {
  const auto done = complete(history, number);
  if (space.empty() || done.size() < static_cast<std::size_t>(options_.min_trials)) return {};
  const Encoder encoder(space);
  std::vector<std::vector<double>> x;
  std::vector<double> y;
  for (const Trial* t : done) x.push_back(encoder.encode(t->params)), y.push_back(*loss(*t));
  Rng fit_rng = Rng::stream(options_.seed, {static_cast<std::uint64_t>(number), kFitStream});
  SurrogateModel model({.seed = fit_rng.next()});
  model.fit(x, y);
  std::vector<Params> pool = candidates(space, done, number);
  std::vector<std::vector<double>> rows;
  for (const Params& p : pool) rows.push_back(encoder.encode(p));
  const auto predictions = model.predict(rows);
  std::vector<Scored> out;
  for (std::size_t i = 0; i < pool.size(); ++i) {
    const SurrogatePrediction& p = predictions[i];
    out.push_back({std::move(pool[i]), p, p.mean - options_.kappa * p.spread});
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const Scored& a, const Scored& b) { return a.score < b.score; });
  return out;
}

Params SurrogateSampler::sample_relative(const Space& space, const std::vector<Trial>& history,
                                         std::int64_t number) {
  for (Scored& s : rank(space, history, number))
    if (!seen_before(s.params, history, number)) return std::move(s.params);
  return random_.sample_relative(space, history, number);  // start-up, or every candidate taken
}

Value SurrogateSampler::sample_independent(const Param& param, const Params& assigned,
                                           const std::vector<Trial>& history, std::int64_t number) {
  return random_.sample_independent(param, assigned, history, number);
}

}  // namespace quarry::samplers
