// Slices and their metrics (quarry/analysis/analysis.hpp). The scalar metrics are checked against
// automl::score, written separately (a sort per call, no weights); the rest against counts worked
// out by hand on small tables.
#include "quarry/analysis/analysis.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <sstream>

#include "../automl/tables.hpp"
#include "quarry/automl/automl.hpp"
#include "quarry/automl/metrics.hpp"
#include "quarry/automl/model.hpp"
#include "quarry/core/error.hpp"
#include "quarry/core/rng.hpp"

namespace quarry::analysis {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

/// A table of `rows` rows: group (a/b/c, c rare), age (many values), flag (0/1), and with
/// predictions of a binary classifier that is right on most rows of group a and half of b.
struct Fixture {
  data::Table table;
  Predictions predictions;
};

Fixture binary_fixture(std::int64_t rows, std::uint64_t seed) {
  auto rng = Rng::stream(seed, {hash_name("analysis_test")});
  std::ostringstream csv;
  csv << "group,age,flag,label\n";
  Predictions p;
  p.task = TaskType::Binary;
  p.classes = {"no", "yes"};
  p.predicted = Matrix(rows, 2);
  for (std::int64_t r = 0; r < rows; ++r) {
    const double u = rng.uniform(0, 1);
    const char* group = u < 0.6 ? "a" : (u < 0.95 ? "b" : "c");
    const int label = static_cast<int>(rng.below(2));
    // Group a: confident and mostly right; b: a coin toss; c: like a.
    const bool right = group[0] == 'b' ? rng.uniform(0, 1) < 0.5 : rng.uniform(0, 1) < 0.9;
    const double confidence = group[0] == 'b' ? 0.55 : rng.uniform(0.6, 0.99);
    const double p1 = (label == 1) == right ? confidence : 1 - confidence;
    csv << group << ',' << (20 + rng.below(50)) << ',' << (r % 2) << ',' << (label ? "yes" : "no")
        << '\n';
    p.predicted.at(r, 1) = static_cast<float>(p1);
    p.predicted.at(r, 0) = static_cast<float>(1 - p1);
    p.y.push_back(label);
  }
  return {data::parse_table(csv.str(), "fixture.csv"), std::move(p)};
}

const SliceResult& find(const Analysis& a, const std::string& name) {
  for (const auto& s : a.slices)
    if (s.slice.name == name) return s;
  throw std::runtime_error("no slice " + name);
}

std::vector<double> take(const std::vector<double>& v, const std::vector<std::int64_t>& rows) {
  std::vector<double> out;
  for (auto r : rows) out.push_back(v[static_cast<std::size_t>(r)]);
  return out;
}

TEST(ParseSlice, ColumnCrossAndValue) {
  const auto one = parse_slice("sex");
  EXPECT_THAT(one.columns, ElementsAre("sex"));
  EXPECT_FALSE(one.value);
  const auto cross = parse_slice("island,sex");
  EXPECT_THAT(cross.columns, ElementsAre("island", "sex"));
  const auto value = parse_slice("island=Biscoe Island");
  EXPECT_THAT(value.columns, ElementsAre("island"));
  EXPECT_EQ(*value.value, "Biscoe Island");
  EXPECT_EQ(value.text, "island=Biscoe Island");
}

TEST(ParseSlice, RejectsMalformedSpecs) {
  EXPECT_THAT([] { parse_slice("a,,b"); },
              ::testing::ThrowsMessage<InvalidArgument>(HasSubstr("empty column name")));
  EXPECT_THAT([] { parse_slice(""); },
              ::testing::ThrowsMessage<InvalidArgument>(HasSubstr("empty column name")));
  EXPECT_THAT([] { parse_slice("a,b,c"); },
              ::testing::ThrowsMessage<InvalidArgument>(HasSubstr("at most two columns")));
  EXPECT_THAT([] { parse_slice("a,b=1"); },
              ::testing::ThrowsMessage<InvalidArgument>(HasSubstr("COL=VALUE names one column")));
}

TEST(MakeSlices, ValuesSortedMissingLastAndCrosses) {
  const auto t = data::parse_table(
      "color,size,n\nred,S,1\nblue,M,2\n,S,3\nred,M,4\nblue,S,5\nred,S,6\n", "t.csv");
  const auto slices = make_slices(t, {parse_slice("color"), parse_slice("color,size")});
  std::vector<std::string> names;
  for (const auto& s : slices) names.push_back(s.name);
  EXPECT_THAT(names, ElementsAre("overall", "color=blue", "color=red", "color=(missing)",
                                 "color=blue, size=M", "color=blue, size=S", "color=red, size=M",
                                 "color=red, size=S", "color=(missing), size=S"));
  EXPECT_EQ(slices[0].rows.size(), 6u);
  EXPECT_THAT(slices[2].rows, ElementsAre(0, 3, 5));
  EXPECT_THAT(slices[7].rows, ElementsAre(0, 5));
  EXPECT_THAT(slices[7].features, ElementsAre(Pair("color", "red"), Pair("size", "S")));
  EXPECT_EQ(slices[7].spec, "color,size");
}

TEST(MakeSlices, NumericColumnsByValueOrByQuantileBins) {
  std::ostringstream csv;
  csv << "few,many\n";
  for (int i = 0; i < 100; ++i) csv << (i % 3) << ',' << i << '\n';
  const auto t = data::parse_table(csv.str(), "n.csv");
  const auto few = make_slices(t, {parse_slice("few")});
  ASSERT_EQ(few.size(), 4u);
  EXPECT_EQ(few[1].name, "few=0");
  EXPECT_EQ(few[1].rows.size(), 34u);
  const auto many = make_slices(t, {parse_slice("many")}, {.bins = 4});
  ASSERT_EQ(many.size(), 5u);  // overall + 4 quartile bins
  std::size_t total = 0;
  for (std::size_t k = 1; k < many.size(); ++k) {
    total += many[k].rows.size();
    EXPECT_NEAR(static_cast<double>(many[k].rows.size()), 25, 2) << many[k].name;
  }
  EXPECT_EQ(total, 100u);
  EXPECT_EQ(many[1].name, "many=[0, 25)");
  EXPECT_EQ(many[4].name, "many=[74, 99]");
}

TEST(MakeSlices, NamedValueMatchesTextOrNumber) {
  const auto t = data::parse_table("x,c\n1.0,a\n2,b\n1,a\n", "v.csv");
  const auto s = make_slices(t, {parse_slice("x=1"), parse_slice("c=b")});
  ASSERT_EQ(s.size(), 3u);
  EXPECT_THAT(s[1].rows, ElementsAre(0, 2));
  EXPECT_EQ(s[1].name, "x=1");
  EXPECT_THAT(s[2].rows, ElementsAre(1));
}

TEST(MakeSlices, UnknownColumnAndEmptySliceNameWhatAndWhere) {
  const auto t = data::parse_table("x,c\n1,a\n2,b\n", "v.csv");
  EXPECT_THAT([&] { make_slices(t, {parse_slice("sex")}); },
              ::testing::ThrowsMessage<InvalidArgument>(
                  HasSubstr("slice 'sex': v.csv has no column 'sex' (columns: x, c)")));
  EXPECT_THAT([&] { make_slices(t, {parse_slice("c=z")}); },
              ::testing::ThrowsMessage<InvalidArgument>(
                  HasSubstr("slice 'c=z': no row of v.csv has c = 'z' (values: a, b)")));
}

TEST(Analyze, ScalarMetricsAgreeWithAutomlScoresOnEverySlice) {
  const auto f = binary_fixture(600, 3);
  const auto a = analyze(f.predictions, f.table, {.slices = {parse_slice("group")}});
  ASSERT_EQ(a.slices.size(), 4u);
  for (const auto& s : a.slices) {
    const auto y = take(f.predictions.y, s.slice.rows);
    const auto p = f.predictions.predicted.take(s.slice.rows);
    using automl::Metric;
    for (auto [name, metric] : {std::pair{"accuracy", Metric::Accuracy},
                                {"balanced_accuracy", Metric::BalancedAccuracy},
                                {"f1", Metric::F1},
                                {"roc_auc", Metric::RocAuc},
                                {"log_loss", Metric::LogLoss}})
      EXPECT_NEAR(s.metrics.at(name), automl::score(metric, TaskType::Binary, y, p), 1e-6)
          << s.slice.name << " " << name;
  }
  // Group b is a coin toss, group a is not: the slices tell them apart.
  EXPECT_GT(find(a, "group=a").metrics.at("accuracy"), 0.8);
  EXPECT_LT(find(a, "group=b").metrics.at("accuracy"), 0.65);
}

TEST(Analyze, MulticlassMetricsAgreeWithAutomlScores) {
  auto rng = Rng::stream(5, {hash_name("analysis_test::multi")});
  const std::int64_t n = 300;
  Predictions p;
  p.task = TaskType::Multiclass;
  p.classes = {"x", "y", "z"};
  p.predicted = Matrix(n, 3);
  std::ostringstream csv;
  csv << "k\n";
  for (std::int64_t r = 0; r < n; ++r) {
    const int label = static_cast<int>(rng.below(3));
    float sum = 0;
    for (int c = 0; c < 3; ++c) {
      p.predicted.at(r, c) = static_cast<float>(rng.uniform(0, 1) + (c == label ? 0.7 : 0));
      sum += p.predicted.at(r, c);
    }
    for (int c = 0; c < 3; ++c) p.predicted.at(r, c) /= sum;
    p.y.push_back(label);
    csv << (r % 4) << '\n';
  }
  const auto t = data::parse_table(csv.str(), "m.csv");
  const auto a = analyze(p, t, {.slices = {parse_slice("k")}});
  for (const auto& s : a.slices) {
    const auto y = take(p.y, s.slice.rows);
    const auto q = p.predicted.take(s.slice.rows);
    using automl::Metric;
    for (auto [name, metric] : {std::pair{"accuracy", Metric::Accuracy},
                                {"balanced_accuracy", Metric::BalancedAccuracy},
                                {"f1", Metric::F1},
                                {"roc_auc", Metric::RocAuc},
                                {"log_loss", Metric::LogLoss}})
      EXPECT_NEAR(s.metrics.at(name), automl::score(metric, TaskType::Multiclass, y, q), 1e-6)
          << s.slice.name << " " << name;
    std::int64_t total = 0, diagonal = 0;
    for (std::size_t i = 0; i < 3; ++i)
      for (std::size_t j = 0; j < 3; ++j) {
        total += s.confusion[i][j];
        if (i == j) diagonal += s.confusion[i][j];
      }
    EXPECT_EQ(total, s.count);
    EXPECT_NEAR(static_cast<double>(diagonal) / static_cast<double>(total),
                s.metrics.at("accuracy"), 1e-12);
    EXPECT_EQ(s.per_class.size(), 3u);
    EXPECT_EQ(s.per_class[1].label, "y");
  }
}

TEST(Analyze, HandWorkedBinarySlice) {
  // Four rows: p(yes) = 0.9 (yes), 0.8 (no), 0.3 (yes), 0.1 (no).
  Predictions p;
  p.task = TaskType::Binary;
  p.classes = {"no", "yes"};
  p.predicted = automl::test::binary_predictions({0.9f, 0.8f, 0.3f, 0.1f});
  p.y = {1, 0, 1, 0};
  const auto t = data::parse_table("id\n1\n2\n3\n4\n", "h.csv");
  const auto a = analyze(p, t, {.thresholds = {0.5, 0.2}, .reliability_bins = 2});
  const auto& s = a.slices.front();
  EXPECT_EQ(s.slice.name, "overall");
  EXPECT_DOUBLE_EQ(s.metrics.at("accuracy"), 0.5);
  EXPECT_DOUBLE_EQ(s.metrics.at("precision"), 0.5);  // one of two predicted yes
  EXPECT_DOUBLE_EQ(s.metrics.at("recall"), 0.5);
  EXPECT_DOUBLE_EQ(s.metrics.at("roc_auc"), 0.75);  // 3 of 4 (yes, no) pairs ordered right
  // Confusion [truth][predicted]: no -> (no 1, yes 1), yes -> (no 1, yes 1).
  EXPECT_THAT(s.confusion, ElementsAre(ElementsAre(1, 1), ElementsAre(1, 1)));
  // Top-class confidences 0.9 (right), 0.8 (wrong), 0.7 (wrong), 0.9 (right): all in [0.5, 1].
  ASSERT_EQ(s.reliability.size(), 1u);
  EXPECT_NEAR(s.reliability[0].confidence, 0.825, 1e-6);
  EXPECT_DOUBLE_EQ(s.reliability[0].accuracy, 0.5);
  EXPECT_NEAR(s.metrics.at("ece"), 0.325, 1e-6);
  ASSERT_EQ(s.at_thresholds.size(), 2u);
  EXPECT_EQ(s.at_thresholds[1].true_positives, 2);  // p >= 0.2: 0.9 and 0.3
  EXPECT_EQ(s.at_thresholds[1].false_positives, 1);
  EXPECT_DOUBLE_EQ(s.at_thresholds[1].recall, 1.0);
  EXPECT_DOUBLE_EQ(s.at_thresholds[1].false_positive_rate, 0.5);
  ASSERT_GE(s.roc.size(), 3u);
  EXPECT_EQ(s.roc.front(), std::make_pair(0.0, 0.0));
  EXPECT_EQ(s.roc.back(), std::make_pair(1.0, 1.0));
}

TEST(Analyze, RegressionMetricsAndResidualQuantiles) {
  const std::int64_t n = 101;
  Predictions p;
  p.task = TaskType::Regression;
  p.predicted = Matrix(n, 1);
  std::ostringstream csv;
  csv << "half\n";
  for (std::int64_t r = 0; r < n; ++r) {
    p.y.push_back(static_cast<double>(r));
    p.predicted.at(r, 0) =
        static_cast<float>(r) - static_cast<float>(r - 50) / 10;  // residual (r-50)/10
    csv << (r < 50 ? "low" : "high") << '\n';
  }
  const auto t = data::parse_table(csv.str(), "r.csv");
  const auto a = analyze(p, t, {.slices = {parse_slice("half")}});
  const auto& s = a.slices.front();
  using automl::Metric;
  for (auto [name, metric] :
       {std::pair{"rmse", Metric::Rmse}, {"mae", Metric::Mae}, {"r2", Metric::R2}})
    EXPECT_NEAR(s.metrics.at(name), automl::score(metric, TaskType::Regression, p.y, p.predicted),
                1e-5)
        << name;
  EXPECT_NEAR(s.metrics.at("mean_residual"), 0, 1e-5);
  ASSERT_EQ(s.residual_quantiles.size(), 5u);
  EXPECT_NEAR(s.residual_quantiles[2].second, 0, 1e-5);    // the median residual
  EXPECT_NEAR(s.residual_quantiles[4].second, 4.5, 1e-5);  // 95th percentile of -5..5
  EXPECT_LT(find(a, "half=low").metrics.at("mean_residual"), 0);
  EXPECT_TRUE(s.confusion.empty());
}

TEST(Analyze, SmallSlicesAreListedNotScored) {
  const auto f = binary_fixture(400, 4);
  const auto a =
      analyze(f.predictions, f.table, {.slices = {parse_slice("group")}, .min_count = 40});
  const auto& c = find(a, "group=c");
  EXPECT_TRUE(c.too_small);
  EXPECT_LT(c.count, 40);
  EXPECT_TRUE(c.metrics.empty());
  EXPECT_FALSE(find(a, "group=a").too_small);
  const auto j = to_json(a);
  bool listed = false;
  for (const auto& s : j["slices"])
    if (s["name"] == "group=c") listed = s["too_small"].get<bool>();
  EXPECT_TRUE(listed);
}

TEST(Analyze, BootstrapIntervalsHoldTheEstimateAndShrinkWithRows) {
  const auto small = binary_fixture(200, 6);
  const auto large = binary_fixture(3000, 6);
  const AnalysisOptions options{.bootstrap = 300, .seed = 1};
  const auto a = analyze(small.predictions, small.table, options);
  const auto b = analyze(large.predictions, large.table, options);
  for (const auto& name : metric_names(TaskType::Binary)) {
    const auto& s = a.slices.front();
    const auto iv = s.intervals.at(name);
    EXPECT_LE(iv.low, s.metrics.at(name) + 1e-9) << name;
    EXPECT_GE(iv.high, s.metrics.at(name) - 1e-9) << name;
    const auto wide = iv.high - iv.low;
    const auto narrow =
        b.slices.front().intervals.at(name).high - b.slices.front().intervals.at(name).low;
    EXPECT_LT(narrow, wide) << name;
  }
  // Seeded: the same intervals again.
  const auto again = analyze(small.predictions, small.table, options);
  EXPECT_EQ(again.slices.front().intervals.at("roc_auc").low,
            a.slices.front().intervals.at("roc_auc").low);
}

TEST(Analyze, FairnessViewReportsDifferenceAndRatioOfBestAndWorstGroups) {
  const auto f = binary_fixture(800, 7);
  const auto a = analyze(f.predictions, f.table, {.min_count = 50, .fairness = {"group"}});
  ASSERT_EQ(a.fairness.size(), 1u);
  const auto& view = a.fairness.front();
  EXPECT_EQ(view.column, "group");
  EXPECT_THAT(view.groups, ElementsAre("group=a", "group=b"));  // c: too small
  const Disparity* accuracy = nullptr;
  for (const auto& d : view.disparities)
    if (d.metric == "accuracy") accuracy = &d;
  ASSERT_NE(accuracy, nullptr);
  const double va = find(a, "group=a").metrics.at("accuracy");
  const double vb = find(a, "group=b").metrics.at("accuracy");
  EXPECT_EQ(accuracy->best_group, "group=a");
  EXPECT_EQ(accuracy->worst_group, "group=b");
  EXPECT_DOUBLE_EQ(accuracy->difference, va - vb);
  EXPECT_DOUBLE_EQ(accuracy->ratio, vb / va);
  // log loss: lower is better, so the best group is the one with the smaller value.
  for (const auto& d : view.disparities)
    if (d.metric == "log_loss") {
      EXPECT_LT(d.best, d.worst);
    }
}

TEST(Analyze, RowsMustMatch) {
  const auto f = binary_fixture(50, 8);
  const auto t = data::parse_table("a\n1\n2\n", "short.csv");
  EXPECT_THAT([&] { analyze(f.predictions, t, {}); },
              ::testing::ThrowsMessage<InvalidArgument>(
                  HasSubstr("short.csv: 2 rows, but 50 predictions")));
}

TEST(Analyze, JsonHasOneEntryPerSliceWithNullForUndefined) {
  const auto f = binary_fixture(200, 9);
  // A slice holding a single class: ROC AUC is undefined there.
  auto p = f.predictions;
  std::ostringstream csv;
  csv << "side\n";
  for (double y : p.y) csv << (y == 1 ? "pos" : "neg") << '\n';
  const auto t = data::parse_table(csv.str(), "s.csv");
  const auto j = to_json(analyze(p, t, {.slices = {parse_slice("side")}}));
  ASSERT_EQ(j["slices"].size(), 3u);
  EXPECT_EQ(j["task"], "binary");
  EXPECT_EQ(j["slices"][1]["name"], "side=neg");
  EXPECT_TRUE(j["slices"][1]["metrics"]["roc_auc"].is_null());
  EXPECT_TRUE(j["slices"][0]["metrics"]["roc_auc"].is_number());
  EXPECT_EQ(j["slices"][0]["count"], 200);
  EXPECT_EQ(j["slices"][2]["features"][0][0], "side");
}

TEST(PredictionsOf, AnAutomlModelOnItsTestRows) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("quarry_analysis_test_" + std::to_string(::getpid()));
  const auto all = automl::test::binary_table(400, 11);
  automl::AutoMLOptions options{.target = "label", .time_budget = 20, .workers = 1, .out = dir};
  options.max_trials = 2;
  const auto r = automl::fit(automl::test::slice(all, 0, 300), options);
  const auto model = automl::AutoModel::load(r.model_dir);
  auto test = automl::test::slice(all, 300, 400);
  test.columns.back().missing[0] = true;  // one row without a label: left out
  test.columns.back().text[0].clear();
  const auto p = predictions_of(model, test);
  EXPECT_EQ(test.rows(), 99);
  EXPECT_EQ(p.predicted.rows, 99);
  EXPECT_EQ(p.classes, model.classes());
  const auto a = analyze(p, test, {.slices = {parse_slice("color")}});
  EXPECT_GT(a.slices.front().metrics.at("roc_auc"), 0.9);
  EXPECT_EQ(a.slices.size(), 4u);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace quarry::analysis
