#include "quarry/study/study.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "quarry/core/error.hpp"
#include "quarry/process/worker.hpp"
#include "quarry/pruners/median.hpp"
#include "quarry/samplers/grid.hpp"
#include "quarry/samplers/random.hpp"
#include "quarry/storage/memory.hpp"

namespace quarry::study {
namespace {

using space::Param;

Space small_space() {
  Space s;
  s.add(Param::Float("x", -1, 1));
  s.add(Param::Choice("opt", {Value{"adam"}, Value{"sgd"}}));
  s.add(Param::Float("momentum", 0, 1).with_condition({"opt", {Value{"sgd"}}}));
  return s;
}

TEST(Study, AskSamplesActiveParametersAndTellCompletes) {
  Study study(std::make_shared<storage::MemoryStorage>(), "s");
  study.register_space(small_space());
  for (int i = 0; i < 20; ++i) {
    auto t = study.ask("w");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->number, i);
    EXPECT_EQ(t->params.count("momentum"),
              std::get<std::string>(t->params.at("opt")) == "sgd" ? 1u : 0u);
    study.tell(t->number, {std::get<double>(t->params.at("x"))});
  }
  const auto best = study.best_trial();
  ASSERT_TRUE(best);
  for (const auto& t : study.trials()) EXPECT_LE(best->values[0], t.values[0]);
}

TEST(Study, MaxTrialsAndGridCapacityEndTheSearch) {
  Study study(std::make_shared<storage::MemoryStorage>(), "grid",
              {.sampler = std::make_shared<samplers::GridSampler>()});
  Space s;
  s.add(Param::Int("a", 1, 3));
  s.add(Param::Boolean("b"));
  study.register_space(s);
  std::set<std::string> seen;
  while (auto t = study.ask("w")) {
    seen.insert(space::to_string(t->params.at("a")) + space::to_string(t->params.at("b")));
    study.tell(t->number, {1.0});
  }
  EXPECT_EQ(seen.size(), 6u);
  EXPECT_EQ(study.trials().size(), 6u);

  Study limited(std::make_shared<storage::MemoryStorage>(), "limited");
  limited.register_space(small_space());
  int asked = 0;
  while (auto t = limited.ask("w", 4)) {
    ++asked;
    limited.tell(t->number, {0.0});
  }
  EXPECT_EQ(asked, 4);
}

TEST(Study, EnqueuedAndRequeuedTrialsRunFirst) {
  Study study(std::make_shared<storage::MemoryStorage>(), "q");
  study.register_space(small_space());
  const Trial queued = study.enqueue({{"x", Value{0.5}}, {"opt", Value{"adam"}}});
  EXPECT_EQ(queued.state, TrialState::Waiting);
  auto t = study.ask("w");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->number, queued.number);
  EXPECT_EQ(std::get<double>(t->params.at("x")), 0.5);
  EXPECT_TRUE(study.requeue(*t, "interrupted"));
  auto again = study.ask("w2");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->number, queued.number);
  EXPECT_EQ(again->attempts, 2);
  EXPECT_THROW(study.enqueue({{"x", Value{5.0}}, {"opt", Value{"adam"}}}), InvalidArgument);
}

TEST(Study, NanValueFailsTheTrialAndWrongArityIsAnError) {
  Study study(std::make_shared<storage::MemoryStorage>(), "nan");
  study.register_space(small_space());
  auto t = study.ask("w");
  EXPECT_THROW(study.tell(t->number, {1.0, 2.0}), InvalidArgument);
  study.tell(t->number, {std::nan("")});
  const auto stored = study.trial(t->number);
  EXPECT_EQ(stored.state, TrialState::Failed);
  EXPECT_THAT(stored.failure, ::testing::HasSubstr("nan"));
}

TEST(Study, ConflictingSpaceOrDirectionsAreRejected) {
  auto store = std::make_shared<storage::MemoryStorage>();
  Study study(store, "conflict");
  study.register_space(small_space());
  Space other;
  other.add(Param::Float("x", -2, 2));
  EXPECT_THROW(study.register_space(other), InvalidArgument);
  EXPECT_THROW(Study(store, "conflict", {.directions = {Direction::Maximize}}), InvalidArgument);
  EXPECT_THROW(Study::open(store, "missing"), InvalidArgument);
}

TEST(Study, DefineByRunRegistersParametersAsTheyAreMet) {
  Study study(std::make_shared<storage::MemoryStorage>(), "dbr");
  auto t = study.ask("w");
  ASSERT_TRUE(t);
  auto hp = study.hyperparameters(*t);
  const auto units = hp.Int("units", 16, 512, {.step = 16});
  EXPECT_EQ(units % 16, 0);
  study.record(t->number, hp);
  EXPECT_EQ(study.space().size(), 1u);
  EXPECT_EQ(study.trial(t->number).params.at("units"), Value{units});
}

TEST(Study, ReportReachesTheScheduler) {
  Study study(std::make_shared<storage::MemoryStorage>(), "prune",
              {.pruner = std::make_shared<pruners::MedianStopping>(
                   pruners::MedianOptions{.min_trials = 2, .warmup_steps = 0})});
  study.register_space(small_space());
  for (int i = 0; i < 3; ++i) {
    auto t = study.ask("w");
    EXPECT_FALSE(study.report(t->number, 1, 1.0));
    study.tell(t->number, {1.0});
  }
  auto bad = study.ask("w");
  EXPECT_TRUE(study.report(bad->number, 1, 100.0));
  study.tell(bad->number, TrialState::Pruned);
  const auto stored = study.trial(bad->number);
  EXPECT_EQ(stored.state, TrialState::Pruned);
  ASSERT_EQ(stored.values.size(), 1u);
  EXPECT_EQ(stored.values[0], 100.0);
}

TEST(Study, StaleTrialsOfDeadLocalWorkersAreRequeued) {
  auto store = std::make_shared<storage::MemoryStorage>();
  Study study(store, "stale");
  study.register_space(small_space());
  // A worker id of this host with a pid that cannot exist.
  std::string dead = process::local_worker_id(0);
  dead = dead.substr(0, dead.find(':')) + ":999999999:0";
  auto t = study.ask(dead);
  auto manual = study.ask("manual");
  EXPECT_EQ(study.requeue_stale(3600), std::vector<std::int64_t>{t->number});
  EXPECT_EQ(study.trial(t->number).state, TrialState::Waiting);
  EXPECT_EQ(study.trial(manual->number).state, TrialState::Running);
  EXPECT_TRUE(study.requeue_stale(3600).empty());
}

/// A trial whose worker died max_attempts times fails with the reason stored, instead of taking
/// down worker after worker.
TEST(Study, ATrialWhoseWorkersKeepDyingFailsAfterMaxAttempts) {
  auto store = std::make_shared<storage::MemoryStorage>();
  Study study(store, "killer");
  study.register_space(small_space());
  std::string dead = process::local_worker_id(0);
  dead = dead.substr(0, dead.find(':')) + ":999999999:0";
  const auto first = study.ask(dead);
  for (int attempt = 1; attempt < 3; ++attempt) {
    EXPECT_EQ(study.requeue_stale(3600, 3), std::vector<std::int64_t>{first->number});
    const auto again = study.ask(dead);
    ASSERT_EQ(again->number, first->number);
    EXPECT_EQ(again->attempts, attempt + 1);
  }
  EXPECT_TRUE(study.requeue_stale(3600, 3).empty());  // the third death: failed, not requeued
  const auto failed = study.trial(first->number);
  EXPECT_EQ(failed.state, TrialState::Failed);
  EXPECT_EQ(failed.failure, "worker " + dead +
                                " is gone, the trial's worker death 3 of max_attempts 3: not run "
                                "again");
  // Ctrl-C puts a trial back without counting as a death.
  const auto paused = study.ask(dead);
  ASSERT_TRUE(study.requeue(*paused, "interrupted"));
  ASSERT_EQ(study.ask(dead)->number, paused->number);
  EXPECT_EQ(study.requeue_stale(3600, 2), std::vector<std::int64_t>{paused->number});
  ASSERT_EQ(study.ask(dead)->number, paused->number);  // its third run; its second death next
  EXPECT_TRUE(study.requeue_stale(3600, 2).empty());
  EXPECT_EQ(study.trial(paused->number).state, TrialState::Failed);
  // A silent worker on another host counts the same way.
  const auto silent = study.ask("elsewhere:42:0");
  EXPECT_EQ(study.requeue_stale(0.0, 1), std::vector<std::int64_t>{});
  EXPECT_EQ(study.trial(silent->number).state, TrialState::Failed);
  EXPECT_THAT(study.trial(silent->number).failure,
              ::testing::HasSubstr("stopped sending heartbeats"));
}

}  // namespace
}  // namespace quarry::study

namespace quarry::study {
namespace {

TEST(Study, ATrialLeftWithoutParametersGetsThemWhenClaimedAgain) {
  auto store = std::make_shared<storage::MemoryStorage>();
  Study study(store, "crash");
  study.register_space(small_space());
  // As if a process died after creating trial 0 and before storing its parameters.
  auto orphan = store->create_trial(study.id(), {.state = TrialState::Running, .worker = "gone"});
  ASSERT_TRUE(store->requeue_trial(study.id(), orphan->number, orphan->attempts, "worker gone"));
  auto t = study.ask("w");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->number, orphan->number);
  EXPECT_TRUE(t->params.count("x"));
  EXPECT_EQ(study.trial(t->number).params, t->params);
}

}  // namespace
}  // namespace quarry::study
