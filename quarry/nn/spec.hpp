// A model described as data: layers, optimizer, loss, metrics, and the early-stopping settings
// of its training. No LibTorch here, so the YAML reader and the command line can build specs
// without including <torch/torch.h>; nn/model.hpp turns a spec into torch modules. The rules each
// field follows are in spec_rules.hpp.
//
// Names follow Keras: Dense(units, activation), Conv2D(filters, kernel_size, strides, padding),
// MaxPooling2D, Dropout(rate), BatchNormalization; optimizers SGD / Adam / AdamW / RMSprop with
// Keras' defaults; losses sparse_categorical_crossentropy, binary_crossentropy, mean_squared_error.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace quarry::nn {

enum class Activation { None, Relu, Tanh, Sigmoid, Gelu };

struct Flatten {};
struct Dense {
  std::int64_t units = 1;
  Activation activation = Activation::None;
};
struct Conv2d {
  std::int64_t filters = 1;
  std::int64_t kernel_size = 3;
  std::int64_t stride = 1;
  bool same_padding = true;  ///< Keras padding="same" (else "valid")
  Activation activation = Activation::None;
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
  Activation activation = Activation::Relu;
};

// --- Architecture-search building blocks (quarry/nas) ------------------------------------------

/// Keras' SeparableConv2D (Chollet, "Xception", CVPR 2017): a depthwise kernel_size x kernel_size
/// convolution of each channel (no bias), then a pointwise 1x1 convolution to `filters` (with a
/// bias), "same" padding, then the activation.
struct SepConv2d {
  std::int64_t filters = 1;
  std::int64_t kernel_size = 3;
  std::int64_t stride = 1;
  Activation activation = Activation::None;
};
/// Passes its input through unchanged (a searched "skip this layer").
struct Identity {};
/// Keras' GlobalAveragePooling2D: the mean of each channel, image {c, h, w} -> flat {c}.
struct GlobalAvgPool {};

/// The operations on a NAS-Bench-201 cell's edges (Dong & Yang, ICLR 2020): none (zeros),
/// skip_connect (identity), nor_conv_1x1 / nor_conv_3x3 (ReLU -> Conv (no bias, stride 1, the
/// size kept) -> BatchNorm) and avg_pool_3x3 (stride 1, padding 1, the padding left out of the
/// mean).
enum class CellOp { None, SkipConnect, NorConv1x1, NorConv3x3, AvgPool3x3 };

/// A NAS-Bench-201 cell: a DAG of `nodes` feature maps with the input's channels and size. Node 0
/// is the input, node j the sum over i < j of op_ij(node i), the output the last node. `edges`
/// holds nodes * (nodes - 1) / 2 ops in NAS-Bench-201's order: for j = 1, 2, ...: op_0j, op_1j,
/// ..., op_(j-1)j (edge_0_1, edge_0_2, edge_1_2, edge_0_3, edge_1_3, edge_2_3 for 4 nodes). Its
/// BatchNorms use PyTorch's defaults, as NAS-Bench-201's do; its convolutions torch's default
/// initialisation.
struct Cell {
  std::vector<CellOp> edges;
  std::int64_t nodes = 4;
};
/// NAS-Bench-201's reduction block: a ResNet basic block of stride 2 (ReLU-Conv3x3(stride 2)-BN,
/// ReLU-Conv3x3-BN) to `filters` channels, plus the shortcut AvgPool(2, stride 2) -> Conv1x1
/// (no bias). Height and width become ceil(size / 2) (the pool uses ceil mode so that odd sizes
/// agree with the strided convolution).
struct ResidualReduce {
  std::int64_t filters = 1;
};

using Layer =
    std::variant<Flatten, Dense, Conv2d, MaxPool2d, AvgPool2d, Dropout, BatchNorm, ActivationLayer,
                 SepConv2d, Identity, GlobalAvgPool, Cell, ResidualReduce>;

enum class OptimizerKind { Sgd, Adam, AdamW, RmsProp };
/// One struct for every optimizer; fields an optimizer does not use are ignored.
struct OptimizerSpec {
  OptimizerKind kind = OptimizerKind::Adam;
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
      .kind = OptimizerKind::Sgd, .learning_rate = lr, .momentum = momentum, .nesterov = nesterov};
}
inline OptimizerSpec Adam(double lr = 1e-3) {
  return {.kind = OptimizerKind::Adam, .learning_rate = lr};
}
inline OptimizerSpec AdamW(double lr = 1e-3, double weight_decay = 0.004) {
  return {.kind = OptimizerKind::AdamW, .learning_rate = lr, .weight_decay = weight_decay};
}
inline OptimizerSpec RMSprop(double lr = 1e-3, double rho = 0.9, double momentum = 0) {
  return {.kind = OptimizerKind::RmsProp, .learning_rate = lr, .momentum = momentum, .rho = rho};
}

/// Losses take logits (the last layer has no softmax/sigmoid; Keras' from_logits=True).
enum class Loss {
  SparseCategoricalCrossentropy,
  BinaryCrossentropy,
  MeanSquaredError,
  // Keras' spellings, so that code written after a Keras tutorial reads the same.
  // NOLINTBEGIN(readability-identifier-naming)
  sparse_categorical_crossentropy = SparseCategoricalCrossentropy,
  binary_crossentropy = BinaryCrossentropy,
  mean_squared_error = MeanSquaredError,
  // NOLINTEND(readability-identifier-naming)
};

struct ModelSpec {
  std::vector<Layer> layers;
  OptimizerSpec optimizer;
  Loss loss = Loss::SparseCategoricalCrossentropy;
  std::vector<std::string> metrics = {"accuracy"};  ///< "accuracy" and/or "loss" (always computed)
};

/// Keras' EarlyStopping settings: stop when `monitor` has not improved by more than `min_delta`
/// for `patience` epochs (the callback, nn::EarlyStopping, is in fit.hpp; a study file's
/// `fit.early_stopping` reads into this). Rules: patience >= 0, min_delta >= 0, mode min / max /
/// auto (spec_rules.hpp).
struct EarlyStoppingOptions {
  std::string monitor = "val_loss";
  std::string mode = "auto";  ///< "min", "max" or "auto" (max for names containing "acc")
  std::int64_t patience = 0;
  double min_delta = 0;
  bool restore_best_weights = false;
};

// Names as they appear in YAML files and messages; *_from_string throw InvalidArgument listing
// the accepted names.
std::string to_string(Activation a);
Activation activation_from_string(const std::string& s);
std::string to_string(OptimizerKind k);
OptimizerKind optimizer_from_string(const std::string& s);
std::string to_string(Loss l);
Loss loss_from_string(const std::string& s);
/// NAS-Bench-201's names: "none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3".
std::string to_string(CellOp op);
CellOp cell_op_from_string(const std::string& s);
/// The (from, to) node pairs of a cell's edges in NAS-Bench-201's order (see Cell).
std::vector<std::pair<std::int64_t, std::int64_t>> cell_edges(std::int64_t nodes);
/// NAS-Bench-201's text of a cell, node by node: "|nor_conv_3x3~0|+|skip_connect~0|none~1|+|...|"
/// (each "|op~from|" group lists the edges into one node; "+" separates the nodes).
std::string cell_string(const Cell& cell);
/// "dense(128, relu)", "conv2d(32, 3x3, stride 1, same, relu)", "dropout(0.2)", "sepconv2d(16,
/// 3x3, stride 2, relu)", "identity", "global_avg_pool", "cell(|nor_conv_3x3~0|+|...|)",
/// "residual_reduce(32)"...
std::string describe(const Layer& layer);

}  // namespace quarry::nn
