#include "quarry/samplers/gp.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <numeric>
#include <span>
#include <stdexcept>

#include <LBFGSB.h>
#include <Eigen/Core>
#include <nlohmann/json.hpp>

#include "quarry/core/error.hpp"
#include "quarry/core/options.hpp"
#include "quarry/core/rng.hpp"
#include "quarry/samplers/encoder.hpp"
#include "quarry/samplers/gaussian_process.hpp"

namespace quarry::samplers {

namespace {

using Point = std::vector<double>;
using Kind = Encoder::Kind;

/// Ordinal parameters with more values than this are climbed as continuous columns (and rounded),
/// the others enumerated value by value.
constexpr std::size_t kEnumerated = 16;
/// Incumbents whose neighbourhoods seed half the candidates.
constexpr std::size_t kIncumbents = 5;

// ---- The data the model sees -------------------------------------------------------------------

struct Observations {
  std::vector<Point> x;
  std::vector<double> loss;
  std::vector<Point> pending;  // running or waiting trials
};

/// Complete trials (at most max_points: the best half, then the most recent) and pending ones.
Observations observe(const Sampler& sampler, const Encoder& encoder,
                     const std::vector<Trial>& history, std::int64_t number,
                     std::size_t max_points) {
  std::vector<std::pair<std::int64_t, double>> complete;  // (index in history, loss)
  std::vector<std::size_t> pending;
  for (std::size_t i = 0; i < history.size(); ++i) {
    const Trial& t = history[i];
    if (t.number == number || t.params.empty()) continue;
    if (const auto loss = sampler.loss(t))
      complete.emplace_back(static_cast<std::int64_t>(i), *loss);
    else if (t.state == TrialState::Running || t.state == TrialState::Waiting)
      pending.push_back(i);
  }
  auto by_number = [&](std::size_t a, std::size_t b) {
    return history[a].number > history[b].number;
  };
  std::vector<std::size_t> order(complete.size());
  std::iota(order.begin(), order.end(), 0);
  std::vector<std::size_t> keep = order;
  if (complete.size() > max_points) {
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return complete[a].second < complete[b].second;
    });
    keep.assign(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(max_points / 2));
    std::vector<std::size_t> rest(order.begin() + static_cast<std::ptrdiff_t>(max_points / 2),
                                  order.end());
    std::sort(rest.begin(), rest.end(), [&](std::size_t a, std::size_t b) {
      return by_number(static_cast<std::size_t>(complete[a].first),
                       static_cast<std::size_t>(complete[b].first));
    });
    keep.insert(keep.end(), rest.begin(),
                rest.begin() + static_cast<std::ptrdiff_t>(max_points - keep.size()));
  }
  Observations obs;
  for (std::size_t k : keep) {
    obs.x.push_back(encoder.encode(history[static_cast<std::size_t>(complete[k].first)].params));
    obs.loss.push_back(complete[k].second);
  }
  std::sort(pending.begin(), pending.end(), by_number);
  if (pending.size() > max_points) pending.resize(max_points);
  for (std::size_t i : pending) obs.pending.push_back(encoder.encode(history[i].params));
  return obs;
}

// ---- The acquisition and its maximisation ------------------------------------------------------

class Acquisition {
 public:
  Acquisition(const GaussianProcess& gp, bool ei, double best, double beta)
      : gp_(gp), ei_(ei), best_(best), beta_(beta) {}

  double of(const GpPrediction& p) const { return at(p).value; }

  std::vector<double> values(const std::vector<Point>& points) const {
    std::vector<double> out;
    for (const GpPrediction& p : gp_.predict(points)) out.push_back(of(p));
    return out;
  }

  double value_and_gradient(std::span<const double> x, std::span<double> grad) const {
    Point d_mean(x.size()), d_var(x.size());
    const GpPrediction p = gp_.predict(x, d_mean, d_var);
    const AcquisitionValue a = at(p);
    const double sd = std::sqrt(p.variance);
    for (std::size_t j = 0; j < x.size(); ++j)
      grad[j] = a.d_mean * d_mean[j] + a.d_sd * d_var[j] / (2.0 * sd);
    return a.value;
  }

 private:
  AcquisitionValue at(const GpPrediction& p) const {
    const double sd = std::sqrt(p.variance);
    return ei_ ? log_expected_improvement(p.mean, sd, best_)
               : lower_confidence_bound(p.mean, sd, beta_);
  }

  const GaussianProcess& gp_;
  bool ei_;
  double best_, beta_;
};

struct Scored {
  Point x;
  double value = -std::numeric_limits<double>::infinity();
};

/// -acquisition over the free columns of `start`, for L-BFGS-B; remembers the best point seen.
class LocalObjective {
 public:
  LocalObjective(const Acquisition& acq, Point start, const std::vector<std::size_t>& free)
      : acq_(acq), x_(std::move(start)), free_(free), grad_(x_.size()) {}

  double operator()(const Eigen::VectorXd& z, Eigen::VectorXd& grad) {
    for (std::size_t k = 0; k < free_.size(); ++k) x_[free_[k]] = z(static_cast<Eigen::Index>(k));
    const double value = acq_.value_and_gradient(x_, grad_);
    for (std::size_t k = 0; k < free_.size(); ++k)
      grad(static_cast<Eigen::Index>(k)) = -grad_[free_[k]];
    if (value > best_.value) best_ = {x_, value};
    return -value;
  }
  const Scored& best() const { return best_; }

 private:
  const Acquisition& acq_;
  Point x_;
  const std::vector<std::size_t>& free_;
  Point grad_;
  Scored best_;
};

class Maximiser {
 public:
  Maximiser(const Encoder& encoder, const Acquisition& acq) : encoder_(encoder), acq_(acq) {}

  /// Candidates: half uniform, half perturbations of the incumbents (best first).
  std::vector<Point> candidates(const std::vector<Point>& incumbents, std::size_t count,
                                Rng& rng) const {
    std::vector<Point> out;
    for (std::size_t c = 0; c < count; ++c) {
      Point x(encoder_.dims());
      if (c % 2 == 0 || incumbents.empty()) {
        for (double& v : x) v = rng.uniform();
      } else {
        x = perturbed(incumbents[rng.below(incumbents.size())], rng);
      }
      out.push_back(encoder_.project(x));
    }
    return out;
  }

  /// An incumbent with about two coordinates (at least one) moved by N(0, sd^2), sd one of
  /// 0.01, 0.05, 0.2: a local move that keeps the coordinates the model is unsure about.
  static Point perturbed(Point x, Rng& rng) {
    const double sd = std::array{0.01, 0.05, 0.2}[rng.below(3)];
    const double p = std::min(1.0, 2.0 / static_cast<double>(x.size()));
    const std::size_t forced = rng.below(x.size());
    for (std::size_t j = 0; j < x.size(); ++j)
      if (j == forced || rng.uniform() < p) x[j] = std::clamp(x[j] + sd * rng.normal(), 0.0, 1.0);
    return x;
  }

  /// The best of `starts` after a local climb and a pass over the discrete parameters.
  Scored refine(const std::vector<Point>& starts) const {
    Scored best;
    for (const Point& start : starts) {
      Scored s = coordinate_pass(climb(start));
      if (s.value > best.value) best = std::move(s);
    }
    return best;
  }

 private:
  std::vector<std::size_t> free_columns(const Point& x) const {
    std::vector<std::size_t> free;
    const Params active = encoder_.decode(x);
    for (std::size_t i = 0; i < encoder_.params().size(); ++i) {
      const Encoder::Block& b = encoder_.blocks()[i];
      const bool climbable =
          b.kind == Kind::Continuous || (b.kind == Kind::Ordinal && b.levels > kEnumerated);
      if (climbable && active.count(encoder_.params()[i].name())) free.push_back(b.offset);
    }
    return free;
  }

  Scored climb(const Point& start) const {
    Scored best{start, acq_.values({start})[0]};
    const std::vector<std::size_t> free = free_columns(start);
    if (free.empty()) return best;
    LBFGSpp::LBFGSBParam<double> param;
    param.max_iterations = 30;
    param.max_linesearch = 20;
    LBFGSpp::LBFGSBSolver<double> solver(param);
    LocalObjective objective(acq_, start, free);
    Eigen::VectorXd z(static_cast<Eigen::Index>(free.size()));
    for (std::size_t k = 0; k < free.size(); ++k) z(static_cast<Eigen::Index>(k)) = start[free[k]];
    const Eigen::VectorXd lower = Eigen::VectorXd::Zero(z.size());
    const Eigen::VectorXd upper = Eigen::VectorXd::Ones(z.size());
    double value = 0;
    try {
      solver.minimize(objective, z, value, lower, upper);
    } catch (const std::exception&) {
      // Line-search trouble: keep the best point evaluated.
    }
    if (objective.best().x.empty()) return best;
    Point projected = encoder_.project(objective.best().x);  // rounds the climbed integers
    const double v = acq_.values({projected})[0];
    if (v > best.value) best = {std::move(projected), v};
    return best;
  }

  /// Tries every value of each enumerable discrete parameter (neighbours for long ranges).
  Scored coordinate_pass(Scored best) const {
    for (std::size_t i = 0; i < encoder_.params().size(); ++i) {
      const Encoder::Block& b = encoder_.blocks()[i];
      if (b.kind != Kind::Ordinal && b.kind != Kind::OneHot) continue;
      std::vector<Point> tries;
      for (std::size_t level = 0; level < b.levels; ++level) {
        Point x = best.x;
        if (b.kind == Kind::OneHot) {
          std::fill_n(x.begin() + static_cast<std::ptrdiff_t>(b.offset), b.width, 0.0);
          x[b.offset + level] = 1.0;
        } else {
          const double u = (static_cast<double>(level) + 0.5) / static_cast<double>(b.levels);
          if (b.levels > kEnumerated && std::abs(u - x[b.offset]) * b.levels > 2.5) continue;
          x[b.offset] = u;
        }
        tries.push_back(encoder_.project(x));
      }
      const std::vector<double> values = acq_.values(tries);
      for (std::size_t k = 0; k < tries.size(); ++k)
        if (values[k] > best.value) best = {std::move(tries[k]), values[k]};
    }
    return best;
  }

  const Encoder& encoder_;
  const Acquisition& acq_;
};

/// Indices of the `count` largest values, best first, skipping exact duplicates.
std::vector<std::size_t> top(const std::vector<double>& values, const std::vector<Point>& points,
                             std::size_t count) {
  std::vector<std::size_t> order(values.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return values[a] > values[b]; });
  std::vector<std::size_t> out;
  for (std::size_t i : order) {
    if (out.size() == count) break;
    if (std::none_of(out.begin(), out.end(), [&](std::size_t j) { return points[j] == points[i]; }))
      out.push_back(i);
  }
  return out;
}

void require(bool ok, const std::string& rule) {
  if (!ok) throw InvalidArgument("GpSampler: " + rule);
}

}  // namespace

GpOptions gp_options_from_json(const nlohmann::json& j, std::uint64_t seed) {
  const ComponentOptions options("sampler 'gp'", j,
                                 {"seed", "n_startup", "acquisition", "beta", "max_points",
                                  "candidates", "local_searches", "fit_restarts", "warp"});
  const GpOptions d;
  return {.seed = options.count("seed", seed),
          .n_startup = options.integer("n_startup", d.n_startup, 1),
          .acquisition = options.text("acquisition", d.acquisition),
          .beta = options.real("beta", d.beta),
          .max_points = options.integer("max_points", d.max_points, 10),
          .candidates = options.integer("candidates", d.candidates, 16),
          .local_searches = options.integer("local_searches", d.local_searches, 1),
          .fit_restarts = options.integer("fit_restarts", d.fit_restarts, 1),
          .warp = options.text("warp", d.warp)};
}

GpSampler::GpSampler(GpOptions options) : options_(std::move(options)) {
  const GpOptions& o = options_;
  require(o.n_startup >= 1, "n_startup must be >= 1, got " + std::to_string(o.n_startup));
  require(o.acquisition == "ei" || o.acquisition == "ucb",
          "acquisition must be 'ei' or 'ucb', got '" + o.acquisition + "'");
  require(std::isfinite(o.beta) && o.beta >= 0,
          "beta must be a finite number >= 0, got " + std::to_string(o.beta));
  require(o.max_points >= 10, "max_points must be >= 10, got " + std::to_string(o.max_points));
  require(o.candidates >= 16, "candidates must be >= 16, got " + std::to_string(o.candidates));
  require(o.local_searches >= 1,
          "local_searches must be >= 1, got " + std::to_string(o.local_searches));
  require(o.fit_restarts >= 1, "fit_restarts must be >= 1, got " + std::to_string(o.fit_restarts));
  require(o.warp == "log" || o.warp == "none",
          "warp must be 'log' or 'none', got '" + o.warp + "'");
}

Params GpSampler::sample_relative(const Space& space, const std::vector<Trial>& history,
                                  std::int64_t number) {
  const Encoder encoder(space);
  if (encoder.dims() == 0) return {};
  Observations obs =
      observe(*this, encoder, history, number, static_cast<std::size_t>(options_.max_points));
  if (static_cast<std::int64_t>(obs.x.size()) < options_.n_startup) return {};

  const std::uint64_t n = static_cast<std::uint64_t>(number);
  const std::vector<double> y = options_.warp == "log" ? log_warp(obs.loss) : obs.loss;
  Rng fit_rng = Rng::stream(options_.seed, {n, hash_name("gp:fit")});
  const GpKernel kernel =
      fit_kernel(obs.x, y, {.restarts = static_cast<int>(options_.fit_restarts)}, fit_rng);
  const double best = *std::min_element(y.begin(), y.end());
  std::vector<Point> x = obs.x;
  std::vector<double> targets = y;
  for (Point& p : obs.pending) x.push_back(std::move(p)), targets.push_back(best);  // CL-min
  const GaussianProcess gp(x, targets, kernel);

  const Acquisition acq(gp, options_.acquisition == "ei", best, options_.beta);
  const Maximiser maximiser(encoder, acq);
  std::vector<Point> incumbents;
  std::vector<std::size_t> order(y.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return y[a] < y[b]; });
  for (std::size_t k = 0; k < std::min(kIncumbents, order.size()); ++k)
    incumbents.push_back(obs.x[order[k]]);

  Rng rng = Rng::stream(options_.seed, {n, hash_name("gp:candidates")});
  const std::vector<Point> candidates =
      maximiser.candidates(incumbents, static_cast<std::size_t>(options_.candidates), rng);
  const std::vector<double> values = acq.values(candidates);
  std::vector<Point> starts;
  for (std::size_t i : top(values, candidates, static_cast<std::size_t>(options_.local_searches)))
    starts.push_back(candidates[i]);
  const Scored chosen = maximiser.refine(starts);
  return encoder.decode(chosen.x);
}

Value GpSampler::sample_independent(const Param& param, const Params& assigned,
                                    const std::vector<Trial>& history, std::int64_t number) {
  (void)assigned, (void)history;
  Rng rng =
      Rng::stream(options_.seed, {static_cast<std::uint64_t>(number), hash_name(param.name()), 0});
  return param.from_unit(rng.uniform());
}

}  // namespace quarry::samplers
