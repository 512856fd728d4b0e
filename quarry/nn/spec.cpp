// Names and descriptions of spec values; torch-free, compiled into the core library.
#include "quarry/nn/spec.hpp"

#include <algorithm>
#include <cctype>
#include <string_view>
#include <type_traits>
#include <utility>

#include "quarry/core/error.hpp"
#include "quarry/space/value.hpp"

namespace quarry::nn {

namespace {

template <typename E>
using Names = std::vector<std::pair<std::string_view, E>>;

// The first name of each value is the one to_string gives; the others are accepted spellings.
const Names<Activation>& activation_names() {
  static const Names<Activation> kNames = {
      {"none", Activation::None},       {"relu", Activation::Relu}, {"tanh", Activation::Tanh},
      {"sigmoid", Activation::Sigmoid}, {"gelu", Activation::Gelu}, {"linear", Activation::None}};
  return kNames;
}

const Names<OptimizerKind>& optimizer_names() {
  static const Names<OptimizerKind> kNames = {{"sgd", OptimizerKind::Sgd},
                                              {"adam", OptimizerKind::Adam},
                                              {"adamw", OptimizerKind::AdamW},
                                              {"rmsprop", OptimizerKind::RmsProp}};
  return kNames;
}

const Names<CellOp>& cell_op_names() {
  static const Names<CellOp> kNames = {{"none", CellOp::None},
                                       {"skip_connect", CellOp::SkipConnect},
                                       {"nor_conv_1x1", CellOp::NorConv1x1},
                                       {"nor_conv_3x3", CellOp::NorConv3x3},
                                       {"avg_pool_3x3", CellOp::AvgPool3x3}};
  return kNames;
}

const Names<Loss>& loss_names() {
  static const Names<Loss> kNames = {
      {"sparse_categorical_crossentropy", Loss::SparseCategoricalCrossentropy},
      {"binary_crossentropy", Loss::BinaryCrossentropy},
      {"mean_squared_error", Loss::MeanSquaredError},
      {"mse", Loss::MeanSquaredError}};
  return kNames;
}

template <typename E>
std::string name_of(const Names<E>& names, E value) {
  for (const auto& [name, v] : names)
    if (v == value) return std::string(name);
  return "unknown";
}

/// `s` (compared case-insensitively when `any_case`) among `names`; else InvalidArgument
/// "unknown <what> '<s>' (expected one of: a, b, c)".
template <typename E>
E value_of(const Names<E>& names, const std::string& s, const std::string& what, bool any_case) {
  std::string key = s;
  if (any_case)
    std::transform(key.begin(), key.end(), key.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::string all;
  for (const auto& [name, v] : names) {
    if (name == key) return v;
    all += (all.empty() ? "" : ", ") + std::string(name);
  }
  throw InvalidArgument("unknown " + what + " '" + s + "' (expected one of: " + all + ")");
}

std::string number(double x) {
  return space::to_string(space::Value{x});
}

std::string with_activation(std::string s, Activation a) {
  return a == Activation::None ? s + ")" : s + ", " + to_string(a) + ")";
}

std::string pool(const char* name, std::int64_t size, std::int64_t stride) {
  std::string s = std::string(name) + "(" + std::to_string(size);
  if (stride != 0 && stride != size) s += ", stride " + std::to_string(stride);
  return s + ")";
}

// The architecture-search blocks' descriptions.
std::string describe_search_block(const SepConv2d& l) {
  const std::string k = std::to_string(l.kernel_size);
  return with_activation("sepconv2d(" + std::to_string(l.filters) + ", " + k + "x" + k +
                             ", stride " + std::to_string(l.stride),
                         l.activation);
}
std::string describe_search_block(const Identity&) {
  return "identity";
}
std::string describe_search_block(const GlobalAvgPool&) {
  return "global_avg_pool";
}
std::string describe_search_block(const Cell& l) {
  return "cell(" + cell_string(l) + ")";
}
std::string describe_search_block(const ResidualReduce& l) {
  return "residual_reduce(" + std::to_string(l.filters) + ")";
}

}  // namespace

std::string to_string(Activation a) {
  return name_of(activation_names(), a);
}
Activation activation_from_string(const std::string& s) {
  return value_of(activation_names(), s, "activation", false);
}

std::string to_string(OptimizerKind k) {
  return name_of(optimizer_names(), k);
}
/// Keras' optimizer identifiers are case-insensitive ("Adam", "RMSprop").
OptimizerKind optimizer_from_string(const std::string& s) {
  return value_of(optimizer_names(), s, "optimizer", true);
}

std::string to_string(Loss l) {
  return name_of(loss_names(), l);
}
Loss loss_from_string(const std::string& s) {
  return value_of(loss_names(), s, "loss", false);
}

std::string to_string(CellOp op) {
  return name_of(cell_op_names(), op);
}
CellOp cell_op_from_string(const std::string& s) {
  return value_of(cell_op_names(), s, "cell operation", false);
}

std::vector<std::pair<std::int64_t, std::int64_t>> cell_edges(std::int64_t nodes) {
  std::vector<std::pair<std::int64_t, std::int64_t>> edges;
  for (std::int64_t to = 1; to < nodes; ++to)
    for (std::int64_t from = 0; from < to; ++from) edges.emplace_back(from, to);
  return edges;
}

std::string cell_string(const Cell& cell) {
  std::string s;
  std::size_t index = 0;
  for (const auto& [from, to] : cell_edges(cell.nodes)) {
    if (from == 0 && to > 1) s += "+";
    const std::string op = index < cell.edges.size() ? to_string(cell.edges[index]) : "?";
    s += (from == 0 ? "|" : "") + op + "~" + std::to_string(from) + "|";
    ++index;
  }
  return s;
}

std::string describe(const Layer& layer) {
  return std::visit(
      [](const auto& l) -> std::string {
        using T = std::decay_t<decltype(l)>;
        if constexpr (std::is_same_v<T, Flatten>) {
          return "flatten";
        } else if constexpr (std::is_same_v<T, Dense>) {
          return with_activation("dense(" + std::to_string(l.units), l.activation);
        } else if constexpr (std::is_same_v<T, Conv2d>) {
          const std::string k = std::to_string(l.kernel_size);
          return with_activation("conv2d(" + std::to_string(l.filters) + ", " + k + "x" + k +
                                     ", stride " + std::to_string(l.stride) + ", " +
                                     (l.same_padding ? "same" : "valid"),
                                 l.activation);
        } else if constexpr (std::is_same_v<T, MaxPool2d>) {
          return pool("maxpool", l.pool_size, l.stride);
        } else if constexpr (std::is_same_v<T, AvgPool2d>) {
          return pool("avgpool", l.pool_size, l.stride);
        } else if constexpr (std::is_same_v<T, Dropout>) {
          return "dropout(" + number(l.rate) + ")";
        } else if constexpr (std::is_same_v<T, BatchNorm>) {
          return "batchnorm";
        } else if constexpr (std::is_same_v<T, ActivationLayer>) {
          return "activation(" + to_string(l.activation) + ")";
        } else {
          return describe_search_block(l);
        }
      },
      layer);
}

}  // namespace quarry::nn
