#include "quarry/samplers/grid.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/test_util.hpp"

#include <set>
#include <string>
#include <thread>
#include <vector>

#include "quarry/core/error.hpp"

namespace quarry::samplers {
namespace {

using ::testing::HasSubstr;

Value str(const char* s) {
  return Value{std::string(s)};
}
Value num(std::int64_t i) {
  return Value{i};
}

std::vector<Params> enumerate(GridSampler& grid, const Space& space) {
  std::vector<Params> out;
  const std::int64_t n = grid.capacity(space).value();
  for (std::int64_t k = 0; k < n; ++k) out.push_back(sample_all(grid, space, {}, k));
  return out;
}

using quarry::testing::error_of;

TEST(GridSampler, FirstParameterVariesSlowestValuesInDeclaredOrder) {
  const Space space({Param::Choice("act", {str("tanh"), str("relu")}), Param::Int("layers", 1, 3)});
  GridSampler grid;
  EXPECT_EQ(grid.capacity(space), 6);
  const std::vector<Params> expected = {
      {{"act", str("tanh")}, {"layers", num(1)}}, {{"act", str("tanh")}, {"layers", num(2)}},
      {{"act", str("tanh")}, {"layers", num(3)}}, {{"act", str("relu")}, {"layers", num(1)}},
      {{"act", str("relu")}, {"layers", num(2)}}, {{"act", str("relu")}, {"layers", num(3)}}};
  EXPECT_EQ(enumerate(grid, space), expected);
}

TEST(GridSampler, AConditionalChildOnlyMultipliesItsBranch) {
  const Space space(
      {Param::Choice("optimizer", {str("adam"), str("sgd")}),
       Param::Choice("momentum", {0.0, 0.9}).with_condition({"optimizer", {str("sgd")}})});
  GridSampler grid;
  EXPECT_EQ(grid.capacity(space), 3);
  const std::vector<Params> expected = {{{"optimizer", str("adam")}},
                                        {{"optimizer", str("sgd")}, {"momentum", 0.0}},
                                        {{"optimizer", str("sgd")}, {"momentum", 0.9}}};
  EXPECT_EQ(enumerate(grid, space), expected);
}

TEST(GridSampler, WalksNestedConditionsAsATree) {
  // model in {linear, mlp}; under mlp: layers in {1, 2}; under layers=2: width in {8, 16};
  // bn (unconditional, after them) doubles every branch: (1 + 1 + 2) * 2 = 8.
  const Space space({Param::Choice("model", {str("linear"), str("mlp")}),
                     Param::Int("layers", 1, 2).with_condition({"model", {str("mlp")}}),
                     Param::Choice("width", {num(8), num(16)}).with_condition({"layers", {num(2)}}),
                     Param::Boolean("bn")});
  GridSampler grid;
  const auto all = enumerate(grid, space);
  ASSERT_EQ(all.size(), 8u);
  EXPECT_EQ(all[0], (Params{{"model", str("linear")}, {"bn", false}}));
  EXPECT_EQ(all[1], (Params{{"model", str("linear")}, {"bn", true}}));
  EXPECT_EQ(all[2], (Params{{"model", str("mlp")}, {"layers", num(1)}, {"bn", false}}));
  EXPECT_EQ(all[4],
            (Params{{"model", str("mlp")}, {"layers", num(2)}, {"width", num(8)}, {"bn", false}}));
  EXPECT_EQ(all[7],
            (Params{{"model", str("mlp")}, {"layers", num(2)}, {"width", num(16)}, {"bn", true}}));
  EXPECT_EQ(std::set<Params>(all.begin(), all.end()).size(), 8u);
  for (const auto& p : all) EXPECT_NO_THROW(space.validate(p));
}

TEST(GridSampler, ParentsConditionedFarAheadAreRemembered) {
  // The child comes after an unrelated parameter; its parent must still decide the count.
  const Space space({Param::Boolean("use_dropout"), Param::Int("units", 1, 3),
                     Param::Float("dropout", 0.1, 0.3, {.step = 0.1})
                         .with_condition({"use_dropout", {Value{true}}})});
  GridSampler grid;
  const auto all = enumerate(grid, space);
  ASSERT_EQ(all.size(), 3u + 9u);
  EXPECT_EQ(all[3], (Params{{"use_dropout", true}, {"units", num(1)}, {"dropout", 0.1}}));
  EXPECT_EQ(all[11], (Params{{"use_dropout", true}, {"units", num(3)}, {"dropout", 0.3}}));
  EXPECT_EQ(std::set<Params>(all.begin(), all.end()).size(), all.size());
}

TEST(GridSampler, IsExhaustedAtCapacity) {
  const Space space(
      {Param::Float("dropout", 0.0, 0.5, {.step = 0.25}), Param::Fixed("epochs", num(3))});
  GridSampler grid;
  EXPECT_EQ(grid.capacity(space), 3);
  EXPECT_THAT(
      error_of([&] { sample_all(grid, space, {}, 3); }),
      HasSubstr("GridSampler: trial number 3 is past the end of the grid (3 combinations)"));
  EXPECT_THAT(error_of([&] { sample_all(grid, space, {}, -1); }), HasSubstr("trial number -1"));
  EXPECT_EQ(GridSampler().capacity(Space()), 1);  // one combination: the empty one
}

TEST(GridSampler, AFloatWithoutAStepIsRefused) {
  const Space space({Param::Boolean("bn"), Param::Float("x", 0, 1)});
  GridSampler grid;
  EXPECT_EQ(
      error_of([&] { grid.capacity(space); }),
      "GridSampler: Float('x', 0, 1) has no step; a grid needs discrete values (give it a step)");
  EXPECT_THAT(error_of([&] { sample_all(grid, space, {}, 0); }), HasSubstr("has no step"));
}

TEST(GridSampler, AHugeGridIsRefusedWithItsSize) {
  std::vector<Param> params;
  for (int i = 0; i < 8; ++i) params.push_back(Param::Int("p" + std::to_string(i), 0, 9));
  GridSampler grid;
  EXPECT_EQ(error_of([&] { grid.capacity(Space(params)); }),
            "GridSampler: the grid has 100000000 combinations, more than the limit of 10000000; "
            "give parameters fewer values or use another sampler");
  EXPECT_THAT(error_of([&] { grid.capacity(Space({Param::Int("n", 0, 1'000'000'000)})); }),
              HasSubstr("at least 1000000001 combinations (Int('n', 0, 1000000000) alone"));
  // Many conditional branches: counting stops past the limit instead of walking them all.
  std::vector<Param> branches;
  for (int i = 0; i < 30; ++i) {
    const std::string name = "b" + std::to_string(i);
    branches.push_back(Param::Boolean(name));
    branches.push_back(
        Param::Int("c" + std::to_string(i), 0, 1).with_condition({name, {Value{true}}}));
  }
  EXPECT_THAT(error_of([&] { grid.capacity(Space(branches)); }), HasSubstr("more than the limit"));
  params.pop_back();
  EXPECT_EQ(grid.capacity(Space(params)), 10'000'000);  // exactly at the limit is fine
}

TEST(GridSampler, ParametersOutsideTheGridGetTheirDefault) {
  GridSampler grid;
  const Param late = Param::Int("late", 0, 9, {.default_value = 4});
  EXPECT_EQ(grid.sample_independent(late, {}, {}, 5), num(4));
  EXPECT_FALSE(grid.uses_history(Space({late})));
}

TEST(GridSampler, FollowsTheSpaceWhenItGrows) {
  GridSampler grid;
  Space space({Param::Boolean("bn")});
  EXPECT_EQ(grid.capacity(space), 2);
  space.add(Param::Choice("act", {str("relu"), str("tanh"), str("gelu")}));
  EXPECT_EQ(grid.capacity(space), 6);
  EXPECT_EQ(sample_all(grid, space, {}, 5), (Params{{"bn", true}, {"act", str("gelu")}}));
}

TEST(GridSampler, ConcurrentCallsAgreeWithSequentialOnes) {
  const Space space({Param::Int("a", 0, 9), Param::Choice("opt", {str("adam"), str("sgd")}),
                     Param::Int("m", 0, 4).with_condition({"opt", {str("sgd")}})});
  GridSampler reference;
  const auto expected = enumerate(reference, space);  // 10 * (1 + 5) = 60
  ASSERT_EQ(expected.size(), 60u);
  GridSampler shared;
  std::vector<std::vector<Params>> got(4, std::vector<Params>(expected.size()));
  std::vector<std::thread> threads;
  for (std::size_t w = 0; w < got.size(); ++w)
    threads.emplace_back([&, w] {
      const Space other({Param::Boolean("x")});  // another space forces rebuilds
      for (std::size_t k = 0; k < expected.size(); ++k) {
        got[w][k] = sample_all(shared, space, {}, static_cast<std::int64_t>(k));
        if (k % 7 == 0) shared.capacity(other);
      }
    });
  for (auto& t : threads) t.join();
  for (const auto& g : got) EXPECT_EQ(g, expected);
}

}  // namespace
}  // namespace quarry::samplers
