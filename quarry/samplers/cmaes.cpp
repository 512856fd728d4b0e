#include "quarry/samplers/cmaes.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <optional>

#include "quarry/core/error.hpp"
#include "quarry/core/options.hpp"
#include "quarry/core/rng.hpp"

namespace quarry::samplers {

namespace {

using Eigen::MatrixXd;
using Eigen::VectorXd;

constexpr int kMaxRedraws = 100;
constexpr std::uint64_t kRestartStream = 0x5265737461727421ULL;  // "Restart!"

/// The parameters CMA-ES moves: unconditional numbers with more than one value.
std::vector<const Param*> searched(const Space& space) {
  std::vector<const Param*> out;
  for (const Param& p : space.params()) {
    if (!p.conditions().empty()) continue;
    if (p.kind() != space::ParamKind::Int && p.kind() != space::ParamKind::Float) continue;
    if (p.is_discrete() && p.count() < 2) continue;
    out.push_back(&p);
  }
  return out;
}

/// The trial's point in the unit cube; nullopt when a searched parameter is missing or illegal.
std::optional<VectorXd> point_of(const Trial& t, const std::vector<const Param*>& dims) {
  VectorXd x(static_cast<Eigen::Index>(dims.size()));
  for (std::size_t i = 0; i < dims.size(); ++i) {
    const auto it = t.params.find(dims[i]->name());
    if (it == t.params.end() || !dims[i]->contains(it->second)) return std::nullopt;
    x(static_cast<Eigen::Index>(i)) = dims[i]->to_unit(it->second);
  }
  return x;
}

/// One run of CMA-ES (Hansen's tutorial, Table 1 and Fig. 6), minimising.
class Strategy {
 public:
  Strategy(const VectorXd& mean, double sigma, int lambda)
      : n_(static_cast<int>(mean.size())), lambda_(lambda), mean_(mean), sigma_(sigma) {
    const double n = n_;
    mu_ = lambda_ / 2;
    weights_.resize(mu_);
    for (int i = 0; i < mu_; ++i) weights_(i) = std::log(mu_ + 0.5) - std::log(i + 1.0);
    weights_ /= weights_.sum();
    mueff_ = 1.0 / weights_.squaredNorm();
    cs_ = (mueff_ + 2) / (n + mueff_ + 5);
    ds_ = 1 + 2 * std::max(0.0, std::sqrt((mueff_ - 1) / (n + 1)) - 1) + cs_;
    cc_ = (4 + mueff_ / n) / (n + 4 + 2 * mueff_ / n);
    c1_ = 2 / ((n + 1.3) * (n + 1.3) + mueff_);
    cmu_ = std::min(1 - c1_, 2 * (mueff_ - 2 + 1 / mueff_) / ((n + 2) * (n + 2) + mueff_));
    chi_ = std::sqrt(n) * (1 - 1 / (4 * n) + 1 / (21 * n * n));
    C_ = MatrixXd::Identity(n_, n_);
    B_ = MatrixXd::Identity(n_, n_);
    D_ = VectorXd::Ones(n_);
    ps_ = VectorXd::Zero(n_);
    pc_ = VectorXd::Zero(n_);
  }

  int lambda() const { return lambda_; }

  /// One generation's points, best first (at least one); returns false when the run is spent
  /// (sigma collapsed, C ill-conditioned, or the values `spread` all within 1e-12).
  bool update(const std::vector<VectorXd>& best_first, double spread) {
    ++generation_;
    const int mu = std::min<int>(mu_, static_cast<int>(best_first.size()));
    VectorXd w = weights_.head(mu) / weights_.head(mu).sum();
    VectorXd yw = VectorXd::Zero(n_);
    std::vector<VectorXd> ys;
    for (int i = 0; i < mu; ++i) {
      ys.push_back((best_first[static_cast<std::size_t>(i)] - mean_) / sigma_);
      yw += w(i) * ys.back();
    }
    mean_ += sigma_ * yw;
    // C^(-1/2) yw = B D^-1 B' yw
    const VectorXd c_inv_sqrt_yw = B_ * (B_.transpose() * yw).cwiseQuotient(D_);
    ps_ = (1 - cs_) * ps_ + std::sqrt(cs_ * (2 - cs_) * mueff_) * c_inv_sqrt_yw;
    const double ps_norm = ps_.norm();
    const double hsig_bound = (1.4 + 2 / (n_ + 1.0)) * chi_;
    const bool hsig = ps_norm / std::sqrt(1 - std::pow(1 - cs_, 2.0 * generation_)) < hsig_bound;
    pc_ = (1 - cc_) * pc_ + (hsig ? std::sqrt(cc_ * (2 - cc_) * mueff_) : 0.0) * yw;
    MatrixXd rank_mu = MatrixXd::Zero(n_, n_);
    for (int i = 0; i < mu; ++i)
      rank_mu +=
          w(i) * ys[static_cast<std::size_t>(i)] * ys[static_cast<std::size_t>(i)].transpose();
    const double lost = hsig ? 0.0 : c1_ * cc_ * (2 - cc_);
    C_ = (1 - c1_ - cmu_ + lost) * C_ + c1_ * pc_ * pc_.transpose() + cmu_ * rank_mu;
    C_ = 0.5 * (C_ + C_.transpose());
    sigma_ *= std::exp(std::min(1.0, (cs_ / ds_) * (ps_norm / chi_ - 1)));
    Eigen::SelfAdjointEigenSolver<MatrixXd> eig(C_);
    if (eig.info() != Eigen::Success) return false;
    B_ = eig.eigenvectors();
    D_ = eig.eigenvalues().cwiseMax(1e-20).cwiseSqrt();
    const double condition = (D_.maxCoeff() / D_.minCoeff()) * (D_.maxCoeff() / D_.minCoeff());
    return std::isfinite(sigma_) && sigma_ * D_.maxCoeff() > 1e-10 && condition < 1e14 &&
           !(spread <= 1e-12);
  }

  /// A point of N(m, sigma^2 C) inside the unit cube (redrawn, then clipped).
  VectorXd draw(Rng& rng) const {
    VectorXd x(n_);
    for (int attempt = 0; attempt < kMaxRedraws; ++attempt) {
      VectorXd z(n_);
      for (int i = 0; i < n_; ++i) z(i) = rng.normal();
      x = mean_ + sigma_ * (B_ * D_.cwiseProduct(z));
      if ((x.array() >= 0).all() && (x.array() <= 1).all()) return x;
    }
    return x.cwiseMax(0.0).cwiseMin(1.0);
  }

 private:
  int n_, lambda_, mu_ = 0, generation_ = 0;
  VectorXd weights_;
  double mueff_ = 0, cs_ = 0, ds_ = 0, cc_ = 0, c1_ = 0, cmu_ = 0, chi_ = 0;
  VectorXd mean_;
  double sigma_;
  MatrixXd C_, B_;
  VectorXd D_, ps_, pc_;
};

int default_popsize(std::size_t dims) {
  return 4 + static_cast<int>(std::floor(3 * std::log(static_cast<double>(dims))));
}

}  // namespace

CmaEsOptions cmaes_options_from_json(const nlohmann::json& j, std::uint64_t seed) {
  const ComponentOptions options("sampler 'cmaes'", j,
                                 {"seed", "sigma0", "n_startup_trials", "popsize", "restarts"});
  const CmaEsOptions d;
  return {.seed = options.count("seed", seed),
          .sigma0 = options.real("sigma0", d.sigma0),
          .n_startup_trials = options.integer("n_startup_trials", d.n_startup_trials, 0),
          .popsize = options.integer("popsize", d.popsize, 0),
          .restarts = options.boolean("restarts", d.restarts)};
}

CmaEsSampler::CmaEsSampler(CmaEsOptions options)
    : options_(options), random_({.seed = options.seed}) {
  require(options_.sigma0 > 0 && options_.sigma0 <= 1, "sampler 'cmaes'", "0 < sigma0 <= 1",
          options_.sigma0);
  require(options_.n_startup_trials >= 0, "sampler 'cmaes'", "n_startup_trials >= 0",
          options_.n_startup_trials);
  require(options_.popsize == 0 || options_.popsize >= 2, "sampler 'cmaes'", "popsize = 0 or >= 2",
          options_.popsize);
}

Params CmaEsSampler::sample_relative(const Space& space, const std::vector<Trial>& history,
                                     std::int64_t number) {
  const auto dims = searched(space);
  if (dims.empty() || number < options_.n_startup_trials) return {};  // all drawn at random
  std::map<std::int64_t, const Trial*> by_number;
  for (const Trial& t : history) by_number[t.number] = &t;

  // The first mean: the centre of the cube (Optuna's x0).
  const VectorXd mean = VectorXd::Constant(static_cast<Eigen::Index>(dims.size()), 0.5);
  int lambda = options_.popsize ? static_cast<int>(options_.popsize) : default_popsize(dims.size());
  Strategy run(mean, options_.sigma0, lambda);
  std::int64_t start = options_.n_startup_trials;  // the current generation's first number
  for (std::uint64_t restart = 0; number >= start + run.lambda();) {
    // Replay this generation if all of its trials have finished.
    std::vector<std::pair<double, VectorXd>> scored;
    bool finished = true;
    for (std::int64_t k = start; k < start + run.lambda() && finished; ++k) {
      const auto it = by_number.find(k);
      if (it == by_number.end() || !it->second->finished()) {
        finished = false;
        break;
      }
      if (auto x = point_of(*it->second, dims))
        scored.emplace_back(loss(*it->second).value_or(std::numeric_limits<double>::infinity()),
                            std::move(*x));
    }
    if (!finished) break;  // parallel workers: propose from the latest distribution
    start += run.lambda();
    if (scored.empty()) continue;
    std::stable_sort(scored.begin(), scored.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<VectorXd> best_first;
    for (auto& [value, x] : scored) best_first.push_back(std::move(x));
    const double spread = scored.back().first - scored.front().first;
    if (run.update(best_first, std::isnan(spread) ? 0.0 : spread) || !options_.restarts) continue;
    ++restart;  // IPOP: a new run from a random mean with twice the population
    Rng rng = Rng::stream(options_.seed, {kRestartStream, restart});
    VectorXd fresh(static_cast<Eigen::Index>(dims.size()));
    for (Eigen::Index i = 0; i < fresh.size(); ++i) fresh(i) = rng.uniform();
    run = Strategy(fresh, options_.sigma0, 2 * run.lambda());
  }

  Rng rng = Rng::stream(options_.seed, {static_cast<std::uint64_t>(number), kRestartStream});
  const VectorXd x = run.draw(rng);
  Params out;
  for (std::size_t i = 0; i < dims.size(); ++i)
    out[dims[i]->name()] = dims[i]->from_unit(x(static_cast<Eigen::Index>(i)));
  return out;
}

Value CmaEsSampler::sample_independent(const Param& param, const Params& assigned,
                                       const std::vector<Trial>& history, std::int64_t number) {
  return random_.sample_independent(param, assigned, history, number);
}

}  // namespace quarry::samplers
