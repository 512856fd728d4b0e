#include "quarry/samplers/surrogate.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/test_util.hpp"

#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "quarry/objectives/table.hpp"
#include "quarry/samplers/random.hpp"
#include "tests/samplers/convergence.hpp"

namespace quarry::samplers {
namespace {

using quarry::testing::error_of;
using ::testing::HasSubstr;
using testing::median;

Value str(const char* s) {
  return Value{std::string(s)};
}

Trial trial(std::int64_t number, Params params, TrialState state, double value = 0) {
  Trial t;
  t.number = number;
  t.state = state;
  t.params = std::move(params);
  if (state == TrialState::Complete) t.values = {value};
  return t;
}

/// Four choices of four values (256 configurations); loss = the sum of the chosen levels, so the
/// best configuration is all "a" (loss 0) and the worst all "d" (loss 12).
Space levels_space() {
  std::vector<Param> params;
  for (const char* name : {"p", "q", "r", "s"})
    params.push_back(Param::Choice(name, {str("a"), str("b"), str("c"), str("d")}));
  return Space(params);
}

double levels_loss(const Params& params) {
  double loss = 0;
  for (const auto& [name, value] : params) loss += std::get<std::string>(value)[0] - 'a';
  return loss;
}

/// `n` Complete trials of random configurations of `space`, valued by `loss_of`.
template <typename LossOf>
std::vector<Trial> random_history(const Space& space, std::int64_t n, LossOf loss_of) {
  RandomSampler random({.seed = 99});
  std::vector<Trial> history;
  for (std::int64_t k = 0; k < n; ++k) {
    Params p = sample_all(random, space, history, k);
    const double loss = loss_of(p);
    history.push_back(trial(k, std::move(p), TrialState::Complete, loss));
  }
  return history;
}

TEST(SurrogateSampler, ProposesLikeTheRandomSamplerUntilMinTrialsAreComplete) {
  const Space space = levels_space();
  SurrogateSampler surrogate({.seed = 5, .min_trials = 10});
  RandomSampler random({.seed = 5});
  auto history = random_history(space, 9, levels_loss);
  history.push_back(trial(9, {}, TrialState::Running));  // the 10th is not complete yet
  history.push_back(trial(10, history[0].params, TrialState::Failed));
  EXPECT_TRUE(surrogate.rank(space, history, 11).empty());
  for (std::int64_t k = 11; k < 16; ++k)
    EXPECT_EQ(sample_all(surrogate, space, history, k), sample_all(random, space, history, k));
}

TEST(SurrogateSampler, ProposesTheBestRankedCandidateNotAlreadyTaken) {
  const Space space = levels_space();
  SurrogateSampler surrogate({.seed = 2, .candidates = 200});
  auto history = random_history(space, 20, levels_loss);
  const auto ranked = surrogate.rank(space, history, 20);
  ASSERT_EQ(ranked.size(), 200u);
  EXPECT_TRUE(std::is_sorted(ranked.begin(), ranked.end(),
                             [](const auto& a, const auto& b) { return a.score < b.score; }));
  for (const auto& s : ranked) EXPECT_EQ(s.score, s.prediction.mean);  // kappa 0
  // The model learned the additive loss: its favourite is nearly the optimum (0 of 0..12).
  EXPECT_LE(levels_loss(ranked.front().params), 2.0);
  const Params first = sample_all(surrogate, space, history, 20);
  EXPECT_EQ(first, ranked.front().params);
  // A parallel worker runs the favourite: the next proposal is the best one still free.
  history.push_back(trial(21, first, TrialState::Running));
  const Params second = sample_all(surrogate, space, history, 20);
  EXPECT_NE(second, first);
  const auto free = std::find_if(ranked.begin(), ranked.end(), [&](const auto& s) {
    return !seen_before(s.params, history, 20);
  });
  EXPECT_EQ(second, free->params);
}

TEST(SurrogateSampler, KappaRanksByAnOptimisticBound) {
  const Space space = levels_space();
  const auto history = random_history(space, 15, levels_loss);
  SurrogateSampler surrogate({.seed = 4, .candidates = 100, .kappa = 2});
  const auto ranked = surrogate.rank(space, history, 15);
  ASSERT_FALSE(ranked.empty());
  for (const auto& s : ranked) {
    EXPECT_DOUBLE_EQ(s.score, s.prediction.mean - 2 * s.prediction.spread);
    EXPECT_GE(s.prediction.spread, 0.0);
  }
  EXPECT_GT(ranked.front().prediction.spread, 0.0);  // five networks disagree somewhere
}

TEST(SurrogateSampler, MaximisedObjectivesAreRankedAsLosses) {
  const Space space = levels_space();
  auto history = random_history(space, 20, [](const Params& p) { return -levels_loss(p); });
  SurrogateSampler surrogate({.seed = 2, .candidates = 200});
  surrogate.attach({.directions = {Direction::Maximize}});
  EXPECT_LE(levels_loss(surrogate.rank(space, history, 20).front().params), 2.0);
}

TEST(SurrogateSampler, CandidatesRespectConditionalParameters) {
  const Space space(
      {Param::Choice("optimizer", {str("adam"), str("sgd")}),
       Param::Float("momentum", 0.0, 0.99).with_condition({"optimizer", {str("sgd")}}),
       Param::Float("lr", 1e-4, 1.0, {.log = true}), Param::Int("units", 16, 256, {.step = 16})});
  const auto history = random_history(space, 12, [](const Params& p) {
    const double lr = std::log10(std::get<double>(p.at("lr")));
    return (lr + 2) * (lr + 2) + (p.count("momentum") ? 1 - std::get<double>(p.at("momentum")) : 1);
  });
  SurrogateSampler surrogate({.seed = 6, .candidates = 300});
  std::set<std::string> optimizers;
  for (const auto& s : surrogate.rank(space, history, 12)) {
    EXPECT_NO_THROW(space.validate(s.params));  // momentum exactly under sgd
    optimizers.insert(std::get<std::string>(s.params.at("optimizer")));
  }
  EXPECT_EQ(optimizers.size(), 2u);
}

TEST(SurrogateSampler, ProposalDependsOnSeedHistoryAndNumberOnly) {
  const Space space = levels_space();
  const auto history = random_history(space, 12, levels_loss);
  auto shuffled = history;
  std::reverse(shuffled.begin(), shuffled.end());
  SurrogateSampler a({.seed = 9}), b({.seed = 9});
  EXPECT_EQ(sample_all(a, space, history, 12), sample_all(b, space, shuffled, 12));
  const auto ranked_a = a.rank(space, history, 12), ranked_b = b.rank(space, shuffled, 12);
  ASSERT_EQ(ranked_a.size(), ranked_b.size());
  for (std::size_t i = 0; i < ranked_a.size(); ++i)
    EXPECT_EQ(ranked_a[i].prediction.mean, ranked_b[i].prediction.mean) << i;
}

TEST(SurrogateSampler, OptionsAreValidated) {
  EXPECT_EQ(error_of([] { SurrogateSampler({.candidates = 0}); }),
            "SurrogateSampler: candidates >= 1 must hold, got 0");
  EXPECT_THAT(error_of([] { SurrogateSampler({.kappa = -1}); }), HasSubstr("kappa >= 0"));
  EXPECT_THAT(error_of([] {
                surrogate_options_from_json({{"min_trials", 0}}, 0);
              }),
              HasSubstr("sampler 'surrogate': option 'min_trials' must be >= 1, got 0"));
  EXPECT_THAT(error_of([] {
                surrogate_options_from_json({{"depth", 3}}, 0);
              }),
              HasSubstr("sampler 'surrogate': unknown option 'depth'"));
  const auto options = surrogate_options_from_json({{"kappa", 1.5}, {"candidates", 50}}, 17);
  EXPECT_EQ(options.seed, 17u);
  EXPECT_EQ(options.candidates, 50);
  EXPECT_EQ(options.kappa, 1.5);
  EXPECT_EQ(options.min_trials, SurrogateOptions{}.min_trials);
}

// ---- NAS-Bench-201 -----------------------------------------------------------------------------

const std::string kNb201File = quarry::testing::nas_data_dir() + "/nas-bench-201-mini.csv";

/// The best cifar10-val accuracy `sampler` finds in `n` sequential evaluations of the table.
double best_accuracy(Sampler& sampler, const objectives::TableObjective& table, std::int64_t n) {
  sampler.attach({.directions = {Direction::Maximize}});
  std::vector<Trial> history;
  double best = -INFINITY;
  for (std::int64_t k = 0; k < n; ++k) {
    Params params = sample_all(sampler, table.space(), history, k);
    const double accuracy = table.find(params)->value;
    best = std::max(best, accuracy);
    history.push_back(trial(k, std::move(params), TrialState::Complete, accuracy));
  }
  return best;
}

TEST(SurrogateSamplerNb201, BeatsRandomSearchMedianBest) {
  const auto table = objectives::load_nas_bench_201(kNb201File);
  std::vector<double> surrogate, random;
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    SurrogateSampler s({.seed = seed});
    RandomSampler r({.seed = seed});
    surrogate.push_back(best_accuracy(s, *table, 60));
    random.push_back(best_accuracy(r, *table, 60));
  }
  // Best cifar10-val accuracy after 60 evaluations (the table's best is 84.89 %). Measured, these
  // 5 seeds: surrogate median 84.28 (80.45, 84.68, 84.04, 84.89, 84.28), random 83.19. Over 20
  // seeds: surrogate 84.60 at 60 and 84.75 at 100 evaluations, random 83.49 and 83.73 (kappa 1:
  // 84.68 and 84.75; kappa 2: 84.75 and 84.75). The first 10 trials are the random sampler's.
  EXPECT_GT(median(surrogate), median(random) + 0.5);
  EXPECT_GT(median(surrogate), 84.0);
}

}  // namespace
}  // namespace quarry::samplers
