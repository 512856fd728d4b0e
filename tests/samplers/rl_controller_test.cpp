#include "quarry/samplers/rl_controller.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/test_util.hpp"

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "quarry/storage/memory.hpp"
#include "quarry/study/study.hpp"

namespace quarry::samplers {
namespace {

using ::testing::HasSubstr;

const std::vector<std::string> kBest = {"b", "c", "a", "b"};

/// Four decisions of three choices each; the loss counts the decisions that miss kBest.
Space choice_space() {
  std::vector<Param> params;
  for (std::size_t i = 0; i < kBest.size(); ++i)
    params.push_back(
        Param::Choice("d" + std::to_string(i),
                      {Value{std::string("a")}, Value{std::string("b")}, Value{std::string("c")}}));
  return Space(std::move(params));
}

double misses(const Params& p) {
  double n = 0;
  for (std::size_t i = 0; i < kBest.size(); ++i)
    n += std::get<std::string>(p.at("d" + std::to_string(i))) != kBest[i];
  return n;
}

std::size_t best_index(std::size_t decision) {
  return static_cast<std::size_t>(kBest[decision][0] - 'a');
}

/// Runs trials from..to-1 (each completed before the next) and appends them to `history`.
void run(Sampler& sampler, const Space& space, std::vector<Trial>& history, std::int64_t from,
         std::int64_t to) {
  for (std::int64_t k = from; k < to; ++k) {
    Trial t;
    t.number = k;
    t.params = sample_all(sampler, space, history, k);
    t.state = TrialState::Complete;
    t.values = {misses(t.params)};
    history.push_back(std::move(t));
  }
}

/// The probability the policy gives the best choice, averaged over the four decisions.
double best_probability(RlController& rl, const Space& space, const std::vector<Trial>& history) {
  const auto policy = rl.policy(space, history);
  double sum = 0;
  for (std::size_t i = 0; i < kBest.size(); ++i)
    sum += policy.at("d" + std::to_string(i)).at(best_index(i));
  return sum / static_cast<double>(kBest.size());
}

TEST(RlController, ProbabilityOfTheBestChoicesRisesWithTraining) {
  const Space space = choice_space();
  for (std::uint64_t seed = 0; seed < 3; ++seed) {
    RlController rl({.seed = seed});
    std::vector<Trial> history;
    EXPECT_DOUBLE_EQ(best_probability(rl, space, history), 1.0 / 3.0);
    run(rl, space, history, 0, 30);
    const double early = best_probability(rl, space, history);
    run(rl, space, history, 30, 80);
    const double late = best_probability(rl, space, history);
    // Measured (learning_rate 1.0): ~0.8 after 30 trials, > 0.99 after 80, for seeds 0-2.
    EXPECT_GT(early, 0.5) << "seed " << seed;
    EXPECT_GT(late, early) << "seed " << seed;
    EXPECT_GT(late, 0.9) << "seed " << seed;
  }
}

TEST(RlController, DecisionsAreCategoricalForFewValuesAndBucketsOtherwise) {
  const Space space({Param::Float("lr", 1e-4, 1.0, {.log = true}), Param::Int("small", 1, 4),
                     Param::Int("large", 1, 100), Param::Boolean("bn"),
                     Param::Choice("act", {Value{std::string("relu")}, Value{std::string("gelu")}}),
                     Param::Fixed("epochs", Value{std::int64_t{10}})});
  RlController rl({.bins = 8});
  const auto policy = rl.policy(space, {});
  EXPECT_EQ(policy.at("lr").size(), 8u);
  EXPECT_EQ(policy.at("small").size(), 4u);
  EXPECT_EQ(policy.at("large").size(), 8u);
  EXPECT_EQ(policy.at("bn").size(), 2u);
  EXPECT_EQ(policy.at("act").size(), 2u);
  EXPECT_EQ(policy.count("epochs"), 0u);  // nothing to decide
}

TEST(RlController, LearnsOnlyFromTheFinishedPrefixOfTheHistory) {
  const Space space = choice_space();
  RlController rl({.seed = 2});
  std::vector<Trial> history;
  run(rl, space, history, 0, 20);
  auto with_running = history;
  with_running[10].state = TrialState::Running, with_running[10].values.clear();
  const std::vector<Trial> prefix(history.begin(), history.begin() + 10);
  EXPECT_EQ(RlController({.seed = 2}).policy(space, with_running),
            RlController({.seed = 2}).policy(space, prefix));
  EXPECT_NE(RlController({.seed = 2}).policy(space, history),
            RlController({.seed = 2}).policy(space, prefix));
}

TEST(RlController, ProposalsDoNotDependOnWhatTheObjectComputedBefore) {
  const Space space = choice_space();
  RlController first({.seed = 4});
  std::vector<Trial> history;
  run(first, space, history, 0, 40);
  // A fresh object per proposal, and one asked out of order, agree with the object that ran.
  RlController reversed({.seed = 4});
  for (std::int64_t k = 39; k >= 0; --k) {
    const std::vector<Trial> before(history.begin(), history.begin() + k);
    EXPECT_EQ(sample_all(reversed, space, before, k), history[static_cast<std::size_t>(k)].params);
    EXPECT_EQ(sample_all(*std::make_unique<RlController>(RlControllerOptions{.seed = 4}), space,
                         before, k),
              history[static_cast<std::size_t>(k)].params);
  }
}

TEST(RlController, WorkerThreadsSharingTheSamplerGetTheSameProposals) {
  const Space space = choice_space();
  std::vector<Trial> history;
  RlController reference({.seed = 3});
  run(reference, space, history, 0, 40);
  RlController shared({.seed = 3});
  std::vector<std::thread> workers;
  for (std::int64_t w = 0; w < 4; ++w)
    workers.emplace_back([&, w] {
      for (std::int64_t k = 0; k < 40; ++k) {  // each thread its own order of prefixes
        const std::int64_t n = (k * 7 + w * 3) % 40;
        const std::vector<Trial> before(history.begin(), history.begin() + n);
        EXPECT_EQ(sample_all(shared, space, before, n), history[static_cast<std::size_t>(n)].params)
            << n;
      }
    });
  for (auto& t : workers) t.join();
}

/// Runs `n` trials of a study on `storage` through ask/tell.
std::vector<Params> run_study(const std::shared_ptr<Storage>& storage,
                              const std::shared_ptr<RlController>& rl, std::int64_t n) {
  Study study(storage, "rl", {.sampler = rl});
  study.register_space(choice_space());
  std::vector<Params> out;
  for (std::int64_t k = 0; k < n; ++k) {
    const auto trial = study.ask("worker");
    out.push_back(trial->params);
    study.tell(trial->number, {misses(trial->params)});
  }
  return out;
}

TEST(RlController, ResumedSearchContinuesFromTheStoredStateWithoutReplaying) {
  const auto uninterrupted = std::make_shared<RlController>(RlControllerOptions{.seed = 6});
  const auto all = run_study(std::make_shared<storage::MemoryStorage>(), uninterrupted, 50);
  EXPECT_EQ(uninterrupted->replayed(), 49);  // learned from trials 0..48, one at a time

  const auto storage = std::make_shared<storage::MemoryStorage>();
  auto first =
      run_study(storage, std::make_shared<RlController>(RlControllerOptions{.seed = 6}), 30);
  const auto stored = storage->get_attr(storage->find_study("rl")->id, RlController::kStateAttr);
  ASSERT_TRUE(stored);
  EXPECT_THAT(*stored, HasSubstr("\"consumed\":29"));  // learned before proposing trial 29

  const auto resumed = std::make_shared<RlController>(RlControllerOptions{.seed = 6});
  const auto second = run_study(storage, resumed, 20);
  first.insert(first.end(), second.begin(), second.end());
  EXPECT_EQ(first, all);               // the same search as the uninterrupted one
  EXPECT_EQ(resumed->replayed(), 20);  // trials 29..48 only, not 0..28 again
}

/// A sampler's stored state kept in memory (the study keeps it in a study attribute).
class TextState final : public SamplerState {
 public:
  explicit TextState(std::optional<std::string> text) : text_(std::move(text)) {}
  std::optional<std::string> load() const override { return text_; }
  bool replace(const std::optional<std::string>& expected, const std::string& value) override {
    if (expected != text_) return false;
    text_ = value;
    return true;
  }

 private:
  std::optional<std::string> text_;
};

TEST(RlController, CheckpointOfAnotherHistoryIsIgnored) {
  const auto storage = std::make_shared<storage::MemoryStorage>();
  run_study(storage, std::make_shared<RlController>(RlControllerOptions{.seed = 1}), 30);
  // A search with a different history is handed study "rl"'s checkpoint.
  const Space space = choice_space();
  std::vector<Trial> history;
  RlController plain({.seed = 9});
  run(plain, space, history, 0, 30);
  const auto state = std::make_shared<TextState>(
      storage->get_attr(storage->find_study("rl")->id, RlController::kStateAttr));
  RlController attached({.seed = 9});
  attached.attach({.state = state});
  EXPECT_EQ(attached.policy(space, history), RlController({.seed = 9}).policy(space, history));
  EXPECT_EQ(attached.replayed(), 30);
  EXPECT_THAT(*state->load(), HasSubstr("\"consumed\":30"));
}

TEST(RlController, OptionsAreValidated) {
  using quarry::testing::error_of;
  EXPECT_EQ(error_of([] { RlController({.baseline_decay = 1.0}); }),
            "RlController: 0 <= baseline_decay < 1 must hold, got 1");
  EXPECT_THAT(error_of([] { RlController({.learning_rate = 0}); }),
              HasSubstr("0 < learning_rate < inf"));
  EXPECT_THAT(error_of([] {
                rl_controller_options_from_json({{"bins", 1}}, 0);
              }),
              HasSubstr("sampler 'rl': option 'bins' must be >= 2, got 1"));
  EXPECT_THAT(error_of([] {
                rl_controller_options_from_json({{"learning_rate", "x"}}, 0);
              }),
              HasSubstr("sampler 'rl': option 'learning_rate' must be a number"));
  const auto options = rl_controller_options_from_json({{"entropy_weight", 0}}, 21);
  EXPECT_EQ(options.seed, 21u);
  EXPECT_EQ(options.entropy_weight, 0.0);
}

}  // namespace
}  // namespace quarry::samplers
