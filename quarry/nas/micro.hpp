// A cell-based architecture space: NAS-Bench-201's (Dong & Yang, "NAS-Bench-201: Extending the
// Scope of Reproducible Neural Architecture Search", ICLR 2020). One cell (a DAG of `nodes` feature
// maps, see nn::Cell) is searched and repeated throughout a fixed skeleton:
//
//   stem: Conv2d(filters, 3x3, "same") + BatchNorm
//   stage 1: cells x Cell; ResidualReduce(2 * filters)
//   stage 2: cells x Cell; ResidualReduce(4 * filters) ...
//   last stage: cells x Cell; BatchNorm, relu, GlobalAvgPool, Dense(classes)
//
// Parameters: edge_<from>_<to>, a Choice of `operations` for each edge, in NAS-Bench-201's order
// (edge_0_1, edge_0_2, edge_1_2, edge_0_3, edge_1_3, edge_2_3 for 4 nodes): the same names, values
// and order as the nas-bench-201 table's space (objectives/table.hpp), so a study can move between
// the table and real training. Every edge is a parameter, even when `operations` lists one op.
//
// Text (micro_string): NAS-Bench-201's cell string, the edges into each node grouped,
// "|nor_conv_3x3~0|+|skip_connect~0|avg_pool_3x3~1|+|none~0|nor_conv_1x1~1|skip_connect~2|".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "quarry/nn/spec.hpp"
#include "quarry/space/hyperparameters.hpp"
#include "quarry/space/space.hpp"

namespace quarry::nas {

/// The micro space's options (the keys of micro_options_from_json).
struct MicroOptions {
  std::int64_t nodes = 4;  ///< nodes of a cell, >= 2 (edges: nodes * (nodes - 1) / 2)
  /// Edge operations, a subset of NAS-Bench-201's five (nn::CellOp's names).
  std::vector<std::string> operations = {"none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3",
                                         "avg_pool_3x3"};
  std::int64_t cells = 1;     ///< cells per stage, >= 1 (NAS-Bench-201 trains with 5)
  std::int64_t stages = 3;    ///< >= 1; a ResidualReduce between two stages
  std::int64_t filters = 16;  ///< channels of the first stage, doubled by each reduction, >= 1
  std::int64_t classes = 10;  ///< outputs of the last layer, >= 1
};

/// The space of `options`; InvalidArgument ("micro space: ...") when the options break a rule.
space::Space micro_space(const MicroOptions& options);

/// The layers of one architecture for inputs of `input_shape` ({channels, height, width}).
/// Reads the edge_* parameters from `params` (other entries are ignored); InvalidArgument naming
/// the parameter when one is missing or holds an operation outside the options.
std::vector<nn::Layer> micro_layers(const Params& params, const MicroOptions& options,
                                    const std::vector<std::int64_t>& input_shape);
/// Define-by-run: registers the space in `hp` (same names and definitions as micro_space) and
/// builds the layers of its values.
std::vector<nn::Layer> micro_layers(HyperParameters& hp, const MicroOptions& options,
                                    const std::vector<std::int64_t>& input_shape);

/// The cell of an assignment (edges in NAS-Bench-201's order).
nn::Cell micro_cell(const Params& params, const MicroOptions& options);

/// The cell as NAS-Bench-201's string.
std::string micro_string(const Params& params, const MicroOptions& options);
/// The parameters of a cell string; InvalidArgument naming the text and the bad token:
/// "micro space: '|conv~0|+...': bad token 'conv~0' (unknown operation 'conv' ...)".
Params parse_micro_string(const std::string& text, const MicroOptions& options);

/// Options from a study file's JSON object (null: the defaults); InvalidArgument ("micro space:
/// unknown option 'x'", "micro space: unknown operation 'conv' (known: ...)") on one line.
MicroOptions micro_options_from_json(const nlohmann::json& json);

}  // namespace quarry::nas
