// The shared RFC 4180 reader (csv_reader.hpp): records, the header's checks, numbers.
#include "quarry/data/csv_reader.hpp"

#include <cerrno>
#include <charconv>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <system_error>
#include <utility>

#include "quarry/core/error.hpp"

namespace quarry::data::detail {

namespace {

/// RFC 4180 records, with the line each one starts on.
class Parser {
 public:
  Parser(const std::string& text, const std::string& source, char delimiter)
      : text_(text), source_(source), delimiter_(delimiter) {}

  std::vector<CsvRecord> records() {
    if (text_.rfind("\xEF\xBB\xBF", 0) == 0) pos_ = 3;  // UTF-8 byte order mark
    std::vector<CsvRecord> records;
    while (!at_end()) {
      if (at_line_end())
        skip_line_end();  // a blank line
      else
        records.push_back(record());
    }
    return records;
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

  CsvRecord record() {
    CsvRecord row{line_, {}};
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

  std::string quoted(const CsvRecord& row) {
    std::string value;
    ++pos_;  // the opening quote
    while (true) {
      const std::size_t quote = text_.find('"', pos_);
      if (quote == std::string::npos)
        fail_at(source_, row.line,
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
      fail_at(source_, line_,
              "text after the closing quote of field " + std::to_string(row.fields.size() + 1));
    return value;
  }

  const std::string& text_;
  const std::string& source_;
  char delimiter_;
  std::size_t pos_ = 0, line_ = 1;
};

}  // namespace

void fail_at(const std::string& source, std::size_t line, const std::string& what) {
  throw InvalidArgument(source + ":" + std::to_string(line) + ": " + what);
}

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

std::vector<CsvRecord> parse_records(const std::string& text, const std::string& source,
                                     char delimiter) {
  return Parser(text, source, delimiter).records();
}

CsvDocument parse_document(const std::string& text, const std::string& source, char delimiter) {
  std::vector<CsvRecord> rows = parse_records(text, source, delimiter);
  if (rows.empty()) fail_at(source, 1, "empty file; a header row naming the columns is required");
  CsvDocument doc{source, std::move(rows.front().fields), rows.front().line, {}};
  rows.erase(rows.begin());
  std::map<std::string, std::size_t> seen;
  for (std::size_t c = 0; c < doc.header.size(); ++c) {
    if (doc.header[c].empty())
      fail_at(source, doc.header_line, "column " + std::to_string(c + 1) + " has no name");
    if (const auto [it, fresh] = seen.emplace(doc.header[c], c + 1); !fresh)
      fail_at(source, doc.header_line,
              "columns " + std::to_string(it->second) + " and " + std::to_string(c + 1) +
                  " are both named '" + doc.header[c] + "'");
  }
  if (rows.empty()) fail_at(source, doc.header_line + 1, "no data rows after the header");
  for (const CsvRecord& row : rows)
    if (row.fields.size() != doc.header.size())
      fail_at(source, row.line,
              std::to_string(row.fields.size()) + " fields, but the header has " +
                  std::to_string(doc.header.size()));
  doc.rows = std::move(rows);
  return doc;
}

std::optional<double> parse_number(const std::string& s) {
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

}  // namespace quarry::data::detail
