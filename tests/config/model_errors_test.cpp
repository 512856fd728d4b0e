// Every problem in a model study's sections stops loading with one line: file, line, key, rule.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "quarry/config/study_file.hpp"
#include "quarry/core/error.hpp"
#include "tests/config/study_text.hpp"

namespace quarry::config {
namespace {

using testing::BadCase;
using testing::error_of;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using testing::with_layers;
using testing::with_model;
using testing::with_sections;

class BadModelStudy : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadModelStudy, FailsWithFileLineAndKey) {
  const std::string error = error_of(GetParam().yaml);
  EXPECT_THAT(error, HasSubstr(GetParam().error)) << GetParam().yaml;
  EXPECT_THAT(error, StartsWith("study.yaml:"));
  EXPECT_EQ(error.find('\n'), std::string::npos) << "one line: " << error;
}

const std::string kData = "data: {idx: fashion-mnist}\n";

const BadCase kBadCases[] = {
    // the study around the model
    {"study: s\nobjective: loss\ncommand: [run]\nspace: {x: {float: [0, 1]}}\n" + kData +
         "model: {layers: [flatten]}\n",
     "study.yaml:6: give either 'model' or 'command', not both"},
    {"study: s\nobjective: loss\nfunction: branin\n" + kData + "model: {layers: [flatten]}\n",
     "study.yaml:5: give either 'model' or 'function', not both"},
    {"study: s\nobjective: loss\nmodel: {layers: [flatten]}\n",
     "study.yaml:1: missing required key 'data' (a model trains on it)"},
    {"study: s\nobjective: loss\nfunction: branin\n" + kData,
     "study.yaml:4: 'data' is for a model study: add 'model' (or 'nas') or remove 'data'"},
    {"study: s\nobjective: loss\nfunction: branin\nfit: {epochs: 3}\n",
     "study.yaml:4: 'fit' is for a model study: add 'model' (or 'nas') or remove 'fit'"},
    {"study: s\nobjective: loss\n",
     "study.yaml:1: missing required key 'command' (or 'function'): what a trial runs (or "
     "'model': a network to train)"},
    {"study: s\nmodle: {}\n",
     "study.yaml:2: unknown key 'modle' in the study (expected one of: study, directory, storage, "
     "objective, objectives, space, command, function, env, trial_timeout, sampler, scheduler, "
     "pruner, max_trials, timeout, workers, seed, automl, max_consecutive_failures, stale_after, "
     "max_attempts) or, to train a "
     "model: model, data, fit"},
    {"study: s\nobjective: f1\n" + kData + "model: {layers: [flatten]}\n",
     "study.yaml:2: objective: a model study reports loss, accuracy, val_loss or val_accuracy, "
     "got 'f1'"},
    {"study: s\nobjective:\n  direction: max\n  metric: f1\n" + kData +
         "model: {layers: [flatten]}\n",
     "study.yaml:4: objective.metric: a model study reports"},
    {"study: s\nobjectives: [val_loss, {metric: size}]\n" + kData + "model: {layers: [flatten]}\n",
     "study.yaml:2: objectives[1].metric: a model study reports"},
    {with_model("  metrics: [loss]\n"),
     "study.yaml:2: objective: val_accuracy needs 'accuracy' in model.metrics"},
    // the model mapping
    {"study: s\nobjective: loss\n" + kData + "model: {optimizer: adam}\n",
     "study.yaml:4: missing required key 'layers' in model"},
    {"study: s\nobjective: loss\n" + kData + "model: {layers: []}\n",
     "study.yaml:4: model.layers: expected a non-empty list of layers like [flatten, {dense: 10}], "
     "got []"},
    {with_model("  dropout: 0.5\n"),
     "study.yaml:6: unknown key 'dropout' in model (expected one of: layers, optimizer, loss, "
     "metrics)"},
    {with_model("  loss: hinge\n"),
     "study.yaml:6: model.loss: unknown loss 'hinge' (expected one of: "
     "sparse_categorical_crossentropy, binary_crossentropy, mean_squared_error, mse)"},
    {with_model("  metrics: [accuracy, f1]\n"),
     "study.yaml:6: model.metrics[1]: expected accuracy or loss, got f1"},
    {with_model("  metrics: accuracy\n"),
     "study.yaml:6: model.metrics: expected a list like [accuracy], got accuracy"},
    // layers
    {with_layers("    - flatten\n    - {dense: {units: 0}}\n"),
     "study.yaml:7: model.layers[1].dense.units: expected an integer >= 1, got 0"},
    {with_layers("    - {dense: 2.5}\n"),
     "study.yaml:6: model.layers[0].dense: expected an integer >= 1, got 2.5"},
    {with_layers("    - flatten\n    - {dense2: 10}\n"),
     "study.yaml:7: model.layers[1]: unknown layer 'dense2' (expected one of: flatten, dense, "
     "conv2d, maxpool, avgpool, dropout, batchnorm, activation)"},
    {with_layers("    - relu\n"), "study.yaml:6: model.layers[0]: unknown layer 'relu'"},
    {with_layers("    - {dense: 10, dropout: 0.1}\n"),
     "study.yaml:6: model.layers[0]: expected a layer name or {layer: settings}, got {dense: 10, "
     "dropout: 0.1}"},
    {with_layers("    - {dense: {units: 10, act: relu}}\n"),
     "study.yaml:6: unknown key 'act' in model.layers[0].dense (expected one of: units, "
     "activation)"},
    {with_layers("    - dense:\n        activation: relu\n"),
     "study.yaml:6: missing required key 'units' in model.layers[0].dense"},
    {with_layers("    - dense\n"),
     "study.yaml:6: model.layers[0]: dense needs its units, e.g. {dense: {units: ...}}"},
    {with_layers("    - {dropout: }\n"), "study.yaml:6: model.layers[0]: dropout needs its rate"},
    {with_layers("    - {dropout: 1.0}\n"),
     "study.yaml:6: model.layers[0].dropout: expected a number in [0, 1), got 1.0"},
    {with_layers("    - {dropout: {rate: -0.1}}\n"),
     "study.yaml:6: model.layers[0].dropout.rate: expected a number in [0, 1), got -0.1"},
    {with_layers("    - {dense: {units: 8, activation: relu6}}\n"),
     "study.yaml:6: model.layers[0].dense.activation: expected an activation (none, relu, tanh, "
     "sigmoid, gelu), got relu6"},
    {with_layers("    - {conv2d: {filters: 8, padding: full}}\n"),
     "study.yaml:6: model.layers[0].conv2d.padding: expected same or valid, got full"},
    {with_layers("    - {maxpool: {pool_size: 2, strides: 0}}\n"),
     "study.yaml:6: model.layers[0].maxpool.strides: expected an integer >= 1, got 0"},
    {with_layers("    - {flatten: {start: 1}}\n"),
     "study.yaml:6: model.layers[0].flatten: expected no settings, got {start: 1}"},
    {with_layers("    - {activation: [relu]}\n"),
     "study.yaml:6: model.layers[0].activation: expected an activation (none, relu, tanh, "
     "sigmoid, gelu), got [relu]"},
    // searched layer values
    {with_layers("    - {dropout: {float: [0, 1]}}\n"),
     "study.yaml:6: model.layers[0].dropout: Float('dropout', 0, 1): every value must be a number "
     "in [0, 1), got 1"},
    {with_layers("    - {dense: {units: {float: [16, 512]}}}\n"),
     "study.yaml:6: model.layers[0].dense.units: Float('units', 16, 512): every value must be an "
     "integer >= 1; use {int: [low, high]} or {choice: [...]}"},
    {with_layers("    - {dense: {units: {choice: [16, 32.5]}}}\n"),
     "study.yaml:6: model.layers[0].dense.units: Choice('units', [16, 32.5]): every value must be "
     "an integer >= 1, got 32.5"},
    {with_layers("    - {dense: {units: {int: [0, 64]}}}\n"),
     "study.yaml:6: model.layers[0].dense.units: Int('units', 0, 64): every value must be an "
     "integer >= 1, got 0"},
    {with_layers("    - {dense: {units: 8, activation: {choice: [relu, swish]}}}\n"),
     "study.yaml:6: model.layers[0].dense.activation: Choice('activation', ['relu', 'swish']): "
     "every "
     "value must be an activation (none, relu, tanh, sigmoid, gelu), got swish"},
    {with_layers("    - {conv2d: {filters: 8, padding: {bool: true}}}\n"),
     "study.yaml:6: model.layers[0].conv2d.padding: Boolean('padding'"},
    {with_layers("    - {dense: {units: {int: [512, 16]}}}\n"),
     "study.yaml:6: model.layers[0].dense.units: Int('units'): low <= high must hold, got "
     "low=512, high=16"},
    {with_layers("    - {dense: {units: {int: [16, 32], stepp: 2}}}\n"),
     "study.yaml:6: unknown key 'stepp' in model.layers[0].dense.units (expected one of: int, "
     "step, "
     "log, default, when, name)"},
    {with_layers("    - {dense: {units: {int: [16, 32], name: ''}}}\n"),
     "study.yaml:6: model.layers[0].dense.units.name: expected a parameter name, got an empty "
     "text"},
    {with_layers("    - {dense: {int: [16, 32], name: w}}\n    - {dense: {int: [16, 64], name: "
                 "w}}\n"),
     "study.yaml:7: model.layers[1].dense: parameter 'w' is already defined as"},
    {with_layers("    - {dense: {int: [16, 32], when: {depth: 2}}}\n"),
     "study.yaml:6: model.layers[0].dense: parameter 'units' is conditioned on 'depth', which is "
     "not defined before it"},
    // the optimizer
    {with_model("  optimizer: adagrad\n"),
     "study.yaml:6: model.optimizer: unknown optimizer 'adagrad' (expected one of: sgd, adam, "
     "adamw, rmsprop)"},
    {with_model("  optimizer: {adagrad: {learning_rate: 0.1}}\n"),
     "study.yaml:6: model.optimizer: unknown optimizer 'adagrad'"},
    {with_model("  optimizer: {adam: 1, sgd: 2}\n"),
     "study.yaml:6: model.optimizer: expected an optimizer name or {name: {settings}}, got {adam: "
     "1, sgd: 2}"},
    {with_model("  optimizer: {adam: {momentum: 0.9}}\n"),
     "study.yaml:6: unknown key 'momentum' in model.optimizer.adam (expected one of: "
     "learning_rate, beta_1, beta_2, epsilon)"},
    {with_model("  optimizer: {sgd: {beta_1: 0.9}}\n"),
     "study.yaml:6: unknown key 'beta_1' in model.optimizer.sgd (expected one of: learning_rate, "
     "momentum, nesterov)"},
    {with_model("  optimizer: {adam: 0.01}\n"),
     "study.yaml:6: model.optimizer.adam: expected a mapping"},
    {with_model("  optimizer: {sgd: {learning_rate: 0}}\n"),
     "study.yaml:6: model.optimizer.sgd.learning_rate: expected a number > 0, got 0"},
    {with_model("  optimizer: {sgd: {nesterov: 1}}\n"),
     "study.yaml:6: model.optimizer.sgd.nesterov: expected true or false, got 1"},
    {with_model("  optimizer: {rmsprop: {rho: 1}}\n"),
     "study.yaml:6: model.optimizer.rmsprop.rho: expected a number in [0, 1), got 1"},
    {with_model("  optimizer: {adamw: {weight_decay: -1}}\n"),
     "study.yaml:6: model.optimizer.adamw.weight_decay: expected a number in [0, 1], got -1"},
    // the rules the trainer checks (nn/spec_rules.hpp): a file that loads trains
    {with_model("  optimizer: {adam: {epsilon: 0}}\n"),
     "study.yaml:6: model.optimizer.adam.epsilon: expected a number > 0, got 0"},
    {with_model("  optimizer: {adamw: {weight_decay: 2}}\n"),
     "study.yaml:6: model.optimizer.adamw.weight_decay: expected a number in [0, 1], got 2"},
    {with_model("  optimizer: {adamw: {weight_decay: {float: [0, 1.5]}}}\n"),
     "study.yaml:6: model.optimizer.adamw.weight_decay: Float('weight_decay', 0, 1.5): every "
     "value must be a number in [0, 1], got 1.5"},
    {with_model("  optimizer: {rmsprop: {epsilon: {choice: [1e-7, 0]}}}\n"),
     "every value must be a number > 0, got 0"},
    {with_model("  optimizer: {sgd: {nesterov: true}}\n"),
     "study.yaml:6: model.optimizer: nesterov needs momentum > 0, got momentum 0"},
    {with_model("  optimizer: {sgd: {nesterov: true, momentum: {float: [0, 0.9]}}}\n"),
     "study.yaml:6: model.optimizer: nesterov needs momentum > 0, got momentum 0"},
    {with_model("  loss: mse\n"),
     "study.yaml:6: model.loss: accuracy is not defined for mean_squared_error"},
    {with_model("  loss: mean_squared_error\n  metrics: [accuracy, loss]\n"),
     "study.yaml:7: model.metrics: accuracy is not defined for mean_squared_error"},
    {with_model("  optimizer: {adam: {learning_rate: {choice: [1e-2, -1]}}}\n"),
     "study.yaml:6: model.optimizer.adam.learning_rate: Choice('learning_rate', [0.01, -1]): every "
     "value must be a number > 0, got -1"},
    {with_model("  optimizer: {sgd: {nesterov: {choice: [1, 2]}}}\n"),
     "study.yaml:6: model.optimizer.sgd.nesterov: Choice('nesterov', [1, 2]): every value must be "
     "true or false, got 1"},
    {with_model("  optimizer: {adam: {learning_rate: {float: [0, 0.1]}}}\n"),
     "every value must be a number > 0, got 0"},
    // data
    {with_sections("data: {idx: a, csv: b.csv}\n"),
     "study.yaml:4: give either 'idx' or 'csv', not both"},
    {with_sections("data: {validation_split: 0.2}\n"),
     "study.yaml:4: missing required key 'idx' (or 'csv') in data"},
    {with_sections("data: fashion-mnist\n"),
     "study.yaml:4: data: expected a mapping, got fashion-mnist"},
    {with_sections("data: {idx: ''}\n"),
     "study.yaml:4: data.idx: expected a path, got an empty text"},
    {with_sections("data: {csv: t.csv}\n"), "study.yaml:4: missing required key 'target' in data"},
    {with_sections("data: {csv: t.csv, target: ''}\n"),
     "study.yaml:4: data.target: expected a column name"},
    {with_sections("data: {idx: fashion-mnist, target: y}\n"),
     "study.yaml:4: data.target: only for csv data (IDX files hold labels)"},
    {with_sections("data: {idx: fashion-mnist, test_split: 0.1}\n"),
     "study.yaml:4: data.test_split: only for csv data (IDX data has its own test files)"},
    {with_sections("data: {idx: x, validation_split: 1}\n"),
     "study.yaml:4: data.validation_split: expected a number in (0, 1), got 1"},
    {with_sections("data: {csv: t.csv, target: y, test_split: 0}\n"),
     "study.yaml:4: data.test_split: expected a number in (0, 1), got 0"},
    {with_sections("data: {idx: x, max_rows: 0}\n"),
     "study.yaml:4: data.max_rows: expected an integer > 0, got 0"},
    {with_sections("data: {idx: x, seed: -1}\n"),
     "study.yaml:4: data.seed: expected an integer >= 0, got -1"},
    {with_sections("data: {idx: x, rows: 3}\n"),
     "study.yaml:4: unknown key 'rows' in data (expected one of: idx, csv, target, "
     "validation_split, test_split, seed, max_rows, class_names)"},
    {with_sections("data: {idx: x, class_names: shirt}\n"),
     "study.yaml:4: data.class_names: expected a list of two or more class names, got shirt"},
    {with_sections("data: {idx: x, class_names: [a, '', c]}\n"),
     "study.yaml:4: data.class_names[1]: expected a class name, got an empty text"},
    {with_sections("data: {idx: x, class_names: [a, b, a]}\n"),
     "study.yaml:4: data.class_names[2]: class name 'a' is given twice"},
    {with_sections("data: {csv: t.csv, target: y, class_names: [a, b]}\n"),
     "study.yaml:4: data.class_names: only for idx data (a CSV file's labels are the class names)"},
    // fit
    {with_sections(kData + "fit: {epochs: 0}\n"),
     "study.yaml:5: fit.epochs: expected an integer > 0, got 0"},
    {with_sections(kData + "fit: {batch_size: a}\n"),
     "study.yaml:5: fit.batch_size: expected an integer, got a"},
    {with_sections(kData + "fit: {shuffle: 1}\n"),
     "study.yaml:5: fit.shuffle: expected true or false, got 1"},
    {with_sections(kData + "fit: {epoch: 3}\n"),
     "study.yaml:5: unknown key 'epoch' in fit (expected one of: epochs, batch_size, shuffle, "
     "early_stopping, fidelity, max_budget, inherit_weights, retrain)"},
    {with_sections(kData + "fit: {retrain: {seeds: 0}}\n"),
     "study.yaml:5: fit.retrain.seeds: expected an integer > 0, got 0"},
    {with_sections(kData + "fit: {retrain: {seeds: 65}}\n"),
     "study.yaml:5: fit.retrain.seeds: expected an integer <= 64, got 65"},
    {with_sections(kData + "fit: {retrain: {average: 2}}\n"),
     "study.yaml:5: fit.retrain.average: expected true or false, got 2"},
    {with_sections(kData + "fit: {retrain: {seed: 2}}\n"),
     "study.yaml:5: unknown key 'seed' in fit.retrain (expected one of: seeds, average, "
     "validation_rows)"},
    {with_sections(kData + "fit:\n  early_stopping: {monitor: val_f1}\n"),
     "study.yaml:6: fit.early_stopping.monitor: a model study reports loss, accuracy, val_loss or "
     "val_accuracy, got 'val_f1'"},
    {with_sections(kData + "fit:\n  early_stopping: {patience: -1}\n"),
     "study.yaml:6: fit.early_stopping.patience: expected an integer >= 0, got -1"},
    {with_sections(kData + "fit:\n  early_stopping: {min_delta: -0.1}\n"),
     "study.yaml:6: fit.early_stopping.min_delta: expected a number >= 0, got -0.1"},
    {with_sections(kData + "fit:\n  early_stopping: {mode: up}\n"),
     "study.yaml:6: fit.early_stopping.mode: expected min, max or auto, got up"},
    {with_sections(kData + "fit:\n  early_stopping: {restore_best_weights: yes}\n"),
     "study.yaml:6: fit.early_stopping.restore_best_weights: expected true or false, got yes"},
    {with_sections(kData + "fit:\n  early_stopping: 5\n"),
     "study.yaml:6: fit.early_stopping: expected a mapping, got 5"},
};

INSTANTIATE_TEST_SUITE_P(Model, BadModelStudy, ::testing::ValuesIn(kBadCases));

}  // namespace
}  // namespace quarry::config
