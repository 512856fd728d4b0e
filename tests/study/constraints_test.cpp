#include "quarry/study/constraints.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "tests/test_util.hpp"

namespace quarry::study {
namespace {

using quarry::testing::error_of;
using ::testing::HasSubstr;
using Op = Constraint::Op;

constexpr double kInf = std::numeric_limits<double>::infinity();

TEST(Constraints, ParsesMetricOperatorAndBoundWithOrWithoutSpaces) {
  EXPECT_EQ(parse_constraint("params <= 100000"), (Constraint{"params", Op::Le, 100000}));
  EXPECT_EQ(parse_constraint("latency_b1_ms<=0.5"), (Constraint{"latency_b1_ms", Op::Le, 0.5}));
  EXPECT_EQ(parse_constraint("val_accuracy >= 0.8"), (Constraint{"val_accuracy", Op::Ge, 0.8}));
  EXPECT_EQ(parse_constraint("  model.flops>=  -1.5e3 "),
            (Constraint{"model.flops", Op::Ge, -1500}));
  EXPECT_EQ(parse_constraint("x <= +2"), (Constraint{"x", Op::Le, 2}));
}

TEST(Constraints, ToStringRoundTrips) {
  EXPECT_EQ(to_string(parse_constraint("params<=100000")), "params <= 100000");
  EXPECT_EQ(to_string(parse_constraint("val_accuracy>=0.8")), "val_accuracy >= 0.8");
  EXPECT_EQ(to_string(parse_constraint("lat <= 1e-4")), "lat <= 0.0001");
  for (const Constraint& c : {Constraint{"a", Op::Le, 0.1 + 0.2}, Constraint{"b", Op::Ge, -3e300},
                              Constraint{"c", Op::Ge, 1.0 / 3}})
    EXPECT_EQ(parse_constraint(to_string(c)), c) << to_string(c);
}

TEST(Constraints, MalformedTextIsRefusedOnOneLineNamingTextAndRule) {
  const auto message = [](const std::string& text) {
    return error_of([&] { parse_constraint(text); });
  };
  EXPECT_EQ(message("params < 5"),
            "constraint 'params < 5': expected <= or >= after 'params'; expected METRIC <= NUMBER "
            "or METRIC >= NUMBER (METRIC: letters, digits, '_' or '.'; NUMBER: finite)");
  EXPECT_THAT(message("<= 5"), HasSubstr("constraint '<= 5': the metric name is missing"));
  EXPECT_THAT(message("params <="), HasSubstr("the bound is missing"));
  EXPECT_THAT(message("params <= 5k"), HasSubstr("the bound '5k' is not a finite number"));
  EXPECT_THAT(message("params <= inf"), HasSubstr("the bound 'inf' is not a finite number"));
  EXPECT_THAT(message("params <= nan"), HasSubstr("not a finite number"));
  EXPECT_THAT(message("params <= 1e999"), HasSubstr("not a finite number"));
  EXPECT_THAT(message("val-acc >= 1"), HasSubstr("expected <= or >= after 'val'"));
  EXPECT_THAT(message("a = 1"), HasSubstr("expected <= or >= after 'a'"));
  EXPECT_THAT(message(""), HasSubstr("the metric name is missing"));
  for (const char* bad : {"params < 5", "<= 5", "params <= 5k", "a = 1"})
    EXPECT_EQ(message(bad).find('\n'), std::string::npos) << bad;
}

TEST(Constraints, ViolationIsZeroWhenSatisfiedElseTheDistancePastTheBound) {
  const Constraint le{"params", Op::Le, 100};
  const Constraint ge{"acc", Op::Ge, 0.8};
  EXPECT_EQ(violation(le, 50), 0.0);
  EXPECT_EQ(violation(le, 100), 0.0);  // the bound itself satisfies
  EXPECT_EQ(violation(le, 130), 30.0);
  EXPECT_EQ(violation(ge, 0.9), 0.0);
  EXPECT_EQ(violation(ge, 0.8), 0.0);
  EXPECT_DOUBLE_EQ(violation(ge, 0.5), 0.3);
  EXPECT_EQ(violation(le, std::nan("")), kInf);
  EXPECT_EQ(violation(ge, std::nan("")), kInf);
  EXPECT_EQ(violation(le, kInf), kInf);
  EXPECT_EQ(violation(ge, kInf), 0.0);
}

TEST(Constraints, AttrsFollowTheConvention) {
  const std::vector<Constraint> cs = {parse_constraint("params <= 100"),
                                      parse_constraint("acc >= 0.8"),
                                      parse_constraint("acc <= 0.95")};
  auto attrs = constraint_attrs(cs, {{"params", 90}, {"acc", 0.85}});
  EXPECT_EQ(attrs.at(kFeasibleAttr), "true");
  EXPECT_EQ(nlohmann::json::parse(attrs.at(kConstraintsAttr)),
            (nlohmann::json{{"params", 0.0}, {"acc", 0.0}}));

  attrs = constraint_attrs(cs, {{"params", 120}, {"acc", 0.5}});
  EXPECT_EQ(attrs.at(kFeasibleAttr), "false");
  const auto v = nlohmann::json::parse(attrs.at(kConstraintsAttr));
  EXPECT_EQ(v.at("params").get<double>(), 20.0);
  EXPECT_NEAR(v.at("acc").get<double>(), 0.3, 1e-12);

  attrs = constraint_attrs(cs, {{"params", 10}});  // acc not measured: infinitely violated
  EXPECT_EQ(attrs.at(kFeasibleAttr), "false");
  EXPECT_TRUE(nlohmann::json::parse(attrs.at(kConstraintsAttr)).at("acc").is_null());
}

TEST(Constraints, FeasibilityAndTotalViolationOfATrial) {
  Trial t;
  EXPECT_TRUE(is_feasible(t));  // nothing checked
  EXPECT_EQ(total_violation(t), 0.0);

  t.attrs = constraint_attrs({parse_constraint("params <= 100"), parse_constraint("acc >= 0.8")},
                             {{"params", 130}, {"acc", 0.7}});
  EXPECT_FALSE(is_feasible(t));
  EXPECT_NEAR(total_violation(t), 30.1, 1e-12);

  t.attrs = {{kFeasibleAttr, "true"}, {kConstraintsAttr, R"({"params": 0})"}};
  EXPECT_TRUE(is_feasible(t));
  EXPECT_EQ(total_violation(t), 0.0);

  t.attrs = {{kFeasibleAttr, "false"}, {kConstraintsAttr, R"({"params": null, "acc": 1})"}};
  EXPECT_EQ(total_violation(t), kInf);
  t.attrs = {{kConstraintsAttr, "not json"}};
  EXPECT_TRUE(is_feasible(t));  // only "feasible": false makes a trial infeasible
  EXPECT_EQ(total_violation(t), kInf);
}

}  // namespace
}  // namespace quarry::study
