// AutoSampler: each rule of the choice, and that the chosen sampler's proposal is the one made
// (the same proposal as that sampler alone, for the joint and the define-by-run parameters).
#include "quarry/samplers/auto.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "quarry/samplers/registry.hpp"
#include "quarry/study/constraints.hpp"
#include "tests/test_util.hpp"

namespace quarry::samplers {
namespace {

using quarry::testing::error_of;
using ::testing::HasSubstr;

Value str(const char* s) {
  return Value{std::string(s)};
}

Space numeric_space() {
  return Space({Param::Float("lr", 1e-4, 1.0, {.log = true}), Param::Int("units", 16, 256),
                Param::Choice("batch", {Value{std::int64_t{32}}, Value{std::int64_t{64}}}),
                Param::Boolean("bn"), Param::Fixed("epochs", Value{std::int64_t{10}})});
}

Space categorical_space() {
  return Space({Param::Float("lr", 1e-4, 1.0, {.log = true}),
                Param::Choice("optimizer", {str("adam"), str("sgd"), str("rmsprop")}),
                Param::Boolean("bn")});
}

Space conditional_space() {
  return Space({Param::Float("lr", 1e-4, 1.0, {.log = true}),
                Param::Choice("optimizer", {str("adam"), str("sgd")}),
                Param::Float("momentum", 0.0, 0.99).with_condition({"optimizer", {str("sgd")}})});
}

/// `n` complete trials of `space`, drawn at random, with values from their first parameter.
std::vector<Trial> history_of(const Space& space, std::int64_t n, double budget = 0) {
  auto random = make_sampler("random", nullptr, 99);
  std::vector<Trial> history;
  for (std::int64_t k = 0; k < n; ++k) {
    Trial t;
    t.number = k;
    t.params = sample_all(*random, space, history, k);
    t.state = TrialState::Complete;
    t.values = {std::log(std::get<double>(t.params.at("lr"))) + 0.1 * static_cast<double>(k % 7)};
    t.budget = budget;
    history.push_back(t);
  }
  return history;
}

TEST(AutoSampler, MostlyNumericSpacesGetTheGpUntilGpTrialsAreComplete) {
  AutoSampler sampler({.seed = 1, .gp_trials = 12});
  const Space space = numeric_space();  // Float, Int, number choice vs Boolean; Fixed not counted
  EXPECT_EQ(sampler.choose(space, {}), "gp");
  EXPECT_EQ(sampler.choose(space, history_of(space, 11)), "gp");
  EXPECT_EQ(sampler.choose(space, history_of(space, 12)), "tpe");
  AutoSampler never({.gp_trials = 0});
  EXPECT_EQ(never.choose(space, {}), "tpe");
}

TEST(AutoSampler, MostlyCategoricalSpacesGetTpe) {
  AutoSampler sampler;
  EXPECT_EQ(sampler.choose(categorical_space(), {}), "tpe");
  // An unordered choice of numbers is a category too.
  const Space unordered({Param::Float("x", 0, 1),
                         Param::Choice("a", {Value{1.0}, Value{2.0}}, {.ordered = false}),
                         Param::Choice("b", {Value{1.0}, Value{2.0}}, {.ordered = false})});
  EXPECT_EQ(sampler.choose(unordered, {}), "tpe");
}

TEST(AutoSampler, ConditionalSpacesGetTpe) {
  AutoSampler sampler;
  EXPECT_EQ(sampler.choose(conditional_space(), {}), "tpe");
  // Define-by-run: the space known now has no conditions, but finished trials hold different
  // parameters.
  const Space flat({Param::Float("lr", 1e-4, 1.0, {.log = true})});
  auto history = history_of(flat, 3);
  EXPECT_EQ(sampler.choose(flat, history), "gp");
  history[1].params["momentum"] = Value{0.5};
  EXPECT_EQ(sampler.choose(flat, history), "tpe");
}

TEST(AutoSampler, ASchedulerAtWorkGetsTpe) {
  AutoSampler sampler;
  const Space space = numeric_space();
  auto history = history_of(space, 5, /*budget=*/3);
  EXPECT_EQ(sampler.choose(space, history), "gp");  // one budget: nothing scheduled
  auto mixed = history;
  mixed[2].budget = 9;
  EXPECT_EQ(sampler.choose(space, mixed), "tpe");
  auto pruned = history;
  pruned[4].state = TrialState::Pruned;
  EXPECT_EQ(sampler.choose(space, pruned), "tpe");
}

TEST(AutoSampler, SeveralObjectivesGetNsga2AndConstraintsTpe) {
  const Space space = numeric_space();
  AutoSampler two;
  two.attach({.directions = {Direction::Minimize, Direction::Maximize}});
  EXPECT_EQ(two.choose(space, {}), "nsga2");

  AutoSampler constrained;
  auto history = history_of(space, 4);
  EXPECT_EQ(constrained.choose(space, history), "gp");
  history[3].attrs[study::kFeasibleAttr] = "false";
  EXPECT_EQ(constrained.choose(space, history), "tpe");
}

TEST(AutoSampler, ProposesWhatTheChosenSamplerProposes) {
  const Space numeric = numeric_space();
  const auto numeric_history = history_of(numeric, 15);
  AutoSampler sampler({.seed = 5});
  GpSampler gp({.seed = 5});
  const Params proposal = sample_all(sampler, numeric, numeric_history, 15);
  EXPECT_EQ(proposal, sample_all(gp, numeric, numeric_history, 15));
  TpeSampler tpe({.seed = 5});
  EXPECT_NE(proposal, sample_all(tpe, numeric, numeric_history, 15));  // the test tells them apart

  const Space conditional = conditional_space();
  const auto conditional_history = history_of(conditional, 15);
  EXPECT_EQ(sample_all(sampler, conditional, conditional_history, 15),
            sample_all(tpe, conditional, conditional_history, 15));

  // A parameter met while the trial runs is drawn by the sampler chosen for that trial.
  (void)sampler.sample_relative(numeric, numeric_history, 17);
  const Param late = Param::Float("late", 0, 1);
  EXPECT_EQ(sampler.sample_independent(late, {}, numeric_history, 17),
            gp.sample_independent(late, {}, numeric_history, 17));
}

TEST(AutoSampler, OptionsAreCheckedByName) {
  EXPECT_EQ(make_sampler("auto", {{"gp_trials", 40}}, 0)->name(), "auto");
  EXPECT_THAT(error_of([] {
                make_sampler("auto", {{"gp_trials", -1}}, 0);
              }),
              HasSubstr("gp_trials"));
  EXPECT_THAT(error_of([] {
                make_sampler("auto", {{"trials", 3}}, 0);
              }),
              HasSubstr("sampler 'auto': unknown option 'trials'"));
}

}  // namespace
}  // namespace quarry::samplers
