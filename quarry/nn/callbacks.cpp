// History::best and the callbacks: EarlyStopping (Keras 2.x's rule), Reporter, Checkpoint.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "quarry/core/error.hpp"
#include "quarry/nn/fit.hpp"
#include "quarry/nn/metrics.hpp"
#include "quarry/nn/spec_rules.hpp"

namespace quarry::nn {
namespace {

/// The logged names in Keras' order: loss first, then the other metrics, then the same for val_.
std::string logged_names(const Logs& logs) {
  std::vector<std::string> names;
  for (const auto& [name, value] : logs) names.push_back(name);
  auto rank = [](const std::string& name) {
    const bool val = name.rfind("val_", 0) == 0;
    const std::string base = val ? name.substr(4) : name;
    return std::make_pair(val ? 1 : 0, base == "loss" ? std::string() : base);
  };
  std::sort(names.begin(), names.end(),
            [&](const std::string& a, const std::string& b) { return rank(a) < rank(b); });
  std::string text;
  for (const auto& name : names) text += (text.empty() ? "" : ", ") + name;
  return text.empty() ? "(none)" : text;
}

double monitored(const std::string& component, const std::string& what, const std::string& metric,
                 const Logs& logs) {
  const auto it = logs.find(metric);
  if (it == logs.end()) {
    throw InvalidArgument(component + ": " + what + " '" + metric +
                          "' is not among the logged metrics: " + logged_names(logs));
  }
  return it->second;
}

/// Parameters then buffers (batch-norm statistics), detached copies.
std::vector<torch::Tensor> snapshot(Model& model) {
  std::vector<torch::Tensor> weights;
  for (const auto& p : model.net()->parameters()) weights.push_back(p.detach().clone());
  for (const auto& b : model.net()->buffers()) weights.push_back(b.detach().clone());
  return weights;
}

void restore(Model& model, const std::vector<torch::Tensor>& weights) {
  torch::NoGradGuard no_grad;
  std::size_t i = 0;
  for (auto& p : model.net()->parameters()) p.copy_(weights.at(i++));
  for (auto& b : model.net()->buffers()) b.copy_(weights.at(i++));
}

}  // namespace

std::optional<std::size_t> History::best(const std::string& metric, const std::string& mode) const {
  const bool max = higher_is_better(metric, mode, "History::best");
  std::optional<std::size_t> best;
  double best_value = 0;
  for (std::size_t i = 0; i < epochs.size(); ++i) {
    const auto it = epochs[i].find(metric);
    if (it == epochs[i].end() || std::isnan(it->second)) continue;
    if (!best || (max ? it->second > best_value : it->second < best_value)) {
      best = i;
      best_value = it->second;
    }
  }
  return best;
}

EarlyStopping::EarlyStopping(EarlyStoppingOptions options) : options_(std::move(options)) {
  if (const auto problem = early_stopping_problem(options_))  // the study-file reader's rules too
    throw InvalidArgument("EarlyStopping: " + *problem);
}

void EarlyStopping::on_train_begin(FitState&) {
  const bool max = higher_is_better(options_.monitor, options_.mode, "EarlyStopping");
  best_ = max ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
  wait_ = 0;
  stopped_epoch_.reset();
  best_weights_.clear();
  has_best_ = false;
}

// Keras 2.x (keras/callbacks.py, EarlyStopping.on_epoch_end): wait += 1; an improvement
// (current -/+ min_delta better than best) resets wait to 0; else stop once wait >= patience
// (not at the first epoch).
void EarlyStopping::on_epoch_end(std::int64_t epoch, const Logs& logs, FitState& state) {
  const double current = monitored("EarlyStopping", "monitor", options_.monitor, logs);
  const bool max = higher_is_better(options_.monitor, options_.mode, "EarlyStopping");
  if (options_.restore_best_weights && !has_best_) {  // no improvement ever: the first epoch's
    best_weights_ = snapshot(state.model);
    has_best_ = true;
  }
  ++wait_;
  const bool improved =
      max ? current - options_.min_delta > best_ : current + options_.min_delta < best_;
  if (improved) {
    best_ = current;
    wait_ = 0;
    if (options_.restore_best_weights) best_weights_ = snapshot(state.model);
    return;
  }
  if (wait_ >= options_.patience && epoch > 0) {
    stopped_epoch_ = epoch;
    state.stop_training = true;
    if (options_.restore_best_weights) restore(state.model, best_weights_);
  }
}

// Keras 2.x restores only when it stops; Keras 3 also when every epoch ran. We do both.
void EarlyStopping::on_train_end(FitState& state) {
  if (options_.restore_best_weights && has_best_ && !stopped_epoch_) {
    restore(state.model, best_weights_);
  }
  best_weights_.clear();
  has_best_ = false;
}

Reporter::Reporter(std::string metric, Report report)
    : metric_(std::move(metric)), report_(std::move(report)) {
  if (metric_.empty()) throw InvalidArgument("Reporter: metric must not be empty");
  if (!report_) throw InvalidArgument("Reporter: report function is empty");
}

void Reporter::on_epoch_end(std::int64_t epoch, const Logs& logs, FitState& state) {
  const double value = monitored("Reporter", "metric", metric_, logs);
  if (report_(epoch + 1, value)) state.stop_training = state.pruned = true;
}

Checkpoint::Checkpoint(CheckpointOptions options) : options_(std::move(options)) {
  if (options_.path.empty()) throw InvalidArgument("Checkpoint: path must not be empty");
  if (options_.save_best_only && options_.monitor.empty()) {
    throw InvalidArgument("Checkpoint: save_best_only needs a monitor");
  }
  higher_is_better(options_.monitor, options_.mode, "Checkpoint");
}

// Keras' ModelCheckpoint: with save_best_only, save when the value is strictly better than the
// best so far (kept across fit calls, as Keras keeps it on the callback).
void Checkpoint::on_epoch_end(std::int64_t epoch, const Logs& logs, FitState& state) {
  if (options_.save_best_only) {
    const double current = monitored("Checkpoint", "monitor", options_.monitor, logs);
    const bool max = higher_is_better(options_.monitor, options_.mode, "Checkpoint");
    if (std::isnan(current) || (best_ && !(max ? current > *best_ : current < *best_))) return;
    best_ = current;
  }
  state.model.save_checkpoint(options_.path, epoch + 1);
}

}  // namespace quarry::nn
