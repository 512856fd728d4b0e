// The architecture spaces' layers built in LibTorch: random architectures run, one of each space
// trains, FLOPs inside cells and residual blocks match hand counts, checkpoints hold the blocks.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "quarry/core/rng.hpp"
#include "quarry/nas/macro.hpp"
#include "quarry/nas/micro.hpp"
#include "quarry/nn/fit.hpp"
#include "quarry/nn/model.hpp"
#include "tests/test_util.hpp"

namespace quarry::nn {
namespace {

using quarry::testing::TempDir;

Params sample(const Space& s, Rng& rng) {
  return s.assign([&](const space::Param& p, const Params&) { return p.from_unit(rng.uniform()); });
}

const nas::MacroOptions kMacro{.filters = {4, 8}, .units = {16, 32}};
const nas::MicroOptions kMicro{.filters = 4};

/// `rows` 1 x 12 x 12 images of two classes: a bright square top-left (class 0) or bottom-right.
data::Dataset squares(std::int64_t rows, std::uint64_t seed) {
  data::Dataset d;
  d.shape = {1, 12, 12};
  d.num_classes = 2;
  Rng rng(seed);
  for (std::int64_t i = 0; i < rows; ++i) {
    const std::int64_t label = i % 2, offset = label == 0 ? 1 : 6;
    for (std::int64_t r = 0; r < 12; ++r) {
      for (std::int64_t c = 0; c < 12; ++c) {
        const bool inside = r >= offset && r < offset + 5 && c >= offset && c < offset + 5;
        d.x.push_back(static_cast<float>((inside ? 1.0 : 0.0) + 0.3 * rng.normal()));
      }
    }
    d.y.push_back(static_cast<float>(label));
  }
  return d;
}

std::int64_t flops_of(const std::vector<Layer>& layers, const std::vector<std::int64_t>& shape) {
  Model model(Compiled{build_layers(layers, shape), Adam()}, shape);
  return model.complexity(1).flops;
}

TEST(NasBuildTest, RandomMacroArchitecturesRun) {
  torch::manual_seed(1);
  const Space s = nas::macro_space(kMacro);
  Rng rng(1);
  for (int i = 0; i < 50; ++i) {
    const Params p = sample(s, rng);
    auto net = build_layers(nas::macro_layers(p, kMacro, {1, 28, 28}), {1, 28, 28});
    EXPECT_EQ(net->forward(torch::randn({2, 1, 28, 28})).sizes(),
              (std::vector<std::int64_t>{2, 10}))
        << nas::macro_string(p, kMacro);
  }
}

TEST(NasBuildTest, RandomMicroArchitecturesRun) {
  torch::manual_seed(2);
  const Space s = nas::micro_space(kMicro);
  Rng rng(2);
  for (int i = 0; i < 50; ++i) {
    const Params p = sample(s, rng);
    auto net = build_layers(nas::micro_layers(p, kMicro, {1, 28, 28}), {1, 28, 28});
    EXPECT_EQ(net->forward(torch::randn({2, 1, 28, 28})).sizes(),
              (std::vector<std::int64_t>{2, 10}))
        << nas::micro_string(p, kMicro);
  }
}

/// Trains one epoch on 256 small images and measures the model.
void train_and_measure(const std::vector<Layer>& layers) {
  Model model(ModelSpec{.layers = layers, .optimizer = Adam(3e-3)}, {1, 12, 12});
  const History history = fit(model, squares(256, 4), {.epochs = 1, .validation_split = 0.25});
  ASSERT_EQ(history.epochs.size(), 1U);
  EXPECT_TRUE(std::isfinite(history.epochs[0].at("loss")));
  EXPECT_GE(history.epochs[0].at("val_accuracy"), 0.0);
  const Complexity c = model.complexity(2);
  EXPECT_GT(c.parameters, 0);
  EXPECT_GT(c.flops, 0);
  EXPECT_GT(c.latency_b1_ms, 0);
  EXPECT_GT(c.latency_b256_ms, 0);
}

TEST(NasBuildTest, OneArchitectureOfEachSpaceTrains) {
  torch::manual_seed(3);
  const nas::MacroOptions macro{.filters = {8}, .classes = 2};
  train_and_measure(
      nas::macro_layers(nas::parse_macro_string(
                            "conv3x3-8-s1-relu|maxpool|sepconv3x3-8-s2-relu||dense-64-relu", macro),
                        macro, {1, 12, 12}));
  const nas::MicroOptions micro{.stages = 2, .filters = 4, .classes = 2};
  train_and_measure(nas::micro_layers(
      nas::parse_micro_string(
          "|nor_conv_3x3~0|+|skip_connect~0|avg_pool_3x3~1|+|none~0|nor_conv_1x1~1|skip_connect~2|",
          micro),
      micro, {1, 12, 12}));
}

TEST(NasBuildTest, CellFlopsMatchAHandCount) {
  // 3 nodes on a 2 x 4 x 4 input (32 elements per map):
  //   edge_0_1 nor_conv_1x1: ReLU 32 + conv 32 * (2 * 2 * 1) + BatchNorm 2 * 32 = 224
  //   edge_0_2 skip_connect: 0;  edge_1_2 avg_pool_3x3: 32 * 9 = 288;  node 2's sum: 32
  const Cell cell{{CellOp::NorConv1x1, CellOp::SkipConnect, CellOp::AvgPool3x3}, 3};
  EXPECT_EQ(flops_of({cell}, {2, 4, 4}), 224 + 288 + 32);
  // An all-"none" edge into a node adds nothing.
  EXPECT_EQ(flops_of({Cell{{CellOp::None, CellOp::None, CellOp::SkipConnect}, 3}}, {2, 4, 4}), 0);
}

TEST(NasBuildTest, ResidualReduceAndSeparableConvFlopsMatchHandCounts) {
  // 2 x 4 x 4 -> 4 x 2 x 2 (16 elements):
  //   conv_a: ReLU 32, conv3x3 s2 16 * (2 * 2 * 9) = 576, BatchNorm 32
  //   conv_b: ReLU 16, conv3x3 16 * (2 * 4 * 9) = 1152, BatchNorm 32
  //   shortcut: avgpool 2 x 2 x 2 outputs * 4 = 32, conv1x1 16 * (2 * 2) = 64;  the sum: 16
  EXPECT_EQ(flops_of({ResidualReduce{4}}, {2, 4, 4}),
            32 + 576 + 32 + 16 + 1152 + 32 + 32 + 64 + 16);
  // Depthwise 32 * (2 * 9) = 576, pointwise 48 * (2 * 2 + 1) = 240; global pooling: 48 inputs.
  EXPECT_EQ(flops_of({SepConv2d{.filters = 3}, GlobalAvgPool{}}, {2, 4, 4}), 576 + 240 + 48);
}

TEST(NasBuildTest, BlocksHaveTheirShapesAndParameterCounts) {
  auto count = [](torch::nn::Sequential& net) {
    std::int64_t n = 0;
    for (const auto& p : net->parameters()) n += p.numel();
    return n;
  };
  auto sep = build_layers({SepConv2d{.filters = 5, .kernel_size = 3, .stride = 2}}, {3, 7, 7});
  EXPECT_EQ(sep->forward(torch::randn({1, 3, 7, 7})).sizes(),
            (std::vector<std::int64_t>{1, 5, 4, 4}));
  EXPECT_EQ(count(sep), 3 * 9 + 3 * 5 + 5);
  auto reduce = build_layers({ResidualReduce{6}}, {3, 7, 7});  // odd: ceil(7 / 2) = 4
  EXPECT_EQ(reduce->forward(torch::randn({1, 3, 7, 7})).sizes(),
            (std::vector<std::int64_t>{1, 6, 4, 4}));
  auto pooled = build_layers({Identity{}, GlobalAvgPool{}}, {3, 5, 5});
  const torch::Tensor x = torch::randn({2, 3, 5, 5});
  EXPECT_TRUE(torch::allclose(pooled->forward(x), x.mean({2, 3})));
  EXPECT_THROW(build_layers({Cell{{CellOp::None}, 3}}, {1, 4, 4}), InvalidArgument);
  EXPECT_THROW(build_layers({Flatten{}, Cell{{CellOp::None}, 2}}, {1, 4, 4}), InvalidArgument);
}

TEST(NasBuildTest, CheckpointsRoundTripAMicroModel) {
  const nas::MicroOptions micro{.stages = 2, .filters = 4, .classes = 2};
  const Params p = nas::parse_micro_string(
      "|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|none~2|",
      micro);
  const ModelSpec spec{.layers = nas::micro_layers(p, micro, {1, 12, 12})};
  torch::manual_seed(5);
  Model trained(spec, {1, 12, 12});
  fit(trained, squares(64, 6), {.epochs = 1});  // moves the weights and BatchNorm statistics
  TempDir dir;
  trained.save_checkpoint(dir.file("model.pt"), 1);

  torch::manual_seed(6);
  Model restored(spec, {1, 12, 12});
  EXPECT_EQ(restored.load_checkpoint(dir.file("model.pt")), 1);
  const auto a = trained.net()->named_parameters(), b = restored.net()->named_parameters();
  ASSERT_EQ(a.size(), b.size());
  EXPECT_NE(a.find("2.edge_0_1.1.weight"), nullptr);  // the cell's conv, by name
  for (const auto& item : a) EXPECT_TRUE(torch::equal(item.value(), b[item.key()])) << item.key();
  trained.net()->eval();
  restored.net()->eval();
  const torch::Tensor x = torch::randn({3, 1, 12, 12});
  EXPECT_TRUE(torch::equal(trained.net()->forward(x), restored.net()->forward(x)));
}

}  // namespace
}  // namespace quarry::nn
