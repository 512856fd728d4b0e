// The training of one trial, shared by the YAML model studies (training.cpp) and the C++ tuners
// (quarry/tuners/tuner.cpp). Includes LibTorch.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "quarry/nn/fit.hpp"
#include "quarry/nn/training.hpp"

namespace quarry::nn {

/// Trains `model` for the trial in `context` (see training.hpp) and returns its objective value.
/// Throws TrialPruned when the scheduler stopped it, TrialFailed when the loss diverged,
/// TrialInterrupted when the search is stopping.
std::vector<double> train_trial(Model& model, objectives::TrialContext& context,
                                const TrainingData& data, const TrainingOptions& options);

/// Records whether the trial meets `constraints` (attrs "feasible" and "constraints", see
/// study/constraints.hpp), `value` giving each constrained metric; true when it does. Nothing is
/// recorded without constraints.
bool check_constraints(objectives::TrialContext& context,
                       const std::vector<study::Constraint>& constraints,
                       const std::function<double(const std::string&)>& value);

/// The settings as fit's callbacks.
/// Records that the trial trained from scratch because of `problem` (its parent's checkpoint was
/// missing, damaged or of another network): "inheritance": "none", "inheritance_problem".
void record_no_inheritance(objectives::TrialContext& context, const std::string& problem);

std::vector<std::shared_ptr<Callback>> early_stopping_callbacks(const TrainingOptions& options);

}  // namespace quarry::nn
