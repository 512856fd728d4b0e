// build_layers: Layer specs -> torch::nn modules, propagating the shape of one example.
//
// Shapes are {features} (flat) or {channels, height, width} (image). Keras' conventions:
// "same" padding gives ceil(in / stride) outputs with the extra padding row/column at the bottom
// and right (TensorFlow's rule), pools use "valid" padding, BatchNormalization has momentum 0.99
// (torch's 0.01) and epsilon 1e-3, and Dense / Conv2D start from Glorot-uniform weights and zero
// biases. The architecture-search blocks: SepConv2d is a depthwise convolution (no bias) and a
// pointwise 1x1 one (both Glorot-uniform), GlobalAvgPool an adaptive 1x1 average pool and a
// flatten, Cell and ResidualReduce the NAS-Bench-201 modules of nn/blocks.hpp. The rules of the
// layers' fields (units >= 1, a rate in [0, 1)...) are spec_rules.hpp's, checked before each layer
// is built; this file checks only that each layer fits its input.
#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>
#include <mutex>
#include <sstream>
#include <variant>

#include "quarry/core/error.hpp"
#include "quarry/core/rng.hpp"
#include "quarry/nn/blocks.hpp"
#include "quarry/nn/model.hpp"
#include "quarry/nn/spec_rules.hpp"

namespace quarry::nn {
namespace {

using Shape = std::vector<std::int64_t>;

std::string shape_string(const Shape& shape) {
  std::ostringstream out;
  out << '{';
  for (std::size_t i = 0; i < shape.size(); ++i) out << (i ? ", " : "") << shape[i];
  out << '}';
  return out.str();
}

/// fan_in and fan_out of a Linear or Conv weight ({out, in} or {out, in / groups, kh, kw}), as
/// Keras and torch count them.
std::pair<double, double> fans(const torch::Tensor& weight) {
  const double receptive = weight.dim() > 2 ? static_cast<double>(weight[0][0].numel()) : 1;
  return {static_cast<double>(weight.size(1)) * receptive,
          static_cast<double>(weight.size(0)) * receptive};
}

/// Glorot-uniform (Keras' default kernel initialiser): U(-b, b), b = sqrt(6 / (fan_in + fan_out)).
void glorot_uniform(torch::Tensor& weight, at::Generator& generator) {
  torch::NoGradGuard no_grad;
  const auto [in, out] = fans(weight);
  const double bound = std::sqrt(6 / (in + out));
  weight.uniform_(-bound, bound, generator);
}

/// Keras' initialisers: glorot_uniform kernels, zero biases.
void keras_init(torch::Tensor& weight, torch::Tensor& bias, at::Generator& generator) {
  glorot_uniform(weight, generator);
  torch::NoGradGuard no_grad;
  bias.zero_();
}

/// torch's own initialisation of every Linear and Conv2d inside `module` (the NAS-Bench-201
/// blocks keep it, as there): weights and biases U(-1/sqrt(fan_in), 1/sqrt(fan_in)), i.e.
/// kaiming_uniform with a = sqrt(5); drawn from `generator`.
void torch_default_init(torch::nn::Module& module, at::Generator& generator) {
  torch::NoGradGuard no_grad;
  for (const auto& m : module.modules()) {
    torch::Tensor weight, bias;
    if (auto* linear = m->as<torch::nn::LinearImpl>()) weight = linear->weight, bias = linear->bias;
    if (auto* conv = m->as<torch::nn::Conv2dImpl>()) weight = conv->weight, bias = conv->bias;
    if (!weight.defined()) continue;
    const double bound = 1 / std::sqrt(fans(weight).first);
    weight.uniform_(-bound, bound, generator);
    if (bias.defined()) bias.uniform_(-bound, bound, generator);
  }
}

/// TensorFlow's "same" padding along one axis: ceil(in / stride) outputs, the odd pixel of
/// padding after (bottom / right).
struct SamePadding {
  std::int64_t before, after, out;
};
SamePadding same_padding(std::int64_t in, std::int64_t kernel, std::int64_t stride) {
  const std::int64_t out = (in + stride - 1) / stride;
  const std::int64_t total = std::max<std::int64_t>((out - 1) * stride + kernel - in, 0);
  return {total / 2, total - total / 2, out};
}

/// Appends one layer to `net`, updating `shape`; a visitor over Layer.
struct Builder {
  torch::nn::Sequential& net;
  Shape& shape;
  std::size_t index;
  const Layer& layer;
  std::uint64_t seed;
  at::Generator& generator;  ///< initial weights

  [[noreturn]] void fail(const std::string& rule) const {
    throw InvalidArgument("build_layers: layer " + std::to_string(index) + " " + describe(layer) +
                          ": " + rule);
  }
  void need_image(const char* what) const {
    if (shape.size() != 3) {
      fail(std::string(what) + " needs an image input {channels, height, width}, got " +
           shape_string(shape));
    }
  }
  void add_activation(Activation activation) {
    switch (activation) {
      case Activation::None:
        return;
      case Activation::Relu:
        net->push_back(torch::nn::ReLU());
        return;
      case Activation::Tanh:
        net->push_back(torch::nn::Tanh());
        return;
      case Activation::Sigmoid:
        net->push_back(torch::nn::Sigmoid());
        return;
      case Activation::Gelu:
        net->push_back(torch::nn::GELU());
        return;
    }
  }

  void operator()(const Flatten&) {
    std::int64_t size = 1;
    for (std::int64_t d : shape) size *= d;
    net->push_back(torch::nn::Flatten());
    shape = {size};
  }

  void operator()(const Dense& dense) {
    if (shape.size() != 1) {
      fail("dense needs a flat input, got " + shape_string(shape) +
           "; add a flatten layer before it");
    }
    torch::nn::Linear linear(shape[0], dense.units);
    keras_init(linear->weight, linear->bias, generator);
    net->push_back(linear);
    add_activation(dense.activation);
    shape = {dense.units};
  }

  /// TensorFlow's "same" padding for a k x k kernel of stride s: symmetric padding in `options`,
  /// else a ZeroPad2d pushed before the convolution; sets the shape's height and width.
  void pad_same(torch::nn::Conv2dOptions& options, std::int64_t k, std::int64_t s) {
    const SamePadding h = same_padding(shape[1], k, s), w = same_padding(shape[2], k, s);
    if (h.before == h.after && w.before == w.after) {
      options.padding(torch::ExpandingArray<2>({h.before, w.before}));
    } else {
      net->push_back(torch::nn::ZeroPad2d(
          torch::nn::ZeroPad2dOptions({w.before, w.after, h.before, h.after})));
    }
    shape[1] = h.out, shape[2] = w.out;
  }

  void operator()(const Conv2d& conv) {
    need_image("conv2d");
    const std::int64_t k = conv.kernel_size, s = conv.stride;
    auto options = torch::nn::Conv2dOptions(shape[0], conv.filters, k).stride(s);
    if (conv.same_padding) {
      pad_same(options, k, s);
      shape[0] = conv.filters;
    } else {
      if (shape[1] < k || shape[2] < k) {
        fail("the kernel is larger than the " + shape_string(shape) +
             " input; use same padding or a smaller kernel");
      }
      shape = {conv.filters, (shape[1] - k) / s + 1, (shape[2] - k) / s + 1};
    }
    torch::nn::Conv2d module(options);
    keras_init(module->weight, module->bias, generator);
    net->push_back(module);
    add_activation(conv.activation);
  }

  /// Output size of a "valid" pool; fails when the pool does not fit the image.
  std::int64_t pool_stride(std::int64_t pool_size, std::int64_t stride) {
    need_image("pooling");
    if (shape[1] < pool_size || shape[2] < pool_size) {
      fail("the pool is larger than the " + shape_string(shape) + " input");
    }
    const std::int64_t s = stride == 0 ? pool_size : stride;
    shape = {shape[0], (shape[1] - pool_size) / s + 1, (shape[2] - pool_size) / s + 1};
    return s;
  }
  void operator()(const MaxPool2d& pool) {
    const std::int64_t s = pool_stride(pool.pool_size, pool.stride);
    net->push_back(torch::nn::MaxPool2d(torch::nn::MaxPool2dOptions(pool.pool_size).stride(s)));
  }
  void operator()(const AvgPool2d& pool) {
    const std::int64_t s = pool_stride(pool.pool_size, pool.stride);
    net->push_back(torch::nn::AvgPool2d(torch::nn::AvgPool2dOptions(pool.pool_size).stride(s)));
  }

  void operator()(const Dropout& dropout) {
    net->push_back(
        SeededDropout(dropout.rate, Rng::stream(seed, {hash_name("dropout"), index}).next()));
  }

  void operator()(const BatchNorm&) {
    // Keras: running = 0.99 * running + 0.01 * batch; torch's momentum is the batch's weight.
    const auto options = [](std::int64_t n) {
      return torch::nn::BatchNormOptions(n).momentum(0.01).eps(1e-3);
    };
    if (shape.size() == 1) {
      net->push_back(torch::nn::BatchNorm1d(options(shape[0])));
    } else if (shape.size() == 3) {
      net->push_back(torch::nn::BatchNorm2d(options(shape[0])));
    } else {
      fail("batchnorm needs a flat or image input, got " + shape_string(shape));
    }
  }

  void operator()(const ActivationLayer& activation) { add_activation(activation.activation); }

  // --- architecture-search blocks ---

  void operator()(const SepConv2d& conv) {
    need_image("sepconv2d");
    const std::int64_t channels = shape[0], k = conv.kernel_size;
    auto options =
        torch::nn::Conv2dOptions(channels, channels, k).stride(conv.stride).groups(channels);
    pad_same(options, k, conv.stride);
    torch::nn::Conv2d depthwise(options.bias(false));
    torch::nn::Conv2d pointwise(torch::nn::Conv2dOptions(channels, conv.filters, 1));
    glorot_uniform(depthwise->weight, generator);
    keras_init(pointwise->weight, pointwise->bias, generator);
    net->push_back(depthwise);
    net->push_back(pointwise);
    add_activation(conv.activation);
    shape[0] = conv.filters;
  }

  void operator()(const Identity&) { net->push_back(torch::nn::Identity()); }

  void operator()(const GlobalAvgPool&) {
    need_image("global_avg_pool");
    net->push_back(torch::nn::AdaptiveAvgPool2d(torch::nn::AdaptiveAvgPool2dOptions({1, 1})));
    net->push_back(torch::nn::Flatten());
    shape = {shape[0]};
  }

  void operator()(const Cell& cell) {
    need_image("cell");
    CellModule module(cell, shape[0]);
    torch_default_init(*module, generator);
    net->push_back(module);
  }

  void operator()(const ResidualReduce& reduce) {
    need_image("residual_reduce");
    ResidualReduceModule module(shape[0], reduce.filters);
    torch_default_init(*module, generator);
    net->push_back(module);
    shape = {reduce.filters, (shape[1] + 1) / 2, (shape[2] + 1) / 2};
  }
};

}  // namespace

torch::nn::Sequential build_layers(const std::vector<Layer>& layers,
                                   const std::vector<std::int64_t>& input_shape,
                                   std::uint64_t seed) {
  if (input_shape.empty()) throw InvalidArgument("build_layers: the input shape is empty");
  for (std::int64_t d : input_shape) {
    if (d < 1) {
      throw InvalidArgument("build_layers: input shape " + shape_string(input_shape) +
                            " has a size < 1");
    }
  }
  torch::nn::Sequential net;
  Shape shape = input_shape;
  // Every initial weight comes from this generator (the modules' own reset() draws from LibTorch's
  // process-wide one, and is overwritten), every dropout mask from the layer's own.
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(
      Rng::stream(seed, {hash_name("initial weights")}).next());
  for (std::size_t i = 0; i < layers.size(); ++i) {
    Builder builder{net, shape, i, layers[i], seed, generator};
    if (const auto problem = layer_problem(layers[i])) builder.fail(*problem);  // spec_rules.hpp
    std::visit(builder, layers[i]);
  }
  return net;
}

// A user's builder makes its modules with their own reset(), which draws from the process-wide
// generator: it is seeded and held for the build. Draws made meanwhile by other threads outside
// build_seeded (torch::rand, torch's Dropout) still interleave.
void build_seeded(std::uint64_t seed, const std::function<void()>& build) {
  static std::mutex building;
  const std::lock_guard lock(building);
  {
    at::Generator generator = at::detail::getDefaultCPUGenerator();  // a handle, not a copy
    const std::lock_guard generator_lock(generator.mutex());
    generator.set_current_seed(Rng::stream(seed, {hash_name("initial weights")}).next());
  }
  build();
}

}  // namespace quarry::nn
