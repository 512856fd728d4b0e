// The knn family beyond the conformance suite: k = 1 reproduces the training targets, the two
// distances pick their own nearest rows, distance weighting, ties by training row, and the saved
// file's checks.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "quarry/automl/estimator.hpp"
#include "quarry/core/error.hpp"
#include "tests/automl/family_data.hpp"
#include "tests/test_util.hpp"

namespace quarry::automl {
namespace {

using testing::make_split;

space::Params knn(std::int64_t k, const std::string& weights = "uniform", std::int64_t p = 2) {
  return {{"knn.k", k}, {"knn.weights", weights}, {"knn.p", p}};
}

TEST(Knn, KOfOneReproducesTheTrainingTargets) {
  for (auto task : {TaskType::Multiclass, TaskType::Regression}) {
    const auto s = make_split(task);
    auto model = family("knn").make(knn(1), task);
    model->fit(s.x_train, s.y_train, s.options());
    const Matrix predicted = model->predict(s.x_train);
    for (std::int64_t r = 0; r < s.x_train.rows; ++r) {
      const double y = s.y_train[static_cast<std::size_t>(r)];
      if (task == TaskType::Regression) {
        EXPECT_EQ(predicted.at(r, 0), static_cast<float>(y)) << r;
      } else {
        for (std::int64_t c = 0; c < 3; ++c)
          EXPECT_EQ(predicted.at(r, c), static_cast<double>(c) == y ? 1.0f : 0.0f) << r;
      }
    }
  }
}

/// The training row nearest to test row `t` on features standardised by the training rows
/// (population standard deviation), by the L1 or L2 distance.
std::int64_t nearest(const testing::Split& s, std::int64_t t, int p) {
  std::vector<double> mean(5, 0), sd(5, 0);
  const double n = static_cast<double>(s.x_train.rows);
  for (std::int64_t r = 0; r < s.x_train.rows; ++r)
    for (int j = 0; j < 5; ++j) mean[static_cast<std::size_t>(j)] += s.x_train.at(r, j) / n;
  for (std::int64_t r = 0; r < s.x_train.rows; ++r)
    for (int j = 0; j < 5; ++j) {
      const double d = s.x_train.at(r, j) - mean[static_cast<std::size_t>(j)];
      sd[static_cast<std::size_t>(j)] += d * d / n;
    }
  std::int64_t best = -1;
  double best_distance = std::numeric_limits<double>::infinity();
  for (std::int64_t r = 0; r < s.x_train.rows; ++r) {
    double d = 0;
    for (int j = 0; j < 5; ++j) {
      const double diff =
          (s.x_test.at(t, j) - s.x_train.at(r, j)) / std::sqrt(sd[static_cast<std::size_t>(j)]);
      d += p == 1 ? std::abs(diff) : diff * diff;
    }
    if (d < best_distance) best_distance = d, best = r;
  }
  return best;
}

TEST(Knn, ManhattanAndEuclideanFindTheirOwnNearestRows) {
  const auto s = make_split(TaskType::Regression);
  int differ = 0;
  Matrix by[3];
  for (std::int64_t p : {1, 2}) {
    auto model = family("knn").make(knn(1, "uniform", p), s.task);
    model->fit(s.x_train, s.y_train, s.options());
    by[p] = model->predict(s.x_test);
    for (std::int64_t t = 0; t < s.x_test.rows; ++t)
      EXPECT_EQ(by[p].at(t, 0),
                static_cast<float>(
                    s.y_train[static_cast<std::size_t>(nearest(s, t, static_cast<int>(p)))]))
          << "p=" << p << " row " << t;
  }
  for (std::int64_t t = 0; t < s.x_test.rows; ++t) differ += by[1].at(t, 0) != by[2].at(t, 0);
  EXPECT_GT(differ, 10);  // the two distances are not the same rule
}

/// One feature: rows at 0, 1 and 3 with targets 0, 10 and 30.
testing::Split line() {
  testing::Split s;
  s.task = TaskType::Regression;
  s.x_train = Matrix(3, 1);
  s.x_train.values = {0, 1, 3};
  s.y_train = {0, 10, 30};
  return s;
}

TEST(Knn, DistanceWeightsFavourTheNearer) {
  const auto s = line();
  auto model = family("knn").make(knn(2, "distance"), s.task);
  model->fit(s.x_train, s.y_train, s.options());
  Matrix query(3, 1);
  query.values = {0.25f, 1.0f, 2.5f};
  const Matrix predicted = model->predict(query);
  // Standardising scales every distance alike, so the weights keep their ratios.
  EXPECT_NEAR(predicted.at(0, 0), (0 / 0.25 + 10 / 0.75) / (1 / 0.25 + 1 / 0.75), 1e-4);  // 2.5
  EXPECT_EQ(predicted.at(1, 0), 10.0f);  // a training row itself: only it counts
  EXPECT_NEAR(predicted.at(2, 0), (30 / 0.5 + 10 / 1.5) / (1 / 0.5 + 1 / 1.5), 1e-4);  // 25
  // Uniform weights over every row (k above the rows): the mean.
  auto all = family("knn").make(knn(50), s.task);
  all->fit(s.x_train, s.y_train, s.options());
  for (float v : all->predict(query).values) EXPECT_NEAR(v, 40.0 / 3, 1e-4);
}

TEST(Knn, TiesGoToTheEarlierTrainingRow) {
  testing::Split s;
  s.task = TaskType::Binary;
  s.classes = 2;
  s.x_train = Matrix(4, 1);
  s.x_train.values = {2, 2, -2, -2};
  s.y_train = {1, 0, 0, 1};
  auto model = family("knn").make(knn(1), s.task);
  model->fit(s.x_train, s.y_train, s.options());
  Matrix query(2, 1);
  query.values = {1.5f, -1.5f};
  const Matrix predicted = model->predict(query);
  EXPECT_EQ(predicted.at(0, 1), 1.0f);
  EXPECT_EQ(predicted.at(1, 1), 0.0f);
}

TEST(Knn, ABrokenSavedFileIsRefused) {
  const auto s = make_split(TaskType::Binary);
  auto model = family("knn").make(knn(3), s.task);
  model->fit(s.x_train, s.y_train, s.options());
  quarry::testing::TempDir dir;
  const auto saved = model->save(dir.path(), "near");
  EXPECT_EQ(saved.at("file"), "near.knn");
  // magic, version, shape, 300 x 5 floats, 300 doubles
  EXPECT_EQ(std::filesystem::file_size(dir.path() / "near.knn"),
            4 + 4 + 16 + 300 * 5 * 4 + 300 * 8);
  std::filesystem::resize_file(dir.path() / "near.knn", 1000);
  const std::string message =
      quarry::testing::error_of([&] { family("knn").load(saved, dir.path()); });
  EXPECT_NE(message.find("near.knn has the wrong length"), std::string::npos) << message;
  {
    std::ofstream other(dir.path() / "near.knn", std::ios::binary | std::ios::trunc);
    other << "QKNX";
  }
  EXPECT_THROW(family("knn").load(saved, dir.path()), InvalidArgument);
  auto no_file = saved;
  no_file.erase("file");
  EXPECT_THROW(family("knn").load(no_file, dir.path()), InvalidArgument);
}

TEST(Knn, MissingValuesAreRefused) {
  auto s = make_split(TaskType::Binary);
  s.x_train.at(0, 0) = std::numeric_limits<float>::quiet_NaN();
  auto model = family("knn").make(knn(3), s.task);
  EXPECT_THROW(model->fit(s.x_train, s.y_train, s.options()), InvalidArgument);
}

}  // namespace
}  // namespace quarry::automl
