#include "quarry/samplers/tpe.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "quarry/core/rng.hpp"
#include "quarry/objectives/functions.hpp"
#include "quarry/samplers/random.hpp"
#include "quarry/samplers/registry.hpp"
#include "quarry/study/constraints.hpp"
#include "tests/samplers/convergence.hpp"
#include "tests/test_util.hpp"

namespace quarry::samplers {
namespace {

using testing::best_of;
using testing::median;

using quarry::testing::error_of;
using ::testing::HasSubstr;

Trial trial(std::int64_t number, Params params, TrialState state, std::vector<double> values = {}) {
  Trial t;
  t.number = number;
  t.state = state;
  t.params = std::move(params);
  t.values = std::move(values);
  return t;
}

Params at(double x) {
  return {{"x", x}};
}

double x_of(const Params& p) {
  return std::get<double>(p.at("x"));
}

TEST(TpeSampler, StartupTrialsAreUniformDrawsFromTheTrialsStream) {
  TpeSampler sampler({.seed = 42, .n_startup_trials = 3});
  const Param lr = Param::Float("lr", 1e-4, 1.0, {.log = true});
  std::vector<Trial> history;
  for (std::int64_t number = 0; number < 3; ++number) {
    Rng rng = Rng::stream(42, {static_cast<std::uint64_t>(number), hash_name("lr")});
    const Value v = sampler.sample_independent(lr, {}, history, number);
    EXPECT_EQ(v, lr.from_unit(rng.uniform()));
    history.push_back(trial(number, {{"lr", v}}, TrialState::Complete, {1.0}));
  }
}

TEST(TpeSampler, ProposalsConcentrateWhereTheGoodTrialsAre) {
  // 30 trials over x in [0, 1], the best near 0.8: the model's proposals stay near it.
  const Space space({Param::Float("x", 0, 1)});
  for (bool multivariate : {false, true}) {
    TpeSampler sampler({.seed = 1, .multivariate = multivariate});
    std::vector<Trial> history;
    for (std::int64_t k = 0; k < 30; ++k) {
      const double x = (k + 0.5) / 30;
      history.push_back(trial(k, at(x), TrialState::Complete, {std::abs(x - 0.8)}));
    }
    int near = 0;
    for (std::int64_t k = 30; k < 80; ++k)
      near += std::abs(x_of(sample_all(sampler, space, history, k)) - 0.8) < 0.1;
    EXPECT_GE(near, 40) << "multivariate " << multivariate;  // uniform draws: 10 of 50
  }
}

TEST(TpeSampler, MaximisedObjectivesAreTurnedIntoLosses) {
  const Space space({Param::Float("x", 0, 1)});
  TpeSampler sampler({.seed = 2});
  sampler.attach({.directions = {Direction::Maximize}});
  std::vector<Trial> history;
  for (std::int64_t k = 0; k < 30; ++k) {
    const double x = (k + 0.5) / 30;
    history.push_back(trial(k, at(x), TrialState::Complete, {x}));  // larger is better
  }
  int high = 0;
  for (std::int64_t k = 30; k < 60; ++k) high += x_of(sample_all(sampler, space, history, k)) > 0.7;
  EXPECT_GE(high, 24);
}

TEST(TpeSampler, PrunedTrialsRankBelowCompleteOnesAndFurtherStepsFirst) {
  const Space space({Param::Float("x", 0, 1)});
  TpeSampler sampler({.seed = 3, .n_startup_trials = 2, .multivariate = false});
  // One complete trial near 0.1 with a poor value, nine pruned near 0.9 with better ones: n = 10,
  // one good trial, and it must be the complete one.
  std::vector<Trial> history = {trial(0, at(0.1), TrialState::Complete, {100.0})};
  for (std::int64_t k = 1; k < 10; ++k) {
    Trial t = trial(k, at(0.88 + 0.002 * double(k)), TrialState::Pruned);
    t.intermediate = {{1, 0.0}};
    history.push_back(t);
  }
  int near = 0;
  for (std::int64_t k = 10; k < 40; ++k) near += x_of(sample_all(sampler, space, history, k)) < 0.3;
  EXPECT_GE(near, 24);
  // Among pruned trials the one that reached a later step ranks first, whatever its value.
  std::vector<Trial> pruned;
  for (std::int64_t k = 0; k < 10; ++k) {
    Trial t = trial(k, at(k == 0 ? 0.1 : 0.88 + 0.002 * double(k)), TrialState::Pruned);
    t.intermediate = k == 0 ? std::map<std::int64_t, double>{{1, 5.0}, {5, 50.0}}
                            : std::map<std::int64_t, double>{{1, 0.0}};
    pruned.push_back(t);
  }
  near = 0;
  for (std::int64_t k = 10; k < 40; ++k) near += x_of(sample_all(sampler, space, pruned, k)) < 0.3;
  EXPECT_GE(near, 24);
}

TEST(TpeSampler, TrialsThatBrokeAConstraintRankLast) {
  // 30 trials over x in [0, 1], loss x; every trial with x < 0.5 broke a constraint (half of them
  // found so after training, Complete with "feasible": false, half before, Failed with the
  // violations). The best feasible trials are just above 0.5: proposals go there, not near 0.
  const Space space({Param::Float("x", 0, 1)});
  TpeSampler sampler({.seed = 4});
  std::vector<Trial> history;
  for (std::int64_t k = 0; k < 30; ++k) {
    const double x = (k + 0.5) / 30;
    Trial t = trial(k, at(x), TrialState::Complete, {x});
    if (x < 0.5) {
      t.attrs = {{study::kFeasibleAttr, "false"},
                 {study::kConstraintsAttr, "{\"latency\": " + std::to_string(0.5 - x) + "}"}};
      if (k % 2 == 1) t.state = TrialState::Failed, t.values.clear();
    }
    history.push_back(t);
  }
  int feasible = 0;
  for (std::int64_t k = 30; k < 80; ++k)
    feasible += x_of(sample_all(sampler, space, history, k)) >= 0.45;
  EXPECT_GE(feasible, 40);  // ranking them by loss alone: proposals near 0
}

TEST(TpeSampler, ConstantLiarSteersAwayFromRunningTrials) {
  // The best trial sits at 0.5 and four workers are already evaluating points next to it: with
  // the constant liar they count as bad, so proposals spread away from 0.5.
  const Space space({Param::Float("x", 0, 1)});
  std::vector<Trial> history;
  for (std::int64_t k = 0; k < 20; ++k) {
    const double x = (k + 0.5) / 20;
    history.push_back(trial(k, at(x), TrialState::Complete, {std::abs(x - 0.5)}));
  }
  for (std::int64_t k = 20; k < 24; ++k)
    history.push_back(trial(k, at(0.5 + 0.001 * double(k - 20)), TrialState::Running));
  const auto spread = [&](bool liar) {
    TpeSampler sampler({.seed = 4, .multivariate = false, .constant_liar = liar});
    double total = 0;
    for (std::int64_t k = 24; k < 74; ++k)
      total += std::abs(x_of(sample_all(sampler, space, history, k)) - 0.5);
    return total / 50;
  };
  EXPECT_GT(spread(true), 1.5 * spread(false));
}

TEST(TpeSampler, ConditionalParametersAreFittedWhereTheyAreActive) {
  // x matters only under "a" (best at 0.8); y lives under "b", which is always worse.
  using space::Value;
  const Value a{std::string("a")}, b{std::string("b")};
  const Space space({Param::Choice("branch", {a, b}),
                     Param::Float("x", 0, 1).with_condition({"branch", {a}}),
                     Param::Float("y", 0, 1).with_condition({"branch", {b}})});
  for (bool multivariate : {false, true}) {
    TpeSampler sampler({.seed = 5, .multivariate = multivariate});
    std::vector<Trial> history;
    for (std::int64_t k = 0; k < 60; ++k) {
      Params p = sample_all(sampler, space, history, k);
      ASSERT_NO_THROW(space.validate(p));
      const double v = p.at("branch") == a ? std::abs(std::get<double>(p.at("x")) - 0.8)
                                           : 1.0 + std::get<double>(p.at("y"));
      history.push_back(trial(k, std::move(p), TrialState::Complete, {v}));
    }
    int good = 0;
    for (std::int64_t k = 40; k < 60; ++k) {
      const Params& p = history[std::size_t(k)].params;
      good += p.at("branch") == a && std::abs(std::get<double>(p.at("x")) - 0.8) < 0.1;
    }
    EXPECT_GE(good, 8) << "multivariate " << multivariate;  // random: 2 of 20 expected
  }
}

TEST(TpeSampler, OneSamplerServesManyThreadsReproducibly) {
  const Space space({Param::Float("x", 0, 1), Param::Int("n", 1, 8), Param::Boolean("b")});
  std::vector<Trial> history;
  for (std::int64_t k = 0; k < 20; ++k) {
    const double x = (k + 0.5) / 20;
    history.push_back(trial(k, {{"x", x}, {"n", std::int64_t{1 + k % 8}}, {"b", k % 2 == 0}},
                            TrialState::Complete, {x}));
  }
  TpeSampler shared({.seed = 6});
  std::vector<Params> sequential, parallel(40);
  for (std::int64_t k = 0; k < 40; ++k)
    sequential.push_back(sample_all(shared, space, history, 20 + k));
  std::vector<std::thread> threads;
  for (std::int64_t w = 0; w < 4; ++w)
    threads.emplace_back([&, w] {
      for (std::int64_t k = w; k < 40; k += 4)
        parallel[std::size_t(k)] = sample_all(shared, space, history, 20 + k);
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(parallel, sequential);
}

TEST(TpeSampler, BeatsRandomSearchOnHartmann6) {
  // Median best value over 5 seeds x 60 evaluations (optimum -3.32237). Measured when written:
  // random -2.10, univariate TPE -2.64, multivariate TPE -2.93; the margins leave room for
  // changes of the sampler's internals, not for TPE doing no better than random.
  const objectives::Hartmann6 f;
  std::vector<double> random, multivariate, univariate;
  for (std::uint64_t seed = 0; seed < 5; ++seed) {
    RandomSampler r({.seed = seed});
    TpeSampler m({.seed = seed, .multivariate = true});
    TpeSampler u({.seed = seed, .multivariate = false});
    random.push_back(best_of(r, f, 60));
    multivariate.push_back(best_of(m, f, 60));
    univariate.push_back(best_of(u, f, 60));
  }
  EXPECT_LT(median(multivariate), median(random) - 0.3);
  EXPECT_LT(median(univariate), median(random) - 0.3);
  EXPECT_LT(median(multivariate), -2.6);
}

TEST(TpeSampler, OptionsComeFromJsonAndAreChecked) {
  const TpeOptions o = tpe_options_from_json(
      {{"n_startup_trials", 5}, {"multivariate", false}, {"prior_weight", 0.5}}, 9);
  EXPECT_EQ(o.seed, 9u);
  EXPECT_EQ(o.n_startup_trials, 5);
  EXPECT_FALSE(o.multivariate);
  EXPECT_TRUE(o.constant_liar);
  EXPECT_EQ(o.prior_weight, 0.5);
  EXPECT_EQ(make_sampler("tpe", nullptr, 0)->name(), "tpe");
  EXPECT_EQ(error_of([] {
              make_sampler("tpe", {{"multivariate", 1}}, 0);
            }),
            "sampler 'tpe': option 'multivariate' must be true or false, got 1");
  EXPECT_EQ(error_of([] {
              make_sampler("tpe", {{"prior_weight", "x"}}, 0);
            }),
            "sampler 'tpe': option 'prior_weight' must be a number, got \"x\"");
  EXPECT_THAT(error_of([] {
                make_sampler("tpe", {{"gamma", 1}}, 0);
              }),
              HasSubstr("sampler 'tpe': unknown option 'gamma'"));
  EXPECT_THAT(error_of([] {
                make_sampler("tpe", {{"n_ei_candidates", 0}}, 0);
              }),
              HasSubstr("option 'n_ei_candidates' must be >= 1, got 0"));
  EXPECT_EQ(error_of([] { TpeSampler({.prior_weight = 0}); }),
            "TpeSampler: 0 < prior_weight < inf must hold, got 0");
}

}  // namespace
}  // namespace quarry::samplers
