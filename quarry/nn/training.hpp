// One trial of a model study: build the model, continue from the parent's checkpoint when the
// scheduler promoted the trial (Hyperband), fit it to the trial's budget with early stopping and
// the pruning reporter, record what it cost, save its checkpoint, and return its best value.
// Also the end of a search: retrain the best configuration and measure it on the test set.
//
// No LibTorch in this header: the command line builds model studies through it.
//
// What a trial records (trial attributes, JSON): "history" (one object of metrics per epoch,
// including "epoch", counted from 1 over the whole training, inherited epochs included),
// "best_epoch", "epochs" (trained in total), "complexity" {parameters, flops, latency_b1_ms,
// latency_b256_ms}, "inherited_from" (the parent whose checkpoint it started from).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "quarry/data/dataset.hpp"
#include "quarry/nn/spec.hpp"
#include "quarry/objectives/objective.hpp"

namespace quarry::nn {

/// Keras' EarlyStopping settings (see fit.hpp).
struct EarlyStoppingSettings {
  std::string monitor = "val_loss";
  std::string mode = "auto";
  std::int64_t patience = 0;
  double min_delta = 0;
  bool restore_best_weights = false;
};

struct TrainingOptions {
  std::string objective = "val_accuracy";  ///< the trial's value: this metric at its best epoch
  std::int64_t epochs = 10;                ///< when the trial has no budget of its own
  std::int64_t batch_size = 32;
  bool shuffle = true;
  std::optional<EarlyStoppingSettings> early_stopping;
  std::filesystem::path checkpoints;  ///< folder of trial_<n>.pt; empty: no checkpoints
  std::uint64_t seed = 0;             ///< shuffling order, derived per trial
  /// Progress: called after every epoch of every trial (from the trial's thread).
  std::function<void(std::int64_t trial, std::int64_t epoch, std::int64_t epochs,
                     const std::map<std::string, double>& logs)>
      on_epoch;
};

/// Training and validation rows, loaded once and shared read-only by every trial of the process.
struct TrainingData {
  std::shared_ptr<const data::Dataset> train, validation;
};

/// The objective of a study whose model is a spec resolved from each trial's parameters (the YAML
/// `model` section).
std::unique_ptr<objectives::Objective> make_spec_objective(
    std::function<ModelSpec(const Params&)> resolve, TrainingData data, TrainingOptions options);

/// The file a trial's checkpoint is written to.
std::filesystem::path checkpoint_path(const std::filesystem::path& folder, std::int64_t trial);

/// The best configuration trained again from scratch for `epochs` epochs, evaluated on `test`,
/// its weights saved to `save_to` (when not empty).
struct FinalModel {
  std::map<std::string, double> last_epoch;  ///< loss, accuracy, val_loss, val_accuracy
  std::map<std::string, double> test;        ///< loss, accuracy on the test rows
  std::map<std::string, double> complexity;  ///< parameters, flops, latency_b1_ms, latency_b256_ms
};
FinalModel train_final(const ModelSpec& spec, const TrainingData& data, const data::Dataset& test,
                       std::int64_t epochs, const TrainingOptions& options,
                       const std::filesystem::path& save_to);

}  // namespace quarry::nn
