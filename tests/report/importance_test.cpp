// Parameter importance by fANOVA (quarry/report/importance.hpp) on functions whose answers are
// known: a dominant parameter, one that does nothing, equal additive effects, a pure interaction
// (no main effect), and the rules for which trials and parameters count.
#include "quarry/report/importance.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "quarry/core/error.hpp"
#include "quarry/core/rng.hpp"

namespace quarry::report {
namespace {

using space::Param;
using space::Value;

/// Complete trials of `f` over uniform random unit-cube points of a space of Floats in [0, 1].
std::vector<Trial> random_trials(const Space& space, int count,
                                 const std::function<double(const Params&)>& f) {
  Rng rng(11);
  std::vector<Trial> trials;
  for (int i = 0; i < count; ++i) {
    Trial t;
    t.number = i;
    t.state = TrialState::Complete;
    t.params =
        space.assign([&](const Param& p, const Params&) { return p.from_unit(rng.uniform()); });
    t.values = {f(t.params)};
    trials.push_back(std::move(t));
  }
  return trials;
}

double get(const Params& p, const std::string& name) {
  return std::get<double>(p.at(name));
}

std::map<std::string, double> as_map(const std::vector<std::pair<std::string, double>>& ranked) {
  return {ranked.begin(), ranked.end()};
}

TEST(Importance, DominantParameterFirstAndUselessOneNearZero) {
  const Space space({Param::Float("x0", 0, 1), Param::Float("x1", 0, 1), Param::Float("x2", 0, 1)});
  const auto trials = random_trials(
      space, 200, [](const Params& p) { return 10 * get(p, "x0") + 0.1 * get(p, "x1"); });
  const auto ranked = parameter_importance(space, trials, 0);
  ASSERT_EQ(ranked.size(), 3u);
  EXPECT_EQ(ranked[0].first, "x0");
  const auto shares = as_map(ranked);
  EXPECT_GT(shares.at("x0"), 0.99);
  // x1's true share is 1e-4: at 200 trials neither this nor Optuna's fANOVA tells it from x2's 0.
  EXPECT_LT(shares.at("x1"), 0.005);
  EXPECT_LT(shares.at("x2"), 0.005);
  double sum = 0;
  for (const auto& [name, share] : ranked) sum += share;
  EXPECT_NEAR(sum, 1.0, 1e-12);
}

TEST(Importance, TheSpacesOrderDoesNotDecideTies) {
  // Deep in a tree two rows can often be split by any parameter equally well. Were parameters
  // always tried in the space's order, the first would win those ties: a useless x2 listed first
  // got ~1000x the share it gets when listed last (2e-5 against 3e-8). Tried in a random order
  // per split (as scikit-learn does), its share is noise either way.
  const auto useless_share = [](bool first) {
    std::vector<Param> params = {Param::Float("x0", 0, 1), Param::Float("x1", 0, 1)};
    params.insert(first ? params.begin() : params.end(), Param::Float("x2", 0, 1));
    const Space space(params);
    const auto trials = random_trials(
        space, 200, [](const Params& p) { return 10 * get(p, "x0") + 0.1 * get(p, "x1"); });
    return as_map(parameter_importance(space, trials, 0)).at("x2");
  };
  const double first = useless_share(true), last = useless_share(false);
  EXPECT_LT(first, 20 * last) << first << " " << last;
  EXPECT_LT(last, 20 * first) << first << " " << last;
}

TEST(Importance, EqualAdditiveEffectsShareEqually) {
  const Space space({Param::Float("a", 0, 1), Param::Float("b", 0, 1)});
  const auto trials =
      random_trials(space, 400, [](const Params& p) { return get(p, "a") + get(p, "b"); });
  const auto shares = as_map(parameter_importance(space, trials, 0));
  EXPECT_NEAR(shares.at("a"), 0.5, 0.08);
  EXPECT_NEAR(shares.at("b"), 0.5, 0.08);
}

TEST(Importance, APureInteractionHasNoMainEffect) {
  // On a balanced grid, (a > 0.5) xor (b > 0.5) averages to 0.5 along either axis alone.
  std::vector<std::vector<double>> x;
  std::vector<double> y;
  for (int i = 0; i < 20; ++i)
    for (int j = 0; j < 20; ++j) {
      x.push_back({(i + 0.5) / 20, (j + 0.5) / 20});
      y.push_back(((i < 10) != (j < 10)) ? 1.0 : 0.0);
    }
  const auto shares = fanova(Forest::fit(x, y, {.trees = 16, .seed = 5}));
  EXPECT_LT(shares[0], 0.05);
  EXPECT_LT(shares[1], 0.05);
}

TEST(Importance, MatchesTheAnalyticVarianceShares) {
  // f = 3a + b on [0, 1]^2: Var(3a) = 9/12, Var(b) = 1/12, so the shares are 0.9 and 0.1.
  const Space space({Param::Float("a", 0, 1), Param::Float("b", 0, 1)});
  const auto trials =
      random_trials(space, 1000, [](const Params& p) { return 3 * get(p, "a") + get(p, "b"); });
  const auto shares = as_map(parameter_importance(space, trials, 0));
  EXPECT_NEAR(shares.at("a"), 0.9, 0.03);
  EXPECT_NEAR(shares.at("b"), 0.1, 0.03);
}

TEST(Importance, ChoicesLogScalesAndWhichParametersCount) {
  const Space space({Param::Float("lr", 1e-5, 1e-1, {.log = true}),
                     Param::Choice("act", {Value{std::string("relu")}, Value{std::string("tanh")},
                                           Value{std::string("gelu")}}),
                     Param::Fixed("epochs", Value{std::int64_t{10}}), Param::Int("units", 16, 16)});
  auto trials = random_trials(space, 300, [](const Params& p) {
    // Linear in log10(lr): a log-scaled parameter measured on its log axis.
    return std::log10(get(p, "lr")) + (std::get<std::string>(p.at("act")) == "tanh" ? 0.5 : 0.0);
  });
  // Failed and non-finite trials are not data.
  trials[0].state = TrialState::Failed;
  trials[1].values = {std::nan("")};
  const auto data = importance_data(space, trials, 0);
  EXPECT_EQ(data.params, (std::vector<std::string>{"lr", "act"}));
  EXPECT_EQ(data.y.size(), 298u);
  EXPECT_EQ(data.trials.front(), 2);
  const auto ranked = parameter_importance(space, trials, 0);
  EXPECT_EQ(ranked[0].first, "lr");
  EXPECT_GT(ranked[1].second, 0.02);  // act matters a little
}

TEST(Importance, ParametersMissingFromSomeTrialsAreLeftOut) {
  const Space space({Param::Float("a", 0, 1), Param::Float("b", 0, 1)});
  auto trials = random_trials(space, 50, [](const Params& p) { return get(p, "a"); });
  trials[3].params.erase("b");  // b is conditional: absent from one trial
  EXPECT_EQ(importance_data(space, trials, 0).params, std::vector<std::string>{"a"});
}

TEST(Importance, RefusesTooFewTrialsOrNothingThatVaries) {
  const Space space({Param::Float("a", 0, 1)});
  auto trials = random_trials(space, 1, [](const Params& p) { return get(p, "a"); });
  EXPECT_THROW(parameter_importance(space, trials, 0), InvalidArgument);
  const Space fixed({Param::Fixed("k", Value{1.0})});
  EXPECT_THROW(
      parameter_importance(fixed, random_trials(fixed, 5, [](const Params&) { return 1.0; }), 0),
      InvalidArgument);
}

TEST(Importance, ConstantValuesGiveZeroImportance) {
  const Space space({Param::Float("a", 0, 1), Param::Float("b", 0, 1)});
  const auto ranked =
      parameter_importance(space, random_trials(space, 20, [](const Params&) { return 2.0; }), 0);
  for (const auto& [name, share] : ranked) EXPECT_EQ(share, 0.0);
}

TEST(Importance, MarginalOfTwoColumnsAveragesOverTheOthers) {
  // f = 3a + b + 2c: averaged over c (mean 1), the (a, b) marginal is 3a + b + 1.
  Rng rng(5);
  std::vector<std::vector<double>> x;
  std::vector<double> y;
  for (int i = 0; i < 1500; ++i) {
    const double a = rng.uniform(), b = rng.uniform(), c = rng.uniform();
    x.push_back({a, b, c});
    y.push_back(3 * a + b + 2 * c);
  }
  const auto forest = Forest::fit(x, y, {.trees = 16, .seed = 2});
  const int n = 10;
  const auto grid = marginal_2d(forest, 0, 1, n);
  ASSERT_EQ(grid.size(), static_cast<std::size_t>(n * n));
  for (int i = 0; i < n; i += 3)
    for (int j = 0; j < n; j += 3) {
      const double a = (j + 0.5) / n, b = (i + 0.5) / n;
      EXPECT_NEAR(grid[static_cast<std::size_t>(i * n + j)], 3 * a + b + 1, 0.25) << i << "," << j;
    }
  EXPECT_THROW(marginal_2d(forest, 0, 0, n), InvalidArgument);
  EXPECT_THROW(marginal_2d(forest, 0, 3, n), InvalidArgument);
}

}  // namespace
}  // namespace quarry::report
