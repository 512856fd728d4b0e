#include "quarry/samplers/encoder.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/test_util.hpp"

#include <cmath>
#include <string>
#include <vector>

#include "quarry/core/rng.hpp"

namespace quarry::samplers {
namespace {

using quarry::testing::error_of;
using ::testing::DoubleNear;
using ::testing::ElementsAre;
using Kind = Encoder::Kind;
using space::Param;

Value str(const char* s) {
  return Value{std::string(s)};
}
Value num(std::int64_t i) {
  return Value{i};
}

/// Every kind of parameter, steps, log scales, and two conditional children of `act`.
Space every_kind() {
  return Space(
      {Param::Choice("act", {str("relu"), str("tanh"), str("gelu")}), Param::Boolean("bn"),
       Param::Choice("width", {num(8), num(16)}, {.ordered = true}),
       Param::Float("momentum", 0.0, 1.0).with_condition({"act", {str("tanh")}}),
       Param::Choice("pool", {str("max"), str("avg")}).with_condition({"act", {str("relu")}}),
       Param::Fixed("epochs", num(10)), Param::Int("units", 16, 256, {.step = 16}),
       Param::Int("layers", 1, 64, {.log = true}), Param::Float("lr", 1e-4, 1.0, {.log = true}),
       Param::Float("wd", 0.0, 0.1, {.step = 0.025}), Param::Choice("only", {str("one")})});
}

/// `n` assignments drawn uniformly (through Space::assign: children exactly when active).
std::vector<Params> draws(const Space& space, std::size_t n, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<Params> out;
  for (std::size_t i = 0; i < n; ++i)
    out.push_back(
        space.assign([&](const Param& p, const Params&) { return p.from_unit(rng.uniform()); }));
  return out;
}

TEST(Encoder, OneBlockPerParameterInSpaceOrder) {
  const Encoder encoder(every_kind());
  std::vector<Kind> kinds;
  std::vector<std::size_t> offsets, widths, levels;
  for (const Encoder::Block& b : encoder.blocks()) {
    kinds.push_back(b.kind), offsets.push_back(b.offset);
    widths.push_back(b.width), levels.push_back(b.levels);
  }
  EXPECT_THAT(kinds, ElementsAre(Kind::OneHot, Kind::Ordinal, Kind::Ordinal, Kind::Continuous,
                                 Kind::Ordinal, Kind::None, Kind::Ordinal, Kind::Ordinal,
                                 Kind::Continuous, Kind::Ordinal, Kind::None));
  EXPECT_THAT(widths, ElementsAre(3, 1, 1, 1, 1, 0, 1, 1, 1, 1, 0));
  EXPECT_THAT(offsets, ElementsAre(0, 3, 4, 5, 6, 7, 7, 8, 9, 10, 11));
  EXPECT_THAT(levels, ElementsAre(3, 2, 2, 0, 2, 1, 16, 64, 0, 5, 1));
  EXPECT_EQ(encoder.dims(), 11u);
  EXPECT_EQ(encoder.params().size(), 11u);
}

TEST(Encoder, ColumnsAreUnitCoordinatesOneHotsAndFixedInactiveValues) {
  const Encoder encoder(every_kind());
  const Params tanh = {{"act", str("tanh")},      {"bn", Value{true}}, {"width", num(16)},
                       {"momentum", Value{0.25}}, {"epochs", num(10)}, {"units", num(16)},
                       {"layers", num(8)},        {"lr", Value{1e-2}}, {"wd", Value{0.1}},
                       {"only", str("one")}};
  const std::vector<double> x = encoder.encode(tanh);
  // act one-hot, bn and width: the upper of two slices, momentum as is, pool inactive (0.5),
  // units the first of 16 slices, layers and lr half-way on their log scales, wd the last slice.
  const double layers = (std::log(8.0) - std::log(0.5)) / (std::log(64.5) - std::log(0.5));
  EXPECT_THAT(x, ElementsAre(0, 1, 0, 0.75, 0.75, 0.25, 0.5, 1.0 / 32, DoubleNear(layers, 1e-15),
                             DoubleNear(0.5, 1e-15), 0.9));
  // Under relu, momentum is inactive although given; pool is a column of its own.
  Params relu = tanh;
  relu["act"] = str("relu"), relu["pool"] = str("avg");
  const std::vector<double> y = encoder.encode(relu);
  EXPECT_THAT(std::vector<double>(y.begin(), y.begin() + 7),
              ElementsAre(1, 0, 0, 0.75, 0.75, 0.5, 0.75));
}

TEST(Encoder, MissingOrIllegalValuesTakeTheInactiveEncoding) {
  const Encoder encoder(every_kind());
  const std::vector<double> empty = encoder.encode({});
  EXPECT_THAT(empty, ElementsAre(0, 0, 0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5));
  Params illegal = draws(every_kind(), 1, 1).front();
  illegal["act"] = str("selu"), illegal["units"] = num(17), illegal["lr"] = Value{2.0};
  const std::vector<double> x = encoder.encode(illegal);
  EXPECT_THAT(std::vector<double>(x.begin(), x.begin() + 3), ElementsAre(0, 0, 0));
  EXPECT_EQ(x[7], Encoder::kInactive);  // units
  EXPECT_EQ(x[9], Encoder::kInactive);  // lr
}

TEST(Encoder, DecodeOfEncodeGivesTheAssignmentBackForEveryKind) {
  const Space space = every_kind();
  const Encoder encoder(space);
  for (const Params& p : draws(space, 500, 7)) {
    const Params back = encoder.decode(encoder.encode(p));
    ASSERT_EQ(back.size(), p.size());
    for (const auto& [name, value] : p) {
      ASSERT_TRUE(back.count(name)) << name;
      if (std::holds_alternative<double>(value) && !space.find(name)->step())
        EXPECT_NEAR(std::get<double>(back.at(name)), std::get<double>(value),
                    1e-12 * std::abs(std::get<double>(value)))
            << name;  // a continuous Float: exact up to rounding (log scales: exp of log)
      else
        EXPECT_TRUE(space::same_value(back.at(name), value))
            << name << ": " << space::to_string(value) << " came back as "
            << space::to_string(back.at(name));
    }
  }
}

TEST(Encoder, DecodeRoundsIntegersAndStepsAndUndoesLogScales) {
  const Space space({Param::Int("k", 0, 40, {.step = 4}), Param::Int("n", 1, 100, {.log = true}),
                     Param::Float("wd", 0.0, 0.5, {.step = 0.1}),
                     Param::Float("lr", 1e-4, 1.0, {.log = true})});
  const Encoder encoder(space);
  // k: 11 slices, 0.3 lies in the fourth (12); n: exp of the log scale over [0.5, 100.5],
  // rounded; wd: 6 slices, 0.99 lies in the last (0.5); lr: 10^-2 half-way.
  const Params p = encoder.decode(std::vector<double>{0.3, 0.5, 0.99, 0.5});
  EXPECT_EQ(p.at("k"), num(12));
  EXPECT_EQ(p.at("n"), num(static_cast<std::int64_t>(std::round(std::sqrt(0.5 * 100.5)))));
  EXPECT_DOUBLE_EQ(std::get<double>(p.at("wd")), 0.5);
  EXPECT_NEAR(std::get<double>(p.at("lr")), 1e-2, 1e-15);
  // Out-of-range coordinates are clamped to the ends of the cube.
  const Params q = encoder.decode(std::vector<double>{-3, 7, -0.1, 1.5});
  EXPECT_EQ(q.at("k"), num(0));
  EXPECT_EQ(q.at("n"), num(100));
  EXPECT_EQ(q.at("wd"), Value{0.0});
  EXPECT_NEAR(std::get<double>(q.at("lr")), 1.0, 1e-12);
}

TEST(Encoder, ProjectIsLegalAndIdempotent) {
  const Space space = every_kind();
  const Encoder encoder(space);
  Rng rng(3);
  for (int i = 0; i < 300; ++i) {
    std::vector<double> x(encoder.dims());
    for (double& v : x) v = rng.uniform();
    const std::vector<double> once = encoder.project(x);
    EXPECT_NO_THROW(space.validate(encoder.decode(once)));
    const std::vector<double> twice = encoder.project(once);
    for (std::size_t j = 0; j < x.size(); ++j) EXPECT_NEAR(twice[j], once[j], 1e-12) << j;
    // A continuous column passes unchanged, up to rounding (lr: exp, then log).
    EXPECT_NEAR(once[9], x[9], 1e-12);
  }
}

TEST(Encoder, DecodeAssignsChildrenOnlyUnderTheirParentsValue) {
  const Encoder encoder(every_kind());
  std::vector<double> x(encoder.dims(), 0.5);
  x[0] = 0.2, x[1] = 0.9, x[2] = 0.1;  // act: tanh, the largest column
  Params p = encoder.decode(x);
  EXPECT_TRUE(p.count("momentum"));
  EXPECT_FALSE(p.count("pool"));
  EXPECT_EQ(p.at("epochs"), num(10));  // a parameter without column: its only value
  EXPECT_EQ(p.at("only"), str("one"));
  x[0] = 0.9;  // relu
  p = encoder.decode(x);
  EXPECT_EQ(p.at("act"), str("relu"));
  EXPECT_FALSE(p.count("momentum"));
  EXPECT_TRUE(p.count("pool"));
  // A momentum column that is inactive in the assignment is re-encoded as 0.5, whatever x held.
  x[5] = 0.1;
  EXPECT_EQ(encoder.project(x)[5], Encoder::kInactive);
}

TEST(Encoder, OneHotDecodesToTheLargestColumnTheFirstOnTies) {
  const Encoder encoder(Space({Param::Choice("op", {str("a"), str("b"), str("c"), str("d")})}));
  EXPECT_EQ(encoder.decode(std::vector<double>{0.1, 0.2, 0.7, 0.3}).at("op"), str("c"));
  EXPECT_EQ(encoder.decode(std::vector<double>{0.4, 0.9, 0.2, 0.9}).at("op"), str("b"));
  EXPECT_EQ(encoder.decode(std::vector<double>{0, 0, 0, 0}).at("op"), str("a"));
  EXPECT_THAT(encoder.project(std::vector<double>{0.3, -1, 0.31, 0.2}), ElementsAre(0, 0, 1, 0));
}

TEST(Encoder, SetWritesOneParametersColumnsOnly) {
  const Space space = every_kind();
  const Encoder encoder(space);
  std::vector<double> x(encoder.dims(), 0.3);
  encoder.set(x, 0, str("gelu"));  // act: one-hot
  encoder.set(x, 7, num(8));       // layers: its log-scale coordinate
  encoder.set(x, 5, num(10));      // epochs: no column, nothing written
  const double layers = space.find("layers")->to_unit(num(8));
  EXPECT_THAT(x, ElementsAre(0, 0, 1, 0.3, 0.3, 0.3, 0.3, 0.3, layers, 0.3, 0.3));
  EXPECT_EQ(encoder.decode(x).at("layers"), num(8));
}

TEST(Encoder, RejectsAPointOfAnotherDimension) {
  const Encoder encoder(every_kind());
  EXPECT_EQ(error_of([&] { encoder.decode(std::vector<double>(3, 0.5)); }),
            "Encoder: a point of 3 columns; the space encodes to 11");
}

TEST(Encoder, AWideIntegerRangeIsCountedNotListed) {
  const std::int64_t high = std::int64_t{1} << 40;
  const Encoder encoder(Space({Param::Int("seed", 0, high)}));
  EXPECT_EQ(encoder.blocks()[0].levels, static_cast<std::size_t>(high) + 1);
  const Params p = {{"seed", num(123'456'789'012)}};
  EXPECT_EQ(encoder.decode(encoder.encode(p)), p);
}

TEST(Encoder, AnEmptyOrFixedSpaceHasNoColumns) {
  EXPECT_EQ(Encoder(Space()).dims(), 0u);
  const Encoder fixed(Space({Param::Fixed("epochs", num(10))}));
  EXPECT_EQ(fixed.dims(), 0u);
  EXPECT_EQ(fixed.decode({}), (Params{{"epochs", num(10)}}));
}

}  // namespace
}  // namespace quarry::samplers
