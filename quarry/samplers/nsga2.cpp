#include "quarry/samplers/nsga2.hpp"

#include <algorithm>
#include <limits>
#include <numeric>

#include <nlohmann/json.hpp>

#include "quarry/core/error.hpp"
#include "quarry/core/options.hpp"
#include "quarry/core/rng.hpp"
#include "quarry/study/constraints.hpp"
#include "quarry/study/pareto.hpp"

namespace quarry::samplers {

namespace {

constexpr std::uint64_t kSelectStream = hash_name("nsga2/select");
constexpr std::uint64_t kGeneStream = hash_name("nsga2/gene");

/// True when `t` takes part in the selection (see the header).
bool is_member(const Trial& t, std::size_t objectives) {
  if (t.values.size() != objectives) return false;
  return t.state == TrialState::Complete ||
         (t.state == TrialState::Failed && t.attrs.count(study::kConstraintsAttr));
}

/// 0 for a feasible member, else its total violation (> 0).
double violation_of(const Trial& t) {
  if (t.state == TrialState::Complete && study::is_feasible(t)) return 0.0;
  return std::max(study::total_violation(t), std::numeric_limits<double>::min());
}

/// The value of parameter `p` in `parent`, when it has a legal one.
const Value* value_in(const Trial* parent, const Param& p) {
  const auto it = parent->params.find(p.name());
  return it != parent->params.end() && p.contains(it->second) ? &it->second : nullptr;
}

double default_mutation_prob(const Space& space) {
  const auto free = std::count_if(space.params().begin(), space.params().end(), [](const Param& p) {
    return p.kind() != space::ParamKind::Fixed;
  });
  return 1.0 / static_cast<double>(std::max<std::ptrdiff_t>(free, 1));
}

}  // namespace

Nsga2Options nsga2_options_from_json(const nlohmann::json& j, std::uint64_t seed) {
  const ComponentOptions options(
      "sampler 'nsga2'", j,
      {"seed", "population_size", "crossover_prob", "swapping_prob", "mutation_prob"});
  const Nsga2Options d;
  Nsga2Options out{.seed = options.count("seed", seed),
                   .population_size = options.integer("population_size", d.population_size, 2),
                   .crossover_prob = options.real("crossover_prob", d.crossover_prob),
                   .swapping_prob = options.real("swapping_prob", d.swapping_prob)};
  if (options.has("mutation_prob")) out.mutation_prob = options.real("mutation_prob", 0.0);
  return out;
}

Nsga2Sampler::Nsga2Sampler(Nsga2Options options)
    : options_(options), random_({.seed = options.seed}) {
  const auto probability = [&](const std::string& name, double p) {
    require(p >= 0 && p <= 1, "Nsga2Sampler", "0 <= " + name + " <= 1", p);
  };
  require(options_.population_size >= 2, "Nsga2Sampler", "population_size >= 2",
          options_.population_size);
  probability("crossover_prob", options_.crossover_prob);
  probability("swapping_prob", options_.swapping_prob);
  if (options_.mutation_prob) probability("mutation_prob", *options_.mutation_prob);
}

std::vector<const Trial*> Nsga2Sampler::pool(const std::vector<Trial>& history,
                                             std::int64_t number) const {
  const auto& directions = context().directions;
  std::vector<const Trial*> members;
  for (const Trial& t : history)
    if (t.number != number && is_member(t, directions.size())) members.push_back(&t);
  const auto size = static_cast<std::size_t>(options_.population_size);
  if (members.size() < size) return {};
  std::sort(members.begin(), members.end(),
            [](const Trial* a, const Trial* b) { return a->number < b->number; });
  std::vector<std::vector<double>> values;
  std::vector<double> violations;
  for (const Trial* t : members)
    values.push_back(t->values), violations.push_back(violation_of(*t));
  std::vector<const Trial*> out;
  for (auto& front : study::constrained_non_dominated_sort(values, violations, directions)) {
    const auto crowding = study::crowding_distance(values, front);
    std::vector<std::size_t> order(front.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      if (crowding[a] != crowding[b]) return crowding[a] > crowding[b];
      return front[a] > front[b];  // newer first (members are in number order)
    });
    for (std::size_t slot : order) {
      if (out.size() == size) return out;
      out.push_back(members[front[slot]]);
    }
  }
  return out;
}

std::vector<std::int64_t> Nsga2Sampler::parent_pool(const std::vector<Trial>& history,
                                                    std::int64_t number) const {
  std::vector<std::int64_t> out;
  for (const Trial* t : pool(history, number)) out.push_back(t->number);
  return out;
}

Nsga2Sampler::Proposal Nsga2Sampler::breed(const Space& space,
                                           const std::vector<const Trial*>& pool,
                                           std::int64_t number, std::uint64_t attempt) const {
  const auto n = static_cast<std::uint64_t>(number);
  Rng rng = Rng::stream(options_.seed, {n, kSelectStream, attempt});
  // The pool is sorted best first: a binary tournament's winner is the lower index.
  const auto tournament = [&] {
    const auto a = rng.below(pool.size()), b = rng.below(pool.size());
    return pool[std::min(a, b)];
  };
  const Trial* first = tournament();
  const Trial* second = tournament();
  const bool crossover = rng.uniform() < options_.crossover_prob;
  const double mutation = options_.mutation_prob.value_or(default_mutation_prob(space));
  Proposal child{.params = {}, .first_parent = first->number, .second_parent = second->number};
  child.params = space.assign([&](const Param& p, const Params&) -> Value {
    Rng gene = Rng::stream(options_.seed, {n, kGeneStream, hash_name(p.name()), attempt});
    const double swap = gene.uniform(), mutate = gene.uniform(), fresh = gene.uniform();
    const Value* a = value_in(first, p);
    const Value* b = value_in(second, p);
    if (mutate < mutation || (!a && !b)) return p.from_unit(fresh);
    if (b && (!a || (crossover && swap < options_.swapping_prob))) return *b;
    return *a;
  });
  return child;
}

Nsga2Sampler::Proposal Nsga2Sampler::propose(const Space& space, const std::vector<Trial>& history,
                                             std::int64_t number) const {
  if (space.empty()) return {};
  const auto parents = pool(history, number);
  if (parents.empty()) return {};
  for (std::uint64_t attempt = 0; attempt < kMaxAttempts; ++attempt) {
    Proposal child = breed(space, parents, number, attempt);
    if (!seen_before(child.params, history, number)) return child;
  }
  return {};  // every child was taken already: explore at random instead
}

Params Nsga2Sampler::sample_relative(const Space& space, const std::vector<Trial>& history,
                                     std::int64_t number) {
  Proposal proposal = propose(space, history, number);
  if (proposal.first_parent) return std::move(proposal.params);
  return random_.sample_relative(space, history, number);
}

Value Nsga2Sampler::sample_independent(const Param& param, const Params& assigned,
                                       const std::vector<Trial>& history, std::int64_t number) {
  return random_.sample_independent(param, assigned, history, number);
}

}  // namespace quarry::samplers
