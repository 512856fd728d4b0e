// The model study's objective (make_spec_objective): several objectives, hard constraints before
// and after training, lower-fidelity budgets and weight inheritance by network morphism.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>

#include "quarry/core/error.hpp"
#include "quarry/core/rng.hpp"
#include "quarry/nn/model.hpp"
#include "quarry/nn/training.hpp"
#include "tests/nn/blobs.hpp"
#include "tests/nn/recorder.hpp"
#include "tests/test_util.hpp"

namespace quarry::nn {
namespace {

using quarry::testing::error_of;
using quarry::testing::TempDir;
using ::testing::ElementsAre;
using testing::gaussian_blobs;
using ::testing::HasSubstr;
using testing::Recorder;

TrainingData blobs() {
  return {std::make_shared<const data::Dataset>(gaussian_blobs(240, 1)),
          std::make_shared<const data::Dataset>(gaussian_blobs(60, 2))};
}

/// 2 -> units (relu) -> 3: 2u + u + 3u + 3 parameters.
SpecResolver dense_net(std::vector<SpecRequest>* requests = nullptr) {
  return [requests](const Params& params, const SpecRequest& request) {
    if (requests != nullptr) requests->push_back(request);
    const auto it = params.find("units");
    const std::int64_t units = it == params.end() ? 8 : std::get<std::int64_t>(it->second);
    return ModelSpec{.layers = {Dense{units, Activation::Relu}, Dense{3}}, .optimizer = Adam(0.05)};
  };
}

Params units(std::int64_t n) {
  return {{"units", n}};
}

TEST(SpecObjectiveTest, ReturnsEveryObjectiveInTheStudysOrder) {
  auto objective = make_spec_objective(
      dense_net(), blobs(),
      {.objective = "val_accuracy",
       .objectives = {"val_accuracy", "params", "flops", "latency_b1_ms", "train_time"},
       .epochs = 2});
  Recorder recorder;
  auto context = recorder.context(0, 0, std::nullopt, units(8));
  const auto values = objective->evaluate(context);
  ASSERT_EQ(values.size(), 5U);
  EXPECT_GT(values[0], 0.5);
  EXPECT_EQ(values[1], 2 * 8 + 8 + 8 * 3 + 3);
  EXPECT_EQ(values[2], recorder.attr("complexity").at("flops").get<double>());
  EXPECT_GT(values[3], 0);
  EXPECT_EQ(values[4], recorder.attr("train_time").get<double>());
  EXPECT_GT(values[4], 0);
}

TEST(SpecObjectiveTest, AModelBreakingASizeConstraintIsNeverTrained) {
  auto objective =
      make_spec_objective(dense_net(), blobs(),
                          {.constraints = {study::parse_constraint("params <= 40")}, .epochs = 2});
  Recorder recorder;
  auto context = recorder.context(0, 0, std::nullopt, units(8));  // 51 parameters
  EXPECT_THAT(error_of<TrialFailed>([&] { objective->evaluate(context); }),
              HasSubstr("infeasible before training: params 51 > 40"));
  EXPECT_TRUE(recorder.reports.empty());  // not one epoch
  EXPECT_FALSE(recorder.attrs.contains("history"));
  EXPECT_EQ(recorder.attr("feasible"), false);
  EXPECT_EQ(recorder.attr("constraints").at("params"), 11);

  Recorder small;
  auto fits = small.context(1, 0, std::nullopt, units(4));  // 27 parameters
  EXPECT_EQ(objective->evaluate(fits).size(), 1U);
  EXPECT_EQ(small.attr("feasible"), true);
  EXPECT_THAT(small.steps(), ElementsAre(1, 2));
}

TEST(SpecObjectiveTest, AModelBreakingAConstraintAfterTrainingIsRecordedInfeasible) {
  auto objective =
      make_spec_objective(dense_net(), blobs(),
                          {.constraints = {study::parse_constraint("params <= 1000"),
                                           study::parse_constraint("val_accuracy >= 1.5")},
                           .epochs = 1});
  Recorder recorder;
  auto context = recorder.context(0, 0, std::nullopt, units(8));
  EXPECT_EQ(objective->evaluate(context).size(), 1U);  // trained and complete
  EXPECT_EQ(recorder.attr("feasible"), false);
  EXPECT_EQ(recorder.attr("constraints").at("params"), 0);
  EXPECT_GT(recorder.attr("constraints").at("val_accuracy").get<double>(), 0.5);
}

TEST(SpecObjectiveTest, RowsFidelityTrainsOnAShareOfTheRows) {
  auto objective = make_spec_objective(dense_net(), blobs(),
                                       {.fidelity = Fidelity::Rows, .max_budget = 4, .epochs = 1});
  for (const auto& [budget, rows] :
       {std::pair{1.0, 60}, std::pair{2.0, 120}, std::pair{4.0, 240}}) {
    Recorder recorder;
    auto context = recorder.context(0, budget, std::nullopt, units(4));
    objective->evaluate(context);
    EXPECT_EQ(recorder.attr("fidelity").at("rows"), rows) << "budget " << budget;
    EXPECT_EQ(recorder.attr("fidelity").at("kind"), "rows");
    EXPECT_THAT(recorder.steps(), ElementsAre(1));  // epochs stay fit's epochs
  }
}

TEST(SpecObjectiveTest, ResolutionFidelityResizesTheImagesAndTheModelsInput) {
  data::Dataset images{.shape = {1, 28, 28}, .num_classes = 2, .source = "noise"};
  Rng rng(3);
  for (int row = 0; row < 40; ++row) {
    for (int p = 0; p < 28 * 28; ++p) images.x.push_back(static_cast<float>(rng.uniform()));
    images.y.push_back(static_cast<float>(row % 2));
  }
  const auto shared = std::make_shared<const data::Dataset>(images);
  std::vector<SpecRequest> requests;
  auto objective = make_spec_objective(
      [&requests](const Params&, const SpecRequest& request) {
        requests.push_back(request);
        return ModelSpec{.layers = {Flatten{}, Dense{2}}};
      },
      {shared, shared}, {.fidelity = Fidelity::Resolution, .max_budget = 3, .epochs = 1});
  Recorder recorder;
  auto context = recorder.context(0, 1);
  objective->evaluate(context);
  EXPECT_THAT(recorder.attr("fidelity").at("shape"), ElementsAre(1, 9, 9));
  ASSERT_EQ(requests.size(), 1U);
  EXPECT_THAT(requests[0].input_shape, ElementsAre(1, 9, 9));
  EXPECT_EQ(recorder.attr("complexity").at("parameters"), 9 * 9 * 2 + 2);
}

TEST(SpecObjectiveTest, FiltersFidelityNarrowsTheModel) {
  auto objective = make_spec_objective(
      dense_net(), blobs(), {.fidelity = Fidelity::Filters, .max_budget = 2, .epochs = 1});
  Recorder recorder;
  auto context = recorder.context(0, 1, std::nullopt, units(8));
  objective->evaluate(context);
  EXPECT_EQ(recorder.attr("complexity").at("parameters"), 2 * 4 + 4 + 4 * 3 + 3);
}

TEST(SpecObjectiveTest, FidelitiesOtherThanEpochsNeedTheFullBudget) {
  EXPECT_THAT(
      error_of([] { make_spec_objective(dense_net(), blobs(), {.fidelity = Fidelity::Rows}); }),
      HasSubstr("needs the full budget"));
}

TEST(SpecObjectiveTest, InheritsTheWeightsOfAFinishedTrialThatMorphsIntoTheNewOne) {
  const TempDir dir;
  std::vector<study::Trial> finished;
  TrainingOptions options{.objective = "val_accuracy",
                          .inherit_weights = true,
                          .trials = [&finished] { return finished; },
                          .epochs = 3,
                          .checkpoints = dir.path()};
  auto objective = make_spec_objective(dense_net(), blobs(), options);
  Recorder parent;
  auto parent_context = parent.context(0, 0, std::nullopt, units(8));
  const double parent_value = objective->evaluate(parent_context)[0];
  finished.push_back(study::Trial{.number = 0,
                                  .state = study::TrialState::Complete,
                                  .params = units(8),
                                  .values = {parent_value}});

  Recorder child;  // wider: derived from trial 0 by widening its hidden layer
  auto child_context = child.context(1, 0, std::nullopt, units(12));
  objective->evaluate(child_context);
  EXPECT_EQ(child.attr("inherited_from"), 0);
  EXPECT_EQ(child.attr("inheritance"), "morphism");
  // It starts where its donor ended: its first epoch is already about as good.
  EXPECT_GT(child.reports.front().second, parent_value - 0.1);

  Recorder other;  // narrower: no morphism leads there; trained from scratch
  auto other_context = other.context(2, 0, std::nullopt, units(4));
  objective->evaluate(other_context);
  EXPECT_FALSE(other.attrs.contains("inherited_from"));
}

}  // namespace
}  // namespace quarry::nn
