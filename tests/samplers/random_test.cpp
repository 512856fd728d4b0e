#include "quarry/samplers/random.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "quarry/core/rng.hpp"

namespace quarry::samplers {
namespace {

Value str(const char* s) {
  return Value{std::string(s)};
}

/// 3 * 2 = 6 configurations.
Space tiny_space() {
  return Space(
      {Param::Choice("act", {str("relu"), str("tanh"), str("gelu")}), Param::Boolean("bn")});
}

Trial trial(std::int64_t number, Params params, TrialState state = TrialState::Complete) {
  Trial t;
  t.number = number;
  t.state = state;
  t.params = std::move(params);
  return t;
}

TEST(RandomSampler, DrawsFromTheStreamOfSeedNumberAndName) {
  // Pins the stream derivation: changing it would change every stored study's reproduction.
  RandomSampler sampler({.seed = 42});
  const Param lr = Param::Float("lr", 1e-4, 1.0, {.log = true});
  for (std::int64_t number : {0, 1, 17}) {
    Rng rng = Rng::stream(42, {static_cast<std::uint64_t>(number), hash_name("lr"), 0});
    EXPECT_EQ(sampler.sample_independent(lr, {}, {}, number), lr.from_unit(rng.uniform()));
  }
}

TEST(RandomSampler, FirstTrialsOfATinyDiscreteSpaceAreAllDistinct) {
  const Space space = tiny_space();
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    RandomSampler sampler({.seed = seed});
    std::vector<Trial> history;
    std::set<Params> seen;
    for (std::int64_t k = 0; k < 6; ++k) {
      Params p = sample_all(sampler, space, history, k);
      seen.insert(p);
      history.push_back(trial(k, p));
    }
    EXPECT_EQ(seen.size(), 6u) << "seed " << seed;
  }
}

TEST(RandomSampler, TrialsInAnyStateCountAsTaken) {
  const Space space = tiny_space();
  RandomSampler sampler({.seed = 1});
  const std::vector<Params> all = {{{"act", str("relu")}, {"bn", false}},
                                   {{"act", str("relu")}, {"bn", true}},
                                   {{"act", str("tanh")}, {"bn", false}},
                                   {{"act", str("tanh")}, {"bn", true}},
                                   {{"act", str("gelu")}, {"bn", false}}};
  const TrialState states[] = {TrialState::Running, TrialState::Waiting, TrialState::Failed,
                               TrialState::Pruned, TrialState::Complete};
  std::vector<Trial> history;
  for (std::size_t i = 0; i < all.size(); ++i)
    history.push_back(trial(static_cast<std::int64_t>(i), all[i], states[i]));
  const Params only_free = {{"act", str("gelu")}, {"bn", true}};
  for (std::int64_t k = 5; k < 15; ++k)
    EXPECT_EQ(sample_all(sampler, space, history, k), only_free);
}

TEST(RandomSampler, TheTrialItselfInTheHistoryIsNotADuplicate) {
  const Space space = tiny_space();
  RandomSampler sampler({.seed = 4});
  const Params first = sample_all(sampler, space, {}, 3);
  EXPECT_EQ(sample_all(sampler, space, {trial(3, first, TrialState::Running)}, 3), first);
}

TEST(RandomSampler, AnExhaustedSpaceStillGivesALegalConfiguration) {
  const Space space = tiny_space();
  RandomSampler sampler({.seed = 2});
  std::vector<Trial> history;
  for (std::int64_t k = 0; k < 6; ++k)
    history.push_back(trial(k, sample_all(sampler, space, history, k)));
  const Params seventh = sample_all(sampler, space, history, 6);
  EXPECT_NO_THROW(space.validate(seventh));
  EXPECT_EQ(seventh, sample_all(sampler, space, {}, 6));  // the first draw, accepted as it is
}

TEST(RandomSampler, ReadsTheHistoryOnlyWhenEveryParameterIsDiscrete) {
  RandomSampler sampler;
  EXPECT_TRUE(sampler.uses_history(tiny_space()));
  Space with_float = tiny_space();
  with_float.add(Param::Float("dropout", 0.0, 0.5));
  EXPECT_FALSE(sampler.uses_history(with_float));
  EXPECT_TRUE(
      sampler.sample_relative(with_float, {}, 0).empty());  // all left to sample_independent
  EXPECT_FALSE(sampler.uses_history(Space()));
  with_float.add(Param::Float("wd", 0.0, 0.1, {.step = 0.01}));
  EXPECT_FALSE(sampler.uses_history(with_float));
}

TEST(RandomSampler, JointAndIndependentDrawsAgreeOnTheFirstAttempt) {
  // A parameter drawn jointly (discrete space, empty history) gets the value it would get alone,
  // so a trial's values do not depend on whether the sampler saw the space up front.
  const Space space = tiny_space();
  RandomSampler sampler({.seed = 8});
  for (std::int64_t k = 0; k < 10; ++k) {
    const Params joint = sampler.sample_relative(space, {}, k);
    for (const Param& p : space.params())
      EXPECT_EQ(joint.at(p.name()), sampler.sample_independent(p, joint, {}, k));
  }
}

TEST(RandomSampler, IntValuesAreDrawnUniformly) {
  RandomSampler sampler({.seed = 6});
  const Param digit = Param::Int("digit", 0, 9);
  std::vector<int> counts(10, 0);
  for (std::int64_t k = 0; k < 5000; ++k)
    ++counts[static_cast<std::size_t>(
        std::get<std::int64_t>(sampler.sample_independent(digit, {}, {}, k)))];
  for (int c : counts) {  // 500 expected each; the standard deviation is ~21
    EXPECT_GT(c, 400);
    EXPECT_LT(c, 600);
  }
}

}  // namespace
}  // namespace quarry::samplers
