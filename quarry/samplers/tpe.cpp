#include "quarry/samplers/tpe.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <tuple>

#include <nlohmann/json.hpp>

#include "quarry/core/error.hpp"
#include "quarry/core/options.hpp"
#include "quarry/core/rng.hpp"
#include "quarry/samplers/parzen.hpp"
#include "quarry/study/constraints.hpp"

namespace quarry::samplers {

namespace {

constexpr std::uint64_t kJointStream = 0x6a6f696e74ULL;  // "joint": the multivariate draw
constexpr std::size_t kMaxGood = 25;                     // Optuna's gamma: min(ceil(0.1 n), 25)
constexpr std::size_t kFlatWeights = 25;                 // newest trials with full weight
constexpr double kInf = std::numeric_limits<double>::infinity();

/// The finished trials ranked into good and bad, each in trial-number order.
struct Split {
  std::vector<const Trial*> good, bad;
  std::size_t finished = 0;  // Complete + Pruned
};

/// (group, -last step or violation, loss): feasible Complete trials (group 0) by loss, then Pruned
/// ones (group 1) that got further first, then by their last intermediate value (Optuna's
/// _split_pruned_trials), then the trials that broke a constraint (group 2: Complete with
/// "feasible": false, or Failed with a "constraints" attribute) by total violation (Optuna's
/// constrained split).
using RankKey = std::tuple<int, double, double, std::int64_t>;

std::optional<RankKey> rank_key(const Trial& t, const Sampler& sampler) {
  const bool broke = !study::is_feasible(t) ||
                     (t.state == TrialState::Failed && t.attrs.count(study::kConstraintsAttr) > 0);
  if (broke && (t.state == TrialState::Complete || t.state == TrialState::Failed))
    return RankKey{2, study::total_violation(t), sampler.loss(t).value_or(kInf), t.number};
  if (t.state == TrialState::Complete)
    return RankKey{0, 0.0, sampler.loss(t).value_or(kInf), t.number};
  if (t.state != TrialState::Pruned) return std::nullopt;
  if (t.intermediate.empty()) return RankKey{1, kInf, kInf, t.number};
  const auto& [step, value] = *t.intermediate.rbegin();
  const auto& dirs = sampler.context().directions;
  const bool maximise = !dirs.empty() && dirs.front() == Direction::Maximize;
  const double loss = std::isfinite(value) ? (maximise ? -value : value) : kInf;
  return RankKey{1, -static_cast<double>(step), loss, t.number};
}

Split split_history(const std::vector<Trial>& history, std::int64_t number, const Sampler& sampler,
                    bool constant_liar) {
  std::vector<std::pair<RankKey, const Trial*>> ranked;
  Split split;
  for (const Trial& t : history) {
    if (t.number == number) continue;
    if (auto key = rank_key(t, sampler)) {
      ranked.emplace_back(*key, &t);
    } else if (constant_liar && !t.finished() && !t.params.empty()) {
      split.bad.push_back(&t);
    }
  }
  std::sort(ranked.begin(), ranked.end());
  split.finished = ranked.size();
  const auto n_good = std::min(
      kMaxGood, static_cast<std::size_t>(std::ceil(0.1 * static_cast<double>(ranked.size()))));
  for (std::size_t i = 0; i < ranked.size(); ++i)
    (i < n_good ? split.good : split.bad).push_back(ranked[i].second);
  const auto by_number = [](const Trial* a, const Trial* b) { return a->number < b->number; };
  std::sort(split.good.begin(), split.good.end(), by_number);
  std::sort(split.bad.begin(), split.bad.end(), by_number);
  return split;
}

/// Optuna's default_weights: ones up to 25 points, else a ramp 1/m..1 over the oldest m - 25.
std::vector<double> age_weights(std::size_t m) {
  std::vector<double> w(m, 1.0);
  if (m < kFlatWeights) return w;
  const std::size_t ramp = m - kFlatWeights;
  const double start = 1.0 / static_cast<double>(m);
  for (std::size_t i = 0; i < ramp; ++i)
    w[i] = ramp == 1
               ? start
               : start + (1.0 - start) * static_cast<double>(i) / static_cast<double>(ramp - 1);
  return w;
}

/// Each trial's unit coordinates for `params` (NaN where inactive); with `require_all`, trials
/// lacking a parameter are left out.
std::vector<std::vector<double>> points_of(const std::vector<const Trial*>& trials,
                                           const std::vector<const Param*>& params,
                                           bool require_all) {
  std::vector<std::vector<double>> points;
  for (const Trial* t : trials) {
    std::vector<double> x(params.size(), std::numeric_limits<double>::quiet_NaN());
    bool complete = true;
    for (std::size_t d = 0; d < params.size(); ++d) {
      const auto it = t->params.find(params[d]->name());
      if (it != t->params.end() && params[d]->contains(it->second))
        x[d] = params[d]->to_unit(it->second);
      else
        complete = false;
    }
    if (complete || !require_all) points.push_back(std::move(x));
  }
  return points;
}

ParzenEstimator fit(const std::vector<ParzenDim>& dims,
                    const std::vector<std::vector<double>>& points, ParzenOptions options) {
  return ParzenEstimator(dims, points, age_weights(points.size()), options);
}

/// The candidate drawn from `good` that maximises log l(x) - log g(x).
std::vector<double> best_candidate(const ParzenEstimator& good, const ParzenEstimator& bad,
                                   std::int64_t candidates, Rng& rng) {
  std::vector<double> best;
  double best_score = -kInf;
  for (std::int64_t i = 0; i < candidates; ++i) {
    std::vector<double> x = good.sample(rng);
    const double score = good.log_pdf(x) - bad.log_pdf(x);
    if (best.empty() || score > best_score) best_score = score, best = std::move(x);
  }
  return best;
}

}  // namespace

TpeOptions tpe_options_from_json(const nlohmann::json& j, std::uint64_t seed) {
  const ComponentOptions options("sampler 'tpe'", j,
                                 {"seed", "n_startup_trials", "n_ei_candidates", "multivariate",
                                  "constant_liar", "prior_weight"});
  const TpeOptions d;
  return {.seed = options.count("seed", seed),
          .n_startup_trials = options.integer("n_startup_trials", d.n_startup_trials, 0),
          .n_ei_candidates = options.integer("n_ei_candidates", d.n_ei_candidates, 1),
          .multivariate = options.boolean("multivariate", d.multivariate),
          .constant_liar = options.boolean("constant_liar", d.constant_liar),
          .prior_weight = options.real("prior_weight", d.prior_weight)};
}

TpeSampler::TpeSampler(TpeOptions options) : options_(options) {
  require(options_.n_startup_trials >= 0, "TpeSampler", "n_startup_trials >= 0",
          options_.n_startup_trials);
  require(options_.n_ei_candidates >= 1, "TpeSampler", "n_ei_candidates >= 1",
          options_.n_ei_candidates);
  require(options_.prior_weight > 0 && std::isfinite(options_.prior_weight), "TpeSampler",
          "0 < prior_weight < inf", options_.prior_weight);
}

Params TpeSampler::sample_relative(const Space& space, const std::vector<Trial>& history,
                                   std::int64_t number) {
  if (!options_.multivariate) return {};
  std::vector<const Param*> params;
  std::vector<ParzenDim> dims;
  for (const Param& p : space.params())
    if (p.conditions().empty() && p.kind() != space::ParamKind::Fixed)
      params.push_back(&p), dims.push_back(ParzenDim::of(p));
  if (params.empty()) return {};
  const Split split = split_history(history, number, *this, options_.constant_liar);
  if (split.finished < static_cast<std::size_t>(options_.n_startup_trials)) return {};
  const ParzenOptions parzen{.bandwidth = Bandwidth::Scott, .prior_weight = options_.prior_weight};
  const auto good = fit(dims, points_of(split.good, params, false), parzen);
  const auto bad = fit(dims, points_of(split.bad, params, false), parzen);
  Rng rng = Rng::stream(options_.seed, {static_cast<std::uint64_t>(number), kJointStream});
  const auto x = best_candidate(good, bad, options_.n_ei_candidates, rng);
  Params out;
  for (std::size_t d = 0; d < params.size(); ++d)
    out[params[d]->name()] = params[d]->from_unit(x[d]);
  return out;
}

Value TpeSampler::sample_independent(const Param& param, const Params& assigned,
                                     const std::vector<Trial>& history, std::int64_t number) {
  (void)assigned;
  Rng rng =
      Rng::stream(options_.seed, {static_cast<std::uint64_t>(number), hash_name(param.name())});
  if (param.kind() == space::ParamKind::Fixed) return param.from_unit(rng.uniform());
  const Split split = split_history(history, number, *this, options_.constant_liar);
  if (split.finished < static_cast<std::size_t>(options_.n_startup_trials))
    return param.from_unit(rng.uniform());
  const std::vector<const Param*> params = {&param};
  const std::vector<ParzenDim> dims = {ParzenDim::of(param)};
  const ParzenOptions parzen{.bandwidth = Bandwidth::Neighbours,
                             .prior_weight = options_.prior_weight};
  const auto good = fit(dims, points_of(split.good, params, true), parzen);
  const auto bad = fit(dims, points_of(split.bad, params, true), parzen);
  return param.from_unit(best_candidate(good, bad, options_.n_ei_candidates, rng)[0]);
}

}  // namespace quarry::samplers
