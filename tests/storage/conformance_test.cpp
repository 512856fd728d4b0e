// The Storage contract (quarry/storage/storage.hpp), checked against every store.
// Adding a store: one line in kStores below. The PostgreSQL store runs against a real server
// (tests/storage/test_postgres.hpp).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/storage/test_postgres.hpp"
#include "tests/test_util.hpp"

#include <cmath>
#include <filesystem>
#include <functional>
#include <limits>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "quarry/core/error.hpp"
#include "quarry/storage/memory.hpp"
#include "quarry/storage/postgres.hpp"
#include "quarry/storage/sqlite.hpp"
#include "quarry/storage/storage.hpp"

namespace quarry::storage {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

using quarry::testing::TempDir;

struct StoreCase {
  std::string name;
  /// Opens the store of the test whose folder is `dir`: every call after the first opens another
  /// handle (its own connection) on the same store, as another process would.
  std::function<std::shared_ptr<Storage>(const fs::path& dir)> make;
  /// Whether make() opens new handles (false: the one object is shared, as for MemoryStorage).
  bool handles = true;
};

/// gtest (and ctest's test names) show a case by its name.
void PrintTo(const StoreCase& store, std::ostream* out) {
  *out << store.name;
}

const StoreCase kStores[] = {
    {"Memory", [](const fs::path&) { return std::make_shared<MemoryStorage>(); }, false},
    {"Sqlite",
     [](const fs::path& dir) { return std::make_shared<SqliteStorage>((dir / "s.db").string()); }},
    {"Postgres",
     [](const fs::path& dir) {
       return std::make_shared<PostgresStorage>(quarry::testing::postgres_database(dir.string()));
     }},
};

using quarry::testing::error_of;

/// Doubles equal bit for bit in meaning: NaN matches NaN, -0 does not match +0.
bool same_double(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  return a == b && std::signbit(a) == std::signbit(b);
}

/// Same alternative and same value (a double stays a double, a string "inf" stays a string).
bool same_exact(const Value& a, const Value& b) {
  if (a.index() != b.index()) return false;
  if (const auto* d = std::get_if<double>(&a)) return same_double(*d, std::get<double>(b));
  return a == b;
}

NewTrial running(Params params = {}, std::string worker = "w0") {
  return {.state = TrialState::Running, .params = std::move(params), .worker = std::move(worker)};
}
NewTrial waiting(Params params = {}) {
  return {.state = TrialState::Waiting, .params = std::move(params)};
}

class StorageConformance : public ::testing::TestWithParam<StoreCase> {
 protected:
  void SetUp() override { store_ = GetParam().make(dir_.path()); }
  /// Another handle on the store (its own connection), as a concurrent worker has.
  std::shared_ptr<Storage> handle() {
    return GetParam().handles ? GetParam().make(dir_.path()) : store_;
  }
  std::int64_t new_study(const std::string& name = "s",
                         std::vector<Direction> directions = {Direction::Minimize}) {
    return store_->create_study(name, directions).id;
  }
  std::int64_t new_running(std::int64_t study, const std::string& worker = "w0") {
    return store_->create_trial(study, running({}, worker)).value().number;
  }

  TempDir dir_;
  std::shared_ptr<Storage> store_;
};

// --- studies ---------------------------------------------------------------------------------

TEST_P(StorageConformance, CreatesFindsAndListsStudies) {
  const auto a = store_->create_study("a", {Direction::Minimize});
  const auto b = store_->create_study("b", {Direction::Maximize, Direction::Minimize});
  EXPECT_NE(a.id, b.id);
  EXPECT_GT(a.created_at, 0);
  const auto found = store_->find_study("b");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->id, b.id);
  EXPECT_EQ(found->name, "b");
  EXPECT_EQ(found->directions, (std::vector{Direction::Maximize, Direction::Minimize}));
  EXPECT_DOUBLE_EQ(found->created_at, b.created_at);
  EXPECT_FALSE(store_->find_study("c"));
  const auto all = store_->list_studies();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].name, "a");
  EXPECT_EQ(all[1].name, "b");
}

TEST_P(StorageConformance, RejectsADuplicateOrMalformedStudy) {
  new_study("a");
  EXPECT_THROW(store_->create_study("a", {Direction::Maximize}), DuplicateStudy);
  EXPECT_THAT(error_of<StorageError>([&] { store_->create_study("a", {Direction::Minimize}); }),
              HasSubstr("study 'a' already exists"));
  EXPECT_THROW(store_->create_study("", {Direction::Minimize}), InvalidArgument);
  EXPECT_THROW(store_->create_study("x", {}), InvalidArgument);
  EXPECT_EQ(store_->list_studies().size(), 1u);
}

TEST_P(StorageConformance, OpenOrCreateFindsOrCreatesAndChecksDirections) {
  const auto created = store_->open_or_create_study("a", {Direction::Minimize});
  const auto opened = store_->open_or_create_study("a", {Direction::Minimize});
  EXPECT_EQ(created.id, opened.id);
  EXPECT_EQ(error_of<InvalidArgument>([&] {
              store_->open_or_create_study("a", {Direction::Maximize, Direction::Minimize});
            }),
            "study 'a' exists with directions [minimize], not [maximize, minimize]");
  EXPECT_EQ(store_->list_studies().size(), 1u);
}

TEST_P(StorageConformance, OpenOrCreateRacingThreadsGetOneStudy) {
  std::vector<std::int64_t> ids(8);
  std::vector<std::thread> threads;
  for (auto& id : ids)
    threads.emplace_back([&, store = handle()] {
      id = store->open_or_create_study("race", {Direction::Minimize}).id;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(std::set(ids.begin(), ids.end()).size(), 1u);
  EXPECT_EQ(store_->list_studies().size(), 1u);
}

TEST_P(StorageConformance, StudyAttrsSetGetAndCompareAndSet) {
  const auto s = new_study("a");
  const auto other = new_study("b");
  EXPECT_FALSE(store_->get_attr(s, "k"));
  store_->set_attr(s, "k", "1");
  EXPECT_EQ(store_->get_attr(s, "k"), "1");
  EXPECT_FALSE(store_->get_attr(other, "k"));  // attrs belong to one study
  store_->set_attr(s, "k", "2");
  EXPECT_EQ(store_->get_attr(s, "k"), "2");

  EXPECT_FALSE(
      store_->compare_and_set_attr(s, "k", std::nullopt, "x"));  // present, expected absent
  EXPECT_FALSE(store_->compare_and_set_attr(s, "k", "1", "x"));  // stale expectation
  EXPECT_EQ(store_->get_attr(s, "k"), "2");
  EXPECT_TRUE(store_->compare_and_set_attr(s, "k", "2", "3"));
  EXPECT_EQ(store_->get_attr(s, "k"), "3");

  EXPECT_FALSE(store_->compare_and_set_attr(s, "new", "", "x"));  // absent is not ""
  EXPECT_FALSE(store_->get_attr(s, "new"));
  EXPECT_TRUE(store_->compare_and_set_attr(s, "new", std::nullopt, "first"));
  EXPECT_EQ(store_->get_attr(s, "new"), "first");
}

TEST_P(StorageConformance, CompareAndSetIsAtomicUnderContention) {
  const auto s = new_study();
  constexpr int kThreads = 8, kIncrements = 25;
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i)
    threads.emplace_back([&, store = handle()] {
      for (int done = 0; done < kIncrements;) {
        const auto current = store->get_attr(s, "counter");
        const int next = current ? std::stoi(*current) + 1 : 1;
        if (store->compare_and_set_attr(s, "counter", current, std::to_string(next))) ++done;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(store_->get_attr(s, "counter"), std::to_string(kThreads * kIncrements));
}

TEST_P(StorageConformance, UnknownStudiesAndTrialsThrowInvalidArgument) {
  const auto s = new_study();
  new_running(s);
  const std::int64_t missing = s + 1000;
  EXPECT_THROW(store_->get_trial(s, 1), InvalidArgument);
  EXPECT_THROW(store_->get_trial(s, -1), InvalidArgument);
  EXPECT_THAT(error_of<InvalidArgument>([&] { store_->get_trial(s, 7); }),
              HasSubstr("unknown trial 7 of study " + std::to_string(s)));
  EXPECT_THAT(error_of<InvalidArgument>([&] { store_->get_trials(missing); }),
              HasSubstr("unknown study id " + std::to_string(missing)));
  EXPECT_THROW(store_->get_trial(missing, 0), InvalidArgument);
  EXPECT_THROW(store_->count_trials(missing), InvalidArgument);
  EXPECT_THROW(store_->create_trial(missing, running()), InvalidArgument);
  EXPECT_THROW(store_->claim_trial(missing, "w"), InvalidArgument);
  EXPECT_THROW(store_->get_attr(missing, "k"), InvalidArgument);
  EXPECT_THROW(store_->set_attr(missing, "k", "v"), InvalidArgument);
  EXPECT_THROW(store_->compare_and_set_attr(missing, "k", std::nullopt, "v"), InvalidArgument);
  EXPECT_THROW(store_->set_params(s, 5, {}), InvalidArgument);
  EXPECT_THROW(store_->report(s, 5, 0, 1.0), InvalidArgument);
  EXPECT_THROW(store_->heartbeat(s, 5, "w0"), InvalidArgument);
  EXPECT_THROW(store_->finish_trial(s, 5, TrialState::Complete, {1.0}), InvalidArgument);
  EXPECT_THROW(store_->requeue_trial(s, 5, 1, "r"), InvalidArgument);
  EXPECT_THROW(store_->set_trial_attr(s, 5, "k", "v"), InvalidArgument);
}

// --- numbering and claims --------------------------------------------------------------------

TEST_P(StorageConformance, NumbersTrialsFromZeroPerStudyAndKeepsTheLimit) {
  const auto s = new_study("a");
  const auto other = new_study("b");
  for (std::int64_t i = 0; i < 3; ++i) EXPECT_EQ(store_->create_trial(s, running())->number, i);
  EXPECT_EQ(store_->create_trial(other, running())->number, 0);
  EXPECT_EQ(store_->count_trials(s), 3);
  EXPECT_EQ(store_->create_trial(s, waiting(), 5)->number, 3);
  EXPECT_EQ(store_->create_trial(s, running(), 5)->number, 4);
  EXPECT_FALSE(store_->create_trial(s, running(), 5));
  EXPECT_FALSE(store_->create_trial(s, running(), 2));
  EXPECT_FALSE(store_->create_trial(other, running(), 0));
  EXPECT_EQ(store_->count_trials(s), 5);
  EXPECT_EQ(store_->count_trials(other), 1);
  EXPECT_THROW(store_->create_trial(s, {.state = TrialState::Complete}), InvalidArgument);
  EXPECT_EQ(store_->count_trials(s), 5);
}

TEST_P(StorageConformance, NewTrialsRecordWhoRunsThem) {
  const auto s = new_study();
  const auto r = store_->create_trial(s, {.state = TrialState::Running,
                                          .params = {{"x", 1.5}},
                                          .budget = 9,
                                          .parent = 4,
                                          .worker = "host:1:0"});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->state, TrialState::Running);
  EXPECT_EQ(r->attempts, 1);
  EXPECT_EQ(r->worker, "host:1:0");
  ASSERT_TRUE(r->started_at && r->heartbeat);
  EXPECT_GE(*r->started_at, r->created_at);
  const auto w = store_->create_trial(s, waiting({{"x", 2.5}}));
  EXPECT_EQ(w->state, TrialState::Waiting);
  EXPECT_EQ(w->attempts, 0);
  EXPECT_FALSE(w->started_at);
  EXPECT_FALSE(w->heartbeat);
  const auto stored = store_->get_trial(s, 0);
  EXPECT_EQ(stored.state, TrialState::Running);
  EXPECT_EQ(stored.worker, "host:1:0");
  EXPECT_EQ(stored.budget, 9);
  EXPECT_EQ(stored.parent, 4);
  EXPECT_EQ(stored.attempts, 1);
  EXPECT_EQ(stored.params, (Params{{"x", 1.5}}));
  EXPECT_FALSE(stored.finished_at);
}

TEST_P(StorageConformance, ClaimTakesTheLowestWaitingTrial) {
  const auto s = new_study();
  store_->create_trial(s, waiting({{"i", std::int64_t{0}}}));
  new_running(s);
  store_->create_trial(s, waiting({{"i", std::int64_t{2}}}));
  store_->create_trial(s, waiting({{"i", std::int64_t{3}}}));

  const auto first = store_->claim_trial(s, "host:7:1");
  ASSERT_TRUE(first);
  EXPECT_EQ(first->number, 0);
  EXPECT_EQ(first->state, TrialState::Running);
  EXPECT_EQ(first->attempts, 1);
  EXPECT_EQ(first->worker, "host:7:1");
  EXPECT_EQ(first->params, (Params{{"i", std::int64_t{0}}}));
  ASSERT_TRUE(first->started_at && first->heartbeat);
  EXPECT_EQ(store_->get_trial(s, 0).state, TrialState::Running);
  EXPECT_EQ(store_->get_trial(s, 0).worker, "host:7:1");

  EXPECT_EQ(store_->claim_trial(s, "b")->number, 2);
  EXPECT_EQ(store_->claim_trial(s, "c")->number, 3);
  EXPECT_FALSE(store_->claim_trial(s, "d"));
}

/// 16 workers, each with its own handle, creating, claiming and finishing: no number twice, no
/// trial lost, no double claim.
TEST_P(StorageConformance, ConcurrentWorkersNeverShareANumberOrAClaim) {
  const auto s = new_study();
  constexpr int kThreads = 16, kCycles = 12;
  std::vector<std::vector<std::int64_t>> mine(kThreads);  // numbers each thread ran
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i)
    threads.emplace_back([&, i, store = handle()] {
      const std::string worker = "w" + std::to_string(i);
      for (int c = 0; c < kCycles; ++c) {
        store->create_trial(s, waiting());
        const auto t = store->create_trial(s, running({}, worker)).value();
        store->report(s, t.number, 0, c);
        store->finish_trial(s, t.number, TrialState::Complete, {double(c)});
        mine[i].push_back(t.number);
      }
      while (const auto t = store->claim_trial(s, worker)) {
        store->finish_trial(s, t->number, TrialState::Pruned, {});
        mine[i].push_back(t->number);
      }
    });
  for (auto& t : threads) t.join();

  const auto trials = store_->get_trials(s);
  ASSERT_EQ(trials.size(), std::size_t{2 * kThreads * kCycles});
  std::multiset<std::int64_t> ran;
  for (int i = 0; i < kThreads; ++i) {
    ran.insert(mine[i].begin(), mine[i].end());
    for (auto n : mine[i]) EXPECT_EQ(trials[n].worker, "w" + std::to_string(i));
  }
  for (std::size_t n = 0; n < trials.size(); ++n) {
    EXPECT_EQ(trials[n].number, static_cast<std::int64_t>(n));
    EXPECT_TRUE(trials[n].finished()) << "trial " << n;
    EXPECT_EQ(trials[n].attempts, 1) << "trial " << n;
    EXPECT_EQ(ran.count(static_cast<std::int64_t>(n)), 1u) << "trial " << n;
  }
}

TEST_P(StorageConformance, ConcurrentCreatesNeverPassTheLimit) {
  const auto s = new_study();
  constexpr std::int64_t kLimit = 60;
  std::vector<int> created(16, 0);
  std::vector<std::thread> threads;
  for (auto& n : created)
    threads.emplace_back([&, store = handle()] {
      while (store->create_trial(s, running(), kLimit)) ++n;
    });
  for (auto& t : threads) t.join();
  int total = 0;
  for (int n : created) total += n;
  EXPECT_EQ(total, kLimit);
  EXPECT_EQ(store_->count_trials(s), kLimit);
}

// --- writes to trials ------------------------------------------------------------------------

TEST_P(StorageConformance, FinishedTrialsAreImmutable) {
  const auto s = new_study();
  for (auto state : {TrialState::Complete, TrialState::Pruned, TrialState::Failed}) {
    const auto n = new_running(s);
    store_->report(s, n, 1, 0.5);
    store_->set_trial_attr(s, n, "k", "1");
    store_->finish_trial(s, n, state,
                         state == TrialState::Complete ? std::vector{2.0} : std::vector<double>{},
                         state == TrialState::Failed ? "boom" : "");
    const auto before = store_->get_trial(s, n);
    EXPECT_THROW(store_->report(s, n, 2, 1.0), StorageError);
    EXPECT_THROW(store_->report(s, n, 1, 1.0), StorageError);
    EXPECT_THROW(store_->set_params(s, n, {{"x", 1.0}}), StorageError);
    EXPECT_THROW(store_->finish_trial(s, n, TrialState::Complete, {3.0}), StorageError);
    EXPECT_THROW(store_->requeue_trial(s, n, 1, "again"), StorageError);
    EXPECT_THROW(store_->set_trial_attr(s, n, "k", "2"), StorageError);
    EXPECT_THAT(
        error_of<StorageError>([&] { store_->report(s, n, 2, 1.0); }),
        HasSubstr("report(trial " + std::to_string(n) + " of study " + std::to_string(s) +
                  "): the trial is " + study::to_string(state) + "; finished trials never change"));
    EXPECT_FALSE(store_->heartbeat(s, n, "w0"));
    EXPECT_FALSE(store_->claim_trial(s, "w0"));

    const auto after = store_->get_trial(s, n);
    EXPECT_EQ(after.state, state);
    EXPECT_EQ(after.values, before.values);
    EXPECT_EQ(after.intermediate, before.intermediate);
    EXPECT_EQ(after.params, before.params);
    EXPECT_EQ(after.attrs, before.attrs);
    EXPECT_EQ(after.failure, before.failure);
    EXPECT_EQ(after.finished_at, before.finished_at);
  }
  EXPECT_EQ(store_->count_trials(s), 3);
}

TEST_P(StorageConformance, FinishRecordsTheOutcome) {
  const auto s = new_study("two", {Direction::Minimize, Direction::Maximize});
  const auto done = new_running(s);
  store_->finish_trial(s, done, TrialState::Complete, {0.25, 7});
  const auto t = store_->get_trial(s, done);
  EXPECT_EQ(t.state, TrialState::Complete);
  EXPECT_EQ(t.values, (std::vector{0.25, 7.0}));
  ASSERT_TRUE(t.finished_at);
  EXPECT_GE(*t.finished_at, *t.started_at);

  const auto failed = new_running(s);
  store_->finish_trial(s, failed, TrialState::Failed, {}, "exit code 3: out of memory");
  EXPECT_EQ(store_->get_trial(s, failed).failure, "exit code 3: out of memory");
  const auto pruned = new_running(s);
  store_->finish_trial(s, pruned, TrialState::Pruned, {0.5, 1});
  EXPECT_EQ(store_->get_trial(s, pruned).values, (std::vector{0.5, 1.0}));
}

TEST_P(StorageConformance, FinishChecksTheStateAndTheValues) {
  const auto s = new_study("two", {Direction::Minimize, Direction::Maximize});
  const auto n = new_running(s);
  EXPECT_EQ(
      error_of<InvalidArgument>([&] { store_->finish_trial(s, n, TrialState::Complete, {1.0}); }),
      "finish_trial(trial 0 of study " + std::to_string(s) +
          "): complete needs 2 value(s), one per objective, got 1");
  EXPECT_THROW(store_->finish_trial(s, n, TrialState::Complete, {}), InvalidArgument);
  EXPECT_THROW(store_->finish_trial(s, n, TrialState::Pruned, {1.0}), InvalidArgument);
  EXPECT_THROW(store_->finish_trial(s, n, TrialState::Running, {1.0, 2.0}), InvalidArgument);
  EXPECT_THROW(store_->finish_trial(s, n, TrialState::Waiting, {}), InvalidArgument);
  EXPECT_EQ(store_->get_trial(s, n).state, TrialState::Running);

  const auto queued = store_->create_trial(s, waiting())->number;  // not running: misuse
  EXPECT_THAT(error_of<StorageError>([&] {
                store_->finish_trial(s, queued, TrialState::Complete, {1.0, 2.0});
              }),
              HasSubstr("the trial is waiting; it is not running"));
  EXPECT_THROW(store_->report(s, queued, 0, 1.0), StorageError);
}

TEST_P(StorageConformance, FinishCountsTheObjectivesOfTheTrialsOwnStudy) {
  const auto one = new_study("one", {Direction::Minimize});
  const auto two = new_study("two", {Direction::Minimize, Direction::Maximize});
  for (int round = 0; round < 2; ++round) {  // the second round asks again, after the first
    const auto a = new_running(one);
    const auto b = new_running(two);
    EXPECT_THROW(store_->finish_trial(one, a, TrialState::Complete, {1.0, 2.0}), InvalidArgument);
    EXPECT_THROW(store_->finish_trial(two, b, TrialState::Complete, {1.0}), InvalidArgument);
    store_->finish_trial(one, a, TrialState::Complete, {1.0});
    store_->finish_trial(two, b, TrialState::Complete, {1.0, 2.0});
    EXPECT_EQ(store_->get_trial(one, a).values, std::vector{1.0});
    EXPECT_EQ(store_->get_trial(two, b).values, (std::vector{1.0, 2.0}));
  }
}

TEST_P(StorageConformance, SetParamsMergesIntoWaitingAndRunningTrials) {
  const auto s = new_study();
  const auto n = store_->create_trial(s, running({{"a", std::int64_t{1}}}))->number;
  store_->set_params(s, n, {{"b", std::string("x")}});
  store_->set_params(s, n, {{"a", 2.5}});
  EXPECT_EQ(store_->get_trial(s, n).params, (Params{{"a", 2.5}, {"b", std::string("x")}}));
  const auto w = store_->create_trial(s, waiting())->number;
  store_->set_params(s, w, {{"c", true}});
  EXPECT_EQ(store_->get_trial(s, w).params, (Params{{"c", true}}));
}

TEST_P(StorageConformance, ReportOverwritesTheSameStep) {
  const auto s = new_study();
  const auto n = new_running(s);
  store_->report(s, n, 3, 0.5);
  store_->report(s, n, 1, 0.75);
  store_->report(s, n, 3, 0.25);
  const auto t = store_->get_trial(s, n);
  EXPECT_EQ(t.intermediate, (std::map<std::int64_t, double>{{1, 0.75}, {3, 0.25}}));
  EXPECT_EQ(t.last_intermediate(), 0.25);
}

TEST_P(StorageConformance, RequeueOnlyAtTheMatchingAttemptAndClearsIntermediateValues) {
  const auto s = new_study();
  const auto n = store_->create_trial(s, running({{"lr", 0.1}}, "a"))->number;
  store_->report(s, n, 0, 0.9);
  store_->set_trial_attr(s, n, "size", "10");
  EXPECT_FALSE(store_->requeue_trial(s, n, 2, "stale"));  // not in its 2nd claim
  EXPECT_EQ(store_->get_trial(s, n).state, TrialState::Running);
  EXPECT_EQ(store_->get_trial(s, n).intermediate.size(), 1u);

  EXPECT_TRUE(store_->requeue_trial(s, n, 1, "interrupted"));
  auto t = store_->get_trial(s, n);
  EXPECT_EQ(t.state, TrialState::Waiting);
  EXPECT_TRUE(t.intermediate.empty());
  EXPECT_EQ(t.params, (Params{{"lr", 0.1}}));
  EXPECT_EQ(t.attrs.at("size"), "10");
  EXPECT_EQ(t.failure, "interrupted");
  EXPECT_EQ(t.attempts, 1);
  EXPECT_FALSE(store_->requeue_trial(s, n, 1, "twice"));  // waiting already
  EXPECT_FALSE(store_->heartbeat(s, n, "a"));

  const auto again = store_->claim_trial(s, "b");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->number, n);
  EXPECT_EQ(again->attempts, 2);
  EXPECT_TRUE(again->intermediate.empty());
  EXPECT_FALSE(store_->requeue_trial(s, n, 1, "old claim"));
  EXPECT_FALSE(store_->heartbeat(s, n, "a"));  // the first worker lost it
  EXPECT_TRUE(store_->heartbeat(s, n, "b"));
  EXPECT_TRUE(store_->requeue_trial(s, n, 2, "worker b died"));
  EXPECT_EQ(store_->get_trial(s, n).failure, "worker b died");

  // Every requeue stays on record, also once the trial has finished.
  ASSERT_TRUE(store_->claim_trial(s, "c"));
  store_->finish_trial(s, n, TrialState::Complete, {0.5});
  const auto done = store_->get_trial(s, n);
  EXPECT_EQ(done.failure, "");
  EXPECT_EQ(done.attrs.at("requeue.1"), "\"interrupted\"");
  EXPECT_EQ(done.attrs.at("requeue.2"), "\"worker b died\"");
  EXPECT_EQ(done.attrs.size(), 3u);  // and "size"
}

TEST_P(StorageConformance, HeartbeatOnlyForTheWorkerRunningTheTrial) {
  const auto s = new_study();
  const auto n = new_running(s, "a");
  const double first = *store_->get_trial(s, n).heartbeat;
  EXPECT_TRUE(store_->heartbeat(s, n, "a"));
  EXPECT_GE(*store_->get_trial(s, n).heartbeat, first);
  EXPECT_FALSE(store_->heartbeat(s, n, "b"));
  EXPECT_FALSE(store_->heartbeat(s, store_->create_trial(s, waiting())->number, "a"));
  store_->finish_trial(s, n, TrialState::Complete, {1.0});
  EXPECT_FALSE(store_->heartbeat(s, n, "a"));
}

TEST_P(StorageConformance, TrialAttrsOnUnfinishedTrials) {
  const auto s = new_study();
  const auto n = store_->create_trial(s, waiting())->number;
  store_->set_trial_attr(s, n, "params_count", "1024");
  store_->set_trial_attr(s, n, "params_count", "2048");
  store_->set_trial_attr(s, n, "note", "\"text\"");
  EXPECT_EQ(store_->get_trial(s, n).attrs,
            (std::map<std::string, std::string>{{"note", "\"text\""}, {"params_count", "2048"}}));
}

// --- round trips -----------------------------------------------------------------------------

TEST_P(StorageConformance, RoundTripsEveryValueTypeAndNonFiniteNumbers) {
  const auto s =
      new_study("three", {Direction::Minimize, Direction::Maximize, Direction::Minimize});
  const Params params = {
      {"flag", true},
      {"off", false},
      {"units", std::int64_t{-42}},
      {"big", std::numeric_limits<std::int64_t>::max()},
      {"small", std::numeric_limits<std::int64_t>::min()},
      {"lr", 0.1},
      {"whole", 3.0},
      {"tiny", std::numeric_limits<double>::denorm_min()},
      {"neg_zero", -0.0},
      {"pinf", kInf},
      {"ninf", -kInf},
      {"nan", kNaN},
      {"opt", std::string("adam")},
      {"empty", std::string()},
      {"inf_text", std::string("inf")},
      {"unicode", std::string("caf\xc3\xa9 \"q\" \\")},
  };
  const std::vector<double> values = {kInf, -kInf, kNaN};
  const std::map<std::int64_t, double> steps = {
      {0, 0.5}, {1, kInf}, {2, -kInf}, {3, kNaN}, {1 << 30, 1e-300}};
  const std::map<std::string, std::string> attrs = {
      {"json", R"({"a":[1,2.5,null]})"}, {"empty", ""}, {"quote", "\"it's\""}};

  const auto created = store_->create_trial(
      s,
      {.state = TrialState::Running, .params = params, .budget = 0.25, .parent = 7, .worker = "w"});
  const auto n = created->number;
  for (const auto& [step, v] : steps) store_->report(s, n, step, v);
  for (const auto& [k, v] : attrs) store_->set_trial_attr(s, n, k, v);
  store_->finish_trial(s, n, TrialState::Complete, values);

  for (const Trial& t : {store_->get_trial(s, n), store_->get_trials(s).at(0)}) {
    ASSERT_EQ(t.params.size(), params.size());
    for (const auto& [name, value] : params)
      EXPECT_TRUE(same_exact(t.params.at(name), value))
          << name << " = " << space::to_string(t.params.at(name));
    ASSERT_EQ(t.values.size(), values.size());
    for (std::size_t i = 0; i < values.size(); ++i)
      EXPECT_TRUE(same_double(t.values[i], values[i]));
    ASSERT_EQ(t.intermediate.size(), steps.size());
    for (const auto& [step, v] : steps)
      EXPECT_TRUE(same_double(t.intermediate.at(step), v)) << step;
    EXPECT_EQ(t.attrs, attrs);
    EXPECT_EQ(t.budget, 0.25);
    EXPECT_EQ(t.parent, 7);
    EXPECT_EQ(t.worker, "w");
    EXPECT_EQ(t.created_at, created->created_at);
    EXPECT_EQ(t.started_at, created->started_at);
  }
}

TEST_P(StorageConformance, GetTrialsReturnsEveryTrialByNumber) {
  const auto s = new_study("a");
  const auto other = new_study("b");
  for (int i = 0; i < 5; ++i) {
    const auto n = new_running(s);
    store_->report(s, n, 0, i);
    store_->set_trial_attr(s, n, "i", std::to_string(i));
    new_running(other);
  }
  const auto trials = store_->get_trials(s);
  ASSERT_EQ(trials.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(trials[i].number, i);
    EXPECT_EQ(trials[i].intermediate, (std::map<std::int64_t, double>{{0, double(i)}}));
    EXPECT_EQ(trials[i].attrs.at("i"), std::to_string(i));
  }
  EXPECT_TRUE(store_->get_trials(new_study("empty")).empty());
}

INSTANTIATE_TEST_SUITE_P(Stores, StorageConformance, ::testing::ValuesIn(kStores),
                         [](const auto& store) { return store.param.name; });

}  // namespace
}  // namespace quarry::storage
