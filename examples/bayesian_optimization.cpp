// Keras Tuner's BayesianOptimization on Fashion-MNIST, in C++ with Quarry: the tutorial's model
// with a continuous learning rate and dropout, searched by a Gaussian process (GP-UCB) after a few
// random trials. Fashion-MNIST comes from Debian's dataset-fashion-mnist package.
//
//   build/examples/bayesian_optimization          # 20 trials of up to 20 epochs (early stopping)
//   build/examples/bayesian_optimization --quick  # 3,000 rows, 6 trials of 2 epochs: a smoke run
#include <cstdio>
#include <cstring>

#include "quarry/data/dataset.hpp"
#include "quarry/tuners/tuner.hpp"

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  const std::int64_t max_trials = quick ? 6 : 20, epochs = quick ? 2 : 20;

  auto [img_train, img_test] = quarry::data::load_idx_folder(quarry::data::kFashionMnistFolder);
  if (quick) img_train = img_train.head(3000);

  auto build_model = [](quarry::HyperParameters& hp) {
    const std::int64_t units = hp.Int("units", 32, 512, {.step = 32});
    const double dropout = hp.Float("dropout", 0.0, 0.5);
    torch::nn::Sequential model(torch::nn::Flatten(), torch::nn::Linear(28 * 28, units),
                                torch::nn::ReLU(), torch::nn::Dropout(dropout),
                                torch::nn::Linear(units, 10));
    const double learning_rate = hp.Float("learning_rate", 1e-4, 1e-2, {.log = true});
    return quarry::nn::Compiled{model,
                                quarry::nn::Adam(learning_rate),
                                quarry::nn::Loss::sparse_categorical_crossentropy,
                                {"accuracy"}};
  };

  // num_initial_points defaults to 3 per hyperparameter (9 here); alpha is the GP's noise
  // variance, beta the weight of its uncertainty in the upper confidence bound.
  quarry::BayesianOptimization tuner(build_model, {.objective = "val_accuracy",
                                                   .max_trials = max_trials,
                                                   .num_initial_points = quick ? 3 : 9,
                                                   .alpha = 1e-4,
                                                   .beta = 2.6,
                                                   .directory = "my_dir",
                                                   .project_name = "bayesian_optimization",
                                                   .overwrite = quick,
                                                   .seed = 1,
                                                   .workers = 2});
  quarry::nn::EarlyStopping stop_early({.monitor = "val_loss", .patience = 3});
  tuner.search(img_train, {.epochs = epochs, .validation_split = 0.2, .callbacks = {stop_early}});
  tuner.results_summary(3);

  // The best model, with the weights of its trial's best epoch, on the test set.
  auto best_hps = tuner.get_best_hyperparameters(1)[0];
  auto best_models = tuner.get_best_models(1);
  auto eval_result = quarry::nn::evaluate(best_models[0], img_test);
  std::printf("Best: units %lld, dropout %.3f, learning rate %.2e\n",
              static_cast<long long>(std::get<std::int64_t>(best_hps["units"])),
              std::get<double>(best_hps["dropout"]), std::get<double>(best_hps["learning_rate"]));
  std::printf("[test loss, test accuracy]: [%.4f, %.4f]\n", eval_result["loss"],
              eval_result["accuracy"]);

  // As a test (--quick): every trial completed and the best model learned something.
  std::int64_t complete = 0;
  for (const auto& t : tuner.study().trials()) complete += t.state == quarry::TrialState::Complete;
  if (complete != max_trials || eval_result["accuracy"] < 0.5) {
    std::fprintf(stderr, "bayesian_optimization: %lld of %lld trials complete, accuracy %.3f\n",
                 static_cast<long long>(complete), static_cast<long long>(max_trials),
                 eval_result["accuracy"]);
    return 1;
  }
  return 0;
}
