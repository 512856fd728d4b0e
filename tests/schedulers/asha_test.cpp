#include "quarry/schedulers/asha.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <vector>

#include "quarry/runner/runner.hpp"
#include "quarry/samplers/grid.hpp"
#include "quarry/schedulers/registry.hpp"
#include "quarry/storage/memory.hpp"
#include "quarry/storage/sqlite.hpp"
#include "quarry/study/study.hpp"
#include "tests/test_util.hpp"

namespace quarry::schedulers {
namespace {

using quarry::testing::error_of;
using space::Param;

// --- rungs and options -------------------------------------------------------------------------

TEST(AshaRungs, GrowByEtaFromMinBudgetAndEndAtMaxBudget) {
  EXPECT_EQ(Asha({.max_budget = 9}).rungs(), (std::vector<double>{1, 3, 9}));
  EXPECT_EQ(Asha({.max_budget = 27, .min_budget = 1, .eta = 3}).rungs(),
            (std::vector<double>{1, 3, 9, 27}));
  EXPECT_EQ(Asha({.max_budget = 16, .min_budget = 2, .eta = 2}).rungs(),
            (std::vector<double>{2, 4, 8, 16}));
  // Not a power of eta: capped, the top rung is max_budget.
  EXPECT_EQ(Asha({.max_budget = 10}).rungs(), (std::vector<double>{1, 3, 9, 10}));
  EXPECT_EQ(Asha({.max_budget = 5, .min_budget = 5}).rungs(), (std::vector<double>{5}));
  const Asha asha({.max_budget = 9});
  EXPECT_EQ(asha.rung_of(1), 0);
  EXPECT_EQ(asha.rung_of(9), 2);
  EXPECT_EQ(asha.rung_of(0), std::nullopt);
  EXPECT_EQ(asha.rung_of(2), std::nullopt);
}

TEST(AshaRungs, ImpossibleOptionsAreRefused) {
  EXPECT_EQ(error_of([] { Asha({}); }), "Asha: max_budget >= 1 must hold, got 0");
  EXPECT_EQ(error_of([] { Asha({.max_budget = 9, .eta = 1}); }), "Asha: eta >= 2 must hold, got 1");
  EXPECT_EQ(error_of([] { Asha({.max_budget = 9, .min_budget = 10}); }),
            "Asha: min_budget <= max_budget must hold, got 10");
  EXPECT_EQ(error_of([] {
              make_scheduler("asha", {{"eta", 3}});
            }),
            "scheduler 'asha': option 'max_budget' is required");
  EXPECT_THAT(error_of([] {
                make_scheduler("asha", {{"max_budget", 9}, {"eta", 1}});
              }),
              ::testing::HasSubstr("eta"));
  const auto made = make_scheduler("asha", {{"max_budget", 27}, {"min_budget", 3}});
  EXPECT_EQ(dynamic_cast<const Asha&>(*made).rungs(), (std::vector<double>{3, 9, 27}));
}

// --- promotions, by hand ----------------------------------------------------------------------

Study make_study(std::shared_ptr<storage::Storage> store, Direction direction = Direction::Minimize,
                 AshaOptions options = {.max_budget = 9},
                 std::shared_ptr<samplers::Sampler> sampler = nullptr) {
  Study study(std::move(store), "asha",
              {.directions = {direction},
               .sampler = std::move(sampler),
               .scheduler = std::make_shared<Asha>(options)});
  Space s;
  s.add(Param::Float("x", 0, 1));
  study.register_space(s);
  return study;
}

/// The next assignment, which must be Run.
Trial next(Study& study, const std::string& worker = "w") {
  auto a = study.next(worker);
  EXPECT_EQ(a.kind, Assignment::Kind::Run);
  return a.trial.value_or(Trial{});
}

void expect_new(const Trial& t, std::int64_t number) {
  EXPECT_EQ(t.number, number);
  EXPECT_FALSE(t.parent) << "trial " << t.number;
  EXPECT_EQ(t.budget, 1.0) << "trial " << t.number;
}

void expect_promotion(Study& study, const Trial& t, std::int64_t number, std::int64_t parent,
                      double budget) {
  EXPECT_EQ(t.number, number);
  EXPECT_EQ(t.parent, parent) << "trial " << t.number;
  EXPECT_EQ(t.budget, budget) << "trial " << t.number;
  EXPECT_EQ(t.params, study.trial(parent).params) << "trial " << t.number;
}

TEST(Asha, PromotesTheTopThirdOfEachRungAsSoonAsItIsKnown) {
  // eta 3, rungs 1, 3, 9, minimising; values told by hand.
  Study study = make_study(std::make_shared<storage::MemoryStorage>());
  for (std::int64_t i = 0; i < 3; ++i) expect_new(next(study), i);  // while the others run
  study.tell(0, {0.5});
  study.tell(1, {0.2});
  study.tell(2, {0.9});
  expect_promotion(study, next(study), 3, 1, 3.0);  // floor(3/3) = 1: the best, 0.2
  expect_new(next(study), 4);                       // trial 1 is already promoted
  expect_new(next(study), 5);
  study.tell(4, {0.1});
  study.tell(5, {0.8});
  expect_promotion(study, next(study), 6, 4, 3.0);  // n = 5, top 1: 0.1
  expect_new(next(study), 7);
  study.tell(7, {0.3});  // n = 6, top 2: trials 4 and 1, both promoted
  expect_new(next(study), 8);
  study.tell(8, {0.05});                            // n = 7, top 2: trials 8 and 4
  expect_promotion(study, next(study), 9, 8, 3.0);  // 8 was not promoted yet
  expect_new(next(study), 10);
  study.tell(10, {0.6});  // n = 8: top 2 unchanged
  expect_new(next(study), 11);
  study.tell(11, {0.01});  // n = 9, top 3: 11, 8, 4 -> 11 may go on
  study.tell(3, {0.15});
  study.tell(6, {0.12});
  study.tell(9, {0.3});  // rung 1 complete: 0.15, 0.12, 0.3 -> top 1: trial 6
  expect_promotion(study, next(study), 12, 6, 9.0);   // the higher rung first
  expect_promotion(study, next(study), 13, 11, 3.0);  // then rung 0
  expect_new(next(study), 14);
  study.tell(12, {0.0});  // the top rung is never promoted
  expect_new(next(study), 15);
}

TEST(Asha, MaximisingPromotesTheLargestValue) {
  Study study = make_study(std::make_shared<storage::MemoryStorage>(), Direction::Maximize);
  for (std::int64_t i = 0; i < 3; ++i) expect_new(next(study), i);
  study.tell(0, {0.5});
  study.tell(1, {0.2});
  study.tell(2, {0.9});
  expect_promotion(study, next(study), 3, 2, 3.0);
}

TEST(Asha, NeverWaitsForARungToFill) {
  // Five workers ask while nothing has finished: each gets a new configuration at once.
  Study study = make_study(std::make_shared<storage::MemoryStorage>());
  for (std::int64_t i = 0; i < 5; ++i) expect_new(next(study, "w" + std::to_string(i)), i);
  EXPECT_EQ(study.trials().size(), 5u);
}

TEST(Asha, FailedAndPrunedTrialsAreNeverPromotedNorCounted) {
  Study study = make_study(std::make_shared<storage::MemoryStorage>());
  for (std::int64_t i = 0; i < 6; ++i) expect_new(next(study), i);
  study.tell(0, TrialState::Failed, "diverged");
  study.report(1, 1, 0.0);
  study.tell(1, TrialState::Pruned);  // its value is 0.0, better than any other
  study.tell(2, {0.5});
  study.tell(3, {0.9});
  study.tell(4, {0.7});
  study.tell(5, {0.6});
  expect_promotion(study, next(study), 6, 2, 3.0);
  // n = 4 Complete trials: top 1 only (counting the other two, the top 2 would take trial 5).
  expect_new(next(study), 7);
}

TEST(Asha, TrialsOutsideTheRungsAreNotPromoted) {
  // Enqueued at budget 0 (the full budget): run first, but in no rung.
  Study study = make_study(std::make_shared<storage::MemoryStorage>());
  for (double x : {0.1, 0.2, 0.3}) study.enqueue({{"x", Value{x}}});
  for (std::int64_t i = 0; i < 3; ++i) {
    const Trial t = next(study);
    EXPECT_EQ(t.number, i);
    EXPECT_EQ(t.budget, 0.0);
    study.tell(i, {0.0});
  }
  expect_new(next(study), 3);
}

TEST(Asha, GroupByRanksEachValueOfTheParameterOnItsOwn) {
  // Three trials of model "a" (losses 0.1-0.3) and three of "b" (5-7) at rung 0: one rung would
  // promote two of "a"; grouped by "model", each group promotes its own top third.
  const auto run = [](const std::string& group_by) {
    Study study(
        std::make_shared<storage::MemoryStorage>(), "grouped",
        {.scheduler = std::make_shared<Asha>(AshaOptions{.max_budget = 9, .group_by = group_by})});
    Space s;
    s.add(Param::Choice("model", {Value{std::string("a")}, Value{std::string("b")}}));
    s.add(Param::Float("x", 0, 1));
    study.register_space(s);
    for (const char* model : {"a", "a", "a", "b", "b", "b"})
      study.enqueue({{"model", Value{std::string(model)}}, {"x", Value{0.5}}}, 1.0);
    const std::vector<double> losses = {0.1, 0.2, 0.3, 5, 6, 7};
    for (std::int64_t i = 0; i < 6; ++i) {
      EXPECT_EQ(next(study).number, i);
      study.tell(i, {losses[static_cast<std::size_t>(i)]});
    }
    std::vector<std::int64_t> parents;
    for (int i = 0; i < 2; ++i) parents.push_back(next(study).parent.value_or(-1));
    return parents;
  };
  EXPECT_EQ(run(""), (std::vector<std::int64_t>{0, 1}));
  EXPECT_EQ(run("model"), (std::vector<std::int64_t>{0, 3}));
  const auto made = make_scheduler("asha", {{"max_budget", 9}, {"group_by", "model"}});
  EXPECT_EQ(dynamic_cast<const Asha&>(*made).options().group_by, "model");
}

TEST(Asha, AnExhaustedGridEndsTheSearchOncePromotionsAreDone) {
  Study study(std::make_shared<storage::MemoryStorage>(), "grid",
              {.sampler = std::make_shared<samplers::GridSampler>(),
               .scheduler = std::make_shared<Asha>(AshaOptions{.max_budget = 9})});
  Space s;
  s.add(Param::Int("x", 0, 2));  // three configurations
  study.register_space(s);
  for (std::int64_t i = 0; i < 3; ++i) expect_new(next(study), i);
  EXPECT_EQ(study.next("w").kind, Assignment::Kind::Wait);  // the grid is used up; trials run
  for (std::int64_t i = 0; i < 3; ++i) study.tell(i, {double(i)});
  expect_promotion(study, next(study), 3, 0, 3.0);
  EXPECT_EQ(study.next("w").kind, Assignment::Kind::Wait);
  study.tell(3, {0.0});
  EXPECT_EQ(study.next("w").kind, Assignment::Kind::Done);
}

// --- whole searches ---------------------------------------------------------------------------

objectives::FunctionObjective curve() {
  return objectives::FunctionObjective("curve", [](TrialContext& c) {
    const double x = std::get<double>(c.params().at("x"));
    return std::vector<double>{(x - 0.3) * (x - 0.3) + 1.0 / c.budget()};
  });
}

/// Every promotion is valid: a Complete parent, the next rung's budget, the same parameters, and
/// no trial promoted twice. New configurations start at rung 0. Returns the promotions made.
std::size_t expect_rungs_kept(const std::vector<Trial>& trials, const Asha& asha) {
  std::set<std::int64_t> parents;
  for (std::size_t i = 0; i < trials.size(); ++i) {
    const Trial& t = trials[i];
    EXPECT_EQ(t.number, std::int64_t(i));
    const auto rung = asha.rung_of(t.budget);
    EXPECT_TRUE(rung) << "trial " << t.number << " budget " << t.budget;
    if (!t.parent) {
      EXPECT_EQ(rung, 0) << "trial " << t.number;
      continue;
    }
    EXPECT_TRUE(parents.insert(*t.parent).second) << "promoted twice: " << *t.parent;
    const Trial& parent = trials.at(std::size_t(*t.parent));
    EXPECT_EQ(parent.state, TrialState::Complete) << "trial " << t.number;
    EXPECT_EQ(parent.params, t.params);
    if (rung) {
      EXPECT_EQ(asha.rung_of(parent.budget), *rung - 1) << "trial " << t.number;
    }
  }
  return parents.size();
}

void expect_parallel_search_kept(std::shared_ptr<storage::Storage> store) {
  Study study = make_study(std::move(store));
  auto objective = curve();
  const auto summary = runner::run(study, objective, {.workers = 3, .max_trials = 40});
  EXPECT_FALSE(summary.stopped);
  EXPECT_EQ(summary.complete, 40);  // ASHA always has work: exactly max_trials
  const auto trials = study.trials();
  ASSERT_EQ(trials.size(), 40u);
  for (const auto& t : trials) EXPECT_EQ(t.attempts, 1) << "trial " << t.number;
  EXPECT_GT(expect_rungs_kept(trials, Asha({.max_budget = 9})), 5u);
}

TEST(Asha, ParallelWorkersRespectMaxTrialsInMemory) {
  expect_parallel_search_kept(std::make_shared<storage::MemoryStorage>());
}

TEST(Asha, ParallelWorkersRespectMaxTrialsInSqlite) {
  quarry::testing::TempDir dir;
  expect_parallel_search_kept(std::make_shared<storage::SqliteStorage>(dir.file("asha.db")));
}

TEST(Asha, AResumedSearchContinuesTheSameRungs) {
  quarry::testing::TempDir dir;
  const std::string db = dir.file("asha.db");
  {
    Study study = make_study(std::make_shared<storage::SqliteStorage>(db));
    for (std::int64_t i = 0; i < 3; ++i) expect_new(next(study), i);
    study.tell(0, {0.5});
    study.tell(1, {0.2});
    study.tell(2, {0.9});
    const Trial orphan = next(study, "dead-worker");  // the promotion of trial 1
    EXPECT_TRUE(study.requeue(orphan, "worker is gone"));
  }
  // A new process: new Study and Asha objects over the same store.
  Study resumed = make_study(std::make_shared<storage::SqliteStorage>(db));
  const Trial again = next(resumed);  // the interrupted promotion is run first
  expect_promotion(resumed, again, 3, 1, 3.0);
  EXPECT_EQ(again.attempts, 2);
  resumed.tell(3, {0.1});
  expect_new(next(resumed), 4);  // trial 1 stays promoted
  resumed.tell(4, {0.3});
  auto objective = curve();
  runner::run(resumed, objective, {.workers = 3, .max_trials = 30});
  const auto trials = resumed.trials();
  ASSERT_EQ(trials.size(), 30u);
  for (const auto& t : trials) EXPECT_TRUE(t.finished()) << "trial " << t.number;
  expect_rungs_kept(trials, Asha({.max_budget = 9}));
}

TEST(Asha, MaxTrialsWaitsForRunningTrialsThenEnds) {
  Study study = make_study(std::make_shared<storage::MemoryStorage>());
  for (std::int64_t i = 0; i < 2; ++i) expect_new(next(study), i);
  EXPECT_EQ(study.next("w", 2).kind, Assignment::Kind::Wait);
  study.tell(0, {1.0});
  EXPECT_EQ(study.next("w", 2).kind, Assignment::Kind::Wait);
  study.tell(1, {2.0});
  EXPECT_EQ(study.next("w", 2).kind, Assignment::Kind::Done);
}

}  // namespace
}  // namespace quarry::schedulers
