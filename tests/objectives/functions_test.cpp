#include "quarry/objectives/functions.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <numbers>

#include "quarry/core/rng.hpp"

namespace quarry::objectives {
namespace {

using ::testing::HasSubstr;

std::vector<double> evaluate_at(BenchmarkFunction& f, const std::vector<double>& x) {
  Params params;
  for (std::size_t i = 0; i < x.size(); ++i) params["x" + std::to_string(i)] = x[i];
  TrialContext context(0, params, 0, nullptr, nullptr);
  return f.evaluate(context);
}

std::string error_of(const std::string& name, const nlohmann::json& options) {
  try {
    make_function(name, options);
  } catch (const InvalidArgument& e) {
    return e.what();
  }
  return "no error";
}

class KnownOptimum : public ::testing::TestWithParam<std::pair<std::string, nlohmann::json>> {};

TEST_P(KnownOptimum, OptimaReachTheKnownValueAndOtherPointsAreWorse) {
  const auto f = make_function(GetParam().first, GetParam().second);
  ASSERT_FALSE(f->optimal_points().empty());
  for (const auto& x : f->optimal_points()) {
    ASSERT_EQ(x.size(), f->dims());
    EXPECT_NEAR(f->value(x), f->optimum(), 1e-4);
    EXPECT_NEAR(evaluate_at(*f, x).at(0), f->optimum(), 1e-4);
    for (std::size_t i = 0; i < x.size(); ++i) {  // inside the box
      const auto& p = f->space().params()[i];
      EXPECT_EQ(p.name(), "x" + std::to_string(i));
      EXPECT_TRUE(p.contains(Value{x[i]})) << p.describe() << " " << x[i];
    }
  }
  Rng rng(42);
  for (int n = 0; n < 2000; ++n) {
    std::vector<double> x;
    for (const auto& p : f->space().params()) x.push_back(rng.uniform(p.low(), p.high()));
    EXPECT_GT(f->value(x), f->optimum() + 1e-6);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Functions, KnownOptimum,
    ::testing::Values(std::make_pair("branin", nlohmann::json()),
                      std::make_pair("hartmann6", nlohmann::json::object()),
                      std::make_pair("rosenbrock", nlohmann::json()),
                      std::make_pair("rosenbrock", nlohmann::json({{"dims", 5}}))),
    [](const auto& p) { return p.param.first + "_" + std::to_string(p.index); });

TEST(Functions, UseThePublishedDomains) {
  const Branin branin;
  ASSERT_EQ(branin.dims(), 2u);
  EXPECT_EQ(branin.space().params()[0].low(), -5);
  EXPECT_EQ(branin.space().params()[0].high(), 10);
  EXPECT_EQ(branin.space().params()[1].low(), 0);
  EXPECT_EQ(branin.space().params()[1].high(), 15);
  EXPECT_EQ(Hartmann6().dims(), 6u);
  const Rosenbrock rosenbrock({.dims = 4});
  EXPECT_EQ(rosenbrock.dims(), 4u);
  EXPECT_EQ(rosenbrock.space().params()[3].low(), -5);
  EXPECT_EQ(rosenbrock.space().params()[3].high(), 10);
  EXPECT_EQ(rosenbrock.describe(), "rosenbrock(dims=4)");
  EXPECT_EQ(branin.describe(), "branin");
}

TEST(Functions, MatchReferenceValuesAwayFromTheOptimum) {
  // Closed forms: Branin(0, 0) = (-6)^2 + 10 (1 - 1/(8 pi)) + 10; Rosenbrock(0, 0) = 1.
  EXPECT_NEAR(Branin().value(std::vector<double>{0, 0}),
              36 + 10 * (1 - 1 / (8 * std::numbers::pi)) + 10, 1e-12);
  EXPECT_DOUBLE_EQ(Rosenbrock().value(std::vector<double>{0, 0}), 1.0);
  EXPECT_DOUBLE_EQ(Rosenbrock({.dims = 3}).value(std::vector<double>{-1, 1, 1}), 4.0);
}

TEST(Functions, RegistryNamesDescribesAndValidates) {
  std::vector<std::string> names;
  for (const auto& info : known_functions()) {
    names.push_back(info.name);
    EXPECT_FALSE(info.description.empty());
    EXPECT_NO_THROW(make_function(info.name));
  }
  EXPECT_THAT(names, ::testing::ElementsAre("branin", "hartmann6", "rosenbrock"));
  EXPECT_EQ(error_of("ackley", nullptr),
            "unknown function 'ackley' (known: branin, hartmann6, rosenbrock)");
  EXPECT_EQ(error_of("branin", {{"dims", 3}}),
            "function 'branin': unknown option 'dims' (options: none)");
  EXPECT_THAT(error_of("rosenbrock", {{"dim", 3}}),
              HasSubstr("unknown option 'dim' (options: dims)"));
  EXPECT_THAT(error_of("rosenbrock", {{"dims", 1}}),
              HasSubstr("dims must be in [2, 10000], got 1"));
  EXPECT_THAT(error_of("rosenbrock", {{"dims", "3"}}),
              HasSubstr("option 'dims' must be an integer"));
  EXPECT_THAT(error_of("rosenbrock", nlohmann::json::array()),
              HasSubstr("options must be a mapping of names to values"));
  EXPECT_THROW(Rosenbrock({.dims = 1}), InvalidArgument);
}

TEST(Functions, EvaluateNeedsEveryCoordinate) {
  Branin branin;
  TrialContext context(0, {{"x0", 1.0}}, 0, nullptr, nullptr);
  try {
    branin.evaluate(context);
    FAIL() << "no error";
  } catch (const InvalidArgument& e) {
    EXPECT_STREQ(e.what(), "branin: parameter 'x1' is missing from the trial's parameters");
  }
}

}  // namespace
}  // namespace quarry::objectives
