// A model study's sections: model (layers, optimizer, searched values), data and fit.
#include "quarry/config/model_section.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "quarry/config/study_file.hpp"
#include "quarry/core/error.hpp"
#include "quarry/data/dataset.hpp"
#include "tests/config/study_text.hpp"

namespace quarry::config {
namespace {

using space::Param;
using ::testing::StartsWith;
using testing::with_layers;
using testing::with_model;
using testing::with_sections;

// Keras Tuner's introductory study (the README's seed study), as docs/study-file.md shows it.
constexpr const char* kSeed =
    "study: intro_to_kt\n"
    "objective: {metric: val_accuracy, direction: maximize}\n"
    "data: {idx: fashion-mnist, validation_split: 0.2}\n"
    "model:\n"
    "  layers: [flatten, {dense: {units: {int: [16, 512], step: 16}, activation: relu}},\n"
    "           {dropout: 0.2}, {dense: 10}]\n"
    "  optimizer: {adam: {learning_rate: {choice: [1e-2, 1e-3, 1e-4]}}}\n"
    "  loss: sparse_categorical_crossentropy\n"
    "fit: {epochs: 50, early_stopping: {monitor: val_loss, patience: 5}}\n"
    "scheduler: {hyperband: {max_epochs: 10, factor: 3}}\n"
    "seed: 1\n";

StudyFile parse(const std::string& yaml) {
  return parse_study_file(yaml, "/data/exp/study.yaml");
}

std::vector<std::string> described(const nn::ModelSpec& spec) {
  std::vector<std::string> out;
  for (const auto& l : spec.layers) out.push_back(nn::describe(l));
  return out;
}

std::vector<std::string> names_of(const space::Space& s) {
  std::vector<std::string> out;
  for (const auto& p : s.params()) out.push_back(p.name());
  return out;
}

TEST(ModelSection, SeedStudyParsesIntoSpaceTemplateDataAndFit) {
  const StudyFile f = parse(kSeed);
  ASSERT_TRUE(f.model && f.data && f.fit);
  EXPECT_TRUE(f.command.empty() && f.function.empty());
  ASSERT_EQ(f.space.size(), 2u);
  EXPECT_EQ(f.space.params()[0], Param::Int("units", 16, 512, {.step = 16}));
  EXPECT_EQ(f.space.params()[1], Param::Choice("learning_rate", {1e-2, 1e-3, 1e-4}));
  EXPECT_EQ(f.objectives[0].name, "val_accuracy");
  EXPECT_EQ(f.objectives[0].direction, study::Direction::Maximize);
  EXPECT_EQ(f.scheduler, "hyperband");
  EXPECT_EQ(f.scheduler_options, nlohmann::json({{"max_epochs", 10}, {"factor", 3}}));

  const nn::ModelSpec spec =
      resolve(*f.model, {{"units", std::int64_t{64}}, {"learning_rate", 1e-3}});
  EXPECT_EQ(described(spec),
            (std::vector<std::string>{"flatten", "dense(64, relu)", "dropout(0.2)", "dense(10)"}));
  EXPECT_EQ(spec.optimizer.kind, nn::OptimizerKind::Adam);
  EXPECT_EQ(spec.optimizer.learning_rate, 1e-3);
  EXPECT_EQ(spec.optimizer.beta1, 0.9);
  EXPECT_EQ(spec.loss, nn::Loss::SparseCategoricalCrossentropy);
  EXPECT_EQ(spec.metrics, std::vector<std::string>{"accuracy"});

  // The template itself holds the parameters' defaults: the low end and the first choice.
  EXPECT_EQ(described(f.model->spec)[1], "dense(16, relu)");
  EXPECT_EQ(f.model->spec.optimizer.learning_rate, 1e-2);
  ASSERT_EQ(f.model->slots.size(), 2u);
  EXPECT_EQ(f.model->slots[0].layer, 1u);
  EXPECT_EQ(f.model->slots[0].field, "units");
  EXPECT_EQ(f.model->slots[0].key, "model.layers[1].dense.units");
  EXPECT_FALSE(f.model->slots[1].layer);
  EXPECT_EQ(f.model->slots[1].param, "learning_rate");

  EXPECT_EQ(f.data->format, DataSection::Format::Idx);
  EXPECT_EQ(f.data->path, data::kFashionMnistFolder);
  EXPECT_EQ(f.data->validation_split, 0.2);
  EXPECT_EQ(f.data->seed, 1u);  // the study's seed
  EXPECT_EQ(f.fit->epochs, 50);
  EXPECT_EQ(f.fit->batch_size, 32);
  ASSERT_TRUE(f.fit->early_stopping);
  EXPECT_EQ(f.fit->early_stopping->monitor, "val_loss");
  EXPECT_EQ(f.fit->early_stopping->patience, 5);
}

TEST(ModelSection, EveryLayerKindLongAndShort) {
  const StudyFile f = parse(with_layers(
      "    - {conv2d: {filters: 32, kernel_size: 5, strides: 2, padding: valid, activation: "
      "relu}}\n"
      "    - {conv2d: 8}\n"
      "    - {maxpool: 3}\n"
      "    - {maxpool: {pool_size: 3, strides: 1}}\n"
      "    - maxpool\n"
      "    - {avgpool: {pool_size: 2}}\n"
      "    - avgpool\n"
      "    - batchnorm\n"
      "    - {batchnorm: }\n"
      "    - {activation: tanh}\n"
      "    - {dropout: {rate: 0.25}}\n"
      "    - flatten\n"
      "    - {flatten: {}}\n"
      "    - {dense: {units: 64, activation: gelu}}\n"
      "    - {dense: 10}\n"));
  EXPECT_TRUE(f.space.empty());
  EXPECT_TRUE(f.model->slots.empty());
  EXPECT_EQ(described(f.model->spec),
            (std::vector<std::string>{
                "conv2d(32, 5x5, stride 2, valid, relu)", "conv2d(8, 3x3, stride 1, same)",
                "maxpool(3)", "maxpool(3, stride 1)", "maxpool(2)", "avgpool(2)", "avgpool(2)",
                "batchnorm", "batchnorm", "activation(tanh)", "dropout(0.25)", "flatten", "flatten",
                "dense(64, gelu)", "dense(10)"}));
  EXPECT_EQ(resolve(*f.model, {}).layers.size(), 15u);
}

TEST(ModelSection, EveryOptimizerWithItsFieldsAndDefaults) {
  const auto optimizer = [](const std::string& yaml) {
    return parse(with_model("  optimizer: " + yaml + "\n")).model->spec.optimizer;
  };
  const nn::OptimizerSpec sgd =
      optimizer("{sgd: {learning_rate: 0.1, momentum: 0.9, nesterov: true}}");
  EXPECT_EQ(sgd.kind, nn::OptimizerKind::Sgd);
  EXPECT_EQ(sgd.learning_rate, 0.1);
  EXPECT_EQ(sgd.momentum, 0.9);
  EXPECT_TRUE(sgd.nesterov);
  const nn::OptimizerSpec adam =
      optimizer("{adam: {learning_rate: 0.002, beta_1: 0.8, beta_2: 0.99, epsilon: 1e-8}}");
  EXPECT_EQ(adam.kind, nn::OptimizerKind::Adam);
  EXPECT_EQ(adam.learning_rate, 0.002);
  EXPECT_EQ(adam.beta1, 0.8);
  EXPECT_EQ(adam.beta2, 0.99);
  EXPECT_EQ(adam.epsilon, 1e-8);
  const nn::OptimizerSpec adamw = optimizer("{adamw: {weight_decay: 0.01, beta_1: 0.85}}");
  EXPECT_EQ(adamw.kind, nn::OptimizerKind::AdamW);
  EXPECT_EQ(adamw.weight_decay, 0.01);
  EXPECT_EQ(adamw.beta1, 0.85);
  EXPECT_EQ(adamw.learning_rate, 1e-3);
  const nn::OptimizerSpec rms = optimizer("{rmsprop: {rho: 0.95, momentum: 0.5, epsilon: 1e-8}}");
  EXPECT_EQ(rms.kind, nn::OptimizerKind::RmsProp);
  EXPECT_EQ(rms.rho, 0.95);
  EXPECT_EQ(rms.momentum, 0.5);
  EXPECT_EQ(rms.epsilon, 1e-8);
  // A bare name gets Keras' defaults, as the spec's factory functions give them.
  EXPECT_EQ(optimizer("sgd").learning_rate, 0.01);
  EXPECT_EQ(optimizer("adamw").weight_decay, 0.004);
  EXPECT_EQ(optimizer("{rmsprop: }").rho, 0.9);
  EXPECT_EQ(optimizer("Adam").kind, nn::OptimizerKind::Adam);
  // Without an optimizer: Adam; loss and metrics as given.
  const StudyFile plain =
      parse(with_model("  loss: binary_crossentropy\n  metrics: [loss, accuracy]\n"));
  EXPECT_EQ(plain.model->spec.optimizer.kind, nn::OptimizerKind::Adam);
  EXPECT_EQ(plain.model->spec.loss, nn::Loss::BinaryCrossentropy);
  EXPECT_EQ(plain.model->spec.metrics, (std::vector<std::string>{"loss", "accuracy"}));
  // A regression reports its loss only (accuracy is not defined for mean_squared_error).
  const StudyFile regression = parse(
      "study: s\nobjective: val_loss\ndata: {idx: fashion-mnist}\nmodel:\n"
      "  layers: [flatten, {dense: 1}]\n  loss: mse\n  metrics: [loss]\n");
  EXPECT_EQ(regression.model->spec.loss, nn::Loss::MeanSquaredError);
}

TEST(ModelSection, AnyFieldMayBeSearched) {
  const StudyFile f = parse(
      with_layers("    - conv2d:\n"
                  "        filters: {choice: [16, 32]}\n"
                  "        kernel_size: {int: [3, 5], step: 2}\n"
                  "        padding: {choice: [same, valid]}\n"
                  "        activation: {choice: [relu, tanh], default: tanh}\n"
                  "    - {maxpool: {int: [2, 3]}}\n"
                  "    - flatten\n"
                  "    - {dropout: {float: [0, 0.5], step: 0.1}}\n"
                  "    - {activation: {choice: [relu, gelu]}}\n"
                  "    - {dense: {fixed: 10}}\n"
                  "  optimizer: {sgd: {momentum: {float: [0, 0.99]}, nesterov: {bool: false},\n"
                  "                    learning_rate: {float: [1e-4, 1e-1], log: true}}}\n"));
  EXPECT_EQ(names_of(f.space),
            (std::vector<std::string>{"filters", "kernel_size", "padding", "activation",
                                      "pool_size", "dropout", "activation_2", "units", "momentum",
                                      "nesterov", "learning_rate"}));
  EXPECT_EQ(described(f.model->spec)[0], "conv2d(16, 3x3, stride 1, same, tanh)");
  const nn::ModelSpec spec =
      resolve(*f.model, {{"filters", std::int64_t{32}},
                         {"kernel_size", std::int64_t{5}},
                         {"padding", "valid"},
                         {"activation", "relu"},
                         {"pool_size", 3.0},  // a value read back from JSON may be a double
                         {"dropout", 0.3},
                         {"activation_2", "gelu"},
                         {"units", std::int64_t{10}},
                         {"momentum", 0.9},
                         {"nesterov", true},
                         {"learning_rate", 0.05}});
  EXPECT_EQ(described(spec),
            (std::vector<std::string>{"conv2d(32, 5x5, stride 1, valid, relu)", "maxpool(3)",
                                      "flatten", "dropout(0.3)", "activation(gelu)", "dense(10)"}));
  EXPECT_EQ(spec.optimizer.momentum, 0.9);
  EXPECT_TRUE(spec.optimizer.nesterov);
  EXPECT_EQ(spec.optimizer.learning_rate, 0.05);
}

TEST(ModelSection, TakenNamesGetANumberAndExplicitNamesAreKept) {
  const StudyFile f = parse(
      "study: s\nobjective: val_loss\ndata: {idx: fashion-mnist}\n"
      "space:\n  units: {int: [1, 4]}\n  batch: {choice: [32, 64]}\n"
      "model:\n  layers:\n"
      "    - {dense: {int: [16, 64]}}\n"
      "    - {dense: {units: {int: [16, 64]}}}\n"
      "    - {dense: {units: {int: [8, 16], name: head}}}\n"
      "    - {dense: {int: [32, 64], name: tied}}\n"
      "    - {dense: {int: [32, 64], name: tied}}\n"
      "    - {dense: {choice: [2, 3]}}\n");
  EXPECT_EQ(names_of(f.space), (std::vector<std::string>{"units", "batch", "units_2", "units_3",
                                                         "head", "tied", "units_4"}));
  ASSERT_EQ(f.model->slots.size(), 6u);
  EXPECT_EQ(f.model->slots[3].param, "tied");
  EXPECT_EQ(f.model->slots[4].param, "tied");  // an equal definition is shared
  const nn::ModelSpec spec = resolve(*f.model, {{"units", std::int64_t{2}},
                                                {"units_2", std::int64_t{20}},
                                                {"units_3", std::int64_t{30}},
                                                {"head", std::int64_t{9}},
                                                {"tied", std::int64_t{48}},
                                                {"units_4", std::int64_t{3}}});
  EXPECT_EQ(described(spec), (std::vector<std::string>{"dense(20)", "dense(30)", "dense(9)",
                                                       "dense(48)", "dense(48)", "dense(3)"}));
}

TEST(ModelSection, ConditionalFieldKeepsItsDefaultWhenInactive) {
  const StudyFile f = parse(
      "study: s\nobjective: val_loss\ndata: {idx: fashion-mnist}\n"
      "space:\n  wide: {bool: false}\n"
      "model:\n  layers:\n"
      "    - {dense: {units: {int: [64, 512], default: 128, when: {wide: true}}}}\n");
  ASSERT_EQ(f.space.params()[1].conditions().size(), 1u);
  EXPECT_EQ(described(resolve(*f.model, {{"wide", false}}))[0], "dense(128)");
  EXPECT_EQ(described(resolve(*f.model, {{"wide", true}, {"units", std::int64_t{256}}}))[0],
            "dense(256)");
}

TEST(ModelSection, ResolveRejectsValuesThatDoNotFitTheirField) {
  const StudyFile f = parse(kSeed);
  try {
    resolve(*f.model, {{"units", std::int64_t{0}}});
    FAIL() << "no error";
  } catch (const InvalidArgument& e) {
    EXPECT_STREQ(e.what(),
                 "model.layers[1].dense.units: expected an integer >= 1, got 0 (parameter "
                 "'units')");
  }
  EXPECT_THROW(resolve(*f.model, {{"units", 2.5}}), InvalidArgument);
  EXPECT_THROW(resolve(*f.model, {{"learning_rate", "fast"}}), InvalidArgument);
  EXPECT_THROW(resolve(*f.model, {{"learning_rate", -1.0}}), InvalidArgument);
  const StudyFile act = parse(with_layers("    - {activation: {choice: [relu, tanh]}}\n"));
  EXPECT_THROW(resolve(*act.model, {{"activation", "relu6"}}), InvalidArgument);
}

TEST(ModelSection, ResolveChecksTheRulesBetweenOptimizerFields) {
  // Both searched: the defaults (no Nesterov, momentum 0) load; a trial bringing Nesterov without
  // momentum is refused by resolve, as the trainer would refuse it.
  const StudyFile f = parse(
      with_model("  optimizer: {sgd: {nesterov: {bool: false}, momentum: {float: [0, 0.9]}}}\n"));
  EXPECT_TRUE(resolve(*f.model, {{"nesterov", true}, {"momentum", 0.5}}).optimizer.nesterov);
  EXPECT_EQ(resolve(*f.model, {{"nesterov", false}, {"momentum", 0.0}}).optimizer.momentum, 0.0);
  try {
    resolve(*f.model, {{"nesterov", true}, {"momentum", 0.0}});
    FAIL() << "no error";
  } catch (const InvalidArgument& e) {
    EXPECT_STREQ(e.what(), "model.optimizer: nesterov needs momentum > 0, got momentum 0");
  }
}

TEST(ModelSection, DataAndFitDefaults) {
  const StudyFile f = parse(
      "study: s\nobjective: loss\nseed: 9\ndata: {idx: images}\n"
      "model: {layers: [flatten, {dense: 10}]}\n");
  EXPECT_EQ(f.data->format, DataSection::Format::Idx);
  EXPECT_EQ(f.data->path, "/data/exp/images");
  EXPECT_EQ(f.data->validation_split, 0.2);
  EXPECT_EQ(f.data->seed, 9u);
  EXPECT_FALSE(f.data->max_rows);
  EXPECT_EQ(f.fit->epochs, 10);
  EXPECT_EQ(f.fit->batch_size, 32);
  EXPECT_TRUE(f.fit->shuffle);
  EXPECT_FALSE(f.fit->early_stopping);
  EXPECT_FALSE(f.fit->retrain.seeds);  // the search's workers
  EXPECT_TRUE(f.fit->retrain.average);
  EXPECT_TRUE(f.fit->retrain.validation_rows);
  EXPECT_EQ(f.model->spec.loss, nn::Loss::SparseCategoricalCrossentropy);
  EXPECT_EQ(f.model->spec.metrics, std::vector<std::string>{"accuracy"});
  EXPECT_TRUE(f.data->class_names.empty());  // the labels name themselves

  const StudyFile retrain =
      parse(with_sections("data: {idx: fashion-mnist}\n"
                          "fit: {retrain: {seeds: 3, average: false, validation_rows: false}}\n"));
  EXPECT_EQ(retrain.fit->retrain.seeds, 3);
  EXPECT_FALSE(retrain.fit->retrain.average);
  EXPECT_FALSE(retrain.fit->retrain.validation_rows);

  const StudyFile es = parse(with_sections(
      "data: {idx: fashion-mnist}\nfit: {batch_size: 128, shuffle: false, early_stopping: {}}\n"));
  EXPECT_EQ(es.fit->batch_size, 128);
  EXPECT_FALSE(es.fit->shuffle);
  ASSERT_TRUE(es.fit->early_stopping);
  EXPECT_EQ(es.fit->early_stopping->monitor, "val_loss");
  EXPECT_EQ(es.fit->early_stopping->patience, 0);
  EXPECT_EQ(es.fit->early_stopping->min_delta, 0.0);
  EXPECT_EQ(es.fit->early_stopping->mode, "auto");
  EXPECT_FALSE(es.fit->early_stopping->restore_best_weights);
  EXPECT_EQ(es.data->class_names, data::kFashionMnistClasses);
  EXPECT_EQ(es.data->class_names[6], "Shirt");

  const StudyFile named = parse(with_sections(
      "data: {idx: fashion-mnist, class_names: [t0, t1, t2, t3, t4, t5, t6, t7, t8, t9]}\n"));
  EXPECT_EQ(named.data->class_names.front(), "t0");
  EXPECT_EQ(named.data->class_names.size(), 10u);
}

TEST(ModelSection, CsvDataAndEveryFitSetting) {
  const StudyFile f = parse(with_sections(
      "data: {csv: ../tables/houses.csv, target: price, validation_split: 0.25, test_split: 0.1,\n"
      "       seed: 3, max_rows: 500}\n"
      "fit:\n  epochs: 4\n  early_stopping: {monitor: val_accuracy, patience: 2, min_delta: 0.01,\n"
      "                   mode: max, restore_best_weights: true}\n"));
  EXPECT_EQ(f.data->format, DataSection::Format::Csv);
  EXPECT_EQ(f.data->path, "/data/tables/houses.csv");
  EXPECT_EQ(f.data->target, "price");
  EXPECT_EQ(f.data->validation_split, 0.25);
  EXPECT_EQ(f.data->test_split, 0.1);
  EXPECT_EQ(f.data->seed, 3u);
  EXPECT_EQ(f.data->max_rows, 500);
  EXPECT_EQ(f.fit->epochs, 4);
  EXPECT_EQ(f.fit->early_stopping->monitor, "val_accuracy");
  EXPECT_EQ(f.fit->early_stopping->patience, 2);
  EXPECT_EQ(f.fit->early_stopping->min_delta, 0.01);
  EXPECT_EQ(f.fit->early_stopping->mode, "max");
  EXPECT_TRUE(f.fit->early_stopping->restore_best_weights);
  EXPECT_EQ(parse(with_sections("data: {csv: /t.csv, target: y}\n")).data->test_split, 0.2);
}

TEST(ModelSection, BlackBoxStudiesHaveNoModelSections) {
  const StudyFile f = parse("study: s\nobjective: value\nfunction: branin\n");
  EXPECT_FALSE(f.model || f.data || f.fit);
}

TEST(ModelSection, EveryTruncationOfTheSeedFailsCleanlyOrParses) {
  const std::string full = kSeed;
  for (std::size_t n = 0; n <= full.size(); ++n) {
    try {
      parse_study_file(full.substr(0, n), "study.yaml");
    } catch (const UsageError& e) {
      EXPECT_THAT(e.what(), StartsWith("study.yaml:")) << n;
    }
  }
}

TEST(ModelSection, FashionMnistExampleLoads) {
  const StudyFile f =
      load_study_file(std::filesystem::path(QUARRY_SOURCE_DIR) / "examples" / "fashion_mnist.yaml");
  EXPECT_EQ(f.study, "intro_to_kt");
  EXPECT_EQ(f.data->path, data::kFashionMnistFolder);
  EXPECT_EQ(names_of(f.space), (std::vector<std::string>{"units", "learning_rate"}));
  EXPECT_EQ(f.seed, 1u);
  EXPECT_FALSE(f.workers);
  EXPECT_EQ(f.scheduler, "hyperband");
  const StudyFile seed = parse(kSeed);
  EXPECT_EQ(f.space, seed.space);
  EXPECT_EQ(described(f.model->spec), described(seed.model->spec));
  EXPECT_EQ(f.fit->epochs, seed.fit->epochs);
  EXPECT_EQ(f.fit->early_stopping->patience, 5);
}

}  // namespace
}  // namespace quarry::config
