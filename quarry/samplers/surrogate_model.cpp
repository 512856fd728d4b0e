#include "quarry/samplers/surrogate_model.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include <Eigen/Core>

#include "quarry/core/error.hpp"
#include "quarry/core/rng.hpp"

namespace quarry::samplers {

namespace {

constexpr double kBeta1 = 0.9, kBeta2 = 0.999, kEpsilon = 1e-8;

using Matrix = Eigen::MatrixXd;
using Vector = Eigen::VectorXd;
using MatrixMap = Eigen::Map<Matrix>;
using VectorMap = Eigen::Map<Vector>;

/// Rows as an n x dims matrix; InvalidArgument for a row of another dimension.
Matrix to_matrix(const std::vector<std::vector<double>>& rows, std::size_t dims) {
  Matrix x(static_cast<Eigen::Index>(rows.size()), static_cast<Eigen::Index>(dims));
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (rows[i].size() != dims)
      throw InvalidArgument("SurrogateModel: row " + std::to_string(i) + " has " +
                            std::to_string(rows[i].size()) + " columns; the model has " +
                            std::to_string(dims));
    for (std::size_t j = 0; j < dims; ++j)
      x(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) = rows[i][j];
  }
  return x;
}

/// Views of one network's parameters inside a flat vector: W1 (h x d), b1 (h), w2 (h), b2.
struct Views {
  Views(double* data, Eigen::Index h, Eigen::Index d)
      : w1(data, h, d), b1(data + h * d, h), w2(data + h * d + h, h), b2(data[h * d + 2 * h]) {}
  MatrixMap w1;
  VectorMap b1, w2;
  double& b2;
};

/// Gradient of 1/(2n) |f(X) - y|^2 + decay/2 (|W1|^2 + |w2|^2) at `theta` (f: one ReLU layer),
/// into `grad`.
void gradient(Vector& theta, const Matrix& x, const Vector& y, double decay, Eigen::Index h,
              Vector& grad) {
  const Eigen::Index d = x.cols();
  const Views p(theta.data(), h, d);
  Views g(grad.data(), h, d);
  const Matrix a = ((x * p.w1.transpose()).rowwise() + p.b1.transpose()).array().max(0.0).matrix();
  const Vector r = ((a * p.w2).array() + p.b2 - y.array()).matrix() / static_cast<double>(x.rows());
  g.w2 = a.transpose() * r + decay * p.w2;
  g.b2 = r.sum();
  const Matrix dz = ((r * p.w2.transpose()).array() * (a.array() > 0.0).cast<double>()).matrix();
  g.w1 = dz.transpose() * x + decay * p.w1;
  g.b1 = dz.colwise().sum().transpose();
}

}  // namespace

// ---- Model -----------------------------------------------------------------------------------

SurrogateModel::SurrogateModel(SurrogateModelOptions options) : options_(options) {
  require(options_.networks >= 1, "SurrogateModel", "networks >= 1", options_.networks);
  require(options_.hidden >= 1, "SurrogateModel", "hidden >= 1", options_.hidden);
  require(options_.epochs >= 1, "SurrogateModel", "epochs >= 1", options_.epochs);
  require(options_.learning_rate > 0 && std::isfinite(options_.learning_rate), "SurrogateModel",
          "learning_rate > 0", options_.learning_rate);
  require(options_.weight_decay >= 0 && std::isfinite(options_.weight_decay), "SurrogateModel",
          "weight_decay >= 0", options_.weight_decay);
}

void SurrogateModel::fit(const std::vector<std::vector<double>>& x, const std::vector<double>& y) {
  if (x.empty() || x.size() != y.size())
    throw InvalidArgument("SurrogateModel: fit needs n >= 1 rows and as many targets, got " +
                          std::to_string(x.size()) + " rows and " + std::to_string(y.size()) +
                          " targets");
  if (!std::all_of(y.begin(), y.end(), [](double v) { return std::isfinite(v); }))
    throw InvalidArgument("SurrogateModel: every target must be finite");
  dims_ = x.front().size();
  (void)to_matrix(x, dims_);  // checks every row's dimension before any training
  double sum = 0, squares = 0;
  for (double v : y) sum += v;
  y_mean_ = sum / static_cast<double>(y.size());
  for (double v : y) squares += (v - y_mean_) * (v - y_mean_);
  const double sd = std::sqrt(squares / static_cast<double>(y.size()));
  y_scale_ = sd > 1e-12 ? sd : 0.0;  // constant targets: every prediction is their value
  std::vector<double> z;
  for (double v : y) z.push_back(y_scale_ > 0 ? (v - y_mean_) / y_scale_ : 0.0);
  networks_.clear();
  for (std::int64_t k = 0; k < options_.networks; ++k)
    networks_.push_back(train(x, z, static_cast<std::uint64_t>(k)));
}

SurrogateModel::Network SurrogateModel::train(const std::vector<std::vector<double>>& rows,
                                              const std::vector<double>& targets,
                                              std::uint64_t index) const {
  Rng rng = Rng::stream(options_.seed, {index});
  const auto n = rows.size();
  std::vector<std::vector<double>> xs;
  std::vector<double> ys;
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t at = options_.bootstrap ? static_cast<std::size_t>(rng.below(n)) : i;
    xs.push_back(rows[at]), ys.push_back(targets[at]);
  }
  const Matrix x = to_matrix(xs, dims_);
  const Vector y = VectorMap(ys.data(), static_cast<Eigen::Index>(ys.size()));
  const auto h = static_cast<Eigen::Index>(options_.hidden);
  const auto d = static_cast<Eigen::Index>(dims_);
  Vector theta = Vector::Zero(h * d + 2 * h + 1);
  {
    Views p(theta.data(), h, d);
    const double in_scale = 1.0 / std::sqrt(static_cast<double>(std::max<Eigen::Index>(d, 1)));
    for (Eigen::Index j = 0; j < p.w1.size(); ++j) p.w1.data()[j] = in_scale * rng.normal();
    for (Eigen::Index j = 0; j < h; ++j) p.w2[j] = rng.normal() / std::sqrt(double(h));
  }
  Vector grad(theta.size()), m = Vector::Zero(theta.size()), v = Vector::Zero(theta.size());
  double beta1_t = 1, beta2_t = 1;
  for (std::int64_t step = 0; step < options_.epochs; ++step) {
    gradient(theta, x, y, options_.weight_decay, h, grad);
    m = kBeta1 * m + (1 - kBeta1) * grad;
    v = kBeta2 * v + (1 - kBeta2) * grad.array().square().matrix();
    beta1_t *= kBeta1, beta2_t *= kBeta2;
    const double rate = options_.learning_rate * std::sqrt(1 - beta2_t) / (1 - beta1_t);
    theta.array() -= rate * m.array() / (v.array().sqrt() + kEpsilon);
  }
  Network net;
  const std::size_t hd = static_cast<std::size_t>(h * d), hs = static_cast<std::size_t>(h);
  net.w1.assign(theta.data(), theta.data() + hd);
  net.b1.assign(theta.data() + hd, theta.data() + hd + hs);
  net.w2.assign(theta.data() + hd + hs, theta.data() + hd + 2 * hs);
  net.b2 = theta[static_cast<Eigen::Index>(hd + 2 * hs)];
  return net;
}

std::vector<SurrogatePrediction> SurrogateModel::predict(
    const std::vector<std::vector<double>>& rows) const {
  if (!fitted()) throw InvalidArgument("SurrogateModel: predict() called before fit()");
  const Matrix x = to_matrix(rows, dims_);
  const auto h = static_cast<Eigen::Index>(options_.hidden);
  const auto d = static_cast<Eigen::Index>(dims_);
  Matrix outputs(x.rows(), static_cast<Eigen::Index>(networks_.size()));
  for (std::size_t k = 0; k < networks_.size(); ++k) {
    const Network& net = networks_[k];
    const Eigen::Map<const Matrix> w1(net.w1.data(), h, d);
    const Eigen::Map<const Vector> b1(net.b1.data(), h), w2(net.w2.data(), h);
    outputs.col(static_cast<Eigen::Index>(k)) =
        ((x * w1.transpose()).rowwise() + b1.transpose()).array().max(0.0).matrix() * w2;
    outputs.col(static_cast<Eigen::Index>(k)).array() += net.b2;
  }
  std::vector<SurrogatePrediction> out;
  const auto count = static_cast<double>(networks_.size());
  for (Eigen::Index i = 0; i < x.rows(); ++i) {
    const double mean = outputs.row(i).mean();
    const double var = (outputs.row(i).array() - mean).square().sum() / count;
    out.push_back({y_mean_ + y_scale_ * mean, y_scale_ * std::sqrt(var)});
  }
  return out;
}

}  // namespace quarry::samplers
