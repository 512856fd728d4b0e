#include "quarry/space/hyperparameters.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "quarry/core/error.hpp"

namespace quarry::space {
namespace {

TEST(HyperParameters, FirstCallRegistersAndReturnsDefault) {
  HyperParameters hp;
  EXPECT_EQ(hp.Int("units", 16, 512, {.step = 16}), 16);
  EXPECT_EQ(hp.Choice("learning_rate", {1e-2, 1e-3, 1e-4}), 1e-2);
  EXPECT_EQ(hp.Choice("optimizer", {"adam", "sgd"}), "adam");
  EXPECT_EQ(hp.Choice("layers", {1, 2, 3}), 1);
  EXPECT_FALSE(hp.Boolean("bn"));
  EXPECT_EQ(hp.Fixed("epochs", std::int64_t{10}), 10);
  EXPECT_EQ(hp.space().size(), 6u);
  EXPECT_EQ(hp.values().size(), 6u);
}

TEST(HyperParameters, AssignedValuesWinAndSuggestFillsTheRest) {
  HyperParameters hp({{"units", Value{std::int64_t{64}}}},
                     [](const Param& p, const Params&) { return p.from_unit(0.99); });
  EXPECT_EQ(hp.Int("units", 16, 512, {.step = 16}), 64);
  EXPECT_EQ(hp.Float("dropout", 0.0, 0.5, {.step = 0.1}), 0.5);
}

TEST(HyperParameters, RedefiningANameIsAnError) {
  HyperParameters hp;
  hp.Int("units", 16, 512, {.step = 16});
  EXPECT_NO_THROW(hp.Int("units", 16, 512, {.step = 16}));
  try {
    hp.Int("units", 16, 256, {.step = 16});
    FAIL() << "expected InvalidArgument";
  } catch (const InvalidArgument& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr(
                              "'units' is already defined as Int('units', 16, 512, step=16)"));
  }
}

TEST(HyperParameters, ConditionalScopeActivatesOnlyUnderItsParent) {
  auto build = [](HyperParameters& hp) {
    const auto opt = hp.Choice("optimizer", {"adam", "sgd"});
    double momentum = -1;
    {
      auto scope = hp.conditional_scope("optimizer", {Value{"sgd"}});
      momentum = hp.Float("momentum", 0.0, 0.9, {.default_value = 0.5});
    }
    (void)opt;
    return momentum;
  };
  HyperParameters adam({{"optimizer", Value{"adam"}}});
  EXPECT_EQ(build(adam), 0.5);  // inactive: the default, not recorded
  EXPECT_FALSE(adam.is_active("momentum"));
  EXPECT_EQ(adam.values().count("momentum"), 0u);
  HyperParameters sgd({{"optimizer", Value{"sgd"}}, {"momentum", Value{0.8}}});
  EXPECT_EQ(build(sgd), 0.8);
  EXPECT_TRUE(sgd.is_active("momentum"));
  ASSERT_EQ(sgd.space().find("momentum")->conditions().size(), 1u);
  EXPECT_EQ(sgd.space().find("momentum")->conditions()[0].parent, "optimizer");
}

TEST(HyperParameters, ScopeOnUnknownParentOrValueIsAnError) {
  HyperParameters hp;
  EXPECT_THROW((void)hp.conditional_scope("nope", {Value{"x"}}), InvalidArgument);
  hp.Choice("optimizer", {"adam", "sgd"});
  EXPECT_THROW((void)hp.conditional_scope("optimizer", {Value{"rmsprop"}}), InvalidArgument);
}

}  // namespace
}  // namespace quarry::space
