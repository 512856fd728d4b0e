// read_table / parse_table (table.hpp): a CSV document as typed columns, cells kept as written.
#include "quarry/data/table.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "quarry/core/error.hpp"
#include "quarry/data/csv_reader.hpp"

namespace quarry::data {

namespace {

using detail::fail_at;

/// How much of a file is checked for being text.
constexpr std::size_t kTextCheckBytes = 64 * 1024;

/// The length of the valid UTF-8 sequence at `i` of `s`, or 0 when it is not one (a stray
/// continuation byte, a truncated or overlong sequence, a surrogate, a code point past U+10FFFF).
std::size_t utf8_length(const std::string& s, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b = byte(i);
  if (b < 0x80) return 1;
  std::size_t n = 0;
  unsigned char low = 0x80, high = 0xBF;  // the range of the second byte
  if (b >= 0xC2 && b <= 0xDF) {
    n = 2;
  } else if (b >= 0xE0 && b <= 0xEF) {
    n = 3;
    if (b == 0xE0) low = 0xA0;   // overlong
    if (b == 0xED) high = 0x9F;  // surrogates
  } else if (b >= 0xF0 && b <= 0xF4) {
    n = 4;
    if (b == 0xF0) low = 0x90;   // overlong
    if (b == 0xF4) high = 0x8F;  // past U+10FFFF
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (byte(i + 1) < low || byte(i + 1) > high) return 0;
  for (std::size_t k = 2; k < n; ++k)
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  return n;
}

/// Throws unless the first kTextCheckBytes of `text` are UTF-8 without a NUL byte.
void check_text(const std::string& text, const std::string& source) {
  const std::size_t end = std::min(text.size(), kTextCheckBytes);
  std::size_t line = 1;
  for (std::size_t i = 0; i < end;) {
    if (text[i] == '\0')
      fail_at(source, line, "not a text file (a NUL byte at offset " + std::to_string(i) + ")");
    const std::size_t n = utf8_length(text, i);
    if (n == 0)
      fail_at(source, line, "not a text file (invalid UTF-8 at offset " + std::to_string(i) + ")");
    line += text[i] == '\n';
    i += n;
  }
}

char ascii_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

/// 1 for true/yes, 0 for false/no (any case), nullopt otherwise.
std::optional<double> boolean(const std::string& s) {
  if (s.size() > 5) return std::nullopt;
  std::string lower(s);
  std::transform(lower.begin(), lower.end(), lower.begin(), ascii_lower);
  if (lower == "true" || lower == "yes") return 1.0;
  if (lower == "false" || lower == "no") return 0.0;
  return std::nullopt;
}

/// The cell's number when it spells a finite one in full.
double finite_number(const std::string& s) {
  const auto value = detail::parse_number(s);
  return value && std::isfinite(*value) ? *value : std::numeric_limits<double>::quiet_NaN();
}

Column make_column(const detail::CsvDocument& doc, std::size_t c, const TableOptions& options) {
  Column column;
  column.name = doc.header[c];
  const std::size_t rows = doc.rows.size();
  column.text.resize(rows);
  column.numbers.assign(rows, std::numeric_limits<double>::quiet_NaN());
  column.missing.assign(rows, false);
  bool all_numbers = true, all_booleans = true;
  for (std::size_t r = 0; r < rows; ++r) {
    const std::string& cell = doc.cell(r, c);
    if (cell.empty() ||
        std::find(options.missing.begin(), options.missing.end(), cell) != options.missing.end()) {
      column.missing[r] = true;
      continue;
    }
    column.text[r] = cell;
    column.numbers[r] = finite_number(cell);
    all_numbers = all_numbers && !std::isnan(column.numbers[r]);
    all_booleans = all_booleans && boolean(cell).has_value();
  }
  if (all_numbers) {
    column.type = ColumnType::Numeric;  // also a column with no present cell
  } else if (all_booleans) {
    column.type = ColumnType::Boolean;
    for (std::size_t r = 0; r < rows; ++r)
      if (!column.missing[r]) column.numbers[r] = *boolean(column.text[r]);
  } else {
    column.type = ColumnType::Categorical;
  }
  return column;
}

}  // namespace

std::string to_string(ColumnType type) {
  switch (type) {
    case ColumnType::Numeric:
      return "numeric";
    case ColumnType::Boolean:
      return "boolean";
    case ColumnType::Categorical:
      return "categorical";
  }
  return "unknown";
}

std::int64_t Column::missing_count() const {
  return static_cast<std::int64_t>(std::count(missing.begin(), missing.end(), true));
}

const Column* Table::find(const std::string& name) const {
  for (const Column& column : columns)
    if (column.name == name) return &column;
  return nullptr;
}

std::string Table::column_list() const {
  std::string names;
  for (const Column& column : columns) names += (names.empty() ? "" : ", ") + column.name;
  return names;
}

Table Table::take(const std::vector<std::int64_t>& indices) const {
  const std::int64_t n = rows();
  for (const std::int64_t i : indices)
    if (i < 0 || i >= n)
      throw InvalidArgument(source + ": row index " + std::to_string(i) + " out of range (" +
                            std::to_string(n) + " rows)");
  Table out;
  out.source = source;
  for (const Column& column : columns) {
    Column c;
    c.name = column.name;
    c.type = column.type;
    c.text.reserve(indices.size());
    c.numbers.reserve(indices.size());
    c.missing.reserve(indices.size());
    for (const std::int64_t i : indices) {
      const auto k = static_cast<std::size_t>(i);
      c.text.push_back(column.text[k]);
      c.numbers.push_back(column.numbers[k]);
      c.missing.push_back(column.missing[k]);
    }
    out.columns.push_back(std::move(c));
  }
  return out;
}

Table parse_table(const std::string& text, const std::string& source, const TableOptions& options) {
  const char delimiter = options.delimiter;
  if (delimiter == '"' || delimiter == '\n' || delimiter == '\r')
    throw InvalidArgument(source + ": the delimiter cannot be a quote or line break");
  check_text(text, source);
  const detail::CsvDocument doc = detail::parse_document(text, source, delimiter);
  Table table;
  table.source = source;
  table.columns.reserve(doc.header.size());
  for (std::size_t c = 0; c < doc.header.size(); ++c)
    table.columns.push_back(make_column(doc, c, options));
  return table;
}

Table read_table(const std::string& path, const TableOptions& options) {
  return parse_table(detail::read_text(path), path, options);
}

}  // namespace quarry::data
