// The cell-based space: options, the edge parameters, the NAS-Bench-201 skeleton and cell strings.
#include "quarry/nas/micro.hpp"

#include <algorithm>

#include "quarry/core/error.hpp"
#include "quarry/core/options.hpp"
#include "quarry/nas/lists.hpp"

namespace quarry::nas {
namespace {

const std::string kWho = "micro space";

/// The nn::CellOp of `name`; InvalidArgument "unknown operation 'x' (known: ...)" (no prefix).
nn::CellOp op_of(const std::string& name) {
  try {
    return nn::cell_op_from_string(name);
  } catch (const InvalidArgument&) {
    throw InvalidArgument("unknown operation '" + name +
                          "' (known: none, skip_connect, nor_conv_1x1, nor_conv_3x3, "
                          "avg_pool_3x3)");
  }
}

void check(const MicroOptions& o) {
  const auto positive = [](const char* name, std::int64_t v, std::int64_t min) {
    if (v < min) {
      throw InvalidArgument(kWho + ": " + name + " must be >= " + std::to_string(min) + ", got " +
                            std::to_string(v));
    }
  };
  positive("nodes", o.nodes, 2);
  positive("cells", o.cells, 1);
  positive("stages", o.stages, 1);
  positive("filters", o.filters, 1);
  positive("classes", o.classes, 1);
  if (o.operations.empty()) throw InvalidArgument(kWho + ": operations must not be empty");
  for (std::size_t i = 0; i < o.operations.size(); ++i) {
    try {
      op_of(o.operations[i]);
    } catch (const InvalidArgument& e) {
      throw InvalidArgument(kWho + ": " + e.what());
    }
    if (std::find(o.operations.begin(), o.operations.begin() + i, o.operations[i]) !=
        o.operations.begin() + i)
      throw InvalidArgument(kWho + ": operations lists a value twice: " + join(o.operations));
  }
}

std::string edge_name(std::int64_t from, std::int64_t to) {
  return "edge_" + std::to_string(from) + "_" + std::to_string(to);
}

/// One "op~from" token of node `to`'s group.
nn::CellOp edge_token(const std::string& token, std::int64_t from, const MicroOptions& o) {
  const auto tilde = token.find('~');
  if (tilde == std::string::npos)
    throw InvalidArgument("expected <operation>~" + std::to_string(from));
  const std::string op = token.substr(0, tilde);
  const nn::CellOp value = op_of(op);
  if (std::find(o.operations.begin(), o.operations.end(), op) == o.operations.end())
    throw InvalidArgument("operation '" + op + "' is not one of " + join(o.operations));
  if (token.substr(tilde + 1) != std::to_string(from))
    throw InvalidArgument("expected the edge from node " + std::to_string(from));
  return value;
}

/// The edges of a cell string, in NAS-Bench-201's order; throws the reason (without the text).
std::vector<nn::CellOp> parse(const std::string& text, const MicroOptions& o) {
  const std::vector<std::string> groups = split(text, '+');
  if (static_cast<std::int64_t>(groups.size()) != o.nodes - 1) {
    throw InvalidArgument("expected " + std::to_string(o.nodes - 1) +
                          " groups of edges joined by '+', got " + std::to_string(groups.size()));
  }
  std::vector<nn::CellOp> edges;
  for (std::size_t to = 1; to <= groups.size(); ++to) {
    const std::string& group = groups[to - 1];
    if (group.size() < 2 || group.front() != '|' || group.back() != '|')
      throw InvalidArgument("bad token '" + group + "' (expected |<op>~<from>|...|)");
    const std::vector<std::string> tokens = split(group.substr(1, group.size() - 2), '|');
    if (tokens.size() != to) {
      throw InvalidArgument("bad token '" + group + "' (node " + std::to_string(to) + " needs " +
                            std::to_string(to) + " edges)");
    }
    for (std::size_t from = 0; from < to; ++from) {
      try {
        edges.push_back(edge_token(tokens[from], static_cast<std::int64_t>(from), o));
      } catch (const InvalidArgument& e) {
        throw InvalidArgument("bad token '" + tokens[from] + "' (" + e.what() + ")");
      }
    }
  }
  return edges;
}

}  // namespace

space::Space micro_space(const MicroOptions& options) {
  check(options);
  const std::vector<Value> ops(options.operations.begin(), options.operations.end());
  space::Space s;
  for (const auto& [from, to] : nn::cell_edges(options.nodes))
    s.add(space::Param::Choice(edge_name(from, to), ops));
  return s;
}

nn::Cell micro_cell(const Params& params, const MicroOptions& options) {
  const space::Space s = micro_space(options);
  nn::Cell cell{.nodes = options.nodes};
  for (const space::Param& p : s.params()) {
    const auto it = params.find(p.name());
    if (it == params.end()) throw InvalidArgument(kWho + ": no value for '" + p.name() + "'");
    try {
      cell.edges.push_back(nn::cell_op_from_string(std::get<std::string>(p.normalize(it->second))));
    } catch (const InvalidArgument& e) {
      throw InvalidArgument(kWho + ": " + e.what());
    }
  }
  return cell;
}

std::vector<nn::Layer> micro_layers(const Params& params, const MicroOptions& options,
                                    const std::vector<std::int64_t>& input_shape) {
  const nn::Cell cell = micro_cell(params, options);
  if (input_shape.size() != 3) {
    throw InvalidArgument(kWho + ": the input must be an image {channels, height, width}, got " +
                          std::to_string(input_shape.size()) + " sizes");
  }
  std::vector<nn::Layer> out = {nn::Conv2d{.filters = options.filters}, nn::BatchNorm{}};
  std::int64_t filters = options.filters;
  for (std::int64_t stage = 0; stage < options.stages; ++stage) {
    if (stage > 0) out.push_back(nn::ResidualReduce{filters *= 2});
    for (std::int64_t i = 0; i < options.cells; ++i) out.push_back(cell);
  }
  out.insert(out.end(), {nn::BatchNorm{}, nn::ActivationLayer{nn::Activation::Relu},
                         nn::GlobalAvgPool{}, nn::Dense{options.classes}});
  return out;
}

std::vector<nn::Layer> micro_layers(HyperParameters& hp, const MicroOptions& options,
                                    const std::vector<std::int64_t>& input_shape) {
  const space::Space s = micro_space(options);
  for (const space::Param& p : s.params()) hp.get(p);
  return micro_layers(hp.values(), options, input_shape);
}

std::string micro_string(const Params& params, const MicroOptions& options) {
  return nn::cell_string(micro_cell(params, options));
}

Params parse_micro_string(const std::string& text, const MicroOptions& options) {
  const space::Space s = micro_space(options);
  std::vector<nn::CellOp> edges;
  try {
    edges = parse(text, options);
  } catch (const InvalidArgument& e) {
    throw InvalidArgument(kWho + ": '" + text + "': " + e.what());
  }
  Params out;
  for (std::size_t i = 0; i < edges.size(); ++i)
    out[s.params()[i].name()] = nn::to_string(edges[i]);
  return out;
}

MicroOptions micro_options_from_json(const nlohmann::json& json) {
  const ComponentOptions c(kWho, json,
                           {"cells", "classes", "filters", "nodes", "operations", "stages"});
  MicroOptions o;
  o.nodes = c.integer("nodes", o.nodes);
  o.operations = text_list(json, "operations", o.operations, kWho);
  o.cells = c.integer("cells", o.cells);
  o.stages = c.integer("stages", o.stages);
  o.filters = c.integer("filters", o.filters);
  o.classes = c.integer("classes", o.classes);
  check(o);
  return o;
}

}  // namespace quarry::nas
