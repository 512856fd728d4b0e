#include "quarry/nn/model.hpp"

#include <dlfcn.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <sstream>
#include <thread>

#include "tests/test_util.hpp"

namespace quarry::nn {
namespace {

using quarry::testing::error_of;
using quarry::testing::TempDir;
using ::testing::HasSubstr;

const std::vector<Layer> kSeedLayers = {Flatten{}, Dense{32, Activation::Relu}, Dropout{0.2},
                                        Dense{10}};
const std::vector<Layer> kConvLayers = {Conv2d{.filters = 8, .activation = Activation::Relu},
                                        MaxPool2d{.pool_size = 2}, Flatten{}, Dense{10}};

std::int64_t parameter_count(torch::nn::Sequential& net) {
  std::int64_t n = 0;
  for (const auto& p : net->parameters()) n += p.numel();
  return n;
}

TEST(LayersTest, SeedModelHasKerasShapeAndParameterCount) {
  auto net = build_layers(kSeedLayers, {1, 28, 28});
  EXPECT_EQ(net->forward(torch::randn({4, 1, 28, 28})).sizes(), (std::vector<std::int64_t>{4, 10}));
  EXPECT_EQ(parameter_count(net), 784 * 32 + 32 + 32 * 10 + 10);
}

/// Every parameter of `net`, concatenated.
torch::Tensor all_weights(torch::nn::Sequential& net) {
  std::vector<torch::Tensor> flat;
  for (const auto& p : net->parameters()) flat.push_back(p.detach().flatten());
  return torch::cat(flat);
}

// The initial weights depend on the seed alone, even while other threads build networks (and draw
// from LibTorch's process-wide generator) at the same time.
TEST(LayersTest, TheSeedAloneDecidesTheInitialWeights) {
  const std::vector<Layer> layers = {Conv2d{.filters = 4}, BatchNorm{}, Flatten{}, Dense{10}};
  auto reference = build_layers(layers, {1, 8, 8}, 5);
  std::atomic<bool> stop = false;
  std::thread other([&] {
    while (!stop) {
      auto noise = build_layers(layers, {1, 8, 8}, 6);
      (void)torch::rand({16});  // the process-wide generator, drawn from outside any build
    }
  });
  for (int i = 0; i < 20; ++i) {
    auto again = build_layers(layers, {1, 8, 8}, 5);
    ASSERT_TRUE(torch::equal(all_weights(again), all_weights(reference))) << "build " << i;
  }
  stop = true;
  other.join();
  auto different = build_layers(layers, {1, 8, 8}, 6);
  EXPECT_FALSE(torch::equal(all_weights(different), all_weights(reference)));
}

// Dropout's masks come from the layer's own seed: the same in two networks with the same seed,
// the identity in eval mode, and Keras' scaling of what is kept.
TEST(LayersTest, DropoutMasksComeFromTheSeed) {
  const std::vector<Layer> layers = {Flatten{}, Dropout{0.25}};
  auto a = build_layers(layers, {1000}, 7), b = build_layers(layers, {1000}, 7);
  auto c = build_layers(layers, {1000}, 8);
  const torch::Tensor x = torch::ones({4, 1000});
  const torch::Tensor ya = a->forward(x), yb = b->forward(x), yc = c->forward(x);
  EXPECT_TRUE(torch::equal(ya, yb));
  EXPECT_FALSE(torch::equal(ya, yc));
  const double dropped = (ya == 0).sum().item<double>() / 4000.0;
  EXPECT_NEAR(dropped, 0.25, 0.03);
  EXPECT_TRUE(torch::allclose(ya.masked_select(ya != 0), torch::full({1}, 1 / 0.75)));
  a->eval();
  EXPECT_TRUE(torch::equal(a->forward(x), x));
}

TEST(LayersTest, ConvNetShapeAndParameterCount) {
  auto net = build_layers(kConvLayers, {1, 28, 28});
  EXPECT_EQ(net->forward(torch::randn({2, 1, 28, 28})).sizes(), (std::vector<std::int64_t>{2, 10}));
  EXPECT_EQ(parameter_count(net), (8 * 9 + 8) + (8 * 14 * 14 * 10 + 10));
}

TEST(LayersTest, ValidConvAndStridedPoolShapes) {
  auto net = build_layers({Conv2d{.filters = 4, .kernel_size = 5, .same_padding = false},
                           AvgPool2d{.pool_size = 3, .stride = 2}},
                          {1, 28, 28});
  // valid: 28 - 5 + 1 = 24; pool: (24 - 3) / 2 + 1 = 11
  EXPECT_EQ(net->forward(torch::randn({1, 1, 28, 28})).sizes(),
            (std::vector<std::int64_t>{1, 4, 11, 11}));
}

TEST(LayersTest, EvenKernelSamePaddingKeepsTheSize) {
  auto net = build_layers({Conv2d{.filters = 3, .kernel_size = 2}}, {2, 5, 5});
  EXPECT_EQ(net->forward(torch::randn({1, 2, 5, 5})).sizes(),
            (std::vector<std::int64_t>{1, 3, 5, 5}));
}

TEST(LayersTest, StridedSamePaddingPadsBottomRightLikeTensorFlow) {
  // 6x6 input, 3x3 kernel, stride 2: ceil(6 / 2) = 3 outputs, one padding row/column in total,
  // placed after the image (TensorFlow's rule), so the first window lies entirely inside.
  auto net = build_layers({Conv2d{.filters = 1, .kernel_size = 3, .stride = 2}}, {1, 6, 6});
  for (auto& module : net->modules(false)) {
    if (auto* conv = module->as<torch::nn::Conv2dImpl>()) {
      torch::NoGradGuard no_grad;
      conv->weight.fill_(1);
      conv->bias.zero_();
    }
  }
  const torch::Tensor out = net->forward(torch::ones({1, 1, 6, 6}));
  ASSERT_EQ(out.sizes(), (std::vector<std::int64_t>{1, 1, 3, 3}));
  EXPECT_EQ(out[0][0][0][0].item<float>(), 9);  // rows 0-2, cols 0-2
  EXPECT_EQ(out[0][0][0][2].item<float>(), 6);  // rows 0-2, cols 4-5 + padding
  EXPECT_EQ(out[0][0][2][2].item<float>(), 4);  // rows 4-5, cols 4-5 + padding
}

TEST(LayersTest, BatchNormFollowsTheShapeWithKerasMomentumAndEpsilon) {
  auto net = build_layers({Conv2d{.filters = 4}, BatchNorm{}, Flatten{}, Dense{5}, BatchNorm{}},
                          {1, 6, 6});
  std::vector<torch::nn::BatchNormOptions> seen;
  for (auto& module : net->modules(false)) {
    if (auto* bn = module->as<torch::nn::BatchNorm2dImpl>()) {
      EXPECT_EQ(bn->options.num_features(), 4);
      seen.push_back(bn->options);
    }
    if (auto* bn = module->as<torch::nn::BatchNorm1dImpl>()) {
      EXPECT_EQ(bn->options.num_features(), 5);
      seen.push_back(bn->options);
    }
  }
  ASSERT_EQ(seen.size(), 2u);
  for (const auto& options : seen) {
    EXPECT_DOUBLE_EQ(options.momentum().value(), 0.01);
    EXPECT_DOUBLE_EQ(options.eps(), 1e-3);
  }
  EXPECT_EQ(net->forward(torch::randn({3, 1, 6, 6})).sizes(), (std::vector<std::int64_t>{3, 5}));
}

TEST(LayersTest, DenseOnAnImageAsksForAFlatten) {
  const Layer dense = Dense{10};
  EXPECT_EQ(error_of([&] {
              build_layers({Conv2d{.filters = 8}, dense}, {1, 28, 28});
            }),
            "build_layers: layer 1 " + describe(dense) +
                ": dense needs a flat input, got {8, 28, 28}; add a flatten layer before it");
}

TEST(LayersTest, ShapeErrorsNameTheLayer) {
  const Layer conv = Conv2d{.filters = 8};
  EXPECT_EQ(error_of([&] {
              build_layers({Flatten{}, conv}, {1, 28, 28});
            }),
            "build_layers: layer 1 " + describe(conv) +
                ": conv2d needs an image input {channels, height, width}, got {784}");
  const Layer pool = MaxPool2d{.pool_size = 4};
  EXPECT_EQ(
      error_of([&] {
        build_layers({pool}, {1, 3, 3});
      }),
      "build_layers: layer 0 " + describe(pool) + ": the pool is larger than the {1, 3, 3} input");
  EXPECT_THAT(
      error_of([] {
        build_layers({Flatten{}, Dense{0}}, {4});
      }),
      HasSubstr("layer 1 " + describe(Dense{0}) + ": units must be an integer >= 1, got 0"));
  EXPECT_THAT(error_of([] {
                build_layers({Conv2d{.filters = 0}}, {1, 4, 4});
              }),
              HasSubstr("layer 0 " + describe(Conv2d{.filters = 0}) +
                        ": filters must be an integer >= 1, got 0"));
  EXPECT_THAT(
      error_of([] { build_layers({Dropout{1.0}}, {4}); }),
      HasSubstr("layer 0 " + describe(Dropout{1.0}) + ": rate must be a number in [0, 1), got 1"));
  EXPECT_THAT(error_of([] { build_layers({Dropout{-0.1}}, {4}); }),
              HasSubstr("rate must be a number in [0, 1), got -0.1"));
  EXPECT_THAT(
      error_of([] {
        build_layers({Conv2d{.filters = 1, .kernel_size = 5, .same_padding = false}}, {1, 3, 3});
      }),
      HasSubstr("the kernel is larger than the {1, 3, 3} input"));
  EXPECT_THAT(error_of([] { build_layers({Flatten{}}, {1, 0}); }), HasSubstr("size < 1"));
}

// ---- optimizers ----

/// One parameter, loss = 3 * p (gradient 3): the value of p after `steps` steps from p = 2.
double after_steps(const OptimizerSpec& spec, int steps) {
  torch::Tensor p = torch::full({1}, 2.0, torch::kDouble).requires_grad_(true);
  auto optimizer = make_optimizer(spec, {p});
  for (int i = 0; i < steps; ++i) {
    optimizer->zero_grad();
    (3 * p).sum().backward();
    optimizer->step();
  }
  return p.item<double>();
}

TEST(OptimTest, EveryKindLowersTheLossOnARegression) {
  for (const OptimizerSpec& spec : {SGD(0.05), SGD(0.05, 0.9), SGD(0.05, 0.9, true), Adam(0.01),
                                    AdamW(0.01), RMSprop(0.01), RMSprop(0.01, 0.9, 0.5)}) {
    SCOPED_TRACE(to_string(spec.kind));
    torch::manual_seed(0);
    Model model(
        Compiled{
            torch::nn::Sequential(torch::nn::Linear(3, 1)), spec, Loss::MeanSquaredError, {"loss"}},
        {3});
    const torch::Tensor x = torch::randn({64, 3});
    const torch::Tensor y = x.matmul(torch::tensor({1.0f, -2.0f, 0.5f})) + 0.5f;
    const auto loss = [&] { return compute_loss(model.loss(), model.net()->forward(x), y); };
    const double before = loss().item<double>();
    model.optimizer().zero_grad();
    loss().backward();
    model.optimizer().step();
    EXPECT_LT(loss().item<double>(), before);
  }
}

TEST(OptimTest, SgdMomentumAndNesterovFollowKeras) {
  // Keras: v = m v - lr g; w += v (nesterov: w += m v - lr g). lr 0.1, m 0.9, g 3, w0 = 2.
  EXPECT_NEAR(after_steps(SGD(0.1), 2), 2 - 0.3 - 0.3, 1e-12);
  EXPECT_NEAR(after_steps(SGD(0.1, 0.9), 2), 2 - 0.3 - 0.57, 1e-12);
  EXPECT_NEAR(after_steps(SGD(0.1, 0.9, true), 2), 2 - 0.57 - (0.9 * 0.57 + 0.3), 1e-12);
}

TEST(OptimTest, AdamWDecaysDecoupledFromTheGradient) {
  // Loshchilov & Hutter (Keras' AdamW): w *= 1 - lr * wd, then the Adam step lr * m^ / (sqrt(v^) +
  // eps), which is ~lr on the first step.
  const double eps = 1e-7;
  EXPECT_NEAR(after_steps(AdamW(0.1, 0.5), 1), 2 * (1 - 0.1 * 0.5) - 0.1 * 3 / (3 + eps), 1e-9);
  EXPECT_NEAR(after_steps(Adam(0.1), 1), 2 - 0.1 * 3 / (3 + eps), 1e-9);
}

// Quarry's Adam and AdamW update each parameter in one pass (nn/adam_kernel.hpp): over 50 steps
// of random gradients they follow torch's own optimizers to float rounding, state included.
TEST(OptimTest, FusedAdamFollowsTorchsAdam) {
  for (const OptimizerSpec& spec : {Adam(0.01), AdamW(0.01, 0.1)}) {
    torch::manual_seed(3);
    const std::vector<torch::Tensor> start = {torch::randn({300, 70}), torch::randn({70})};
    std::vector<torch::Tensor> ours, theirs;
    for (const auto& t : start) {
      ours.push_back(t.clone().requires_grad_());
      theirs.push_back(t.clone().requires_grad_());
    }
    auto fused = make_optimizer(spec, ours);
    const auto betas = std::make_tuple(spec.beta1, spec.beta2);
    std::unique_ptr<torch::optim::Optimizer> reference;
    if (spec.kind == OptimizerKind::Adam)
      reference = std::make_unique<torch::optim::Adam>(
          theirs, torch::optim::AdamOptions(spec.learning_rate).betas(betas).eps(spec.epsilon));
    else
      reference = std::make_unique<torch::optim::AdamW>(
          theirs, torch::optim::AdamWOptions(spec.learning_rate)
                      .betas(betas)
                      .eps(spec.epsilon)
                      .weight_decay(spec.weight_decay));
    const auto step_both = [&] {  // the same random gradients for both
      for (std::size_t i = 0; i < start.size(); ++i) {
        const torch::Tensor g = torch::randn(start[i].sizes());
        ours[i].mutable_grad() = g.clone();
        theirs[i].mutable_grad() = g.clone();
      }
      fused->step();
      reference->step();
    };
    for (int step = 0; step < 50; ++step) step_both();
    for (std::size_t i = 0; i < start.size(); ++i) {
      EXPECT_TRUE(torch::allclose(ours[i], theirs[i], 1e-5, 1e-5))
          << to_string(spec.kind) << " " << i << ": "
          << (ours[i] - theirs[i]).abs().max().item<double>();
      EXPECT_FALSE(torch::allclose(ours[i], start[i])) << "it moved";
    }
    // The same state, under the same keys: torch's optimizer can take over from ours.
    torch::serialize::OutputArchive out;
    fused->save(out);
    std::ostringstream bytes;
    out.save_to(bytes);
    torch::serialize::InputArchive in;
    std::istringstream read(bytes.str());
    in.load_from(read);
    reference->load(in);
    EXPECT_EQ(reference->state().size(), start.size());
    step_both();  // ...and both take the next step from it alike
    for (std::size_t i = 0; i < start.size(); ++i)
      EXPECT_TRUE(torch::allclose(ours[i], theirs[i], 1e-5, 1e-5)) << to_string(spec.kind);
  }
}

TEST(OptimTest, RmspropUsesRhoAsDecay) {
  // v = rho v + (1 - rho) g^2 = 0.1 * 9; w -= lr g / sqrt(v)
  EXPECT_NEAR(after_steps(RMSprop(0.1, 0.9), 1), 2 - 0.1 * 3 / std::sqrt(0.9), 1e-6);
  EXPECT_NEAR(after_steps(RMSprop(0.1, 0.5), 1), 2 - 0.1 * 3 / std::sqrt(0.5 * 9), 1e-6);
}

TEST(OptimTest, InvalidSettingsAreRejected) {
  torch::Tensor p = torch::zeros({1}, torch::requires_grad());
  EXPECT_EQ(error_of([&] { make_optimizer(SGD(0.1, 0, true), {p}); }),
            "make_optimizer: sgd nesterov needs momentum > 0, got momentum 0");
  OptimizerSpec adam = Adam();
  adam.beta1 = 1;
  EXPECT_EQ(error_of([&] { make_optimizer(adam, {p}); }),
            "make_optimizer: " + to_string(OptimizerKind::Adam) +
                " beta_1 must be a number in [0, 1), got 1");
  EXPECT_THAT(error_of([&] { make_optimizer(Adam(0), {p}); }),
              HasSubstr("learning_rate must be a number > 0, got 0"));
  EXPECT_THAT(error_of([&] { make_optimizer(RMSprop(0.1, 1.5), {p}); }),
              HasSubstr("rho must be a number in [0, 1), got 1.5"));
}

// ---- losses and accuracy ----

TEST(ModelLossTest, SparseCategoricalCrossentropyOverLogits) {
  const torch::Tensor logits = torch::tensor({1.0f, 2.0f, 3.0f, 0.0f, 0.0f, 0.0f}).reshape({2, 3});
  const torch::Tensor target = torch::tensor({2.0f, 1.0f});  // row 2 is a tie: argmax 0
  const double first = -std::log(std::exp(3.0) / (std::exp(1.0) + std::exp(2.0) + std::exp(3.0)));
  EXPECT_NEAR(compute_loss(Loss::SparseCategoricalCrossentropy, logits, target).item<double>(),
              (first + std::log(3.0)) / 2, 1e-6);
  EXPECT_EQ(count_correct(Loss::SparseCategoricalCrossentropy, logits, target), 1);
  EXPECT_THAT(
      error_of([&] {
        compute_loss(Loss::SparseCategoricalCrossentropy, logits, torch::tensor({3.0f, 0.0f}));
      }),
      HasSubstr("target 3 is not a class index for 3 outputs"));
}

TEST(ModelLossTest, BinaryCrossentropyOverOneLogit) {
  const torch::Tensor z = torch::tensor({-1.0f, 2.0f, 0.5f});
  const torch::Tensor y = torch::tensor({0.0f, 1.0f, 0.0f});
  const auto softplus = [](double v) { return std::log1p(std::exp(v)); };
  const double expected = (softplus(-1) + softplus(-2) + softplus(0.5)) / 3;
  EXPECT_NEAR(compute_loss(Loss::BinaryCrossentropy, z, y).item<double>(), expected, 1e-6);
  EXPECT_NEAR(compute_loss(Loss::BinaryCrossentropy, z.reshape({3, 1}), y).item<double>(), expected,
              1e-6);
  EXPECT_EQ(count_correct(Loss::BinaryCrossentropy, z.reshape({3, 1}), y), 2);
  EXPECT_THAT(error_of([&] {
                compute_loss(Loss::BinaryCrossentropy, z.reshape({1, 3}), y);
              }),
              HasSubstr("needs one output per example"));
}

TEST(ModelLossTest, MeanSquaredErrorDoesNotBroadcast) {
  const torch::Tensor out = torch::tensor({1.0f, 2.0f}).reshape({2, 1});
  const torch::Tensor y = torch::tensor({0.0f, 4.0f});
  EXPECT_NEAR(compute_loss(Loss::MeanSquaredError, out, y).item<double>(), (1 + 4) / 2.0, 1e-6);
  EXPECT_EQ(error_of([&] { count_correct(Loss::MeanSquaredError, out, y); }),
            "accuracy is not defined for mean_squared_error");
}

TEST(ModelTest, FromSpecAndMetricsChecked) {
  Model model(ModelSpec{.layers = kSeedLayers}, {1, 28, 28});
  EXPECT_EQ(model.input_shape(), (std::vector<std::int64_t>{1, 28, 28}));
  EXPECT_EQ(model.net()->forward(torch::randn({2, 1, 28, 28})).sizes(),
            (std::vector<std::int64_t>{2, 10}));
  EXPECT_THAT(
      error_of([] { Model(ModelSpec{.layers = {Dense{1}}, .loss = Loss::MeanSquaredError}, {3}); }),
      HasSubstr("accuracy is not defined for mean_squared_error"));
  EXPECT_THAT(error_of([] { Model(ModelSpec{.layers = {Dense{1}}, .metrics = {"acc"}}, {3}); }),
              HasSubstr("unknown metric 'acc'"));
}

// ---- checkpoints ----

const ModelSpec kSmallSpec{.layers = {Dense{16, Activation::Relu}, BatchNorm{}, Dense{3}},
                           .optimizer = Adam(0.01)};

void train_steps(Model& model, const torch::Tensor& x, const torch::Tensor& y, int steps) {
  model.net()->train();
  for (int i = 0; i < steps; ++i) {
    model.optimizer().zero_grad();
    compute_loss(model.loss(), model.net()->forward(x), y).backward();
    model.optimizer().step();
  }
}

void expect_same_state(torch::nn::Sequential& a, torch::nn::Sequential& b) {
  const auto pa = a->named_parameters(), pb = b->named_parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (const auto& item : pa) EXPECT_TRUE(torch::equal(item.value(), pb[item.key()])) << item.key();
  const auto ba = a->named_buffers(), bb = b->named_buffers();
  ASSERT_EQ(ba.size(), bb.size());
  for (const auto& item : ba) EXPECT_TRUE(torch::equal(item.value(), bb[item.key()])) << item.key();
}

TEST(CheckpointTest, RoundTripRestoresWeightsOptimizerStateAndEpochs) {
  TempDir dir;
  for (const OptimizerSpec& optimizer : {Adam(0.01), SGD(0.05, 0.9), RMSprop(0.01, 0.9, 0.5)}) {
    SCOPED_TRACE(to_string(optimizer.kind));
    ModelSpec spec = kSmallSpec;
    spec.optimizer = optimizer;
    torch::manual_seed(1);
    const torch::Tensor x = torch::randn({32, 4});
    const torch::Tensor y = torch::randint(0, 3, {32}).to(torch::kFloat);
    Model a(spec, {4});
    train_steps(a, x, y, 3);
    a.save_checkpoint(dir.file("ckpt"), 7);
    EXPECT_FALSE(std::filesystem::exists(dir.file("ckpt.tmp")));
    torch::manual_seed(2);
    Model b(spec, {4});
    EXPECT_EQ(b.load_checkpoint(dir.file("ckpt")), 7);
    expect_same_state(a.net(), b.net());
    // The optimizer state came along: one more step is identical on both.
    train_steps(a, x, y, 1);
    train_steps(b, x, y, 1);
    expect_same_state(a.net(), b.net());
  }
}

TEST(CheckpointTest, TruncatedOrMissingFileIsNamed) {
  TempDir dir;
  Model model(kSmallSpec, {4});
  const std::string path = dir.file("ckpt");
  model.save_checkpoint(path, 1);
  std::filesystem::resize_file(path, std::filesystem::file_size(path) / 2);
  EXPECT_THAT(error_of([&] { model.load_checkpoint(path); }),
              HasSubstr("Model::load_checkpoint: '" + path + "'"));
  EXPECT_EQ(error_of([&] { model.load_checkpoint(dir.file("none")); }),
            "Model::load_checkpoint: '" + dir.file("none") + "' does not exist");
}

TEST(CheckpointTest, OtherModelOrOptimizerIsRejectedWithoutChangingAnything) {
  TempDir dir;
  ModelSpec wide = kSmallSpec;
  wide.layers[0] = Dense{8, Activation::Relu};
  Model(wide, {4}).save_checkpoint(dir.file("wide"), 1);
  ModelSpec sgd = kSmallSpec;
  sgd.optimizer = SGD(0.1, 0.9);
  Model(sgd, {4}).save_checkpoint(dir.file("sgd"), 1);

  Model model(kSmallSpec, {4});
  const torch::Tensor before = model.net()->parameters()[0].clone();
  EXPECT_THAT(error_of([&] { model.load_checkpoint(dir.file("wide")); }),
              HasSubstr("'" + dir.file("wide") + "': '0.weight' is [8, 4]"));
  EXPECT_THAT(error_of([&] { model.load_checkpoint(dir.file("sgd")); }),
              HasSubstr("'" + dir.file("sgd") + "': holds the state of an optimizer of kind " +
                        to_string(OptimizerKind::Sgd) + ", the model's is " +
                        to_string(OptimizerKind::Adam)));
  // A checkpoint of a model with more layers than this one.
  ModelSpec deeper = kSmallSpec;
  deeper.layers.push_back(Dense{3});
  Model(deeper, {4}).save_weights(dir.file("deeper"));
  EXPECT_THAT(error_of([&] { model.load_weights(dir.file("deeper")); }),
              HasSubstr("the file holds 11 tensors, the model 9"));
  EXPECT_TRUE(torch::equal(model.net()->parameters()[0], before));
}

TEST(CheckpointTest, WeightsRoundTripAndTorchLoadReadsThem) {
  TempDir dir;
  torch::manual_seed(3);
  Model a(kSmallSpec, {4});
  a.save_weights(dir.file("w"));
  torch::manual_seed(4);
  Model b(kSmallSpec, {4});
  b.load_weights(dir.file("w"));
  expect_same_state(a.net(), b.net());
  torch::nn::Sequential c = build_layers(kSmallSpec.layers, {4});
  torch::load(c, dir.file("w"));
  expect_same_state(a.net(), c);
  EXPECT_THAT(error_of([&] { b.load_weights(dir.file("none")); }), HasSubstr("does not exist"));
}

// ---- complexity and threads ----

TEST(ComplexityTest, ConvNetCountsMatchHandComputedValues) {
  Model model(ModelSpec{.layers = kConvLayers}, {1, 28, 28});
  const Complexity c = model.complexity(3);
  EXPECT_EQ(c.parameters, (8 * 9 + 8) + (8 * 14 * 14 * 10 + 10));
  const std::int64_t conv = 2 * 1 * 3 * 3 * 8 * 28 * 28 + 8 * 28 * 28;
  const std::int64_t relu = 8 * 28 * 28;
  const std::int64_t pool = 2 * 2 * 8 * 14 * 14;
  const std::int64_t dense = 2 * 8 * 14 * 14 * 10 + 10;
  EXPECT_EQ(c.flops, conv + relu + pool + dense);
  EXPECT_GT(c.latency_b1_ms, 0);
  EXPECT_GT(c.latency_b256_ms, 0);
  EXPECT_TRUE(model.net()->is_training());  // restored after measuring
}

TEST(ComplexityTest, SeedModelFlopsAndBadRepeats) {
  Model model(ModelSpec{.layers = kSeedLayers}, {1, 28, 28});
  EXPECT_EQ(model.complexity(1).flops, (2 * 784 * 32 + 32) + 32 + (2 * 32 * 10 + 10));
  EXPECT_THAT(error_of([&] { model.complexity(0); }), HasSubstr("repeats must be >= 1, got 0"));
}

TEST(ModelThreadsTest, PinLeavesOneMathThreadInEveryThread) {
  const auto check = [] {
    pin_math_threads();
    EXPECT_EQ(at::get_num_threads(), 1);
    using GetThreads = int (*)();
    if (auto get = reinterpret_cast<GetThreads>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"))) {
      EXPECT_EQ(get(), 1);
    }
  };
  check();
  std::thread other(check);
  other.join();
  pin_math_threads();  // idempotent: the inter-op pool's second sizing is ignored
}

}  // namespace
}  // namespace quarry::nn
