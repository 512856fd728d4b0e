// The torch modules of the architecture-search blocks that are not a plain chain: NAS-Bench-201's
// cell (a small DAG) and its residual reduction block (Dong & Yang, ICLR 2020). build_layers makes
// them from nn::Cell and nn::ResidualReduce specs. And SeededDropout, the dropout build_layers
// and AutoML's MLP use.
//
// Both are BranchedModules: their branches are Sequentials joined by sums, and `run` takes the
// function that runs a branch, so that Model::complexity walks inside them (it counts each
// branch's modules and the additions) while forward() just calls each branch's forward.
// Submodules are registered by name ("edge_0_1", "conv_a", "conv_b", "shortcut"), so checkpoints
// and weights files hold them like any other module's.
//
// Includes <torch/torch.h>: keep this header inside quarry/nn.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "quarry/core/rng.hpp"
#include "quarry/nn/model.hpp"

namespace quarry::nn {

/// A module made of Sequential branches whose outputs are added.
class BranchedModule {
 public:
  /// Runs one branch on its input.
  using Apply = std::function<torch::Tensor(torch::nn::SequentialImpl&, const torch::Tensor&)>;
  virtual ~BranchedModule() = default;
  /// The module's output for `x`, each branch run by `apply`; adds to `additions` the
  /// element-wise additions made joining the branches.
  virtual torch::Tensor run(const torch::Tensor& x, const Apply& apply,
                            std::int64_t& additions) = 0;
};

/// A NAS-Bench-201 cell on `channels` channels (see nn::Cell); the size of its input is kept.
class CellModuleImpl : public torch::nn::Cloneable<CellModuleImpl>, public BranchedModule {
 public:
  CellModuleImpl(Cell cell, std::int64_t channels);
  void reset() override;
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor run(const torch::Tensor& x, const Apply& apply, std::int64_t& additions) override;

 private:
  Cell cell_;
  std::int64_t channels_;
  std::vector<torch::nn::Sequential> ops_;  // per edge; empty for none and skip_connect
};
TORCH_MODULE(CellModule);

/// NAS-Bench-201's stride-2 ResNet basic block from `in` to `out` channels (see
/// nn::ResidualReduce).
class ResidualReduceModuleImpl : public torch::nn::Cloneable<ResidualReduceModuleImpl>,
                                 public BranchedModule {
 public:
  ResidualReduceModuleImpl(std::int64_t in, std::int64_t out);
  void reset() override;
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor run(const torch::Tensor& x, const Apply& apply, std::int64_t& additions) override;

 private:
  std::int64_t in_, out_;
  torch::nn::Sequential conv_a_, conv_b_, shortcut_;
};
TORCH_MODULE(ResidualReduceModule);

/// Dropout (Keras' and torch's: zeroes each element with probability `rate` while training and
/// scales the rest by 1 / (1 - rate); the identity in eval mode) whose masks come from its own
/// generator, seeded at construction: torch's Dropout draws from the process-wide generator, shared
/// with the trials training in other threads, so its masks depend on their timing. reset() (and so
/// clone()) restarts the masks from the seed. The generator is quarry::Rng, one 64-bit draw for two
/// elements, written straight into the scaled mask: torch's bernoulli_ draws one mt19937 number
/// per element and takes a second pass to scale.
class SeededDropoutImpl : public torch::nn::Cloneable<SeededDropoutImpl> {
 public:
  SeededDropoutImpl(double rate, std::uint64_t seed);
  void reset() override;
  torch::Tensor forward(const torch::Tensor& x);
  double rate() const { return rate_; }

 private:
  double rate_;
  std::uint64_t seed_;
  Rng rng_;
};
TORCH_MODULE(SeededDropout);

}  // namespace quarry::nn
