// The Keras Tuner tutorial ("Introduction to the Keras Tuner"), line for line in C++ with Quarry.
// Fashion-MNIST comes from Debian's dataset-fashion-mnist package.
//
//   build/examples/fashion_mnist            # the tutorial: Hyperband, max_epochs 10, factor 3
//   build/examples/fashion_mnist --quick    # 3,000 rows and 2 epochs: a smoke run (~1 min)
#include <algorithm>
#include <cstdio>
#include <cstring>

#include "quarry/data/dataset.hpp"
#include "quarry/tuners/tuner.hpp"

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  const std::int64_t max_epochs = quick ? 2 : 10, epochs = quick ? 2 : 50;

  // (img_train, label_train), (img_test, label_test) = keras.datasets.fashion_mnist.load_data()
  // img_train = img_train.astype('float32') / 255.0   (the loader scales to [0, 1])
  auto [img_train, img_test] = quarry::data::load_idx_folder(quarry::data::kFashionMnistFolder);
  if (quick) img_train = img_train.head(3000);

  auto model_builder = [](quarry::HyperParameters& hp) {
    // Tune the number of units in the first Dense layer: an integer between 16 and 512.
    const std::int64_t hp_units = hp.Int("units", 16, 512, {.step = 16});
    torch::nn::Sequential model(torch::nn::Flatten(), torch::nn::Linear(28 * 28, hp_units),
                                torch::nn::ReLU(), torch::nn::Dropout(0.2),
                                torch::nn::Linear(hp_units, 10));
    // Tune the learning rate for the optimizer: one of 0.01, 0.001 or 0.0001.
    const double hp_learning_rate = hp.Choice("learning_rate", {1e-2, 1e-3, 1e-4});
    return quarry::nn::Compiled{model,
                                quarry::nn::Adam(hp_learning_rate),
                                quarry::nn::Loss::sparse_categorical_crossentropy,
                                {"accuracy"}};
  };

  quarry::Hyperband tuner(model_builder, {.objective = "val_accuracy",
                                          .max_epochs = max_epochs,
                                          .factor = 3,
                                          .directory = "my_dir",
                                          .project_name = "intro_to_kt",
                                          .overwrite = quick,
                                          .workers = 2});
  quarry::nn::EarlyStopping stop_early({.monitor = "val_loss", .patience = 5});
  tuner.search(img_train, {.epochs = epochs, .validation_split = 0.2, .callbacks = {stop_early}});

  // Get the optimal hyperparameters.
  auto best_hps = tuner.get_best_hyperparameters(1)[0];
  std::printf(
      "The hyperparameter search is complete. The optimal number of units in the first densely-"
      "connected layer is %lld and the optimal learning rate for the optimizer is %g.\n",
      static_cast<long long>(std::get<std::int64_t>(best_hps["units"])),
      std::get<double>(best_hps["learning_rate"]));

  // Build the model with the optimal hyperparameters and train it on the data for `epochs` epochs.
  auto model = tuner.hypermodel().build(best_hps);
  auto history = quarry::nn::fit(model, img_train, {.epochs = epochs, .validation_split = 0.2});
  const std::int64_t best_epoch = static_cast<std::int64_t>(*history.best("val_accuracy")) + 1;
  std::printf("Best epoch: %lld\n", static_cast<long long>(best_epoch));

  // Re-instantiate the hypermodel and train it with the optimal number of epochs from above.
  auto hypermodel = tuner.hypermodel().build(best_hps);
  quarry::nn::fit(hypermodel, img_train, {.epochs = best_epoch, .validation_split = 0.2});
  auto eval_result = quarry::nn::evaluate(hypermodel, img_test);
  std::printf("[test loss, test accuracy]: [%.4f, %.4f]\n", eval_result["loss"],
              eval_result["accuracy"]);
  return 0;
}
