// The AutoML run (automl::fit) on small seeded generated tables (tables.hpp): a model that predicts
// held-out rows well within the time budget, the stored search that resumes and refuses other
// data, the options (families, metric, stop), the ensemble's place on the leaderboard and in the
// saved model, permutation importance and progress. Budgets are 2-3 s with 2 workers; most runs
// also cap the trials, and so end sooner.
#include "quarry/automl/automl.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <map>
#include <mutex>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include "quarry/automl/model.hpp"
#include "tests/automl/tables.hpp"
#include "tests/test_util.hpp"

namespace quarry::automl {
namespace {

using quarry::testing::error_of;
using quarry::testing::TempDir;
using test::binary_table;
using test::regression_table;
using test::slice;
using ::testing::HasSubstr;

/// Checks the leaderboard is sorted best first for the run's metric (and has no NaN score).
void expect_best_first(const AutoMLResult& r) {
  ASSERT_FALSE(r.leaderboard.empty());
  for (std::size_t i = 1; i < r.leaderboard.size(); ++i) {
    const double before = r.leaderboard[i - 1].validation_score;
    const double after = r.leaderboard[i].validation_score;
    ASSERT_FALSE(std::isnan(before) || std::isnan(after)) << r.leaderboard[i].model;
    if (greater_is_better(r.metric))
      EXPECT_GE(before, after) << r.leaderboard[i].model;
    else
      EXPECT_LE(before, after) << r.leaderboard[i].model;
  }
  EXPECT_EQ(r.winner, r.leaderboard.front().model);
  EXPECT_EQ(r.validation_score, r.leaderboard.front().validation_score);
}

/// trial number -> validation score of the single models on the leaderboard.
std::map<std::int64_t, double> trial_scores(const AutoMLResult& r) {
  std::map<std::int64_t, double> out;
  for (const auto& row : r.leaderboard)
    if (row.trial >= 0) out[row.trial] = row.validation_score;
  return out;
}

TEST(AutoMLFit, BinaryTableGivesAModelThatScoresHeldOutRowsWithinTheBudget) {
  TempDir dir;
  const auto all = binary_table(500, 1);
  const auto train = slice(all, 0, 400), held_out = slice(all, 400, 500);
  const auto r =
      fit(train, {.target = "label", .time_budget = 3, .workers = 2, .out = dir.path() / "run"});

  EXPECT_EQ(r.target.task, TaskType::Binary);
  EXPECT_EQ(r.target.classes, (std::vector<std::string>{"no", "yes"}));
  EXPECT_EQ(r.metric, Metric::RocAuc);
  EXPECT_GE(r.trials, 4);  // at least every family's cheap configuration
  expect_best_first(r);
  EXPECT_GT(r.validation_score, 0.9);
  // The command's contract: everything (search, ensemble, refit, importance) inside the budget.
  EXPECT_LE(r.elapsed, 3 * 1.1);

  EXPECT_EQ(r.model_dir, dir.path() / "run" / "model");
  const auto model = AutoModel::load(r.model_dir);
  EXPECT_EQ(model.task(), TaskType::Binary);
  EXPECT_EQ(model.target(), "label");
  const auto p = model.predict(held_out);
  ASSERT_EQ(p.rows, 100);
  ASSERT_EQ(p.cols, 2);
  for (std::int64_t i = 0; i < p.rows; ++i) EXPECT_NEAR(p.at(i, 0) + p.at(i, 1), 1.0, 1e-4);
  const auto y = test::class_indices(held_out, "label", model.classes());
  EXPECT_GT(score(Metric::RocAuc, TaskType::Binary, y, p), 0.9);
  EXPECT_GT(score(Metric::Accuracy, TaskType::Binary, y, p), 0.8);
}

TEST(AutoMLFit, SecondRunWithTheSameOutResumesTheStoredSearch) {
  TempDir dir;
  const auto train = binary_table(200, 2);
  AutoMLOptions options{
      .target = "label", .time_budget = 3, .workers = 2, .out = dir.path() / "run"};
  options.families = {"linear", "knn"};
  options.max_trials = 3;
  const auto first = fit(train, options);
  EXPECT_EQ(first.trials, 3);
  options.max_trials = 6;  // the study's total, the first run's trials included
  const auto second = fit(train, options);
  EXPECT_EQ(second.trials, 6);

  // The first run's trials are still there with the same scores (a promotion that repeats its
  // parent, successive halving's, is a trial but not a leaderboard row of its own).
  const auto before = trial_scores(first), after = trial_scores(second);
  ASSERT_EQ(before.size(), 3u);
  ASSERT_GT(after.size(), 3u);
  for (const auto& [trial, value] : before) {
    ASSERT_TRUE(after.count(trial)) << "trial " << trial;
    EXPECT_EQ(after.at(trial), value) << "trial " << trial;
  }
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "run" / "quarry.db"));
}

TEST(AutoMLFit, SameOutWithOtherDataIsRefusedAndKeepsTheEarlierModel) {
  TempDir dir;
  AutoMLOptions options{
      .target = "label", .time_budget = 3, .workers = 2, .out = dir.path() / "run"};
  options.families = {"linear"};
  options.max_trials = 1;
  const auto train = binary_table(200, 3);
  const auto first = fit(train, options);
  const auto held_out = binary_table(50, 4);
  const auto before = AutoModel::load(first.model_dir).predict(held_out);

  const auto other = binary_table(150, 5);  // other rows: another study
  EXPECT_THAT(error_of([&] { fit(other, options); }), HasSubstr("quarry.db"));
  // The refused run left the earlier model as it was.
  EXPECT_EQ(AutoModel::load(first.model_dir).predict(held_out).values, before.values);

  // Other settings on the same data are refused too.
  options.seed = 7;
  EXPECT_THAT(error_of([&] { fit(train, options); }), HasSubstr("quarry.db"));
}

TEST(AutoMLFit, FamiliesOptionRestrictsTheLeaderboard) {
  TempDir dir;
  AutoMLOptions options{
      .target = "label", .time_budget = 3, .workers = 2, .out = dir.path() / "run"};
  options.families = {"knn", "linear"};
  options.max_trials = 5;
  const auto r = fit(binary_table(200, 6), options);
  std::set<std::string> seen;
  for (const auto& row : r.leaderboard) {
    EXPECT_THAT((std::vector<std::string>{"knn", "linear", "ensemble"}),
                ::testing::Contains(row.family))
        << row.model;
    seen.insert(row.family);
  }
  // Both families had their cheap configuration tried.
  EXPECT_TRUE(seen.count("knn"));
  EXPECT_TRUE(seen.count("linear"));
  const auto model = AutoModel::load(r.model_dir);
  for (const auto& m : model.members())
    EXPECT_TRUE(m.family == "knn" || m.family == "linear") << m.family;

  options.families = {"no_such_family"};
  options.out = dir.path() / "other";
  EXPECT_THAT(error_of([&] { fit(binary_table(200, 6), options); }), HasSubstr("no_such_family"));
}

TEST(AutoMLFit, MetricThatDoesNotApplyToTheTaskIsRefused) {
  TempDir dir;
  const auto e = error_of([&] {
    fit(binary_table(100, 7),
        {.target = "label", .metric = Metric::Rmse, .time_budget = 2, .out = dir.path() / "run"});
  });
  EXPECT_THAT(e, HasSubstr("rmse"));
  EXPECT_THAT(e, HasSubstr("binary"));
  EXPECT_THAT(error_of([&] {
                fit(regression_table(100, 7), {.target = "y",
                                               .metric = Metric::RocAuc,
                                               .time_budget = 2,
                                               .out = dir.path() / "run2"});
              }),
              HasSubstr("roc_auc"));
  // A metric that applies is used: the leaderboard's scores are accuracies.
  AutoMLOptions options{.target = "label",
                        .metric = Metric::Accuracy,
                        .time_budget = 2,
                        .workers = 2,
                        .out = dir.path() / "run3"};
  options.families = {"linear"};
  options.max_trials = 1;
  const auto r = fit(binary_table(150, 7), options);
  EXPECT_EQ(r.metric, Metric::Accuracy);
  EXPECT_GT(r.validation_score, 0.8);
  EXPECT_LE(r.validation_score, 1.0);
}

TEST(AutoMLFit, EnsembleRowOnlyWhenItBeatsTheBestSingleModel) {
  TempDir dir;
  // A line fits x1's part of y and misses sin(3 x2); nearest neighbours follow both roughly: the
  // two cheap configurations err differently, and their blend beats each.
  AutoMLOptions options{.target = "y", .time_budget = 3, .workers = 2, .out = dir.path() / "two"};
  options.families = {"linear", "knn"};
  options.max_trials = 2;
  const auto train = regression_table(300, 8);
  const auto r = fit(train, options);
  ASSERT_EQ(r.target.task, TaskType::Regression);
  ASSERT_EQ(r.leaderboard.size(), 3u);
  EXPECT_EQ(r.leaderboard.front().model, "ensemble");
  EXPECT_EQ(r.leaderboard.front().trial, -1);
  EXPECT_EQ(r.winner, "ensemble");
  EXPECT_LT(r.validation_score, r.best_single_validation_score);  // RMSE: smaller is better
  EXPECT_EQ(r.best_single_validation_score, r.leaderboard[1].validation_score);
  EXPECT_EQ(r.validation_score, r.ensemble.score);
  ASSERT_EQ(r.ensemble.weights.size(), r.ensemble_trials.size());
  EXPECT_NEAR(std::accumulate(r.ensemble.weights.begin(), r.ensemble.weights.end(), 0.0), 1.0,
              1e-9);

  // The saved model holds the members with a positive weight, weights summing to 1.
  const auto model = AutoModel::load(r.model_dir);
  ASSERT_EQ(model.members().size(), 2u);
  double total = 0;
  for (const auto& m : model.members()) {
    EXPECT_GT(m.weight, 0);
    total += m.weight;
  }
  EXPECT_NEAR(total, 1.0, 1e-9);
  EXPECT_THAT(model.describe(), HasSubstr("ensemble of 2"));
  // It predicts y better than either member does alone, on rows it never saw.
  const auto held_out = regression_table(200, 9);
  std::vector<double> y;
  for (double v : held_out.find("y")->numbers) y.push_back(v);
  const double blended = score(Metric::Rmse, TaskType::Regression, y, model.predict(held_out));
  EXPECT_LT(blended, 1.0);

  // One trial: nothing to blend, no ensemble row, a one-member model.
  options.out = dir.path() / "one";
  options.max_trials = 1;
  const auto single = fit(train, options);
  ASSERT_EQ(single.leaderboard.size(), 1u);
  EXPECT_NE(single.leaderboard.front().family, "ensemble");
  EXPECT_EQ(single.validation_score, single.best_single_validation_score);
  const auto one = AutoModel::load(single.model_dir);
  ASSERT_EQ(one.members().size(), 1u);
  EXPECT_EQ(one.members().front().weight, 1.0);
  EXPECT_EQ(one.members().front().family, single.leaderboard.front().family);
}

TEST(AutoMLFit, FallbackModelIsSavedWhenTheSearchIsStoppedAtOnce) {
  TempDir dir;
  const std::atomic<bool> stop{true};
  const auto all = binary_table(300, 10);
  AutoMLOptions options{
      .target = "label", .time_budget = 3, .workers = 2, .out = dir.path() / "run"};
  options.stop = &stop;
  const auto r = fit(slice(all, 0, 200), options);
  EXPECT_EQ(r.trials, 0);
  ASSERT_EQ(r.leaderboard.size(), 1u);
  EXPECT_THAT(r.leaderboard.front().model, HasSubstr("fallback"));
  EXPECT_LT(r.elapsed, 3);

  // The fallback is a real model: the cheapest family, fitted on every row.
  const auto model = AutoModel::load(r.model_dir);
  ASSERT_EQ(model.members().size(), 1u);
  EXPECT_EQ(model.members().front().family, "linear");
  const auto held_out = slice(all, 200, 300);
  const auto y = test::class_indices(held_out, "label", model.classes());
  EXPECT_GT(score(Metric::RocAuc, TaskType::Binary, y, model.predict(held_out)), 0.9);
}

TEST(AutoMLFit, ImportanceRanksInformativeColumnsAboveNoise) {
  TempDir dir;
  AutoMLOptions options{
      .target = "label", .time_budget = 3, .workers = 2, .out = dir.path() / "run"};
  options.families = {"xgboost", "linear"};
  options.max_trials = 3;
  const auto r = fit(binary_table(300, 11), options);
  std::map<std::string, std::size_t> rank;
  std::map<std::string, double> value;
  for (std::size_t i = 0; i < r.importance.size(); ++i) {
    rank[r.importance[i].first] = i;
    value[r.importance[i].first] = r.importance[i].second;
  }
  ASSERT_TRUE(rank.count("x1") && rank.count("x2") && rank.count("noise"))
      << "importance of " << r.importance.size() << " columns";
  EXPECT_FALSE(rank.count("label"));  // the target is not a feature
  EXPECT_EQ(rank["x1"], 0u);          // label leans on 2 x1 most
  EXPECT_LT(rank["x2"], rank["noise"]);
  EXPECT_GT(value["x1"], 0.05);  // shuffling x1 costs AUC
  EXPECT_LT(std::abs(value["noise"]), 0.05);
  for (std::size_t i = 1; i < r.importance.size(); ++i)
    EXPECT_GE(r.importance[i - 1].second, r.importance[i].second);
  EXPECT_TRUE(std::filesystem::exists(r.model_dir / "importance.json"));
}

TEST(AutoMLFit, ProgressReportsEveryFinishedTrial) {
  TempDir dir;
  AutoMLOptions options{
      .target = "label", .time_budget = 2, .workers = 2, .out = dir.path() / "run"};
  options.families = {"linear", "knn"};
  options.max_trials = 4;
  std::vector<Progress> seen;
  std::mutex mutex;
  const auto r = fit(binary_table(150, 12), options, [&](const Progress& p) {
    std::lock_guard lock(mutex);
    seen.push_back(p);
  });
  ASSERT_EQ(seen.size(), 4u);
  std::set<std::int64_t> trials;
  for (const auto& p : seen) {
    trials.insert(p.row.trial);
    EXPECT_FALSE(std::isnan(p.row.validation_score)) << p.failure;
    EXPECT_GE(p.best.validation_score, p.row.validation_score);  // AUC: the best is the largest
  }
  EXPECT_EQ(trials.size(), 4u);
  EXPECT_EQ(r.trials, 4);
}

}  // namespace
}  // namespace quarry::automl
