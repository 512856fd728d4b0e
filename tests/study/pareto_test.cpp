#include "quarry/study/pareto.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <memory>

#include "quarry/pruners/median.hpp"
#include "quarry/storage/memory.hpp"
#include "quarry/study/constraints.hpp"
#include "quarry/study/study.hpp"
#include "tests/test_util.hpp"

namespace quarry::study {
namespace {

using quarry::testing::error_of;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Fronts = std::vector<std::vector<std::size_t>>;

constexpr double kInf = std::numeric_limits<double>::infinity();
const std::vector<Direction> kMaxMin = {Direction::Maximize, Direction::Minimize};
const std::vector<Direction> kMinMin = {Direction::Minimize, Direction::Minimize};

TEST(Pareto, DominanceFollowsEachObjectivesDirection) {
  EXPECT_TRUE(dominates({0.9, 5}, {0.8, 5}, kMaxMin));   // better accuracy, same size
  EXPECT_TRUE(dominates({0.9, 4}, {0.8, 5}, kMaxMin));   // better in both
  EXPECT_FALSE(dominates({0.9, 6}, {0.8, 5}, kMaxMin));  // a trade-off
  EXPECT_FALSE(dominates({0.9, 5}, {0.9, 5}, kMaxMin));  // equal: neither dominates
  EXPECT_TRUE(dominates({0.8, 5}, {0.9, 5}, kMinMin));
  EXPECT_TRUE(dominates({1, 2}, {1, std::nan("")}, kMinMin));  // NaN is worst
  EXPECT_TRUE(dominates({1, kInf}, {1, std::nan("")}, kMinMin));
  EXPECT_FALSE(dominates({1, std::nan("")}, {1, 2}, kMinMin));
  EXPECT_THAT(error_of([] {
                dominates({1}, {1, 2}, kMinMin);
              }),
              HasSubstr("the counts must agree"));
}

TEST(Pareto, NonDominatedSortWithMixedDirectionsAndTies) {
  // Maximise accuracy, minimise size.
  const std::vector<std::vector<double>> values = {
      {0.9, 10},   // 0: front 0
      {0.8, 5},    // 1: front 0
      {0.9, 10},   // 2: the same as 0, front 0 too
      {0.7, 6},    // 3: dominated by 1 only
      {0.95, 20},  // 4: front 0 (most accurate)
      {0.6, 7},    // 5: dominated by 3 (and 1)
      {0.7, 6},    // 6: the same as 3
  };
  EXPECT_EQ(non_dominated_sort(values, kMaxMin), (Fronts{{0, 1, 2, 4}, {3, 6}, {5}}));
  // Both minimised, the ranking changes: the least accurate are now the best.
  EXPECT_EQ(non_dominated_sort(values, kMinMin), (Fronts{{1, 3, 5, 6}, {0, 2}, {4}}));
  EXPECT_TRUE(non_dominated_sort({}, kMinMin).empty());
  EXPECT_THAT(error_of([] {
                non_dominated_sort({{1, 2}, {3}}, kMinMin);
              }),
              HasSubstr("point 1 has 1 value(s), there are 2 objective(s)"));
}

TEST(Pareto, ConstrainedSortPutsFeasibleFirstThenInfeasibleByViolation) {
  const std::vector<std::vector<double>> values = {{1, 1}, {5, 5}, {0, 0}, {2, 2}, {3, 0}, {9, 9}};
  const std::vector<double> violations = {0, 0, 2.5, 0, 0.5, 2.5};
  // Point 2 would dominate everything, but it is infeasible.
  EXPECT_EQ(constrained_non_dominated_sort(values, violations, kMinMin),
            (Fronts{{0}, {3}, {1}, {4}, {2, 5}}));
}

TEST(Pareto, CrowdingDistanceOfAHandComputedFront) {
  // A(1,5) B(2,3) C(4,2) D(6,1), both minimised. Ranges 5 and 4.
  // B: (4 - 1) / 5 + (5 - 2) / 4 = 0.6 + 0.75 = 1.35;  C: (6 - 2) / 5 + (3 - 1) / 4 = 0.8 + 0.5.
  const std::vector<std::vector<double>> values = {{9, 9}, {1, 5}, {2, 3}, {4, 2}, {6, 1}};
  const auto d = crowding_distance(values, {4, 3, 2, 1});  // in this order: D, C, B, A
  ASSERT_EQ(d.size(), 4u);
  EXPECT_EQ(d[0], kInf);
  EXPECT_DOUBLE_EQ(d[1], 1.3);
  EXPECT_DOUBLE_EQ(d[2], 1.35);
  EXPECT_EQ(d[3], kInf);
  EXPECT_THAT(crowding_distance(values, {1, 2}), ElementsAre(kInf, kInf));
  // An objective with no range adds nothing: only the first one counts.
  const auto flat = crowding_distance({{0, 7}, {1, 7}, {3, 7}, {4, 7}}, {0, 1, 2, 3});
  EXPECT_EQ(flat[0], kInf);
  EXPECT_DOUBLE_EQ(flat[1], 0.75);
  EXPECT_DOUBLE_EQ(flat[2], 0.75);
  EXPECT_EQ(flat[3], kInf);
}

Trial trial(std::int64_t number, TrialState state, std::vector<double> values) {
  Trial t;
  t.number = number;
  t.state = state;
  t.values = std::move(values);
  return t;
}

TEST(Pareto, FrontKeepsCompleteFeasibleNonDominatedTrialsBestFirst) {
  std::vector<Trial> trials = {
      trial(0, TrialState::Complete, {0.80, 5}),   // front
      trial(1, TrialState::Complete, {0.90, 10}),  // front
      trial(2, TrialState::Complete, {0.70, 6}),   // dominated by 0
      trial(3, TrialState::Complete, {0.99, 1}),   // would dominate all, but infeasible
      trial(4, TrialState::Pruned, {0.999}),       // pruned: never on the front
      trial(5, TrialState::Failed, {}),           trial(6, TrialState::Running, {}),
      trial(7, TrialState::Complete, {0.90, 10}),  // a tie with 1: both kept
      trial(8, TrialState::Complete, {0.95, 30}),  // front
      trial(9, TrialState::Complete, {0.97}),      // one value for two objectives: left out
  };
  trials[3].attrs = {{kFeasibleAttr, "false"}, {kConstraintsAttr, R"({"params": 12})"}};
  trials[0].attrs = {{kFeasibleAttr, "true"}, {kConstraintsAttr, R"({"params": 0})"}};
  std::vector<std::int64_t> numbers;
  for (const Trial& t : pareto_front(trials, kMaxMin)) numbers.push_back(t.number);
  EXPECT_THAT(numbers, ElementsAre(8, 1, 7, 0));  // accuracy descending, ties by number
  numbers.clear();
  for (const Trial& t : pareto_front(trials, kMinMin)) numbers.push_back(t.number);
  EXPECT_THAT(numbers, ElementsAre(2, 0));  // lowest first value first
}

Space x_space() {
  return Space({space::Param::Float("x", 0, 1)});
}

TEST(Pareto, StudyBestTrialAndFrontSkipInfeasibleTrials) {
  Study study(std::make_shared<storage::MemoryStorage>(), "s", {.directions = kMaxMin});
  study.register_space(x_space());
  const std::vector<std::vector<double>> told = {{0.8, 5}, {0.99, 1}, {0.9, 10}};
  for (const auto& values : told) {
    const auto t = study.ask("w");
    if (values[0] == 0.99) {  // the best of all, but larger than allowed after training
      study.storage().set_trial_attr(study.id(), t->number, kFeasibleAttr, "false");
      study.storage().set_trial_attr(study.id(), t->number, kConstraintsAttr, R"({"flops": 3})");
    }
    study.tell(t->number, values);
  }
  ASSERT_TRUE(study.best_trial());
  EXPECT_EQ(study.best_trial()->number, 2);  // 0.9: the best feasible accuracy
  std::vector<std::int64_t> numbers;
  for (const Trial& t : study.pareto_front()) numbers.push_back(t.number);
  EXPECT_THAT(numbers, ElementsAre(2, 0));
}

TEST(Pareto, StudyWithTwoDirectionsPrunesOnTheFirstObjective) {
  // Maximise accuracy, minimise latency; the median rule must read "higher accuracy is better".
  Study study(std::make_shared<storage::MemoryStorage>(), "prune",
              {.directions = kMaxMin,
               .pruner = std::make_shared<pruners::MedianStopping>(
                   pruners::MedianOptions{.min_trials = 2, .warmup_steps = 0})});
  study.register_space(x_space());
  for (int i = 0; i < 3; ++i) {
    const auto t = study.ask("w");
    EXPECT_FALSE(study.report(t->number, 1, 0.5));
    study.tell(t->number, {0.5, 10.0});
  }
  const auto good = study.ask("w");
  EXPECT_FALSE(study.report(good->number, 1, 0.9));  // above the median accuracy: keeps going
  const auto bad = study.ask("w");
  EXPECT_TRUE(study.report(bad->number, 1, 0.1));  // below it: stopped (minimising would keep it)
  study.tell(bad->number, TrialState::Pruned);
  EXPECT_EQ(study.trial(bad->number).state, TrialState::Pruned);
  study.tell(good->number, {0.9, 20.0});
  std::vector<std::int64_t> numbers;
  for (const Trial& t : study.pareto_front()) numbers.push_back(t.number);
  EXPECT_THAT(numbers, ElementsAre(good->number, 0, 1, 2));  // the pruned trial is left out
}

}  // namespace
}  // namespace quarry::study
