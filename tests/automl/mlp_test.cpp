// AutoML's MLP family (quarry/automl/mlp.cpp): its registration and space, learning nonlinear
// classification and regression problems generated here (seeded), softmax outputs, save / load,
// determinism, the budget fraction, the deadline, and its errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/test_util.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "quarry/automl/estimator.hpp"
#include "quarry/automl/mlp.hpp"
#include "quarry/core/error.hpp"
#include "quarry/core/rng.hpp"

namespace quarry::automl {
namespace {

using quarry::testing::error_of;
using quarry::testing::TempDir;
using ::testing::HasSubstr;

struct Problem {
  Matrix x;
  std::vector<double> y;
};

/// XOR in 2-D: x uniform in [-1, 1]^2, class 1 when both coordinates have the same sign. No
/// linear boundary does better than chance.
Problem xor_problem(std::int64_t rows, std::uint64_t seed) {
  Problem p{Matrix(rows, 2), {}};
  Rng rng(seed);
  for (std::int64_t r = 0; r < rows; ++r) {
    const double a = rng.uniform(-1, 1), b = rng.uniform(-1, 1);
    p.x.at(r, 0) = static_cast<float>(a);
    p.x.at(r, 1) = static_cast<float>(b);
    p.y.push_back(a * b > 0 ? 1 : 0);
  }
  return p;
}

/// Three Gaussian blobs (sd 0.6) centred on a circle of radius 2, classes in turn row by row; the
/// features are offset and scaled (x * 100 + 1000) so that standardisation matters.
Problem blobs(std::int64_t rows, std::uint64_t seed) {
  Problem p{Matrix(rows, 2), {}};
  Rng rng(seed);
  for (std::int64_t r = 0; r < rows; ++r) {
    const double angle = 2.0943951023931953 * static_cast<double>(r % 3);
    p.x.at(r, 0) = static_cast<float>(1000 + 100 * (2 * std::cos(angle) + 0.6 * rng.normal()));
    p.x.at(r, 1) = static_cast<float>(1000 + 100 * (2 * std::sin(angle) + 0.6 * rng.normal()));
    p.y.push_back(static_cast<double>(r % 3));
  }
  return p;
}

/// y = 50 * (sin(2 a) + b^2) + 300 + noise (sd 5), a and b uniform in [-1.5, 1.5].
Problem curve(std::int64_t rows, std::uint64_t seed) {
  Problem p{Matrix(rows, 2), {}};
  Rng rng(seed);
  for (std::int64_t r = 0; r < rows; ++r) {
    const double a = rng.uniform(-1.5, 1.5), b = rng.uniform(-1.5, 1.5);
    p.x.at(r, 0) = static_cast<float>(a);
    p.x.at(r, 1) = static_cast<float>(b);
    p.y.push_back(50 * (std::sin(2 * a) + b * b) + 300 + 5 * rng.normal());
  }
  return p;
}

/// The first `count` rows and the rest.
std::pair<Problem, Problem> split_at(const Problem& p, std::int64_t count) {
  std::vector<std::int64_t> head, tail;
  for (std::int64_t r = 0; r < p.x.rows; ++r) (r < count ? head : tail).push_back(r);
  Problem a{p.x.take(head), {p.y.begin(), p.y.begin() + count}};
  Problem b{p.x.take(tail), {p.y.begin() + count, p.y.end()}};
  return {a, b};
}

double accuracy(const Matrix& probabilities, const std::vector<double>& y) {
  std::int64_t correct = 0;
  for (std::int64_t r = 0; r < probabilities.rows; ++r) {
    const float* row = probabilities.row(r);
    const auto best = std::max_element(row, row + probabilities.cols) - row;
    correct += static_cast<double>(best) == y[static_cast<std::size_t>(r)];
  }
  return static_cast<double>(correct) / static_cast<double>(probabilities.rows);
}

std::unique_ptr<Estimator> make_mlp(const space::Params& params, TaskType task) {
  register_mlp_family();
  return family("mlp").make(params, task);
}

/// A small network that learns the problems above in well under a second.
space::Params small(std::int64_t epochs = 60) {
  return {{"mlp.hidden_layers", std::int64_t{1}},
          {"mlp.units", std::int64_t{48}},
          {"mlp.learning_rate", 1e-2},
          {"mlp.batch_size", std::int64_t{32}},
          {"mlp.epochs", epochs}};
}

double steady_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

TEST(MlpFamily, RegistersWithItsSpaceAndCheapStart) {
  register_mlp_family();
  register_mlp_family();  // idempotent: replaces itself
  const Family& mlp = family("mlp");
  EXPECT_EQ(mlp.name, "mlp");
  EXPECT_EQ(mlp.description, "multi-layer perceptron (LibTorch)");
  EXPECT_TRUE(mlp.has_budget);
  EXPECT_TRUE(mlp.classification);
  EXPECT_TRUE(mlp.regression);
  EXPECT_EQ(std::count_if(families().begin(), families().end(),
                          [](const Family& f) { return f.name == "mlp"; }),
            1);
  std::vector<std::string> names;
  for (const auto& p : mlp.params) names.push_back(p.name());
  EXPECT_THAT(names, ::testing::UnorderedElementsAre(
                         "mlp.hidden_layers", "mlp.units", "mlp.dropout", "mlp.learning_rate",
                         "mlp.weight_decay", "mlp.batch_size", "mlp.epochs"));
  for (const auto& p : mlp.params) {
    ASSERT_TRUE(mlp.cheap.count(p.name())) << p.name();
    EXPECT_TRUE(p.contains(mlp.cheap.at(p.name()))) << p.name();
    if (p.name() == "mlp.units" || p.name() == "mlp.learning_rate" || p.name() == "mlp.epochs") {
      EXPECT_TRUE(p.log()) << p.name();
    }
  }
  EXPECT_EQ(space::to_double(mlp.cheap.at("mlp.hidden_layers")), 1);
  EXPECT_EQ(space::to_double(mlp.cheap.at("mlp.units")), 32);
  EXPECT_EQ(space::to_double(mlp.cheap.at("mlp.epochs")), 10);
}

TEST(MlpFamily, LearnsXorFarAboveChance) {
  const auto [train, test] = split_at(xor_problem(400, 1), 300);
  auto model = make_mlp(small(100), TaskType::Binary);
  model->fit(train.x, train.y, {.num_classes = 2, .seed = 3});
  const Matrix p = model->predict(test.x);
  ASSERT_EQ(p.rows, 100);
  ASSERT_EQ(p.cols, 2);
  EXPECT_GT(accuracy(p, test.y), 0.9);
  for (std::int64_t r = 0; r < p.rows; ++r) EXPECT_NEAR(p.at(r, 0) + p.at(r, 1), 1.0, 1e-5);
}

TEST(MlpFamily, MulticlassProbabilitiesSumToOne) {
  const auto [train, test] = split_at(blobs(300, 2), 240);
  auto model = make_mlp(small(), TaskType::Multiclass);
  model->fit(train.x, train.y, {.num_classes = 3, .seed = 1});
  const Matrix p = model->predict(test.x);
  ASSERT_EQ(p.cols, 3);
  for (std::int64_t r = 0; r < p.rows; ++r) {
    EXPECT_NEAR(p.at(r, 0) + p.at(r, 1) + p.at(r, 2), 1.0, 1e-5);
    for (std::int64_t c = 0; c < 3; ++c) EXPECT_GE(p.at(r, c), 0.0F);
  }
  EXPECT_GT(accuracy(p, test.y), 0.85);
}

TEST(MlpFamily, RegressionBeatsTheMean) {
  const auto [train, test] = split_at(curve(400, 5), 300);
  auto model = make_mlp(small(100), TaskType::Regression);
  model->fit(train.x, train.y, {.seed = 2});
  const Matrix p = model->predict(test.x);
  ASSERT_EQ(p.cols, 1);
  double mean = 0;
  for (double v : train.y) mean += v / static_cast<double>(train.y.size());
  double model_error = 0, mean_error = 0;
  for (std::size_t i = 0; i < test.y.size(); ++i) {
    model_error += std::pow(p.at(static_cast<std::int64_t>(i), 0) - test.y[i], 2);
    mean_error += std::pow(mean - test.y[i], 2);
  }
  // The predictions are in the target's units (y was standardised inside and scaled back).
  EXPECT_LT(model_error, 0.25 * mean_error);
}

TEST(MlpFamily, SaveAndLoadPredictTheSame) {
  const auto [train, test] = split_at(blobs(300, 4), 240);
  space::Params params = small(30);
  params["mlp.hidden_layers"] = std::int64_t{2};
  params["mlp.dropout"] = 0.2;
  auto model = make_mlp(params, TaskType::Multiclass);
  model->fit(train.x, train.y, {.num_classes = 3, .seed = 9});
  const TempDir dir;
  const nlohmann::json saved = model->save(dir.path(), "model_1");
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "model_1.pt"));
  EXPECT_EQ(saved.at("layers"), nlohmann::json({2, 48, 48, 3}));
  // Through a JSON text and back, as a saved run reads it.
  const auto loaded = family("mlp").load(nlohmann::json::parse(saved.dump()), dir.path());
  EXPECT_EQ(loaded->predict(test.x).values, model->predict(test.x).values);
  EXPECT_EQ(loaded->save(dir.path(), "again").at("x_mean"), saved.at("x_mean"));

  auto regression = make_mlp(small(20), TaskType::Regression);
  const Problem c = curve(120, 8);
  regression->fit(c.x, c.y, {.seed = 1});
  const auto back = family("mlp").load(regression->save(dir.path(), "r"), dir.path());
  EXPECT_EQ(back->predict(c.x).values, regression->predict(c.x).values);
}

TEST(MlpFamily, LoadRejectsAMismatchedModel) {
  const Problem c = curve(60, 8);
  auto model = make_mlp(small(10), TaskType::Regression);
  model->fit(c.x, c.y, {.seed = 1});
  const TempDir dir;
  nlohmann::json saved = model->save(dir.path(), "m");
  saved["layers"] = {2, 64, 1};  // not the saved weights' shape
  EXPECT_THAT(error_of([&] { family("mlp").load(saved, dir.path()); }), HasSubstr("m.pt"));
  saved.erase("x_std");
  EXPECT_THAT(error_of([&] { family("mlp").load(saved, dir.path()); }), HasSubstr("x_std"));
}

TEST(MlpFamily, SameSeedSameModelOtherSeedAnother) {
  const Problem p = xor_problem(200, 7);
  space::Params params = small(15);
  params["mlp.dropout"] = 0.3;
  const auto fit = [&](std::uint64_t seed) {
    auto model = make_mlp(params, TaskType::Binary);
    model->fit(p.x, p.y, {.num_classes = 2, .seed = seed});
    return model->predict(p.x).values;
  };
  EXPECT_EQ(fit(11), fit(11));
  EXPECT_NE(fit(11), fit(12));
}

TEST(MlpFamily, BudgetFractionScalesTheEpochs) {
  const Problem p = xor_problem(300, 3);
  const TempDir dir;
  const auto run = [&](double fraction) {
    auto model = make_mlp(small(100), TaskType::Binary);
    model->fit(p.x, p.y, {.num_classes = 2, .seed = 4, .budget_fraction = fraction});
    return model->save(dir.path(), "m");
  };
  const nlohmann::json tenth = run(0.1), full = run(1.0);
  EXPECT_EQ(tenth.at("epochs"), 10);
  EXPECT_EQ(tenth.at("epochs_run"), 10);
  EXPECT_EQ(full.at("epochs"), 100);
  EXPECT_GT(full.at("epochs_run").get<std::int64_t>(), 10);
  EXPECT_LE(full.at("best_epoch").get<std::int64_t>(), full.at("epochs_run").get<std::int64_t>());
  EXPECT_THAT(error_of([&] { run(0); }), HasSubstr("budget_fraction must be in (0, 1]"));
}

TEST(MlpFamily, KeepsTheBestValidationEpoch) {
  // A long fit stops kMlpPatience epochs after its best validation loss and keeps that epoch's
  // weights: the same as a fit (same seed: same split, order and masks) that ends there.
  const Problem p = xor_problem(300, 3);
  const TempDir dir;
  auto long_fit = make_mlp(small(100), TaskType::Binary);
  long_fit->fit(p.x, p.y, {.num_classes = 2, .seed = 4});
  const nlohmann::json saved = long_fit->save(dir.path(), "m");
  const auto best = saved.at("best_epoch").get<std::int64_t>();
  ASSERT_EQ(saved.at("epochs_run").get<std::int64_t>(), best + kMlpPatience);
  ASSERT_GE(best, 10);
  auto short_fit = make_mlp(small(best), TaskType::Binary);
  short_fit->fit(p.x, p.y, {.num_classes = 2, .seed = 4});
  EXPECT_EQ(short_fit->predict(p.x).values, long_fit->predict(p.x).values);
}

TEST(MlpFamily, PassedDeadlineReturnsAfterOneEpochWithAUsableModel) {
  const Problem p = xor_problem(400, 6);
  auto model = make_mlp(small(200), TaskType::Binary);
  const double started = steady_seconds();
  model->fit(p.x, p.y, {.num_classes = 2, .seed = 1, .deadline = started - 1});
  EXPECT_LT(steady_seconds() - started, 2.0);
  const TempDir dir;
  const nlohmann::json saved = model->save(dir.path(), "m");
  EXPECT_EQ(saved.at("epochs"), 200);
  EXPECT_EQ(saved.at("epochs_run"), 1);
  EXPECT_EQ(saved.at("best_epoch"), 1);
  const Matrix out = model->predict(p.x);
  ASSERT_EQ(out.rows, 400);
  for (std::int64_t r = 0; r < out.rows; ++r) EXPECT_NEAR(out.at(r, 0) + out.at(r, 1), 1.0, 1e-5);

  // A deadline a little ahead stops a long fit early (90 rows: no validation split, so no early
  // stopping; 200 epochs of 3 batches take well over 10 ms).
  const Problem q = xor_problem(90, 6);
  auto later = make_mlp(small(200), TaskType::Binary);
  later->fit(q.x, q.y, {.num_classes = 2, .seed = 1, .deadline = steady_seconds() + 0.01});
  const std::int64_t run = later->save(dir.path(), "m").at("epochs_run").get<std::int64_t>();
  EXPECT_GE(run, 1);
  EXPECT_LT(run, 200);
}

TEST(MlpFamily, RejectsMissingValuesAndBadTargets) {
  Problem p = xor_problem(50, 1);
  p.x.at(7, 1) = std::nanf("");
  auto model = make_mlp(small(10), TaskType::Binary);
  EXPECT_EQ(error_of([&] { model->fit(p.x, p.y, {.num_classes = 2}); }),
            "mlp fit: row 7, feature 1 is missing (NaN); the MLP needs imputed, finite inputs");
  p.x.at(7, 1) = 0;
  p.y[3] = 0.5;
  EXPECT_THAT(error_of([&] { model->fit(p.x, p.y, {.num_classes = 2}); }),
              HasSubstr("not a class index"));
  p.y[3] = 2;
  EXPECT_THAT(error_of([&] { model->fit(p.x, p.y, {.num_classes = 2}); }),
              HasSubstr("class index 2 for num_classes 2"));
  EXPECT_THAT(error_of<Error>([&] { model->predict(p.x); }), HasSubstr("not fitted"));
  p.y[3] = 1;
  model->fit(p.x, p.y, {.num_classes = 2});
  EXPECT_THAT(error_of([&] { model->predict(Matrix(3, 5)); }),
              HasSubstr("5 features, the model was trained on 2"));
}

TEST(MlpFamily, RejectsUnknownOrOutOfRangeParameters) {
  EXPECT_THAT(error_of([] {
                make_mlp({{"mlp.layers", std::int64_t{2}}}, TaskType::Binary);
              }),
              HasSubstr("unknown parameter 'mlp.layers'"));
  EXPECT_THAT(error_of([] {
                make_mlp({{"mlp.units", std::int64_t{4}}}, TaskType::Binary);
              }),
              HasSubstr("mlp.units"));
  // Other parts' parameters (the family choice) pass through.
  EXPECT_NO_THROW(make_mlp({{"family", std::string("mlp")}}, TaskType::Binary));
}

TEST(MlpFamily, ADivergingFitIsAnErrorOfOneLine) {
  // Targets beyond float's range: the standardised target overflows and the loss is infinite.
  const Problem c = curve(40, 1);
  std::vector<double> huge(c.y.size());
  for (std::size_t i = 0; i < huge.size(); ++i) huge[i] = (i % 2 ? 1 : -1) * 1e200;
  auto model = make_mlp(small(10), TaskType::Regression);
  const std::string message = error_of<Error>([&] { model->fit(c.x, huge, {}); });
  EXPECT_THAT(message, HasSubstr("mlp: training diverged (loss became inf at epoch 1, batch 1"));
  EXPECT_EQ(message.find('\n'), std::string::npos);
}

}  // namespace
}  // namespace quarry::automl
