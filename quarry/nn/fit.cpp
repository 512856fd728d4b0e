// fit / evaluate / predict (Keras' semantics) over quarry::data::Dataset. The callbacks and
// History::best live in callbacks.cpp.
//
// A dataset is shared read-only by the trials running in other threads: it is wrapped once per
// call with torch::from_blob (no copy) and never written; every batch is a copy (index_select or
// clone), so no layer, even an in-place one, can write into the shared rows.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "quarry/core/cpu.hpp"
#include "quarry/core/error.hpp"
#include "quarry/core/rng.hpp"
#include "quarry/data/shape.hpp"
#include "quarry/nn/fit.hpp"

namespace quarry::nn {
namespace {

/// A dataset (or a run of its rows) as tensors: x [rows, ...shape], y [rows].
struct Tensors {
  torch::Tensor x, y;
  std::int64_t rows() const { return y.size(0); }
  Tensors slice(std::int64_t start, std::int64_t count) const {
    return {x.narrow(0, start, count), y.narrow(0, start, count)};
  }
};

using data::shape_text;

/// Wraps `d` without copying it; checks that it is consistent and fits `model`.
Tensors as_tensors(const data::Dataset& d, Model& model, const std::string& component) {
  const std::int64_t rows = d.rows(), row_size = data::shape_size(d.shape);
  if (rows == 0) throw InvalidArgument(component + ": the data has no rows");
  if (static_cast<std::int64_t>(d.x.size()) != rows * row_size) {
    throw InvalidArgument(component + ": the data holds " + std::to_string(d.x.size()) +
                          " values for " + std::to_string(rows) + " rows of shape " +
                          shape_text(d.shape) + "; x must hold rows * row_size values");
  }
  const auto& input = model.input_shape();
  if (!input.empty() && data::shape_size(input) != row_size) {
    throw InvalidArgument(component + ": the data's examples have shape " + shape_text(d.shape) +
                          " but the model takes input shape " + shape_text(input));
  }
  std::vector<std::int64_t> shape = {rows};
  shape.insert(shape.end(), d.shape.begin(), d.shape.end());
  // const_cast only to satisfy from_blob's signature: these tensors are never written.
  return {torch::from_blob(const_cast<float*>(d.x.data()), shape, torch::kFloat32),
          torch::from_blob(const_cast<float*>(d.y.data()), {rows}, torch::kFloat32)};
}

bool wants_accuracy(const Model& model) {
  const auto& metrics = model.metrics();
  return model.loss() != Loss::MeanSquaredError &&
         std::find(metrics.begin(), metrics.end(), "accuracy") != metrics.end();
}

/// Sums over the batches of an epoch or an evaluation; loss weighted by batch size (Keras' Mean).
struct Totals {
  double loss_sum = 0;
  std::int64_t correct = 0, rows = 0;
  void add(double batch_loss, std::int64_t batch_rows, std::int64_t batch_correct) {
    loss_sum += batch_loss * static_cast<double>(batch_rows);
    rows += batch_rows;
    correct += batch_correct;
  }
  Logs logs(bool accuracy) const {
    Logs out = {{"loss", loss_sum / static_cast<double>(rows)}};
    if (accuracy) out["accuracy"] = static_cast<double>(correct) / static_cast<double>(rows);
    return out;
  }
};

void check_batch_size(const std::string& component, std::int64_t batch_size) {
  if (batch_size < 1) {
    throw InvalidArgument(component + ": batch_size must be >= 1, got " +
                          std::to_string(batch_size));
  }
}

void check_options(const FitOptions& o) {
  check_batch_size("fit", o.batch_size);
  if (o.initial_epoch < 0) {
    throw InvalidArgument("fit: initial_epoch must be >= 0, got " +
                          std::to_string(o.initial_epoch));
  }
  if (!(o.validation_split >= 0 && o.validation_split < 1)) {
    throw InvalidArgument("fit: validation_split must be in [0, 1), got " +
                          std::to_string(o.validation_split));
  }
  for (std::size_t i = 0; i < o.callbacks.size(); ++i) {
    if (!o.callbacks[i]) throw InvalidArgument("fit: callbacks[" + std::to_string(i) + "] is null");
  }
}

struct Parts {
  Tensors train;
  std::optional<Tensors> validation;
};

/// Keras' rule: validation_data when given, else the last validation_split of the rows, taken
/// before any shuffling (split_at = floor(rows * (1 - validation_split))).
Parts split_validation(Model& model, const data::Dataset& train, const FitOptions& o) {
  Tensors all = as_tensors(train, model, "fit");
  if (o.validation_data)
    return {all, as_tensors(*o.validation_data, model, "fit (validation_data)")};
  if (o.validation_split == 0) return {all, std::nullopt};
  const auto split_at = static_cast<std::int64_t>(
      std::floor(static_cast<double>(all.rows()) * (1 - o.validation_split)));
  if (split_at <= 0 || split_at >= all.rows()) {
    throw InvalidArgument("fit: validation_split=" + std::to_string(o.validation_split) + " of " +
                          std::to_string(all.rows()) +
                          " rows leaves one side empty; both training and validation need rows");
  }
  return {all.slice(0, split_at), all.slice(split_at, all.rows() - split_at)};
}

/// The epoch's row order: a Fisher-Yates shuffle on Rng::stream(seed, {epoch}), or 0..rows-1.
torch::Tensor epoch_order(std::int64_t rows, const FitOptions& o, std::int64_t epoch) {
  std::vector<std::int64_t> order(static_cast<std::size_t>(rows));
  for (std::int64_t i = 0; i < rows; ++i) order[static_cast<std::size_t>(i)] = i;
  if (o.shuffle) {
    Rng rng = Rng::stream(o.seed, {static_cast<std::uint64_t>(epoch)});
    for (std::size_t i = order.size() - 1; i > 0; --i) std::swap(order[i], order[rng.below(i + 1)]);
  }
  return torch::tensor(order, torch::kLong);
}

void check_loss(double loss, std::int64_t epoch, std::int64_t batch) {
  if (std::isfinite(loss)) return;
  // Counted from 1, as Keras' progress bar shows them ("Epoch 3/10").
  throw TrialFailed(std::string("loss became ") + (std::isnan(loss) ? "nan" : "inf") +
                    " at epoch " + std::to_string(epoch + 1) + ", batch " +
                    std::to_string(batch + 1));
}

/// torch's zero_grad(set_to_none = true): backward then writes each gradient into a fresh tensor
/// instead of adding it to a zeroed one (a pass less over every weight per batch).
void drop_gradients(Model& model) {
  for (auto& group : model.optimizer().param_groups())
    for (auto& p : group.params()) p.mutable_grad().reset();
}

/// One pass over `train` in minibatches; returns the running loss (and accuracy). Denormal floats
/// count as zero while it runs (forward, backward, the optimizer's step), as TensorFlow trains
/// Keras models: the optimizers' decaying averages otherwise spend steps in that ~100 times slower
/// range (the seed model with RMSprop: 1.29-1.36 s per epoch with them, 1.10-1.13 s without).
/// Evaluation keeps IEEE arithmetic, so that evaluate() after fit gives the validation figures.
Logs train_epoch(Model& model, const Tensors& train, const FitOptions& o, std::int64_t epoch) {
  const FlushDenormals flush;
  model.net()->train();
  const bool accuracy = wants_accuracy(model);
  const torch::Tensor order = epoch_order(train.rows(), o, epoch);
  Totals totals;
  for (std::int64_t start = 0, batch = 0; start < train.rows(); start += o.batch_size, ++batch) {
    if (o.interrupted && o.interrupted()) throw TrialInterrupted();
    const std::int64_t count = std::min(o.batch_size, train.rows() - start);
    const torch::Tensor rows = order.narrow(0, start, count);
    const torch::Tensor x = train.x.index_select(0, rows), y = train.y.index_select(0, rows);
    const torch::Tensor output = model.net()->forward(x);
    const torch::Tensor loss = compute_loss(model.loss(), output, y);
    const double value = loss.item<double>();
    check_loss(value, epoch, batch);
    drop_gradients(model);
    loss.backward();
    model.optimizer().step();
    totals.add(value, count, accuracy ? count_correct(model.loss(), output.detach(), y) : 0);
  }
  return totals.logs(accuracy);
}

/// Validation rows per forward pass: 2^18 input values' worth (334 Fashion-MNIST images, 85 of
/// CIFAR's) but at most 1,024 rows (a table's few columns), and never fewer than the training
/// batch. The same numbers as batches of the training size give, up to float rounding, in far
/// fewer calls; a network's activations for those rows stay in the tens of megabytes.
std::int64_t evaluation_batch(std::int64_t batch_size, const Model& model) {
  const std::int64_t values = std::max<std::int64_t>(data::shape_size(model.input_shape()), 1);
  const std::int64_t rows = (std::int64_t{1} << 18) / values;
  return std::max(batch_size, std::min<std::int64_t>(rows, 1024));
}

Logs evaluate_tensors(Model& model, const Tensors& data, std::int64_t batch_size) {
  model.net()->eval();
  torch::NoGradGuard no_grad;
  const bool accuracy = wants_accuracy(model);
  Totals totals;
  for (std::int64_t start = 0; start < data.rows(); start += batch_size) {
    const std::int64_t count = std::min(batch_size, data.rows() - start);
    const Tensors batch = data.slice(start, count);
    const torch::Tensor x = batch.x.clone(), y = batch.y.clone();
    const torch::Tensor output = model.net()->forward(x);
    const double loss = compute_loss(model.loss(), output, y).item<double>();
    totals.add(loss, count, accuracy ? count_correct(model.loss(), output, y) : 0);
  }
  return totals.logs(accuracy);
}

}  // namespace

History fit(Model& model, const data::Dataset& train, const FitOptions& options) {
  check_options(options);
  const Parts parts = split_validation(model, train, options);
  History history;
  history.initial_epoch = options.initial_epoch;
  FitState state{.model = model};
  for (const auto& callback : options.callbacks) callback->on_train_begin(state);
  for (std::int64_t epoch = options.initial_epoch; epoch < options.epochs && !state.stop_training;
       ++epoch) {
    Logs logs = train_epoch(model, parts.train, options, epoch);
    if (parts.validation) {
      for (const auto& [name, value] : evaluate_tensors(
               model, *parts.validation, evaluation_batch(options.batch_size, model))) {
        logs["val_" + name] = value;
      }
    }
    history.epochs.push_back(logs);
    if (options.on_epoch) options.on_epoch(epoch, logs);
    for (const auto& callback : options.callbacks) callback->on_epoch_end(epoch, logs, state);
  }
  for (const auto& callback : options.callbacks) callback->on_train_end(state);
  history.stopped_early = state.stop_training;
  history.pruned = state.pruned;
  return history;
}

Logs evaluate(Model& model, const data::Dataset& data, std::int64_t batch_size) {
  check_batch_size("evaluate", batch_size);
  return evaluate_tensors(model, as_tensors(data, model, "evaluate"), batch_size);
}

torch::Tensor predict(Model& model, const data::Dataset& data, std::int64_t batch_size) {
  check_batch_size("predict", batch_size);
  const Tensors all = as_tensors(data, model, "predict");
  model.net()->eval();
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> outputs;
  for (std::int64_t start = 0; start < all.rows(); start += batch_size) {
    const std::int64_t count = std::min(batch_size, all.rows() - start);
    outputs.push_back(model.net()->forward(all.x.narrow(0, start, count).clone()));
  }
  return torch::cat(outputs);
}

torch::Tensor predict_probabilities(Model& model, const data::Dataset& data,
                                    std::int64_t batch_size) {
  const torch::Tensor output = predict(model, data, batch_size);
  torch::NoGradGuard no_grad;
  switch (model.loss()) {
    case Loss::SparseCategoricalCrossentropy:
      if (output.dim() != 2)
        throw InvalidArgument("predict_probabilities: " + to_string(model.loss()) +
                              " needs outputs [rows, classes], got " +
                              std::to_string(output.dim()) + " dimension(s)");
      return torch::softmax(output.to(torch::kFloat32), 1).contiguous();
    case Loss::BinaryCrossentropy: {
      const torch::Tensor p =
          torch::sigmoid(output.to(torch::kFloat32).reshape({output.size(0), -1}));
      if (p.size(1) != 1)
        throw InvalidArgument(
            "predict_probabilities: binary_crossentropy needs one output per row, "
            "got " +
            std::to_string(p.size(1)));
      return torch::cat({1 - p, p}, 1).contiguous();
    }
    case Loss::MeanSquaredError:
      return output.to(torch::kFloat32).reshape({output.size(0), -1}).contiguous();
  }
  throw InvalidArgument("predict_probabilities: unknown loss");
}

torch::Tensor predict_average(const std::vector<Model*>& models, const data::Dataset& data,
                              std::int64_t batch_size) {
  if (models.empty()) throw InvalidArgument("predict_average: no models");
  torch::Tensor sum;
  for (Model* model : models) {
    if (model->loss() != models.front()->loss())
      throw InvalidArgument("predict_average: the models' losses differ (" +
                            to_string(models.front()->loss()) + ", " + to_string(model->loss()) +
                            ")");
    const torch::Tensor p = predict_probabilities(*model, data, batch_size);
    if (sum.defined() && p.sizes() != sum.sizes())
      throw InvalidArgument("predict_average: the models' outputs differ in number");
    sum = sum.defined() ? sum + p : p;
  }
  return (sum / static_cast<double>(models.size())).contiguous();
}

Logs evaluate_average(const std::vector<Model*>& models, const data::Dataset& data,
                      std::int64_t batch_size) {
  check_batch_size("evaluate_average", batch_size);
  const torch::Tensor p = predict_average(models, data, batch_size);
  Model& first = *models.front();
  const torch::Tensor y = as_tensors(data, first, "evaluate_average").y;
  torch::NoGradGuard no_grad;
  // The outputs that give these probabilities, for the loss to read as it reads the network's:
  // log-probabilities for the softmax, the log-odds of the second column for the sigmoid.
  const double tiny = std::numeric_limits<float>::min();
  torch::Tensor output = p;
  if (first.loss() == Loss::SparseCategoricalCrossentropy) output = p.clamp_min(tiny).log();
  if (first.loss() == Loss::BinaryCrossentropy)
    output =
        (p.select(1, 1).clamp_min(tiny).log() - p.select(1, 0).clamp_min(tiny).log()).unsqueeze(1);
  const bool accuracy = wants_accuracy(first);
  Totals totals;
  totals.add(compute_loss(first.loss(), output, y).item<double>(), y.size(0),
             accuracy ? count_correct(first.loss(), output, y) : 0);
  return totals.logs(accuracy);
}

}  // namespace quarry::nn
