// Learning-curve extrapolation: an ensemble of parametric curve families, each fitted by least
// squares, weighted by how well it fits (Domhan, Springenberg & Hutter, "Speeding up Automatic
// Hyperparameter Optimization of Deep Neural Networks by Extrapolation of Learning Curves", IJCAI
// 2015). Where the paper samples the ensemble's posterior by MCMC, this fits each family once
// (Levenberg-Marquardt) and combines the fits with BIC weights.
//
//   auto p = extrapolate({{1, 0.40}, {2, 0.61}, {3, 0.70}, {4, 0.74}, {5, 0.76}}, 30);
//   // p->mean 0.830, p->stddev 0.050 (the points are 0.9 - 0.5 t^-0.8 rounded; at 30 it is 0.867)
//
// Families of the step t >= 1 (A and c are free, so a family fits rising and falling curves; the
// rates and exponents are positive: all but vapor_pressure are monotone, all but ilog2 and
// vapor_pressure saturate):
//   ilog2            c + A / ln(t + 1)                  (2 parameters, from 4 points)
//   pow3             c + A t^-alpha                     (3, from 4)
//   exp3             c + A e^(-a t)                     (3, from 4)
//   pow4             c + A (t + s)^-alpha, s > 0        (4, from 6)
//   exp4             c + A e^(-a t^alpha)               (4, from 6) = weibull, janoschek
//   mmf              c + A / (1 + (kappa t)^delta)      (4, from 6) = log_power, hill3 + offset
//   vapor_pressure   c + A t^b e^(d / t)                (4, from 6)
// The paper's weibull, alpha - (alpha - beta) e^(-(kappa t)^delta), and janoschek, alpha - (alpha
// - beta) e^(-kappa t^delta), are exp4 in other parameters; log_power, a / (1 + (t / e^b)^c), and
// hill3, y t^eta / (kappa^eta + t^eta), pass through 0 at t = 0, which values of any scale need an
// offset for, and with it they are mmf. Each shape is listed once so that no shape counts twice in
// the weights. vapor_pressure has an offset c for the same reason (the paper's is e^(a + b/t +
// c ln t)).
//
// Fitting: values are mapped to z = (y - min) / (max - min) and steps to t / t_last (every family
// but ilog2, which uses the raw steps, is unchanged by both maps up to its parameters). For each
// family, its rates and exponents start on a fixed grid with A and c solved by linear least
// squares; Levenberg-Marquardt refines the three best grid points. A family needs the points
// listed above (measured on seeded test curves: with only k + 1 points the truth fell outside
// 3 stddev in most of them). Its prediction at the target step carries the parameters'
// uncertainty (Laplace approximation: g' (J'J / s^2 + P)^-1 g, g the gradient of the prediction,
// P weak Gaussian priors of sd 10 on c and A and 2 on the log rates) plus the residual noise
// s^2 = RSS / (n - k). Noise below 1% of the observed range counts as 1% (in s^2 and in the BIC):
// without that floor a family that happened to fit a few rounded points almost exactly took all
// the weight and claimed an error 40 times smaller than its real one. Fits that are non-finite or
// predict more than 4 observed ranges beyond the observed values are dropped. Weights: exp(-BIC /
// 2) with BIC = n ln(max(RSS / n, floor)) + k ln n. The ensemble's mean is the weighted mean; its
// variance is the weighted mean of each family's variance plus the weighted spread of the family
// means. Deterministic: no randomness anywhere.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace quarry::pruners {

/// The ensemble's prediction of a curve's value at a later step.
struct CurvePrediction {
  double mean = 0;
  double stddev = 0;
  int families = 0;  ///< families that contributed (0: a flat curve, predicted as its value)
};

/// One family's fit, for reports and tests (values in the caller's units).
struct FamilyFit {
  std::string family;
  double mean = 0;    ///< prediction at the target step
  double stddev = 0;  ///< parameter uncertainty and residual noise
  double rss = 0;     ///< residual sum of squares over the points
  double weight = 0;  ///< share in the ensemble (0 from fit_family)
  int parameters = 0;
};

/// The families' names, in the order above.
const std::vector<std::string>& curve_families();

/// Each family that fits `points` (step, value), with its weight. Empty when none does.
/// InvalidArgument when a step is < 1, steps repeat, a value is not finite or target_step < 1.
std::vector<FamilyFit> fit_families(const std::vector<std::pair<double, double>>& points,
                                    double target_step);

/// One family's fit (weight 0); nullopt when it has too few points or its fit is rejected.
/// InvalidArgument for an unknown family name, or the checks of fit_families.
std::optional<FamilyFit> fit_family(const std::string& family,
                                    const std::vector<std::pair<double, double>>& points,
                                    double target_step);

/// The ensemble's prediction at `target_step`; nullopt when no family fits (fewer than 4 points).
/// A flat curve (every value equal) predicts that value with stddev 0. Same checks as above.
std::optional<CurvePrediction> extrapolate(const std::vector<std::pair<double, double>>& points,
                                           double target_step);

}  // namespace quarry::pruners
