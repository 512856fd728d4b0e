#include "quarry/samplers/parzen.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <utility>

#include "quarry/core/error.hpp"

namespace quarry::samplers {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kLogSqrt2Pi = 0.91893853320467274178;  // log(sqrt(2 pi))
constexpr double kSqrt1_2 = 0.70710678118654752440;
constexpr int kMaxRejections = 64;  // truncated-normal redraws before falling back to uniform

/// P(za <= Z < zb) for a standard normal Z, accurate in both tails.
double normal_mass(double za, double zb) {
  if (za >= 0) return 0.5 * (std::erfc(za * kSqrt1_2) - std::erfc(zb * kSqrt1_2));
  return 0.5 * (std::erfc(-zb * kSqrt1_2) - std::erfc(-za * kSqrt1_2));
}

std::size_t slice_of(double u, std::size_t n) {
  const double i = std::floor(std::clamp(u, 0.0, 1.0) * static_cast<double>(n));
  return std::min(static_cast<std::size_t>(std::max(i, 0.0)), n - 1);
}

double centre_of(std::size_t i, std::size_t n) {
  return (static_cast<double>(i) + 0.5) / static_cast<double>(n);
}

}  // namespace

ParzenDim ParzenDim::of(const space::Param& param) {
  using space::ParamKind;
  // The number of equal slices, as Param counts them (without listing every value).
  const auto slices = [&] {
    return static_cast<std::size_t>(
               std::floor((param.high() - param.low()) / param.step().value_or(1.0) + 1e-9)) +
           1;
  };
  switch (param.kind()) {
    case ParamKind::Choice:
      if (param.ordered()) return {.cells = param.choices().size()};
      return {.choices = param.choices().size()};
    case ParamKind::Boolean:
      return {.choices = 2};
    case ParamKind::Int:
      return {.cells = param.log() ? 0 : slices()};
    case ParamKind::Float:
      return {.cells = param.step() ? slices() : 0};
    case ParamKind::Fixed:
      return {.choices = 1};
  }
  return {};
}

ParzenEstimator::ParzenEstimator(std::vector<ParzenDim> dims,
                                 const std::vector<std::vector<double>>& points,
                                 std::vector<double> weights, ParzenOptions options)
    : dims_(std::move(dims)) {
  const std::size_t n = points.size(), d = dims_.size();
  const bool prior = options.prior_weight > 0;
  if (weights.empty()) weights.assign(n, 1.0);
  if (weights.size() != n || n + (prior ? 1 : 0) == 0 || !(options.prior_weight >= 0))
    throw InvalidArgument(
        "ParzenEstimator: needs one weight per point and a point or a prior, got " +
        std::to_string(n) + " points, " + std::to_string(weights.size()) +
        " weights, prior_weight " + std::to_string(options.prior_weight));
  for (const auto& p : points)
    if (p.size() != d)
      throw InvalidArgument("ParzenEstimator: every point needs " + std::to_string(d) +
                            " coordinates, got " + std::to_string(p.size()));
  const std::size_t kernels = n + (prior ? 1 : 0);
  mu_.assign(kernels * d, kNaN);
  for (std::size_t k = 0; k < n; ++k)
    std::copy(points[k].begin(), points[k].end(), mu_.begin() + static_cast<std::ptrdiff_t>(k * d));
  if (prior)
    for (std::size_t j = 0; j < d; ++j) mu_[n * d + j] = dims_[j].choices ? kNaN : 0.5;
  if (prior) weights.push_back(options.prior_weight);
  categorical_smoothing_ = options.prior_weight / static_cast<double>(kernels);
  fit_bandwidths(points, options);

  const double total = std::accumulate(weights.begin(), weights.end(), 0.0);
  double running = 0;
  for (double w : weights) {
    log_weights_.push_back(std::log(w / total));
    cumulative_.push_back(running += w / total);
  }
  log_norm_.assign(kernels * d, 0.0);
  for (std::size_t i = 0; i < kernels * d; ++i)
    if (!dims_[i % d].choices && !std::isnan(mu_[i]))
      log_norm_[i] = std::log(normal_mass(-mu_[i] / sigma_[i], (1 - mu_[i]) / sigma_[i]));
}

void ParzenEstimator::fit_bandwidths(const std::vector<std::vector<double>>& points,
                                     const ParzenOptions& o) {
  const std::size_t n = points.size(), d = dims_.size();
  const std::size_t kernels = n + (o.prior_weight > 0 ? 1 : 0);
  const double lo =
      o.magic_clip ? 1.0 / std::min(100.0, static_cast<double>(kernels) + 1.0) : o.min_bandwidth;
  sigma_.assign(kernels * d, 1.0);  // the prior's bandwidth is the whole interval
  for (std::size_t j = 0; j < d; ++j) {
    if (dims_[j].choices) continue;
    std::vector<std::pair<double, std::size_t>> seen;  // (coordinate, point)
    for (std::size_t k = 0; k < n; ++k)
      if (!std::isnan(points[k][j])) seen.emplace_back(points[k][j], k);
    if (o.bandwidth == Bandwidth::Scott) {
      double mean = 0, var = 0;
      for (const auto& [x, k] : seen) mean += x / static_cast<double>(seen.size());
      for (const auto& [x, k] : seen)
        var += (x - mean) * (x - mean) / static_cast<double>(seen.size());
      const double scott = 1.06 * std::sqrt(var) *
                           std::pow(static_cast<double>(std::max<std::size_t>(seen.size(), 1)),
                                    -1.0 / (static_cast<double>(d) + 4.0));
      for (const auto& [x, k] : seen) sigma_[k * d + j] = std::clamp(scott, lo, 1.0);
      continue;
    }
    // Neighbours: the prior's centre takes part (Optuna), 0 and 1 close the ends.
    seen.emplace_back(0.5, n);
    std::sort(seen.begin(), seen.end());
    const std::size_t m = seen.size();
    for (std::size_t i = 0; i < m; ++i) {
      const double left = seen[i].first - (i == 0 ? 0.0 : seen[i - 1].first);
      const double right = (i + 1 == m ? 1.0 : seen[i + 1].first) - seen[i].first;
      double s = std::max(left, right);
      if (m >= 2 && i == 0) s = right;  // the end points do not widen the outer kernels
      if (m >= 2 && i + 1 == m) s = left;
      if (seen[i].second < n) sigma_[seen[i].second * d + j] = std::clamp(s, lo, 1.0);
    }
  }
}

double ParzenEstimator::log_kernel(std::size_t k, std::size_t d, double x) const {
  const ParzenDim& dim = dims_[d];
  const double mu = mu_[k * dims() + d];
  if (dim.choices) {
    const auto c = static_cast<double>(dim.choices);
    if (std::isnan(mu)) return -std::log(c);
    const double s = categorical_smoothing_;
    const bool own = slice_of(x, dim.choices) == slice_of(mu, dim.choices);
    return std::log(((own ? 1.0 : 0.0) + s) / (1.0 + c * s));
  }
  if (std::isnan(mu)) return dim.cells ? -std::log(static_cast<double>(dim.cells)) : 0.0;
  const double sigma = sigma_[k * dims() + d], norm = log_norm_[k * dims() + d];
  if (dim.cells) {
    const std::size_t i = slice_of(x, dim.cells);
    const auto c = static_cast<double>(dim.cells);
    const double mass = normal_mass((static_cast<double>(i) / c - mu) / sigma,
                                    (static_cast<double>(i + 1) / c - mu) / sigma);
    if (mass > 1e-300) return std::log(mass) - norm;
    x = centre_of(i, dim.cells);  // far tail: the density at the centre times the slice width
    const double z = (x - mu) / sigma;
    return -0.5 * z * z - kLogSqrt2Pi - std::log(sigma) - norm - std::log(c);
  }
  const double z = (x - mu) / sigma;
  return -0.5 * z * z - kLogSqrt2Pi - std::log(sigma) - norm;
}

double ParzenEstimator::draw(std::size_t k, std::size_t d, double factor, Rng& rng) const {
  const ParzenDim& dim = dims_[d];
  const double mu = mu_[k * dims() + d];
  if (dim.choices) {
    if (std::isnan(mu)) return centre_of(rng.below(dim.choices), dim.choices);
    const double s = categorical_smoothing_,
                 u = rng.uniform() * (1.0 + static_cast<double>(dim.choices) * s);
    if (u < 1.0) return centre_of(slice_of(mu, dim.choices), dim.choices);
    return centre_of(std::min(static_cast<std::size_t>((u - 1.0) / s), dim.choices - 1),
                     dim.choices);
  }
  double x = kNaN;
  if (!std::isnan(mu)) {
    const double sigma = sigma_[k * dims() + d] * factor;
    for (int attempt = 0; attempt < kMaxRejections && std::isnan(x); ++attempt) {
      const double y = mu + sigma * rng.normal();
      if (y >= 0.0 && y < 1.0) x = y;
    }
  }
  if (std::isnan(x)) x = rng.uniform();
  return dim.cells ? centre_of(slice_of(x, dim.cells), dim.cells) : x;
}

std::vector<double> ParzenEstimator::sample(Rng& rng, double bandwidth_factor) const {
  const double u = rng.uniform();
  const auto it = std::upper_bound(cumulative_.begin(), cumulative_.end(), u);
  const std::size_t k =
      std::min<std::size_t>(static_cast<std::size_t>(it - cumulative_.begin()), size() - 1);
  std::vector<double> x(dims());
  for (std::size_t d = 0; d < dims(); ++d) x[d] = draw(k, d, bandwidth_factor, rng);
  return x;
}

double ParzenEstimator::log_pdf(std::span<const double> x) const {
  double best = -std::numeric_limits<double>::infinity();
  std::vector<double> terms(size());
  for (std::size_t k = 0; k < size(); ++k) {
    double t = log_weights_[k];
    for (std::size_t d = 0; d < dims(); ++d)
      if (!std::isnan(x[d])) t += log_kernel(k, d, x[d]);
    terms[k] = t;
    best = std::max(best, t);
  }
  if (!std::isfinite(best)) return best;
  double sum = 0;
  for (double t : terms) sum += std::exp(t - best);
  return best + std::log(sum);
}

}  // namespace quarry::samplers
