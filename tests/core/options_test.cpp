#include <gtest/gtest.h>

#include "tests/test_util.hpp"

#include "quarry/core/error.hpp"
#include "quarry/core/options.hpp"

namespace quarry {
namespace {

using testing::error_of;

const nlohmann::json kOptions = {
    {"n", 3}, {"x", 0.25}, {"whole", 2}, {"flag", true}, {"name", "ei"}};
const std::vector<std::string> kKnown = {"n", "x", "whole", "flag", "name", "absent"};

TEST(ComponentOptions, ReadsEachKindOrItsFallback) {
  const ComponentOptions o("sampler 'gp'", kOptions, kKnown);
  EXPECT_EQ(o.integer("n", 0), 3);
  EXPECT_DOUBLE_EQ(o.real("x", 0), 0.25);
  EXPECT_DOUBLE_EQ(o.real("whole", 0), 2.0);  // an integer is a number too
  EXPECT_TRUE(o.boolean("flag", false));
  EXPECT_EQ(o.text("name", "ucb"), "ei");
  EXPECT_DOUBLE_EQ(o.real("absent", 1.5), 1.5);
  EXPECT_FALSE(o.boolean("absent", false));
  EXPECT_EQ(o.text("absent", "ucb"), "ucb");
}

TEST(ComponentOptions, AValueOfTheWrongKindIsRefusedByName) {
  const ComponentOptions o("sampler 'gp'", kOptions, kKnown);
  EXPECT_EQ(error_of([&] { o.real("name", 0); }),
            "sampler 'gp': option 'name' must be a number, got \"ei\"");
  EXPECT_EQ(error_of([&] { o.boolean("n", false); }),
            "sampler 'gp': option 'n' must be true or false, got 3");
  EXPECT_EQ(error_of([&] { o.text("flag", ""); }),
            "sampler 'gp': option 'flag' must be a string, got true");
  EXPECT_EQ(error_of([&] { o.integer("x", 0); }),
            "sampler 'gp': option 'x' must be an integer, got 0.25");
  EXPECT_EQ(error_of([] {
              ComponentOptions("sampler 'gp'", {{"bad", 1}}, {"n"});
            }),
            "sampler 'gp': unknown option 'bad' (options: n)");
}

}  // namespace
}  // namespace quarry
