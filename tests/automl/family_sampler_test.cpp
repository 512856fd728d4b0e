// FamilySampler: the time share between model families, and the other parameters left to the
// sampler it wraps.
#include "quarry/automl/family_sampler.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "quarry/samplers/random.hpp"

namespace quarry::automl {
namespace {

using space::Param;
using space::Value;

const std::vector<std::string> kNames = {"linear", "xgboost", "knn"};

/// A finished trial of `family` that took `seconds`, with loss `loss`, at `budget`.
Trial done(const std::string& family, double seconds, double loss, double budget = 0) {
  static std::int64_t number = 0;
  Trial t;
  t.number = number++;
  t.state = TrialState::Complete;
  t.params = {{"family", Value{family}}};
  t.values = {loss};
  t.budget = budget;
  t.started_at = 1000;
  t.finished_at = 1000 + seconds;
  return t;
}

FamilySampler sampler() {
  return FamilySampler(std::make_shared<samplers::RandomSampler>(), {"xgboost"}, 9);
}

TEST(FamilySampler, UntriedFamiliesComeFirstInTheGivenOrder) {
  EXPECT_EQ(sampler().choose(kNames, {}), "linear");
  EXPECT_EQ(sampler().choose(kNames, {done("linear", 1, 0.5)}), "xgboost");
  EXPECT_EQ(sampler().choose(kNames, {done("linear", 1, 0.5), done("xgboost", 1, 0.4)}), "knn");
}

TEST(FamilySampler, SharesSecondsNotTrialsWhileNoFamilyIsRanked) {
  // Two 0.01 s linear trials (too few to rank it) next to one 2 s boosted one: linear has spent
  // less time, so it goes on.
  std::vector<Trial> history;
  for (int i = 0; i < 2; ++i) history.push_back(done("linear", 0.01, 0.5));
  history.push_back(done("xgboost", 2, 0.9, 9));
  history.push_back(done("knn", 3, 0.9));
  EXPECT_EQ(sampler().choose(kNames, history), "linear");
  history.push_back(done("linear", 2.5, 0.5));  // now 2.52 s against 2 s
  EXPECT_EQ(sampler().choose(kNames, history), "xgboost");
}

TEST(FamilySampler, TheBetterFamilyGetsTwiceTheTimeOfTheNext) {
  std::vector<Trial> history;
  for (int i = 0; i < 3; ++i) {
    history.push_back(done("linear", 1, 0.2));        // best: weight 1, 3 s
    history.push_back(done("xgboost", 0.5, 0.3, 9));  // second: weight 1/2, 1.5 s
    history.push_back(done("knn", 0.3, 0.4));         // third: weight 1/4, 0.9 s
  }
  // Keys: linear 3 / 1 = 3, xgboost 1.5 / 0.5 = 3 (+ nothing), knn 0.9 / 0.25 = 3.6.
  history.push_back(done("linear", 0.1, 0.9));  // linear 3.1: xgboost is now the lowest
  EXPECT_EQ(sampler().choose(kNames, history), "xgboost");
  history.push_back(done("xgboost", 0.2, 0.9, 9));  // xgboost 1.7 / 0.5 = 3.4
  EXPECT_EQ(sampler().choose(kNames, history), "linear");
}

TEST(FamilySampler, ABudgetedFamilyIsRankedOnlyByWholeBudgetTrials) {
  // xgboost's trials at a ninth of its rounds score badly; unranked, it keeps weight 1.
  std::vector<Trial> history;
  for (int i = 0; i < 3; ++i) history.push_back(done("linear", 1, 0.2));
  for (int i = 0; i < 3; ++i) history.push_back(done("knn", 0.5, 0.3));
  for (int i = 0; i < 5; ++i) history.push_back(done("xgboost", 0.7, 5.0, 1));
  // linear 3 / 1, knn 1.5 / 0.5 = 3, xgboost 3.5 / 1: with a rank from its partial trials
  // (third: 3.5 / 0.25 = 14) it would get nothing; unranked it is close behind.
  EXPECT_EQ(sampler().choose(kNames, history), "linear");
  history.push_back(done("linear", 1, 0.9));  // linear 4, knn 3, xgboost 3.5
  EXPECT_EQ(sampler().choose(kNames, history), "knn");
  history.push_back(done("knn", 0.6, 0.9));  // knn 2.1 / 0.5 = 4.2
  EXPECT_EQ(sampler().choose(kNames, history), "xgboost");
}

TEST(FamilySampler, AFamilyThatStoppedImprovingGivesWay) {
  // linear found its best first, then 100 trials no better: its weight is a quarter, and knn
  // (second, weight 1/2) gets the next trial although it has spent more than a quarter as much.
  std::vector<Trial> history;
  history.push_back(done("linear", 0.1, 0.1));
  for (int i = 0; i < 100; ++i) history.push_back(done("linear", 0.1, 0.2));
  for (int i = 0; i < 3; ++i) history.push_back(done("knn", 1.5, 0.3));
  // linear 10.1 / 0.25 = 40.4; knn 4.5 / 0.5 = 9; xgboost (untried) 0.
  EXPECT_EQ(sampler().choose({"linear", "knn"}, history), "knn");
  history.push_back(done("linear", 0.1, 0.05));  // a new best: weight 1 again, 10.2
  EXPECT_EQ(sampler().choose({"linear", "knn"}, history), "knn");
  history.push_back(done("knn", 5, 0.3));  // knn 9.5 / 0.5 = 19 > 10.2
  EXPECT_EQ(sampler().choose({"linear", "knn"}, history), "linear");
}

TEST(FamilySampler, RunningTrialsCountAtLeastTheirFamilysMean) {
  std::vector<Trial> history = {done("linear", 2, 0.5), done("xgboost", 3, 0.5, 9)};
  Trial running = done("linear", 0, 0);
  running.state = TrialState::Running;
  running.values.clear();
  running.finished_at.reset();
  running.started_at = 1e18;  // started "now": it counts as the mean, 2 s
  history.push_back(running);
  EXPECT_EQ(sampler().choose({"linear", "xgboost"}, history), "xgboost");  // 4 s against 3 s
}

TEST(FamilySampler, RepeatedPromotionsCostNothing) {
  std::vector<Trial> history = {done("linear", 1, 0.5), done("xgboost", 2, 0.5, 9)};
  Trial copy = done("linear", 5, 0.5);
  copy.attrs["same_as"] = "0";
  history.push_back(copy);
  EXPECT_EQ(sampler().choose({"linear", "xgboost"}, history), "linear");
}

TEST(FamilySampler, TheFamilyIsChosenAndTheRestComesFromTheWrappedSampler) {
  Space space;
  std::vector<Value> names;
  for (const auto& n : kNames) names.emplace_back(n);
  space.add(Param::Choice("family", names, {.ordered = false}));
  space.add(Param::Float("xgboost.eta", 0.01, 0.3)
                .with_condition({"family", {Value{std::string("xgboost")}}}));
  auto s = sampler();
  s.attach({});
  const auto params =
      samplers::sample_all(s, space, {done("linear", 1, 0.5), done("knn", 1, 0.5)}, 7);
  ASSERT_EQ(std::get<std::string>(params.at("family")), "xgboost");
  const double eta = std::get<double>(params.at("xgboost.eta"));
  EXPECT_GE(eta, 0.01);
  EXPECT_LE(eta, 0.3);
}

}  // namespace
}  // namespace quarry::automl
