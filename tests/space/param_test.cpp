#include "quarry/space/param.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/test_util.hpp"

#include <nlohmann/json.hpp>

#include "quarry/core/error.hpp"
#include "quarry/core/rng.hpp"

namespace quarry::space {
namespace {

using ::testing::HasSubstr;

using quarry::testing::error_of;

TEST(Param, ValidationMessagesNameParameterRuleAndValues) {
  EXPECT_EQ(error_of([] { Param::Int("units", 512, 16); }),
            "Int('units'): low <= high must hold, got low=512, high=16");
  EXPECT_EQ(error_of([] { Param::Float("lr", 0.0, 1.0, {.log = true}); }),
            "Float('lr'): log sampling needs low > 0, got low=0");
  EXPECT_EQ(error_of([] { Param::Choice("opt", {}); }),
            "Choice('opt'): needs at least one value, got an empty list");
  EXPECT_THAT(error_of([] { Param::Int("n", 1, 10, {.step = 0}); }), HasSubstr("step > 0"));
  EXPECT_THAT(error_of([] { Param::Int("n", 0, 10, {.log = true}); }), HasSubstr("low >= 1"));
  EXPECT_THAT(error_of([] { Param::Float("x", 1, 2, {.step = 0.1, .log = true}); }),
              HasSubstr("step and log cannot be used together"));
  EXPECT_THAT(error_of([] { Param::Int("n", 1, 10, {.step = 2, .default_value = 2}); }),
              HasSubstr("default 2"));
  EXPECT_THAT(error_of([] {
                Param::Choice("c", {Value{"a"}, Value{"a"}});
              }),
              HasSubstr("listed twice"));
  EXPECT_THAT(error_of([] {
                Param::Choice("c", {Value{"a"}, Value{std::int64_t{1}}});
              }),
              HasSubstr("one type"));
}

TEST(Param, IntWithStepMapsEverySliceToOneValue) {
  const auto p = Param::Int("units", 16, 512, {.step = 16});
  const auto values = p.discrete_values();
  ASSERT_EQ(values.size(), 32u);
  EXPECT_EQ(std::get<std::int64_t>(values.back()), 512);
  for (const auto& v : values) {
    EXPECT_TRUE(p.contains(v));
    EXPECT_TRUE(same_value(p.from_unit(p.to_unit(v)), v)) << to_string(v);
  }
  EXPECT_EQ(std::get<std::int64_t>(p.from_unit(0.0)), 16);
  EXPECT_EQ(std::get<std::int64_t>(p.from_unit(0.999999)), 512);
  EXPECT_EQ(std::get<std::int64_t>(p.from_unit(1.0)), 512);
  EXPECT_FALSE(p.contains(Value{std::int64_t{17}}));
}

TEST(Param, LogScalesSpreadDrawsEvenlyOverDecades) {
  const auto f = Param::Float("lr", 1e-5, 1e-1, {.log = true});
  EXPECT_NEAR(std::get<double>(f.from_unit(0.5)), 1e-3, 1e-12);
  EXPECT_NEAR(f.to_unit(Value{1e-3}), 0.5, 1e-12);
  const auto i = Param::Int("n", 1, 1000, {.log = true});
  Rng rng(1);
  int below_ten = 0;
  for (int k = 0; k < 3000; ++k) {
    const auto v = std::get<std::int64_t>(i.from_unit(rng.uniform()));
    ASSERT_GE(v, 1);
    ASSERT_LE(v, 1000);
    below_ten += v < 10;
  }
  // log-uniform over [0.5, 1000.5]: P(v < 10) = log(9.5/0.5)/log(1000.5/0.5) ~ 0.387
  EXPECT_NEAR(below_ten / 3000.0, 0.387, 0.04);
}

TEST(Param, FloatStepAndChoiceRoundTrip) {
  const auto f = Param::Float("dropout", 0.0, 0.5, {.step = 0.1});
  EXPECT_EQ(f.discrete_values().size(), 6u);
  for (const auto& v : f.discrete_values()) EXPECT_TRUE(same_value(f.from_unit(f.to_unit(v)), v));
  const auto c = Param::Choice("opt", {Value{"adam"}, Value{"sgd"}, Value{"rmsprop"}});
  EXPECT_FALSE(c.ordered());
  EXPECT_EQ(std::get<std::string>(c.from_unit(0.5)), "sgd");
  const auto n = Param::Choice("lr", {Value{1e-2}, Value{1e-3}});
  EXPECT_TRUE(n.ordered());
  const auto b = Param::Boolean("flag", {.default_value = true});
  EXPECT_EQ(std::get<bool>(b.from_unit(0.7)), true);
  EXPECT_EQ(std::get<bool>(b.default_value()), true);
  const auto x = Param::Fixed("seed", Value{std::int64_t{3}});
  EXPECT_EQ(std::get<std::int64_t>(x.from_unit(0.1)), 3);
}

TEST(Param, JsonRoundTripKeepsTheDefinition) {
  const std::vector<Param> params = {
      Param::Int("units", 16, 512, {.step = 16, .default_value = 32}),
      Param::Int("n", 1, 100, {.log = true}),
      Param::Float("lr", 1e-4, 1e-1, {.log = true, .default_value = 1e-3}),
      Param::Float("d", 0, 0.5, {.step = 0.1}),
      Param::Choice("opt", {Value{"adam"}, Value{"sgd"}}, {.default_value = Value{"sgd"}}),
      Param::Boolean("b", {.default_value = true}),
      Param::Fixed("f", Value{"x"}),
      Param::Float("m", 0, 1).with_condition({"opt", {Value{"sgd"}}})};
  for (const auto& p : params) {
    const auto back = Param::from_json(nlohmann::json::parse(p.to_json().dump()));
    EXPECT_EQ(back, p) << p.describe() << " vs " << back.describe();
  }
}

TEST(Param, DescribeReadsLikeTheCall) {
  EXPECT_EQ(Param::Int("units", 16, 512, {.step = 16}).describe(),
            "Int('units', 16, 512, step=16)");
  EXPECT_EQ(Param::Float("lr", 0.001, 0.1, {.log = true}).describe(),
            "Float('lr', 0.001, 0.1, log=true)");
  EXPECT_EQ(Param::Choice("o", {Value{"a"}, Value{"b"}}).describe(), "Choice('o', ['a', 'b'])");
}

}  // namespace
}  // namespace quarry::space
