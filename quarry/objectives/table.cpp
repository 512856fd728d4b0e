#include "quarry/objectives/table.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "quarry/core/error.hpp"
#include "quarry/core/options.hpp"

namespace quarry::objectives {

// ---- TableObjective ----

TableObjective::TableObjective(std::string name, std::string metric, space::Space space,
                               std::unordered_map<std::string, Row> rows)
    : name_(std::move(name)),
      metric_(std::move(metric)),
      space_(std::move(space)),
      rows_(std::move(rows)) {
  for (const auto& p : space_.params())
    if (p.kind() != space::ParamKind::Choice || p.choices().size() > 10)
      throw InvalidArgument(name_ + ": " + p.describe() +
                            " is not a Choice of at most 10 values; a table needs one");
  if (rows_.empty()) throw InvalidArgument(name_ + ": the table lists no architecture");
  best_ = -std::numeric_limits<double>::infinity();
  for (const auto& [key, row] : rows_) best_ = std::max(best_, row.value);
}

std::string TableObjective::key_of(const Params& params) const {
  std::string key;
  for (const auto& p : space_.params()) {
    const auto it = params.find(p.name());
    if (it == params.end())
      throw InvalidArgument(name_ + ": parameter '" + p.name() +
                            "' is missing from the trial's parameters");
    const auto& choices = p.choices();
    const auto at = std::find_if(choices.begin(), choices.end(),
                                 [&](const Value& v) { return space::same_value(v, it->second); });
    if (at == choices.end())
      throw InvalidArgument(name_ + ": '" + space::to_string(it->second) + "' is not a value of " +
                            p.describe());
    key += static_cast<char>('0' + (at - choices.begin()));
  }
  return key;
}

const TableObjective::Row* TableObjective::find(const Params& params) const {
  const auto it = rows_.find(key_of(params));
  return it == rows_.end() ? nullptr : &it->second;
}

std::vector<double> TableObjective::evaluate(TrialContext& context) {
  const Row* row = find(context.params());
  if (row == nullptr)
    throw TrialFailed(name_ + ": the table does not list architecture " + key_of(context.params()));
  for (const auto& [key, json] : row->attrs) context.set_attr(key, json);
  return {row->value};
}

// ---- Reading the files ----

namespace {

std::string read_text(const std::string& table, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InvalidArgument(table + ": cannot open '" + path + "': " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

/// `metric`, or the default (the first known one) when empty; InvalidArgument when unknown.
std::string resolve_metric(const std::string& table, const std::string& metric) {
  const auto& info = find_entry(known_tables(), "table", table);
  if (metric.empty()) return info.metrics.front();
  if (std::find(info.metrics.begin(), info.metrics.end(), metric) != info.metrics.end())
    return metric;
  std::string known;
  for (const auto& m : info.metrics) known += (known.empty() ? "" : ", ") + m;
  throw InvalidArgument(table + ": unknown metric '" + metric + "' (known: " + known + ")");
}

space::Space choice_space(const std::vector<std::string>& names,
                          const std::vector<std::string>& values) {
  std::vector<Value> choices(values.begin(), values.end());
  space::Space space;
  for (const auto& name : names) space.add(space::Param::Choice(name, choices));
  return space;
}

}  // namespace

// ---- NAS-Bench-Macro ----

namespace {

constexpr const char* kMacro = "nas-bench-macro";
constexpr std::size_t kMacroLayers = 8;

TableObjective::Row macro_row(const std::string& where, const std::string& key,
                              const nlohmann::json& entry, const std::string& metric) {
  if (key.size() != kMacroLayers ||
      !std::all_of(key.begin(), key.end(), [](char c) { return c >= '0' && c <= '2'; }))
    throw InvalidArgument(where + ": key '" + key + "' is not 8 choices of 0, 1, 2");
  const auto value = entry.is_object() ? entry.find(metric) : entry.end();
  if (value == entry.end() || !value->is_number() || !std::isfinite(value->get<double>()))
    throw InvalidArgument(where + ": entry '" + key + "' has no finite number '" + metric + "'");
  TableObjective::Row row{.value = value->get<double>(), .attrs = {}};
  for (const char* fact : {"params", "flops"})
    if (const auto it = entry.find(fact); it != entry.end() && it->is_number())
      row.attrs.emplace_back(fact, it->dump());
  return row;
}

}  // namespace

std::unique_ptr<TableObjective> load_nas_bench_macro(const std::string& path,
                                                     const std::string& metric) {
  const std::string chosen = resolve_metric(kMacro, metric);
  const std::string where = std::string(kMacro) + ": '" + path + "'";
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(read_text(kMacro, path));
  } catch (const nlohmann::json::exception& e) {
    throw InvalidArgument(where + " is not valid JSON: " + e.what());
  }
  if (!json.is_object())
    throw InvalidArgument(where + ": expected an object of architectures, got " +
                          std::string(json.type_name()));
  std::unordered_map<std::string, TableObjective::Row> rows;
  for (const auto& [key, entry] : json.items()) rows[key] = macro_row(where, key, entry, chosen);
  if (rows.empty()) throw InvalidArgument(where + ": the file lists no architecture");
  std::vector<std::string> layers;
  for (std::size_t i = 0; i < kMacroLayers; ++i) layers.push_back("layer_" + std::to_string(i));
  return std::make_unique<TableObjective>(
      kMacro, chosen, choice_space(layers, {"identity", "mbv2_k3_e3", "mbv2_k5_e6"}),
      std::move(rows));
}

// ---- NAS-Bench-201 ----

namespace {

constexpr const char* kNb201 = "nas-bench-201";
const std::vector<std::string> kNb201Ops = {"none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3",
                                            "avg_pool_3x3"};
const std::vector<std::string> kNb201Edges = {"edge_0_1", "edge_0_2", "edge_1_2",
                                              "edge_0_3", "edge_1_3", "edge_2_3"};

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> out(1);
  for (char c : text)
    if (c == separator)
      out.emplace_back();
    else
      out.back().push_back(c);
  return out;
}

/// "|op~0|+|op~0|op~1|+|op~0|op~1|op~2|" -> one op index per edge ('0' + index); "" if malformed.
std::string cell_key(const std::string& cellstr) {
  const auto nodes = split(cellstr, '+');
  if (nodes.size() != 3) return "";
  std::string key;
  for (std::size_t node = 0; node < nodes.size(); ++node) {
    const auto& text = nodes[node];
    if (text.size() < 2 || text.front() != '|' || text.back() != '|') return "";
    const auto edges = split(text.substr(1, text.size() - 2), '|');
    if (edges.size() != node + 1) return "";
    for (std::size_t from = 0; from < edges.size(); ++from) {
      const auto tilde = edges[from].find('~');
      const auto op = std::find(kNb201Ops.begin(), kNb201Ops.end(), edges[from].substr(0, tilde));
      if (tilde == std::string::npos || op == kNb201Ops.end() ||
          edges[from].substr(tilde + 1) != std::to_string(from))
        return "";
      key += static_cast<char>('0' + (op - kNb201Ops.begin()));
    }
  }
  return key;
}

struct Nb201Columns {
  std::size_t count = 0, cellstr = 0, metric = 0;
  std::optional<std::size_t> arch;
};

Nb201Columns nb201_columns(const std::string& where, const std::string& header,
                           const std::string& metric) {
  const auto names = split(header, ',');
  Nb201Columns columns{.count = names.size()};
  const auto index = [&](const std::string& name) -> std::optional<std::size_t> {
    const auto it = std::find(names.begin(), names.end(), name);
    if (it == names.end()) return std::nullopt;
    return static_cast<std::size_t>(it - names.begin());
  };
  for (const auto& [name, slot] :
       {std::pair{"cellstr", &columns.cellstr}, std::pair{metric.c_str(), &columns.metric}}) {
    const auto at = index(name);
    if (!at) throw InvalidArgument(where + ":1: no column '" + name + "' in the header");
    *slot = *at;
  }
  columns.arch = index("arch");
  return columns;
}

double parse_number(const std::string& text, bool* ok) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  *ok = !text.empty() && end == text.c_str() + text.size() && std::isfinite(v);
  return v;
}

/// One data row of the CSV, added to `rows`.
void nb201_row(const std::string& at, const std::string& line, const Nb201Columns& columns,
               std::unordered_map<std::string, TableObjective::Row>& rows) {
  const auto fields = split(line, ',');
  if (fields.size() != columns.count)
    throw InvalidArgument(at + ": expected " + std::to_string(columns.count) +
                          " fields as in the header, got " + std::to_string(fields.size()));
  const std::string key = cell_key(fields[columns.cellstr]);
  if (key.empty())
    throw InvalidArgument(at + ": malformed cellstr '" + fields[columns.cellstr] +
                          "' (expected |op~0|+|op~0|op~1|+|op~0|op~1|op~2| with each op one of "
                          "none, skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3)");
  bool ok = false;
  TableObjective::Row row{.value = parse_number(fields[columns.metric], &ok), .attrs = {}};
  if (!ok) throw InvalidArgument(at + ": '" + fields[columns.metric] + "' is not a finite number");
  if (columns.arch) {
    const auto& arch = fields[*columns.arch];
    if (arch.empty() ||
        !std::all_of(arch.begin(), arch.end(), [](char c) { return c >= '0' && c <= '9'; }))
      throw InvalidArgument(at + ": arch '" + arch + "' is not an index");
    row.attrs.emplace_back("arch", arch);
  }
  if (!rows.emplace(key, std::move(row)).second)
    throw InvalidArgument(at + ": cell '" + fields[columns.cellstr] + "' is listed twice");
}

}  // namespace

std::unique_ptr<TableObjective> load_nas_bench_201(const std::string& path,
                                                   const std::string& metric) {
  const std::string chosen = resolve_metric(kNb201, metric);
  const std::string where = std::string(kNb201) + ": " + path;
  std::istringstream in(read_text(kNb201, path));
  std::string line;
  if (!std::getline(in, line)) throw InvalidArgument(where + ": the file is empty");
  if (!line.empty() && line.back() == '\r') line.pop_back();
  const auto columns = nb201_columns(where, line, chosen);
  std::unordered_map<std::string, TableObjective::Row> rows;
  for (int number = 2; std::getline(in, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    nb201_row(where + ":" + std::to_string(number), line, columns, rows);
  }
  if (rows.empty()) throw InvalidArgument(where + ": the file lists no architecture");
  return std::make_unique<TableObjective>(kNb201, chosen, choice_space(kNb201Edges, kNb201Ops),
                                          std::move(rows));
}

// ---- Registry ----

const std::vector<TableInfo>& known_tables() {
  static const std::vector<TableInfo> list = {
      {"nas-bench-201",
       "NAS-Bench-201 cells (mini CSV): 6 edges x 5 ops, 15,625 architectures; accuracy %",
       {"cifar10-val", "cifar10-test", "cifar100-val", "cifar100-test", "imagenet-val",
        "imagenet-test"}},
      {"nas-bench-macro",
       "NAS-Bench-Macro (JSON): 8 layers x 3 blocks, 6,561 architectures; CIFAR-10 accuracy %",
       {"mean_acc"}},
  };
  return list;
}

std::unique_ptr<TableObjective> load_table(const std::string& name, const std::string& path,
                                           const std::string& metric) {
  (void)find_entry(known_tables(), "table", name);  // throws for an unknown name
  if (name == kMacro) return load_nas_bench_macro(path, metric);
  return load_nas_bench_201(path, metric);
}

}  // namespace quarry::objectives
