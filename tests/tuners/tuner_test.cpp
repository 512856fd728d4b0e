// The tuners (Keras Tuner's API, quarry/tuners): what a search stores, the best trials and models,
// the objective's direction, resuming and overwriting, the grid, Bayesian optimisation's random
// start and GP proposals, and Hyperband's promotions from checkpoints.
#include "quarry/tuners/tuner.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "quarry/core/error.hpp"
#include "quarry/core/rng.hpp"
#include "quarry/samplers/gp.hpp"
#include "quarry/samplers/random.hpp"
#include "quarry/storage/sqlite.hpp"
#include "tests/nn/blobs.hpp"
#include "tests/test_util.hpp"

namespace quarry::tuners {
namespace {

using nn::Compiled;
using nn::Model;
using nn::SGD;
using nn::testing::gaussian_blobs;
using quarry::testing::TempDir;
using ::testing::HasSubstr;

/// Define-by-run: the hidden layer's width and the learning rate are searched.
Compiled build_model(HyperParameters& hp) {
  const std::int64_t units = hp.Int("units", 2, 16, {.step = 2});
  const double lr = hp.Choice("lr", {0.003, 0.03, 0.3});
  torch::nn::Sequential net(torch::nn::Linear(2, units), torch::nn::ReLU(),
                            torch::nn::Linear(units, 3));
  return Compiled{net, SGD(lr)};
}

/// 300 rows; validation_split 0.2 keeps the last 60 for validation (Keras' tail).
struct SearchData {
  data::Dataset all = gaussian_blobs(300, 1);
  data::Dataset validation = all.take([] {
    std::vector<std::int64_t> tail;
    for (std::int64_t i = 240; i < 300; ++i) tail.push_back(i);
    return tail;
  }());
};

const SearchOptions kSearch{.epochs = 2, .validation_split = 0.2, .verbose = false};

std::vector<Trial> complete_trials(Study& study) {
  std::vector<Trial> out;
  for (auto& t : study.trials())
    if (t.state == TrialState::Complete) out.push_back(std::move(t));
  return out;
}

bool same_params(const Params& a, const Params& b) {
  if (a.size() != b.size()) return false;
  for (const auto& [name, value] : a)
    if (!b.contains(name) || !space::same_value(value, b.at(name))) return false;
  return true;
}

TEST(RandomSearchTest, StoresTrialsAndReturnsTheBestHyperparametersAndModels) {
  TempDir dir;
  const SearchData data;
  torch::manual_seed(1);
  RandomSearch tuner(build_model, {.objective = "val_accuracy",
                                   .max_trials = 4,
                                   .directory = dir.path(),
                                   .project_name = "blobs",
                                   .seed = 3});
  tuner.search(data.all, kSearch);
  EXPECT_EQ(tuner.project_dir(), dir.path() / "blobs");

  // The trials are in <directory>/<project_name>/quarry.db, for any reader.
  auto store =
      std::make_shared<storage::SqliteStorage>((dir.path() / "blobs" / "quarry.db").string());
  Study stored = Study::open(store, "blobs");
  std::vector<Trial> trials = complete_trials(stored);
  ASSERT_EQ(trials.size(), 4U);
  EXPECT_EQ(stored.trials().size(), 4U);
  std::stable_sort(trials.begin(), trials.end(),
                   [](const Trial& a, const Trial& b) { return a.values[0] > b.values[0]; });

  const auto best_hps = tuner.get_best_hyperparameters(2);
  ASSERT_EQ(best_hps.size(), 2U);
  EXPECT_TRUE(same_params(best_hps[0].values(), trials[0].params));
  EXPECT_TRUE(same_params(best_hps[1].values(), trials[1].params));
  const Trial best = tuner.study().trial(trials[0].number);
  EXPECT_GE(best.values[0], tuner.study().trial(trials[1].number).values[0]);
  for (const Trial& t : trials) EXPECT_GE(best.values[0], t.values[0]);

  const std::string summary = tuner.results_summary(2);
  EXPECT_THAT(summary, HasSubstr("Results summary"));
  EXPECT_THAT(summary, HasSubstr("Showing 2 best trials"));
  EXPECT_THAT(summary, HasSubstr("Objective(name=\"val_accuracy\", direction=\"max\")"));
  EXPECT_THAT(summary, HasSubstr("Trial " + std::to_string(best.number) + " summary"));
  for (const auto& [name, value] : best.params)
    EXPECT_THAT(summary, HasSubstr(name + ": " + space::to_string(value)));
  EXPECT_THAT(tuner.results_summary(10), HasSubstr("Showing 4 best trials"));

  // The best model carries the weights behind the best trial's score...
  auto models = tuner.get_best_models(1);
  ASSERT_EQ(models.size(), 1U);
  EXPECT_NEAR(nn::evaluate(models[0], data.validation).at("accuracy"), best.values[0], 1e-6);
  // ...while the hypermodel builds an untrained one.
  Model untrained = tuner.hypermodel().build(best_hps[0]);
  EXPECT_GT(std::abs(nn::evaluate(untrained, data.validation).at("accuracy") - best.values[0]),
            0.05);
}

TEST(RandomSearchTest, AccuracyObjectivesAreMaximisedOthersMinimised) {
  TempDir dir;
  RandomSearch accuracy(
      build_model, {.objective = "val_accuracy", .directory = dir.path(), .project_name = "acc"});
  RandomSearch loss(build_model,
                    {.objective = "val_loss", .directory = dir.path(), .project_name = "loss"});
  EXPECT_EQ(accuracy.study().directions(), std::vector<Direction>{Direction::Maximize});
  EXPECT_EQ(loss.study().directions(), std::vector<Direction>{Direction::Minimize});
}

TEST(RandomSearchTest, ASecondSearchResumesUnlessOverwriteIsSet) {
  TempDir dir;
  const SearchData data;
  const SearchOptions one_epoch{.epochs = 1, .validation_split = 0.2, .verbose = false};
  const RandomSearchOptions options{
      .objective = "val_loss", .max_trials = 4, .directory = dir.path(), .project_name = "resume"};
  std::vector<Trial> first;
  {
    RandomSearch tuner(build_model, options);
    tuner.search(data.all, one_epoch);
    first = tuner.study().trials();
    ASSERT_EQ(first.size(), 4U);
  }
  {
    RandomSearchOptions more = options;
    more.max_trials = 6;
    RandomSearch tuner(build_model, more);
    tuner.search(data.all, one_epoch);
    const auto trials = tuner.study().trials();
    ASSERT_EQ(trials.size(), 6U);
    for (std::size_t i = 0; i < 4; ++i) {  // the first four are kept as they were
      EXPECT_EQ(trials[i].finished_at, first[i].finished_at);
      EXPECT_EQ(trials[i].values, first[i].values);
      EXPECT_TRUE(same_params(trials[i].params, first[i].params));
    }
    EXPECT_EQ(complete_trials(tuner.study()).size(), 6U);
  }
  {
    RandomSearchOptions afresh = options;
    afresh.max_trials = 2;
    afresh.overwrite = true;
    RandomSearch tuner(build_model, afresh);
    EXPECT_TRUE(tuner.study().trials().empty());
    EXPECT_FALSE(std::filesystem::exists(tuner.project_dir() / "checkpoints"));
    tuner.search(data.all, one_epoch);
    EXPECT_EQ(tuner.study().trials().size(), 2U);
  }
}

TEST(GridSearchTest, RunsEveryCombinationOnce) {
  TempDir dir;
  const SearchData data;
  GridSearch tuner(
      [](HyperParameters& hp) {
        const std::int64_t units = hp.Choice("units", {4, 8});
        const double lr = hp.Choice("lr", {0.01, 0.1});
        torch::nn::Sequential net(torch::nn::Linear(2, units), torch::nn::ReLU(),
                                  torch::nn::Linear(units, 3));
        return Compiled{net, SGD(lr)};
      },
      {.objective = "val_accuracy", .directory = dir.path(), .project_name = "grid"});
  tuner.search(data.all, {.epochs = 1, .validation_split = 0.2, .verbose = false});

  const auto trials = tuner.study().trials();
  ASSERT_EQ(trials.size(), 4U);
  std::set<std::pair<double, double>> seen;
  for (const Trial& t : trials) {
    EXPECT_EQ(t.state, TrialState::Complete);
    seen.insert({space::to_double(t.params.at("units")), space::to_double(t.params.at("lr"))});
  }
  EXPECT_EQ(seen, (std::set<std::pair<double, double>>{{4, 0.01}, {4, 0.1}, {8, 0.01}, {8, 0.1}}));
}

TEST(GridSearchTest, EveryCombinationOnceWhateverTheDefaults) {
  // The space is known before the first trial (Keras Tuner's _populate_initial_space): the first
  // trial is the grid's first combination, not the defaults, which the grid would meet again.
  TempDir dir;
  const SearchData data;
  GridSearch tuner(
      [](HyperParameters& hp) {
        const std::int64_t units =
            hp.Choice("units", {4, 8}, {.default_value = Value{std::int64_t{8}}});
        const double lr = hp.Choice("lr", {0.01, 0.1}, {.default_value = Value{0.1}});
        torch::nn::Sequential net(torch::nn::Linear(2, units), torch::nn::ReLU(),
                                  torch::nn::Linear(units, 3));
        return Compiled{net, SGD(lr)};
      },
      {.objective = "val_loss", .directory = dir.path(), .project_name = "grid"});
  tuner.search(data.all, {.epochs = 1, .validation_split = 0.2, .verbose = false});

  std::set<std::pair<double, double>> seen;
  for (const Trial& t : tuner.study().trials())
    seen.insert({space::to_double(t.params.at("units")), space::to_double(t.params.at("lr"))});
  EXPECT_EQ(tuner.study().trials().size(), 4U);
  EXPECT_EQ(seen, (std::set<std::pair<double, double>>{{4, 0.01}, {4, 0.1}, {8, 0.01}, {8, 0.1}}));
}

/// A continuous learning rate: GP proposals are then reals that any change of the model moves.
Compiled build_bayesian_model(HyperParameters& hp) {
  const std::int64_t units = hp.Int("units", 2, 16);
  const double lr = hp.Float("lr", 1e-3, 0.5, {.log = true});
  torch::nn::Sequential net(torch::nn::Linear(2, units), torch::nn::ReLU(),
                            torch::nn::Linear(units, 3));
  return Compiled{net, SGD(lr)};
}

/// What the sampler saw when trial `number` was proposed (one worker): the trials before it, all
/// complete, and the new trial itself, running and without parameters yet.
std::vector<Trial> history_at(const std::vector<Trial>& trials, std::int64_t number) {
  std::vector<Trial> history(trials.begin(), trials.begin() + number);
  Trial proposed;
  proposed.number = number;
  proposed.state = TrialState::Running;
  history.push_back(proposed);
  return history;
}

/// Trial `number`'s parameters as `sampler` proposes them from the stored history.
Params proposal(samplers::Sampler& sampler, Study& study, const std::vector<Trial>& trials,
                std::int64_t number) {
  sampler.attach({.directions = study.directions()});
  return samplers::sample_all(sampler, study.space(), history_at(trials, number), number);
}

TEST(BayesianOptimizationTest, StartsRandomThenProposesFromTheGpWithAlphaAndBeta) {
  TempDir dir;
  const SearchData data;
  torch::manual_seed(2);
  BayesianOptimization tuner(build_bayesian_model, {.objective = "val_loss",
                                                    .max_trials = 6,
                                                    .num_initial_points = 2,
                                                    .alpha = 1e-3,
                                                    .beta = 1.5,
                                                    .directory = dir.path(),
                                                    .project_name = "bo",
                                                    .seed = 4});
  tuner.search(data.all, {.epochs = 1, .validation_split = 0.2, .verbose = false});
  const std::vector<Trial> trials = tuner.study().trials();
  ASSERT_EQ(trials.size(), 6U);
  for (const Trial& t : trials) ASSERT_EQ(t.state, TrialState::Complete) << t.failure;

  // The GP Keras Tuner's options describe: UCB mean - 1.5 sd (the sampler's beta is the square),
  // noise variance 1e-3, after 2 random trials.
  samplers::GpSampler expected(
      {.seed = 4, .n_startup = 2, .acquisition = "ucb", .beta = 1.5 * 1.5, .noise = 1e-3});
  samplers::RandomSampler random({.seed = 4});
  samplers::GpSampler other_beta(
      {.seed = 4, .n_startup = 2, .acquisition = "ucb", .beta = 1.5, .noise = 1e-3});
  samplers::GpSampler fitted_noise(
      {.seed = 4, .n_startup = 2, .acquisition = "ucb", .beta = 1.5 * 1.5});
  int beta_mattered = 0, alpha_mattered = 0;
  for (std::int64_t k = 0; k < 6; ++k) {
    const Params& params = trials[static_cast<std::size_t>(k)].params;
    const Params drawn = proposal(random, tuner.study(), trials, k);
    if (k < 2) {
      EXPECT_TRUE(same_params(params, drawn)) << k;
      continue;
    }
    EXPECT_TRUE(same_params(params, proposal(expected, tuner.study(), trials, k))) << k;
    EXPECT_FALSE(same_params(params, drawn)) << k;
    beta_mattered += !same_params(params, proposal(other_beta, tuner.study(), trials, k));
    alpha_mattered += !same_params(params, proposal(fitted_noise, tuner.study(), trials, k));
  }
  // Had beta or alpha not reached the sampler, some proposal would have been another one.
  EXPECT_GT(beta_mattered, 0);
  EXPECT_GT(alpha_mattered, 0);
  EXPECT_THAT(tuner.results_summary(1),
              HasSubstr("Objective(name=\"val_loss\", direction=\"min\")"));
  EXPECT_EQ(tuner.get_best_hyperparameters(6).size(), 6U);
}

TEST(BayesianOptimizationTest, StartsWithThreeRandomTrialsPerHyperparameterByDefault) {
  // Two hyperparameters: six random trials, the seventh from the GP.
  TempDir dir;
  const SearchData data;
  BayesianOptimization tuner(build_bayesian_model, {.objective = "val_accuracy",
                                                    .max_trials = 7,
                                                    .directory = dir.path(),
                                                    .project_name = "bo",
                                                    .seed = 9});
  tuner.search(data.all, {.epochs = 1, .validation_split = 0.2, .verbose = false});
  const std::vector<Trial> trials = tuner.study().trials();
  ASSERT_EQ(trials.size(), 7U);
  samplers::RandomSampler random({.seed = 9});
  samplers::GpSampler expected(
      {.seed = 9, .n_startup = 6, .acquisition = "ucb", .beta = 2.6 * 2.6, .noise = 1e-4});
  for (std::int64_t k = 0; k < 6; ++k)
    EXPECT_TRUE(same_params(trials[static_cast<std::size_t>(k)].params,
                            proposal(random, tuner.study(), trials, k)))
        << k;
  EXPECT_FALSE(same_params(trials[6].params, proposal(random, tuner.study(), trials, 6)));
  EXPECT_TRUE(same_params(trials[6].params, proposal(expected, tuner.study(), trials, 6)));
}

TEST(BayesianOptimizationTest, RejectsOptionsOutOfRange) {
  TempDir dir;
  const auto make = [&](BayesianOptimizationOptions o) {
    o.directory = dir.path();
    BayesianOptimization tuner(build_bayesian_model, o);
  };
  EXPECT_THROW(make({.num_initial_points = 0}), InvalidArgument);
  EXPECT_THROW(make({.alpha = 0}), InvalidArgument);
  EXPECT_THROW(make({.beta = -1}), InvalidArgument);
  EXPECT_NO_THROW(make({.num_initial_points = 1, .alpha = 1e-6, .beta = 0}));
}

TEST(HyperbandTunerTest, PromotedTrialsContinueFromTheirParentsCheckpoint) {
  TempDir dir;
  const SearchData data;
  Hyperband tuner(build_model, {.objective = "val_accuracy",
                                .max_epochs = 3,
                                .factor = 3,
                                .directory = dir.path(),
                                .project_name = "hb",
                                .seed = 5});
  tuner.search(data.all, {.validation_split = 0.2, .verbose = false});

  // Bracket 1: 3 trials of 1 epoch, the best promoted to 3 epochs; bracket 0: 2 trials of 3.
  const auto trials = tuner.study().trials();
  ASSERT_EQ(trials.size(), 6U);
  std::vector<Trial> promoted;
  std::multiset<double> budgets;
  for (const Trial& t : trials) {
    EXPECT_EQ(t.state, TrialState::Complete) << t.number << ": " << t.failure;
    budgets.insert(t.budget);
    if (t.parent) promoted.push_back(t);
  }
  EXPECT_EQ(budgets, (std::multiset<double>{1, 1, 1, 3, 3, 3}));
  ASSERT_EQ(promoted.size(), 1U);
  const Trial& child = promoted[0];
  const Trial parent = tuner.study().trial(*child.parent);
  EXPECT_EQ(parent.budget, 1);
  EXPECT_EQ(child.budget, 3);
  EXPECT_TRUE(same_params(child.params, parent.params));
  EXPECT_EQ(nlohmann::json::parse(child.attrs.at("inherited_from")), *child.parent);
  const auto history = nlohmann::json::parse(child.attrs.at("history"));
  ASSERT_EQ(history.size(), 2U);  // epochs 2 and 3: the first came with the parent's weights
  EXPECT_EQ(history[0].at("epoch"), 2);
  EXPECT_EQ(nlohmann::json::parse(child.attrs.at("epochs")), 3);
  EXPECT_TRUE(std::filesystem::exists(tuner.project_dir() / "checkpoints" /
                                      ("trial_" + std::to_string(parent.number) + ".pt")));
  for (const Trial& t : trials)
    if (t.number != child.number) {
      EXPECT_FALSE(t.attrs.contains("inherited_from")) << t.number;
    }
}

}  // namespace
}  // namespace quarry::tuners
