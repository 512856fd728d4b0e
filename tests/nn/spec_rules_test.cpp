// One table of field rules (nn/spec_rules.hpp) for the study-file reader and the trainer: for
// every field of every layer, optimizer and early-stopping setting, at values on both sides of
// its rule's bounds, whatever the trainer rejects the reader rejects too (so a study that loads
// never fails every trial), and a value the reader accepts trains.
#include "quarry/nn/spec_rules.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "quarry/config/study_file.hpp"
#include "quarry/core/error.hpp"
#include "quarry/nn/fit.hpp"
#include "quarry/nn/model.hpp"

namespace quarry::nn {
namespace {

using space::Value;

/// Values at and around the bounds of `rule`.
std::vector<Value> boundary_values(Rule rule) {
  switch (rule) {
    case Rule::Count:
      return {std::int64_t{-1}, std::int64_t{0}, std::int64_t{1}, std::int64_t{2}};
    case Rule::Natural:
      return {std::int64_t{-1}, std::int64_t{0}, std::int64_t{1}};
    case Rule::Fraction:
      return {-0.5, 0.0, 0.5, 0.999, 1.0, 1.5};
    case Rule::UnitInterval:
      return {-0.1, 0.0, 0.5, 1.0, 1.1, 2.0};
    case Rule::Positive:
      return {-1.0, 0.0, 1e-9, 0.5};
    case Rule::NonNegative:
      return {-0.1, 0.0, 0.5};
    case Rule::Boolean:
      return {true, false};
    case Rule::Activation:
      return {std::string("relu"), std::string("none"), std::string("relu6")};
    case Rule::Padding:
      return {std::string("same"), std::string("valid"), std::string("full")};
    case Rule::Mode:
      return {std::string("min"), std::string("auto"), std::string("up")};
  }
  return {};
}

/// Whether the study file `yaml` loads.
bool reader_accepts(const std::string& yaml) {
  try {
    config::parse_study_file(yaml, "study.yaml");
    return true;
  } catch (const UsageError&) {
    return false;
  }
}

/// Whether `f` runs without InvalidArgument (the trainer's refusal).
template <typename F>
bool trainer_accepts(F f) {
  try {
    f();
    return true;
  } catch (const InvalidArgument&) {
    return false;
  }
}

/// How often each side refused, per rule: proof that the boundaries were crossed.
struct Tally {
  std::map<Rule, int> rejected, accepted;
  void add(Rule rule, bool trainer_ok, bool reader_ok) {
    EXPECT_TRUE(trainer_ok || !reader_ok) << "the reader accepts what the trainer rejects";
    ++(reader_ok ? accepted : rejected)[rule];
  }
};

const std::string kStudy = "study: s\nobjective: val_loss\ndata: {idx: fashion-mnist}\nmodel:\n";

TEST(SpecRules, TheReaderRejectsEveryOptimizerSettingTheTrainerRejects) {
  Tally tally;
  torch::Tensor p = torch::zeros({1}, torch::requires_grad());
  for (OptimizerKind kind :
       {OptimizerKind::Sgd, OptimizerKind::Adam, OptimizerKind::AdamW, OptimizerKind::RmsProp}) {
    for (const FieldRule& field : optimizer_fields(kind).fields) {
      for (const Value& v : boundary_values(field.rule)) {
        const std::string setting = std::string(field.key) + ": " + space::to_string(v);
        SCOPED_TRACE(to_string(kind) + " " + setting);
        // SGD's Nesterov needs momentum: give it some, so the field's own rule is what counts.
        const bool momentum = kind == OptimizerKind::Sgd && field.key == "nesterov";
        const bool trainer_ok = trainer_accepts([&] {
          OptimizerSpec spec = optimizer_fields(kind).defaults;
          if (momentum) spec.momentum = 0.9;
          set_field(spec, field.key, v);
          make_optimizer(spec, {p});
        });
        const bool reader_ok = reader_accepts(
            kStudy + "  layers: [flatten, {dense: 2}]\n  optimizer: {" + to_string(kind) + ": {" +
            setting + (momentum ? ", momentum: 0.9" : "") + "}}\n");
        EXPECT_EQ(trainer_ok, reader_ok);
        tally.add(field.rule, trainer_ok, reader_ok);
      }
    }
  }
  for (Rule rule : {Rule::Positive, Rule::Fraction, Rule::UnitInterval}) {
    EXPECT_GT(tally.rejected[rule], 0) << rule_text(rule);
    EXPECT_GT(tally.accepted[rule], 0) << rule_text(rule);
  }
}

TEST(SpecRules, TheReaderRejectsEveryLayerSettingTheTrainerRejects) {
  Tally tally;
  for (const LayerFields& kind : layer_fields()) {
    if (!kind.in_files) continue;
    const bool flat = std::holds_alternative<Dense>(kind.prototype) ||
                      std::holds_alternative<Dropout>(kind.prototype);
    for (const FieldRule& field : kind.fields) {
      for (const Value& v : boundary_values(field.rule)) {
        const std::string setting = std::string(field.key) + ": " + space::to_string(v);
        SCOPED_TRACE(std::string(kind.name) + " " + setting);
        // A required first field gets a valid value when another field is under test.
        const FieldRule& first = kind.fields.front();
        const bool fill = kind.needs_first && first.key != field.key;
        const bool trainer_ok = trainer_accepts([&] {
          Layer layer = kind.prototype;
          if (fill) set_field(layer, first.key, std::int64_t{2});
          set_field(layer, field.key, v);
          std::vector<Layer> layers = {layer};
          if (flat) layers.insert(layers.begin(), Flatten{});
          build_layers(layers, {1, 8, 8});
        });
        const std::string body = "{" + std::string(kind.name) + ": {" +
                                 (fill ? std::string(first.key) + ": 2, " : "") + setting + "}}";
        const bool reader_ok =
            reader_accepts(kStudy + "  layers: [" + (flat ? "flatten, " : "") + body + "]\n");
        tally.add(field.rule, trainer_ok, reader_ok);
      }
    }
  }
  for (Rule rule : {Rule::Count, Rule::Fraction, Rule::Activation, Rule::Padding}) {
    EXPECT_GT(tally.rejected[rule], 0) << rule_text(rule);
    EXPECT_GT(tally.accepted[rule], 0) << rule_text(rule);
  }
}

TEST(SpecRules, TheReaderRejectsEveryEarlyStoppingSettingTheTrainerRejects) {
  Tally tally;
  for (const FieldRule& field : early_stopping_fields()) {
    for (const Value& v : boundary_values(field.rule)) {
      const std::string setting = std::string(field.key) + ": " + space::to_string(v);
      SCOPED_TRACE(setting);
      const bool trainer_ok = trainer_accepts([&] {
        EarlyStoppingOptions options;
        set_field(options, field.key, v);
        EarlyStopping early(options);
      });
      const bool reader_ok =
          reader_accepts(kStudy + "  layers: [flatten, {dense: 2}]\nfit: " + "{early_stopping: {" +
                         setting + "}}\n");
      EXPECT_EQ(trainer_ok, reader_ok);
      tally.add(field.rule, trainer_ok, reader_ok);
    }
  }
  for (Rule rule : {Rule::Natural, Rule::NonNegative, Rule::Mode}) {
    EXPECT_GT(tally.rejected[rule], 0) << rule_text(rule);
    EXPECT_GT(tally.accepted[rule], 0) << rule_text(rule);
  }
}

TEST(SpecRules, TheReaderRejectsTheMetricsTheTrainerRejects) {
  const std::vector<std::vector<std::string>> lists = {
      {"accuracy"}, {"loss"}, {"loss", "accuracy"}};
  for (const char* name : {"sparse_categorical_crossentropy", "mean_squared_error"}) {
    const std::string loss = name;
    for (const auto& metrics : lists) {
      std::string list;
      for (const auto& m : metrics) list += (list.empty() ? "" : ", ") + m;
      SCOPED_TRACE(loss + " [" + list + "]");
      const bool trainer_ok = trainer_accepts([&] {
        Model model(
            ModelSpec{.layers = {Dense{2}}, .loss = loss_from_string(loss), .metrics = metrics},
            {3});
      });
      const bool reader_ok =
          reader_accepts(kStudy + "  layers: [flatten, {dense: 2}]\n  loss: " + loss +
                         "\n  metrics: [" + list + "]\n");
      EXPECT_EQ(trainer_ok, reader_ok);
      EXPECT_EQ(trainer_ok, loss != "mean_squared_error" || list == "loss");
    }
  }
}

TEST(SpecRules, EveryLayerTypeHasOneEntryAndFieldsReadBackWhatWasSet) {
  EXPECT_EQ(layer_fields().size(), std::variant_size_v<Layer>);
  for (const LayerFields& kind : layer_fields()) {
    EXPECT_EQ(&layer_fields(kind.prototype), &kind) << kind.name;
    // The defaults follow the rules, but a cell's edges, which have none.
    EXPECT_EQ(layer_problem(kind.prototype).has_value(), kind.name == "cell") << kind.name;
    for (const FieldRule& field : kind.fields) {
      Layer layer = kind.prototype;
      for (const Value& v : boundary_values(field.rule)) {
        if (!accepts(field.rule, v)) continue;
        set_field(layer, field.key, v);
        EXPECT_TRUE(space::same_value(field_value(layer, field.key), v))
            << kind.name << "." << field.key << " = " << space::to_string(v);
        EXPECT_FALSE(layer_problem(layer).has_value()) << kind.name << "." << field.key;
      }
    }
  }
  // A pool's strides read as its pool size until they are set; a broken field is named.
  EXPECT_EQ(std::get<std::int64_t>(field_value(MaxPool2d{.pool_size = 3}, "strides")), 3);
  EXPECT_EQ(layer_problem(Conv2d{.filters = 4, .stride = -1}).value_or("none"),
            "strides must be an integer >= 1, got -1");
  Layer dense = Dense{};
  EXPECT_THROW(set_field(dense, "filters", std::int64_t{2}), InvalidArgument);
  EXPECT_THROW(set_field(dense, "activation", std::string("relu6")), InvalidArgument);
}

}  // namespace
}  // namespace quarry::nn
