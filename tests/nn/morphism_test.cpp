// Network morphism (Net2Net): widened and deepened children compute their parent's function, the
// planner refuses children that cannot be derived, and inherited weights train faster than a
// fresh start.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/test_util.hpp"

#include <cstdint>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "quarry/core/error.hpp"
#include "quarry/core/rng.hpp"
#include "quarry/nn/fit.hpp"
#include "quarry/nn/morphism.hpp"
#include "tests/nn/blobs.hpp"

namespace quarry::nn {
namespace {

using quarry::testing::error_of;
using quarry::testing::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Shape = std::vector<std::int64_t>;

/// `rows` examples of `shape` with standard normal values, [rows, shape...].
torch::Tensor random_input(std::int64_t rows, const Shape& shape, std::uint64_t seed) {
  Shape sizes = {rows};
  sizes.insert(sizes.end(), shape.begin(), shape.end());
  Rng rng(seed);
  std::vector<float> values(static_cast<std::size_t>(torch::empty(sizes).numel()));
  for (float& v : values) v = static_cast<float>(rng.normal());
  return torch::tensor(values).reshape(sizes);
}

/// Every parameter random (biases included), BatchNorm statistics away from 0 / 1.
void randomise(torch::nn::Sequential& net, std::uint64_t seed) {
  torch::NoGradGuard no_grad;
  Rng rng(seed);
  const auto fill = [&](torch::Tensor t, double low, double high) {
    std::vector<float> values(static_cast<std::size_t>(t.numel()));
    for (float& v : values) v = static_cast<float>(rng.uniform(low, high));
    t.copy_(torch::tensor(values).view_as(t));
  };
  for (auto& p : net->named_parameters()) fill(p.value(), -0.6, 0.6);
  for (auto& b : net->named_buffers()) {
    if (b.key().find("running_mean") != std::string::npos) fill(b.value(), -0.5, 0.5);
    if (b.key().find("running_var") != std::string::npos) fill(b.value(), 0.5, 2);
  }
}

/// Builds parent and child, morphs random parent weights into the child and returns the largest
/// difference of their outputs (eval mode) on random inputs.
double morphed_difference(const std::vector<Layer>& parent, const std::vector<Layer>& child,
                          const Shape& input_shape, std::uint64_t seed = 1) {
  const std::optional<MorphPlan> plan = plan_morphism(parent, child, input_shape);
  if (!plan) {
    ADD_FAILURE() << "no plan";
    return 1e9;
  }
  torch::nn::Sequential parent_net = build_layers(parent, input_shape);
  torch::nn::Sequential child_net = build_layers(child, input_shape);
  randomise(parent_net, seed);
  randomise(child_net, seed + 1);  // every child weight must be overwritten
  apply_morphism(*plan, parent_net, child_net, seed);
  parent_net->eval();
  child_net->eval();
  torch::NoGradGuard no_grad;
  const torch::Tensor x = random_input(64, input_shape, seed + 2);
  const torch::Tensor a = parent_net->forward(x), b = child_net->forward(x);
  EXPECT_EQ(a.sizes(), b.sizes());
  return (a - b).abs().max().item<double>();
}

bool derivable(const std::vector<Layer>& parent, const std::vector<Layer>& child,
               const Shape& input_shape) {
  return plan_morphism(parent, child, input_shape).has_value();
}

const Activation relu = Activation::Relu;

TEST(MorphismTest, WidenedDenseLayersComputeTheParentsFunction) {
  const ModelSpec parent{.layers = {Dense{8, relu}, Dense{6, Activation::Tanh}, Dense{3}}};
  const ModelSpec child = widen(widen(parent, 0, 20), 1, 7);
  EXPECT_LT(morphed_difference(parent.layers, child.layers, {5}), 1e-5);
  const auto plan = plan_morphism(parent.layers, child.layers, {5});
  ASSERT_TRUE(plan);
  EXPECT_THAT(plan->steps, ElementsAre("widen layer 0 dense(20, relu) from 8",
                                       "widen layer 1 dense(7, tanh) from 6"));
}

TEST(MorphismTest, NewUnitsCopyExistingOnesAndKeepTheOriginals) {
  const std::vector<Layer> parent = {Dense{4, relu}, Dense{2}};
  const std::vector<Layer> child = {Dense{9, relu}, Dense{2}};
  torch::nn::Sequential p = build_layers(parent, {3}), c = build_layers(child, {3});
  apply_morphism(*plan_morphism(parent, child, {3}), p, c, 7);
  const torch::Tensor pw = p[0]->as<torch::nn::Linear>()->weight;
  const torch::Tensor cw = c[0]->as<torch::nn::Linear>()->weight;
  EXPECT_TRUE(torch::equal(cw.narrow(0, 0, 4), pw));
  for (std::int64_t o = 4; o < 9; ++o) {
    const torch::Tensor copies = (pw - cw[o]).abs().sum(1).eq(0);
    EXPECT_EQ(copies.sum().item<std::int64_t>(), 1) << "unit " << o;
  }
}

TEST(MorphismTest, WidenedConvWithBatchNormBeforeFlattenAndDense) {
  const ModelSpec parent{.layers = {Conv2d{.filters = 4, .activation = relu}, BatchNorm{},
                                    MaxPool2d{}, Flatten{}, Dense{5, relu}, Dense{3}}};
  const ModelSpec child = widen(widen(parent, 0, 9), 4, 11);
  EXPECT_LT(morphed_difference(parent.layers, child.layers, {2, 8, 8}), 1e-5);
}

TEST(MorphismTest, WidenedConvsWithoutBatchNormIncludingAsymmetricSamePadding) {
  // 7x7 input, kernel 2, stride 2, same: one row / column of padding after (a ZeroPad2d module).
  const ModelSpec parent{
      .layers = {
          Conv2d{.filters = 3, .activation = relu},
          Conv2d{.filters = 5, .kernel_size = 2, .stride = 2, .activation = Activation::Tanh},
          Flatten{}, Dense{3}}};
  const ModelSpec child = widen(widen(parent, 0, 8), 1, 6);
  EXPECT_LT(morphed_difference(parent.layers, child.layers, {2, 7, 7}), 1e-5);
}

TEST(MorphismTest, WidenedConvBeforeGlobalAveragePooling) {
  const ModelSpec parent{
      .layers = {Conv2d{.filters = 4, .activation = relu}, GlobalAvgPool{}, Dense{3}}};
  EXPECT_LT(morphed_difference(parent.layers, widen(parent, 0, 10).layers, {3, 6, 6}), 1e-5);
}

TEST(MorphismTest, DeepenedDenseStartsAsTheIdentity) {
  const ModelSpec parent{.layers = {Dense{8, relu}, Dense{6, Activation::Tanh}, Dense{3}}};
  const ModelSpec after_relu = deepen(parent, 0);
  EXPECT_THAT(describe(after_relu.layers[1]), "dense(8, relu)");
  EXPECT_LT(morphed_difference(parent.layers, after_relu.layers, {5}), 1e-6);
  const ModelSpec after_tanh = deepen(parent, 1);  // tanh can be negative: no relu
  EXPECT_THAT(describe(after_tanh.layers[2]), "dense(6)");
  EXPECT_LT(morphed_difference(parent.layers, after_tanh.layers, {5}), 1e-6);
  EXPECT_LT(morphed_difference(parent.layers, deepen(parent, 2).layers, {5}), 1e-6);
}

TEST(MorphismTest, DeepenedConvStartsAsTheIdentity) {
  const ModelSpec parent{
      .layers = {Conv2d{.filters = 4, .activation = relu}, MaxPool2d{}, Flatten{}, Dense{3}}};
  const ModelSpec child = deepen(parent, 1);
  EXPECT_EQ(describe(child.layers[2]), "conv2d(4, 3x3, stride 1, same, relu)");
  EXPECT_LT(morphed_difference(parent.layers, child.layers, {2, 8, 8}), 1e-6);
  // An even kernel (padding after only) and a valid 1x1 kernel: their centre taps.
  std::vector<Layer> other = parent.layers;
  other.insert(other.begin() + 1, Conv2d{.filters = 4, .kernel_size = 4});
  other.insert(other.begin() + 1, Conv2d{.filters = 4, .kernel_size = 1, .same_padding = false});
  EXPECT_LT(morphed_difference(parent.layers, other, {2, 8, 8}), 1e-6);
}

TEST(MorphismTest, InsertedParameterFreeLayersAndBatchNormAreTheIdentityInEvalMode) {
  const std::vector<Layer> parent = {Dense{8, relu}, Dense{3}};
  const std::vector<Layer> child = {Dense{8, relu},        Dropout{0.3}, Identity{},
                                    ActivationLayer{relu}, BatchNorm{},  Dense{3}};
  EXPECT_LT(morphed_difference(parent, child, {4}), 1e-5);
}

TEST(MorphismTest, WidenAndDeepenCombined) {
  const ModelSpec parent{.layers = {Conv2d{.filters = 4, .activation = relu}, BatchNorm{},
                                    MaxPool2d{}, Flatten{}, Dense{6, relu}, Dense{3}}};
  ModelSpec child = deepen(widen(parent, 0, 7), 0);  // conv(7) + conv(7) identity
  child = deepen(widen(child, 5, 10), 5);            // dense(10) + dense(10) identity
  ASSERT_EQ(child.layers.size(), 8U);
  EXPECT_LT(morphed_difference(parent.layers, child.layers, {2, 8, 8}), 1e-5);
  const auto plan = plan_morphism(parent.layers, child.layers, {2, 8, 8});
  ASSERT_TRUE(plan);
  EXPECT_THAT(plan->source, ElementsAre(0, std::nullopt, 1, 2, 3, 4, std::nullopt, 5));
}

TEST(MorphismTest, AlignmentBacktracksWhenMatchingFirstFails) {
  // Child layer 1 could continue parent layer 1 (8 >= 4 units), but then nothing fits after it.
  const std::vector<Layer> parent = {Dense{8, relu}, Dense{4, relu}, Dense{3}};
  const std::vector<Layer> child = {Dense{8, relu}, Dense{8, relu}, Dense{4, relu}, Dense{3}};
  const auto plan = plan_morphism(parent, child, {2});
  ASSERT_TRUE(plan);
  EXPECT_THAT(plan->source, ElementsAre(0, std::nullopt, 1, 2));
}

TEST(MorphismTest, UnknownLayerTypesAreCopiedWhenIdentical) {
  const ModelSpec parent{.layers = {SepConv2d{.filters = 4, .activation = relu},
                                    Conv2d{.filters = 5, .activation = relu}, GlobalAvgPool{},
                                    Dense{3}}};
  EXPECT_LT(morphed_difference(parent.layers, widen(parent, 1, 8).layers, {2, 6, 6}), 1e-5);
  const std::vector<Layer> sep = {Conv2d{.filters = 3}, SepConv2d{.filters = 4}, Flatten{},
                                  Dense{2}};
  EXPECT_TRUE(derivable(sep, sep, {2, 6, 6}));
  // A widened layer before one: its weights cannot be mapped.
  EXPECT_FALSE(derivable({Conv2d{.filters = 3}, SepConv2d{.filters = 4}, Flatten{}, Dense{2}},
                         {Conv2d{.filters = 5}, SepConv2d{.filters = 4}, Flatten{}, Dense{2}},
                         {2, 6, 6}));
}

TEST(MorphismTest, PlanRefusesChildrenThatCannotBeDerived) {
  const std::vector<Layer> parent = {Dense{8, relu}, BatchNorm{}, Dense{3}};
  const Shape in = {4};
  EXPECT_TRUE(derivable(parent, parent, in));
  EXPECT_FALSE(derivable(parent, {Dense{6, relu}, BatchNorm{}, Dense{3}}, in));  // narrower
  EXPECT_FALSE(derivable(parent, {Dense{8, Activation::Tanh}, BatchNorm{}, Dense{3}}, in));
  EXPECT_FALSE(derivable(parent, {Dense{8, relu}, BatchNorm{}, Dense{4}}, in));  // output
  EXPECT_FALSE(derivable(parent, {Dense{8, relu}, Dense{3}}, in));               // removed
  EXPECT_FALSE(derivable(parent,
                         {Dense{8, relu}, Dense{8, Activation::Tanh}, BatchNorm{}, Dense{3}},
                         in));  // tanh is not the identity
  EXPECT_FALSE(derivable(parent, {Dense{8, relu}, BatchNorm{}, Dense{8, relu}, Dense{3}},
                         in));  // relu after batchnorm: negative inputs
  EXPECT_TRUE(derivable(parent, {Dense{8, relu}, BatchNorm{}, Dense{8}, Dense{3}}, in));
  EXPECT_FALSE(derivable(parent, {Dense{8, relu}, Dense{5, relu}, BatchNorm{}, Dense{3}},
                         in));  // not as wide as its input
  EXPECT_FALSE(derivable(parent, {Dense{8, relu}, Dropout{0.5}, Dense{3}}, in));  // op swapped
  const std::vector<Layer> conv = {Conv2d{.filters = 4, .activation = relu}, Flatten{}, Dense{2}};
  EXPECT_FALSE(
      derivable(conv, {Conv2d{.filters = 4, .activation = relu}, MaxPool2d{}, Flatten{}, Dense{2}},
                {1, 6, 6}));  // a pool changes the function
  EXPECT_FALSE(derivable(conv,
                         {Conv2d{.filters = 4, .activation = relu},
                          Conv2d{.filters = 4, .stride = 2}, Flatten{}, Dense{2}},
                         {1, 6, 6}));
  EXPECT_FALSE(derivable(
      conv, {Conv2d{.filters = 4, .kernel_size = 5, .activation = relu}, Flatten{}, Dense{2}},
      {1, 6, 6}));
}

TEST(MorphismTest, WidenAndDeepenCheckTheirArguments) {
  const ModelSpec spec{.layers = {Flatten{}, Dense{8, relu}, Dropout{0.2}, Dense{3}}};
  EXPECT_THAT(error_of([&] { widen(spec, 1, 4); }),
              HasSubstr("widen: layer 1 dense(8, relu): the new width must be >= 8, got 4"));
  EXPECT_THAT(error_of([&] { widen(spec, 2, 9); }), HasSubstr("is not a dense or conv2d layer"));
  EXPECT_THAT(error_of([&] { widen(spec, 4, 9); }), HasSubstr("out of range"));
  EXPECT_THAT(error_of([&] { deepen(spec, 0); }), HasSubstr("the width there is unknown"));
  EXPECT_EQ(describe(deepen(spec, 2).layers[3]), "dense(8, relu)");  // through the dropout
}

TEST(MorphismTest, InheritedWeightsBeatAFreshStartAfterOneEpoch) {
  const data::Dataset all = testing::gaussian_blobs(400, 3);
  std::vector<std::int64_t> tail;
  for (std::int64_t i = 300; i < 400; ++i) tail.push_back(i);
  const data::Dataset train = all.head(300), validation = all.take(tail);
  const ModelSpec parent_spec{.layers = {Dense{8, relu}, Dense{3}}, .optimizer = Adam(1e-2)};
  torch::manual_seed(1);
  Model parent(parent_spec, {2});
  fit(parent, train, {.epochs = 4, .seed = 1});
  TempDir dir;
  parent.save_checkpoint(dir.file("parent.ckpt"), 4);

  const ModelSpec child_spec = deepen(widen(parent_spec, 0, 16), 0);
  torch::manual_seed(2);
  Model inherited(child_spec, {2});
  ASSERT_TRUE(inherit_weights(inherited, child_spec, parent_spec, dir.file("parent.ckpt"), 5));
  EXPECT_NEAR(evaluate(inherited, validation)["loss"], evaluate(parent, validation)["loss"], 1e-5);
  torch::manual_seed(2);
  Model scratch(child_spec, {2});
  const FitOptions one_epoch{.epochs = 1, .seed = 2, .validation_data = &validation};
  const double inherited_loss = fit(inherited, train, one_epoch).epochs[0].at("val_loss");
  const double scratch_loss = fit(scratch, train, one_epoch).epochs[0].at("val_loss");
  EXPECT_LT(inherited_loss, 0.5 * scratch_loss)  // 0.09 vs 0.33 when written
      << "inherited " << inherited_loss << ", from scratch " << scratch_loss;
}

TEST(MorphismTest, InheritWeightsRoundTripsACheckpointAndReportsBrokenFiles) {
  const ModelSpec parent_spec{
      .layers = {Conv2d{.filters = 3, .activation = relu}, Flatten{}, Dense{4}},
      .optimizer = SGD(0.1)};
  Model parent(parent_spec, {1, 5, 5});
  randomise(parent.net(), 4);
  TempDir dir;
  parent.save_checkpoint(dir.file("p.ckpt"), 2);
  const ModelSpec child_spec = deepen(widen(parent_spec, 0, 6), 0);
  Model child(child_spec, {1, 5, 5});
  ASSERT_TRUE(inherit_weights(child, child_spec, parent_spec, dir.file("p.ckpt"), 1));
  parent.net()->eval();
  child.net()->eval();
  torch::NoGradGuard no_grad;
  const torch::Tensor x = random_input(16, {1, 5, 5}, 9);
  EXPECT_LT((parent.net()->forward(x) - child.net()->forward(x)).abs().max().item<double>(), 1e-5);

  EXPECT_THAT(error_of([&] {
                inherit_weights(child, child_spec, parent_spec, dir.file("missing.ckpt"), 1);
              }),
              HasSubstr("missing.ckpt"));
  std::ofstream(dir.file("broken.ckpt")) << "not a torch archive";
  EXPECT_THAT(error_of([&] {
                inherit_weights(child, child_spec, parent_spec, dir.file("broken.ckpt"), 1);
              }),
              HasSubstr("broken.ckpt"));
  // Not derivable: false, the child untouched.
  const ModelSpec other{.layers = {Conv2d{.filters = 8, .activation = relu}, Flatten{}, Dense{4}}};
  const torch::Tensor before = child.net()->forward(x);
  EXPECT_FALSE(inherit_weights(child, child_spec, other, dir.file("p.ckpt"), 1));
  EXPECT_TRUE(torch::equal(before, child.net()->forward(x)));
}

}  // namespace
}  // namespace quarry::nn
