#include "quarry/data/csv.hpp"

#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include "quarry/core/error.hpp"

namespace quarry::data {

namespace {

struct Row {
  std::size_t line = 0;  ///< where the record starts (1-based)
  std::vector<std::string> fields;
};

[[noreturn]] void fail_at(const std::string& path, std::size_t line, const std::string& what) {
  throw InvalidArgument(path + ":" + std::to_string(line) + ": " + what);
}

/// RFC 4180 records, with the line each one starts on.
class Parser {
 public:
  Parser(std::string text, std::string path, char delimiter)
      : text_(std::move(text)), path_(std::move(path)), delimiter_(delimiter) {}

  std::vector<Row> rows() {
    if (text_.rfind("\xEF\xBB\xBF", 0) == 0) pos_ = 3;  // UTF-8 byte order mark
    std::vector<Row> rows;
    while (!at_end()) {
      if (at_line_end())
        skip_line_end();  // a blank line
      else
        rows.push_back(record());
    }
    return rows;
  }

 private:
  bool at_end() const { return pos_ >= text_.size(); }
  bool at_line_end() const { return !at_end() && (text_[pos_] == '\n' || text_[pos_] == '\r'); }
  bool at_field_end() const { return at_end() || at_line_end() || text_[pos_] == delimiter_; }
  void skip_line_end() {
    if (text_[pos_] == '\r') ++pos_;
    if (!at_end() && text_[pos_] == '\n') ++pos_;
    ++line_;
  }
  void skip_blanks() {
    while (!at_end() && (text_[pos_] == ' ' || text_[pos_] == '\t') && text_[pos_] != delimiter_)
      ++pos_;
  }

  Row record() {
    Row row{line_, {}};
    while (true) {
      skip_blanks();
      row.fields.push_back(!at_end() && text_[pos_] == '"' ? quoted(row) : plain());
      if (at_end()) break;
      if (at_line_end()) {
        skip_line_end();
        break;
      }
      ++pos_;  // the delimiter
    }
    return row;
  }

  std::string plain() {
    const std::size_t start = pos_;
    while (!at_field_end()) ++pos_;
    std::size_t end = pos_;
    while (end > start && (text_[end - 1] == ' ' || text_[end - 1] == '\t')) --end;
    return text_.substr(start, end - start);
  }

  std::string quoted(const Row& row) {
    std::string value;
    ++pos_;  // the opening quote
    while (true) {
      const std::size_t quote = text_.find('"', pos_);
      if (quote == std::string::npos)
        fail_at(path_, row.line,
                "field " + std::to_string(row.fields.size() + 1) +
                    " opens a quote that is never closed");
      value.append(text_, pos_, quote - pos_);
      for (std::size_t i = pos_; i < quote; ++i) line_ += text_[i] == '\n';
      pos_ = quote + 1;
      if (at_end() || text_[pos_] != '"') break;
      value += '"';  // a doubled quote
      ++pos_;
    }
    skip_blanks();
    if (!at_field_end())
      fail_at(path_, line_,
              "text after the closing quote of field " + std::to_string(row.fields.size() + 1));
    return value;
  }

  std::string text_, path_;
  char delimiter_;
  std::size_t pos_ = 0, line_ = 1;
};

struct Table {
  std::string path;
  std::vector<std::string> header;
  std::vector<Row> rows;
  std::size_t header_line = 1;

  const std::string& cell(std::size_t row, std::size_t column) const {
    return rows[row].fields[column];
  }
};

std::string read_text(const std::string& path) {
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw InvalidArgument("cannot open '" + path +
                          "': " + std::generic_category().message(errno ? errno : ENOENT));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

/// The header and rows of `path`, every row as long as the header.
Table read_table(const std::string& path, char delimiter) {
  std::vector<Row> rows = Parser(read_text(path), path, delimiter).rows();
  if (rows.empty()) fail_at(path, 1, "empty file; a header row naming the columns is required");
  Table table{path, std::move(rows.front().fields), {}, rows.front().line};
  rows.erase(rows.begin());
  std::map<std::string, std::size_t> seen;
  for (std::size_t c = 0; c < table.header.size(); ++c) {
    if (table.header[c].empty())
      fail_at(path, table.header_line, "column " + std::to_string(c + 1) + " has no name");
    if (const auto [it, fresh] = seen.emplace(table.header[c], c + 1); !fresh)
      fail_at(path, table.header_line,
              "columns " + std::to_string(it->second) + " and " + std::to_string(c + 1) +
                  " are both named '" + table.header[c] + "'");
  }
  if (rows.empty()) fail_at(path, table.header_line + 1, "no data rows after the header");
  for (const Row& row : rows)
    if (row.fields.size() != table.header.size())
      fail_at(path, row.line,
              std::to_string(row.fields.size()) + " fields, but the header has " +
                  std::to_string(table.header.size()));
  table.rows = std::move(rows);
  return table;
}

std::size_t target_column(const Table& table, const std::string& target) {
  std::string names;
  for (std::size_t c = 0; c < table.header.size(); ++c) {
    if (table.header[c] == target) return c;
    names += (c ? ", " : "") + table.header[c];
  }
  fail_at(table.path, table.header_line,
          "no target column '" + target + "' (columns: " + names + ")");
}

bool is_missing(const std::string& s) {
  return s.empty() || s == "NA" || s == "N/A" || s == "NaN" || s == "nan" || s == "null";
}

void check_present(const Table& table, std::size_t column) {
  for (std::size_t r = 0; r < table.rows.size(); ++r)
    if (const std::string& s = table.cell(r, column); is_missing(s))
      fail_at(table.path, table.rows[r].line,
              "column '" + table.header[column] + "' " +
                  (s.empty() ? std::string("is empty") : "has '" + s + "'") +
                  ", a missing value; Quarry does not impute (fill or drop the row)");
}

/// The number `s` spells in full (infinite when out of range), or nullopt.
std::optional<double> number(const std::string& s) {
  const char* begin = s.data();
  const char* end = s.data() + s.size();
  if (begin != end && *begin == '+' && begin + 1 != end && begin[1] != '-') ++begin;
  double value = 0;
  const auto [ptr, ec] = std::from_chars(begin, end, value);
  if (ptr != end || begin == end) return std::nullopt;
  if (ec == std::errc::result_out_of_range) return std::numeric_limits<double>::infinity();
  if (ec != std::errc{}) return std::nullopt;
  return value;
}

/// Every value of a column as numbers, or nullopt when one is not a number; throws for a number
/// that does not fit a float.
std::optional<std::vector<float>> numeric_column(const Table& table, std::size_t column) {
  std::vector<float> values;
  for (std::size_t r = 0; r < table.rows.size(); ++r) {
    const auto value = number(table.cell(r, column));
    if (!value) return std::nullopt;
    values.push_back(static_cast<float>(*value));
  }
  for (std::size_t r = 0; r < values.size(); ++r)
    if (!std::isfinite(values[r]))
      fail_at(table.path, table.rows[r].line,
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
  while (r + 1 < table.rows.size() && number(table.cell(r, column))) ++r;
  fail_at(table.path, table.rows[r].line,
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
  const Table table = read_table(path, delimiter);
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
