// A model described as data: layers, optimizer, loss, metrics. No LibTorch here, so the YAML
// reader and the command line can build specs without including <torch/torch.h>; nn/model.hpp
// turns a spec into torch modules.
//
// Names follow Keras: Dense(units, activation), Conv2D(filters, kernel_size, strides, padding),
// MaxPooling2D, Dropout(rate), BatchNormalization; optimizers SGD / Adam / AdamW / RMSprop with
// Keras' defaults; losses sparse_categorical_crossentropy, binary_crossentropy, mean_squared_error.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace quarry::nn {

enum class Activation { none, relu, tanh, sigmoid, gelu };

struct Flatten {};
struct Dense {
  std::int64_t units = 1;
  Activation activation = Activation::none;
};
struct Conv2d {
  std::int64_t filters = 1;
  std::int64_t kernel_size = 3;
  std::int64_t stride = 1;
  bool same_padding = true;  ///< Keras padding="same" (else "valid")
  Activation activation = Activation::none;
};
struct MaxPool2d {
  std::int64_t pool_size = 2;
  std::int64_t stride = 0;  ///< 0: the pool size
};
struct AvgPool2d {
  std::int64_t pool_size = 2;
  std::int64_t stride = 0;
};
struct Dropout {
  double rate = 0.5;  ///< in [0, 1)
};
struct BatchNorm {};
struct ActivationLayer {
  Activation activation = Activation::relu;
};
using Layer =
    std::variant<Flatten, Dense, Conv2d, MaxPool2d, AvgPool2d, Dropout, BatchNorm, ActivationLayer>;

enum class OptimizerKind { sgd, adam, adamw, rmsprop };
/// One struct for every optimizer; fields an optimizer does not use are ignored.
struct OptimizerSpec {
  OptimizerKind kind = OptimizerKind::adam;
  double learning_rate = 1e-3;
  double momentum = 0;                ///< sgd, rmsprop
  bool nesterov = false;              ///< sgd
  double beta1 = 0.9, beta2 = 0.999;  ///< adam, adamw
  double epsilon = 1e-7;              ///< Keras' default
  double weight_decay = 0;            ///< adamw default 0.004 as in Keras when set by adamw()
  double rho = 0.9;                   ///< rmsprop's decay
};
inline OptimizerSpec SGD(double lr = 0.01, double momentum = 0, bool nesterov = false) {
  return {
      .kind = OptimizerKind::sgd, .learning_rate = lr, .momentum = momentum, .nesterov = nesterov};
}
inline OptimizerSpec Adam(double lr = 1e-3) {
  return {.kind = OptimizerKind::adam, .learning_rate = lr};
}
inline OptimizerSpec AdamW(double lr = 1e-3, double weight_decay = 0.004) {
  return {.kind = OptimizerKind::adamw, .learning_rate = lr, .weight_decay = weight_decay};
}
inline OptimizerSpec RMSprop(double lr = 1e-3, double rho = 0.9, double momentum = 0) {
  return {.kind = OptimizerKind::rmsprop, .learning_rate = lr, .momentum = momentum, .rho = rho};
}

/// Losses take logits (the last layer has no softmax/sigmoid; Keras' from_logits=True).
enum class Loss { sparse_categorical_crossentropy, binary_crossentropy, mean_squared_error };

struct ModelSpec {
  std::vector<Layer> layers;
  OptimizerSpec optimizer;
  Loss loss = Loss::sparse_categorical_crossentropy;
  std::vector<std::string> metrics = {"accuracy"};  ///< "accuracy" and/or "loss" (always computed)
};

// Names as they appear in YAML files and messages; *_from_string throw InvalidArgument listing
// the accepted names.
std::string to_string(Activation a);
Activation activation_from_string(const std::string& s);
std::string to_string(OptimizerKind k);
OptimizerKind optimizer_from_string(const std::string& s);
std::string to_string(Loss l);
Loss loss_from_string(const std::string& s);
/// "dense(128, relu)", "conv2d(32, 3x3, stride 1, same, relu)", "dropout(0.2)"...
std::string describe(const Layer& layer);

}  // namespace quarry::nn
