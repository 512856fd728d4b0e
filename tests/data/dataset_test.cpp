#include "quarry/data/dataset.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "tests/test_util.hpp"

namespace quarry::data {
namespace {

using quarry::testing::error_of;
using ::testing::HasSubstr;

/// `sizes[c]` rows of class c (regression when `classes` is false); row i's first feature is i,
/// its second 10 * i, so a row can be traced through take and split.
Dataset make(const std::vector<int>& sizes, bool classes = true) {
  Dataset d;
  d.shape = {2};
  d.feature_names = {"a", "b"};
  d.source = "made";
  d.num_classes = classes ? static_cast<std::int64_t>(sizes.size()) : 0;
  // Interleave the classes so that no class sits in one block of rows.
  std::vector<int> left = sizes;
  for (bool more = true; more;) {
    more = false;
    for (std::size_t c = 0; c < left.size(); ++c) {
      if (left[c] == 0) continue;
      --left[c];
      more = true;
      const auto i = static_cast<float>(d.y.size());
      d.x.insert(d.x.end(), {i, 10 * i});
      d.y.push_back(classes ? static_cast<float>(c) : i * 0.5f);
    }
  }
  return d;
}

/// The row ids (first feature) of `d`.
std::vector<int> ids(const Dataset& d) {
  std::vector<int> out;
  for (std::size_t i = 0; i < d.x.size(); i += 2) out.push_back(static_cast<int>(d.x[i]));
  return out;
}

TEST(Dataset, RowSizeIsTheProductOfTheShape) {
  Dataset d;
  d.shape = {1, 28, 28};
  EXPECT_EQ(d.row_size(), 784);
  EXPECT_EQ(make({3}).row_size(), 2);
}

TEST(Dataset, TakeCopiesRowsInTheOrderAsked) {
  const Dataset d = make({5});
  const Dataset t = d.take({3, 0, 3});
  EXPECT_EQ(t.x, (std::vector<float>{3, 30, 0, 0, 3, 30}));
  EXPECT_EQ(t.y, (std::vector<float>{0, 0, 0}));
  EXPECT_EQ(t.shape, d.shape);
  EXPECT_EQ(t.feature_names, d.feature_names);
  EXPECT_EQ(t.num_classes, 1);
  EXPECT_EQ(t.source, "made");
  EXPECT_EQ(error_of([&] { d.take({5}); }), "Dataset::take: row 5 is outside [0, 5) of 'made'");
  EXPECT_THAT(error_of([&] { d.take({-1}); }), HasSubstr("row -1 is outside"));
}

TEST(Dataset, HeadClampsTheCount) {
  const Dataset d = make({4});
  EXPECT_EQ(ids(d.head(2)), (std::vector<int>{0, 1}));
  EXPECT_EQ(d.head(100).rows(), 4);
  EXPECT_EQ(d.head(-1).rows(), 0);
}

TEST(Dataset, ConcatPutsTheSecondsRowsAfterTheFirsts) {
  const Dataset d = make({4});
  const Dataset both = concat(d.take({0, 1}), d.take({3}));
  EXPECT_EQ(ids(both), (std::vector<int>{0, 1, 3}));
  EXPECT_EQ(both.x, d.take({0, 1, 3}).x);
  EXPECT_EQ(both.y, d.take({0, 1, 3}).y);
  EXPECT_EQ(both.shape, d.shape);
  EXPECT_EQ(both.num_classes, d.num_classes);
  Dataset other = d;
  other.shape = {1, 2};
  EXPECT_THAT(error_of([&] { concat(d, other); }), HasSubstr("differ in example shape"));
}

TEST(Dataset, ScaleDividesEveryValue) {
  Dataset d = make({2});
  scale(d, 10);
  EXPECT_EQ(d.x, (std::vector<float>{0, 0, 0.1f, 1}));
  EXPECT_THAT(error_of([&] { scale(d, 0); }), HasSubstr("scale: max must be positive"));
}

TEST(Split, SizesAreDisjointAndCoverEveryRow) {
  const Dataset d = make({60, 40});
  const Split s = split(d, {.validation_fraction = 0.25, .seed = 3});
  EXPECT_EQ(s.train.rows(), 75);
  EXPECT_EQ(s.validation.rows(), 25);
  std::set<int> all;
  for (int id : ids(s.train)) EXPECT_TRUE(all.insert(id).second);
  for (int id : ids(s.validation)) EXPECT_TRUE(all.insert(id).second) << "row " << id;
  EXPECT_EQ(all.size(), 100u);
  EXPECT_EQ(s.validation.num_classes, 2);
  EXPECT_EQ(s.train.feature_names, d.feature_names);
}

TEST(Split, RowsKeepTheirTargets) {
  const Dataset d = make({10, 10, 10});
  const Split s = split(d, {.validation_fraction = 0.3, .seed = 1});
  for (const Dataset* part : {&s.train, &s.validation})
    for (std::int64_t i = 0; i < part->rows(); ++i) {
      const auto id = static_cast<std::size_t>(part->x[static_cast<std::size_t>(2 * i)]);
      EXPECT_EQ(part->y[static_cast<std::size_t>(i)], d.y[id]);
      EXPECT_EQ(part->x[static_cast<std::size_t>(2 * i + 1)], d.x[2 * id + 1]);
    }
}

TEST(Split, StratifiedKeepsEachClassWithinOneRowOfItsShare) {
  const Dataset d = make({47, 33, 20, 3});
  for (std::uint64_t seed = 0; seed < 10; ++seed) {
    for (double f : {0.1, 0.25, 0.5}) {
      const Split s = split(d, {.validation_fraction = f, .seed = seed});
      EXPECT_EQ(s.validation.rows(), std::llround(f * 103)) << f;
      std::map<float, int> count;
      for (float label : s.validation.y) ++count[label];
      const std::vector<int> sizes = {47, 33, 20, 3};
      for (std::size_t c = 0; c < sizes.size(); ++c)
        EXPECT_LE(std::fabs(count[static_cast<float>(c)] - f * sizes[c]), 1.0)
            << "class " << c << " fraction " << f << " seed " << seed;
    }
  }
}

TEST(Split, BothPartsKeepTheOriginalRowOrder) {
  const Split s = split(make({30, 30}), {.validation_fraction = 0.4, .seed = 9});
  for (const Dataset* part : {&s.train, &s.validation}) {
    const std::vector<int> order = ids(*part);
    EXPECT_TRUE(std::is_sorted(order.begin(), order.end()));
  }
}

TEST(Split, ValidationIndicesAreTheRowsOfTheValidationPart) {
  for (bool stratify : {true, false}) {
    const Dataset d = make({40, 25, 15});
    const SplitOptions options{.validation_fraction = 0.3, .seed = 4, .stratify = stratify};
    const std::vector<std::int64_t> rows = validation_indices(d, options);
    std::vector<int> expected;
    for (const std::int64_t r : rows) expected.push_back(static_cast<int>(r));  // id == row
    EXPECT_EQ(expected, ids(split(d, options).validation));
    EXPECT_TRUE(std::is_sorted(rows.begin(), rows.end()));
  }
  EXPECT_THAT(error_of([] { validation_indices(make({3}), {.validation_fraction = 1}); }),
              HasSubstr("validation_fraction must be in (0, 1)"));
}

TEST(Split, SameSeedSameSplitOtherSeedOtherSplit) {
  for (bool stratify : {true, false}) {
    const Dataset d = make({50, 50});
    const auto validation = [&](std::uint64_t seed) {
      return ids(
          split(d, {.validation_fraction = 0.2, .seed = seed, .stratify = stratify}).validation);
    };
    EXPECT_EQ(validation(7), validation(7));
    EXPECT_NE(validation(7), validation(8));
  }
}

TEST(Split, RegressionDataSplitsWithoutStrata) {
  const Dataset d = make({40}, false);
  const Split s = split(d, {.validation_fraction = 0.2, .seed = 2});
  EXPECT_EQ(s.validation.rows(), 8);
  EXPECT_EQ(s.train.num_classes, 0);
}

TEST(Split, RejectsBadFractionsAndEmptyParts) {
  const Dataset d = make({2, 1});
  for (double f : {0.0, 1.0, -0.5, 1.5, std::numeric_limits<double>::quiet_NaN()})
    EXPECT_THAT(error_of([&] { split(d, {.validation_fraction = f}); }),
                HasSubstr("split: validation_fraction must be in (0, 1)"));
  EXPECT_THAT(error_of([&] { split(d, {.validation_fraction = 0.1}); }),
              HasSubstr("of 3 rows of 'made' leaves the validation part empty"));
  EXPECT_THAT(error_of([&] { split(d, {.validation_fraction = 0.9}); }),
              HasSubstr("leaves the training part empty"));
}

TEST(Split, RejectsLabelsThatAreNotClassIndices) {
  Dataset d = make({5, 5});
  d.y[3] = 2;
  EXPECT_THAT(error_of([&] { split(d, {.validation_fraction = 0.5}); }),
              HasSubstr("row 3 of 'made' has label 2"));
}

TEST(Standardizer, GivesMeanZeroAndStddevOneOnTrain) {
  Dataset d = make({30, 20});
  for (std::size_t i = 0; i < d.x.size(); i += 2) d.x[i] = std::pow(d.x[i], 1.5f);  // skewed
  const Split s = split(d, {.validation_fraction = 0.2, .seed = 4});
  Dataset train = s.train;
  const Standardizer z = Standardizer::fit(train);
  z.apply(train);
  for (std::size_t j = 0; j < 2; ++j) {
    double sum = 0, squares = 0;
    for (std::size_t i = j; i < train.x.size(); i += 2) sum += train.x[i];
    const double mean = sum / static_cast<double>(train.rows());
    for (std::size_t i = j; i < train.x.size(); i += 2) squares += std::pow(train.x[i] - mean, 2);
    EXPECT_NEAR(mean, 0.0, 1e-5) << "feature " << j;
    EXPECT_NEAR(std::sqrt(squares / static_cast<double>(train.rows())), 1.0, 1e-5);
  }
  Dataset validation = s.validation;  // transformed with the training statistics
  z.apply(validation);
  EXPECT_FLOAT_EQ(validation.x[0], (s.validation.x[0] - z.mean[0]) / z.stddev[0]);
}

TEST(Standardizer, ConstantFeatureKeepsStddevOne) {
  Dataset d = make({4});
  for (std::size_t i = 1; i < d.x.size(); i += 2) d.x[i] = 7;
  const Standardizer z = Standardizer::fit(d);
  EXPECT_EQ(z.mean[1], 7.0f);
  EXPECT_EQ(z.stddev[1], 1.0f);
  z.apply(d);
  EXPECT_EQ(d.x[1], 0.0f);
}

TEST(Standardizer, RejectsOtherWidthsAndEmptyData) {
  const Standardizer z = Standardizer::fit(make({3}));
  Dataset wide;
  wide.shape = {3};
  wide.x = {1, 2, 3};
  wide.y = {0};
  wide.source = "wide";
  EXPECT_EQ(error_of([&] { z.apply(wide); }),
            "Standardizer::apply: fitted on 2 features, dataset 'wide' has 3");
  EXPECT_THAT(error_of([] { Standardizer::fit(make({0})); }), HasSubstr("has no rows"));
}

}  // namespace
}  // namespace quarry::data
