#include "quarry/pruners/median.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>
#include <vector>

#include "quarry/core/error.hpp"

namespace quarry::pruners {
namespace {

using ::testing::HasSubstr;

Trial trial(std::int64_t number, TrialState state, std::map<std::int64_t, double> curve) {
  Trial t;
  t.number = number;
  t.state = state;
  t.intermediate = std::move(curve);
  return t;
}

/// Five finished trials with losses 1..5 at steps 0..2 (median 3), then `current`.
std::vector<Trial> five_and(const Trial& current) {
  std::vector<Trial> h;
  for (std::int64_t i = 0; i < 5; ++i) {
    const double v = 1.0 + static_cast<double>(i);
    h.push_back(trial(i, TrialState::Complete, {{0, v}, {1, v}, {2, v}}));
  }
  h.push_back(current);
  return h;
}

TEST(MedianStopping, StopsAClearlyBadTrialAndKeepsAGoodOne) {
  MedianStopping median;
  const Trial bad = trial(5, TrialState::Running, {{0, 9.0}, {1, 8.0}});
  const Trial good = trial(5, TrialState::Running, {{0, 2.0}, {1, 2.5}});
  const Trial at_median = trial(5, TrialState::Running, {{0, 3.0}});
  EXPECT_TRUE(median.should_prune(bad, five_and(bad), Direction::Minimize));
  EXPECT_FALSE(median.should_prune(good, five_and(good), Direction::Minimize));
  EXPECT_FALSE(median.should_prune(at_median, five_and(at_median), Direction::Minimize));  // strict
}

TEST(MedianStopping, JudgesATrialByItsBestValueSoFar) {
  // Its last value (4) is above the median (3), but it reached 1 earlier.
  MedianStopping median;
  const Trial recovering = trial(5, TrialState::Running, {{0, 1.0}, {1, 4.0}});
  EXPECT_FALSE(median.should_prune(recovering, five_and(recovering), Direction::Minimize));
}

TEST(MedianStopping, ComparesWithTheOthersBestUpToTheSameStep) {
  // Others: losses 10 at step 0, 1..5 at step 1, 0 at step 2. At step 1 their best-so-far values
  // are 1..5 (median 3): 3.5 is stopped there, although it beats all of them at step 0.
  std::vector<Trial> h;
  for (std::int64_t i = 0; i < 5; ++i)
    h.push_back(
        trial(i, TrialState::Complete, {{0, 10.0}, {1, 1.0 + static_cast<double>(i)}, {2, 0.0}}));
  MedianStopping median;
  const Trial at_0 = trial(5, TrialState::Running, {{0, 3.5}});
  const Trial at_1 = trial(5, TrialState::Running, {{0, 3.5}, {1, 3.5}});
  EXPECT_FALSE(median.should_prune(at_0, h, Direction::Minimize));
  EXPECT_TRUE(median.should_prune(at_1, h, Direction::Minimize));
}

TEST(MedianStopping, TheMedianOfAnEvenCountInterpolates) {
  std::vector<Trial> h;
  for (double v : {1.0, 2.0, 4.0, 10.0})
    h.push_back(trial(static_cast<std::int64_t>(h.size()), TrialState::Complete, {{0, v}}));
  MedianStopping median({.min_trials = 4});
  EXPECT_FALSE(
      median.should_prune(trial(9, TrialState::Running, {{0, 3.0}}), h, Direction::Minimize));
  EXPECT_TRUE(
      median.should_prune(trial(9, TrialState::Running, {{0, 3.01}}), h, Direction::Minimize));
  std::vector<double> values = {10.0, 1.0, 4.0, 2.0};
  EXPECT_DOUBLE_EQ(percentile(values, 50), 3.0);
  EXPECT_DOUBLE_EQ(percentile(values, 25), 1.75);  // numpy.percentile([1, 2, 4, 10], 25)
  EXPECT_DOUBLE_EQ(percentile(values, 100), 10.0);
}

TEST(MedianStopping, WaitsForMinTrialsWithAValueAtTheStep) {
  const Trial bad = trial(9, TrialState::Running, {{0, 9.0}, {1, 9.0}, {2, 9.0}, {3, 9.0}});
  auto h = five_and(bad);  // five others have values at steps 0..2 only
  EXPECT_TRUE(MedianStopping({.min_trials = 5})
                  .should_prune(trial(9, TrialState::Running, {{0, 9.0}}), h, Direction::Minimize));
  EXPECT_FALSE(
      MedianStopping({.min_trials = 6})
          .should_prune(trial(9, TrialState::Running, {{0, 9.0}}), h, Direction::Minimize));
  EXPECT_FALSE(MedianStopping({.min_trials = 1}).should_prune(bad, h, Direction::Minimize))
      << "no other trial reached step 3";
}

TEST(MedianStopping, CountsOnlyOtherFinishedTrialsThatAreNotFailed) {
  const Trial bad = trial(9, TrialState::Running, {{0, 9.0}});
  std::vector<Trial> h = {
      trial(0, TrialState::Complete, {{0, 1.0}}), trial(1, TrialState::Pruned, {{0, 2.0}}),
      trial(2, TrialState::Failed, {{0, 1.0}}),   trial(3, TrialState::Running, {{0, 1.0}}),
      trial(4, TrialState::Waiting, {{0, 1.0}}),  bad};
  EXPECT_TRUE(MedianStopping({.min_trials = 2}).should_prune(bad, h, Direction::Minimize));
  EXPECT_FALSE(MedianStopping({.min_trials = 3}).should_prune(bad, h, Direction::Minimize));
}

TEST(MedianStopping, RespectsWarmupSteps) {
  MedianStopping median({.min_trials = 5, .warmup_steps = 2});
  const Trial early = trial(5, TrialState::Running, {{0, 9.0}, {1, 9.0}});
  const Trial later = trial(5, TrialState::Running, {{0, 9.0}, {1, 9.0}, {2, 9.0}});
  EXPECT_FALSE(median.should_prune(early, five_and(early), Direction::Minimize));
  EXPECT_TRUE(median.should_prune(later, five_and(later), Direction::Minimize));
}

TEST(MedianStopping, MaximizeFlipsWhatWorseMeans) {
  MedianStopping median;
  const Trial high = trial(5, TrialState::Running, {{0, 4.5}, {1, 5.0}});
  const Trial low = trial(5, TrialState::Running, {{0, 1.5}, {1, 1.0}});
  EXPECT_FALSE(median.should_prune(high, five_and(high), Direction::Maximize));
  EXPECT_TRUE(median.should_prune(low, five_and(low), Direction::Maximize));
  EXPECT_TRUE(median.should_prune(high, five_and(high), Direction::Minimize));
  EXPECT_FALSE(median.should_prune(low, five_and(low), Direction::Minimize));
}

TEST(MedianStopping, NaNValuesAreIgnoredAndAllNaNIsStopped) {
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  MedianStopping median;
  const Trial all_nan = trial(5, TrialState::Running, {{0, kNaN}, {1, kNaN}});
  const Trial some_nan = trial(5, TrialState::Running, {{0, 2.0}, {1, kNaN}});
  EXPECT_TRUE(median.should_prune(all_nan, five_and(all_nan), Direction::Minimize));
  EXPECT_FALSE(median.should_prune(some_nan, five_and(some_nan), Direction::Minimize));
}

TEST(MedianStopping, NegativeOptionsAreRefused) {
  EXPECT_THROW(MedianStopping({.min_trials = -1}), InvalidArgument);
  try {
    MedianStopping({.warmup_steps = -3});
    FAIL() << "no error";
  } catch (const InvalidArgument& e) {
    EXPECT_STREQ(e.what(), "MedianStopping: warmup_steps >= 0 must hold, got warmup_steps=-3");
  }
}

}  // namespace
}  // namespace quarry::pruners
