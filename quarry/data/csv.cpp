// read_csv (csv.hpp): a CSV file as a Dataset, every cell present, categoricals one-hot encoded.
#include "quarry/data/csv.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "quarry/core/error.hpp"
#include "quarry/data/csv_reader.hpp"

namespace quarry::data {

namespace {

using detail::fail_at;
using detail::parse_number;
using Table = detail::CsvDocument;

std::size_t target_column(const Table& table, const std::string& target) {
  std::string names;
  for (std::size_t c = 0; c < table.header.size(); ++c) {
    if (table.header[c] == target) return c;
    names += (c ? ", " : "") + table.header[c];
  }
  fail_at(table.source, table.header_line,
          "no target column '" + target + "' (columns: " + names + ")");
}

bool is_missing(const std::string& s) {
  return s.empty() || s == "NA" || s == "N/A" || s == "NaN" || s == "nan" || s == "null";
}

void check_present(const Table& table, std::size_t column) {
  for (std::size_t r = 0; r < table.rows.size(); ++r)
    if (const std::string& s = table.cell(r, column); is_missing(s))
      fail_at(table.source, table.rows[r].line,
              "column '" + table.header[column] + "' " +
                  (s.empty() ? std::string("is empty") : "has '" + s + "'") +
                  ", a missing value; Quarry does not impute (fill or drop the row)");
}

/// Every value of a column as numbers, or nullopt when one is not a number; throws for a number
/// that does not fit a float.
std::optional<std::vector<float>> numeric_column(const Table& table, std::size_t column) {
  std::vector<float> values;
  for (std::size_t r = 0; r < table.rows.size(); ++r) {
    const auto value = parse_number(table.cell(r, column));
    if (!value) return std::nullopt;
    values.push_back(static_cast<float>(*value));
  }
  for (std::size_t r = 0; r < values.size(); ++r)
    if (!std::isfinite(values[r]))
      fail_at(table.source, table.rows[r].line,
              "column '" + table.header[column] + "' has '" + table.cell(r, column) +
                  "', not a finite float");
  return values;
}

/// One column's features: `width` values per row.
struct Block {
  std::vector<std::string> names;
  std::vector<float> values;  ///< rows x names.size(), row-major
};

Block encode_feature(const Table& table, std::size_t column) {
  const std::string& name = table.header[column];
  if (auto values = numeric_column(table, column)) return {{name}, std::move(*values)};
  std::map<std::string, std::size_t> categories;
  for (std::size_t r = 0; r < table.rows.size(); ++r) categories.emplace(table.cell(r, column), 0);
  Block block;
  for (auto& [value, index] : categories) {
    index = block.names.size();
    block.names.push_back(name + "=" + value);
  }
  block.values.assign(table.rows.size() * categories.size(), 0.0f);
  for (std::size_t r = 0; r < table.rows.size(); ++r)
    block.values[r * categories.size() + categories.at(table.cell(r, column))] = 1.0f;
  return block;
}

/// A class label for a number: "3" for integers, the shortest round-trip text otherwise.
std::string label_of(float value) {
  if (value == std::floor(value) && std::fabs(value) < 1e15f)
    return std::to_string(static_cast<long long>(value));
  std::array<char, 32> buffer{};
  const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
  return std::string(buffer.data(), result.ptr);
}

bool use_classes(const std::optional<std::vector<float>>& numbers, Task task) {
  if (task != Task::Auto) return task == Task::Classification;
  if (!numbers) return true;
  std::set<float> distinct;
  for (float v : *numbers) {
    if (v != std::floor(v)) return false;
    distinct.insert(v);
  }
  return static_cast<std::int64_t>(distinct.size()) <= kMaxAutoClasses;
}

/// Class indices in sorted label order (numeric order when every label is a number).
void encode_classes(const Table& table, std::size_t column,
                    const std::optional<std::vector<float>>& numbers, Dataset& d) {
  std::vector<std::string> labels;
  if (numbers) {
    const std::set<float> distinct(numbers->begin(), numbers->end());
    for (float v : distinct) labels.push_back(label_of(v));
    for (float v : *numbers)
      d.y.push_back(static_cast<float>(std::distance(distinct.begin(), distinct.find(v))));
  } else {
    std::map<std::string, std::size_t> index;
    for (std::size_t r = 0; r < table.rows.size(); ++r) index.emplace(table.cell(r, column), 0);
    for (auto& [label, i] : index) {
      i = labels.size();
      labels.push_back(label);
    }
    for (std::size_t r = 0; r < table.rows.size(); ++r)
      d.y.push_back(static_cast<float>(index.at(table.cell(r, column))));
  }
  d.num_classes = static_cast<std::int64_t>(labels.size());
  d.class_names = std::move(labels);
}

[[noreturn]] void fail_not_numeric(const Table& table, std::size_t column) {
  std::size_t r = 0;
  while (r + 1 < table.rows.size() && parse_number(table.cell(r, column))) ++r;
  fail_at(table.source, table.rows[r].line,
          "target '" + table.header[column] + "' has '" + table.cell(r, column) +
              "', not a number (a regression target must be numeric)");
}

void encode_target(const Table& table, std::size_t column, Task task, Dataset& d) {
  check_present(table, column);
  const auto numbers = numeric_column(table, column);
  if (use_classes(numbers, task)) return encode_classes(table, column, numbers, d);
  if (!numbers) fail_not_numeric(table, column);
  d.y = *numbers;
}

}  // namespace

Dataset read_csv(const std::string& path, const CsvOptions& options) {
  if (options.target.empty())
    throw InvalidArgument("read_csv('" + path +
                          "'): options.target must name the column to predict");
  const char delimiter = options.delimiter;
  if (delimiter == '"' || delimiter == '\n' || delimiter == '\r')
    throw InvalidArgument("read_csv('" + path +
                          "'): the delimiter cannot be a quote or line break");
  const Table table = detail::parse_document(detail::read_text(path), path, delimiter);
  const std::size_t target = target_column(table, options.target);
  if (table.header.size() < 2)
    fail_at(path, table.header_line,
            "no feature columns besides the target '" + options.target + "'");
  Dataset d;
  d.source = path;
  encode_target(table, target, options.task, d);
  std::vector<Block> blocks;
  for (std::size_t c = 0; c < table.header.size(); ++c) {
    if (c == target) continue;
    check_present(table, c);
    blocks.push_back(encode_feature(table, c));
    d.feature_names.insert(d.feature_names.end(), blocks.back().names.begin(),
                           blocks.back().names.end());
  }
  d.shape = {static_cast<std::int64_t>(d.feature_names.size())};
  d.x.reserve(table.rows.size() * d.feature_names.size());
  for (std::size_t r = 0; r < table.rows.size(); ++r)
    for (const Block& b : blocks)
      d.x.insert(d.x.end(), b.values.begin() + static_cast<std::ptrdiff_t>(r * b.names.size()),
                 b.values.begin() + static_cast<std::ptrdiff_t>((r + 1) * b.names.size()));
  return d;
}

}  // namespace quarry::data
