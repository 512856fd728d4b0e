// NAS-Bench-201's cell and reduction block, after the reference implementation
// (D-X-Y/AutoDL-Projects, xautodl/models/cell_operations.py: ReLUConvBN, POOLING,
// ResNetBasicblock). BatchNorms use PyTorch's defaults (momentum 0.1, eps 1e-5) and convolutions
// torch's default initialisation, as there.
#include "quarry/nn/blocks.hpp"

#include <cmath>

#include "quarry/core/error.hpp"

namespace quarry::nn {
namespace {

/// ReLU -> Conv (k x k, stride s, padding p, no bias) -> BatchNorm.
torch::nn::Sequential relu_conv_bn(std::int64_t in, std::int64_t out, std::int64_t k,
                                   std::int64_t stride, std::int64_t padding) {
  return torch::nn::Sequential(
      torch::nn::ReLU(),
      torch::nn::Conv2d(
          torch::nn::Conv2dOptions(in, out, k).stride(stride).padding(padding).bias(false)),
      torch::nn::BatchNorm2d(out));
}

/// The branch of an edge op; an empty Sequential for none and skip_connect (no module).
torch::nn::Sequential edge_op(CellOp op, std::int64_t channels) {
  switch (op) {
    case CellOp::NorConv1x1:
      return relu_conv_bn(channels, channels, 1, 1, 0);
    case CellOp::NorConv3x3:
      return relu_conv_bn(channels, channels, 3, 1, 1);
    case CellOp::AvgPool3x3:
      return torch::nn::Sequential(torch::nn::AvgPool2d(
          torch::nn::AvgPool2dOptions(3).stride(1).padding(1).count_include_pad(false)));
    case CellOp::None:
    case CellOp::SkipConnect:
      break;
  }
  return torch::nn::Sequential();
}

torch::Tensor run_forward(torch::nn::SequentialImpl& branch, const torch::Tensor& x) {
  return branch.forward(x);
}

}  // namespace

CellModuleImpl::CellModuleImpl(Cell cell, std::int64_t channels)
    : cell_(std::move(cell)), channels_(channels) {
  const auto edges = cell_edges(cell_.nodes);
  if (cell_.nodes < 2 || cell_.edges.size() != edges.size()) {
    throw InvalidArgument("Cell: " + std::to_string(cell_.nodes) + " nodes need " +
                          std::to_string(edges.size()) + " edges, got " +
                          std::to_string(cell_.edges.size()));
  }
  reset();
}

void CellModuleImpl::reset() {
  ops_.clear();
  const auto edges = cell_edges(cell_.nodes);
  for (std::size_t e = 0; e < edges.size(); ++e) {
    ops_.push_back(edge_op(cell_.edges[e], channels_));
    if (ops_.back()->is_empty()) continue;
    const auto& [from, to] = edges[e];
    register_module("edge_" + std::to_string(from) + "_" + std::to_string(to), ops_.back());
  }
}

torch::Tensor CellModuleImpl::forward(const torch::Tensor& x) {
  std::int64_t additions = 0;
  return run(x, run_forward, additions);
}

torch::Tensor CellModuleImpl::run(const torch::Tensor& x, const Apply& apply,
                                  std::int64_t& additions) {
  std::vector<torch::Tensor> nodes = {x};
  std::size_t e = 0;
  for (std::int64_t to = 1; to < cell_.nodes; ++to) {
    torch::Tensor sum;
    for (std::int64_t from = 0; from < to; ++from, ++e) {
      if (cell_.edges[e] == CellOp::None) continue;  // zeros: nothing to add
      const torch::Tensor& in = nodes[static_cast<std::size_t>(from)];
      const torch::Tensor y = cell_.edges[e] == CellOp::SkipConnect ? in : apply(*ops_[e], in);
      if (sum.defined()) {
        sum = sum + y;
        additions += sum.numel();
      } else {
        sum = y;
      }
    }
    nodes.push_back(sum.defined() ? sum : torch::zeros_like(x));
  }
  return nodes.back();
}

ResidualReduceModuleImpl::ResidualReduceModuleImpl(std::int64_t in, std::int64_t out)
    : in_(in), out_(out) {
  reset();
}

void ResidualReduceModuleImpl::reset() {
  conv_a_ = register_module("conv_a", relu_conv_bn(in_, out_, 3, 2, 1));
  conv_b_ = register_module("conv_b", relu_conv_bn(out_, out_, 3, 1, 1));
  // Ceil mode: ceil(size / 2) outputs, as the strided convolution gives for odd sizes too.
  shortcut_ = register_module(
      "shortcut",
      torch::nn::Sequential(
          torch::nn::AvgPool2d(torch::nn::AvgPool2dOptions(2).stride(2).ceil_mode(true)),
          torch::nn::Conv2d(torch::nn::Conv2dOptions(in_, out_, 1).bias(false))));
}

torch::Tensor ResidualReduceModuleImpl::forward(const torch::Tensor& x) {
  std::int64_t additions = 0;
  return run(x, run_forward, additions);
}

torch::Tensor ResidualReduceModuleImpl::run(const torch::Tensor& x, const Apply& apply,
                                            std::int64_t& additions) {
  const torch::Tensor residual = apply(*conv_b_, apply(*conv_a_, x));
  const torch::Tensor shortcut = apply(*shortcut_, x);
  additions += residual.numel();
  return shortcut + residual;
}

SeededDropoutImpl::SeededDropoutImpl(double rate, std::uint64_t seed) : rate_(rate), seed_(seed) {
  reset();
}

void SeededDropoutImpl::reset() {
  rng_ = Rng(seed_);
}

torch::Tensor SeededDropoutImpl::forward(const torch::Tensor& x) {
  if (!is_training() || rate_ <= 0) return x;
  // An element is kept when its 32 random bits fall below (1 - rate) * 2^32.
  torch::Tensor keep = torch::empty(x.sizes(), torch::kFloat32);
  float* mask = keep.data_ptr<float>();
  const std::int64_t n = keep.numel();
  const auto threshold = static_cast<std::uint64_t>(std::ldexp(1 - rate_, 32));
  const auto scale = static_cast<float>(1 / (1 - rate_));
  const auto value = [&](std::uint64_t bits) { return bits < threshold ? scale : 0.0F; };
  std::int64_t i = 0;
  for (; i + 1 < n; i += 2) {
    const std::uint64_t bits = rng_.next();
    mask[i] = value(bits & 0xffffffffU);
    mask[i + 1] = value(bits >> 32);
  }
  if (i < n) mask[i] = value(rng_.next() & 0xffffffffU);
  return x * keep;
}

}  // namespace quarry::nn
