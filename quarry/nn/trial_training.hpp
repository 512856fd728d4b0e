// The training of one trial, shared by the YAML model studies (training.cpp) and the C++ tuners
// (tuner.cpp). Includes LibTorch.
#pragma once

#include <memory>
#include <vector>

#include "quarry/nn/fit.hpp"
#include "quarry/nn/training.hpp"

namespace quarry::nn {

/// Trains `model` for the trial in `context` (see training.hpp) and returns its objective value.
/// Throws TrialPruned when the scheduler stopped it, TrialFailed when the loss diverged,
/// TrialInterrupted when the search is stopping.
std::vector<double> train_trial(Model& model, objectives::TrialContext& context,
                                const TrainingData& data, const TrainingOptions& options);

/// The settings as fit's callbacks.
std::vector<std::shared_ptr<Callback>> early_stopping_callbacks(const TrainingOptions& options);

}  // namespace quarry::nn
