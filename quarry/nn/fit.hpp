// Training: Keras' fit / evaluate / predict with callbacks, over quarry::data::Dataset.
//
//   auto history = quarry::nn::fit(model, train, {
//       .epochs = 50, .validation_split = 0.2,
//       .callbacks = {std::make_shared<quarry::nn::EarlyStopping>(
//           quarry::nn::EarlyStoppingOptions{.monitor = "val_loss", .patience = 5})}});
//
// Metric names as Keras writes them: "loss", "accuracy", and "val_loss", "val_accuracy" on the
// validation data. A loss that becomes NaN or infinite throws TrialFailed("loss became nan at epoch
// 3, batch 12"; both counted from 1, as Keras' progress bar shows them).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "quarry/data/dataset.hpp"
#include "quarry/nn/model.hpp"

namespace quarry::nn {

using Logs = std::map<std::string, double>;  ///< metric name -> value for one epoch

struct History {
  std::vector<Logs> epochs;  ///< one entry per epoch run by this fit call
  std::int64_t initial_epoch = 0;
  bool stopped_early = false;  ///< a callback stopped training (early stopping or pruning)
  bool pruned = false;         ///< the Reporter's scheduler stopped it
  /// The index into `epochs` of the best value of `metric` (mode "min"/"max"/"auto": "max" for
  /// names containing "acc"); nullopt when no epoch has it.
  std::optional<std::size_t> best(const std::string& metric,
                                  const std::string& mode = "auto") const;
};

/// What a callback sees and may change while fit runs.
struct FitState {
  Model& model;
  bool stop_training = false;
  bool pruned = false;
};

class Callback {
 public:
  virtual ~Callback() = default;
  virtual void on_train_begin(FitState&) {}
  /// `epoch` counts from 0 including initial_epoch (Keras' numbering).
  virtual void on_epoch_end(std::int64_t /*epoch*/, const Logs&, FitState&) {}
  virtual void on_train_end(FitState&) {}
};

/// Keras' EarlyStopping: stop when `monitor` has not improved by more than `min_delta` for
/// `patience` epochs (Keras 2.x: each epoch without improvement adds 1 to a wait counter, an
/// improvement resets it, training stops once wait >= patience; patience 0 stops at the first epoch
/// without improvement). restore_best_weights copies the parameters and buffers of the best epoch
/// and puts them back when it stops training (as Keras 2.x does) and also at the end of a fit that
/// ran every epoch or was stopped by another callback (as Keras 3 does). A monitor missing from the
/// logs throws InvalidArgument listing the logged metrics. Its options (EarlyStoppingOptions) are
/// in spec.hpp; bad ones throw InvalidArgument "EarlyStopping: patience must be an integer >= 0,
/// got -1".
class EarlyStopping final : public Callback {
 public:
  explicit EarlyStopping(EarlyStoppingOptions options = {});
  void on_train_begin(FitState& state) override;
  void on_epoch_end(std::int64_t epoch, const Logs& logs, FitState& state) override;
  void on_train_end(FitState& state) override;
  std::optional<std::int64_t> stopped_epoch() const { return stopped_epoch_; }
  const EarlyStoppingOptions& options() const { return options_; }

 private:
  EarlyStoppingOptions options_;
  double best_ = 0;
  std::int64_t wait_ = 0;
  std::optional<std::int64_t> stopped_epoch_;
  std::vector<torch::Tensor> best_weights_;
  bool has_best_ = false;
};

/// Sends `metric` after every epoch to a scheduler (report(step = epoch + 1, value) -> stop?) and
/// stops training, marked pruned, when it answers true.
class Reporter final : public Callback {
 public:
  using Report = std::function<bool(std::int64_t step, double value)>;
  Reporter(std::string metric, Report report);
  void on_epoch_end(std::int64_t epoch, const Logs& logs, FitState& state) override;

 private:
  std::string metric_;
  Report report_;
};

/// Saves a checkpoint (weights + optimizer + epochs done) to `path` after every epoch, or only
/// when `monitor` improves if `save_best_only`.
struct CheckpointOptions {
  std::string path;
  std::string monitor = "val_loss";
  std::string mode = "auto";
  bool save_best_only = false;
};
class Checkpoint final : public Callback {
 public:
  explicit Checkpoint(CheckpointOptions options);
  void on_epoch_end(std::int64_t epoch, const Logs& logs, FitState& state) override;

 private:
  CheckpointOptions options_;
  std::optional<double> best_;
};

struct FitOptions {
  std::int64_t epochs = 1;         ///< train until this epoch (Keras: epochs is the last epoch)
  std::int64_t initial_epoch = 0;  ///< epochs already trained (resuming a checkpoint)
  std::int64_t batch_size = 32;
  bool shuffle = true;
  std::uint64_t seed = 0;       ///< shuffling order (quarry::Rng)
  double validation_split = 0;  ///< the last fraction of `train`, as Keras takes it (no shuffle)
  const data::Dataset* validation_data = nullptr;  ///< used instead of validation_split when set
  std::vector<std::shared_ptr<Callback>> callbacks;
  /// Called after each epoch with its logs (progress output).
  std::function<void(std::int64_t epoch, const Logs&)> on_epoch;
  /// Checked between batches; when it turns true fit throws TrialInterrupted.
  std::function<bool()> interrupted;
};

History fit(Model& model, const data::Dataset& train, const FitOptions& options);
/// {"loss": mean loss, "accuracy": ...} over `data` (eval mode, no grad).
Logs evaluate(Model& model, const data::Dataset& data, std::int64_t batch_size = 256);
/// Outputs (logits) for every row, [rows, outputs].
torch::Tensor predict(Model& model, const data::Dataset& data, std::int64_t batch_size = 256);
/// What the model predicts for every row, in one pass (eval mode, no grad), as its loss reads its
/// outputs: sparse_categorical_crossentropy the softmax of the logits, [rows, classes];
/// binary_crossentropy the sigmoid p of the one logit as [rows, 2] = (1 - p, p);
/// mean_squared_error the values, [rows, 1]. Float32, contiguous.
torch::Tensor predict_probabilities(Model& model, const data::Dataset& data,
                                    std::int64_t batch_size = 256);

/// An ensemble's prediction: the mean of the models' predict_probabilities for every row (the
/// mean output for mean_squared_error). The models share a loss and their number of outputs.
torch::Tensor predict_average(const std::vector<Model*>& models, const data::Dataset& data,
                              std::int64_t batch_size = 256);
/// evaluate for an ensemble: {"loss", "accuracy"} of predict_average's prediction, the loss read
/// as the models' loss reads it (the cross-entropy of the averaged probabilities, the squared
/// error of the mean output); accuracy when the first model lists it.
Logs evaluate_average(const std::vector<Model*>& models, const data::Dataset& data,
                      std::int64_t batch_size = 256);

}  // namespace quarry::nn
