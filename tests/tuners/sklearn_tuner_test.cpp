// SklearnTuner (quarry/tuners/sklearn_tuner.hpp): each trial's score is the mean of its fold
// scores, computed here by hand; the study is stored and resumed; the best models are refitted
// on all rows; the oracle's sampler, the scoring's direction and the task reach the search.
// The estimators are defined here (ridge regression, nearest centroids) so that the tests do not
// depend on automl's families; the data are generated from fixed seeds.
#include "quarry/tuners/sklearn_tuner.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "quarry/core/error.hpp"
#include "quarry/core/rng.hpp"
#include "quarry/samplers/tpe.hpp"
#include "quarry/storage/sqlite.hpp"
#include "tests/test_util.hpp"

namespace quarry::tuners {
namespace {

using automl::Matrix;
using quarry::testing::TempDir;
using ::testing::HasSubstr;

/// Ridge regression with an intercept: (Xc'Xc + alpha I) w = Xc'yc on centred data, solved by
/// Gaussian elimination (a few features only).
class Ridge final : public automl::Estimator {
 public:
  explicit Ridge(double alpha) : alpha_(alpha) {}
  void fit(const Matrix& x, const std::vector<double>& y, const automl::FitOptions& o) override {
    num_classes_seen = o.num_classes;
    const auto d = static_cast<std::size_t>(x.cols);
    std::vector<double> mean(d, 0.0);
    double y_mean = 0;
    for (std::int64_t r = 0; r < x.rows; ++r) {
      for (std::size_t j = 0; j < d; ++j) mean[j] += x.at(r, static_cast<std::int64_t>(j));
      y_mean += y[static_cast<std::size_t>(r)];
    }
    for (double& m : mean) m /= static_cast<double>(x.rows);
    y_mean /= static_cast<double>(x.rows);
    std::vector<std::vector<double>> a(d, std::vector<double>(d + 1, 0.0));  // [A | b]
    for (std::int64_t r = 0; r < x.rows; ++r)
      for (std::size_t i = 0; i < d; ++i) {
        const double xi = x.at(r, static_cast<std::int64_t>(i)) - mean[i];
        for (std::size_t j = 0; j < d; ++j)
          a[i][j] += xi * (x.at(r, static_cast<std::int64_t>(j)) - mean[j]);
        a[i][d] += xi * (y[static_cast<std::size_t>(r)] - y_mean);
      }
    for (std::size_t i = 0; i < d; ++i) a[i][i] += alpha_;
    for (std::size_t i = 0; i < d; ++i)  // symmetric positive definite: no pivoting needed
      for (std::size_t k = i + 1; k < d; ++k) {
        const double f = a[k][i] / a[i][i];
        for (std::size_t j = i; j <= d; ++j) a[k][j] -= f * a[i][j];
      }
    w_.assign(d, 0.0);
    for (std::size_t i = d; i-- > 0;) {
      double s = a[i][d];
      for (std::size_t j = i + 1; j < d; ++j) s -= a[i][j] * w_[j];
      w_[i] = s / a[i][i];
    }
    b_ = y_mean;
    for (std::size_t j = 0; j < d; ++j) b_ -= w_[j] * mean[j];
  }
  Matrix predict(const Matrix& x) const override {
    Matrix out(x.rows, 1);
    for (std::int64_t r = 0; r < x.rows; ++r) {
      double v = b_;
      for (std::size_t j = 0; j < w_.size(); ++j)
        v += w_[j] * x.at(r, static_cast<std::int64_t>(j));
      out.at(r, 0) = static_cast<float>(v);
    }
    return out;
  }
  nlohmann::json save(const std::filesystem::path&, const std::string&) const override {
    return {{"weights", w_}, {"intercept", b_}};
  }
  std::int64_t num_classes_seen = -1;

 private:
  double alpha_;
  std::vector<double> w_;
  double b_ = 0;
};

/// Nearest centroid over the features `use` picks; probability 1 for the nearest class.
class NearestCentroid final : public automl::Estimator {
 public:
  explicit NearestCentroid(std::vector<std::int64_t> features) : features_(std::move(features)) {}
  void fit(const Matrix& x, const std::vector<double>& y, const automl::FitOptions& o) override {
    if (o.num_classes < 2) throw InvalidArgument("NearestCentroid: a classification task");
    centroids_.assign(static_cast<std::size_t>(o.num_classes),
                      std::vector<double>(features_.size(), 0.0));
    std::vector<double> count(static_cast<std::size_t>(o.num_classes), 0.0);
    for (std::int64_t r = 0; r < x.rows; ++r) {
      const auto c = static_cast<std::size_t>(y[static_cast<std::size_t>(r)]);
      count[c] += 1;
      for (std::size_t f = 0; f < features_.size(); ++f) centroids_[c][f] += x.at(r, features_[f]);
    }
    for (std::size_t c = 0; c < centroids_.size(); ++c)
      for (double& v : centroids_[c]) v /= std::max(count[c], 1.0);
  }
  Matrix predict(const Matrix& x) const override {
    Matrix out(x.rows, static_cast<std::int64_t>(centroids_.size()));
    for (std::int64_t r = 0; r < x.rows; ++r) {
      std::size_t best = 0;
      double best_d = INFINITY;
      for (std::size_t c = 0; c < centroids_.size(); ++c) {
        double d = 0;
        for (std::size_t f = 0; f < features_.size(); ++f)
          d += std::pow(x.at(r, features_[f]) - centroids_[c][f], 2);
        if (d < best_d) best_d = d, best = c;
      }
      out.at(r, static_cast<std::int64_t>(best)) = 1.0f;
    }
    return out;
  }
  nlohmann::json save(const std::filesystem::path&, const std::string&) const override {
    return {{"centroids", centroids_}};
  }

 private:
  std::vector<std::int64_t> features_;
  std::vector<std::vector<double>> centroids_;
};

/// 60 rows, y = 2 x0 - x1 + 0.5 x2 + N(0, 0.5^2), x ~ N(0, 1) (Rng seed 11).
struct Regression {
  Matrix x{60, 3};
  std::vector<double> y;
  Regression() {
    Rng rng(11);
    for (std::int64_t r = 0; r < x.rows; ++r) {
      for (std::int64_t j = 0; j < 3; ++j) x.at(r, j) = static_cast<float>(rng.normal());
      y.push_back(2.0 * x.at(r, 0) - x.at(r, 1) + 0.5 * x.at(r, 2) + 0.5 * rng.normal());
    }
  }
};

/// 90 rows of 3 classes: feature 0 is the class plus N(0, 0.3^2) noise, feature 1 pure noise
/// N(0, 3^2) (Rng seed 12): nearest centroids on feature 0 alone are the most accurate.
struct Classes {
  Matrix x{90, 2};
  std::vector<double> y;
  Classes() {
    Rng rng(12);
    for (std::int64_t r = 0; r < x.rows; ++r) {
      const double c = static_cast<double>(r % 3);
      x.at(r, 0) = static_cast<float>(c + 0.3 * rng.normal());
      x.at(r, 1) = static_cast<float>(3.0 * rng.normal());
      y.push_back(c);
    }
  }
};

std::unique_ptr<automl::Estimator> build_ridge(HyperParameters& hp) {
  return std::make_unique<Ridge>(hp.Float("alpha", 1e-3, 1e3, {.log = true}));
}

std::unique_ptr<automl::Estimator> build_centroids(HyperParameters& hp) {
  const std::string use = hp.Choice("features", {"first", "second", "both"});
  if (use == "first") return std::make_unique<NearestCentroid>(std::vector<std::int64_t>{0});
  if (use == "second") return std::make_unique<NearestCentroid>(std::vector<std::int64_t>{1});
  return std::make_unique<NearestCentroid>(std::vector<std::int64_t>{0, 1});
}

double rmse_by_hand(const Ridge& model, const Matrix& x, const std::vector<double>& y) {
  const Matrix p = model.predict(x);
  double s = 0;
  for (std::int64_t r = 0; r < x.rows; ++r)
    s += std::pow(p.at(r, 0) - y[static_cast<std::size_t>(r)], 2);
  return std::sqrt(s / static_cast<double>(x.rows));
}

std::vector<double> take(const std::vector<double>& y, const std::vector<std::int64_t>& rows) {
  std::vector<double> out;
  for (std::int64_t r : rows) out.push_back(y[static_cast<std::size_t>(r)]);
  return out;
}

/// Two folds of the 60 regression rows: even rows validate first, odd rows second.
std::vector<automl::Fold> even_odd_folds() {
  automl::Fold a, b;
  for (std::int64_t r = 0; r < 60; ++r) {
    (r % 2 == 0 ? a.valid : a.train).push_back(r);
    (r % 2 == 0 ? b.train : b.valid).push_back(r);
  }
  return {a, b};
}

std::vector<double> fold_scores(const Trial& t) {
  return nlohmann::json::parse(t.attrs.at("fold_scores")).get<std::vector<double>>();
}

TEST(SklearnTunerTest, EachTrialScoresTheMeanOfItsFoldsAsComputedByHand) {
  TempDir dir;
  const Regression data;
  SklearnTuner tuner({.max_trials = 4, .seed = 3}, build_ridge,
                     {.scoring = automl::Metric::Rmse,
                      .folds = even_odd_folds(),
                      .directory = dir.path(),
                      .project_name = "ridge",
                      .verbose = false});
  EXPECT_EQ(tuner.direction(), Direction::Minimize);  // RMSE: lower is better
  tuner.search(data.x, data.y);

  const auto trials = tuner.study().trials();
  ASSERT_EQ(trials.size(), 4U);
  std::set<double> alphas;
  for (const Trial& t : trials) {
    ASSERT_EQ(t.state, TrialState::Complete) << t.failure;
    const double alpha = std::get<double>(t.params.at("alpha"));
    alphas.insert(alpha);
    std::vector<double> expected;
    for (const automl::Fold& fold : even_odd_folds()) {
      Ridge model(alpha);
      model.fit(data.x.take(fold.train), take(data.y, fold.train), {});
      expected.push_back(rmse_by_hand(model, data.x.take(fold.valid), take(data.y, fold.valid)));
    }
    const auto scores = fold_scores(t);
    ASSERT_EQ(scores.size(), 2U);
    EXPECT_NEAR(scores[0], expected[0], 1e-6);
    EXPECT_NEAR(scores[1], expected[1], 1e-6);
    EXPECT_NEAR(t.values[0], (expected[0] + expected[1]) / 2, 1e-6);
  }
  EXPECT_EQ(alphas.size(), 4U);  // the sampler drew four different alphas
}

TEST(SklearnTunerTest, StoresTheStudyAndReturnsTheBestRefittedOnAllRows) {
  TempDir dir;
  const Regression data;
  SklearnTuner tuner({.max_trials = 5, .seed = 1}, build_ridge,
                     {.scoring = automl::Metric::Rmse,
                      .cv = 3,
                      .directory = dir.path(),
                      .project_name = "ridge",
                      .verbose = false});
  tuner.search(data.x, data.y);
  EXPECT_EQ(tuner.project_dir(), dir.path() / "ridge");

  auto store =
      std::make_shared<storage::SqliteStorage>((dir.path() / "ridge" / "quarry.db").string());
  Study stored = Study::open(store, "ridge");
  auto trials = stored.trials();
  ASSERT_EQ(trials.size(), 5U);
  for (const Trial& t : trials) {
    const auto scores = fold_scores(t);
    ASSERT_EQ(scores.size(), 3U);  // cv = 3
    EXPECT_NEAR(t.values[0], (scores[0] + scores[1] + scores[2]) / 3, 1e-12);
  }
  std::stable_sort(trials.begin(), trials.end(),
                   [](const Trial& a, const Trial& b) { return a.values[0] < b.values[0]; });

  const auto best_hps = tuner.get_best_hyperparameters(2);
  ASSERT_EQ(best_hps.size(), 2U);
  EXPECT_EQ(best_hps[0].values(), trials[0].params);
  EXPECT_EQ(best_hps[1].values(), trials[1].params);

  // The best model is the best trial's estimator fitted on all 60 rows.
  auto models = tuner.get_best_models(1);
  ASSERT_EQ(models.size(), 1U);
  Ridge by_hand(std::get<double>(trials[0].params.at("alpha")));
  by_hand.fit(data.x, data.y, {});
  EXPECT_EQ(models[0]->predict(data.x).values, by_hand.predict(data.x).values);
  EXPECT_LT(rmse_by_hand(by_hand, data.x, data.y), 0.7);  // the noise has sd 0.5

  const std::string summary = tuner.results_summary(2);
  EXPECT_THAT(summary, HasSubstr("Showing 2 best trials"));
  EXPECT_THAT(summary, HasSubstr("Objective(name=\"score\", direction=\"min\")"));
  EXPECT_THAT(summary, HasSubstr("Trial " + std::to_string(trials[0].number) + " summary"));
  EXPECT_THAT(summary, HasSubstr("alpha: "));
}

TEST(SklearnTunerTest, ASecondSearchResumesUnlessOverwriteIsSet) {
  TempDir dir;
  const Regression data;
  const SklearnTunerOptions options{.scoring = automl::Metric::Mae,
                                    .cv = 2,
                                    .directory = dir.path(),
                                    .project_name = "resume",
                                    .verbose = false};
  std::vector<Trial> first;
  {
    SklearnTuner tuner({.max_trials = 3}, build_ridge, options);
    tuner.search(data.x, data.y);
    first = tuner.study().trials();
    ASSERT_EQ(first.size(), 3U);
  }
  {
    SklearnTuner tuner({.max_trials = 5}, build_ridge, options);
    tuner.search(data.x, data.y);
    const auto trials = tuner.study().trials();
    ASSERT_EQ(trials.size(), 5U);
    for (std::size_t i = 0; i < 3; ++i) {
      EXPECT_EQ(trials[i].finished_at, first[i].finished_at);
      EXPECT_EQ(trials[i].values, first[i].values);
    }
  }
  {
    SklearnTunerOptions afresh = options;
    afresh.overwrite = true;
    SklearnTuner tuner({.max_trials = 2}, build_ridge, afresh);
    EXPECT_TRUE(tuner.study().trials().empty());
    tuner.search(data.x, data.y);
    EXPECT_EQ(tuner.study().trials().size(), 2U);
  }
}

TEST(SklearnTunerTest, ClassificationTakesTheClassesFromYAndFindsTheInformativeFeature) {
  TempDir dir;
  const Classes data;
  SklearnTuner tuner(
      {.sampler = "grid", .max_trials = 3}, build_centroids,
      {.scoring = automl::Metric::Accuracy, .cv = 3, .directory = dir.path(), .verbose = false});
  EXPECT_EQ(tuner.direction(), Direction::Maximize);
  tuner.search(data.x, data.y);
  const auto trials = tuner.study().trials();
  ASSERT_EQ(trials.size(), 3U);  // the grid: first, second, both
  for (const Trial& t : trials) EXPECT_EQ(t.state, TrialState::Complete) << t.failure;
  const auto best = tuner.get_best_hyperparameters(1)[0];
  EXPECT_EQ(std::get<std::string>(best["features"]), "first");
  const Trial top = tuner.study().best_trial().value();
  EXPECT_GT(top.values[0], 0.9);
  // Three classes: the refitted model predicts three columns of probabilities.
  EXPECT_EQ(tuner.get_best_models(1)[0]->predict(data.x).cols, 3);
}

TEST(SklearnTunerTest, FitOptionsCarryTheClassCountOrZeroForRegression) {
  TempDir dir;
  const Regression data;
  std::vector<std::int64_t> seen;
  const auto spy = [&](HyperParameters& hp) -> std::unique_ptr<automl::Estimator> {
    struct Spy final : automl::Estimator {
      std::vector<std::int64_t>* log = nullptr;
      Ridge ridge{1.0};
      void fit(const Matrix& x, const std::vector<double>& y,
               const automl::FitOptions& o) override {
        log->push_back(o.num_classes);
        ridge.fit(x, y, o);
      }
      Matrix predict(const Matrix& x) const override { return ridge.predict(x); }
      nlohmann::json save(const std::filesystem::path& d, const std::string& s) const override {
        return ridge.save(d, s);
      }
    };
    hp.Int("unused", 0, 3);
    auto out = std::make_unique<Spy>();
    out->log = &seen;
    return out;
  };
  SklearnTuner regression({.max_trials = 1}, spy,
                          {.scoring = automl::Metric::R2,
                           .cv = 2,
                           .directory = dir.path(),
                           .project_name = "r",
                           .verbose = false});
  regression.search(data.x, data.y);
  EXPECT_EQ(seen, (std::vector<std::int64_t>{0, 0}));

  // A user scoring function with an explicit task: y holds classes 0..3.
  seen.clear();
  std::vector<double> four_classes;
  for (std::int64_t r = 0; r < 60; ++r) four_classes.push_back(static_cast<double>(r % 4));
  SklearnTuner classes({.max_trials = 1}, spy,
                       {.scoring = Scoring("mean prediction",
                                           [](const std::vector<double>&, const Matrix& p) {
                                             double s = 0;
                                             for (float v : p.values) s += v;
                                             return s / static_cast<double>(p.values.size());
                                           }),
                        .cv = 2,
                        .task = automl::TaskType::Multiclass,
                        .directory = dir.path(),
                        .project_name = "c",
                        .verbose = false});
  EXPECT_EQ(classes.direction(), Direction::Maximize);
  classes.search(data.x, four_classes);
  EXPECT_EQ(seen, (std::vector<std::int64_t>{4, 4}));
}

TEST(SklearnTunerTest, TheOracleChoosesTheSamplerAndTheDirection) {
  TempDir dir;
  SklearnTuner by_name(
      {.sampler = "tpe"}, build_ridge,
      {.scoring = automl::Metric::Rmse, .directory = dir.path(), .project_name = "a"});
  EXPECT_EQ(by_name.study().sampler().name(), "tpe");
  auto instance = std::make_shared<samplers::TpeSampler>();
  SklearnTuner given(
      {.sampler = instance}, build_ridge,
      {.scoring = automl::Metric::Rmse, .directory = dir.path(), .project_name = "b"});
  EXPECT_EQ(&given.study().sampler(), instance.get());
  SklearnTuner flipped(
      {.direction = Direction::Maximize}, build_ridge,
      {.scoring = automl::Metric::Rmse, .directory = dir.path(), .project_name = "c"});
  EXPECT_EQ(flipped.direction(), Direction::Maximize);
  SklearnTuner lower({}, build_ridge,
                     {.scoring = Scoring(
                          "cost", [](const auto&, const auto&) { return 1.0; },
                          /*greater_is_better=*/false),
                      .task = automl::TaskType::Regression,
                      .directory = dir.path(),
                      .project_name = "d"});
  EXPECT_EQ(lower.direction(), Direction::Minimize);
  SklearnTuner defaults(
      {}, build_ridge,
      {.task = automl::TaskType::Regression, .directory = dir.path(), .project_name = "e"});
  EXPECT_EQ(defaults.scoring().name, "r2");
}

TEST(SklearnTunerTest, AFailingFitFailsItsTrialAndTheSearchGoesOn) {
  TempDir dir;
  const Regression data;
  SklearnTuner tuner(
      {.max_trials = 4, .seed = 2},
      [](HyperParameters& hp) -> std::unique_ptr<automl::Estimator> {
        const double alpha = hp.Float("alpha", 1e-3, 1e3, {.log = true});
        if (alpha > 1.0) throw Error("diverged at alpha " + std::to_string(alpha));
        return std::make_unique<Ridge>(alpha);
      },
      {.scoring = automl::Metric::Rmse, .cv = 2, .directory = dir.path(), .verbose = false});
  tuner.search(data.x, data.y);
  const auto trials = tuner.study().trials();
  ASSERT_EQ(trials.size(), 4U);
  int failed = 0;
  for (const Trial& t : trials) {
    const bool large = std::get<double>(t.params.at("alpha")) > 1.0;
    EXPECT_EQ(t.state, large ? TrialState::Failed : TrialState::Complete) << t.number;
    if (large) {
      EXPECT_THAT(t.failure, HasSubstr("diverged"));
      ++failed;
    }
  }
  EXPECT_GT(failed, 0);
  EXPECT_LT(failed, 4);
}

TEST(SklearnTunerTest, RejectsUnusableSettingsAndDataWithOneLine) {
  TempDir dir;
  const Regression data;
  const auto make = [&](Oracle oracle, SklearnTunerOptions options) {
    options.directory = dir.path();
    options.verbose = false;
    return std::make_unique<SklearnTuner>(std::move(oracle), build_ridge, std::move(options));
  };
  using quarry::testing::error_of;
  EXPECT_THAT(error_of([&] { make({}, {}); }), HasSubstr("set `scoring` or `task`"));
  EXPECT_THAT(error_of([&] {
                make({}, {.scoring = Scoring("f", [](const auto&, const auto&) { return 0.0; })});
              }),
              HasSubstr("set `task`"));
  EXPECT_THAT(error_of([&] { make({}, {.scoring = automl::Metric::Rmse, .cv = 1}); }),
              HasSubstr("cv >= 2"));
  EXPECT_THAT(error_of([&] { make({.max_trials = 0}, {.scoring = automl::Metric::Rmse}); }),
              HasSubstr("max_trials >= 1"));
  EXPECT_THAT(error_of([&] { make({.sampler = "nope"}, {.scoring = automl::Metric::Rmse}); }),
              HasSubstr("unknown sampler 'nope'"));

  auto tuner = make({}, {.scoring = automl::Metric::Rmse, .project_name = "errors"});
  EXPECT_THAT(error_of([&] { tuner->get_best_models(); }), HasSubstr("run search first"));
  EXPECT_THAT(error_of([&] {
                tuner->search(data.x, {1.0, 2.0});
              }),
              HasSubstr("x has 60 rows but y has 2 values"));
  auto accuracy = make({}, {.scoring = automl::Metric::Accuracy, .project_name = "accuracy"});
  EXPECT_THAT(error_of([&] { accuracy->search(data.x, data.y); }),
              HasSubstr("is not a class index"));
  auto wrong_task = make(
      {},
      {.scoring = automl::Metric::Rmse, .task = automl::TaskType::Binary, .project_name = "task"});
  std::vector<double> binary(60, 0.0);
  binary[1] = 1, binary[2] = 1;
  EXPECT_THAT(error_of([&] { wrong_task->search(data.x, binary); }),
              HasSubstr("metric 'rmse' does not apply to a binary task"));
  auto bad_folds = make({}, {.scoring = automl::Metric::Rmse,
                             .folds = {{.train = {0, 1}, .valid = {60}}},
                             .project_name = "folds"});
  EXPECT_THAT(error_of([&] { bad_folds->search(data.x, data.y); }),
              HasSubstr("fold 0 names row 60; the data has 60 rows"));
}

}  // namespace
}  // namespace quarry::tuners
