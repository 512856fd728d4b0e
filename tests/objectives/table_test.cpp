#include "quarry/objectives/table.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include "tests/test_util.hpp"

namespace quarry::objectives {
namespace {

using quarry::testing::error_of;
using quarry::testing::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::string kDataDir = quarry::testing::nas_data_dir();
const std::string kMacroFile = kDataDir + "/nas-bench-macro-cifar10.json";
const std::string kNb201File = kDataDir + "/nas-bench-201-mini.csv";

std::string write(const TempDir& dir, const std::string& name, const std::string& text) {
  std::ofstream(dir.file(name), std::ios::binary) << text;
  return dir.file(name);
}

/// Evaluates `params`; returns the value and fills `attrs` with what the objective recorded.
double evaluate(TableObjective& table, const Params& params,
                std::map<std::string, std::string>* attrs = nullptr) {
  TrialContext context(0, params, 0, nullptr, nullptr, std::nullopt,
                       [&](const std::string& key, const std::string& json) {
                         if (attrs) (*attrs)[key] = json;
                       });
  const auto values = table.evaluate(context);
  EXPECT_EQ(values.size(), 1u);
  return values.at(0);
}

const std::vector<std::string> kBlocks = {"identity", "mbv2_k3_e3", "mbv2_k5_e6"};
const std::vector<std::string> kOps = {"none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3",
                                       "avg_pool_3x3"};

/// The macro architecture a key spells ("01200000" -> layer_0 identity, layer_1 mbv2_k3_e3...).
Params macro_arch(const std::string& key) {
  Params p;
  for (std::size_t i = 0; i < key.size(); ++i)
    p["layer_" + std::to_string(i)] = kBlocks.at(static_cast<std::size_t>(key[i] - '0'));
  return p;
}

/// The NAS-Bench-201 cell with these six ops, in cell-string order.
Params cell(const std::vector<std::string>& ops) {
  const std::vector<std::string> edges = {"edge_0_1", "edge_0_2", "edge_1_2",
                                          "edge_0_3", "edge_1_3", "edge_2_3"};
  Params p;
  for (std::size_t i = 0; i < edges.size(); ++i) p[edges[i]] = ops.at(i);
  return p;
}

const char kSmallMacro[] = R"({
  "00000000": {"test_acc": [80.0, 81.0, 82.0], "mean_acc": 81.0, "std": 0.8, "params": 100,
               "flops": 2000},
  "01200000": {"mean_acc": 90.5, "params": 300, "flops": 7000},
  "22222222": {"mean_acc": 88.25}
})";

const char kSmallNb201[] =
    "arch,cellstr,cifar10-test,cifar10-val,cifar100-test,cifar100-val,imagenet-test,imagenet-val\n"
    "0,|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_"
    "connect~2|,69.55,63.364,31.26,31.84,17,18.4667\n"
    "\r\n"
    "7,|none~0|+|none~0|none~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|,88,81.5,60,59,30,"
    "31\r\n";

TEST(TableMacro, ParsesTheSpaceValuesAndAttrs) {
  TempDir dir;
  const auto table = load_nas_bench_macro(write(dir, "m.json", kSmallMacro));
  EXPECT_EQ(table->describe(), "nas-bench-macro (mean_acc)");
  EXPECT_EQ(table->metric(), "mean_acc");
  EXPECT_EQ(table->size(), 3u);
  EXPECT_DOUBLE_EQ(table->best_value(), 90.5);
  ASSERT_EQ(table->space().size(), 8u);
  for (std::size_t i = 0; i < 8; ++i) {
    const auto& p = table->space().params()[i];
    EXPECT_EQ(p.name(), "layer_" + std::to_string(i));
    EXPECT_EQ(p.kind(), space::ParamKind::Choice);
    EXPECT_EQ(p.choices(), std::vector<Value>(kBlocks.begin(), kBlocks.end()));
  }
  std::map<std::string, std::string> attrs;
  EXPECT_DOUBLE_EQ(evaluate(*table, macro_arch("01200000"), &attrs), 90.5);
  EXPECT_EQ(attrs, (std::map<std::string, std::string>{{"flops", "7000"}, {"params", "300"}}));
  attrs.clear();
  EXPECT_DOUBLE_EQ(evaluate(*table, macro_arch("22222222"), &attrs), 88.25);
  EXPECT_TRUE(attrs.empty());
  EXPECT_EQ(table->key_of(macro_arch("00000000")), "00000000");
}

TEST(TableMacro, AnArchitectureTheTableLacksFailsItsTrial) {
  TempDir dir;
  const auto table = load_nas_bench_macro(write(dir, "m.json", kSmallMacro));
  EXPECT_EQ(table->find(macro_arch("11111111")), nullptr);
  EXPECT_THAT(error_of<TrialFailed>([&] { evaluate(*table, macro_arch("11111111")); }),
              HasSubstr("does not list architecture 11111111"));
  auto missing = macro_arch("00000000");
  missing.erase("layer_3");
  EXPECT_EQ(error_of([&] { evaluate(*table, missing); }),
            "nas-bench-macro: parameter 'layer_3' is missing from the trial's parameters");
}

TEST(TableMacro, ErrorsNameTheFileAndTheRule) {
  TempDir dir;
  const auto bad = [&](const std::string& text) {
    return error_of([&] { load_nas_bench_macro(write(dir, "bad.json", text)); });
  };
  const std::string where = "nas-bench-macro: '" + dir.file("bad.json") + "'";
  EXPECT_THAT(error_of([&] { load_nas_bench_macro(dir.file("none.json")); }),
              HasSubstr("nas-bench-macro: cannot open '" + dir.file("none.json") +
                        "': No such file or directory"));
  EXPECT_THAT(bad("{\"00000000\": "), HasSubstr(where + " is not valid JSON"));
  EXPECT_EQ(bad("[1, 2]"), where + ": expected an object of architectures, got array");
  EXPECT_EQ(bad(R"({"0000000": {"mean_acc": 1}})"),
            where + ": key '0000000' is not 8 choices of 0, 1, 2");
  EXPECT_EQ(bad(R"({"00000003": {"mean_acc": 1}})"),
            where + ": key '00000003' is not 8 choices of 0, 1, 2");
  EXPECT_EQ(bad(R"({"00000000": {"mean": 1}})"),
            where + ": entry '00000000' has no finite number 'mean_acc'");
  EXPECT_EQ(bad("{}"), where + ": the file lists no architecture");
  EXPECT_EQ(error_of([&] { load_nas_bench_macro(dir.file("x.json"), "accuracy"); }),
            "nas-bench-macro: unknown metric 'accuracy' (known: mean_acc)");
  for (const auto& message : {bad("{\"00000000\": "), bad("[1]")})
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
}

TEST(TableNb201, ParsesCellsAndPicksTheMetric) {
  TempDir dir;
  const auto path = write(dir, "t.csv", kSmallNb201);
  const auto table = load_nas_bench_201(path);
  EXPECT_EQ(table->metric(), "cifar10-val");
  EXPECT_EQ(table->size(), 2u);
  std::vector<std::string> names;
  for (const auto& p : table->space().params()) {
    names.push_back(p.name());
    EXPECT_EQ(p.choices(), std::vector<Value>(kOps.begin(), kOps.end()));
  }
  EXPECT_THAT(names,
              ElementsAre("edge_0_1", "edge_0_2", "edge_1_2", "edge_0_3", "edge_1_3", "edge_2_3"));
  const auto first = cell({"avg_pool_3x3", "nor_conv_1x1", "skip_connect", "nor_conv_1x1",
                           "skip_connect", "skip_connect"});
  const auto second =
      cell({"none", "none", "none", "nor_conv_3x3", "nor_conv_3x3", "nor_conv_3x3"});
  std::map<std::string, std::string> attrs;
  EXPECT_DOUBLE_EQ(evaluate(*table, first, &attrs), 63.364);
  EXPECT_EQ(attrs, (std::map<std::string, std::string>{{"arch", "0"}}));
  EXPECT_DOUBLE_EQ(evaluate(*table, second), 81.5);
  EXPECT_DOUBLE_EQ(table->best_value(), 81.5);
  EXPECT_EQ(table->key_of(first), "421211");

  const std::map<std::string, std::pair<double, double>> expected = {
      {"cifar10-test", {69.55, 88}},
      {"cifar100-test", {31.26, 60}},
      {"cifar100-val", {31.84, 59}},
      {"imagenet-test", {17, 30}},
      {"imagenet-val", {18.4667, 31}}};
  for (const auto& [metric, values] : expected) {
    const auto other = load_table("nas-bench-201", path, metric);
    EXPECT_EQ(other->describe(), "nas-bench-201 (" + metric + ")");
    EXPECT_DOUBLE_EQ(evaluate(*other, first), values.first) << metric;
    EXPECT_DOUBLE_EQ(evaluate(*other, second), values.second) << metric;
    EXPECT_DOUBLE_EQ(other->best_value(), std::max(values.first, values.second)) << metric;
  }
}

TEST(TableNb201, ErrorsNameTheFileAndLine) {
  TempDir dir;
  const std::string header = "arch,cellstr,cifar10-val\n";
  const std::string good = "0,|none~0|+|none~0|none~1|+|none~0|none~1|none~2|,10\n";
  const auto bad = [&](const std::string& text) {
    return error_of([&] { load_nas_bench_201(write(dir, "t.csv", text)); });
  };
  const std::string where = "nas-bench-201: " + dir.file("t.csv");
  EXPECT_EQ(bad(header + good + "1,|none~0|+|none~0|none~1|+|none~0|none~1|none~2|\n"),
            where + ":3: expected 3 fields as in the header, got 2");
  EXPECT_THAT(bad(header + good + "\n1,|none~0|+|none~0|conv~1|+|none~0|none~1|none~2|,1\n"),
              HasSubstr(where + ":4: malformed cellstr '|none~0|+|none~0|conv~1|"));
  EXPECT_THAT(bad(header + "1,|none~0|+|none~1|none~0|+|none~0|none~1|none~2|,1\n"),
              HasSubstr(where + ":2: malformed cellstr"));
  EXPECT_THAT(bad(header + "1,|none~0|+|none~0|none~1|,1\n"),
              HasSubstr(where + ":2: malformed cellstr"));
  EXPECT_EQ(bad(header + "1,|none~0|+|none~0|none~1|+|none~0|none~1|none~2|,abc\n"),
            where + ":2: 'abc' is not a finite number");
  EXPECT_EQ(bad(header + good + good), where + ":3: cell '" +
                                           std::string("|none~0|+|none~0|none~1|+|none~0|none~1|"
                                                       "none~2|") +
                                           "' is listed twice");
  EXPECT_EQ(bad("arch,cellstr,cifar10-test\n" + good),
            where + ":1: no column 'cifar10-val' in the header");
  EXPECT_EQ(bad(""), where + ": the file is empty");
  EXPECT_EQ(bad(header), where + ": the file lists no architecture");
  EXPECT_THAT(error_of([&] { load_nas_bench_201(dir.file("none.csv")); }),
              HasSubstr("nas-bench-201: cannot open '" + dir.file("none.csv") + "'"));
  EXPECT_THAT(error_of([&] { load_table("nas-bench-101", dir.file("t.csv")); }),
              HasSubstr("unknown table 'nas-bench-101' (known: nas-bench-201, nas-bench-macro)"));
}

// The real tables (data/nas; see its README.md for the figures checked here).

TEST(TableRealFiles, NasBenchMacroMatchesItsReadme) {
  const auto table = load_nas_bench_macro(kMacroFile);
  EXPECT_EQ(table->size(), 6561u);  // 3^8: every architecture
  EXPECT_NEAR(table->best_value(), 93.127, 1e-3);
  std::map<std::string, std::string> attrs;
  EXPECT_NEAR(evaluate(*table, macro_arch("02012100"), &attrs), 89.19666544596355, 1e-12);
  EXPECT_EQ(attrs.at("params"), "890666");
  EXPECT_EQ(attrs.at("flops"), "47327744");
}

TEST(TableRealFiles, NasBench201MatchesItsReadme) {
  const std::map<std::string, double> maxima = {{"cifar10-test", 89.16},
                                                {"cifar10-val", 84.89},
                                                {"cifar100-test", 61.18},
                                                {"imagenet-test", 38.27}};
  for (const auto& [metric, best] : maxima) {
    const auto table = load_nas_bench_201(kNb201File, metric);
    EXPECT_EQ(table->size(), 15625u);  // 5^6: every cell
    EXPECT_NEAR(table->best_value(), best, 0.005) << metric;
  }
  const auto table = load_nas_bench_201(kNb201File, "cifar10-test");
  std::map<std::string, std::string> attrs;
  EXPECT_DOUBLE_EQ(evaluate(*table,
                            cell({"nor_conv_3x3", "nor_conv_3x3", "avg_pool_3x3", "skip_connect",
                                  "nor_conv_3x3", "skip_connect"}),
                            &attrs),
                   88.22);
  EXPECT_EQ(attrs.at("arch"), "1");
}

}  // namespace
}  // namespace quarry::objectives
