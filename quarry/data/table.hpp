// Typed tables for tabular AutoML: a CSV file (RFC 4180, same reader as read_csv) read column by
// column, keeping every cell's text, its number when it is one, and whether it is missing. Nothing
// is encoded or imputed here: automl/ decides what each column becomes.
//
//   auto t = quarry::data::read_table("penguins.csv");
//   const auto* mass = t.find("body_mass_g");  // type Numeric, numbers[i] NaN where missing
//
// Missing cells: empty, or one of TableOptions::missing (default NA, N/A, NaN, nan, null, ?).
// Column types: Numeric when every present cell is a number; Boolean when every present cell is
// one of true/false/yes/no (any case); Categorical otherwise. A column with no present cell is
// Numeric (all missing).
//
// Errors are InvalidArgument of one line naming the file (and line, column where it applies): a
// file that cannot be opened, an empty file (no header), a header without rows, a duplicate or
// empty column name, a row with more or fewer fields than the header, an unterminated quote, a
// file that is not text (a NUL byte, or invalid UTF-8 in its first 64 KiB).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace quarry::data {

enum class ColumnType { Numeric, Boolean, Categorical };
std::string to_string(ColumnType type);

struct Column {
  std::string name;
  ColumnType type = ColumnType::Numeric;
  std::vector<std::string> text;  ///< every cell as written (trimmed); "" where missing
  std::vector<double> numbers;  ///< the cell's number (Boolean: 1 / 0); NaN when missing or not one
  std::vector<bool> missing;    ///< true where the cell is missing

  std::int64_t rows() const { return static_cast<std::int64_t>(text.size()); }
  std::int64_t missing_count() const;
};

struct Table {
  std::string source;  ///< the file, for messages
  std::vector<Column> columns;

  std::int64_t rows() const { return columns.empty() ? 0 : columns.front().rows(); }
  /// The column named `name`, or nullptr.
  const Column* find(const std::string& name) const;
  /// The names of every column, in file order ("a, b, c"), for messages.
  std::string column_list() const;
  /// The rows at `indices`, in that order (a copy; types kept).
  Table take(const std::vector<std::int64_t>& indices) const;
};

struct TableOptions {
  char delimiter = ',';
  std::vector<std::string> missing = {"NA", "N/A", "NaN", "nan", "null", "?"};  ///< and ""
};

/// Reads `path`; see the errors above.
Table read_table(const std::string& path, const TableOptions& options = {});

/// Parses `text` (a whole CSV document) as read_table does; `source` names it in messages.
Table parse_table(const std::string& text, const std::string& source,
                  const TableOptions& options = {});

}  // namespace quarry::data
