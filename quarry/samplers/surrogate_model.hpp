// SurrogateModel: the performance predictor behind SurrogateSampler
// (quarry/samplers/surrogate.hpp), in the spirit of Progressive NAS (Liu et al., "Progressive
// Neural Architecture Search", ECCV 2018): a small regressor from an architecture's encoding to its
// validation metric, trained on the architectures already evaluated, cheap enough to rank thousands
// of unseen ones.
//
//   const Encoder encoder(space);                            // quarry/samplers/encoder.hpp
//   SurrogateModel model({.seed = 3});
//   model.fit(xs, losses);                                   // rows of encoder.encode(params)
//   const std::vector<SurrogatePrediction> p = model.predict(candidates);
//
// Rows are any fixed-width vectors of numbers; SurrogateSampler gives it the shared encoding of
// the model-based samplers (Encoder: unordered choices of more than two values one-hot, every
// other parameter one unit-cube column, fixed values for inactive parameters).
//
// Model: an ensemble of `networks` multilayer perceptrons, each one hidden layer of `hidden` ReLU
// units and a linear output (PNAS used an ensemble of 5 MLPs / LSTMs; Lakshminarayanan et al.
// 2017, "Simple and Scalable Predictive Uncertainty Estimation using Deep Ensembles", for the
// spread). Targets are standardised (mean 0, standard deviation 1) before fitting and predictions
// returned in their units (targets all equal: every prediction is that value, spread 0). Each
// network starts from its own random weights (N(0, 1/fan_in)) and, with `bootstrap`, trains on its
// own resample of the rows; it takes `epochs` full-batch Adam steps (Kingma & Ba 2015: beta1 0.9,
// beta2 0.999) on mean squared error + weight_decay/2 * |W|^2 (the weights, not the biases).
// predict() gives the ensemble's mean and the standard deviation of its networks' predictions (the
// spread: 0 for one network).
//
// Deterministic: every draw comes from quarry::Rng seeded with options.seed; no other randomness,
// no threads.
//
// Options. The defaults were chosen on NAS-Bench-201 (100 training architectures, Spearman's rho
// with the cifar10-val accuracy of 1,000 others, mean over 10 splits; surrogate_model_test.cpp):
// these 0.616 at ~25 ms of CPU per fit; tanh units 0.609 at twice the cost; 64 hidden units or
// 10 networks 0.618 at twice the cost; 3 networks 0.613; bootstrap 0.596; weight decay 3e-3
// 0.605; closed-form ridge regression on the same encoding 0.544.
//   seed          root of the initial weights and resamples (default 0)
//   networks      ensemble size (default 5, >= 1)
//   hidden        hidden units per network (default 32, >= 1)
//   epochs        full-batch Adam steps per network (default 150, >= 1)
//   learning_rate Adam's step size (default 0.02, > 0)
//   weight_decay  L2 penalty on the weights (default 1e-2, >= 0)
//   bootstrap     each network fits a resample with replacement of the rows (default false:
//                 different initial weights already spread the ensemble, and with 100 points a
//                 resample drops a third of them)
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace quarry::samplers {

struct SurrogateModelOptions {
  std::uint64_t seed = 0;
  std::int64_t networks = 5;
  std::int64_t hidden = 32;
  std::int64_t epochs = 150;
  double learning_rate = 0.02;
  double weight_decay = 1e-2;
  bool bootstrap = false;
};

struct SurrogatePrediction {
  double mean = 0;    ///< the ensemble's mean prediction (units of the targets)
  double spread = 0;  ///< the standard deviation of the networks' predictions
};

class SurrogateModel {
 public:
  /// Throws InvalidArgument for an option outside the ranges listed above.
  explicit SurrogateModel(SurrogateModelOptions options = {});

  /// Trains a fresh ensemble on rows `x` (n >= 1, all of one dimension) and targets `y` (n finite
  /// values); InvalidArgument otherwise. A previous fit is discarded.
  void fit(const std::vector<std::vector<double>>& x, const std::vector<double>& y);
  /// One prediction per row; InvalidArgument before fit() or for a row of another dimension.
  std::vector<SurrogatePrediction> predict(const std::vector<std::vector<double>>& x) const;

  bool fitted() const { return !networks_.empty(); }
  const SurrogateModelOptions& options() const { return options_; }

 private:
  /// One network's weights: w1 (hidden x dims, column-major), b1 and w2 (hidden each), b2.
  struct Network {
    std::vector<double> w1, b1, w2;
    double b2 = 0;
  };
  Network train(const std::vector<std::vector<double>>& x, const std::vector<double>& y,
                std::uint64_t index) const;

  SurrogateModelOptions options_;
  std::vector<Network> networks_;
  std::size_t dims_ = 0;
  double y_mean_ = 0, y_scale_ = 1;
};

}  // namespace quarry::samplers
