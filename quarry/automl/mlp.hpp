// The multi-layer perceptron family of tabular AutoML, trained with Quarry's LibTorch trainer
// (quarry/nn). This header is torch-free; mlp.cpp, built into quarry_nn, holds the model.
//
// The network: `hidden_layers` Dense(units, relu) + Dropout(dropout) layers, then one output per
// class (softmax; binary has 2) or a single value (regression), trained with AdamW on
// cross-entropy or mean squared error. Inputs are standardised with the training rows' means and
// standard deviations (detail::Standardizer: 0/1 columns stay as they are; missing values must be
// imputed first: NaN is an InvalidArgument), and so is a regression target. When 10 % of the rows
// (rounded) makes at least kMlpMinValidationRows, a seeded 10 % (stratified for classification) is
// held out and the weights of the epoch with the lowest validation loss are kept (early stopping,
// patience kMlpPatience); with fewer rows, every row trains and the last epoch is kept. One math
// thread (nn::pin_math_threads; FitOptions::threads is not used: parallelism comes from fits side
// by side); weights, dropout masks, the split and the row order all come from FitOptions::seed, so
// a fit is reproducible. budget_fraction scales the epochs; FitOptions::deadline is checked between
// epochs and, after the first epoch, between batches: fit then stops and keeps the best epoch so
// far. A loss that turns NaN or infinite is a quarry::Error: "mlp: training diverged (loss became
// nan at epoch 3, batch 12, learning_rate 0.1)".
//
// save() writes "<stem>.pt" (the weights) and returns {"task", "layers" (input, hidden...,
// outputs), "dropout", "x_mean", "x_std", "y_mean", "y_std", "weights", "params", "epochs"
// (planned), "epochs_run", "best_epoch"}; load() rebuilds the network and predicts the same.
#pragma once

#include <cstdint>

#include "quarry/automl/estimator.hpp"

namespace quarry::automl {

inline constexpr std::int64_t kMlpPatience = 10;
/// The internal validation split needs at least this many rows (10 % of the training rows).
inline constexpr std::int64_t kMlpMinValidationRows = 10;

/// The "mlp" family: its space (mlp.hidden_layers, mlp.units, mlp.dropout, mlp.learning_rate,
/// mlp.weight_decay, mlp.batch_size, mlp.epochs), cheap start, factory and loader.
Family mlp_family();
/// Adds mlp_family() to the registry (register_family); idempotent.
void register_mlp_family();

}  // namespace quarry::automl
