#include "quarry/samplers/gp_acquisition.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>

#include <LBFGSB.h>
#include <Eigen/Core>

namespace quarry::samplers {

namespace {

using Point = std::vector<double>;
using Kind = Encoder::Kind;

/// Ordinal parameters with more values than this are climbed as continuous columns (and rounded),
/// the others enumerated value by value.
constexpr std::size_t kEnumerated = 16;

struct Scored {
  Point x;
  double value = -std::numeric_limits<double>::infinity();
};

/// -acquisition over the free columns of `start`, for L-BFGS-B; remembers the best point seen.
class LocalObjective {
 public:
  LocalObjective(const GpAcquisition& acq, Point start, const std::vector<std::size_t>& free)
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
  const GpAcquisition& acq_;
  Point x_;
  const std::vector<std::size_t>& free_;
  Point grad_;
  Scored best_;
};

class Maximiser {
 public:
  Maximiser(const Encoder& encoder, const GpAcquisition& acq) : encoder_(encoder), acq_(acq) {}

  /// Candidates: half uniform, half perturbations of the incumbents (best first).
  std::vector<Point> candidates(const std::vector<Point>& incumbents, std::size_t count,
                                Rng& rng) const {
    std::vector<Point> out;
    for (std::size_t c = 0; c < count; ++c) {
      Point x(encoder_.dims());
      if (c % 2 == 0 || incumbents.empty()) {
        for (double& v : x) v = rng.uniform();
      } else {
        x = c % 4 == 1 && incumbents.size() >= 3
                ? differential(incumbents, rng)
                : perturbed(incumbents[rng.below(incumbents.size())], rng);
      }
      out.push_back(encoder_.project(x));
    }
    return out;
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
  /// An incumbent with about two coordinates (at least one) moved by N(0, sd^2), sd one of
  /// 0.01, 0.05, 0.2: a local move that keeps the coordinates the model is unsure about. A move
  /// past a bound is reflected back into the cube (clamped it would leave half the moves of a
  /// coordinate on its bound exactly where it was).
  static Point perturbed(Point x, Rng& rng) {
    const double sd = std::array{0.01, 0.05, 0.2}[rng.below(3)];
    const double p = std::min(1.0, 2.0 / static_cast<double>(x.size()));
    const std::size_t forced = rng.below(x.size());
    for (std::size_t j = 0; j < x.size(); ++j)
      if (j == forced || rng.uniform() < p) x[j] = reflected(x[j] + sd * rng.normal());
    return x;
  }

  /// The best incumbent moved by F (a - b), a and b incumbents drawn independently, F ~ U(-1,
  /// 1.5), reflected into the cube: differential evolution's mutation (Storn & Price 1997). The
  /// best trials lie along the valleys of the loss, so their differences point along a valley: a
  /// move of many coordinates at once that no perturbation of one or two makes. (a == b gives the
  /// best incumbent itself; tried with a != b forced: no better over 120 seeds of Rosenbrock-10D.)
  static Point differential(const std::vector<Point>& incumbents, Rng& rng) {
    const std::size_t a = rng.below(incumbents.size()), b = rng.below(incumbents.size());
    const double f = rng.uniform(-1.0, 1.5);
    Point x = incumbents[0];
    for (std::size_t j = 0; j < x.size(); ++j)
      x[j] = reflected(x[j] + f * (incumbents[a][j] - incumbents[b][j]));
    return x;
  }

  /// v folded back into [0, 1] at its bounds (once; what is still outside is clamped).
  static double reflected(double v) {
    if (v < 0) v = -v;
    if (v > 1) v = 2 - v;
    return std::clamp(v, 0.0, 1.0);
  }

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
    for (std::size_t i = 0; i < encoder_.blocks().size(); ++i) {
      const Encoder::Block& b = encoder_.blocks()[i];
      if (b.kind != Kind::Ordinal && b.kind != Kind::OneHot) continue;
      std::vector<Point> tries = b.kind == Kind::OneHot || b.levels <= kEnumerated
                                     ? every_value(best.x, i)
                                     : neighbours(best.x, b);
      const std::vector<double> values = acq_.values(tries);
      for (std::size_t k = 0; k < tries.size(); ++k)
        if (values[k] > best.value) best = {std::move(tries[k]), values[k]};
    }
    return best;
  }

  /// x with parameter i set to each of its values in turn, projected.
  std::vector<Point> every_value(const Point& x, std::size_t i) const {
    std::vector<Point> tries;
    for (const Value& v : encoder_.params()[i].discrete_values()) {
      Point y = x;
      encoder_.set(y, i, v);
      tries.push_back(encoder_.project(y));
    }
    return tries;
  }

  /// x with the column of a long ordinal range moved to each slice centre within 2.5 slices of
  /// its own, projected; only that window is visited, so 10^9 integers cost no more than 100.
  std::vector<Point> neighbours(const Point& x, const Encoder::Block& b) const {
    const double levels = static_cast<double>(b.levels), at = x[b.offset] * levels;
    const auto first = static_cast<std::size_t>(std::clamp(std::floor(at) - 4, 0.0, levels));
    const auto last = static_cast<std::size_t>(std::clamp(std::ceil(at) + 4, 0.0, levels));
    std::vector<Point> tries;
    for (std::size_t level = first; level < last; ++level) {
      const double u = (static_cast<double>(level) + 0.5) / levels;
      if (std::abs(u - x[b.offset]) * levels > 2.5) continue;
      Point y = x;
      y[b.offset] = u;
      tries.push_back(encoder_.project(y));
    }
    return tries;
  }

  const Encoder& encoder_;
  const GpAcquisition& acq_;
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

}  // namespace

std::vector<double> GpAcquisition::values(const std::vector<std::vector<double>>& points) const {
  std::vector<double> out;
  for (const GpPrediction& p : gp_.predict(points)) out.push_back(at(p).value);
  return out;
}

double GpAcquisition::value_and_gradient(std::span<const double> x, std::span<double> grad) const {
  std::vector<double> d_mean(x.size()), d_var(x.size());
  const GpPrediction p = gp_.predict(x, d_mean, d_var);
  const AcquisitionValue a = at(p);
  const double sd = std::sqrt(p.variance);
  for (std::size_t j = 0; j < x.size(); ++j)
    grad[j] = a.d_mean * d_mean[j] + a.d_sd * d_var[j] / (2.0 * sd);
  return a.value;
}

AcquisitionValue GpAcquisition::at(const GpPrediction& p) const {
  const double sd = std::sqrt(p.variance);
  return ei_ ? log_expected_improvement(p.mean, sd, best_)
             : lower_confidence_bound(p.mean, sd, beta_);
}

std::vector<double> maximise_acquisition(const Encoder& encoder, const GpAcquisition& acq,
                                         const std::vector<std::vector<double>>& incumbents,
                                         AcquisitionSearch search, Rng& rng) {
  const Maximiser maximiser(encoder, acq);
  const std::vector<Point> candidates = maximiser.candidates(incumbents, search.candidates, rng);
  const std::vector<double> values = acq.values(candidates);
  std::vector<Point> starts;
  for (std::size_t i : top(values, candidates, search.local_searches))
    starts.push_back(candidates[i]);
  return maximiser.refine(starts).x;
}

}  // namespace quarry::samplers
