// What a model study measures and which way is better, in one place: the metrics training logs
// each epoch, the measures of a trained model (its complexity), and Keras' "auto" direction.
// Torch-free (core library): the study-file reader, the trainer and the tuners all use it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace quarry::nn {

/// "loss", "accuracy", "val_loss", "val_accuracy": what fit logs after each epoch (accuracy only
/// when the model lists it), the names objectives and early-stopping monitors may use.
const std::vector<std::string>& training_metrics();

/// "accuracy", "loss": what a compiled model (Compiled::metrics, `model.metrics`) may list.
const std::vector<std::string>& compiled_metrics();

/// Parameter count, FLOPs of one forward pass (multiply-adds counted as 2), and measured inference
/// latency (median of several timed runs, eval mode, no grad) at batch 1 and 256: what
/// Model::complexity returns.
struct Complexity {
  std::int64_t parameters = 0;
  std::int64_t flops = 0;
  double latency_b1_ms = 0;
  double latency_b256_ms = 0;
};

/// "params", "flops", "latency_b1_ms", "latency_b256_ms", "train_time": what a model study
/// measures on each trained model besides its training metrics. Objectives after the first and
/// constraints may name them.
const std::vector<std::string>& complexity_metrics();
bool is_complexity_metric(std::string_view name);

/// Whether `name` is known from the built model before any training (params, flops): constraints
/// on these rule a trial out before it trains.
bool measured_before_training(std::string_view name);

/// The complexity metric `name` of a model measured as `c` that trained for `train_time` seconds;
/// nullopt when `name` is not a complexity metric.
std::optional<double> complexity_value(std::string_view name, const Complexity& c,
                                       double train_time = 0);

/// Keras' "auto" direction (EarlyStopping, ModelCheckpoint, Keras Tuner's objective): higher is
/// better when the metric's name contains "acc", lower otherwise.
bool higher_is_better(std::string_view metric);

/// `mode` "max" (true), "min" (false) or "auto" (higher_is_better(metric)). Any other mode throws
/// InvalidArgument "<who>: mode must be min, max or auto, got up".
bool higher_is_better(std::string_view metric, std::string_view mode, std::string_view who);

}  // namespace quarry::nn
