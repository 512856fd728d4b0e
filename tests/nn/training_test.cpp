// One trial's training (train_trial): per-epoch reports, pruning, inheriting a parent's
// checkpoint, early stopping and the attributes it records; the spec objective; train_final.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "quarry/core/error.hpp"
#include "quarry/core/rng.hpp"
#include "quarry/core/sha256.hpp"
#include "quarry/nn/fit.hpp"
#include "quarry/nn/trial_training.hpp"
#include "tests/nn/blobs.hpp"
#include "tests/nn/recorder.hpp"
#include "tests/test_util.hpp"

namespace quarry::nn {
namespace {

using quarry::testing::error_of;
using quarry::testing::read_text;
using quarry::testing::TempDir;
using quarry::testing::write_text;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

using testing::gaussian_blobs;
using testing::Recorder;

struct Blobs {
  std::shared_ptr<const data::Dataset> train =
      std::make_shared<const data::Dataset>(gaussian_blobs(240, 1));
  std::shared_ptr<const data::Dataset> validation =
      std::make_shared<const data::Dataset>(gaussian_blobs(60, 2));
  TrainingData data() const { return {train, validation}; }
  /// Validation rows labelled against the training rows: the better a model learns, the worse
  /// its val_loss, so the first epoch is the best one and the last the worst.
  TrainingData against() const {
    data::Dataset flipped = *validation;
    for (float& y : flipped.y) y = std::fmod(y + 1, 3.0F);
    return {train, std::make_shared<const data::Dataset>(std::move(flipped))};
  }
};

/// 2 -> 8 (relu) -> 3: 2*8+8 + 8*3+3 = 51 parameters.
Model small_net(OptimizerSpec optimizer = SGD(0.05)) {
  torch::nn::Sequential net(torch::nn::Linear(2, 8), torch::nn::ReLU(), torch::nn::Linear(8, 3));
  return Model(Compiled{net, optimizer}, {2});
}

const ModelSpec kSpec{.layers = {Dense{8, Activation::Relu}, Dense{3}}, .optimizer = SGD(0.05)};

TEST(TrainTrialTest, ReportsTheObjectiveEveryEpochAndRecordsTheTrial) {
  torch::manual_seed(1);
  const Blobs blobs;
  Model model = small_net();
  Recorder recorder;
  TrialContext context = recorder.context(0);
  const auto value = train_trial(model, context, blobs.data(), {.epochs = 3});

  ASSERT_THAT(recorder.steps(), ElementsAre(1, 2, 3));
  const nlohmann::json history = recorder.attr("history");
  ASSERT_EQ(history.size(), 3U);
  std::size_t best = 0;
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(history[i].at("epoch"), static_cast<int>(i) + 1);
    for (const char* key : {"loss", "accuracy", "val_loss", "val_accuracy"})
      EXPECT_TRUE(history[i].contains(key)) << key;
    EXPECT_DOUBLE_EQ(recorder.reports[i].second, history[i].at("val_accuracy").get<double>());
    if (history[i].at("val_accuracy").get<double>() >
        history[best].at("val_accuracy").get<double>())
      best = i;
  }
  EXPECT_EQ(recorder.attr("epochs"), 3);
  EXPECT_EQ(recorder.attr("best_epoch"), static_cast<int>(best) + 1);
  EXPECT_THAT(value, ElementsAre(history[best].at("val_accuracy").get<double>()));
  EXPECT_GT(value[0], 0.8);  // the blobs are learnt: the value is a trained model's

  const nlohmann::json complexity = recorder.attr("complexity");
  EXPECT_EQ(complexity.at("parameters"), 51);
  EXPECT_GT(complexity.at("flops").get<double>(), 0);
  EXPECT_GT(complexity.at("latency_b1_ms").get<double>(), 0);
  EXPECT_FALSE(recorder.attrs.contains("inherited_from"));
}

TEST(TrainTrialTest, TheTrialBudgetOverridesTheEpochs) {
  const Blobs blobs;
  Model model = small_net();
  Recorder recorder;
  TrialContext context = recorder.context(0, /*budget=*/2);
  train_trial(model, context, blobs.data(), {.epochs = 5});
  EXPECT_THAT(recorder.steps(), ElementsAre(1, 2));
  EXPECT_EQ(recorder.attr("epochs"), 2);
}

TEST(TrainTrialTest, AReporterAnsweringStopPrunesTheTrial) {
  const Blobs blobs;
  Model model = small_net();
  Recorder recorder;
  recorder.prune_at = 2;
  TrialContext context = recorder.context(0);
  EXPECT_THROW(train_trial(model, context, blobs.data(), {.epochs = 5}), TrialPruned);
  EXPECT_THAT(recorder.steps(), ElementsAre(1, 2));
  EXPECT_TRUE(context.pruned());
  EXPECT_EQ(recorder.attr("epochs"), 2);
  EXPECT_EQ(recorder.attr("history").size(), 2U);
  EXPECT_FALSE(recorder.attrs.contains("best_epoch"));
}

TEST(TrainTrialTest, EarlyStoppingEndsTheTrialEarly) {
  const Blobs blobs;
  Model model = small_net();
  Recorder recorder;
  TrialContext context = recorder.context(0);
  // No epoch after the first improves val_loss by 10: patience 0 stops at epoch 2 (Keras 2.x).
  train_trial(model, context, blobs.data(),
              {.epochs = 10, .early_stopping = EarlyStoppingOptions{.min_delta = 10}});
  EXPECT_THAT(recorder.steps(), ElementsAre(1, 2));
  EXPECT_EQ(recorder.attr("epochs"), 2);
  EXPECT_EQ(recorder.attr("history").size(), 2U);
}

TEST(TrainTrialTest, APromotedTrialContinuesFromItsParentsCheckpoint) {
  TempDir dir;
  const Blobs blobs;
  const TrainingOptions options{.objective = "val_loss", .checkpoints = dir.path() / "checkpoints"};

  torch::manual_seed(2);
  Model parent = small_net();
  Recorder parent_recorder;
  TrialContext parent_context = parent_recorder.context(0, /*budget=*/4);
  train_trial(parent, parent_context, blobs.data(), options);
  ASSERT_TRUE(std::filesystem::exists(checkpoint_path(options.checkpoints, 0)));
  const double parent_last_loss = parent_recorder.attr("history").back().at("loss");

  torch::manual_seed(3);
  Model fresh = small_net();
  Recorder fresh_recorder;
  TrialContext fresh_context = fresh_recorder.context(1, /*budget=*/6);
  train_trial(fresh, fresh_context, blobs.data(), options);
  const double fresh_first_loss = fresh_recorder.attr("history").front().at("loss");

  torch::manual_seed(3);  // the child starts from the same random weights as `fresh`...
  Model child = small_net();
  Recorder child_recorder;
  TrialContext child_context = child_recorder.context(2, /*budget=*/6, /*parent=*/0);
  train_trial(child, child_context, blobs.data(), options);
  // ...but replaces them with the parent's, and goes on from the parent's epoch count.
  EXPECT_EQ(child_recorder.attr("inherited_from"), 0);
  EXPECT_THAT(child_recorder.steps(), ElementsAre(5, 6));
  EXPECT_EQ(child_recorder.attr("epochs"), 6);
  const nlohmann::json history = child_recorder.attr("history");
  ASSERT_EQ(history.size(), 2U);
  EXPECT_EQ(history[0].at("epoch"), 5);
  const double child_first_loss = history[0].at("loss");
  EXPECT_NEAR(child_first_loss, parent_last_loss, 0.25 * parent_last_loss);
  EXPECT_LT(child_first_loss, 0.6 * fresh_first_loss);
}

/// A parent (trial 0, 4 epochs) whose checkpoint is left in `folder`, and the options of its
/// study: checkpoints there, the parent's record (its checksum among its attributes) in the store.
struct TrainedParent {
  Recorder recorder;
  TrainingOptions options;
  std::filesystem::path checkpoint;

  TrainedParent(const std::filesystem::path& folder, const TrainingData& data) {
    options = {.objective = "val_loss", .checkpoints = folder};
    torch::manual_seed(2);
    Model parent = small_net();
    TrialContext context = recorder.context(0, /*budget=*/4);
    train_trial(parent, context, data, options);
    checkpoint = checkpoint_path(folder, 0);
    options.trials = [this] {
      study::Trial t;
      t.number = 0;
      t.state = study::TrialState::Complete;
      t.attrs = recorder.attrs;
      return std::vector<study::Trial>{t};
    };
  }

  /// Trial 1, promoted from the parent to 6 epochs.
  Recorder promote(const TrainingData& data) const {
    Model child = small_net();
    Recorder child_recorder;
    TrialContext context = child_recorder.context(1, /*budget=*/6, /*parent=*/0);
    train_trial(child, context, data, options);
    return child_recorder;
  }
};

TEST(TrainTrialTest, TheCheckpointsChecksumIsRecordedWithTheTrial) {
  TempDir dir;
  const Blobs blobs;
  const TrainedParent parent(dir.path(), blobs.data());
  EXPECT_EQ(parent.recorder.attr(kCheckpointSha256Attr), sha256_file(parent.checkpoint));
  const Recorder child = parent.promote(blobs.data());
  EXPECT_EQ(child.attr("inherited_from"), 0);
  EXPECT_THAT(child.steps(), ElementsAre(5, 6));
  EXPECT_EQ(child.attr(kCheckpointSha256Attr), sha256_file(checkpoint_path(dir.path(), 1)));
}

TEST(TrainTrialTest, AMissingParentCheckpointTrainsFromScratchAndSaysSo) {
  TempDir dir;
  const Blobs blobs;
  const TrainedParent parent(dir.path(), blobs.data());
  std::filesystem::remove(parent.checkpoint);
  const Recorder child = parent.promote(blobs.data());
  EXPECT_THAT(child.steps(), ElementsAre(1, 2, 3, 4, 5, 6));  // the whole budget, from scratch
  EXPECT_FALSE(child.attrs.contains("inherited_from"));
  EXPECT_EQ(child.attr("inheritance"), "none");
  EXPECT_EQ(
      child.attr("inheritance_problem"),
      "trial 0's checkpoint " + parent.checkpoint.string() + " is missing; trained from scratch");
  EXPECT_EQ(child.attr("history").front().at("epoch"), 1);
  EXPECT_TRUE(std::filesystem::exists(checkpoint_path(dir.path(), 1)));
}

TEST(TrainTrialTest, ADamagedParentCheckpointIsNotLoaded) {
  // 64 bytes flipped where the tensors are: the archive may still load, with broken weights.
  TempDir dir;
  const Blobs blobs;
  const TrainedParent parent(dir.path(), blobs.data());
  std::string bytes = read_text(parent.checkpoint);
  for (std::size_t i = bytes.size() / 2; i < bytes.size() / 2 + 64; ++i)
    bytes[i] = static_cast<char>(~bytes[i]);
  write_text(parent.checkpoint, bytes);
  const Recorder child = parent.promote(blobs.data());
  EXPECT_THAT(child.steps(), ElementsAre(1, 2, 3, 4, 5, 6));
  EXPECT_FALSE(child.attrs.contains("inherited_from"));
  EXPECT_EQ(child.attr("inheritance"), "none");
  const std::string problem = child.attr("inheritance_problem");
  EXPECT_THAT(problem, HasSubstr("trial 0's checkpoint " + parent.checkpoint.string() +
                                 " does not match the checksum recorded with the trial"));
  EXPECT_THAT(problem, HasSubstr("it was changed or damaged; trained from scratch"));
}

TEST(TrainTrialTest, WithoutTheStoresRecordOnlyTheFilesPresenceIsChecked) {
  TempDir dir;
  const Blobs blobs;
  Model model = small_net();
  Recorder recorder;
  TrialContext context = recorder.context(1, /*budget=*/2, /*parent=*/0);
  train_trial(model, context, blobs.data(), {.checkpoints = dir.path()});
  EXPECT_THAT(recorder.steps(), ElementsAre(1, 2));
  EXPECT_FALSE(recorder.attrs.contains("inherited_from"));
  EXPECT_THAT(recorder.attr("inheritance_problem").get<std::string>(), HasSubstr("is missing"));
}

TEST(TrainTrialTest, TheCheckpointHoldsTheWeightsOfTheBestEpoch) {
  // The first epoch is the best and the last the worst; Keras Tuner (SaveBestEpoch) keeps the
  // weights of the best epoch: the trial's value is theirs.
  TempDir dir;
  const TrainingData data = Blobs().against();
  torch::manual_seed(4);
  Model model = small_net();
  Recorder recorder;
  TrialContext context = recorder.context(0);
  const auto value = train_trial(model, context, data,
                                 {.objective = "val_loss", .epochs = 3, .checkpoints = dir.path()});
  const nlohmann::json history = recorder.attr("history");
  ASSERT_EQ(recorder.attr("best_epoch"), 1);
  ASSERT_THAT(value, ElementsAre(history[0].at("val_loss").get<double>()));
  ASSERT_GT(history.back().at("val_loss").get<double>(), value[0] + 0.05);

  torch::manual_seed(5);
  Model restored = small_net();
  restored.load_checkpoint(checkpoint_path(dir.path(), 0).string());
  EXPECT_NEAR(evaluate(restored, *data.validation).at("loss"), value[0], 1e-5);
}

TEST(SpecObjectiveTest, ResolvesTheSpecAndReturnsTheBestEpochsValue) {
  const Blobs blobs;
  std::vector<Params> resolved;
  auto objective = make_spec_objective(
      [&](const Params& params, const SpecRequest&) {
        resolved.push_back(params);
        ModelSpec spec = kSpec;
        spec.layers[0] = Dense{std::get<std::int64_t>(params.at("units")), Activation::Relu};
        return spec;
      },
      Blobs().against(), {.objective = "val_loss", .epochs = 3});
  EXPECT_THAT(objective->describe(), HasSubstr("blobs"));
  Recorder recorder;
  TrialContext context = recorder.context(0, 0, std::nullopt, {{"units", std::int64_t{4}}});
  torch::manual_seed(8);
  const auto value = objective->evaluate(context);

  ASSERT_EQ(resolved.size(), 1U);
  EXPECT_EQ(resolved[0], (Params{{"units", std::int64_t{4}}}));
  EXPECT_EQ(recorder.attr("complexity").at("parameters"), 2 * 4 + 4 + 4 * 3 + 3);
  EXPECT_THAT(recorder.steps(), ElementsAre(1, 2, 3));
  // The best epoch's val_loss (the first), not the last epoch's.
  const nlohmann::json history = recorder.attr("history");
  EXPECT_EQ(recorder.attr("best_epoch"), 1);
  EXPECT_THAT(value, ElementsAre(history[0].at("val_loss").get<double>()));
  EXPECT_GT(history.back().at("val_loss").get<double>(), value[0] + 0.05);
}

TEST(SpecObjectiveTest, EmptyTrainingDataIsRejected) {
  const auto resolve = [](const Params&, const SpecRequest&) { return kSpec; };
  const auto empty = std::make_shared<const data::Dataset>(data::Dataset{.shape = {2}});
  EXPECT_THAT(error_of([&] {
                make_spec_objective(resolve, {empty, nullptr}, {});
              }),
              HasSubstr("training data is empty"));
  EXPECT_THAT(error_of([&] {
                make_spec_objective(resolve, {nullptr, nullptr}, {});
              }),
              HasSubstr("training data is empty"));
}

TEST(TrainFinalTest, MeasuresTheTestRowsAndSavesLoadableWeights) {
  TempDir dir;
  const Blobs blobs;
  const data::Dataset test = gaussian_blobs(90, 3);
  const auto save_to = dir.path() / "models" / "final.pt";
  torch::manual_seed(6);
  const FinalModel final_model = train_final(kSpec, blobs.data(), test, 3, {}, save_to);

  EXPECT_GT(final_model.test.at("accuracy"), 0.8);
  EXPECT_TRUE(final_model.test.contains("loss"));
  for (const char* key : {"loss", "accuracy", "val_loss", "val_accuracy"})
    EXPECT_TRUE(final_model.last_epoch.contains(key)) << key;
  EXPECT_EQ(final_model.complexity.at("parameters"), 51);

  ASSERT_TRUE(std::filesystem::exists(save_to));
  torch::manual_seed(7);
  Model loaded(kSpec, {2});
  const double untrained = evaluate(loaded, test).at("loss");
  loaded.load_weights(save_to.string());
  const Logs logs = evaluate(loaded, test);
  EXPECT_DOUBLE_EQ(logs.at("accuracy"), final_model.test.at("accuracy"));
  EXPECT_NEAR(logs.at("loss"), final_model.test.at("loss"), 1e-6);
  EXPECT_GT(untrained, logs.at("loss") + 0.1);
}

// Several seeds at once, not averaged: each is tested, the one kept (and saved) has the lowest
// validation loss, and seed 0 is the single-seed retrain.
TEST(TrainFinalTest, TrainsSeveralSeedsAndKeepsTheLowestValidationLoss) {
  const Blobs blobs;
  const data::Dataset test = gaussian_blobs(90, 3);
  TempDir dir;
  const TrainingOptions options{.seed = 4};
  const FinalModel one = train_final(kSpec, blobs.data(), test, 2, options, {});
  const FinalModel three =
      train_final(kSpec, blobs.data(), test, 2, options, dir.path() / "m.pt", 3, false);
  ASSERT_EQ(three.members.size(), 1u) << "without average, one network";
  const std::size_t kept = three.members.front();
  EXPECT_THAT(three.saved, ElementsAre(dir.path() / "m.pt"));
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "m_2.pt"));
  ASSERT_EQ(three.seed_tests.size(), 3u);
  EXPECT_EQ(three.seed_tests[0], one.test) << "seed 0 is the single retrain's";
  EXPECT_NE(three.seed_tests[1], three.seed_tests[0]) << "another seed, another network";
  EXPECT_EQ(three.test, three.seed_tests[kept]);
  ASSERT_EQ(three.seed_last_epochs.size(), 3u);
  for (const auto& last : three.seed_last_epochs)  // kept: the lowest validation loss
    EXPECT_LE(three.seed_last_epochs[kept].at("val_loss"), last.at("val_loss"));
  EXPECT_EQ(three.last_epoch, three.seed_last_epochs[kept]);
  Model saved(kSpec, {2});
  saved.load_weights((dir.path() / "m.pt").string());
  EXPECT_DOUBLE_EQ(evaluate(saved, test).at("accuracy"), three.test.at("accuracy"));
  EXPECT_THROW(train_final(kSpec, blobs.data(), test, 2, options, {}, 0), InvalidArgument);
}

// Averaged (the default): the model is every seed's network, the lowest validation loss first;
// its test figures are those of the mean of their probabilities, and each member is saved.
TEST(TrainFinalTest, AveragesTheSeedsAndSavesEveryMember) {
  const Blobs blobs;
  const data::Dataset test = gaussian_blobs(90, 3);
  TempDir dir;
  const TrainingOptions options{.seed = 4};
  const auto save_to = dir.path() / "m.pt";
  const FinalModel kept = train_final(kSpec, blobs.data(), test, 2, options, {}, 3, false);
  const FinalModel three = train_final(kSpec, blobs.data(), test, 2, options, save_to, 3);
  EXPECT_EQ(three.seed_tests, kept.seed_tests) << "the same seeds train the same networks";
  ASSERT_EQ(three.members.size(), 3u);
  EXPECT_EQ(three.members.front(), kept.members.front());
  EXPECT_THAT(three.saved, ElementsAre(save_to, dir.path() / "m_2.pt", dir.path() / "m_3.pt"));
  EXPECT_EQ(member_path(save_to, 0), save_to);
  EXPECT_EQ(member_path(save_to, 2), dir.path() / "m_3.pt");
  EXPECT_EQ(three.last_epoch, three.seed_last_epochs[three.members.front()]);

  std::vector<std::unique_ptr<Model>> loaded;
  std::vector<Model*> members;
  for (std::size_t k = 0; k < three.saved.size(); ++k) {
    loaded.push_back(std::make_unique<Model>(kSpec, std::vector<std::int64_t>{2}));
    loaded.back()->load_weights(three.saved[k].string());
    members.push_back(loaded.back().get());
    // Member k is seed members[k]: its weights give that seed's test figures.
    EXPECT_DOUBLE_EQ(evaluate(*loaded.back(), test).at("accuracy"),
                     three.seed_tests[three.members[k]].at("accuracy"));
  }
  const Logs averaged = evaluate_average(members, test);
  EXPECT_DOUBLE_EQ(averaged.at("accuracy"), three.test.at("accuracy"));
  EXPECT_NEAR(averaged.at("loss"), three.test.at("loss"), 1e-6);
  EXPECT_NE(three.test, kept.test) << "the average is not the kept seed";
}

}  // namespace
}  // namespace quarry::nn
