#include "quarry/schedulers/hyperband.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "quarry/runner/runner.hpp"
#include "quarry/storage/memory.hpp"
#include "quarry/storage/sqlite.hpp"
#include "quarry/study/study.hpp"
#include "tests/test_util.hpp"

namespace quarry::schedulers {
namespace {

using space::Param;
using ::testing::HasSubstr;

// --- bracket arithmetic -----------------------------------------------------------------------

// The paper (Li et al. 2018, Algorithm 1): s_max = floor(log_eta(R)), B = (s_max + 1) R; bracket s
// starts n = ceil(B / R / (s + 1) * eta^s) configurations at r = R eta^-s; round i keeps
// n_i = floor(n eta^-i) of them at r_i = r eta^i.
struct Paper {
  std::int64_t s_max, n0;
  std::vector<std::int64_t> n, r;
};
Paper paper(std::int64_t R, std::int64_t eta, std::int64_t s) {
  const auto s_max =
      static_cast<std::int64_t>(std::floor(std::log(double(R)) / std::log(double(eta)) + 1e-9));
  const auto n =
      static_cast<std::int64_t>(std::ceil(double(s_max + 1) / double(s + 1) * std::pow(eta, s)));
  Paper p{s_max, n, {}, {}};
  for (std::int64_t i = 0; i <= s; ++i) {
    p.n.push_back(static_cast<std::int64_t>(std::floor(double(n) / std::pow(eta, i))));
    p.r.push_back(static_cast<std::int64_t>(std::llround(double(R) * std::pow(eta, i - s))));
  }
  return p;
}

TEST(HyperbandSchedule, MatchesThePaperWhenMaxEpochsIsAPowerOfTheFactor) {
  for (auto [R, eta] : std::vector<std::pair<std::int64_t, std::int64_t>>{
           {9, 3}, {27, 3}, {81, 3}, {8, 2}, {16, 2}, {64, 4}, {25, 5}}) {
    const HyperbandSchedule hb({.max_epochs = R, .factor = eta});
    ASSERT_EQ(hb.num_brackets(), paper(R, eta, 0).s_max + 1) << R << "," << eta;
    for (std::int64_t s = 0; s < hb.num_brackets(); ++s) {
      const Paper p = paper(R, eta, s);
      EXPECT_EQ(hb.size(s, 0), p.n0) << "R=" << R << " eta=" << eta << " bracket " << s;
      for (std::int64_t i = 0; i <= s; ++i) {
        EXPECT_EQ(hb.epochs(s, i), p.r[std::size_t(i)]) << R << "," << eta << " s=" << s;
        // Keras Tuner rounds later rounds up where the paper rounds down: never fewer, at most
        // one more.
        EXPECT_GE(hb.size(s, i), p.n[std::size_t(i)]);
        EXPECT_LE(hb.size(s, i), p.n[std::size_t(i)] + 1);
      }
    }
  }
}

TEST(HyperbandSchedule, KerasTunerValuesForTheSeedStudy) {
  // max_epochs 10, factor 3 (the Keras Tuner tutorial), by hand from keras_tuner's _get_size and
  // _get_epochs: bracket0_end_size = ceil(1 + log3(10)) = 4.
  const HyperbandSchedule hb({.max_epochs = 10, .factor = 3});
  ASSERT_EQ(hb.num_brackets(), 3);
  EXPECT_EQ((std::vector<std::int64_t>{hb.size(2, 0), hb.size(2, 1), hb.size(2, 2)}),
            (std::vector<std::int64_t>{12, 4, 2}));
  EXPECT_EQ((std::vector<std::int64_t>{hb.epochs(2, 0), hb.epochs(2, 1), hb.epochs(2, 2)}),
            (std::vector<std::int64_t>{2, 4, 10}));
  EXPECT_EQ((std::vector<std::int64_t>{hb.size(1, 0), hb.size(1, 1)}),
            (std::vector<std::int64_t>{6, 2}));
  EXPECT_EQ((std::vector<std::int64_t>{hb.epochs(1, 0), hb.epochs(1, 1)}),
            (std::vector<std::int64_t>{4, 10}));
  EXPECT_EQ(hb.size(0, 0), 4);
  EXPECT_EQ(hb.epochs(0, 0), 10);
  // The seed study's 30 trials (a promotion is a trial of its own), twice with two iterations.
  EXPECT_EQ(hb.total_trials(), 12 + 4 + 2 + 6 + 2 + 4);
  EXPECT_EQ(
      HyperbandSchedule({.max_epochs = 10, .factor = 3, .hyperband_iterations = 2}).total_trials(),
      60);
}

TEST(HyperbandSchedule, RejectsImpossibleOptions) {
  using quarry::testing::error_of;
  EXPECT_EQ(error_of([] { HyperbandSchedule({.max_epochs = 0}); }),
            "Hyperband: max_epochs >= 1 must hold, got 0");
  EXPECT_EQ(error_of([] { HyperbandSchedule({.max_epochs = 9, .factor = 1}); }),
            "Hyperband: factor >= 2 must hold, got 1");
  EXPECT_EQ(error_of([] { HyperbandSchedule({.max_epochs = 9, .min_epochs = 10}); }),
            "Hyperband: min_epochs <= max_epochs must hold, got 10");
}

// --- the schedule as run ----------------------------------------------------------------------

HyperbandOptions seed_options() {
  return {.max_epochs = 10, .factor = 3};
}

Study make_study(std::shared_ptr<storage::Storage> store,
                 HyperbandOptions options = seed_options()) {
  Study study(std::move(store), "hb",
              {.directions = {Direction::Maximize},
               .sampler = nullptr,
               .scheduler = std::make_shared<Hyperband>(options)});
  Space s;
  s.add(Param::Float("x", 0, 1));
  study.register_space(s);
  return study;
}

/// A trial's score: better with larger x and with more epochs (a learning curve).
double score(const Trial& t) {
  return std::get<double>(t.params.at("x")) + 0.01 * t.budget;
}

nlohmann::json state_of(Study& study) {
  return nlohmann::json::parse(*study.storage().get_attr(study.id(), kHyperbandStateAttr));
}

/// Runs the study to the end with one worker, telling each trial its score.
std::vector<Trial> run_sequentially(Study& study) {
  while (auto t = study.ask("w")) study.tell(t->number, {score(*t)});
  return study.trials();
}

/// Checks every round of every bracket: sizes, budgets, and that round r holds exactly the best
/// size(b, r) trials of round r - 1.
void expect_schedule_kept(Study& study, const HyperbandSchedule& hb) {
  const auto trials = study.trials();
  const auto state = state_of(study);
  for (const auto& bracket : state["brackets"]) {
    const auto b = bracket["bracket"].get<std::int64_t>();
    const auto& rounds = bracket["rounds"];
    ASSERT_EQ(std::int64_t(rounds.size()), b + 1);
    for (std::int64_t r = 0; r <= b; ++r) {
      const auto& round = rounds[std::size_t(r)];
      EXPECT_EQ(std::int64_t(round.size()), hb.size(b, r)) << "bracket " << b << " round " << r;
      std::set<std::int64_t> parents;
      for (const auto& slot : round) {
        const Trial& t = trials.at(slot["trial"].get<std::size_t>());
        EXPECT_EQ(t.budget, double(hb.epochs(b, r)));
        EXPECT_EQ(t.state, TrialState::Complete);
        if (r == 0) {
          EXPECT_FALSE(t.parent);
          continue;
        }
        ASSERT_TRUE(t.parent);
        EXPECT_TRUE(parents.insert(*t.parent).second) << "promoted twice: " << *t.parent;
        EXPECT_EQ(t.params, trials.at(std::size_t(*t.parent)).params);
      }
      if (r == 0) continue;
      std::vector<double> previous;
      for (const auto& slot : rounds[std::size_t(r - 1)])
        previous.push_back(trials.at(slot["trial"].get<std::size_t>()).values[0]);
      std::sort(previous.rbegin(), previous.rend());
      for (auto parent : parents)
        EXPECT_GE(trials.at(std::size_t(parent)).values[0],
                  previous[std::size_t(hb.size(b, r) - 1)])
            << "trial " << parent << " is not in the top " << hb.size(b, r);
    }
  }
}

std::int64_t total_trials(const HyperbandSchedule& hb) {
  std::int64_t n = 0;
  for (std::int64_t b = 0; b < hb.num_brackets(); ++b)
    for (std::int64_t r = 0; r <= b; ++r) n += hb.size(b, r);
  return n * hb.options().hyperband_iterations;
}

TEST(Hyperband, OneWorkerRunsEveryBracketAndPromotesTheBest) {
  Study study = make_study(std::make_shared<storage::MemoryStorage>());
  const auto trials = run_sequentially(study);
  const HyperbandSchedule hb(seed_options());
  EXPECT_EQ(std::int64_t(trials.size()), total_trials(hb));  // 18 + 8 + 4
  expect_schedule_kept(study, hb);
  EXPECT_EQ(state_of(study)["brackets"].size(), 3u);
  // Brackets run from the most exploratory to plain random search, as Keras Tuner does.
  EXPECT_EQ(state_of(study)["brackets"][0]["bracket"], 2);
  EXPECT_EQ(state_of(study)["brackets"][2]["bracket"], 0);
}

TEST(Hyperband, IterationsRepeatTheBrackets) {
  auto options = seed_options();
  options.hyperband_iterations = 2;
  Study study = make_study(std::make_shared<storage::MemoryStorage>(), options);
  EXPECT_EQ(std::int64_t(run_sequentially(study).size()), total_trials(HyperbandSchedule(options)));
}

TEST(Hyperband, WaitsForARoundInsteadOfPromotingTooEarly) {
  // Bracket 0 of max_epochs 3 / factor 3 is one round; bracket 1 promotes 1 of 3 (sizes: 3, 1;
  // ceil(1 + log3(3)) = 2 -> bracket 1: ceil(2/2 * 3) = 3, 1; bracket 0: 2).
  Study study =
      make_study(std::make_shared<storage::MemoryStorage>(), {.max_epochs = 3, .factor = 3});
  std::vector<Trial> running;
  for (int i = 0; i < 3; ++i) running.push_back(*study.next("w").trial);  // round 0 of bracket 1
  // No promotion is certain yet: the worker starts the next bracket instead of waiting.
  const auto fourth = study.next("w");
  ASSERT_EQ(fourth.kind, Assignment::Kind::Run);
  EXPECT_EQ(fourth.trial->budget, 3.0);
  EXPECT_FALSE(fourth.trial->parent);
  running.push_back(*fourth.trial);
  running.push_back(*study.next("w").trial);                // bracket 0 holds 2 trials
  EXPECT_EQ(study.next("w").kind, Assignment::Kind::Wait);  // last bracket, trials running
  study.tell(running[0].number, {0.5});
  study.tell(running[1].number, {0.9});
  EXPECT_EQ(study.next("w").kind, Assignment::Kind::Wait);  // trial 2 could still beat 0.9
  study.tell(running[2].number, {0.1});
  const auto promoted = study.next("w");
  ASSERT_EQ(promoted.kind, Assignment::Kind::Run);
  EXPECT_EQ(promoted.trial->parent, running[1].number);
  EXPECT_EQ(promoted.trial->budget, 3.0);
  study.tell(promoted.trial->number, {1.0});
  study.tell(running[3].number, {0.2});
  EXPECT_EQ(study.next("w").kind, Assignment::Kind::Wait);
  study.tell(running[4].number, {0.3});
  EXPECT_EQ(study.next("w").kind, Assignment::Kind::Done);
}

TEST(Hyperband, FailedTrialsAreNeverPromotedAndDoNotBlockTheBracket) {
  Study study =
      make_study(std::make_shared<storage::MemoryStorage>(), {.max_epochs = 3, .factor = 3});
  while (auto next = study.ask("w")) {
    if (!next->parent && next->number < 3) {
      study.tell(next->number, TrialState::Failed, "diverged");
      continue;
    }
    study.tell(next->number, {score(*next)});
  }
  // Bracket 1's round 0 all failed: nothing promoted; bracket 0 still ran.
  for (const auto& t : study.trials()) EXPECT_FALSE(t.parent);
  EXPECT_EQ(study.trials().size(), 5u);
}

TEST(Hyperband, ParallelWorkersShareOneSchedule) {
  quarry::testing::TempDir dir;
  Study study = make_study(std::make_shared<storage::SqliteStorage>(dir.file("hb.db")));
  objectives::FunctionObjective objective("score", [](TrialContext& c) {
    return std::vector<double>{std::get<double>(c.params().at("x")) + 0.01 * c.budget()};
  });
  const auto summary = runner::run(study, objective, {.workers = 4});
  const HyperbandSchedule hb(seed_options());
  EXPECT_EQ(summary.complete, total_trials(hb));
  expect_schedule_kept(study, hb);
}

TEST(Hyperband, AKilledSearchContinuesItsBracket) {
  quarry::testing::TempDir dir;
  const std::string db = dir.file("hb.db");
  std::int64_t before_kill = 0;
  {
    Study study = make_study(std::make_shared<storage::SqliteStorage>(db));
    // Seven trials finish, an eighth is claimed by a worker that then dies (never told).
    for (int i = 0; i < 7; ++i) {
      auto t = study.ask("w");
      study.tell(t->number, {score(*t)});
    }
    auto orphan = study.ask("dead-worker");
    ASSERT_TRUE(orphan);
    // The worker is gone: the next search requeues its trial (as requeue_stale does).
    EXPECT_TRUE(study.requeue(*orphan, "worker is gone"));
    before_kill = study.storage().count_trials(study.id());
    // A crash between writing the state and creating the trial: the state names trial 8.
    auto state = state_of(study);
    state["brackets"][0]["rounds"][0].push_back({{"trial", before_kill}, {"parent", nullptr}});
    study.storage().set_attr(study.id(), kHyperbandStateAttr, state.dump());
  }
  Study resumed = make_study(std::make_shared<storage::SqliteStorage>(db));
  const auto trials = run_sequentially(resumed);
  const HyperbandSchedule hb(seed_options());
  EXPECT_EQ(std::int64_t(trials.size()), total_trials(hb));
  EXPECT_GT(std::int64_t(trials.size()), before_kill);
  expect_schedule_kept(resumed, hb);
}

TEST(Hyperband, ResumingWithOtherOptionsIsRefused) {
  auto store = std::make_shared<storage::MemoryStorage>();
  Study first = make_study(store);
  first.ask("w");
  Study other = make_study(store, {.max_epochs = 20, .factor = 3});
  EXPECT_THAT(quarry::testing::error_of([&] { other.ask("w"); }),
              HasSubstr("Hyperband: study 'hb' was started with"));
}

TEST(Hyperband, MaxTrialsStopsTheSchedule) {
  Study study = make_study(std::make_shared<storage::MemoryStorage>());
  int n = 0;
  while (auto t = study.ask("w", 5)) {
    study.tell(t->number, {score(*t)});
    ++n;
  }
  EXPECT_EQ(n, 5);
}

}  // namespace
}  // namespace quarry::schedulers
