#include "quarry/nas/macro.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "quarry/core/rng.hpp"
#include "tests/nas/space_helpers.hpp"
#include "tests/test_util.hpp"

namespace quarry::nas {
namespace {

using quarry::testing::error_of;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

using testing::described;
using testing::names;
using testing::sample;

TEST(MacroSpaceTest, DefaultParametersInOrder) {
  const Space s = macro_space({.max_layers = 2});
  // One activation: no activation parameter; each parent before its children.
  EXPECT_THAT(names(s), ElementsAre("layers", "layer_0/op", "layer_0/filters", "layer_0/stride",
                                    "layer_1/op", "layer_1/filters", "layer_1/stride", "head",
                                    "dense_layers", "dense_0/units"));
  EXPECT_EQ(s.find("layers")->describe(), "Int('layers', 1, 2)");
  EXPECT_EQ(s.find("dense_layers")->describe(), "Int('dense_layers', 0, 1)");
  EXPECT_EQ(s.find("layer_1/op")->choices().size(), 6U);
  EXPECT_EQ(s.find("head")->describe(), "Choice('head', ['gap', 'flatten'])");
}

TEST(MacroSpaceTest, ConditionsFollowTheLayerCountAndTheOperation) {
  const Space s = macro_space({.max_layers = 3});
  EXPECT_TRUE(s.find("layer_0/op")->conditions().empty());  // min_layers 1: always there
  const auto& op2 = s.find("layer_2/op")->conditions();
  ASSERT_EQ(op2.size(), 1U);
  EXPECT_EQ(op2[0], (space::Condition{"layers", {std::int64_t{3}}}));
  const auto& filters1 = s.find("layer_1/filters")->conditions();
  ASSERT_EQ(filters1.size(), 2U);
  EXPECT_EQ(filters1[0], (space::Condition{"layers", {std::int64_t{2}, std::int64_t{3}}}));
  EXPECT_EQ(filters1[1], (space::Condition{"layer_1/op", {"conv3x3", "conv5x5", "sepconv3x3"}}));
  EXPECT_EQ(s.find("dense_0/units")->conditions()[0],
            (space::Condition{"dense_layers", {std::int64_t{1}}}));

  const Params p = {
      {"layers", std::int64_t{2}}, {"layer_0/op", "maxpool"}, {"layer_1/op", "conv3x3"}};
  EXPECT_FALSE(Space::is_active(*s.find("layer_0/filters"), p));
  EXPECT_TRUE(Space::is_active(*s.find("layer_1/filters"), p));
  EXPECT_FALSE(Space::is_active(*s.find("layer_2/op"), p));
}

TEST(MacroSpaceTest, ListsOfOneValueAreNoParameters) {
  const Space s = macro_space({.min_layers = 2,
                               .max_layers = 2,
                               .operations = {"conv3x3"},
                               .activations = {"relu", "tanh"},
                               .strides = {1},
                               .heads = {"gap"},
                               .max_dense_layers = 0});
  EXPECT_THAT(names(s), ElementsAre("layer_0/filters", "layer_0/activation", "layer_1/filters",
                                    "layer_1/activation"));
  EXPECT_TRUE(s.find("layer_0/filters")->conditions().empty());
  const Params p = {{"layer_0/filters", std::int64_t{16}},
                    {"layer_0/activation", "tanh"},
                    {"layer_1/filters", std::int64_t{64}},
                    {"layer_1/activation", "relu"}};
  EXPECT_EQ(macro_string(p, {.min_layers = 2,
                             .max_layers = 2,
                             .operations = {"conv3x3"},
                             .activations = {"relu", "tanh"},
                             .strides = {1},
                             .heads = {"gap"},
                             .max_dense_layers = 0}),
            "conv3x3-16-s1-tanh|conv3x3-64-s1-relu||");
}

TEST(MacroSpaceTest, TheDocumentedString) {
  const MacroOptions o;
  const Params p = {{"layers", std::int64_t{3}},
                    {"layer_0/op", "conv3x3"},
                    {"layer_0/filters", std::int64_t{32}},
                    {"layer_0/stride", std::int64_t{1}},
                    {"layer_1/op", "maxpool"},
                    {"layer_2/op", "sepconv3x3"},
                    {"layer_2/filters", std::int64_t{64}},
                    {"layer_2/stride", std::int64_t{2}},
                    {"head", "gap"},
                    {"dense_layers", std::int64_t{1}},
                    {"dense_0/units", std::int64_t{128}}};
  EXPECT_EQ(macro_string(p, o), "conv3x3-32-s1-relu|maxpool|sepconv3x3-64-s2-relu||dense-128-relu");
  EXPECT_EQ(parse_macro_string(macro_string(p, o), o), p);
  EXPECT_THAT(described(macro_layers(p, o, {1, 28, 28})),
              ElementsAre("conv2d(32, 3x3, stride 1, same, relu)", "maxpool(2)",
                          "sepconv2d(64, 3x3, stride 2, relu)", "global_avg_pool",
                          "dense(128, relu)", "dense(10)"));

  // The flattened head: every feature of the last image goes to the dense layers.
  const Params flat = parse_macro_string("conv3x3-32-s1-relu|maxpool||flatten|dense-128-relu", o);
  EXPECT_EQ(flat.at("head"), Value{"flatten"});
  EXPECT_EQ(macro_string(flat, o), "conv3x3-32-s1-relu|maxpool||flatten|dense-128-relu");
  EXPECT_THAT(described(macro_layers(flat, o, {1, 28, 28})),
              ElementsAre("conv2d(32, 3x3, stride 1, same, relu)", "maxpool(2)", "flatten",
                          "dense(128, relu)", "dense(10)"));
  EXPECT_EQ(parse_macro_string("conv3x3-32-s1-relu||flatten", o).at("head"), Value{"flatten"});
  EXPECT_EQ(parse_macro_string("conv3x3-32-s1-relu||gap|dense-64-relu", o),
            parse_macro_string("conv3x3-32-s1-relu||dense-64-relu", o));
}

TEST(MacroSpaceTest, StringsRoundTripForRandomSamples) {
  for (const MacroOptions& o : {MacroOptions{}, MacroOptions{.min_layers = 0,
                                                .max_layers = 7,
                                                .operations = {"conv1x1", "sepconv5x5", "avgpool"},
                                                .activations = {"relu", "gelu", "tanh"},
                                                .strides = {1, 2, 3},
                                                .max_dense_layers = 3}}) {
    const Space s = macro_space(o);
    Rng rng(7);
    for (int i = 0; i < 200; ++i) {
      const Params p = sample(s, rng);
      const std::string text = macro_string(p, o);
      EXPECT_EQ(parse_macro_string(text, o), p) << text;
      EXPECT_EQ(macro_string(parse_macro_string(text, o), o), text);
    }
  }
}

TEST(MacroSpaceTest, RandomSamplesGiveWellFormedLayers) {
  const MacroOptions o;
  const Space s = macro_space(o);
  Rng rng(11);
  for (int i = 0; i < 50; ++i) {
    const Params p = sample(s, rng);
    const auto layers = macro_layers(p, o, {1, 8, 8});
    ASSERT_GE(layers.size(), 3U);
    // Image layers, the head, the dense layers and the logits.
    const nn::Layer& head =
        layers[static_cast<std::size_t>(std::get<std::int64_t>(p.at("layers")))];
    if (p.at("head") == Value{"gap"})
      EXPECT_TRUE(std::holds_alternative<nn::GlobalAvgPool>(head));
    else
      EXPECT_TRUE(std::holds_alternative<nn::Flatten>(head));
    EXPECT_EQ(std::get<nn::Dense>(layers.back()).units, 10);
  }
}

TEST(MacroSpaceTest, ReductionsStopAtTwoByTwo) {
  const MacroOptions o{.max_layers = 4};
  const Params p =
      parse_macro_string("maxpool|avgpool|conv3x3-16-s2-relu|sepconv3x3-16-s2-relu||", o);
  // 5x4 -> maxpool 2x2 -> avgpool would give 1x1: identity; strided convs would give 1x1: stride 1.
  EXPECT_THAT(described(macro_layers(p, o, {3, 5, 4})),
              ElementsAre("maxpool(2)", "identity", "conv2d(16, 3x3, stride 1, same, relu)",
                          "sepconv2d(16, 3x3, stride 1, relu)", "global_avg_pool", "dense(10)"));
  // A 3x3 image still takes a stride-2 convolution (ceil(3 / 2) = 2).
  EXPECT_THAT(described(macro_layers(parse_macro_string("conv5x5-32-s2-relu||", o), o, {1, 3, 3})),
              ElementsAre("conv2d(32, 5x5, stride 2, same, relu)", "global_avg_pool", "dense(10)"));
}

TEST(MacroSpaceTest, DefineByRunRegistersTheSameSpace) {
  const MacroOptions o{.activations = {"relu", "tanh"}};
  const Space s = macro_space(o);
  Rng rng(3);
  for (int i = 0; i < 10; ++i) {
    Params p = sample(s, rng);
    p["learning_rate"] = 0.01;  // a trial's other parameters are ignored
    HyperParameters hp(p);
    const auto layers = macro_layers(hp, o, {1, 16, 16});
    EXPECT_EQ(hp.space(), s);
    EXPECT_EQ(described(layers), described(macro_layers(p, o, {1, 16, 16})));
  }
  HyperParameters defaults;  // no values: each parameter's default
  macro_layers(defaults, o, {1, 16, 16});
  EXPECT_EQ(defaults.values(), s.defaults());
}

TEST(MacroSpaceTest, MissingOrIllegalValuesAreNamed) {
  const MacroOptions o;
  EXPECT_EQ(error_of([&] {
              macro_layers(Params{}, o, {1, 8, 8});
            }),
            "macro space: no value for 'layers'");
  Params p = macro_space(o).defaults();
  p["layer_0/filters"] = std::int64_t{17};
  EXPECT_THAT(error_of([&] {
                macro_layers(p, o, {1, 8, 8});
              }),
              ::testing::StartsWith("macro space: Choice('layer_0/filters')"));
  EXPECT_EQ(error_of([&] { macro_layers(macro_space(o).defaults(), o, {784}); }),
            "macro space: the input must be an image {channels, height, width}, got 1 sizes");
}

TEST(MacroSpaceTest, ParseErrorsNameTheTextAndTheToken) {
  const MacroOptions o;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"conv9x9-32-s1-relu||",
       "macro space: 'conv9x9-32-s1-relu||': bad token 'conv9x9-32-s1-relu' (operation 'conv9x9' "
       "is not one of conv3x3, conv5x5, sepconv3x3, maxpool, avgpool, identity)"},
      {"conv3x3-33-s1-relu||",
       "macro space: 'conv3x3-33-s1-relu||': bad token 'conv3x3-33-s1-relu' (filters 33 is not "
       "one of 16, 32, 64)"},
      {"conv3x3-x-s1-relu||", "bad token 'conv3x3-x-s1-relu' (filters 'x' is not an integer)"},
      {"conv3x3-32-1-relu||", "bad token 'conv3x3-32-1-relu' (expected s<stride>)"},
      {"conv3x3-32-s1||", "(expected <op>-<filters>-s<stride>-<activation>)"},
      {"conv3x3-32-s1-tanh||", "(activation 'tanh' is not one of relu)"},
      {"maxpool-2||", "bad token 'maxpool-2' (expected the operation's name alone)"},
      {"maxpool|", "expected one '||' between the image and the dense layers"},
      {"maxpool||dense-64-relu||", "expected one '||'"},
      {"maxpool||dense-100-relu",
       "bad token 'dense-100-relu' (units 100 is not one of 64, 128, 256)"},
      {"maxpool||relu-64", "bad token 'relu-64' (expected dense-<units>-<activation>)"},
      {"maxpool||dense-64-relu|dense-64-relu", "2 dense layers, the options allow at most 1"},
      {"||", "'||': 0 image layers, the options allow 1 to 5"},
      {"maxpool|maxpool|maxpool|maxpool|maxpool|maxpool||", "6 image layers"},
      {"maxpool|||", "expected one '||'"},
      {"maxpool||flatten|flatten", "bad token 'flatten' (expected dense-<units>-<activation>)"}};
  for (const auto& [text, message] : cases) {
    const std::string e = error_of([&] { parse_macro_string(text, o); });
    EXPECT_THAT(e, HasSubstr(message)) << text;
    EXPECT_THAT(e, ::testing::StartsWith("macro space: '" + text + "': ")) << text;
    EXPECT_THAT(e, Not(HasSubstr("\n")));
  }
  // A head the options do not offer.
  const MacroOptions gap_only{.heads = {"gap"}};
  EXPECT_EQ(error_of([&] { parse_macro_string("maxpool||flatten", gap_only); }),
            "macro space: 'maxpool||flatten': head 'flatten' is not one of gap (write the head "
            "after '||')");
}

TEST(MacroSpaceTest, OptionsFromJson) {
  const MacroOptions o = macro_options_from_json(nlohmann::json::parse(
      R"({"max_layers": 3, "operations": ["conv7x7", "identity"], "filters": [8],
          "activations": ["relu", "gelu"], "strides": [1], "max_dense_layers": 2,
          "units": [32, 64], "classes": 3, "min_layers": 0, "heads": ["flatten"]})"));
  EXPECT_EQ(o.max_layers, 3);
  EXPECT_EQ(o.min_layers, 0);
  EXPECT_THAT(o.operations, ElementsAre("conv7x7", "identity"));
  EXPECT_THAT(o.filters, ElementsAre(8));
  EXPECT_THAT(o.units, ElementsAre(32, 64));
  EXPECT_EQ(o.classes, 3);
  EXPECT_THAT(o.heads, ElementsAre("flatten"));
  EXPECT_EQ(macro_options_from_json(nullptr).operations, MacroOptions{}.operations);
}

TEST(MacroSpaceTest, OptionErrorsAreOneLine) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"operations": ["conv9x9"]})",
       "macro space: unknown operation 'conv9x9' (known: conv1x1, conv3x3, conv5x5, conv7x7, "
       "sepconv3x3, sepconv5x5, sepconv7x7, maxpool, avgpool, identity)"},
      {R"({"layers": 3})",
       "macro space: unknown option 'layers' (options: activations, classes, "
       "filters, heads, max_dense_layers, max_layers, min_layers, operations, "
       "strides, units)"},
      {R"({"heads": ["pool"]})", "macro space: unknown head 'pool' (known: gap, flatten)"},
      {R"({"heads": []})", "option 'heads' must be a non-empty list of strings, got []"},
      {R"({"filters": 16})",
       "macro space: option 'filters' must be a non-empty list of integers "
       ">= 1, got 16"},
      {R"({"filters": [16, 0]})", "must be a non-empty list of integers >= 1, got [16,0]"},
      {R"({"operations": []})", "option 'operations' must be a non-empty list of strings, got []"},
      {R"({"activations": ["swish"]})", "macro space: unknown activation 'swish'"},
      {R"({"min_layers": 4, "max_layers": 2})",
       "macro space: 0 <= min_layers <= max_layers and max_layers >= 1 must hold, got "
       "min_layers=4, max_layers=2"},
      {R"({"max_layers": 0})", "max_layers >= 1 must hold"},
      {R"({"classes": 0})", "classes >= 1 must hold"},
      {R"({"units": [64, 64]})", "macro space: units lists a value twice: 64, 64"},
      {R"({"max_layers": "3"})", "macro space: option 'max_layers' must be an integer"}};
  for (const auto& [json, message] : cases) {
    const std::string e = error_of([&] { macro_options_from_json(nlohmann::json::parse(json)); });
    EXPECT_THAT(e, HasSubstr(message)) << json;
    EXPECT_THAT(e, Not(HasSubstr("\n")));
  }
}

}  // namespace
}  // namespace quarry::nas
