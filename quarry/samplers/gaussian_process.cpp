#include "quarry/samplers/gaussian_process.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <stdexcept>

#include <LBFGSB.h>
#include <Eigen/Dense>

#include "quarry/core/error.hpp"

namespace quarry::samplers {

namespace {

using Eigen::MatrixXd;
using Eigen::VectorXd;

constexpr double kSqrt5 = 2.23606797749979;
constexpr double kJitter = 1e-8;
constexpr double kMinVariance = 1e-12;
constexpr double kLog2Pi = 1.8378770664093453;
/// Variance of the log-normal length-scale prior: 3, as in Hvarfner et al. 2024.
constexpr double kPriorVariance = 3.0;

/// Matérn 5/2 at scaled distance r.
double matern(double r, double s2) {
  const double a = kSqrt5 * r;
  return s2 * (1.0 + a + a * a / 3.0) * std::exp(-a);
}

/// -(dk/dr) / r: dk/dx_j = -g (x_j - x'_j) / l_j^2, finite at r = 0.
double matern_g(double r, double s2) {
  const double a = kSqrt5 * r;
  return s2 * (5.0 / 3.0) * (1.0 + a) * std::exp(-a);
}

MatrixXd to_matrix(const std::vector<std::vector<double>>& rows) {
  if (rows.empty()) throw InvalidArgument("GaussianProcess: no training points; need at least 1");
  MatrixXd m(static_cast<Eigen::Index>(rows.size()), static_cast<Eigen::Index>(rows[0].size()));
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (rows[i].size() != rows[0].size())
      throw InvalidArgument("GaussianProcess: row " + std::to_string(i) + " has " +
                            std::to_string(rows[i].size()) + " values; every row needs " +
                            std::to_string(rows[0].size()));
    for (std::size_t j = 0; j < rows[i].size(); ++j)
      m(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) = rows[i][j];
  }
  return m;
}

/// Targets standardised to mean 0 and sd 1 (sd 1 when they are all equal).
struct Standardised {
  VectorXd y;
  double mean = 0, scale = 1;
};

Standardised standardise(const std::vector<double>& y) {
  Standardised s;
  s.y = Eigen::Map<const VectorXd>(y.data(), static_cast<Eigen::Index>(y.size()));
  s.mean = s.y.mean();
  const double var = (s.y.array() - s.mean).square().mean();
  s.scale = var > 1e-300 ? std::sqrt(var) : 1.0;
  s.y = (s.y.array() - s.mean) / s.scale;
  return s;
}

/// K^-1 (y - mean) for the constant mean that maximises the likelihood of y given K (generalised
/// least squares: mean = 1' K^-1 y / 1' K^-1 1; see the header), and that mean.
struct CentredSolve {
  VectorXd alpha;
  double mean = 0;
};

CentredSolve solve_with_fitted_mean(const Eigen::LLT<MatrixXd>& llt, const VectorXd& y) {
  const VectorXd ones = llt.solve(VectorXd::Ones(y.size()));
  CentredSolve out{llt.solve(y), 0.0};
  out.mean = out.alpha.sum() / ones.sum();  // K is symmetric: 1' K^-1 y = sum(K^-1 y)
  out.alpha -= out.mean * ones;
  return out;
}

/// Pairwise scaled distances of the rows of x (divided column-wise by the length scales).
MatrixXd distances(const MatrixXd& scaled) {
  const Eigen::Index n = scaled.rows();
  MatrixXd r(n, n);
  for (Eigen::Index a = 0; a < n; ++a) {
    r(a, a) = 0;
    for (Eigen::Index b = a + 1; b < n; ++b)
      r(a, b) = r(b, a) = (scaled.row(a) - scaled.row(b)).norm();
  }
  return r;
}

MatrixXd scale_columns(const MatrixXd& x, const std::vector<double>& length_scales) {
  MatrixXd scaled = x;
  for (Eigen::Index j = 0; j < x.cols(); ++j)
    scaled.col(j) /= length_scales[static_cast<std::size_t>(j)];
  return scaled;
}

/// The prior's mean of log l in d dimensions: longer scales in more dimensions (Hvarfner et al.).
double length_scale_prior_mean(Eigen::Index d) {
  return std::sqrt(2.0) - 2.0 + 0.5 * std::log(static_cast<double>(d));
}

/// -log marginal likelihood / n and its gradient in log-space hyperparameters, for L-BFGS-B:
/// theta = (log l_1..l_d, log s2, log noise), without the last when the noise is fixed.
class NegativeLml {
 public:
  NegativeLml(const MatrixXd& x, const VectorXd& y, std::optional<double> fixed_noise)
      : x_(x), y_(y), fixed_noise_(fixed_noise) {}

  double operator()(const VectorXd& theta, VectorXd& grad) {
    const Eigen::Index n = x_.rows(), d = x_.cols();
    std::vector<double> l(static_cast<std::size_t>(d));
    for (Eigen::Index j = 0; j < d; ++j) l[static_cast<std::size_t>(j)] = std::exp(theta(j));
    const double s2 = std::exp(theta(d));
    const double noise = fixed_noise_ ? *fixed_noise_ : std::exp(theta(d + 1));
    const MatrixXd scaled = scale_columns(x_, l);
    const MatrixXd r = distances(scaled);
    MatrixXd k = r.unaryExpr([s2](double v) { return matern(v, s2); });
    k.diagonal().array() += noise + kJitter;
    const Eigen::LLT<MatrixXd> llt(k);
    if (llt.info() != Eigen::Success) {
      grad.setZero();
      return std::numeric_limits<double>::max() / 4;
    }
    // The mean profiled out: at its optimum the likelihood's gradient in theta is the one below
    // with alpha = K^-1 (y - mean).
    const auto [alpha, mean] = solve_with_fitted_mean(llt, y_);
    const double log_det = 2.0 * llt.matrixLLT().diagonal().array().log().sum();
    const double nll = 0.5 * (y_.array() - mean).matrix().dot(alpha) + 0.5 * log_det +
                       0.5 * static_cast<double>(n) * kLog2Pi;
    // W = alpha alpha^T - K^-1; d(-lml)/d theta = -0.5 tr(W dK/d theta).
    MatrixXd w = -llt.solve(MatrixXd::Identity(n, n));
    w.noalias() += alpha * alpha.transpose();
    grad.setZero();
    for (Eigen::Index a = 0; a < n; ++a)
      for (Eigen::Index b = a + 1; b < n; ++b) {
        const double g = 2.0 * w(a, b) * matern_g(r(a, b), s2);  // both triangles
        for (Eigen::Index j = 0; j < d; ++j) {
          const double diff = scaled(a, j) - scaled(b, j);
          grad(j) -= 0.5 * g * diff * diff;
        }
      }
    grad(d) =
        -0.5 *
        (w.array() * (k.array() - (noise + kJitter) * MatrixXd::Identity(n, n).array())).sum();
    if (!fixed_noise_) grad(d + 1) = -0.5 * noise * w.trace();
    // Log-normal prior on each length scale: MAP rather than ML (see the header).
    double prior = 0;
    const double mu = length_scale_prior_mean(d);
    for (Eigen::Index j = 0; j < d; ++j) {
      prior += 0.5 * (theta(j) - mu) * (theta(j) - mu) / kPriorVariance;
      grad(j) += (theta(j) - mu) / kPriorVariance;
    }
    const double scale = 1.0 / static_cast<double>(n);
    grad *= scale;
    const double value = (nll + prior) * scale;
    if (value < best_value_) best_value_ = value, best_theta_ = theta;
    return value;
  }

  double best_value() const { return best_value_; }
  const VectorXd& best_theta() const { return best_theta_; }

 private:
  const MatrixXd& x_;
  const VectorXd& y_;
  std::optional<double> fixed_noise_;
  double best_value_ = std::numeric_limits<double>::infinity();
  VectorXd best_theta_;
};

GpKernel kernel_of(const VectorXd& theta, Eigen::Index d, std::optional<double> fixed_noise) {
  GpKernel kernel;
  for (Eigen::Index j = 0; j < d; ++j) kernel.length_scales.push_back(std::exp(theta(j)));
  kernel.signal_variance = std::exp(theta(d));
  kernel.noise_variance = fixed_noise ? *fixed_noise : std::exp(theta(d + 1));
  return kernel;
}

}  // namespace

struct GaussianProcess::Impl {
  MatrixXd x;       // n x d training inputs
  MatrixXd scaled;  // x / length scales
  Standardised y;
  GpKernel kernel;
  Eigen::LLT<MatrixXd> llt;
  VectorXd alpha;  // K^-1 y (y.y centred on the fitted mean)
  double lml = 0;

  /// k(point, x_i) for every training row, and the scaled differences when asked.
  VectorXd cross(std::span<const double> point, MatrixXd* diffs) const {
    const Eigen::Index n = x.rows(), d = x.cols();
    VectorXd k(n);
    VectorXd p(d);
    for (Eigen::Index j = 0; j < d; ++j)
      p(j) = point[static_cast<std::size_t>(j)] / kernel.length_scales[static_cast<std::size_t>(j)];
    if (diffs) diffs->resize(n, d);
    for (Eigen::Index i = 0; i < n; ++i) {
      const double r = (scaled.row(i).transpose() - p).norm();
      k(i) = matern(r, kernel.signal_variance);
      if (diffs) diffs->row(i) = p.transpose() - scaled.row(i);
    }
    return k;
  }
};

GaussianProcess::GaussianProcess(const std::vector<std::vector<double>>& x,
                                 const std::vector<double>& y, GpKernel kernel)
    : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.x = to_matrix(x);
  if (y.size() != x.size())
    throw InvalidArgument("GaussianProcess: " + std::to_string(y.size()) + " targets for " +
                          std::to_string(x.size()) + " points; one target per point");
  if (kernel.length_scales.size() != static_cast<std::size_t>(m.x.cols()))
    throw InvalidArgument("GaussianProcess: " + std::to_string(kernel.length_scales.size()) +
                          " length scales for " + std::to_string(m.x.cols()) +
                          " dimensions; one per dimension");
  m.kernel = std::move(kernel);
  m.y = standardise(y);
  m.scaled = scale_columns(m.x, m.kernel.length_scales);
  const double s2 = m.kernel.signal_variance;
  MatrixXd k = distances(m.scaled).unaryExpr([s2](double v) { return matern(v, s2); });
  k.diagonal().array() += m.kernel.noise_variance + kJitter;
  m.llt.compute(k);
  if (m.llt.info() != Eigen::Success)
    throw InvalidArgument("GaussianProcess: the kernel matrix is not positive definite");
  CentredSolve solved = solve_with_fitted_mean(m.llt, m.y.y);
  m.alpha = std::move(solved.alpha);
  m.y.y.array() -= solved.mean;  // the prior mean in the units of y is now y.mean
  m.y.mean += solved.mean * m.y.scale;
  m.lml = -0.5 * m.y.y.dot(m.alpha) - m.llt.matrixLLT().diagonal().array().log().sum() -
          0.5 * static_cast<double>(m.x.rows()) * kLog2Pi;
}

GaussianProcess::~GaussianProcess() = default;
GaussianProcess::GaussianProcess(GaussianProcess&&) noexcept = default;
GaussianProcess& GaussianProcess::operator=(GaussianProcess&&) noexcept = default;

std::size_t GaussianProcess::dims() const {
  return static_cast<std::size_t>(impl_->x.cols());
}
std::size_t GaussianProcess::size() const {
  return static_cast<std::size_t>(impl_->x.rows());
}
const GpKernel& GaussianProcess::kernel() const {
  return impl_->kernel;
}
double GaussianProcess::log_marginal_likelihood() const {
  return impl_->lml;
}

GpPrediction GaussianProcess::predict(std::span<const double> point) const {
  const Impl& m = *impl_;
  const VectorXd k = m.cross(point, nullptr);
  const VectorXd v = m.llt.matrixL().solve(k);
  const double var = std::max(m.kernel.signal_variance - v.squaredNorm(), kMinVariance);
  return {m.y.mean + m.y.scale * k.dot(m.alpha), var * m.y.scale * m.y.scale};
}

GpPrediction GaussianProcess::predict(std::span<const double> point, std::span<double> d_mean,
                                      std::span<double> d_variance) const {
  const Impl& m = *impl_;
  MatrixXd diffs;
  const VectorXd k = m.cross(point, &diffs);
  const VectorXd v = m.llt.matrixL().solve(k);
  const VectorXd w = m.llt.matrixU().solve(v);  // K^-1 k
  const double raw_var = m.kernel.signal_variance - v.squaredNorm();
  // dk_i/dx_j = -g(r_i) diff_ij / l_j.
  VectorXd g(k.size());
  for (Eigen::Index i = 0; i < k.size(); ++i)
    g(i) = matern_g((diffs.row(i)).norm(), m.kernel.signal_variance);
  const VectorXd dm = -(diffs.transpose() * g.cwiseProduct(m.alpha));
  const VectorXd dv = 2.0 * (diffs.transpose() * g.cwiseProduct(w));
  const double s = m.y.scale;
  for (std::size_t j = 0; j < dims(); ++j) {
    const double l = m.kernel.length_scales[j];
    const auto jj = static_cast<Eigen::Index>(j);
    d_mean[j] = s * dm(jj) / l;
    d_variance[j] = raw_var > kMinVariance ? s * s * dv(jj) / l : 0.0;
  }
  return {m.y.mean + s * k.dot(m.alpha), std::max(raw_var, kMinVariance) * s * s};
}

std::vector<GpPrediction> GaussianProcess::predict(
    const std::vector<std::vector<double>>& points) const {
  const Impl& m = *impl_;
  std::vector<GpPrediction> out;
  if (points.empty()) return out;
  MatrixXd k(m.x.rows(), static_cast<Eigen::Index>(points.size()));
  for (std::size_t c = 0; c < points.size(); ++c)
    k.col(static_cast<Eigen::Index>(c)) = m.cross(points[c], nullptr);
  const MatrixXd v = m.llt.matrixL().solve(k);
  const VectorXd mean = k.transpose() * m.alpha;
  const VectorXd norms = v.colwise().squaredNorm().transpose();
  const double s = m.y.scale;
  for (std::size_t c = 0; c < points.size(); ++c) {
    const auto cc = static_cast<Eigen::Index>(c);
    const double var = std::max(m.kernel.signal_variance - norms(cc), kMinVariance);
    out.push_back({m.y.mean + s * mean(cc), var * s * s});
  }
  return out;
}

GpKernel fit_kernel(const std::vector<std::vector<double>>& x, const std::vector<double>& y,
                    const GpFitOptions& options, Rng& rng) {
  const MatrixXd xm = to_matrix(x);
  const Standardised ys = standardise(y);
  const Eigen::Index d = xm.cols();
  const std::optional<double> fixed_noise = options.noise_variance;
  if (fixed_noise)
    require(std::isfinite(*fixed_noise) && *fixed_noise > 0, "fit_kernel",
            "a fixed noise_variance > 0", *fixed_noise);
  const Eigen::Index size = fixed_noise ? d + 1 : d + 2;  // log noise last, when fitted
  VectorXd lower(size), upper(size);
  lower.head(d).setConstant(std::log(options.min_length_scale));
  upper.head(d).setConstant(std::log(options.max_length_scale));
  lower(d) = std::log(options.min_signal_variance),
  upper(d) = std::log(options.max_signal_variance);
  if (!fixed_noise) {
    lower(d + 1) = std::log(options.min_noise_variance);
    upper(d + 1) = std::log(options.max_noise_variance);
  }

  LBFGSpp::LBFGSBParam<double> param;
  param.max_iterations = options.max_iterations;
  param.epsilon = 1e-5;
  param.max_linesearch = 30;
  LBFGSpp::LBFGSBSolver<double> solver(param);
  NegativeLml objective(xm, ys.y, fixed_noise);
  for (int restart = 0; restart < std::max(options.restarts, 1); ++restart) {
    VectorXd theta(size);
    if (restart == 0) {
      theta.head(d).setConstant(std::log(0.5));
      theta(d) = 0.0;
      if (!fixed_noise) theta(d + 1) = std::log(1e-3);
    } else {
      for (Eigen::Index j = 0; j < d; ++j) theta(j) = rng.uniform(std::log(0.05), std::log(5.0));
      theta(d) = rng.uniform(std::log(0.3), std::log(3.0));
      const double log_noise = rng.uniform(std::log(1e-5), std::log(1e-2));  // drawn either way
      if (!fixed_noise) theta(d + 1) = log_noise;
    }
    theta = theta.cwiseMax(lower).cwiseMin(upper);
    double value = 0;
    try {
      solver.minimize(objective, theta, value, lower, upper);
    } catch (const std::exception&) {
      // Line-search trouble: the best point evaluated so far stands.
    }
  }
  if (objective.best_theta().size() != size) {  // never evaluated finitely: a safe default
    VectorXd theta(d + 2);
    theta.head(d).setConstant(std::log(0.5));
    theta(d) = 0.0, theta(d + 1) = std::log(1e-2);
    return kernel_of(theta, d, fixed_noise);
  }
  return kernel_of(objective.best_theta(), d, fixed_noise);
}

namespace {

constexpr double kInvSqrt2Pi = 0.3989422804014327;

double normal_pdf(double z) {
  return kInvSqrt2Pi * std::exp(-0.5 * z * z);
}
double normal_cdf(double z) {
  return 0.5 * std::erfc(-z / std::sqrt(2.0));
}

/// For t >= 5: a = 1 / (t + 2 / (t + 3 / (t + ...))), so that Mills' ratio is 1 / (t + a) and
/// h(-t) = phi(t) a / (t + a) without cancellation.
double mills_tail(double t) {
  double f = t;
  for (int k = 40; k >= 2; --k) f = t + k / f;
  return 1.0 / f;
}

}  // namespace

AcquisitionValue log_expected_improvement(double mean, double sd, double best) {
  const double z = (best - mean) / sd;
  AcquisitionValue out;
  if (z > -5.0) {
    const double pdf = normal_pdf(z), cdf = normal_cdf(z);
    const double h = pdf + z * cdf;  // EI / sd
    out.value = std::log(sd) + std::log(h);
    out.d_mean = -cdf / (sd * h);
    out.d_sd = pdf / (sd * h);
  } else {
    const double t = -z, a = mills_tail(t);
    out.value = std::log(sd) - 0.5 * z * z - 0.5 * kLog2Pi + std::log(a / (t + a));
    out.d_mean = -1.0 / (sd * a);   // -Phi / (sd h) with Phi / h = 1 / a
    out.d_sd = (t + a) / (sd * a);  // phi / (sd h) with phi / h = (t + a) / a
  }
  return out;
}

double expected_improvement(double mean, double sd, double best) {
  return std::exp(log_expected_improvement(mean, sd, best).value);
}

AcquisitionValue lower_confidence_bound(double mean, double sd, double beta) {
  const double k = std::sqrt(beta);
  return {k * sd - mean, -1.0, k};
}

std::vector<double> log_warp(const std::vector<double>& y) {
  if (y.empty()) return {};
  std::vector<double> sorted = y;
  const std::size_t middle = (y.size() - 1) / 2;
  std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(middle),
                   sorted.end());
  const double median = sorted[middle];
  const double low = *std::min_element(y.begin(), y.end());
  const double delta = std::max(0.1 * (median - low), 1e-12);
  std::vector<double> out;
  out.reserve(y.size());
  for (double v : y) out.push_back(std::log(v - low + delta));
  return out;
}

}  // namespace quarry::samplers
