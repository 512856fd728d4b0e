// SeededDropout: Keras' dropout with masks from the layer's own seed.
#include <gtest/gtest.h>

#include <cstdint>

#include "quarry/nn/blocks.hpp"

namespace quarry::nn {
namespace {

TEST(SeededDropoutTest, ZeroesTheRateAndScalesTheRestWhileTraining) {
  SeededDropout dropout(0.25, 7);
  const torch::Tensor x = torch::ones({64, 1001});  // an odd count: the last draw is half used
  const torch::Tensor y = dropout(x);
  const double zeros = y.eq(0).to(torch::kDouble).mean().item<double>();
  EXPECT_NEAR(zeros, 0.25, 0.01);
  const torch::Tensor kept = y.masked_select(y.ne(0));  // every element written: 0 or the scale
  EXPECT_TRUE(torch::all(kept.eq(static_cast<float>(1 / 0.75))).item<bool>());

  // The gradient is the mask: zero where dropped, the scale where kept.
  const torch::Tensor w = torch::full({3, 5}, 2.0F, torch::requires_grad());
  dropout(w).sum().backward();
  const torch::Tensor g = w.grad();
  EXPECT_TRUE(torch::all(g.eq(0) | g.eq(static_cast<float>(1 / 0.75))).item<bool>());

  dropout->eval();
  EXPECT_TRUE(torch::equal(dropout(x), x)) << "the identity in eval mode";
}

TEST(SeededDropoutTest, TheSameSeedGivesTheSameMasksAndResetRestartsThem) {
  const torch::Tensor x = torch::ones({8, 33});
  SeededDropout a(0.5, 3), b(0.5, 3), other(0.5, 4);
  const torch::Tensor first = a(x);
  EXPECT_TRUE(torch::equal(b(x), first));
  EXPECT_FALSE(torch::equal(other(x), first));
  EXPECT_FALSE(torch::equal(a(x), first)) << "the next batch, the next mask";
  a->reset();
  EXPECT_TRUE(torch::equal(a(x), first));
  // torch's generator is left alone: its draws do not move the layer's masks.
  torch::manual_seed(1);
  SeededDropout c(0.5, 3);
  torch::rand({100});
  EXPECT_TRUE(torch::equal(c(x), first));
}

}  // namespace
}  // namespace quarry::nn
