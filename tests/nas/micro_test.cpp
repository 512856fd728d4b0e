#include "quarry/nas/micro.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "quarry/core/rng.hpp"
#include "quarry/objectives/table.hpp"
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

const std::string kCellText =
    "|nor_conv_3x3~0|+|skip_connect~0|avg_pool_3x3~1|+|none~0|nor_conv_1x1~1|skip_connect~2|";
const Params kCell = {{"edge_0_1", "nor_conv_3x3"}, {"edge_0_2", "skip_connect"},
                      {"edge_1_2", "avg_pool_3x3"}, {"edge_0_3", "none"},
                      {"edge_1_3", "nor_conv_1x1"}, {"edge_2_3", "skip_connect"}};

TEST(MicroSpaceTest, EdgesInNasBench201Order) {
  const Space s = micro_space({});
  EXPECT_THAT(names(s),
              ElementsAre("edge_0_1", "edge_0_2", "edge_1_2", "edge_0_3", "edge_1_3", "edge_2_3"));
  for (const auto& p : s.params()) {
    EXPECT_EQ(p.kind(), space::ParamKind::Choice);
    EXPECT_TRUE(p.conditions().empty());
    EXPECT_EQ(p.choices(), (std::vector<Value>{"none", "skip_connect", "nor_conv_1x1",
                                               "nor_conv_3x3", "avg_pool_3x3"}));
  }
  EXPECT_THAT(names(micro_space({.nodes = 3, .operations = {"skip_connect"}})),
              ElementsAre("edge_0_1", "edge_0_2", "edge_1_2"));
}

TEST(MicroSpaceTest, TheNasBench201StringOfACell) {
  EXPECT_EQ(micro_string(kCell, {}), kCellText);
  EXPECT_EQ(parse_micro_string(kCellText, {}), kCell);
  EXPECT_EQ(micro_string({{"edge_0_1", "none"}}, {.nodes = 2}), "|none~0|");
}

TEST(MicroSpaceTest, StringsRoundTripForRandomSamples) {
  for (const MicroOptions& o : {MicroOptions{}, MicroOptions{.nodes = 6},
                                MicroOptions{.nodes = 3, .operations = {"none", "nor_conv_3x3"}}}) {
    const Space s = micro_space(o);
    Rng rng(5);
    for (int i = 0; i < 200; ++i) {
      const Params p = sample(s, rng);
      const std::string text = micro_string(p, o);
      EXPECT_EQ(parse_micro_string(text, o), p) << text;
      EXPECT_EQ(micro_string(parse_micro_string(text, o), o), text);
    }
  }
}

TEST(MicroSpaceTest, AgreesWithTheNasBench201Table) {
  const std::string file = quarry::testing::nas_data_dir() + "/nas-bench-201-mini.csv";
  const auto table = objectives::load_nas_bench_201(file);
  EXPECT_EQ(table->space(), micro_space({}));
  // The table's own cell strings parse to assignments the table lists, and print back the same.
  std::ifstream in(file);
  std::string line;
  std::getline(in, line);  // header
  for (int i = 0; i < 50 && std::getline(in, line); ++i) {
    const std::string cell =
        line.substr(line.find(',') + 1, line.find(',', line.find(',') + 1) - line.find(',') - 1);
    const Params p = parse_micro_string(cell, {});
    EXPECT_NE(table->find(p), nullptr) << cell;
    EXPECT_EQ(micro_string(p, {}), cell);
  }
}

TEST(MicroSpaceTest, LayersFollowTheNasBench201Skeleton) {
  const auto layers = micro_layers(kCell, {.cells = 2, .filters = 8, .classes = 3}, {1, 28, 28});
  const std::string cell = "cell(" + kCellText + ")";
  EXPECT_THAT(described(layers),
              ElementsAre("conv2d(8, 3x3, stride 1, same)", "batchnorm", cell, cell,
                          "residual_reduce(16)", cell, cell, "residual_reduce(32)", cell, cell,
                          "batchnorm", "activation(relu)", "global_avg_pool", "dense(3)"));
  EXPECT_EQ(described(micro_layers(kCell, {.stages = 1}, {3, 8, 8})).size(), 7U);
}

TEST(MicroSpaceTest, DefineByRunRegistersTheSameSpace) {
  const MicroOptions o{.nodes = 5};
  HyperParameters hp(kCell);  // edges of a smaller cell are reused; the others take defaults
  const auto layers = micro_layers(hp, o, {1, 8, 8});
  EXPECT_EQ(hp.space(), micro_space(o));
  EXPECT_EQ(hp.values().at("edge_0_4"), Value{"none"});
  EXPECT_EQ(described(layers), described(micro_layers(hp.values(), o, {1, 8, 8})));
}

TEST(MicroSpaceTest, MissingOrIllegalValuesAreNamed) {
  EXPECT_EQ(error_of([] {
              micro_layers(Params{}, {}, {1, 8, 8});
            }),
            "micro space: no value for 'edge_0_1'");
  Params p = kCell;
  p["edge_1_3"] = "conv";
  EXPECT_THAT(error_of([&] { micro_string(p, {}); }),
              ::testing::StartsWith("micro space: Choice('edge_1_3')"));
  EXPECT_EQ(error_of([] { micro_layers(kCell, {}, {64}); }),
            "micro space: the input must be an image {channels, height, width}, got 1 sizes");
}

TEST(MicroSpaceTest, ParseErrorsNameTheTextAndTheToken) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|",
       "bad token 'conv~0' (unknown operation 'conv' (known: none, skip_connect, nor_conv_1x1, "
       "nor_conv_3x3, avg_pool_3x3))"},
      {"|none~0|+|none~0|none~1|", "expected 3 groups of edges joined by '+', got 2"},
      {"|none~0|+|none~0|+|none~0|none~1|none~2|", "bad token '|none~0|' (node 2 needs 2 edges)"},
      {"|none~1|+|none~0|none~1|+|none~0|none~1|none~2|",
       "bad token 'none~1' (expected the edge from node 0)"},
      {"|none|+|none~0|none~1|+|none~0|none~1|none~2|",
       "bad token 'none' (expected <operation>~0)"},
      {"none~0+|none~0|none~1|+|none~0|none~1|none~2|",
       "bad token 'none~0' (expected |<op>~<from>|"},
      {"", "expected 3 groups"}};
  for (const auto& [text, message] : cases) {
    const std::string e = error_of([&] { parse_micro_string(text, {}); });
    EXPECT_THAT(e, HasSubstr(message)) << text;
    EXPECT_THAT(e, ::testing::StartsWith("micro space: '" + text + "': ")) << text;
    EXPECT_THAT(e, Not(HasSubstr("\n")));
  }
  EXPECT_THAT(error_of([] {
                parse_micro_string("|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|",
                                   {.operations = {"none", "skip_connect"}});
              }),
              HasSubstr("bad token 'nor_conv_3x3~0' (operation 'nor_conv_3x3' is not one of "
                        "none, skip_connect)"));
}

TEST(MicroSpaceTest, OptionsFromJsonAndTheirErrors) {
  const MicroOptions o = micro_options_from_json(nlohmann::json::parse(
      R"({"nodes": 3, "operations": ["none", "avg_pool_3x3"], "cells": 2, "stages": 1,
          "filters": 4, "classes": 5})"));
  EXPECT_EQ(o.nodes, 3);
  EXPECT_THAT(o.operations, ElementsAre("none", "avg_pool_3x3"));
  EXPECT_EQ(o.cells, 2);
  EXPECT_EQ(o.stages, 1);
  EXPECT_EQ(o.filters, 4);
  EXPECT_EQ(o.classes, 5);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"operations": ["conv"]})",
       "micro space: unknown operation 'conv' (known: none, skip_connect, nor_conv_1x1, "
       "nor_conv_3x3, avg_pool_3x3)"},
      {R"({"edges": 3})",
       "micro space: unknown option 'edges' (options: cells, classes, filters, "
       "nodes, operations, stages)"},
      {R"({"nodes": 1})", "micro space: nodes must be >= 2, got 1"},
      {R"({"cells": 0})", "micro space: cells must be >= 1, got 0"},
      {R"({"operations": ["none", "none"]})", "micro space: operations lists a value twice"},
      {R"({"operations": "none"})",
       "micro space: option 'operations' must be a non-empty list of strings, got \"none\""},
      {R"([1])", "micro space: options must be a mapping"}};
  for (const auto& [json, message] : cases) {
    const std::string e = error_of([&] { micro_options_from_json(nlohmann::json::parse(json)); });
    EXPECT_THAT(e, HasSubstr(message)) << json;
    EXPECT_THAT(e, Not(HasSubstr("\n")));
  }
}

}  // namespace
}  // namespace quarry::nas
