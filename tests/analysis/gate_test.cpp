// The thresholds file and the verdict (quarry/analysis/gate.hpp), on analyses built by hand.
#include "quarry/analysis/gate.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "quarry/core/error.hpp"

namespace quarry::analysis {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

SliceResult slice(const std::string& name, const std::string& spec, std::int64_t count,
                  std::map<std::string, double> metrics) {
  SliceResult s;
  s.slice.name = name;
  s.slice.spec = spec;
  s.count = count;
  s.metrics = std::move(metrics);
  return s;
}

Analysis candidate() {
  Analysis a;
  a.task = TaskType::Multiclass;
  a.classes = {"Shirt", "T-shirt"};
  a.slices.push_back(slice("overall", "", 1000, {{"accuracy", 0.9}, {"roc_auc", 0.95}}));
  a.slices.back().per_class = {{"Shirt", 0.7, 0.55, 0.62, 500}, {"T-shirt", 0.8, 0.9, 0.85, 500}};
  a.slices.push_back(slice("sex=female", "sex", 400, {{"accuracy", 0.8}, {"roc_auc", 0.9}}));
  a.slices.push_back(slice("sex=male", "sex", 590, {{"accuracy", 0.95}, {"roc_auc", 0.97}}));
  a.slices.push_back(slice("sex=(missing)", "sex", 10, {{"accuracy", 0.3}, {"roc_auc", 0.5}}));
  return a;
}

TEST(ParseThresholds, ReadsEveryKey) {
  const auto t = parse_thresholds(R"(thresholds:
  - {metric: accuracy, min: 0.85}
  - {metric: recall, class: Shirt, min: 0.6}
  - {metric: auc, max_drop: 0.01, slice: sex, min_count: 30}
  - metric: log_loss
    max: 0.5
    max_increase: 0.02
)",
                                  "t.yaml");
  ASSERT_EQ(t.size(), 4u);
  EXPECT_EQ(t[0].metric, "accuracy");
  EXPECT_EQ(*t[0].min, 0.85);
  EXPECT_EQ(t[0].where, "t.yaml:2");
  EXPECT_EQ(*t[1].label, "Shirt");
  EXPECT_EQ(t[2].metric, "roc_auc");  // auc is roc_auc
  EXPECT_EQ(t[2].slice, "sex");
  EXPECT_EQ(t[2].min_count, 30);
  EXPECT_EQ(*t[3].max_increase, 0.02);
  EXPECT_EQ(t[3].where, "t.yaml:5");
  const auto specs = slices_needed(t);
  ASSERT_EQ(specs.size(), 1u);
  EXPECT_EQ(specs[0].text, "sex");
}

TEST(ParseThresholds, BadFilesNameTheLineAndWhat) {
  const auto fails = [](const std::string& yaml, const std::string& what) {
    EXPECT_THAT([&] { parse_thresholds(yaml, "g.yaml"); },
                ThrowsMessage<InvalidArgument>(HasSubstr(what)))
        << yaml;
  };
  fails("thresholds:\n  - {metric: accuracy, minimum: 0.8}\n", "g.yaml:2: unknown key 'minimum'");
  fails("thresholds:\n  - {metric: acc, min: 0.8}\n", "g.yaml:2: unknown metric 'acc'");
  fails("thresholds:\n  - {metric: accuracy}\n", "g.yaml:2: threshold on accuracy has no bound");
  fails("thresholds:\n  - {metric: accuracy, class: Shirt, min: 0.1}\n",
        "'class' applies to precision, recall and f1");
  fails("thresholds:\n  - {metric: accuracy, min: high}\n", "'min' must be a number, got 'high'");
  fails("thresholds:\n  - {metric: accuracy, max_drop: -1}\n", "'max_drop' must be >= 0");
  fails("thresholds:\n  - {metric: accuracy, min: 0.9, max: 0.8}\n", "min 0.9 is above max 0.8");
  fails("limits:\n  - {metric: accuracy, min: 0.9}\n", "expected a list under 'thresholds:'");
  fails("thresholds: [\n", "g.yaml:");
  fails("thresholds: []\n", "must be a non-empty list");
  EXPECT_THAT([] { read_thresholds("/nonexistent/t.yaml"); },
              ThrowsMessage<InvalidArgument>(HasSubstr("/nonexistent/t.yaml: cannot open")));
}

TEST(Validate, ValueThresholdsPassAndFailWithOneLineEach) {
  const auto a = candidate();
  const auto v = validate(a, nullptr,
                          parse_thresholds("thresholds:\n"
                                           "  - {metric: accuracy, min: 0.85}\n"
                                           "  - {metric: accuracy, slice: sex, min: 0.85, "
                                           "min_count: 30}\n"
                                           "  - {metric: recall, class: Shirt, min: 0.6}\n",
                                           "v.yaml"));
  // overall passes; sex=female fails; sex=male passes; sex=(missing) skipped (10 < 30); Shirt
  // recall fails.
  ASSERT_EQ(v.checks.size(), 4u);
  EXPECT_FALSE(v.passed);
  EXPECT_EQ(v.failed(), 2);
  EXPECT_TRUE(v.checks[0].passed);
  EXPECT_EQ(v.checks[1].slice, "sex=female");
  EXPECT_EQ(v.checks[1].message, "accuracy on sex=female is 0.8, below the minimum 0.85");
  EXPECT_EQ(v.checks[3].metric, "recall[Shirt]");
  EXPECT_FALSE(v.checks[3].passed);
  const auto j = to_json(v);
  EXPECT_EQ(j["passed"], false);
  EXPECT_EQ(j["failed"], 2);
  EXPECT_EQ(j["checks"][1]["rule"], ">= 0.85");
}

TEST(Validate, ChangeThresholdsCompareWithTheBaselineOnTheSameSlice) {
  const auto a = candidate();
  auto base = candidate();
  base.slices[0].metrics["roc_auc"] = 0.955;  // candidate 0.95: a drop of 0.005
  base.slices[1].metrics["roc_auc"] = 0.93;   // candidate 0.90: a drop of 0.03
  const auto t = parse_thresholds(
      "thresholds:\n  - {metric: auc, max_drop: 0.01}\n  - {metric: auc, max_drop: 0.01, slice: "
      "sex=female}\n",
      "c.yaml");
  const auto v = validate(a, &base, t);
  ASSERT_EQ(v.checks.size(), 2u);
  EXPECT_TRUE(v.checks[0].passed);
  EXPECT_EQ(*v.checks[0].baseline, 0.955);
  EXPECT_FALSE(v.checks[1].passed);
  EXPECT_THAT(v.checks[1].message, HasSubstr("down 0.03 from the baseline's 0.93"));
  EXPECT_THAT([&] { validate(a, nullptr, t); },
              ThrowsMessage<InvalidArgument>(HasSubstr("c.yaml:2: a change threshold")));
}

TEST(Validate, UndefinedValuesAndTooSmallSlicesFail) {
  auto a = candidate();
  a.slices[1].metrics["roc_auc"] = std::numeric_limits<double>::quiet_NaN();
  a.slices[3].too_small = true;
  a.slices[3].metrics.clear();
  const auto v = validate(
      a, nullptr,
      parse_thresholds("thresholds:\n  - {metric: auc, slice: sex, min: 0.5}\n", "u.yaml"));
  ASSERT_EQ(v.checks.size(), 3u);
  EXPECT_FALSE(v.checks[0].passed);
  EXPECT_THAT(v.checks[0].message, HasSubstr("is undefined"));
  EXPECT_TRUE(v.checks[1].passed);
  EXPECT_FALSE(v.checks[2].passed);
  EXPECT_THAT(v.checks[2].message, HasSubstr("too small"));
}

TEST(Validate, MetricOrSliceTheAnalysisLacks) {
  const auto a = candidate();
  EXPECT_THAT(
      [&] {
        validate(a, nullptr,
                 parse_thresholds("thresholds:\n  - {metric: rmse, max: 1}\n", "m.yaml"));
      },
      ThrowsMessage<InvalidArgument>(
          HasSubstr("m.yaml:2: metric 'rmse' does not apply to a multiclass model")));
  EXPECT_THAT(
      [&] {
        validate(a, nullptr,
                 parse_thresholds("thresholds:\n  - {metric: accuracy, slice: island, min: 1}\n",
                                  "m.yaml"));
      },
      ThrowsMessage<InvalidArgument>(HasSubstr("no slice 'island'")));
  EXPECT_THAT(
      [&] {
        validate(
            a, nullptr,
            parse_thresholds("thresholds:\n  - {metric: f1, class: Dress, min: 1}\n", "m.yaml"));
      },
      ThrowsMessage<InvalidArgument>(HasSubstr("class 'Dress' is not one of the model's")));
}

}  // namespace
}  // namespace quarry::analysis
