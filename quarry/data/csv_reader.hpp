// The RFC 4180 reader that read_csv and read_table share (internal to data/): a file's text, its
// records with the line each one starts on, and the header checked (named, unique columns, every
// row as long as the header). See csv.hpp for the accepted syntax.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace quarry::data::detail {

struct CsvRecord {
  std::size_t line = 0;  ///< where the record starts (1-based)
  std::vector<std::string> fields;
};

struct CsvDocument {
  std::string source;  ///< the file, for messages
  std::vector<std::string> header;
  std::size_t header_line = 1;
  std::vector<CsvRecord> rows;  ///< each as long as the header

  const std::string& cell(std::size_t row, std::size_t column) const {
    return rows[row].fields[column];
  }
};

/// Throws InvalidArgument("<source>:<line>: <what>").
[[noreturn]] void fail_at(const std::string& source, std::size_t line, const std::string& what);

/// The bytes of `path`; throws InvalidArgument("cannot open '<path>': <reason>").
std::string read_text(const std::string& path);

/// The records of `text` (a UTF-8 byte order mark is skipped, blank lines too). Throws for an
/// unterminated quote and for text after a closing quote.
std::vector<CsvRecord> parse_records(const std::string& text, const std::string& source,
                                     char delimiter);

/// parse_records, then the first record as the header: throws for an empty document, an empty or
/// duplicate column name, no rows after the header, a row with more or fewer fields.
CsvDocument parse_document(const std::string& text, const std::string& source, char delimiter);

/// The number `s` spells in full ("3", "-1.5e3", "+2"; infinite when out of range), or nullopt.
std::optional<double> parse_number(const std::string& s);

}  // namespace quarry::data::detail
