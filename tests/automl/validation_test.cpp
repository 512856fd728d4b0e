// The validation folds: a partition of the rows, stratified, seeded, and a holdout for large data.
// The targets are made here (class c at rows where a fixed formula says so).
#include "quarry/automl/validation.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <numeric>
#include <string>
#include <vector>

#include "quarry/core/error.hpp"
#include "tests/test_util.hpp"

namespace quarry::automl {
namespace {

using ::testing::HasSubstr;

using quarry::testing::error_of;

/// `sizes[c]` rows of class c, the classes interleaved by a stride so no class sits in a block.
std::vector<double> classes(const std::vector<int>& sizes) {
  std::vector<double> y;
  for (std::size_t c = 0; c < sizes.size(); ++c) y.insert(y.end(), sizes[c], double(c));
  // A fixed permutation (multiplying by a number coprime with n) mixes the classes.
  std::vector<double> mixed(y.size());
  std::size_t step = 7919;
  while (y.size() > 1 && std::gcd(step, y.size()) != 1) ++step;
  for (std::size_t i = 0; i < y.size(); ++i) mixed[(i * step) % y.size()] = y[i];
  return mixed;
}

std::vector<std::int64_t> range(std::int64_t n) {
  std::vector<std::int64_t> out(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) out[static_cast<std::size_t>(i)] = i;
  return out;
}

/// Every fold's train and valid parts are sorted, disjoint and together all n rows.
void expect_folds_partition_each(const Validation& v, std::int64_t n) {
  for (std::size_t f = 0; f < v.folds.size(); ++f) {
    const Fold& fold = v.folds[f];
    EXPECT_TRUE(std::is_sorted(fold.train.begin(), fold.train.end())) << "fold " << f;
    EXPECT_TRUE(std::is_sorted(fold.valid.begin(), fold.valid.end())) << "fold " << f;
    EXPECT_FALSE(fold.valid.empty()) << "fold " << f;
    std::vector<std::int64_t> all = fold.train;
    all.insert(all.end(), fold.valid.begin(), fold.valid.end());
    std::sort(all.begin(), all.end());
    EXPECT_EQ(all, range(n)) << "fold " << f;
  }
}

/// k-fold: every row in exactly one valid part; `scored` all rows.
void expect_k_fold(const Validation& v, std::int64_t n, std::size_t k) {
  ASSERT_EQ(v.folds.size(), k);
  expect_folds_partition_each(v, n);
  std::vector<int> seen(static_cast<std::size_t>(n), 0);
  for (const Fold& fold : v.folds)
    for (std::int64_t r : fold.valid) ++seen[static_cast<std::size_t>(r)];
  EXPECT_EQ(std::count(seen.begin(), seen.end(), 1), n);
  EXPECT_EQ(v.scored, range(n));
}

/// Each fold's count of class c in valid is within one row of share * n_c; the folds' sizes too.
void expect_stratified(const Validation& v, const std::vector<double>& y, double share) {
  std::map<double, double> total;
  for (double c : y) total[c] += 1;
  for (std::size_t f = 0; f < v.folds.size(); ++f) {
    std::map<double, double> count;
    for (std::int64_t r : v.folds[f].valid) count[y[static_cast<std::size_t>(r)]] += 1;
    for (const auto& [c, n] : total)
      EXPECT_LT(std::abs(count[c] - share * n), 1.0) << "fold " << f << " class " << c;
    EXPECT_LT(std::abs(double(v.folds[f].valid.size()) - share * double(y.size())), 1.0)
        << "fold " << f;
  }
}

TEST(ValidationKFold, StratifiedPartition) {
  const auto y = classes({212, 357});  // the breast-cancer table's class sizes
  const Validation v = make_validation(y, TaskType::Binary, {.seed = 3});
  EXPECT_EQ(v.method, "5-fold");
  EXPECT_EQ(v.reason, "569 rows <= 10000: stratified 5-fold cross-validation");
  expect_k_fold(v, 569, 5);
  expect_stratified(v, y, 0.2);
}

TEST(ValidationKFold, MulticlassOtherK) {
  const auto y = classes({50, 7, 101, 33, 12});
  const Validation v = make_validation(y, TaskType::Multiclass, {.seed = 1, .folds = 3});
  EXPECT_EQ(v.method, "3-fold");
  EXPECT_EQ(v.reason, "203 rows <= 10000: stratified 3-fold cross-validation");
  expect_k_fold(v, 203, 3);
  expect_stratified(v, y, 1.0 / 3);
}

TEST(ValidationKFold, RareClassesSpreadOverFolds) {
  // Class 1 has 2 rows and class 2 one: fewer than the 5 folds, so they land in distinct folds.
  const auto y = classes({40, 2, 1});
  const Validation v = make_validation(y, TaskType::Multiclass, {.seed = 9});
  expect_k_fold(v, 43, 5);
  expect_stratified(v, y, 0.2);
  std::vector<int> rare_per_fold;
  for (const Fold& fold : v.folds) {
    int rare = 0;
    for (std::int64_t r : fold.valid) rare += y[static_cast<std::size_t>(r)] != 0;
    rare_per_fold.push_back(rare);
  }
  EXPECT_EQ(std::count(rare_per_fold.begin(), rare_per_fold.end(), 1), 3);
  EXPECT_EQ(std::count(rare_per_fold.begin(), rare_per_fold.end(), 0), 2);
}

TEST(ValidationKFold, AsManyRowsAsFolds) {
  const Validation v = make_validation({0, 1, 0, 1, 1}, TaskType::Binary, {});
  expect_k_fold(v, 5, 5);
  for (const Fold& fold : v.folds) EXPECT_EQ(fold.valid.size(), 1u);
}

TEST(ValidationKFold, RegressionShuffled) {
  std::vector<double> y(100);
  for (std::size_t i = 0; i < y.size(); ++i) y[i] = std::sin(double(i));
  const Validation v = make_validation(y, TaskType::Regression, {.seed = 5});
  EXPECT_EQ(v.method, "5-fold");
  EXPECT_EQ(v.reason, "100 rows <= 10000: shuffled 5-fold cross-validation");
  expect_k_fold(v, 100, 5);
  for (const Fold& fold : v.folds) EXPECT_EQ(fold.valid.size(), 20u);
  // Shuffled: no fold is a block of consecutive rows.
  for (const Fold& fold : v.folds) EXPECT_GT(fold.valid.back() - fold.valid.front(), 19);
}

TEST(ValidationSeed, SameSeedSameFoldsOtherSeedOther) {
  const auto y = classes({120, 80, 40});
  for (TaskType task : {TaskType::Multiclass, TaskType::Regression}) {
    const auto a = make_validation(y, task, {.seed = 11});
    const auto b = make_validation(y, task, {.seed = 11});
    const auto c = make_validation(y, task, {.seed = 12});
    ASSERT_EQ(a.folds.size(), b.folds.size());
    bool differs = false;
    for (std::size_t f = 0; f < a.folds.size(); ++f) {
      EXPECT_EQ(a.folds[f].valid, b.folds[f].valid);
      EXPECT_EQ(a.folds[f].train, b.folds[f].train);
      differs = differs || a.folds[f].valid != c.folds[f].valid;
    }
    EXPECT_TRUE(differs);
  }
  const auto h1 = make_validation(y, TaskType::Multiclass, {.seed = 1, .max_kfold_rows = 100});
  const auto h2 = make_validation(y, TaskType::Multiclass, {.seed = 1, .max_kfold_rows = 100});
  const auto h3 = make_validation(y, TaskType::Multiclass, {.seed = 2, .max_kfold_rows = 100});
  EXPECT_EQ(h1.folds[0].valid, h2.folds[0].valid);
  EXPECT_NE(h1.folds[0].valid, h3.folds[0].valid);
}

TEST(ValidationHoldout, LargeDataStratified) {
  const auto y = classes({15000, 5000, 190});
  const Validation v = make_validation(y, TaskType::Multiclass, {.seed = 4});
  EXPECT_EQ(v.method, "holdout 20%");
  EXPECT_EQ(v.reason, "20190 rows > 10000: holdout 20% (stratified)");
  ASSERT_EQ(v.folds.size(), 1u);
  expect_folds_partition_each(v, 20190);
  EXPECT_EQ(v.folds[0].valid.size(), 4038u);
  EXPECT_EQ(v.scored, v.folds[0].valid);
  expect_stratified(v, y, 0.2);
}

TEST(ValidationHoldout, RegressionAndOtherFraction) {
  std::vector<double> y(20190);
  for (std::size_t i = 0; i < y.size(); ++i) y[i] = double(i % 17) * 0.5;
  const Validation v = make_validation(y, TaskType::Regression, {.holdout_fraction = 0.125});
  EXPECT_EQ(v.method, "holdout 12.5%");
  EXPECT_EQ(v.reason, "20190 rows > 10000: holdout 12.5% (shuffled)");
  ASSERT_EQ(v.folds.size(), 1u);
  expect_folds_partition_each(v, 20190);
  EXPECT_EQ(v.folds[0].valid.size(), 2524u);  // round(0.125 * 20190)
  EXPECT_EQ(v.scored, v.folds[0].valid);
  // Spread over the rows, not the first or last block.
  EXPECT_LT(v.folds[0].valid.front(), 100);
  EXPECT_GT(v.folds[0].valid.back(), 20090);
}

TEST(ValidationHoldout, ThresholdIsInclusive) {
  const auto y = classes({6, 6});
  EXPECT_EQ(make_validation(y, TaskType::Binary, {.max_kfold_rows = 12}).method, "5-fold");
  const Validation v = make_validation(y, TaskType::Binary, {.max_kfold_rows = 11});
  EXPECT_EQ(v.reason, "12 rows > 11: holdout 20% (stratified)");
  expect_stratified(v, y, 0.2);
}

TEST(ValidationErrors, EveryRule) {
  EXPECT_EQ(error_of([] {
              make_validation({0, 1, 0, 1}, TaskType::Binary);
            }),
            "validation: 4 rows are fewer than 5 folds");
  EXPECT_EQ(error_of([] { make_validation({}, TaskType::Regression); }),
            "validation: 0 rows are fewer than 5 folds");
  EXPECT_EQ(error_of([] {
              make_validation({0, 1, 0, 1}, TaskType::Binary, {.folds = 1});
            }),
            "validation: folds >= 2 must hold, got 1");
  EXPECT_EQ(error_of([] {
              make_validation({0, 1, 0, 1}, TaskType::Binary, {.holdout_fraction = 1});
            }),
            "validation: 0 < holdout_fraction < 1 must hold, got 1");
  EXPECT_EQ(error_of([] {
              make_validation({1, 2, std::nan(""), 3, 4}, TaskType::Regression);
            }),
            "validation: y[2] is missing (NaN)");
  EXPECT_THAT(error_of([] {
                make_validation({0, 1, 0.5, 1, 0}, TaskType::Binary);
              }),
              HasSubstr("validation: y[2] = 0.500000 is not a class index"));
  EXPECT_THAT(error_of([] {
                make_validation({0, 1, -1, 1, 0}, TaskType::Multiclass);
              }),
              HasSubstr("validation: y[2] = -1.000000 is not a class index"));
  EXPECT_EQ(error_of([] {
              make_validation({0, 1, 0, 1, 2, 0}, TaskType::Multiclass, {.max_kfold_rows = 5});
            }),
            "validation: class 2 has 1 row; a holdout split needs at least 2 of each class");
  EXPECT_EQ(error_of([] {
              make_validation({0, 1, 1, 0}, TaskType::Binary,
                              {.holdout_fraction = 0.1, .max_kfold_rows = 2});
            }),
            "validation: a holdout of 10% of 4 rows leaves the validation part empty");
  EXPECT_EQ(error_of([] {
              make_validation({0, 1, 1, 0}, TaskType::Binary,
                              {.holdout_fraction = 0.9, .max_kfold_rows = 2});
            }),
            "validation: a holdout of 90% of 4 rows leaves the training part empty");
}

}  // namespace
}  // namespace quarry::automl
