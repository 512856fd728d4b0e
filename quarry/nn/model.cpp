// Model construction, optimizers (Keras' semantics on torch::optim) and losses over logits.
// Checkpoints are in checkpoint.cpp, complexity and thread pinning in complexity.cpp.
#include "quarry/nn/model.hpp"

#include <cmath>
#include <sstream>
#include <type_traits>

#include "quarry/core/error.hpp"
#include "quarry/nn/adam_kernel.hpp"
#include "quarry/nn/spec_rules.hpp"

namespace quarry::nn {
namespace {

std::string num(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

/// Whether the fused update can take `p`: a dense, contiguous float32 CPU tensor with a gradient
/// of the same kind.
bool fusable(const torch::Tensor& p) {
  const torch::Tensor& g = p.grad();
  return p.device().is_cpu() && p.scalar_type() == torch::kFloat32 && p.is_contiguous() &&
         g.defined() && !g.is_sparse() && g.scalar_type() == torch::kFloat32 && g.is_contiguous() &&
         g.sizes() == p.sizes();
}

/// Whether `t` is a contiguous float32 CPU tensor of `p`'s sizes.
bool same_layout(const torch::Tensor& t, const torch::Tensor& p) {
  return t.defined() && t.device().is_cpu() && t.scalar_type() == torch::kFloat32 &&
         t.is_contiguous() && t.sizes() == p.sizes();
}

/// torch's Adam (Base = optim::Adam) or AdamW (optim::AdamW) whose step() updates each parameter
/// in one pass (adam_kernel.hpp) instead of torch's five operator calls with two temporaries of
/// the parameter's size. Same options, same state (step, exp_avg, exp_avg_sq, keyed as torch keys
/// them) and so the same checkpoints; the numbers agree with torch's to float rounding. Anything
/// the kernel does not take (amsgrad, a non-float or non-contiguous parameter) goes to torch's
/// step.
template <typename Base, typename Options, typename State>
class Fused final : public Base {
 public:
  using Base::Base;

  torch::Tensor step(torch::optim::Optimizer::LossClosure closure = nullptr) override {
    for (auto& group : this->param_groups_) {
      if (static_cast<Options&>(group.options()).amsgrad()) return Base::step(closure);
      for (auto& p : group.params()) {
        if (!p.grad().defined()) continue;
        if (!fusable(p)) return Base::step(closure);
        // State loaded from a checkpoint is not checked against the parameters by torch: let
        // torch's step meet a mismatch (it throws) rather than the kernel (it would overrun).
        const auto it = this->state_.find(c10::guts::to_string(p.unsafeGetTensorImpl()));
        if (it != this->state_.end()) {
          const auto& state = static_cast<const State&>(*it->second);
          if (!same_layout(state.exp_avg(), p) || !same_layout(state.exp_avg_sq(), p))
            return Base::step(closure);
        }
      }
    }
    torch::NoGradGuard no_grad;
    torch::Tensor loss;
    if (closure) {
      at::AutoGradMode enable_grad(true);
      loss = closure();
    }
    for (auto& group : this->param_groups_) {
      const auto& options = static_cast<Options&>(group.options());
      const auto [beta1, beta2] = options.betas();
      for (auto& p : group.params()) {
        if (!p.grad().defined()) continue;
        const std::string key = c10::guts::to_string(p.unsafeGetTensorImpl());
        auto& slot = this->state_[key];
        if (!slot) {
          auto fresh = std::make_unique<State>();
          fresh->step(0);
          fresh->exp_avg(torch::zeros_like(p, torch::MemoryFormat::Preserve));
          fresh->exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Preserve));
          slot = std::move(fresh);
        }
        auto& state = static_cast<State&>(*slot);
        state.step(state.step() + 1);
        const auto t = static_cast<double>(state.step());
        const double lr = options.lr(), decay = options.weight_decay();
        const bool decoupled = std::is_same_v<Base, torch::optim::AdamW>;
        const AdamStep s{
            .beta1 = static_cast<float>(beta1),
            .beta2 = static_cast<float>(beta2),
            .step_size = static_cast<float>(lr / (1 - std::pow(beta1, t))),
            .sqrt_bias_correction2 = static_cast<float>(std::sqrt(1 - std::pow(beta2, t))),
            .eps = static_cast<float>(options.eps()),
            .decay = decoupled ? static_cast<float>(1 - lr * decay) : 1.0f,
            .l2 = decoupled ? 0.0f : static_cast<float>(decay)};
        adam_update(p.template data_ptr<float>(), p.grad().template data_ptr<float>(),
                    state.exp_avg().template data_ptr<float>(),
                    state.exp_avg_sq().template data_ptr<float>(), p.numel(), s);
      }
    }
    return loss;
  }
};
using FusedAdam =
    Fused<torch::optim::Adam, torch::optim::AdamOptions, torch::optim::AdamParamState>;
using FusedAdamW =
    Fused<torch::optim::AdamW, torch::optim::AdamWOptions, torch::optim::AdamWParamState>;

}  // namespace

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const OptimizerSpec& spec,
                                                        std::vector<torch::Tensor> parameters) {
  if (const auto problem = optimizer_problem(spec))  // the study-file reader's rules too
    throw InvalidArgument("make_optimizer: " + to_string(spec.kind) + " " + *problem);
  namespace optim = torch::optim;
  switch (spec.kind) {
    case OptimizerKind::Sgd: {
      // Keras' v = m v - lr g; w += v  is torch's  b = m b + g; w -= lr b  for a constant lr.
      return std::make_unique<optim::SGD>(
          std::move(parameters),
          optim::SGDOptions(spec.learning_rate).momentum(spec.momentum).nesterov(spec.nesterov));
    }
    case OptimizerKind::Adam:
    case OptimizerKind::AdamW: {
      const auto betas = std::make_tuple(spec.beta1, spec.beta2);
      if (spec.kind == OptimizerKind::Adam) {
        return std::make_unique<FusedAdam>(
            std::move(parameters),
            optim::AdamOptions(spec.learning_rate).betas(betas).eps(spec.epsilon));
      }
      // Decoupled decay (Loshchilov & Hutter): w -= lr * weight_decay * w, as Keras' AdamW.
      return std::make_unique<FusedAdamW>(std::move(parameters),
                                          optim::AdamWOptions(spec.learning_rate)
                                              .betas(betas)
                                              .eps(spec.epsilon)
                                              .weight_decay(spec.weight_decay));
    }
    case OptimizerKind::RmsProp:
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
    case Loss::SparseCategoricalCrossentropy:
      return F::cross_entropy(output, class_indices(output, target));
    case Loss::BinaryCrossentropy:
      return F::binary_cross_entropy_with_logits(single_output(loss, output),
                                                 target.to(output.scalar_type()));
    case Loss::MeanSquaredError:
      return F::mse_loss(single_output(loss, output), target.to(output.scalar_type()));
  }
  throw InvalidArgument("compute_loss: unknown loss");
}

std::int64_t count_correct(Loss loss, const torch::Tensor& output, const torch::Tensor& target) {
  if (loss == Loss::MeanSquaredError) {
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
  if (const auto problem = metrics_problem(compiled.loss, compiled.metrics))
    throw InvalidArgument("Model: " + *problem);
}

}  // namespace

Model::Model(Compiled compiled, std::vector<std::int64_t> input_shape)
    : compiled_(std::move(compiled)), input_shape_(std::move(input_shape)) {
  check_model(compiled_, input_shape_);
  optimizer_ = make_optimizer(compiled_.optimizer, compiled_.net->parameters());
}

Model::Model(const ModelSpec& spec, std::vector<std::int64_t> input_shape, std::uint64_t seed)
    : Model(Compiled{build_layers(spec.layers, input_shape, seed), spec.optimizer, spec.loss,
                     spec.metrics},
            input_shape) {}

}  // namespace quarry::nn
