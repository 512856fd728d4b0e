#include "quarry/pruners/curve_models.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include <Eigen/Dense>

#include "quarry/core/error.hpp"

namespace quarry::pruners {

namespace {

using Eigen::MatrixXd;
using Eigen::VectorXd;

constexpr double kWildRanges = 4.0;    // predictions beyond this many ranges are dropped
constexpr double kMinMse = 1e-4;       // floor of the noise variance: (1% of the observed range)^2
constexpr double kPriorLinearSd = 10;  // weak Gaussian priors of the Laplace approximation
constexpr double kPriorRateSd = 2;     // ... on the log rates and exponents
constexpr int kStarts = 3;             // grid points refined by Levenberg-Marquardt
constexpr int kMaxIterations = 100;

std::string format_number(double x) {
  std::ostringstream out;
  out << x;
  return out.str();
}

/// A family c + A phi(eta; u, t): u = t / t_last is the scaled step, eta the rates and exponents.
struct Shape {
  const char* name;
  double (*phi)(const double* eta, double u, double t);
  std::vector<std::vector<double>> grids;  // starting values of each eta
};

std::vector<double> log_grid(double lo, double hi, int n) {
  std::vector<double> out;
  for (int i = 0; i < n; ++i)
    out.push_back(std::log(lo) + (std::log(hi) - std::log(lo)) * i / (n - 1));
  return out;
}

const std::vector<Shape>& shapes() {
  static const std::vector<double> rates = log_grid(0.1, 30, 10), powers = log_grid(0.1, 4, 10);
  static const std::vector<Shape> all = {
      {"ilog2", [](const double*, double, double t) { return 1.0 / std::log(t + 1.0); }, {}},
      {"pow3",
       [](const double* e, double u, double) { return std::pow(u, -std::exp(e[0])); },
       {log_grid(0.05, 4, 16)}},
      {"exp3",
       [](const double* e, double u, double) { return std::exp(-std::exp(e[0]) * u); },
       {log_grid(0.1, 30, 16)}},
      {"pow4",
       [](const double* e, double u, double) {
         return std::pow(u + std::exp(e[1]), -std::exp(e[0]));
       },
       {powers, log_grid(0.01, 10, 10)}},
      {"exp4",
       [](const double* e, double u, double) {
         return std::exp(-std::exp(e[0]) * std::pow(u, std::exp(e[1])));
       },
       {rates, powers}},
      {"mmf",
       [](const double* e, double u, double) {
         return 1.0 / (1.0 + std::pow(std::exp(e[0]) * u, std::exp(e[1])));
       },
       {rates, powers}},
      {"vapor_pressure",
       [](const double* e, double u, double) { return std::exp(e[0] * std::log(u) + e[1] / u); },
       {{-2, -1, -0.5, -0.25, -0.1, 0, 0.1, 0.25, 0.5},
        {-2, -1, -0.5, -0.25, -0.1, -0.05, 0.05, 0.1, 0.25, 0.5, 1}}},
  };
  return all;
}

/// The points in fitting units: scaled steps u, raw steps t, values z in [0, 1].
struct Data {
  std::vector<double> u, t, z;
  double lo = 0, span = 1, u_target = 1, t_target = 1;
};

struct Fit {
  VectorXd theta;  // c, A, eta...
  double rss = std::numeric_limits<double>::infinity();
};

double model(const Shape& s, const VectorXd& theta, double u, double t) {
  return theta(0) + theta(1) * s.phi(theta.data() + 2, u, t);
}

double rss_of(const Shape& s, const VectorXd& theta, const Data& d) {
  double rss = 0;
  for (std::size_t i = 0; i < d.z.size(); ++i) {
    const double r = model(s, theta, d.u[i], d.t[i]) - d.z[i];
    rss += r * r;
  }
  return std::isfinite(rss) ? rss : std::numeric_limits<double>::infinity();
}

/// d model(u, t) / d theta: exact for c and A, central differences for eta.
VectorXd gradient(const Shape& s, const VectorXd& theta, double u, double t) {
  VectorXd g(theta.size());
  g(0) = 1.0;
  g(1) = s.phi(theta.data() + 2, u, t);
  for (Eigen::Index j = 2; j < theta.size(); ++j) {
    const double h = 1e-6 * (1.0 + std::abs(theta(j)));
    VectorXd hi = theta, lo = theta;
    hi(j) += h, lo(j) -= h;
    g(j) = (model(s, hi, u, t) - model(s, lo, u, t)) / (2 * h);
  }
  return g;
}

MatrixXd jacobian(const Shape& s, const VectorXd& theta, const Data& d) {
  MatrixXd j(static_cast<Eigen::Index>(d.z.size()), theta.size());
  for (std::size_t i = 0; i < d.z.size(); ++i)
    j.row(static_cast<Eigen::Index>(i)) = gradient(s, theta, d.u[i], d.t[i]).transpose();
  return j;
}

/// c and A by least squares for fixed eta; rss infinite when phi is (nearly) constant.
Fit linear_fit(const Shape& s, const std::vector<double>& eta, const Data& d) {
  const auto n = static_cast<double>(d.z.size());
  std::vector<double> phi;
  double mp = 0, mz = 0;
  for (std::size_t i = 0; i < d.z.size(); ++i) {
    phi.push_back(s.phi(eta.data(), d.u[i], d.t[i]));
    mp += phi.back() / n, mz += d.z[i] / n;
  }
  double spp = 0, spz = 0;
  for (std::size_t i = 0; i < phi.size(); ++i)
    spp += (phi[i] - mp) * (phi[i] - mp), spz += (phi[i] - mp) * (d.z[i] - mz);
  Fit fit;
  if (!(spp > 1e-14) || !std::isfinite(spp)) return fit;
  fit.theta.resize(static_cast<Eigen::Index>(2 + eta.size()));
  fit.theta(1) = spz / spp;
  fit.theta(0) = mz - fit.theta(1) * mp;
  for (std::size_t j = 0; j < eta.size(); ++j) fit.theta(static_cast<Eigen::Index>(2 + j)) = eta[j];
  fit.rss = rss_of(s, fit.theta, d);
  return fit;
}

/// The grid's fits, best first.
std::vector<Fit> grid_fits(const Shape& s, const Data& d) {
  std::vector<Fit> fits;
  std::vector<std::size_t> at(s.grids.size(), 0);
  for (;;) {
    std::vector<double> eta;
    for (std::size_t j = 0; j < at.size(); ++j) eta.push_back(s.grids[j][at[j]]);
    if (Fit f = linear_fit(s, eta, d); std::isfinite(f.rss)) fits.push_back(std::move(f));
    std::size_t j = 0;
    while (j < at.size() && ++at[j] == s.grids[j].size()) at[j++] = 0;
    if (j == at.size()) break;
  }
  std::sort(fits.begin(), fits.end(), [](const Fit& a, const Fit& b) { return a.rss < b.rss; });
  return fits;
}

Fit levenberg_marquardt(const Shape& s, Fit fit, const Data& d) {
  double lambda = 1e-3;
  for (int iter = 0; iter < kMaxIterations && fit.rss > 0; ++iter) {
    const MatrixXd j = jacobian(s, fit.theta, d);
    VectorXd r(j.rows());
    for (Eigen::Index i = 0; i < r.size(); ++i)
      r(i) = model(s, fit.theta, d.u[std::size_t(i)], d.t[std::size_t(i)]) - d.z[std::size_t(i)];
    const MatrixXd h = j.transpose() * j;
    const VectorXd g = j.transpose() * r;
    bool improved = false;
    while (!improved && lambda < 1e10) {
      MatrixXd damped = h;
      damped.diagonal() += lambda * (h.diagonal().array() + 1e-9).matrix();
      const VectorXd candidate = fit.theta - damped.ldlt().solve(g);
      const double rss = rss_of(s, candidate, d);
      if (rss < fit.rss) {
        const bool converged = fit.rss - rss <= 1e-12 * fit.rss;
        fit = {candidate, rss};
        lambda = std::max(lambda / 3, 1e-12);
        improved = true;
        if (converged) return fit;
      } else {
        lambda *= 4;
      }
    }
    if (!improved) break;
  }
  return fit;
}

/// Laplace approximation of the prediction's variance from the parameters, in z units.
double parameter_variance(const Shape& s, const Fit& fit, const Data& d, double noise) {
  const MatrixXd j = jacobian(s, fit.theta, d);
  MatrixXd precision = j.transpose() * j / noise;
  for (Eigen::Index k = 0; k < precision.rows(); ++k)
    precision(k, k) += 1.0 / std::pow(k < 2 ? kPriorLinearSd : kPriorRateSd, 2);
  const VectorXd g = gradient(s, fit.theta, d.u_target, d.t_target);
  return g.dot(precision.ldlt().solve(g));
}

/// Points a family of k parameters needs: 4, and two more than k from four parameters on (with one
/// spare point the four-parameter fits chase the noise: measured, see curve_models.hpp).
std::size_t min_points(std::size_t k) {
  return std::max<std::size_t>(4, 2 * k - 2);
}

std::optional<FamilyFit> fit_shape(const Shape& s, const Data& d) {
  const auto n = d.z.size();
  const std::size_t k = 2 + s.grids.size();
  if (n < min_points(k)) return std::nullopt;
  const std::vector<Fit> starts = grid_fits(s, d);
  Fit best;
  for (std::size_t i = 0; i < starts.size() && i < std::size_t(kStarts); ++i) {
    Fit f = levenberg_marquardt(s, starts[i], d);
    if (f.rss < best.rss) best = std::move(f);
  }
  if (!std::isfinite(best.rss)) return std::nullopt;
  const double mean = model(s, best.theta, d.u_target, d.t_target);
  const double noise = std::max(best.rss / double(n - k), kMinMse);
  const double variance = parameter_variance(s, best, d, noise) + noise;
  if (!std::isfinite(mean) || !std::isfinite(variance) || variance < 0) return std::nullopt;
  if (mean < -kWildRanges || mean > 1 + kWildRanges) return std::nullopt;
  return FamilyFit{.family = s.name,
                   .mean = d.lo + d.span * mean,
                   .stddev = d.span * std::sqrt(variance),
                   .rss = best.rss * d.span * d.span,
                   .weight = 0,
                   .parameters = static_cast<int>(k)};
}

Data prepare(std::vector<std::pair<double, double>> points, double target_step) {
  if (!(target_step >= 1))
    throw InvalidArgument("extrapolate: target_step >= 1 must hold, got " +
                          format_number(target_step));
  std::sort(points.begin(), points.end());
  Data d;
  for (std::size_t i = 0; i < points.size(); ++i) {
    const auto [step, value] = points[i];
    if (!(step >= 1) || !std::isfinite(step))
      throw InvalidArgument("extrapolate: every step >= 1 must hold, got " + format_number(step));
    if (i > 0 && step == points[i - 1].first)
      throw InvalidArgument("extrapolate: step " + format_number(step) + " appears twice");
    if (!std::isfinite(value))
      throw InvalidArgument("extrapolate: values must be finite, got " + format_number(value) +
                            " at step " + format_number(step));
    d.t.push_back(step);
    d.z.push_back(value);
  }
  if (points.empty()) return d;
  const auto [lo, hi] = std::minmax_element(d.z.begin(), d.z.end());
  d.lo = *lo;
  d.span = *hi - *lo;
  const double scale = d.span > 0 ? d.span : 1.0;
  for (double& z : d.z) z = (z - d.lo) / scale;
  for (double t : d.t) d.u.push_back(t / d.t.back());
  d.t_target = target_step;
  d.u_target = target_step / d.t.back();
  return d;
}

bool is_flat(const Data& d) {
  return d.span <= 1e-12 * std::max(1.0, std::abs(d.lo));
}

std::vector<FamilyFit> fit_all(const Data& d) {
  std::vector<FamilyFit> fits;
  if (is_flat(d)) return fits;
  for (const Shape& s : shapes())
    if (auto f = fit_shape(s, d)) fits.push_back(std::move(*f));
  const auto n = static_cast<double>(d.z.size());
  std::vector<double> bic;
  for (const auto& f : fits) {
    const double mse = std::max(f.rss / (d.span * d.span) / n, kMinMse);
    bic.push_back(n * std::log(mse) + f.parameters * std::log(n));
  }
  if (fits.empty()) return fits;
  const double best = *std::min_element(bic.begin(), bic.end());
  double total = 0;
  for (std::size_t i = 0; i < fits.size(); ++i)
    total += fits[i].weight = std::exp(-(bic[i] - best) / 2);
  for (auto& f : fits) f.weight /= total;
  return fits;
}

}  // namespace

const std::vector<std::string>& curve_families() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const Shape& s : shapes()) out.emplace_back(s.name);
    return out;
  }();
  return names;
}

std::vector<FamilyFit> fit_families(const std::vector<std::pair<double, double>>& points,
                                    double target_step) {
  return fit_all(prepare(points, target_step));
}

std::optional<FamilyFit> fit_family(const std::string& family,
                                    const std::vector<std::pair<double, double>>& points,
                                    double target_step) {
  const Data d = prepare(points, target_step);
  for (const Shape& s : shapes())
    if (family == s.name) return is_flat(d) ? std::nullopt : fit_shape(s, d);
  std::string known;
  for (const auto& name : curve_families()) known += (known.empty() ? "" : ", ") + name;
  throw InvalidArgument("fit_family: unknown family '" + family + "' (known: " + known + ")");
}

std::optional<CurvePrediction> extrapolate(const std::vector<std::pair<double, double>>& points,
                                           double target_step) {
  const Data d = prepare(points, target_step);
  if (d.z.size() < 4) return std::nullopt;
  if (is_flat(d)) return CurvePrediction{.mean = d.lo, .stddev = 0, .families = 0};
  const std::vector<FamilyFit> fits = fit_all(d);
  if (fits.empty()) return std::nullopt;
  double mean = 0, variance = 0;
  for (const auto& f : fits) mean += f.weight * f.mean;
  for (const auto& f : fits)
    variance += f.weight * (f.stddev * f.stddev + (f.mean - mean) * (f.mean - mean));
  return CurvePrediction{
      .mean = mean, .stddev = std::sqrt(variance), .families = static_cast<int>(fits.size())};
}

}  // namespace quarry::pruners
