// The conformance suite every sampler passes. Adding a sampler: one line in kCases below (and its
// entry in quarry/samplers/registry.cpp; a test checks the two lists agree).
//
// Randomised samplers must give the same trials for the same seed and different trials for another
// seed. A deterministic sampler (the grid) is deterministic by design: for it the suite asserts the
// opposite, that the seed is ignored, and skips the statistical check of log scales. A sampler that
// needs discrete parameters (the grid) runs on the all-discrete variant of the space only.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/test_util.hpp"

#include <algorithm>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "quarry/core/error.hpp"
#include "quarry/samplers/registry.hpp"

namespace quarry::samplers {
namespace {

using space::Condition;
using ::testing::HasSubstr;

struct Traits {
  bool randomised = true;      ///< draws depend on the seed
  bool discrete_only = false;  ///< every parameter must be discrete
  std::int64_t trials = 300;   ///< history length for the range check (model-based: fewer)
};

struct SamplerCase {
  std::string name;
  std::function<std::unique_ptr<Sampler>(std::uint64_t seed)> make;
  Traits traits;
};

std::function<std::unique_ptr<Sampler>(std::uint64_t)> registered(const std::string& name) {
  return [name](std::uint64_t seed) { return make_sampler(name, nlohmann::json::object(), seed); };
}

// clang-format off
const std::vector<SamplerCase> kCases = {
    {"random", registered("random"), {.randomised = true}},
    {"auto", registered("auto"), {.randomised = true, .trials = 60}},
    {"cmaes", registered("cmaes"), {.randomised = true, .trials = 150}},
    {"grid", registered("grid"), {.randomised = false, .discrete_only = true}},
    {"gp", registered("gp"), {.randomised = true, .trials = 60}},
    {"tpe", registered("tpe"), {.randomised = true, .trials = 150}},
    {"evolution", registered("evolution"), {.randomised = true}},
    {"rl", registered("rl"), {.randomised = true}},
    {"nsga2", registered("nsga2"), {.randomised = true}},
    {"surrogate", registered("surrogate"), {.randomised = true, .trials = 60}},
};
// clang-format on

Value str(const char* s) {
  return Value{std::string(s)};
}
Value num(std::int64_t i) {
  return Value{i};
}

/// Every kind of parameter, steps, log scales and a conditional child (momentum, under sgd).
Space mixed_space() {
  return Space({Param::Int("units", 16, 256, {.step = 16}),
                Param::Int("layers", 1, 64, {.log = true}), Param::Float("dropout", 0.0, 0.5),
                Param::Float("lr", 1e-4, 1.0, {.log = true}),
                Param::Float("wd", 0.0, 0.1, {.step = 0.01}),
                Param::Choice("optimizer", {str("adam"), str("sgd")}),
                Param::Float("momentum", 0.0, 0.99).with_condition({"optimizer", {str("sgd")}}),
                Param::Choice("batch", {num(16), num(32), num(64)}), Param::Boolean("bn"),
                Param::Fixed("epochs", num(10))});
}

/// The same kinds, every one discrete: 4 * 4 * 3 * (1 + 3) * 2 * 2 * 2 = 1536 combinations.
Space discrete_space() {
  return Space({Param::Int("units", 16, 64, {.step = 16}),
                Param::Int("layers", 1, 4, {.log = true}),
                Param::Float("wd", 0.0, 0.5, {.step = 0.25}),
                Param::Choice("optimizer", {str("adam"), str("sgd")}),
                Param::Float("momentum", 0.0, 0.9, {.step = 0.45})
                    .with_condition({"optimizer", {str("sgd")}}),
                Param::Choice("batch", {num(16), num(32)}), Param::Choice("lr", {0.1, 0.01}),
                Param::Boolean("bn"), Param::Fixed("epochs", num(10))});
}

/// Runs `n` trials (fewer if the sampler's capacity is smaller), each completed before the next.
std::vector<Trial> run_trials(Sampler& sampler, const Space& space, std::int64_t n) {
  n = std::min(n, sampler.capacity(space).value_or(n));
  std::vector<Trial> history;
  for (std::int64_t k = 0; k < n; ++k) {
    Trial t;
    t.number = k;
    t.state = TrialState::Complete;
    t.params = sample_all(sampler, space, history, k);
    t.values = {static_cast<double>(k)};
    history.push_back(std::move(t));
  }
  return history;
}

std::vector<Params> params_of(const std::vector<Trial>& trials) {
  std::vector<Params> out;
  for (const auto& t : trials) out.push_back(t.params);
  return out;
}

class SamplerConformance : public ::testing::TestWithParam<SamplerCase> {
 protected:
  std::unique_ptr<Sampler> make(std::uint64_t seed) const { return GetParam().make(seed); }
  const Traits& traits() const { return GetParam().traits; }
  std::vector<Space> spaces() const {
    if (traits().discrete_only) return {discrete_space()};
    return {discrete_space(), mixed_space()};
  }
};

TEST_P(SamplerConformance, NameMatchesItsRegistryEntry) {
  EXPECT_EQ(make(0)->name(), GetParam().name);
}

TEST_P(SamplerConformance, ValuesStayInRangeAndCoverEveryActiveParameter) {
  for (const Space& space : spaces()) {
    const auto trials = run_trials(*make(3), space, traits().trials);
    ASSERT_FALSE(trials.empty());
    for (const auto& t : trials) {
      EXPECT_NO_THROW(space.validate(t.params)) << "trial " << t.number;  // exact active set
      for (const auto& [name, value] : t.params)
        EXPECT_TRUE(space.find(name)->contains(value)) << name << "=" << space::to_string(value);
      const bool sgd = t.params.at("optimizer") == str("sgd");
      EXPECT_EQ(t.params.count("momentum"), sgd ? 1u : 0u) << "trial " << t.number;
    }
  }
}

TEST_P(SamplerConformance, SameSeedGivesIdenticalTrials) {
  for (const Space& space : spaces())
    EXPECT_EQ(params_of(run_trials(*make(11), space, 40)),
              params_of(run_trials(*make(11), space, 40)));
}

TEST_P(SamplerConformance, OtherSeedGivesOtherTrialsUnlessDeterministicByDesign) {
  for (const Space& space : spaces()) {
    const auto a = params_of(run_trials(*make(1), space, 40));
    const auto b = params_of(run_trials(*make(2), space, 40));
    if (traits().randomised)
      EXPECT_NE(a, b);
    else
      EXPECT_EQ(a, b) << "a deterministic sampler must ignore its seed";
  }
}

TEST_P(SamplerConformance, TrialDependsOnItsNumberNotOnCallOrder) {
  const Space space = discrete_space();
  const auto in_order = make(5);
  std::vector<Params> forward;
  for (std::int64_t k = 0; k < 12; ++k) forward.push_back(sample_all(*in_order, space, {}, k));
  const auto reversed = make(5);
  run_trials(*reversed, Space({Param::Boolean("other")}), 2);  // used on another space first
  for (std::int64_t k = 11; k >= 0; --k)
    EXPECT_EQ(sample_all(*reversed, space, {}, k), forward[static_cast<std::size_t>(k)]) << k;
}

TEST_P(SamplerConformance, EveryValueOfASmallChoiceIsVisited) {
  const Space space({Param::Choice("act", {str("relu"), str("tanh"), str("gelu")})});
  std::set<std::string> seen;
  for (const auto& t : run_trials(*make(7), space, 60))
    seen.insert(std::get<std::string>(t.params.at("act")));
  EXPECT_EQ(seen.size(), 3u);
}

TEST_P(SamplerConformance, LogScaleSpreadsDrawsEvenlyOverDecades) {
  if (!traits().randomised) {
    // A deterministic sampler makes no claim about distributions: it enumerates every value of a
    // log-scaled discrete parameter, each exactly once.
    const Space ints({Param::Int("n", 1, 64, {.log = true})});
    std::set<std::int64_t> seen;
    for (const auto& t : run_trials(*make(13), ints, 64))
      seen.insert(std::get<std::int64_t>(t.params.at("n")));
    EXPECT_EQ(seen.size(), 64u);
    return;
  }
  // Without a history every sampler draws at random (model-based ones start that way).
  const Space space({Param::Float("lr", 1e-4, 1.0, {.log = true})});
  const auto sampler = make(13);
  std::int64_t below = 0;
  for (std::int64_t k = 0; k < 1000; ++k)
    below += std::get<double>(sample_all(*sampler, space, {}, k).at("lr")) < 1e-2;  // mid-decade
  EXPECT_GT(below, 400);  // 500 expected; the binomial standard deviation is ~16
  EXPECT_LT(below, 600);
}

TEST_P(SamplerConformance, ParameterMetWhileTheTrialRunsGetsALegalValue) {
  const auto sampler = make(9);
  const Space space = discrete_space();
  const Params assigned = sample_all(*sampler, space, {}, 0);
  for (const Param& late :
       {Param::Int("late_int", 0, 9, {.step = 3}),
        Param::Float("late_float", 1e-3, 1.0, {.log = true}),
        Param::Choice("late_choice", {str("a"), str("b")}), Param::Boolean("late_bool")})
    for (std::int64_t k = 0; k < 5; ++k)
      EXPECT_TRUE(late.contains(sampler->sample_independent(late, assigned, {}, k)))
          << late.describe();
}

TEST_P(SamplerConformance, RunningPrunedAndFailedTrialsInTheHistoryAreHandled) {
  // Parallel workers: half the history is still running (parameters, no value); some trials
  // were pruned (intermediate values only) or failed. Proposals stay legal and reproducible.
  for (const Space& space : spaces()) {
    auto history = run_trials(*make(4), space, 30);
    for (auto& t : history) {
      if (t.number % 2) t.state = TrialState::Running, t.values.clear();
      if (t.number % 5 == 0)
        t.state = TrialState::Pruned, t.values.clear(), t.intermediate = {{1, 3.0}};
      if (t.number % 7 == 0) t.state = TrialState::Failed, t.values.clear();
    }
    const auto a = make(4), b = make(4);
    for (std::int64_t k = 30; k < 34; ++k) {
      const Params p = sample_all(*a, space, history, k);
      EXPECT_NO_THROW(space.validate(p)) << "trial " << k;
      EXPECT_EQ(p, sample_all(*b, space, history, k)) << "trial " << k;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Samplers, SamplerConformance, ::testing::ValuesIn(kCases),
                         [](const auto& tp) { return tp.param.name; });

TEST(SamplerRegistry, EveryRegisteredSamplerHasAConformanceLine) {
  for (const auto& entry : sampler_registry()) {
    EXPECT_FALSE(entry.description.empty()) << entry.name;
    EXPECT_TRUE(std::any_of(kCases.begin(), kCases.end(),
                            [&](const SamplerCase& c) { return c.name == entry.name; }))
        << "add '" << entry.name << "' to kCases in tests/samplers/conformance_test.cpp";
  }
  EXPECT_TRUE(std::is_sorted(sampler_registry().begin(), sampler_registry().end(),
                             [](const auto& a, const auto& b) { return a.name < b.name; }));
}

using quarry::testing::error_of;

TEST(SamplerRegistry, UnknownNamesAndOptionsAreRefusedByName) {
  EXPECT_EQ(error_of([] { make_sampler("foo", {}, 0); }),
            "unknown sampler 'foo' (known: auto, cmaes, evolution, gp, grid, nsga2, random, rl, "
            "surrogate, tpe)");
  EXPECT_EQ(error_of([] {
              make_sampler("random", {{"bar", 1}}, 0);
            }),
            "sampler 'random': unknown option 'bar' (options: seed)");
  EXPECT_EQ(error_of([] {
              make_sampler("grid", {{"bar", 1}}, 0);
            }),
            "sampler 'grid': unknown option 'bar' (options: seed)");
  EXPECT_THAT(error_of([] {
                make_sampler("random", {{"seed", -1}}, 0);
              }),
              HasSubstr("option 'seed' must be a non-negative integer, got -1"));
  EXPECT_THAT(error_of([] {
                make_sampler("random", {{"seed", "x"}}, 0);
              }),
              HasSubstr("option 'seed' must be a non-negative integer"));
  EXPECT_THAT(error_of([] { make_sampler("random", nlohmann::json::array({1}), 0); }),
              HasSubstr("options must be a mapping"));
}

TEST(SamplerRegistry, SeedOptionOverridesTheStudySeed) {
  const Space space = mixed_space();
  const auto with_option = make_sampler("random", {{"seed", 5}}, 99);
  const auto from_study = make_sampler("random", nullptr, 5);
  const auto other = make_sampler("random", nullptr, 99);
  EXPECT_EQ(sample_all(*with_option, space, {}, 0), sample_all(*from_study, space, {}, 0));
  EXPECT_NE(sample_all(*with_option, space, {}, 0), sample_all(*other, space, {}, 0));
  EXPECT_EQ(make_sampler("grid", {{"seed", 5}}, 0)->name(), "grid");  // accepted, ignored
}

}  // namespace
}  // namespace quarry::samplers
