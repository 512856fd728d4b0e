// Model construction, optimizers (Keras' semantics on torch::optim) and losses over logits.
// Checkpoints are in checkpoint.cpp, complexity and thread pinning in complexity.cpp.
#include "quarry/nn/model.hpp"

#include <cmath>
#include <sstream>

#include "quarry/core/error.hpp"

namespace quarry::nn {
namespace {

std::string num(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

/// Throws unless lo <= v < hi (or lo <= v <= hi when `closed`).
void check_range(const OptimizerSpec& spec, const char* name, double v, double lo, double hi,
                 bool closed = false) {
  const bool ok = v >= lo && (closed ? v <= hi : v < hi);
  if (!ok) {
    throw InvalidArgument("make_optimizer: " + to_string(spec.kind) + " " + name + " must be in [" +
                          num(lo) + ", " + num(hi) + (closed ? "]" : ")") + ", got " + num(v));
  }
}

void check_positive(const OptimizerSpec& spec, const char* name, double v) {
  if (!(v > 0) || !std::isfinite(v)) {
    throw InvalidArgument("make_optimizer: " + to_string(spec.kind) + " " + name +
                          " must be > 0, got " + num(v));
  }
}

}  // namespace

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const OptimizerSpec& spec,
                                                        std::vector<torch::Tensor> parameters) {
  check_positive(spec, "learning_rate", spec.learning_rate);
  namespace optim = torch::optim;
  switch (spec.kind) {
    case OptimizerKind::sgd: {
      check_range(spec, "momentum", spec.momentum, 0, 1);
      if (spec.nesterov && spec.momentum == 0) {
        throw InvalidArgument("make_optimizer: sgd nesterov needs momentum > 0, got momentum 0");
      }
      // Keras' v = m v - lr g; w += v  is torch's  b = m b + g; w -= lr b  for a constant lr.
      return std::make_unique<optim::SGD>(
          std::move(parameters),
          optim::SGDOptions(spec.learning_rate).momentum(spec.momentum).nesterov(spec.nesterov));
    }
    case OptimizerKind::adam:
    case OptimizerKind::adamw: {
      check_range(spec, "beta1", spec.beta1, 0, 1);
      check_range(spec, "beta2", spec.beta2, 0, 1);
      check_positive(spec, "epsilon", spec.epsilon);
      const auto betas = std::make_tuple(spec.beta1, spec.beta2);
      if (spec.kind == OptimizerKind::adam) {
        return std::make_unique<optim::Adam>(
            std::move(parameters),
            optim::AdamOptions(spec.learning_rate).betas(betas).eps(spec.epsilon));
      }
      check_range(spec, "weight_decay", spec.weight_decay, 0, 1, true);
      // Decoupled decay (Loshchilov & Hutter): w -= lr * weight_decay * w, as Keras' AdamW.
      return std::make_unique<optim::AdamW>(std::move(parameters),
                                            optim::AdamWOptions(spec.learning_rate)
                                                .betas(betas)
                                                .eps(spec.epsilon)
                                                .weight_decay(spec.weight_decay));
    }
    case OptimizerKind::rmsprop:
      check_range(spec, "rho", spec.rho, 0, 1);
      check_range(spec, "momentum", spec.momentum, 0, 1);
      check_positive(spec, "epsilon", spec.epsilon);
      return std::make_unique<optim::RMSprop>(std::move(parameters),
                                              optim::RMSpropOptions(spec.learning_rate)
                                                  .alpha(spec.rho)
                                                  .eps(spec.epsilon)
                                                  .momentum(spec.momentum));
  }
  throw InvalidArgument("make_optimizer: unknown optimizer kind");
}

namespace {

/// One logit per example, [batch]: from [batch, 1] or [batch].
torch::Tensor single_output(Loss loss, const torch::Tensor& output) {
  if (output.dim() == 1) return output;
  if (output.dim() == 2 && output.size(1) == 1) return output.reshape({-1});
  std::ostringstream shape;
  shape << output.sizes();
  throw InvalidArgument(to_string(loss) + ": needs one output per example, got shape " +
                        shape.str());
}

/// Class indices for sparse_categorical_crossentropy, checked against the number of outputs.
torch::Tensor class_indices(const torch::Tensor& output, const torch::Tensor& target) {
  if (output.dim() != 2) {
    std::ostringstream shape;
    shape << output.sizes();
    throw InvalidArgument("sparse_categorical_crossentropy: needs outputs [batch, classes], got " +
                          shape.str());
  }
  torch::Tensor classes = target.to(torch::kLong);
  if (classes.numel() > 0) {
    const std::int64_t low = classes.min().item<std::int64_t>();
    const std::int64_t high = classes.max().item<std::int64_t>();
    if (low < 0 || high >= output.size(1)) {
      throw InvalidArgument("sparse_categorical_crossentropy: target " +
                            std::to_string(low < 0 ? low : high) + " is not a class index for " +
                            std::to_string(output.size(1)) + " outputs");
    }
  }
  return classes;
}

}  // namespace

torch::Tensor compute_loss(Loss loss, const torch::Tensor& output, const torch::Tensor& target) {
  namespace F = torch::nn::functional;
  switch (loss) {
    case Loss::sparse_categorical_crossentropy:
      return F::cross_entropy(output, class_indices(output, target));
    case Loss::binary_crossentropy:
      return F::binary_cross_entropy_with_logits(single_output(loss, output),
                                                 target.to(output.scalar_type()));
    case Loss::mean_squared_error:
      return F::mse_loss(single_output(loss, output), target.to(output.scalar_type()));
  }
  throw InvalidArgument("compute_loss: unknown loss");
}

std::int64_t count_correct(Loss loss, const torch::Tensor& output, const torch::Tensor& target) {
  if (loss == Loss::mean_squared_error) {
    throw InvalidArgument("accuracy is not defined for mean_squared_error");
  }
  torch::NoGradGuard no_grad;
  if (output.dim() == 2 && output.size(1) > 1) {
    return output.argmax(1).eq(target.to(torch::kLong)).sum().item<std::int64_t>();
  }
  return single_output(loss, output).gt(0).eq(target.gt(0.5)).sum().item<std::int64_t>();
}

namespace {

void check_model(const Compiled& compiled, const std::vector<std::int64_t>& input_shape) {
  if (compiled.net.is_empty()) throw InvalidArgument("Model: the network is null");
  if (input_shape.empty()) throw InvalidArgument("Model: the input shape is empty");
  for (std::int64_t d : input_shape) {
    if (d < 1) throw InvalidArgument("Model: input shape sizes must be >= 1, got " + num(d));
  }
  for (const std::string& metric : compiled.metrics) {
    if (metric != "accuracy" && metric != "loss") {
      throw InvalidArgument("Model: unknown metric '" + metric + "'; known: accuracy, loss");
    }
    if (metric == "accuracy" && compiled.loss == Loss::mean_squared_error) {
      throw InvalidArgument(
          "Model: accuracy is not defined for mean_squared_error; use metrics = {\"loss\"}");
    }
  }
}

}  // namespace

Model::Model(Compiled compiled, std::vector<std::int64_t> input_shape)
    : compiled_(std::move(compiled)), input_shape_(std::move(input_shape)) {
  check_model(compiled_, input_shape_);
  optimizer_ = make_optimizer(compiled_.optimizer, compiled_.net->parameters());
}

Model::Model(const ModelSpec& spec, std::vector<std::int64_t> input_shape)
    : Model(
          Compiled{build_layers(spec.layers, input_shape), spec.optimizer, spec.loss, spec.metrics},
          input_shape) {}

}  // namespace quarry::nn
