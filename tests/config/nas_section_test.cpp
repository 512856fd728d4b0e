// The sections of a model study added for architecture search: `nas`, `constraints`, several
// objectives measured on the model, and fit's fidelity / inherit_weights.
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

const std::string kHead = "study: s\nobjective: val_accuracy\ndata: {idx: fashion-mnist}\n";

TEST(NasSectionTest, AMacroSpaceAddsItsParametersAndNeedsNoLayers) {
  const StudyFile f = parse_study_file(kHead + "nas: {macro: {max_layers: 3}}\n", "study.yaml");
  ASSERT_TRUE(f.model && f.model->nas);
  EXPECT_EQ(f.model->nas->space, "macro");
  EXPECT_NE(f.space.find("layers"), nullptr);
  EXPECT_TRUE(f.model->spec.layers.empty());
  const auto spec = resolve(*f.model, f.space.defaults(), {1, 28, 28});
  EXPECT_FALSE(spec.layers.empty());
  EXPECT_TRUE(std::holds_alternative<nn::Dense>(spec.layers.back()));
  EXPECT_EQ(std::get<nn::Dense>(spec.layers.back()).units, 10);
}

TEST(NasSectionTest, AMicroSpaceKeepsTheModelsOptimizer) {
  const StudyFile f = parse_study_file(
      kHead + "nas: micro\nmodel: {optimizer: {sgd: {learning_rate: {choice: [0.1, 0.01]}}}}\n",
      "study.yaml");
  ASSERT_TRUE(f.model->nas);
  EXPECT_EQ(f.model->nas->space, "micro");
  EXPECT_NE(f.space.find("edge_0_1"), nullptr);
  EXPECT_NE(f.space.find("learning_rate"), nullptr);
  Params params = f.space.defaults();
  params["learning_rate"] = 0.01;
  const auto spec = resolve(*f.model, params, {1, 28, 28});
  EXPECT_EQ(spec.optimizer.kind, nn::OptimizerKind::Sgd);
  EXPECT_DOUBLE_EQ(spec.optimizer.learning_rate, 0.01);
  // The cells fidelity: fewer normal cells, fewer layers.
  EXPECT_LE(resolve(*f.model, params, {1, 28, 28}, 0.1).layers.size(), spec.layers.size());
}

TEST(NasSectionTest, ObjectivesMayMeasureTheModelAfterATrainingMetric) {
  const StudyFile f = parse_study_file(
      "study: s\nobjectives: [{metric: val_accuracy, direction: maximize}, params, "
      "latency_b1_ms, flops, train_time, latency_b256_ms]\ndata: {idx: fashion-mnist}\n"
      "nas: macro\nconstraints: [\"params <= 100000\", \"latency_b1_ms <= 0.5\"]\n",
      "study.yaml");
  ASSERT_EQ(f.objectives.size(), 6U);
  EXPECT_EQ(f.objectives[1].name, "params");
  ASSERT_EQ(f.constraints.size(), 2U);
  EXPECT_EQ(f.constraints[0].metric, "params");
  EXPECT_DOUBLE_EQ(f.constraints[1].bound, 0.5);
}

TEST(NasSectionTest, FidelityTakesTheSchedulersFullBudget) {
  const StudyFile f =
      parse_study_file(kHead +
                           "nas: micro\nscheduler: {hyperband: {max_epochs: 9}}\n"
                           "fit: {epochs: 2, fidelity: cells, inherit_weights: true}\n",
                       "study.yaml");
  EXPECT_EQ(f.fit->fidelity, "cells");
  EXPECT_EQ(f.fit->max_budget, 9.0);
  EXPECT_TRUE(f.fit->inherit_weights);
  const StudyFile nested = parse_study_file(
      kHead +
          "nas: macro\nscheduler: {asha: {max_budget: 27}}\npruner: learning_curve\n"
          "fit: {fidelity: rows}\n",
      "study.yaml");
  EXPECT_EQ(nested.fit->max_budget, 27.0);
  const StudyFile given = parse_study_file(
      kHead + "nas: macro\nfit: {fidelity: filters, max_budget: 4}\n", "study.yaml");
  EXPECT_EQ(given.fit->max_budget, 4.0);
}

class BadNasStudy : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadNasStudy, FailsWithFileLineAndKey) {
  const std::string error = error_of(GetParam().yaml);
  EXPECT_THAT(error, HasSubstr(GetParam().error)) << GetParam().yaml;
  EXPECT_THAT(error, StartsWith("study.yaml:"));
  EXPECT_EQ(error.find('\n'), std::string::npos) << "one line: " << error;
}

const BadCase kBadCases[] = {
    {kHead + "nas: pyramid\n", "study.yaml:4: nas: expected an architecture space: macro or micro"},
    {kHead + "nas: {macro: {operations: [conv9x9]}}\n", "unknown operation 'conv9x9'"},
    {kHead + "nas: macro\nmodel: {layers: [flatten, {dense: 10}]}\n",
     "give either 'model.layers' or 'nas'"},
    {"study: s\nobjective: params\ndata: {idx: fashion-mnist}\nnas: macro\n",
     "study.yaml:2: objective: the first objective of a model study is reported every epoch"},
    {"study: s\nobjectives: [val_accuracy, size]\ndata: {idx: fashion-mnist}\nnas: macro\n",
     "study.yaml:2: objectives[1]: a model study reports"},
    {kHead + "nas: macro\nconstraints: [\"params < 10\"]\n", "study.yaml:5: constraints[0]"},
    {kHead + "nas: macro\nconstraints: [\"size <= 10\"]\n", "study.yaml:5: constraints[0]"},
    {kHead + "nas: macro\nconstraints: params\n", "study.yaml:5: constraints: expected a list"},
    {"study: s\nobjective: loss\nfunction: branin\nconstraints: [\"params <= 1\"]\n",
     "'constraints' is for a model study"},
    {kHead + "nas: macro\nfit: {fidelity: pixels}\n",
     "study.yaml:5: fit.fidelity: expected one of epochs, rows, resolution, filters, cells"},
    {kHead + "nas: macro\nfit: {fidelity: rows}\n",
     "fit.fidelity: rows reads the scheduler's budget as a fraction"},
    {kHead + "nas: macro\nscheduler: {hyperband: {max_epochs: 9}}\nfit: {fidelity: cells}\n",
     "cells needs a micro architecture space"},
    {kHead + "nas: macro\nfit: {fidelity: rows, max_budget: 0}\n", "fit.max_budget: expected"},
    {"study: s\nobjective: loss\nfunction: branin\nnas: macro\n",
     "give either 'nas' or 'function', not both"},
};
INSTANTIATE_TEST_SUITE_P(Nas, BadNasStudy, ::testing::ValuesIn(kBadCases));

}  // namespace
}  // namespace quarry::config
