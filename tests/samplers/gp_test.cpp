#include "quarry/samplers/gp.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "quarry/core/error.hpp"
#include "quarry/objectives/functions.hpp"

namespace quarry::samplers {
namespace {

Trial complete(std::int64_t number, Params params, double value) {
  Trial t;
  t.number = number;
  t.state = TrialState::Complete;
  t.params = std::move(params);
  t.values = {value};
  return t;
}

/// Runs `n` sequential trials of f with `sampler`; returns the history.
std::vector<Trial> minimise(Sampler& sampler, const objectives::BenchmarkFunction& f, int n) {
  std::vector<Trial> history;
  for (std::int64_t k = 0; k < n; ++k) {
    const Params p = sample_all(sampler, f.space(), history, k);
    std::vector<double> x;
    for (std::size_t i = 0; i < f.dims(); ++i)
      x.push_back(std::get<double>(p.at("x" + std::to_string(i))));
    history.push_back(complete(k, p, f.value(x)));
  }
  return history;
}

double best_of(const std::vector<Trial>& history) {
  double best = INFINITY;
  for (const Trial& t : history) best = std::min(best, t.values.front());
  return best;
}

TEST(GpSampler, FindsBraninsOptimumWithin40Evaluations) {
  const objectives::Branin branin;
  GpSampler sampler({.seed = 0});
  const auto history = minimise(sampler, branin, 40);
  EXPECT_LT(best_of(history) - branin.optimum(), 1e-2);
}

TEST(GpSampler, StartsLikeRandomSearchThenProposesEveryParameter) {
  const objectives::Branin branin;
  GpSampler sampler({.seed = 2, .n_startup = 5});
  std::vector<Trial> history;
  for (std::int64_t k = 0; k < 5; ++k) {
    EXPECT_TRUE(sampler.sample_relative(branin.space(), history, k).empty()) << k;
    history.push_back(complete(k, sample_all(sampler, branin.space(), history, k), 1.0 + k));
  }
  EXPECT_EQ(sampler.sample_relative(branin.space(), history, 5).size(), 2u);
}

TEST(GpSampler, ARunningTrialAtTheProposalSteersTheNextOneAway) {
  const objectives::Branin branin;
  GpSampler sampler({.seed = 3});
  auto history = minimise(sampler, branin, 15);
  const Params proposal = sample_all(sampler, branin.space(), history, 15);
  Trial running;
  running.number = 15;
  running.state = TrialState::Running;
  running.params = proposal;
  history.push_back(running);
  const Params next = sample_all(sampler, branin.space(), history, 16);
  EXPECT_NE(next, proposal);
  // The trial being sampled is ignored: it may already be in the history without values.
  history.back().number = 16;
  EXPECT_EQ(sample_all(sampler, branin.space(), history, 16),
            sample_all(sampler, branin.space(), {history.begin(), history.end() - 1}, 16));
}

TEST(GpSampler, ProposesLegalIntegersAndChoices) {
  const Space space(
      {Param::Int("n", 1, 100, {.log = true}), Param::Int("k", 0, 40, {.step = 4}),
       Param::Choice("act", {std::string("relu"), std::string("tanh"), std::string("gelu")}),
       Param::Float("x", -1.0, 1.0)});
  GpSampler sampler({.seed = 4, .n_startup = 5});
  std::vector<Trial> history;
  for (std::int64_t k = 0; k < 30; ++k) {
    const Params p = sample_all(sampler, space, history, k);
    EXPECT_NO_THROW(space.validate(p)) << k;
    const double loss = std::abs(std::get<double>(p.at("x")) - 0.3) +
                        (p.at("act") == Value{std::string("tanh")} ? 0.0 : 1.0) +
                        std::abs(static_cast<double>(std::get<std::int64_t>(p.at("k"))) - 12) / 10;
    history.push_back(complete(k, p, loss));
  }
  // The model learns the choice: most proposals after the start-up pick the good activation.
  int tanh = 0;
  for (std::int64_t k = 10; k < 30; ++k)
    tanh += history[static_cast<std::size_t>(k)].params.at("act") == Value{std::string("tanh")};
  EXPECT_GE(tanh, 12);  // 20 / 3 expected at random
}

TEST(GpSampler, AWideIntegerRangeIsSearchedWithoutVisitingEveryValue) {
  // 10^9 + 1 integers: the encoder counts them without listing them, and the discrete pass tries
  // only the values near the climbed one (visiting all took seconds per proposal).
  const Space space({Param::Int("seed", 0, 1'000'000'000), Param::Float("x", -1.0, 1.0)});
  GpSampler sampler({.seed = 8, .n_startup = 5});
  std::vector<Trial> history;
  double best = INFINITY;
  for (std::int64_t k = 0; k < 25; ++k) {
    const Params p = sample_all(sampler, space, history, k);
    ASSERT_NO_THROW(space.validate(p)) << k;
    const double seed = static_cast<double>(std::get<std::int64_t>(p.at("seed"))) / 1e9;
    const double loss = std::abs(seed - 0.7) + std::abs(std::get<double>(p.at("x")) - 0.3);
    best = std::min(best, loss);
    history.push_back(complete(k, p, loss));
  }
  EXPECT_LT(best, 0.05);  // measured 0.020; random search gets below 0.05 with p ~ 0.06
}

TEST(GpSampler, MaximisingStudiesClimb) {
  // The same function, maximised as -f: the sampler must read values through loss().
  const objectives::Branin branin;
  GpSampler sampler({.seed = 5});
  sampler.attach({.directions = {Direction::Maximize}});
  std::vector<Trial> history;
  for (std::int64_t k = 0; k < 25; ++k) {
    const Params p = sample_all(sampler, branin.space(), history, k);
    const double v = branin.value(
        std::vector<double>{std::get<double>(p.at("x0")), std::get<double>(p.at("x1"))});
    history.push_back(complete(k, p, -v));
  }
  double best = -INFINITY;
  for (const Trial& t : history) best = std::max(best, t.values.front());
  EXPECT_GT(best, -1.0);  // f below 1 (random search: about 5% of the box)
}

TEST(GpSampler, SameSeedAndHistoryGiveTheSameProposalThreadsOrNot) {
  const objectives::Branin branin;
  GpSampler a({.seed = 6}), b({.seed = 6});
  const auto history = minimise(a, branin, 14);
  EXPECT_EQ(sample_all(a, branin.space(), history, 14), sample_all(b, branin.space(), history, 14));
}

TEST(GpSampler, RejectsBadOptionsByName) {
  EXPECT_THROW(GpSampler({.acquisition = "pi"}), InvalidArgument);
  EXPECT_THROW(GpSampler({.n_startup = 0}), InvalidArgument);
  EXPECT_THROW(GpSampler({.max_points = 5}), InvalidArgument);
  EXPECT_THROW(GpSampler({.warp = "rank"}), InvalidArgument);
  EXPECT_THROW(gp_options_from_json(nlohmann::json{{"beta", "x"}}, 0), InvalidArgument);
  EXPECT_THROW(gp_options_from_json(nlohmann::json{{"nope", 1}}, 0), InvalidArgument);
  const GpOptions o = gp_options_from_json(nlohmann::json{{"acquisition", "ucb"}, {"beta", 2}}, 9);
  EXPECT_EQ(o.acquisition, "ucb");
  EXPECT_EQ(o.beta, 2.0);
  EXPECT_EQ(o.seed, 9u);
}

TEST(GpSampler, AFixedNoiseReachesTheKernelFit) {
  // The same history and seed: a fixed noise variance (Keras Tuner's alpha) changes the model, so
  // the proposal; two different fixed values differ too.
  const objectives::Branin branin;
  GpSampler fitted({.seed = 1, .n_startup = 5});
  const auto history = minimise(fitted, branin, 12);
  GpSampler small({.seed = 1, .n_startup = 5, .noise = 1e-4});
  GpSampler large({.seed = 1, .n_startup = 5, .noise = 0.3});
  const Params a = sample_all(fitted, branin.space(), history, 12);
  const Params b = sample_all(small, branin.space(), history, 12);
  const Params c = sample_all(large, branin.space(), history, 12);
  EXPECT_NE(a, b);
  EXPECT_NE(b, c);
  EXPECT_NE(a, c);
  EXPECT_THROW(GpSampler({.noise = 0.0}), InvalidArgument);
  EXPECT_THROW(GpSampler({.noise = -1.0}), InvalidArgument);
  EXPECT_EQ(gp_options_from_json(nlohmann::json{{"noise", 1e-4}}, 0).noise, 1e-4);
  EXPECT_FALSE(gp_options_from_json(nlohmann::json::object(), 0).noise.has_value());
  EXPECT_THROW(gp_options_from_json(nlohmann::json{{"noise", "x"}}, 0), InvalidArgument);
}

TEST(GpSampler, UcbAlsoConverges) {
  const objectives::Branin branin;
  GpSampler sampler({.seed = 7, .acquisition = "ucb"});
  EXPECT_LT(best_of(minimise(sampler, branin, 30)) - branin.optimum(), 0.1);
}

}  // namespace
}  // namespace quarry::samplers
