// Keras Tuner's SklearnTuner in C++: cross-validated tuning of an estimator with fit and predict,
// here quarry::automl's XGBoost family (any family, or any automl::Estimator of your own, works
// the same way). No LibTorch.
//
//   build/examples/sklearn_tuner            # 15 TPE trials of 5-fold CV on 450 rows
//   build/examples/sklearn_tuner knn        # the same with another family
//
// The table is generated: 600 rows, two informative features and three of noise; the label is
// "inside the circle x0^2 + x1^2 < 0.5", 10% of labels flipped. 450 rows are tuned on, 150 kept
// apart to test the refitted best model.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "quarry/automl/estimator.hpp"
#include "quarry/automl/metrics.hpp"
#include "quarry/core/rng.hpp"
#include "quarry/tuners/sklearn_tuner.hpp"

namespace automl = quarry::automl;

int main(int argc, char** argv) {
  const std::string family_name = argc > 1 ? argv[1] : "xgboost";

  // The table: rows 0..449 to tune on, 450..599 to test.
  constexpr std::int64_t kRows = 600, kTrain = 450, kFeatures = 5;
  quarry::Rng rng(7);
  automl::Matrix x(kRows, kFeatures);
  std::vector<double> y;
  for (std::int64_t r = 0; r < kRows; ++r) {
    for (std::int64_t j = 0; j < kFeatures; ++j)
      x.at(r, j) = static_cast<float>(rng.uniform(-1, 1));
    const bool inside = x.at(r, 0) * x.at(r, 0) + x.at(r, 1) * x.at(r, 1) < 0.5f;
    y.push_back((inside != (rng.uniform() < 0.1)) ? 1.0 : 0.0);
  }
  std::vector<std::int64_t> train_rows, test_rows;
  for (std::int64_t r = 0; r < kRows; ++r) (r < kTrain ? train_rows : test_rows).push_back(r);
  const automl::Matrix x_train = x.take(train_rows), x_test = x.take(test_rows);
  const std::vector<double> y_train(y.begin(), y.begin() + kTrain),
      y_test(y.begin() + kTrain, y.end());

  // The hypermodel: the family's own search space, one value per parameter from hp.
  const automl::Family& family = automl::family(family_name);
  auto build_model = [&family](quarry::HyperParameters& hp) {
    quarry::space::Params params;
    for (const auto& param : family.params) params[param.name()] = hp.get(param);
    return family.make(params, automl::TaskType::Binary);
  };

  quarry::SklearnTuner tuner(
      {.objective = "score", .sampler = "tpe", .max_trials = 15, .seed = 1},  // the oracle
      build_model,
      {.scoring = automl::Metric::RocAuc,
       .cv = 5,
       .directory = "my_dir",
       .project_name = "sklearn_" + family_name,
       .overwrite = true});
  tuner.search(x_train, y_train);
  tuner.results_summary(3);

  // The best hyperparameters, refitted on the 450 rows, on the 150 it never saw.
  auto best_model = std::move(tuner.get_best_models(1)[0]);
  const double auc = automl::score(automl::Metric::RocAuc, automl::TaskType::Binary, y_test,
                                   best_model->predict(x_test));
  std::printf("%s: best cross-validated ROC AUC %.4f, test ROC AUC %.4f\n", family.name.c_str(),
              tuner.study().best_trial()->values[0], auc);
  if (auc < 0.8) {  // the circle is learnable to about 0.9 through the flipped labels
    std::fprintf(stderr, "sklearn_tuner: test ROC AUC %.3f is below 0.8\n", auc);
    return 1;
  }
  return 0;
}
