// fit / evaluate / predict and the callbacks: learning a small problem, the logs, the validation
// split, shuffling, failures, interruption, and the callbacks' rules (Keras 2.x).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/test_util.hpp"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "quarry/core/error.hpp"
#include "quarry/core/rng.hpp"
#include "quarry/nn/fit.hpp"

namespace quarry::nn {
namespace {

using quarry::testing::error_of;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

/// Two Gaussian blobs in 2-D (centres -1.5 and +1.5 on both axes, sd 0.7), classes alternating
/// row by row so that every tail of the rows holds both classes.
data::Dataset blobs(std::int64_t rows, std::uint64_t seed) {
  data::Dataset d;
  d.shape = {2};
  d.num_classes = 2;
  Rng rng(seed);
  for (std::int64_t i = 0; i < rows; ++i) {
    const float centre = i % 2 ? 1.5F : -1.5F;
    d.x.push_back(centre + 0.7F * static_cast<float>(rng.normal()));
    d.x.push_back(centre + 0.7F * static_cast<float>(rng.normal()));
    d.y.push_back(static_cast<float>(i % 2));
  }
  return d;
}

/// Rows whose first feature is their index (second 0), targets alternating 0 / 1.
data::Dataset numbered(std::int64_t rows, float first = 0) {
  data::Dataset d;
  d.shape = {2};
  d.num_classes = 2;
  for (std::int64_t i = 0; i < rows; ++i) {
    d.x.insert(d.x.end(), {first + static_cast<float>(i), 0.0F});
    d.y.push_back(static_cast<float>(i % 2));
  }
  return d;
}

Model dense(OptimizerSpec optimizer = Adam(1e-2), Loss loss = Loss::SparseCategoricalCrossentropy,
            std::int64_t outputs = 2) {
  torch::nn::Sequential net(torch::nn::Linear(2, 16), torch::nn::ReLU(),
                            torch::nn::Linear(16, outputs));
  const std::vector<std::string> metrics = {loss == Loss::MeanSquaredError ? "loss" : "accuracy"};
  return Model(Compiled{net, optimizer, loss, metrics}, {2});
}

std::vector<torch::Tensor> weights(Model& model) {
  std::vector<torch::Tensor> out;
  for (const auto& p : model.net()->parameters()) out.push_back(p.detach().clone());
  for (const auto& b : model.net()->buffers()) out.push_back(b.detach().clone());
  return out;
}

bool same(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!torch::equal(a[i], b[i])) return false;
  }
  return true;
}

std::set<std::string> keys(const Logs& logs) {
  std::set<std::string> out;
  for (const auto& [name, value] : logs) out.insert(name);
  return out;
}

/// Passes its input through, recording the first feature of every row it sees, by mode.
struct RecorderImpl : torch::nn::Module {
  torch::Tensor forward(torch::Tensor x) {
    const torch::Tensor first = x.select(1, 0).contiguous();
    auto& seen = is_training() ? train_seen : eval_seen;
    seen.insert(seen.end(), first.data_ptr<float>(), first.data_ptr<float>() + first.numel());
    return x;
  }
  std::vector<float> train_seen, eval_seen;
};
TORCH_MODULE(Recorder);

struct Recorded {
  Recorder recorder;
  Model model;
};
Recorded recording_model() {
  Recorder recorder;
  torch::nn::Sequential net(recorder, torch::nn::Linear(2, 2));
  return {recorder, Model(Compiled{net, SGD(0.01)}, {2})};
}

std::vector<float> range(float first, std::int64_t count) {
  std::vector<float> out;
  for (std::int64_t i = 0; i < count; ++i) out.push_back(first + static_cast<float>(i));
  return out;
}

// --- fit ---------------------------------------------------------------------------------------

TEST(FitTest, LearnsTwoGaussianBlobsWithOneLogsPerEpoch) {
  torch::manual_seed(1);
  Model model = dense();
  const History history = fit(model, blobs(400, 1), {.epochs = 4, .validation_split = 0.25});
  ASSERT_EQ(history.epochs.size(), 4U);
  for (const auto& logs : history.epochs) {
    EXPECT_EQ(keys(logs), (std::set<std::string>{"loss", "accuracy", "val_loss", "val_accuracy"}));
  }
  EXPECT_GT(history.epochs.back().at("val_accuracy"), 0.9);
  EXPECT_LT(history.epochs.back().at("loss"), history.epochs.front().at("loss"));
  EXPECT_FALSE(history.stopped_early);
  EXPECT_FALSE(history.pruned);
}

TEST(FitTest, RegressionLogsLossOnly) {
  torch::manual_seed(2);
  Model model = dense(Adam(1e-2), Loss::MeanSquaredError, 1);
  data::Dataset d = blobs(100, 2);
  for (std::int64_t i = 0; i < d.rows(); ++i) {
    d.y[static_cast<std::size_t>(i)] = d.x[static_cast<std::size_t>(2 * i)];
  }
  EXPECT_EQ(keys(fit(model, d, {}).epochs.at(0)), (std::set<std::string>{"loss"}));
  EXPECT_EQ(keys(fit(model, d, {.validation_split = 0.2}).epochs.at(0)),
            (std::set<std::string>{"loss", "val_loss"}));
}

TEST(FitTest, ValidationSplitTakesTheTailRowsUnshuffled) {
  auto [recorder, model] = recording_model();
  // Keras: split_at = floor(50 * (1 - 0.2)) = 40: rows 0-39 train, rows 40-49 validate.
  fit(model, numbered(50), {.batch_size = 8, .seed = 3, .validation_split = 0.2});
  std::vector<float> trained = recorder->train_seen;
  EXPECT_NE(trained, range(0, 40));  // shuffled...
  std::sort(trained.begin(), trained.end());
  EXPECT_EQ(trained, range(0, 40));  // ...but each training row once
  EXPECT_EQ(recorder->eval_seen, range(40, 10));
}

TEST(FitTest, ValidationDataReplacesTheSplit) {
  auto [recorder, model] = recording_model();
  const data::Dataset validation = numbered(5, 100);
  fit(model, numbered(20),
      {.shuffle = false, .validation_split = 0.5, .validation_data = &validation});
  EXPECT_EQ(recorder->train_seen, range(0, 20));
  EXPECT_EQ(recorder->eval_seen, range(100, 5));
}

TEST(FitTest, ShuffleOrderDependsOnSeedAndEpochOnly) {
  auto order = [](std::uint64_t seed, bool shuffle) {
    auto [recorder, model] = recording_model();
    fit(model, numbered(30), {.epochs = 2, .batch_size = 7, .shuffle = shuffle, .seed = seed});
    return recorder->train_seen;
  };
  const std::vector<float> a = order(5, true);
  ASSERT_EQ(a.size(), 60U);
  EXPECT_NE(std::vector<float>(a.begin(), a.begin() + 30),
            std::vector<float>(a.begin() + 30, a.end()));
  EXPECT_EQ(order(5, true), a);
  EXPECT_NE(order(6, true), a);
  std::vector<float> in_order = range(0, 30);
  in_order.insert(in_order.end(), in_order.begin(), in_order.end());
  EXPECT_EQ(order(5, false), in_order);
}

TEST(FitTest, NeverWritesIntoTheSharedDataset) {
  torch::nn::Sequential net(torch::nn::ReLU(torch::nn::ReLUOptions().inplace(true)),
                            torch::nn::Linear(2, 2));
  Model model(Compiled{net, SGD(0.01)}, {2});
  const data::Dataset d = blobs(64, 4);  // half the values are negative: ReLU would zero them
  const std::vector<float> before = d.x;
  fit(model, d, {.epochs = 1, .validation_split = 0.5});
  evaluate(model, d);
  predict(model, d);
  EXPECT_EQ(d.x, before);
}

TEST(FitTest, EvaluateAndPredictAgreeWithTheValidationLogs) {
  torch::manual_seed(3);
  Model model = dense();
  const data::Dataset validation = blobs(100, 9);
  const History history =
      fit(model, blobs(200, 8), {.epochs = 2, .batch_size = 32, .validation_data = &validation});
  const Logs logs = evaluate(model, validation, 32);
  // fit evaluates in larger batches (fewer calls): the mean loss agrees to float rounding.
  EXPECT_NEAR(logs.at("loss"), history.epochs.back().at("val_loss"), 1e-6);
  EXPECT_DOUBLE_EQ(logs.at("accuracy"), history.epochs.back().at("val_accuracy"));
  const torch::Tensor output = predict(model, validation, 64);
  ASSERT_EQ(output.sizes(), (std::vector<std::int64_t>{100, 2}));
  const torch::Tensor target = torch::tensor(validation.y).to(torch::kLong);
  const double accuracy = output.argmax(1).eq(target).to(torch::kDouble).mean().item<double>();
  EXPECT_DOUBLE_EQ(accuracy, logs.at("accuracy"));
}

TEST(FitTest, PredictProbabilitiesReadsTheOutputsAsTheLossDoes) {
  torch::manual_seed(4);
  const data::Dataset d = blobs(70, 5);
  // Softmax of the logits: rows of probabilities whose cross-entropy is evaluate's loss.
  Model classes = dense(Adam(1e-2), Loss::SparseCategoricalCrossentropy, 2);
  fit(classes, d, {.epochs = 2});
  const torch::Tensor p = predict_probabilities(classes, d, 16);
  ASSERT_EQ(p.sizes(), (std::vector<std::int64_t>{70, 2}));
  EXPECT_TRUE(torch::allclose(p.sum(1), torch::ones({70}), 1e-5, 1e-6));
  const torch::Tensor target = torch::tensor(d.y).to(torch::kLong);
  const double log_loss = -p.gather(1, target.unsqueeze(1)).log().mean().item<double>();
  EXPECT_NEAR(log_loss, evaluate(classes, d).at("loss"), 1e-5);
  EXPECT_TRUE(torch::equal(p.argmax(1), predict(classes, d).argmax(1)));

  // One logit: (1 - sigmoid, sigmoid), the positive class second.
  Model binary = dense(Adam(1e-2), Loss::BinaryCrossentropy, 1);
  const torch::Tensor q = predict_probabilities(binary, d);
  ASSERT_EQ(q.sizes(), (std::vector<std::int64_t>{70, 2}));
  const torch::Tensor sigmoid = torch::sigmoid(predict(binary, d).reshape({-1}));
  EXPECT_TRUE(torch::allclose(q.select(1, 1), sigmoid));
  EXPECT_TRUE(torch::allclose(q.sum(1), torch::ones({70})));

  // Regression: the values themselves, one column.
  Model values = dense(Adam(1e-2), Loss::MeanSquaredError, 1);
  const torch::Tensor v = predict_probabilities(values, d);
  ASSERT_EQ(v.sizes(), (std::vector<std::int64_t>{70, 1}));
  EXPECT_TRUE(torch::equal(v, predict(values, d)));
}

// An ensemble predicts the mean of its members' probabilities, and evaluate_average scores that
// as evaluate scores one network: one member gives evaluate's own figures.
TEST(FitTest, PredictAverageIsTheMeanOfTheMembersProbabilities) {
  torch::manual_seed(5);
  const data::Dataset d = blobs(80, 6);
  for (const Loss loss :
       {Loss::SparseCategoricalCrossentropy, Loss::BinaryCrossentropy, Loss::MeanSquaredError}) {
    SCOPED_TRACE(to_string(loss));
    const std::int64_t outputs = loss == Loss::SparseCategoricalCrossentropy ? 2 : 1;
    Model a = dense(Adam(1e-2), loss, outputs), b = dense(Adam(1e-2), loss, outputs);
    fit(a, d, {.epochs = 1, .seed = 1});
    const torch::Tensor pa = predict_probabilities(a, d), pb = predict_probabilities(b, d);
    EXPECT_TRUE(torch::allclose(predict_average({&a, &b}, d, 16), (pa + pb) / 2));

    const Logs alone = evaluate(a, d), one = evaluate_average({&a}, d);
    EXPECT_NEAR(one.at("loss"), alone.at("loss"), 1e-5 * std::max(1.0, alone.at("loss")));
    EXPECT_EQ(one.contains("accuracy"), alone.contains("accuracy"));
    if (alone.contains("accuracy")) {
      EXPECT_DOUBLE_EQ(one.at("accuracy"), alone.at("accuracy"));
    }

    const Logs two = evaluate_average({&a, &b}, d);
    const torch::Tensor p = (pa + pb) / 2, y = torch::tensor(d.y);
    if (loss == Loss::MeanSquaredError) {
      EXPECT_NEAR(two.at("loss"), (p.reshape({-1}) - y).pow(2).mean().item<double>(), 1e-5);
      continue;
    }
    const torch::Tensor labels = y.to(torch::kLong);
    EXPECT_NEAR(two.at("loss"), -p.gather(1, labels.unsqueeze(1)).log().mean().item<double>(),
                1e-5);
    EXPECT_DOUBLE_EQ(two.at("accuracy"),
                     p.argmax(1).eq(labels).to(torch::kDouble).mean().item<double>());
  }
  Model classes = dense(Adam(1e-2), Loss::SparseCategoricalCrossentropy, 2);
  Model values = dense(Adam(1e-2), Loss::MeanSquaredError, 1);
  EXPECT_THAT(error_of([&] { predict_average({}, d); }), HasSubstr("no models"));
  EXPECT_THAT(error_of([&] {
                predict_average({&classes, &values}, d);
              }),
              HasSubstr("losses differ"));
}

TEST(FitTest, CallsCallbacksInKerasOrderFromInitialEpoch) {
  struct Tape final : Callback {
    std::vector<std::string>* events;
    explicit Tape(std::vector<std::string>* e) : events(e) {}
    void on_train_begin(FitState&) override { events->push_back("begin"); }
    void on_epoch_end(std::int64_t epoch, const Logs&, FitState&) override {
      events->push_back("callback " + std::to_string(epoch));
    }
    void on_train_end(FitState&) override { events->push_back("end"); }
  };
  std::vector<std::string> events;
  Model model = dense();
  const History history = fit(model, blobs(40, 5),
                              {.epochs = 3,
                               .initial_epoch = 1,
                               .callbacks = {std::make_shared<Tape>(&events)},
                               .on_epoch = [&](std::int64_t epoch, const Logs&) {
                                 events.push_back("progress " + std::to_string(epoch));
                               }});
  EXPECT_THAT(events,
              ElementsAre("begin", "progress 1", "callback 1", "progress 2", "callback 2", "end"));
  EXPECT_EQ(history.initial_epoch, 1);
  EXPECT_EQ(history.epochs.size(), 2U);
}

TEST(FitTest, DivergingLossThrowsTrialFailed) {
  data::Dataset d = blobs(200, 6);
  for (std::int64_t i = 0; i < d.rows(); ++i) {
    d.y[static_cast<std::size_t>(i)] =
        d.x[static_cast<std::size_t>(2 * i)] + d.x[static_cast<std::size_t>(2 * i + 1)];
  }
  torch::manual_seed(6);
  Model model = dense(SGD(1e6), Loss::MeanSquaredError, 1);
  EXPECT_THAT(error_of<TrialFailed>([&] { fit(model, d, {.epochs = 3}); }),
              HasSubstr("loss became"));
}

TEST(FitTest, NamesTheEpochAndBatchOfANonFiniteLoss) {
  data::Dataset d = blobs(100, 7);
  d.x[2 * 70] = std::numeric_limits<float>::quiet_NaN();  // row 70: the 3rd batch of 32
  Model model = dense();
  EXPECT_EQ(error_of<TrialFailed>(
                [&] { fit(model, d, {.epochs = 3, .initial_epoch = 2, .shuffle = false}); }),
            "loss became nan at epoch 3, batch 3");
  data::Dataset huge = blobs(10, 7);
  for (float& v : huge.x) v *= 1e25F;  // squared errors overflow float
  Model regression = dense(SGD(0.01), Loss::MeanSquaredError, 1);
  EXPECT_EQ(error_of<TrialFailed>([&] { fit(regression, huge, {}); }),
            "loss became inf at epoch 1, batch 1");
}

TEST(FitTest, InterruptionThrowsBetweenBatchesWithoutEndingCallbacks) {
  struct Ends final : Callback {
    int* ends;
    explicit Ends(int* e) : ends(e) {}
    void on_train_end(FitState&) override { ++*ends; }
  };
  int checks = 0, ends = 0, epochs = 0;
  Model model = dense();
  EXPECT_THROW(fit(model, blobs(400, 1),
                   {.epochs = 2,
                    .callbacks = {std::make_shared<Ends>(&ends)},
                    .on_epoch = [&](std::int64_t, const Logs&) { ++epochs; },
                    .interrupted = [&] { return ++checks > 3; }}),
               TrialInterrupted);
  EXPECT_EQ(checks, 4);  // three batches ran, the fourth check stopped it
  EXPECT_EQ(ends, 0);
  EXPECT_EQ(epochs, 0);
}

// Training counts denormal floats as zero (fit.cpp: train_epoch); the caller's thread keeps IEEE
// arithmetic before and after. `interrupted` is asked before every batch, inside the epoch.
TEST(FitTest, TrainsWithDenormalsFlushedAndRestoresTheCallersMode) {
  const auto denormals_survive = [] {
    volatile float smallest = FLT_MIN;
    return smallest / 4 > 0;
  };
  ASSERT_TRUE(denormals_survive());
  int batches = 0, flushed = 0;
  Model model = dense();
  fit(model, blobs(96, 1), {.epochs = 2, .interrupted = [&] {
                              ++batches;
                              flushed += denormals_survive() ? 0 : 1;
                              return false;
                            }});
  EXPECT_EQ(batches, 6);  // 96 rows in batches of 32, twice
#if defined(__x86_64__) || defined(__i386__)
  EXPECT_EQ(flushed, batches);
#endif
  EXPECT_TRUE(denormals_survive());
}

TEST(FitTest, SameSeedsGiveIdenticalWeights) {
  at::set_num_threads(1);
  auto train = [](std::uint64_t seed) {
    torch::manual_seed(11);
    torch::nn::Sequential net(torch::nn::Linear(2, 16), torch::nn::ReLU(), torch::nn::Dropout(0.3),
                              torch::nn::Linear(16, 2));
    Model model(Compiled{net, Adam(1e-2)}, {2});
    fit(model, blobs(200, 3), {.epochs = 2, .seed = seed, .validation_split = 0.2});
    return weights(model);
  };
  const auto first = train(1);
  EXPECT_TRUE(same(train(1), first));
  EXPECT_FALSE(same(train(2), first));
}

TEST(FitTest, RejectsDataAndOptionsItCannotUse) {
  Model model = dense();
  const data::Dataset d = blobs(10, 1);
  EXPECT_EQ(error_of([&] { fit(model, d, {.batch_size = 0}); }),
            "fit: batch_size must be >= 1, got 0");
  EXPECT_THAT(error_of([&] { fit(model, d, {.validation_split = 1}); }),
              HasSubstr("fit: validation_split must be in [0, 1)"));
  EXPECT_THAT(error_of([&] { fit(model, blobs(1, 1), {.validation_split = 0.5}); }),
              HasSubstr("leaves one side empty"));
  data::Dataset wide = d;
  wide.shape = {3};
  EXPECT_THAT(error_of([&] { fit(model, wide, {}); }), HasSubstr("x must hold rows * row_size"));
  wide.x.resize(30);
  EXPECT_EQ(error_of([&] { fit(model, wide, {}); }),
            "fit: the data's examples have shape {3} but the model takes input shape {2}");
  EXPECT_EQ(error_of([&] { evaluate(model, data::Dataset{.shape = {2}}); }),
            "evaluate: the data has no rows");
}

// --- EarlyStopping -----------------------------------------------------------------------------

/// Feeds `values` of `monitor` as epochs 0, 1, ...; returns the epoch after which training stops.
std::optional<std::int64_t> stopping_epoch(EarlyStopping& early, const std::string& monitor,
                                           const std::vector<double>& values) {
  Model model = dense();
  FitState state{.model = model};
  early.on_train_begin(state);
  for (std::size_t epoch = 0; epoch < values.size(); ++epoch) {
    early.on_epoch_end(static_cast<std::int64_t>(epoch), {{monitor, values[epoch]}}, state);
    if (state.stop_training) return static_cast<std::int64_t>(epoch);
  }
  return std::nullopt;
}

TEST(EarlyStoppingTest, PatienceZeroStopsAtTheFirstEpochWithoutImprovement) {
  EarlyStopping early({.monitor = "val_loss", .patience = 0});
  // epoch 0 improves on +inf, epoch 1 on 1.0; epoch 2 does not: wait = 1 >= 0.
  EXPECT_EQ(stopping_epoch(early, "val_loss", {1.0, 0.9, 0.95, 0.5}), 2);
  EXPECT_EQ(early.stopped_epoch(), 2);
}

TEST(EarlyStoppingTest, CountsEpochsWithoutImprovementUpToPatience) {
  EarlyStopping early({.monitor = "val_loss", .patience = 2});
  // Best 0.8 at epoch 1; epoch 2 (0.85) wait 1, epoch 3 (0.82) wait 2 >= 2: stop at 3.
  EXPECT_EQ(stopping_epoch(early, "val_loss", {1.0, 0.8, 0.85, 0.82, 0.5}), 3);
  // An improvement resets the counter: 0.7 at epoch 3, then 2 more epochs: stop at 5.
  EXPECT_EQ(stopping_epoch(early, "val_loss", {1.0, 0.8, 0.85, 0.7, 0.75, 0.71, 0.1}), 5);
  EXPECT_EQ(stopping_epoch(early, "val_loss", {1.0, 0.9, 0.8, 0.7}), std::nullopt);
}

TEST(EarlyStoppingTest, MinDeltaIsTheImprovementThatCounts) {
  EarlyStopping early({.monitor = "val_loss", .patience = 2, .min_delta = 0.05});
  // 1.0 (best); 0.97: 0.97 + 0.05 < 1.0 fails, wait 1; 0.9: 0.95 < 1.0, best 0.9, wait 0;
  // 0.88: 0.93 < 0.9 fails, wait 1; 0.86: 0.91 < 0.9 fails, wait 2: stop at 4, though every epoch
  // improved a little.
  EXPECT_EQ(stopping_epoch(early, "val_loss", {1.0, 0.97, 0.9, 0.88, 0.86, 0.84}), 4);
}

TEST(EarlyStoppingTest, AutoModeMaximisesAccuracyAndTiesDoNotImprove) {
  EarlyStopping early({.monitor = "val_accuracy", .patience = 1});
  // 0.5, 0.6 improve; 0.6 equals the best (not better): wait 1 >= 1, stop at 2.
  EXPECT_EQ(stopping_epoch(early, "val_accuracy", {0.5, 0.6, 0.6, 0.9}), 2);
  EarlyStopping explicit_min({.monitor = "val_accuracy", .mode = "min", .patience = 1});
  EXPECT_EQ(stopping_epoch(explicit_min, "val_accuracy", {0.5, 0.6, 0.7}), 1);
}

TEST(EarlyStoppingTest, StopsFitThroughTheCallbackList) {
  // A fixed model (lr 1e-30 moves no float32 weight; 0 is rejected): the same loss every epoch.
  Model model = dense(SGD(1e-30));
  auto early =
      std::make_shared<EarlyStopping>(EarlyStoppingOptions{.monitor = "loss", .patience = 1});
  const History history =
      fit(model, blobs(64, 2), {.epochs = 10, .shuffle = false, .callbacks = {early}});
  EXPECT_EQ(history.epochs.size(), 2U);  // epoch 0 improves on +inf, epoch 1 ties: wait 1 >= 1
  EXPECT_TRUE(history.stopped_early);
  EXPECT_FALSE(history.pruned);
  EXPECT_EQ(early->stopped_epoch(), 1);
}

/// Sets every parameter and buffer of `model` to `value`.
void fill(Model& model, double value) {
  torch::NoGradGuard no_grad;
  for (auto& p : model.net()->parameters()) p.fill_(value);
  for (auto& b : model.net()->buffers()) b.fill_(value);
}

bool all_equal(Model& model, double value) {
  for (const auto& w : weights(model)) {
    if (!torch::equal(w, torch::full_like(w, value))) return false;
  }
  return true;
}

Model with_batch_norm() {
  torch::nn::Sequential net(torch::nn::Linear(2, 4), torch::nn::BatchNorm1d(4),
                            torch::nn::Linear(4, 2));
  return Model(Compiled{net, Adam()}, {2});
}

TEST(EarlyStoppingTest, RestoresTheBestEpochsWeightsWhenItStops) {
  Model model = with_batch_norm();
  EarlyStopping early({.monitor = "val_loss", .patience = 2, .restore_best_weights = true});
  FitState state{.model = model};
  early.on_train_begin(state);
  const std::vector<double> losses = {1.0, 0.5, 0.7, 0.8};  // best at epoch 1, stop at 3
  for (std::size_t epoch = 0; epoch < losses.size(); ++epoch) {
    fill(model, static_cast<double>(epoch));  // "training" epoch e leaves every weight at e
    early.on_epoch_end(static_cast<std::int64_t>(epoch), {{"val_loss", losses[epoch]}}, state);
  }
  ASSERT_TRUE(state.stop_training);
  EXPECT_TRUE(all_equal(model, 1.0));  // parameters and batch-norm buffers
  early.on_train_end(state);
  EXPECT_TRUE(all_equal(model, 1.0));
}

TEST(EarlyStoppingTest, AlsoRestoresWhenEveryEpochRan) {
  Model model = with_batch_norm();
  EarlyStopping early({.monitor = "val_loss", .patience = 5, .restore_best_weights = true});
  FitState state{.model = model};
  early.on_train_begin(state);
  const std::vector<double> losses = {1.0, 0.5, 0.7};
  for (std::size_t epoch = 0; epoch < losses.size(); ++epoch) {
    fill(model, static_cast<double>(epoch));
    early.on_epoch_end(static_cast<std::int64_t>(epoch), {{"val_loss", losses[epoch]}}, state);
  }
  EXPECT_FALSE(state.stop_training);
  EXPECT_TRUE(all_equal(model, 2.0));
  early.on_train_end(state);
  EXPECT_TRUE(all_equal(model, 1.0));
}

TEST(EarlyStoppingTest, NamesAMissingMonitorAndBadOptions) {
  EarlyStopping early({.monitor = "val_los"});
  Model model = dense();
  FitState state{.model = model};
  early.on_train_begin(state);
  const Logs logs = {{"loss", 1}, {"accuracy", 0.5}, {"val_loss", 1}, {"val_accuracy", 0.5}};
  EXPECT_EQ(error_of([&] { early.on_epoch_end(0, logs, state); }),
            "EarlyStopping: monitor 'val_los' is not among the logged metrics: loss, accuracy, "
            "val_loss, val_accuracy");
  EXPECT_EQ(error_of([] { EarlyStopping({.mode = "up"}); }),
            "EarlyStopping: mode must be min, max or auto, got up");
  EXPECT_EQ(error_of([] { EarlyStopping({.patience = -1}); }),
            "EarlyStopping: patience must be an integer >= 0, got -1");
  EXPECT_EQ(error_of([] { EarlyStopping({.min_delta = -0.1}); }),
            "EarlyStopping: min_delta must be a number >= 0, got -0.1");
  EXPECT_EQ(error_of([] { EarlyStopping({.monitor = ""}); }),
            "EarlyStopping: monitor must not be empty");
}

// --- Reporter ----------------------------------------------------------------------------------

TEST(ReporterTest, StopsAndMarksPrunedWhenTheSchedulerSaysSo) {
  torch::manual_seed(4);
  Model model = dense();
  std::vector<std::int64_t> steps;
  std::vector<double> values;
  auto reporter = std::make_shared<Reporter>("val_accuracy", [&](std::int64_t step, double value) {
    steps.push_back(step);
    values.push_back(value);
    return step == 2;
  });
  const History history =
      fit(model, blobs(100, 5), {.epochs = 5, .validation_split = 0.2, .callbacks = {reporter}});
  ASSERT_EQ(history.epochs.size(), 2U);
  EXPECT_TRUE(history.pruned);
  EXPECT_TRUE(history.stopped_early);
  EXPECT_THAT(steps, ElementsAre(1, 2));
  EXPECT_THAT(values, ElementsAre(history.epochs[0].at("val_accuracy"),
                                  history.epochs[1].at("val_accuracy")));
}

TEST(ReporterTest, NamesAMissingMetric) {
  Model model = dense();
  auto reporter = std::make_shared<Reporter>("val_los", [](std::int64_t, double) { return false; });
  EXPECT_EQ(error_of([&] { fit(model, blobs(20, 1), {.callbacks = {reporter}}); }),
            "Reporter: metric 'val_los' is not among the logged metrics: loss, accuracy");
}

// --- Checkpoint --------------------------------------------------------------------------------

TEST(CheckpointCallbackTest, SavesEveryEpochByDefault) {
  quarry::testing::TempDir dir;
  const std::string path = dir.file("model.pt");
  torch::manual_seed(5);
  Model model = dense();
  fit(model, blobs(40, 1),
      {.epochs = 2, .callbacks = {std::make_shared<Checkpoint>(CheckpointOptions{.path = path})}});
  Model loaded = dense();
  EXPECT_EQ(loaded.load_checkpoint(path), 2);
  EXPECT_TRUE(same(weights(loaded), weights(model)));
}

TEST(CheckpointCallbackTest, SaveBestOnlySavesStrictImprovements) {
  quarry::testing::TempDir dir;
  const std::string path = dir.file("best.pt");
  Checkpoint checkpoint({.path = path, .monitor = "val_loss", .save_best_only = true});
  Model model = dense();
  FitState state{.model = model};
  Model loaded = dense();
  std::vector<std::int64_t> saved;  // epochs_done in the file after each epoch
  const std::vector<double> losses = {1.0, 1.2, 0.8, 0.8, 0.3};
  for (std::size_t epoch = 0; epoch < losses.size(); ++epoch) {
    checkpoint.on_epoch_end(static_cast<std::int64_t>(epoch), {{"val_loss", losses[epoch]}}, state);
    saved.push_back(loaded.load_checkpoint(path));
  }
  EXPECT_THAT(saved, ElementsAre(1, 1, 3, 3, 5));
  EXPECT_EQ(error_of([&] {
              checkpoint.on_epoch_end(5, {{"loss", 1}}, state);
            }),
            "Checkpoint: monitor 'val_loss' is not among the logged metrics: loss");
}

// --- History -----------------------------------------------------------------------------------

TEST(HistoryTest, BestIsTheFirstEpochWithTheBestValue) {
  History history;
  history.epochs = {{{"val_loss", 0.9}, {"val_accuracy", 0.6}},
                    {{"val_loss", 0.4}, {"val_accuracy", 0.8}},
                    {{"val_loss", 0.4}, {"val_accuracy", 0.8}},
                    {{"val_loss", 0.5}, {"val_accuracy", 0.7}}};
  EXPECT_EQ(history.best("val_loss"), 1U);
  EXPECT_EQ(history.best("val_accuracy"), 1U);
  EXPECT_EQ(history.best("val_loss", "max"), 0U);
  EXPECT_EQ(history.best("val_accuracy", "min"), 0U);
  EXPECT_EQ(history.best("loss"), std::nullopt);
  EXPECT_EQ(History{}.best("val_loss"), std::nullopt);
  EXPECT_EQ(error_of([&] { history.best("val_loss", "lowest"); }),
            "History::best: mode must be min, max or auto, got lowest");
}

}  // namespace
}  // namespace quarry::nn
