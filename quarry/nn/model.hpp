// A trainable model: a torch::nn::Sequential plus its optimizer, loss and metrics.
//
//   quarry::nn::Model model(quarry::nn::Compiled{net, quarry::nn::Adam(1e-3),
//                                                quarry::nn::Loss::SparseCategoricalCrossentropy});
//   // or from a spec:  quarry::nn::Model model(spec, /*input_shape=*/{1, 28, 28});
//   auto history = quarry::nn::fit(model, train, {.epochs = 5, .validation_split = 0.2});
//
// Includes <torch/torch.h>: keep this header out of the search core.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "quarry/nn/metrics.hpp"
#include "quarry/nn/spec.hpp"

namespace quarry::nn {

/// What a model-building function returns (Keras' compiled model): the network, how to train it.
struct Compiled {
  torch::nn::Sequential net;
  OptimizerSpec optimizer;
  Loss loss = Loss::SparseCategoricalCrossentropy;
  std::vector<std::string> metrics = {"accuracy"};
};

/// Builds the layers of `layers` for inputs of `input_shape` (one example, e.g. {1, 28, 28}),
/// inferring each layer's input size. Throws InvalidArgument naming the layer (by index and
/// describe()) when a layer breaks a rule of spec_rules.hpp (units < 1...) or does not fit its
/// input (a conv after flatten, a pool larger than the image...).
///
/// The initial weights and the dropout masks depend on `seed` alone: the same layers and seed give
/// the same network and the same training, whatever other threads do meanwhile.
torch::nn::Sequential build_layers(const std::vector<Layer>& layers,
                                   const std::vector<std::int64_t>& input_shape,
                                   std::uint64_t seed = 0);

/// Runs `build`, which makes torch modules, with LibTorch's process-wide generator seeded from
/// `seed` and held (one build_seeded at a time in the process), so that the modules' initial
/// weights depend on `seed` as long as no other thread draws from that generator meanwhile (torch's
/// Dropout does: use SeededDropout, blocks.hpp). A tuner's HyperModel runs the user's builder so.
/// build_layers needs none of it: it draws every weight from a generator of its own.
void build_seeded(std::uint64_t seed, const std::function<void()>& build);

/// The optimizer of `spec` over `parameters` (Keras' semantics: AdamW decoupled decay, RMSprop
/// with rho as alpha, SGD momentum/nesterov). Throws InvalidArgument when `spec` breaks a rule of
/// spec_rules.hpp ("make_optimizer: adam epsilon must be a number > 0, got 0").
std::unique_ptr<torch::optim::Optimizer> make_optimizer(const OptimizerSpec& spec,
                                                        std::vector<torch::Tensor> parameters);

/// The mean loss of a batch: `output` are logits [batch, classes] (or [batch, 1] / [batch]),
/// `target` the float targets of the dataset ([batch]).
torch::Tensor compute_loss(Loss loss, const torch::Tensor& output, const torch::Tensor& target);
/// Correct predictions in a batch (argmax for several classes, logit > 0 for one output).
std::int64_t count_correct(Loss loss, const torch::Tensor& output, const torch::Tensor& target);

class Model {
 public:
  Model(Compiled compiled, std::vector<std::int64_t> input_shape);
  /// The network build_layers makes from spec.layers with `seed` (its initial weights, its
  /// dropout masks).
  Model(const ModelSpec& spec, std::vector<std::int64_t> input_shape, std::uint64_t seed = 0);

  torch::nn::Sequential& net() { return compiled_.net; }
  torch::optim::Optimizer& optimizer() { return *optimizer_; }
  Loss loss() const { return compiled_.loss; }
  const std::vector<std::string>& metrics() const { return compiled_.metrics; }
  const std::vector<std::int64_t>& input_shape() const { return input_shape_; }

  /// Weights + optimizer state + epochs trained so far, in one file (torch archive).
  void save_checkpoint(const std::string& path, std::int64_t epochs_done);
  /// Loads what save_checkpoint wrote into this (identically built) model; returns epochs_done.
  /// Throws InvalidArgument naming the file when it is missing or does not match the model.
  std::int64_t load_checkpoint(const std::string& path);
  /// Just the weights (for users: the best model), loadable with load_weights.
  void save_weights(const std::string& path);
  void load_weights(const std::string& path);

  /// Parameters and FLOPs counted from the layers; latency measured with `repeats` timed runs
  /// (Complexity: metrics.hpp).
  Complexity complexity(int repeats = 5);

 private:
  Compiled compiled_;
  std::vector<std::int64_t> input_shape_;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
};

/// One math thread for the calling thread: LibTorch's intra-op pool (OpenMP) and OpenBLAS's own
/// pool (Debian's LibTorch hands matrix products to it). Call at the start of every trial thread;
/// cheap and idempotent. Parallelism comes from running trials side by side.
void pin_math_threads();

}  // namespace quarry::nn
