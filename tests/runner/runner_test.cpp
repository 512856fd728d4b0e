#include "quarry/runner/runner.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>
#include <set>

#include "quarry/core/error.hpp"
#include "quarry/storage/memory.hpp"

namespace quarry::runner {
namespace {

using space::Param;

Study make_study(const std::string& name) {
  Study study(std::make_shared<storage::MemoryStorage>(), name);
  Space s;
  s.add(Param::Float("x", -5, 5));
  study.register_space(s);
  return study;
}

double x_of(const TrialContext& c) {
  return std::get<double>(c.params().at("x"));
}

TEST(Runner, ParallelWorkersRunExactlyMaxTrials) {
  Study study = make_study("parallel");
  objectives::FunctionObjective square(
      "square", [](TrialContext& c) { return std::vector<double>{x_of(c) * x_of(c)}; });
  std::atomic<int> events{0};
  const auto summary = run(
      study, square, {.workers = 4, .max_trials = 50, .on_event = [&](const Event&) { ++events; }});
  EXPECT_EQ(summary.complete, 50);
  EXPECT_FALSE(summary.stopped);
  const auto trials = study.trials();
  ASSERT_EQ(trials.size(), 50u);
  std::set<std::string> workers;
  for (const auto& t : trials) {
    EXPECT_EQ(t.state, TrialState::Complete);
    workers.insert(t.worker);
  }
  EXPECT_EQ(events.load(), 100);  // started + finished per trial
  // A second run of the same study continues to the new total, not 50 more.
  EXPECT_EQ(run(study, square, {.workers = 2, .max_trials = 60}).complete, 10);
}

TEST(Runner, FailuresAndExceptionsAreRecordedAndTheSearchGoesOn) {
  Study study = make_study("failures");
  objectives::FunctionObjective flaky("flaky", [](TrialContext& c) -> std::vector<double> {
    if (c.number() % 3 == 1) throw TrialFailed("diverged at epoch 3");
    if (c.number() % 3 == 2) throw std::runtime_error("bug in user code");
    return {1.0};
  });
  const auto summary = run(study, flaky, {.workers = 2, .max_trials = 9});
  EXPECT_EQ(summary.complete, 3);
  EXPECT_EQ(summary.failed, 6);
  EXPECT_EQ(study.trial(1).failure, "diverged at epoch 3");
  EXPECT_THAT(study.trial(2).failure, ::testing::HasSubstr("bug in user code"));
}

TEST(Runner, StopsAfterMaxConsecutiveFailuresWithTheLastReason) {
  // Trials 0 and 1 fail, 2 completes (the count starts again), then 3, 4, 5 fail: stop there,
  // although max_trials allows 100; what finished stays.
  Study study = make_study("broken");
  objectives::FunctionObjective broken("broken", [](TrialContext& c) -> std::vector<double> {
    if (c.number() == 2) return {1.0};
    throw TrialFailed("exited with status 1 (trial " + std::to_string(c.number()) + ")");
  });
  try {
    run(study, broken, {.workers = 1, .max_trials = 100, .max_consecutive_failures = 3});
    FAIL() << "expected ConsecutiveFailures";
  } catch (const ConsecutiveFailures& e) {
    EXPECT_STREQ(e.what(),
                 "3 trials failed in a row (max_consecutive_failures: 3); the last, trial 5: "
                 "exited with status 1 (trial 5)");
  }
  const auto trials = study.trials();
  ASSERT_EQ(trials.size(), 6u);
  EXPECT_EQ(trials[2].state, TrialState::Complete);
  // Without the option, failures never stop a search.
  Study again = make_study("broken-unlimited");
  EXPECT_EQ(run(again, broken, {.workers = 2, .max_trials = 20}).failed, 19);
}

TEST(Runner, InfiniteValuesFailTheTrialLikeNan) {
  Study study = make_study("infinite");
  objectives::FunctionObjective infinite("infinite", [](TrialContext& c) -> std::vector<double> {
    return {c.number() == 0 ? -std::numeric_limits<double>::infinity() : 1.0};
  });
  const auto summary = run(study, infinite, {.workers = 1, .max_trials = 2});
  EXPECT_EQ(summary.failed, 1);
  EXPECT_EQ(study.trial(0).failure, "objective 0 is -inf");
  ASSERT_TRUE(study.best_trial());
  EXPECT_EQ(study.best_trial()->number, 1);
}

TEST(Runner, PrunedTrialsStopWhenTheSchedulerSaysSo) {
  Study study = make_study("pruned");
  objectives::FunctionObjective reporting("reporting", [](TrialContext& c) -> std::vector<double> {
    for (int step = 1; step <= 5; ++step)
      if (c.report(step, 1.0)) throw TrialPruned();
    return {1.0};
  });
  const auto summary = run(study, reporting, {.workers = 1, .max_trials = 3});
  EXPECT_EQ(summary.complete, 3);
  EXPECT_EQ(study.trial(0).intermediate.size(), 5u);
}

TEST(Runner, StopRequeuesRunningTrials) {
  Study study = make_study("stop");
  std::atomic<bool> stop{false};
  objectives::FunctionObjective slow("slow", [&](TrialContext& c) -> std::vector<double> {
    if (c.number() == 2) stop = true;  // as if Ctrl-C arrived during trial 2
    if (c.stop_requested()) throw TrialInterrupted();
    return {1.0};
  });
  const auto summary = run(study, slow, {.workers = 1, .max_trials = 10, .stop = &stop});
  EXPECT_TRUE(summary.stopped);
  EXPECT_EQ(summary.complete, 2);
  EXPECT_EQ(summary.interrupted, 1);
  EXPECT_EQ(study.trial(2).state, TrialState::Waiting);
  stop = false;
  objectives::FunctionObjective quick("quick",
                                      [](TrialContext&) { return std::vector<double>{0.0}; });
  EXPECT_EQ(run(study, quick, {.workers = 1, .max_trials = 10}).complete, 8);
  EXPECT_EQ(study.trial(2).state, TrialState::Complete);
  EXPECT_EQ(study.trial(2).attempts, 2);
}

TEST(Runner, RejectsZeroWorkers) {
  Study study = make_study("zero");
  objectives::FunctionObjective f("f", [](TrialContext&) { return std::vector<double>{0.0}; });
  EXPECT_THROW(run(study, f, {.workers = 0}), InvalidArgument);
}

}  // namespace
}  // namespace quarry::runner

namespace quarry::runner {
namespace {

TEST(Runner, FatalObjectiveErrorRecordsTheTrialAndStopsTheSearch) {
  Study study = make_study("fatal");
  objectives::FunctionObjective missing("missing", [](TrialContext&) -> std::vector<double> {
    throw FatalTrialError("command 'no-such-program' not found");
  });
  EXPECT_THROW(run(study, missing, {.workers = 2, .max_trials = 20}), FatalTrialError);
  const auto trials = study.trials();
  ASSERT_FALSE(trials.empty());
  EXPECT_LE(trials.size(), 2u);  // each worker stops at its first fatal error
  for (const auto& t : trials) {
    EXPECT_EQ(t.state, TrialState::Failed);
    EXPECT_EQ(t.failure, "command 'no-such-program' not found");
  }
}

}  // namespace
}  // namespace quarry::runner
