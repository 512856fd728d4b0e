// What the built-in families share: the standardiser, reading a trial's parameters, and the checks
// of training data.
#include "quarry/automl/family_support.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <string>

#include "quarry/core/error.hpp"
#include "tests/test_util.hpp"

namespace quarry::automl::detail {
namespace {

using quarry::testing::error_of;

TEST(Standardizer, CentresAndScalesEachFeatureLeavingConstantsAtZero) {
  Matrix x(4, 2);
  x.values = {1, 7, 3, 7, 5, 7, 7, 7};
  const auto s = Standardizer::fit(x);
  EXPECT_EQ(s.mean, (std::vector<double>{4, 7}));
  EXPECT_DOUBLE_EQ(s.scale[0], std::sqrt(5.0));  // population: (9 + 1 + 1 + 9) / 4
  EXPECT_EQ(s.scale[1], 1.0);
  const Matrix z = s.transform(x);
  EXPECT_FLOAT_EQ(z.at(0, 0), static_cast<float>(-3 / std::sqrt(5.0)));
  EXPECT_EQ(z.at(2, 1), 0.0f);
  const auto back = Standardizer::from_json(nlohmann::json::parse(s.to_json().dump()));
  EXPECT_EQ(back.mean, s.mean);
  EXPECT_EQ(back.scale, s.scale);
}

TEST(Standardizer, LeavesZeroOneFeaturesAsTheyAre) {
  // A rare one-hot level (1 in 50 rows), a 0/1 indicator, and a number that happens to be 0 or 2.
  Matrix x(50, 3);
  for (std::int64_t r = 0; r < 50; ++r) {
    x.at(r, 0) = r == 7 ? 1.0f : 0.0f;
    x.at(r, 1) = static_cast<float>(r % 2);
    x.at(r, 2) = static_cast<float>(2 * (r % 2));
  }
  const auto s = Standardizer::fit(x);
  EXPECT_EQ(s.mean, (std::vector<double>{0, 0, 1}));
  EXPECT_EQ(s.scale, (std::vector<double>{1, 1, 1}));
  EXPECT_EQ(s.transform(x).at(7, 0), 1.0f);  // not (1 - 0.02) / 0.14 = 7
  EXPECT_EQ(s.transform(x).at(0, 2), -1.0f);
}

TEST(FamilyParams, NeedsEveryParameterOfTheSpaceAndNoStrangerOfTheFamily) {
  const std::vector<space::Param> space = {space::Param::Int("fam.k", 1, 9),
                                           space::Param::Choice("fam.how", {Value{"a"}})};
  const FamilyParams p("fam", space, {{"fam.k", 3.0}, {"fam.how", "a"}, {"other.x", 1.0}});
  EXPECT_EQ(p.integer("k"), 3);
  EXPECT_EQ(p.real("k"), 3.0);
  EXPECT_EQ(p.text("how"), "a");
  EXPECT_EQ(error_of([&] { p.text("k"); }),
            "model family 'fam': parameter 'fam.k' must be a string, got '3'");
  EXPECT_EQ(error_of([&] {
              FamilyParams("fam", space, {{"fam.k", std::int64_t{3}}});
            }),
            "model family 'fam': parameter 'fam.how' is missing");
  EXPECT_EQ(error_of([&] {
              FamilyParams("fam", space, {{"fam.k", 2.0}, {"fam.how", "a"}, {"fam.z", 1.0}});
            }),
            "model family 'fam': unknown parameter 'fam.z'");
  const FamilyParams half("fam", space, {{"fam.k", 2.5}, {"fam.how", "a"}});
  EXPECT_EQ(error_of([&] { half.integer("k"); }),
            "model family 'fam': parameter 'fam.k' must be an integer, got '2.5'");
}

TEST(CheckFit, NamesTheBrokenRule) {
  Matrix x(3, 1, 0.5f);
  FitOptions o;
  o.num_classes = 2;
  EXPECT_EQ(check_fit("m", x, {0, 1, 1}, TaskType::Binary, o), 2);
  EXPECT_EQ(check_fit("m", x, {0.5, 1, 7}, TaskType::Regression, o), 0);
  EXPECT_EQ(error_of([&] {
              check_fit("m", x, {0, 2, 1}, TaskType::Binary, o);
            }),
            "m: target of row 1 is not a class index in [0, 2)");
  EXPECT_EQ(error_of([&] {
              check_fit("m", x, {0, 1}, TaskType::Binary, o);
            }),
            "m: one target per row (rows 3) must hold, got 2");
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(error_of([&] {
              check_fit("m", x, {0, nan, 1}, TaskType::Regression, o);
            }),
            "m: target of row 1 is not finite");
  o.num_classes = 3;
  EXPECT_EQ(error_of([&] {
              check_fit("m", x, {0, 1, 1}, TaskType::Binary, o);
            }),
            "m: num_classes == 2 for binary must hold, got 3");
  o.budget_fraction = 1.5;
  EXPECT_EQ(error_of([&] {
              check_fit("m", x, {0, 1, 1}, TaskType::Multiclass, o);
            }),
            "m: 0 < budget_fraction <= 1 must hold, got 1.5");
  x.at(2, 0) = std::numeric_limits<float>::infinity();
  EXPECT_EQ(error_of([&] { check_finite("m", x); }),
            "m: feature 0 of row 2 is missing or infinite (impute it first)");
}

TEST(Deadline, ZeroMeansNoneAndThePastHasPassed) {
  EXPECT_FALSE(deadline_passed(0));
  EXPECT_TRUE(deadline_passed(steady_seconds() - 0.001));
  EXPECT_FALSE(deadline_passed(steady_seconds() + 60));
}

}  // namespace
}  // namespace quarry::automl::detail
