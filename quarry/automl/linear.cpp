// The linear family: elastic-net linear regression and logistic regression (binary: one sigmoid;
// multiclass: multinomial softmax) on features standardised on the training rows.
//
// Both minimise, over weights w on the standardised features z (and unpenalised intercepts),
//   mean loss + alpha * (l1_ratio * |w|_1 + (1 - l1_ratio) / 2 * |w|_2^2)
// where the loss is half the squared error of the standardised target (regression: y scaled by its
// mean and standard deviation, so alpha means the same on any scale) or the log loss.
//   - regression: cyclic coordinate descent with a running residual (each update is the
//     soft-thresholded least-squares step), until no weight moves more than 1e-7 in a pass;
//   - classification: FISTA (accelerated proximal gradient; the L1 part by soft-thresholding) with
//     the gradient-based adaptive restart of O'Donoghue and Candes, step 1/L from L = c *
//     lambda_max
//     + alpha * (1 - l1_ratio) where lambda_max is the largest eigenvalue of z'z/n (power
//     iteration, with a margin) and c = 1/4 (sigmoid) or 1/2 (softmax: Bohning's bound); it stops
//     when no coefficient moves more than 1e-6 times the largest in a step.
// Passes are capped (1000 / 3000) and the deadline is checked after each (the first always runs).
// Input must be imputed: NaN is an InvalidArgument. The saved model is JSON only (no file).
#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "quarry/automl/families_builtin.hpp"
#include "quarry/automl/family_support.hpp"
#include "quarry/core/error.hpp"

namespace quarry::automl {
namespace {

using detail::FamilyParams;
using detail::Standardizer;

constexpr int kMaxCoordinatePasses = 1000;
constexpr double kCoordinateTolerance = 1e-7;
constexpr int kMaxProximalSteps = 3000;
constexpr double kProximalTolerance = 1e-6;
const std::string kWho = "model family 'linear'";

double soft_threshold(double v, double t) {
  return v > t ? v - t : (v < -t ? v + t : 0.0);
}

class LinearModel final : public Estimator {
 public:
  LinearModel(double alpha, double l1_ratio, TaskType task)
      : alpha_(alpha), l1_ratio_(l1_ratio), task_(task) {}
  explicit LinearModel(const nlohmann::json& saved);

  void fit(const Matrix& x, const std::vector<double>& y, const FitOptions& options) override;
  Matrix predict(const Matrix& x) const override;
  nlohmann::json save(const std::filesystem::path& dir, const std::string& stem) const override;

 private:
  void fit_regression(const Matrix& x, const std::vector<double>& y, double deadline);
  void fit_logistic(const Matrix& z, const std::vector<double>& y, double deadline);
  std::int64_t outputs() const { return task_ == TaskType::Multiclass ? classes_ : 1; }

  double alpha_ = 0, l1_ratio_ = 0;
  TaskType task_;
  std::int64_t classes_ = 0;
  Standardizer standardizer_;
  std::vector<std::vector<double>> weights_;   ///< outputs x features, on standardised features
  std::vector<double> intercepts_;             ///< one per output
  double target_mean_ = 0, target_scale_ = 1;  ///< regression: y = mean + scale * (w'z + b)
  bool fitted_ = false;
};

void LinearModel::fit(const Matrix& x, const std::vector<double>& y, const FitOptions& options) {
  classes_ = detail::check_fit(kWho, x, y, task_, options);
  detail::check_finite(kWho, x);
  standardizer_ = Standardizer::fit(x);
  if (task_ == TaskType::Regression)
    fit_regression(x, y, options.deadline);
  else
    fit_logistic(standardizer_.transform(x), y, options.deadline);
  for (const auto& row : weights_)
    for (double w : row)
      if (!std::isfinite(w)) throw Error(kWho + ": the fit diverged (a weight is not finite)");
  fitted_ = true;
}

void LinearModel::fit_regression(const Matrix& x, const std::vector<double>& y, double deadline) {
  const auto n = static_cast<std::size_t>(x.rows), p = static_cast<std::size_t>(x.cols);
  const double inv_n = 1.0 / static_cast<double>(n);
  target_mean_ = 0;
  for (double v : y) target_mean_ += v;
  target_mean_ *= inv_n;
  double var = 0;
  for (double v : y) var += (v - target_mean_) * (v - target_mean_);
  target_scale_ = std::sqrt(var * inv_n);
  if (!(target_scale_ > 1e-12)) target_scale_ = 1.0;

  // The standardised features by column, and the residual of the standardised target (weights start
  // at 0).
  std::vector<float> col(n * p);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < p; ++j)
      col[j * n + i] = static_cast<float>(
          standardizer_.apply(static_cast<std::int64_t>(j), x.values[i * p + j]));
  std::vector<double> residual(n);
  for (std::size_t i = 0; i < n; ++i) residual[i] = (y[i] - target_mean_) / target_scale_;
  std::vector<double> norm(p, 0.0);
  for (std::size_t j = 0; j < p; ++j) {
    for (std::size_t i = 0; i < n; ++i) norm[j] += double{col[j * n + i]} * col[j * n + i];
    norm[j] *= inv_n;
  }
  const double l1 = alpha_ * l1_ratio_, l2 = alpha_ * (1 - l1_ratio_);
  std::vector<double> w(p, 0.0);
  for (int pass = 0; pass < kMaxCoordinatePasses; ++pass) {
    double moved = 0;
    for (std::size_t j = 0; j < p; ++j) {
      if (norm[j] == 0) continue;  // a constant feature
      const float* zj = col.data() + j * n;
      double g = 0;
      for (std::size_t i = 0; i < n; ++i) g += zj[i] * residual[i];
      g = g * inv_n + norm[j] * w[j];
      const double updated = soft_threshold(g, l1) / (norm[j] + l2);
      const double delta = updated - w[j];
      if (delta == 0) continue;
      for (std::size_t i = 0; i < n; ++i) residual[i] -= delta * zj[i];
      w[j] = updated;
      moved = std::max(moved, std::abs(delta));
    }
    if (!std::isfinite(moved)) throw Error(kWho + ": the fit diverged (a weight is not finite)");
    if (moved <= kCoordinateTolerance || detail::deadline_passed(deadline)) break;
  }
  // The columns are centred up to float rounding: the intercept takes up what is left.
  double mean_residual = 0;
  for (double r : residual) mean_residual += r;
  weights_ = {w};
  intercepts_ = {mean_residual * inv_n};
}

/// The largest eigenvalue of z'z/n, by power iteration from a fixed start.
double largest_eigenvalue(const Matrix& z) {
  const auto n = static_cast<std::size_t>(z.rows), p = static_cast<std::size_t>(z.cols);
  std::vector<double> v(p), zv(n), next(p);
  for (std::size_t j = 0; j < p; ++j) v[j] = 1.0 + 0.1 * static_cast<double>(j % 7);
  double lambda = 0;
  for (int it = 0; it < 100; ++it) {
    double norm = 0;
    for (double e : v) norm += e * e;
    norm = std::sqrt(norm);
    if (norm == 0) return 0;
    for (double& e : v) e /= norm;
    for (std::size_t i = 0; i < n; ++i) {
      const float* row = z.values.data() + i * p;
      double s = 0;
      for (std::size_t j = 0; j < p; ++j) s += row[j] * v[j];
      zv[i] = s;
    }
    std::fill(next.begin(), next.end(), 0.0);
    for (std::size_t i = 0; i < n; ++i) {
      const float* row = z.values.data() + i * p;
      for (std::size_t j = 0; j < p; ++j) next[j] += row[j] * zv[i];
    }
    double estimate = 0;  // the Rayleigh quotient v'(z'z/n)v
    for (std::size_t j = 0; j < p; ++j) estimate += v[j] * next[j] / static_cast<double>(n);
    v.swap(next);
    const bool settled = std::abs(estimate - lambda) <= 1e-6 * estimate;
    lambda = estimate;
    if (settled) break;
  }
  return lambda;
}

void LinearModel::fit_logistic(const Matrix& z, const std::vector<double>& y, double deadline) {
  const auto n = static_cast<std::size_t>(z.rows), p = static_cast<std::size_t>(z.cols);
  const auto k = static_cast<std::size_t>(outputs());
  const double inv_n = 1.0 / static_cast<double>(n);
  const double l1 = alpha_ * l1_ratio_, l2 = alpha_ * (1 - l1_ratio_);
  // The intercept's column of ones adds an eigenvalue 1 (z is centred).
  const double lambda = std::max(largest_eigenvalue(z), 1.0) * 1.05;
  const double lipschitz = (k == 1 ? 0.25 : 0.5) * lambda + l2;
  const double step = 1.0 / lipschitz;

  // theta = [weights (k x p) | intercepts (k)]; start at the class priors.
  const std::size_t dim = k * (p + 1);
  std::vector<double> theta(dim, 0.0);
  {
    std::vector<double> count(static_cast<std::size_t>(classes_), 0.0);
    for (double v : y) count[static_cast<std::size_t>(v)] += 1;
    const double total = static_cast<double>(n) + 0.5 * static_cast<double>(classes_);
    if (k == 1)
      theta[p] = std::log((count[1] + 0.5) / (count[0] + 0.5));
    else
      for (std::size_t c = 0; c < k; ++c)
        theta[c * (p + 1) + p] = std::log((count[c] + 0.5) / total);
  }
  std::vector<double> point = theta, previous = theta, grad(dim), margin(k), error(k);
  double momentum = 1;
  for (int it = 0; it < kMaxProximalSteps; ++it) {
    // The gradient of the smooth part at `point`.
    std::fill(grad.begin(), grad.end(), 0.0);
    for (std::size_t i = 0; i < n; ++i) {
      const float* row = z.values.data() + i * p;
      for (std::size_t c = 0; c < k; ++c) {
        const double* wc = point.data() + c * (p + 1);
        double m = wc[p];
        for (std::size_t j = 0; j < p; ++j) m += wc[j] * row[j];
        margin[c] = m;
      }
      const auto label = static_cast<std::size_t>(y[i]);
      if (k == 1) {
        error[0] = 1.0 / (1.0 + std::exp(-margin[0])) - static_cast<double>(label);
      } else {
        const double top = *std::max_element(margin.begin(), margin.end());
        double sum = 0;
        for (std::size_t c = 0; c < k; ++c) sum += (error[c] = std::exp(margin[c] - top));
        for (std::size_t c = 0; c < k; ++c) error[c] = error[c] / sum - (c == label ? 1.0 : 0.0);
      }
      for (std::size_t c = 0; c < k; ++c) {
        double* gc = grad.data() + c * (p + 1);
        for (std::size_t j = 0; j < p; ++j) gc[j] += error[c] * row[j];
        gc[p] += error[c];
      }
    }
    // The proximal step from `point`: weights soft-thresholded, intercepts free.
    previous.swap(theta);
    double moved = 0, largest = 0;
    for (std::size_t c = 0; c < k; ++c)
      for (std::size_t j = 0; j <= p; ++j) {
        const std::size_t at = c * (p + 1) + j;
        const double g = grad[at] * inv_n + (j < p ? l2 * point[at] : 0.0);
        double v = point[at] - step * g;
        if (j < p) v = soft_threshold(v, step * l1);
        theta[at] = v;
        moved = std::max(moved, std::abs(v - previous[at]));
        largest = std::max(largest, std::abs(v));
      }
    if (!std::isfinite(moved)) throw Error(kWho + ": the fit diverged (a weight is not finite)");
    if (moved <= kProximalTolerance * std::max(1.0, largest) || detail::deadline_passed(deadline))
      break;
    // Restart the momentum when it points uphill: (point - theta)'(theta - previous) > 0.
    double uphill = 0;
    for (std::size_t a = 0; a < dim; ++a)
      uphill += (point[a] - theta[a]) * (theta[a] - previous[a]);
    double next_momentum = (1 + std::sqrt(1 + 4 * momentum * momentum)) / 2;
    if (uphill > 0) {
      momentum = 1;
      next_momentum = 1;
    }
    const double beta = (momentum - 1) / next_momentum;
    for (std::size_t a = 0; a < dim; ++a) point[a] = theta[a] + beta * (theta[a] - previous[a]);
    momentum = next_momentum;
  }
  weights_.assign(k, std::vector<double>(p));
  intercepts_.assign(k, 0.0);
  for (std::size_t c = 0; c < k; ++c) {
    std::copy_n(theta.data() + c * (p + 1), p, weights_[c].begin());
    intercepts_[c] = theta[c * (p + 1) + p];
  }
}

Matrix LinearModel::predict(const Matrix& x) const {
  if (!fitted_) throw InvalidArgument(kWho + ": predict before fit");
  const auto p = static_cast<std::int64_t>(standardizer_.mean.size());
  detail::check_features(kWho, x, p);
  detail::check_finite(kWho, x);
  const std::int64_t k = outputs();
  Matrix out(x.rows, detail::output_width(task_, classes_));
  std::vector<double> z(static_cast<std::size_t>(p)), margin(static_cast<std::size_t>(k));
  for (std::int64_t r = 0; r < x.rows; ++r) {
    for (std::int64_t j = 0; j < p; ++j)
      z[static_cast<std::size_t>(j)] = standardizer_.apply(j, x.at(r, j));
    for (std::size_t c = 0; c < static_cast<std::size_t>(k); ++c) {
      double m = intercepts_[c];
      for (std::size_t j = 0; j < z.size(); ++j) m += weights_[c][j] * z[j];
      margin[c] = m;
    }
    if (task_ == TaskType::Regression) {
      out.at(r, 0) = static_cast<float>(target_mean_ + target_scale_ * margin[0]);
    } else if (task_ == TaskType::Binary) {
      const double p1 = 1.0 / (1.0 + std::exp(-margin[0]));
      out.at(r, 0) = static_cast<float>(1.0 - p1);
      out.at(r, 1) = static_cast<float>(p1);
    } else {
      const double top = *std::max_element(margin.begin(), margin.end());
      double sum = 0;
      for (double m : margin) sum += std::exp(m - top);
      for (std::int64_t c = 0; c < k; ++c)
        out.at(r, c) =
            static_cast<float>(std::exp(margin[static_cast<std::size_t>(c)] - top) / sum);
    }
  }
  return out;
}

nlohmann::json LinearModel::save(const std::filesystem::path&, const std::string&) const {
  if (!fitted_) throw InvalidArgument(kWho + ": save before fit");
  return {{"family", "linear"},          {"task", to_string(task_)},
          {"classes", classes_},         {"alpha", alpha_},
          {"l1_ratio", l1_ratio_},       {"standardizer", standardizer_.to_json()},
          {"weights", weights_},         {"intercepts", intercepts_},
          {"target_mean", target_mean_}, {"target_scale", target_scale_}};
}

LinearModel::LinearModel(const nlohmann::json& saved)
    : task_(detail::task_from_key(saved.at("task").get<std::string>())) {
  if (saved.at("family").get<std::string>() != "linear")
    throw InvalidArgument("saved model: family '" + saved.at("family").get<std::string>() +
                          "' loaded as 'linear'");
  classes_ = saved.at("classes").get<std::int64_t>();
  alpha_ = saved.at("alpha").get<double>();
  l1_ratio_ = saved.at("l1_ratio").get<double>();
  standardizer_ = Standardizer::from_json(saved.at("standardizer"));
  saved.at("weights").get_to(weights_);
  saved.at("intercepts").get_to(intercepts_);
  target_mean_ = saved.at("target_mean").get<double>();
  target_scale_ = saved.at("target_scale").get<double>();
  bool ok = weights_.size() == static_cast<std::size_t>(outputs()) &&
            intercepts_.size() == weights_.size();
  for (const auto& w : weights_) ok = ok && w.size() == standardizer_.mean.size();
  if (!ok)
    throw InvalidArgument("saved model 'linear': weights do not match the classes or features");
  fitted_ = true;
}

}  // namespace

Family linear_family() {
  using space::Param;
  Family f;
  f.name = "linear";
  f.description = "elastic-net linear / logistic regression";
  f.params = {
      Param::Float("linear.alpha", 1e-6, 10, {.log = true, .default_value = 1e-3}),
      Param::Float("linear.l1_ratio", 0, 1, {.default_value = 0.0}),
  };
  for (const auto& p : f.params) f.cheap[p.name()] = p.default_value();
  f.make = [space = f.params](const space::Params& params, TaskType task) {
    const FamilyParams p("linear", space, params);
    const double alpha = p.real("alpha"), l1_ratio = p.real("l1_ratio");
    require(alpha >= 0, kWho, "alpha >= 0", alpha);
    require(l1_ratio >= 0 && l1_ratio <= 1, kWho, "0 <= l1_ratio <= 1", l1_ratio);
    return std::unique_ptr<Estimator>(std::make_unique<LinearModel>(alpha, l1_ratio, task));
  };
  f.load = [](const nlohmann::json& saved, const std::filesystem::path&) {
    try {
      return std::unique_ptr<Estimator>(std::make_unique<LinearModel>(saved));
    } catch (const nlohmann::json::exception& e) {
      throw InvalidArgument(std::string("saved model 'linear': ") + e.what());
    }
  };
  f.has_budget = false;
  return f;
}

}  // namespace quarry::automl
