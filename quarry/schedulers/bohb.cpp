#include "quarry/schedulers/bohb.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <utility>

#include "quarry/core/error.hpp"
#include "quarry/core/options.hpp"
#include "quarry/core/rng.hpp"
#include "quarry/samplers/parzen.hpp"

namespace quarry::schedulers {

namespace {

using samplers::ParzenDim;
using samplers::ParzenEstimator;
using space::Param;

constexpr std::uint64_t kBohbStream = 0x626f6862ULL;  // "bohb"
/// Weight of the prior kernel against 1 per observation: enough to keep g(x) above zero, small
/// enough not to pull proposals towards unexplored corners (with weight 1 the prior's share of
/// l, 1 / (m + 1), dwarfs its share of g, and l/g rewards points far from every observation).
constexpr double kPriorWeight = 0.01;

/// The good and bad trials of the model's budget.
struct Groups {
  double budget = 0;
  std::vector<const Trial*> good, bad;
};

/// Every parameter the model covers: all but Fixed ones.
std::vector<const Param*> modelled(const Space& space) {
  std::vector<const Param*> out;
  for (const Param& p : space.params())
    if (p.kind() != space::ParamKind::Fixed) out.push_back(&p);
  return out;
}

std::vector<std::vector<double>> points_of(const std::vector<const Trial*>& trials,
                                           const std::vector<const Param*>& params) {
  std::vector<std::vector<double>> points;
  for (const Trial* t : trials) {
    auto& x = points.emplace_back(params.size(), std::numeric_limits<double>::quiet_NaN());
    for (std::size_t d = 0; d < params.size(); ++d) {
      const auto it = t->params.find(params[d]->name());
      if (it != t->params.end() && params[d]->contains(it->second))
        x[d] = params[d]->to_unit(it->second);
    }
  }
  return points;
}

/// HpBandSter's split of one budget's trials, or nullopt when a group would be too small.
std::optional<Groups> split(double budget, std::vector<std::pair<double, const Trial*>> ranked,
                            std::size_t required, double top_n_percent) {
  std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first < b.first : a.second->number < b.second->number;
  });
  const auto n = static_cast<double>(ranked.size());
  const auto n_good =
      std::max(required, static_cast<std::size_t>(std::floor(top_n_percent * n / 100.0)));
  const auto n_bad =
      std::max(required, static_cast<std::size_t>(std::floor((100.0 - top_n_percent) * n / 100.0)));
  Groups g{budget, {}, {}};
  for (std::size_t i = 0; i < ranked.size() && i < n_good + n_bad; ++i)
    (i < n_good ? g.good : g.bad).push_back(ranked[i].second);
  if (g.good.size() < required || g.bad.size() < required) return std::nullopt;
  return g;
}

std::optional<Groups> groups(const BohbOptions& o, std::size_t dims,
                             const std::vector<Trial>& trials, bool maximise) {
  std::map<double, std::vector<std::pair<double, const Trial*>>> by_budget;
  for (const Trial& t : trials)
    if (t.state == TrialState::Complete && !t.values.empty() && std::isfinite(t.values.front()))
      by_budget[t.budget].emplace_back(maximise ? -t.values.front() : t.values.front(), &t);
  const std::size_t required =
      o.min_points_in_model > 0 ? static_cast<std::size_t>(o.min_points_in_model) : dims + 1;
  for (auto it = by_budget.rbegin(); it != by_budget.rend(); ++it)
    if (auto g = split(it->first, std::move(it->second), required, o.top_n_percent)) return g;
  return std::nullopt;
}

/// The candidate from the widened good estimator maximising l(x) / g(x), as parameters.
Params model_proposal(const BohbOptions& o, const Space& space,
                      const std::vector<const Param*>& params, const Groups& g, Rng& rng) {
  std::vector<ParzenDim> dims;
  for (const Param* p : params) dims.push_back(ParzenDim::of(*p));
  const samplers::ParzenOptions parzen{.bandwidth = samplers::Bandwidth::Scott,
                                       .prior_weight = kPriorWeight,
                                       .magic_clip = false,
                                       .min_bandwidth = o.min_bandwidth};
  const ParzenEstimator good(dims, points_of(g.good, params), {}, parzen);
  const ParzenEstimator bad(dims, points_of(g.bad, params), {}, parzen);
  Params best;
  double best_score = -std::numeric_limits<double>::infinity();
  for (std::int64_t i = 0; i < o.num_samples; ++i) {
    std::vector<double> x = good.sample(rng, o.bandwidth_factor);
    Params candidate = space.assign([&](const Param& p, const Params&) {
      for (std::size_t d = 0; d < params.size(); ++d)
        if (params[d] == &p) return p.from_unit(x[d]);
      return p.from_unit(0.5);  // Fixed
    });
    for (std::size_t d = 0; d < params.size(); ++d)
      if (!candidate.count(params[d]->name())) x[d] = std::numeric_limits<double>::quiet_NaN();
    const double score = good.log_pdf(x) - bad.log_pdf(x);
    if (best.empty() || score > best_score) best_score = score, best = std::move(candidate);
  }
  return best;
}

}  // namespace

BohbOptions bohb_options_from_json(const nlohmann::json& j) {
  const ComponentOptions options(
      "scheduler 'bohb'", j,
      {"max_epochs", "factor", "min_epochs", "hyperband_iterations", "seed", "min_points_in_model",
       "top_n_percent", "random_fraction", "num_samples", "bandwidth_factor", "min_bandwidth"});
  if (!options.has("max_epochs"))
    throw InvalidArgument("scheduler 'bohb': option 'max_epochs' is required");
  const BohbOptions d;
  return {
      .max_epochs = options.integer("max_epochs", d.max_epochs, 1),
      .factor = options.integer("factor", d.factor, 2),
      .min_epochs = options.integer("min_epochs", d.min_epochs, 1),
      .hyperband_iterations = options.integer("hyperband_iterations", d.hyperband_iterations, 1),
      .seed = options.count("seed", d.seed),
      .min_points_in_model = options.integer("min_points_in_model", d.min_points_in_model, 0),
      .top_n_percent = options.real("top_n_percent", d.top_n_percent),
      .random_fraction = options.real("random_fraction", d.random_fraction),
      .num_samples = options.integer("num_samples", d.num_samples, 1),
      .bandwidth_factor = options.real("bandwidth_factor", d.bandwidth_factor),
      .min_bandwidth = options.real("min_bandwidth", d.min_bandwidth)};
}

Bohb::Bohb(BohbOptions o)
    : Hyperband({.max_epochs = o.max_epochs,
                 .factor = o.factor,
                 .min_epochs = o.min_epochs,
                 .hyperband_iterations = o.hyperband_iterations}),
      options_(o) {
  require(o.min_points_in_model >= 0, "BOHB", "min_points_in_model >= 0", o.min_points_in_model);
  require(o.top_n_percent > 0 && o.top_n_percent < 100, "BOHB", "0 < top_n_percent < 100",
          o.top_n_percent);
  require(o.random_fraction >= 0 && o.random_fraction <= 1, "BOHB", "0 <= random_fraction <= 1",
          o.random_fraction);
  require(o.num_samples >= 1, "BOHB", "num_samples >= 1", o.num_samples);
  require(o.bandwidth_factor > 0 && std::isfinite(o.bandwidth_factor), "BOHB",
          "0 < bandwidth_factor < inf", o.bandwidth_factor);
  require(o.min_bandwidth > 0 && o.min_bandwidth < 1, "BOHB", "0 < min_bandwidth < 1",
          o.min_bandwidth);
}

std::optional<double> Bohb::model_budget(const Space& space, const std::vector<Trial>& trials,
                                         bool maximise) const {
  const auto g = groups(options_, modelled(space).size(), trials, maximise);
  return g ? std::optional<double>(g->budget) : std::nullopt;
}

Params Bohb::propose(SchedulerContext& context, std::int64_t number, double budget,
                     const std::vector<Trial>& trials) {
  (void)budget;  // the model comes from the largest budget with enough points, whatever this one
  Rng rng = Rng::stream(options_.seed, {static_cast<std::uint64_t>(number), kBohbStream});
  if (rng.uniform() >= options_.random_fraction) {
    const Space space = context.space();
    const auto params = modelled(space);
    const bool maximise = context.directions().front() == Direction::Maximize;
    if (!params.empty())
      if (auto g = groups(options_, params.size(), trials, maximise))
        return model_proposal(options_, space, params, *g, rng);
  }
  return context.propose(number);
}

}  // namespace quarry::schedulers
