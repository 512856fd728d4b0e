// read_table / parse_table: column types, missing cells, quoting, and every error the header lists.
#include "quarry/data/table.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/test_util.hpp"

namespace quarry::data {
namespace {

using quarry::testing::error_of;
using quarry::testing::TempDir;
using ::testing::HasSubstr;
using Strings = std::vector<std::string>;
using Flags = std::vector<bool>;

/// `values` with NaN compared equal to NaN.
void expect_numbers(const std::vector<double>& got, const std::vector<double>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (std::isnan(want[i]))
      EXPECT_TRUE(std::isnan(got[i])) << "at " << i << ": " << got[i];
    else
      EXPECT_EQ(got[i], want[i]) << "at " << i;
  }
}

const double kNaN = std::nan("");

TEST(TableParse, ColumnTypes) {
  const Table t = parse_table(
      "n,b,c,mixed\n"
      "1.5, Yes ,red,1\n"
      "-2,no,\"blue\",a\n"
      "+3e1,TRUE,red,2\n"
      "4,false,green,3\n",
      "t.csv");
  EXPECT_EQ(t.source, "t.csv");
  EXPECT_EQ(t.rows(), 4);
  ASSERT_EQ(t.columns.size(), 4U);
  const Column& n = t.columns[0];
  EXPECT_EQ(n.name, "n");
  EXPECT_EQ(n.type, ColumnType::Numeric);
  EXPECT_EQ(n.text, (Strings{"1.5", "-2", "+3e1", "4"}));
  expect_numbers(n.numbers, {1.5, -2, 30, 4});
  const Column& b = t.columns[1];
  EXPECT_EQ(b.type, ColumnType::Boolean);
  EXPECT_EQ(b.text, (Strings{"Yes", "no", "TRUE", "false"}));  // trimmed, as written
  expect_numbers(b.numbers, {1, 0, 1, 0});
  const Column& c = t.columns[2];
  EXPECT_EQ(c.type, ColumnType::Categorical);
  EXPECT_EQ(c.text, (Strings{"red", "blue", "red", "green"}));
  expect_numbers(c.numbers, {kNaN, kNaN, kNaN, kNaN});
  const Column& mixed = t.columns[3];  // numbers kept for the cells that are numbers
  EXPECT_EQ(mixed.type, ColumnType::Categorical);
  expect_numbers(mixed.numbers, {1, kNaN, 2, 3});
  EXPECT_EQ(mixed.missing, (Flags{false, false, false, false}));
  EXPECT_EQ(to_string(ColumnType::Numeric), "numeric");
  EXPECT_EQ(to_string(ColumnType::Boolean), "boolean");
  EXPECT_EQ(to_string(ColumnType::Categorical), "categorical");
}

TEST(TableParse, ZeroAndOneAreNumbersNotBooleans) {
  const Table t = parse_table("flag,word\n0,yes\n1,maybe\n", "t.csv");
  EXPECT_EQ(t.columns[0].type, ColumnType::Numeric);
  EXPECT_EQ(t.columns[1].type, ColumnType::Categorical);  // "maybe" is not a truth value
}

TEST(TableParse, MissingTokensAreMissingInEveryType) {
  const Table t = parse_table(
      "x,y,z,w\n"
      "1,a,yes,\n"
      ",NA,N/A,NaN\n"
      "nan,null,?,\"\"\n"
      "2,b,no,NA\n",
      "m.csv");
  const Column& x = t.columns[0];
  EXPECT_EQ(x.type, ColumnType::Numeric);
  EXPECT_EQ(x.missing, (Flags{false, true, true, false}));
  EXPECT_EQ(x.text, (Strings{"1", "", "", "2"}));
  expect_numbers(x.numbers, {1, kNaN, kNaN, 2});
  EXPECT_EQ(x.missing_count(), 2);
  EXPECT_EQ(t.columns[1].type, ColumnType::Categorical);
  EXPECT_EQ(t.columns[1].missing, (Flags{false, true, true, false}));
  EXPECT_EQ(t.columns[2].type, ColumnType::Boolean);
  expect_numbers(t.columns[2].numbers, {1, kNaN, kNaN, 0});
  // A column with no present cell is numeric, every value missing.
  const Column& w = t.columns[3];
  EXPECT_EQ(w.type, ColumnType::Numeric);
  EXPECT_EQ(w.missing_count(), 4);
  EXPECT_EQ(w.text, (Strings{"", "", "", ""}));
}

TEST(TableParse, MissingTokensAreAnOption) {
  const TableOptions options{.missing = {"-"}};
  const Table t = parse_table("a,b\n-,NA\n3,x\n", "o.csv", options);
  EXPECT_EQ(t.columns[0].missing, (Flags{true, false}));
  EXPECT_EQ(t.columns[0].type, ColumnType::Numeric);
  EXPECT_EQ(t.columns[1].missing, (Flags{false, false}));  // NA is a value now
  EXPECT_EQ(t.columns[1].text, (Strings{"NA", "x"}));
  // The empty cell stays missing whatever the list says.
  EXPECT_EQ(parse_table("a\n1\n\"\"\n", "e.csv", options).columns[0].missing_count(), 1);
}

TEST(TableParse, NonFiniteTextIsNotANumber) {
  const Table t = parse_table("a,b\ninf,1e400\n1,2\n", "f.csv");
  EXPECT_EQ(t.columns[0].type, ColumnType::Categorical);
  EXPECT_EQ(t.columns[1].type, ColumnType::Categorical);
  expect_numbers(t.columns[1].numbers, {kNaN, 2});
}

TEST(TableParse, QuotingLineEndsAndDelimitersAsReadCsv) {
  const Table t = parse_table(
      "\xEF\xBB\xBFnote,\"a, b\"\r\n"
      "\"two\r\nlines\",\"say \"\"hi\"\"\"\r\n"
      "\r\n"
      "one, x \r\n",
      "q.csv");
  EXPECT_EQ(t.columns[0].name, "note");  // the byte order mark is not part of the name
  EXPECT_EQ(t.columns[1].name, "a, b");
  EXPECT_EQ(t.columns[0].text, (Strings{"two\r\nlines", "one"}));
  EXPECT_EQ(t.columns[1].text, (Strings{"say \"hi\"", "x"}));
  const Table tabs = parse_table("a\tb\n1\t\"x\ty\"\n", "t.tsv", {.delimiter = '\t'});
  EXPECT_EQ(tabs.columns[1].text, (Strings{"x\ty"}));
  EXPECT_EQ(tabs.columns[0].type, ColumnType::Numeric);
}

TEST(TableParse, Utf8TextIsAccepted) {
  const Table t = parse_table(
      "city,n\nZ\xC3\xBCrich,1\n\xE6\x9D\xB1\xE4\xBA\xAC,2\n\xF0\x9F\x8C\x8D,3\n", "u.csv");
  EXPECT_EQ(t.columns[0].text,
            (Strings{"Z\xC3\xBCrich", "\xE6\x9D\xB1\xE4\xBA\xAC", "\xF0\x9F\x8C\x8D"}));
}

TEST(TableMethods, FindColumnListAndTake) {
  const Table t = parse_table("a,b,c\n1,x,yes\n2,,no\n3,z,yes\n", "m.csv");
  ASSERT_NE(t.find("b"), nullptr);
  EXPECT_EQ(t.find("b")->name, "b");
  EXPECT_EQ(t.find("B"), nullptr);
  EXPECT_EQ(t.column_list(), "a, b, c");
  const Table s = t.take({2, 0, 2});
  EXPECT_EQ(s.source, "m.csv");
  EXPECT_EQ(s.rows(), 3);
  expect_numbers(s.columns[0].numbers, {3, 1, 3});
  EXPECT_EQ(s.columns[1].text, (Strings{"z", "x", "z"}));
  EXPECT_EQ(s.columns[2].type, ColumnType::Boolean);  // types kept even where they would differ
  const Table missing = t.take({1});
  EXPECT_EQ(missing.columns[1].missing, (Flags{true}));
  EXPECT_EQ(missing.columns[1].type, ColumnType::Categorical);
  EXPECT_EQ(t.take({}).rows(), 0);
  EXPECT_EQ(error_of([&] { t.take({3}); }), "m.csv: row index 3 out of range (3 rows)");
  EXPECT_EQ(Table{}.rows(), 0);
}

TEST(TableRead, ReadsAFileAndNamesItInErrors) {
  TempDir dir;
  const std::string path = dir.file("t.csv");
  {
    std::ofstream out(path, std::ios::binary);
    out << "a,b\n1,x\n2,y\n";
  }
  const Table t = read_table(path);
  EXPECT_EQ(t.source, path);
  EXPECT_EQ(t.rows(), 2);
  EXPECT_EQ(t.columns[1].text, (Strings{"x", "y"}));
  EXPECT_EQ(error_of([&] { read_table(dir.file("none.csv")); }),
            "cannot open '" + dir.file("none.csv") + "': No such file or directory");
  {
    std::ofstream out(path, std::ios::binary);
    out << "a,b\n1,x\n2\n";
  }
  EXPECT_EQ(error_of([&] { read_table(path); }), path + ":3: 1 fields, but the header has 2");
}

TEST(TableErrors, MalformedDocuments) {
  const auto error = [](const std::string& text) {
    return error_of([&] { parse_table(text, "e.csv"); });
  };
  EXPECT_EQ(error(""), "e.csv:1: empty file; a header row naming the columns is required");
  EXPECT_EQ(error("\n\r\n"), "e.csv:1: empty file; a header row naming the columns is required");
  EXPECT_EQ(error("a,b\n"), "e.csv:2: no data rows after the header");
  EXPECT_EQ(error("\na,b\n\n"), "e.csv:3: no data rows after the header");
  EXPECT_EQ(error("a,b,a\n1,2,3\n"), "e.csv:1: columns 1 and 3 are both named 'a'");
  EXPECT_EQ(error("a,,c\n1,2,3\n"), "e.csv:1: column 2 has no name");
  EXPECT_EQ(error("a,b\n1,2\n\n\"x\ny\",3,4\n"), "e.csv:4: 3 fields, but the header has 2");
  EXPECT_EQ(error("a,b\n1,2\n3\n"), "e.csv:3: 1 fields, but the header has 2");
  EXPECT_EQ(error("a,b\n1,2\n\"open,3\n4,5\n"),
            "e.csv:3: field 1 opens a quote that is never closed");
  EXPECT_EQ(error("a,b\n1,\"x\"y\n"), "e.csv:2: text after the closing quote of field 2");
  EXPECT_EQ(error_of([] { parse_table("a\n1\n", "d.csv", {.delimiter = '"'}); }),
            "d.csv: the delimiter cannot be a quote or line break");
  EXPECT_EQ(error_of([] { parse_table("a\n1\n", "d.csv", {.delimiter = '\n'}); }),
            "d.csv: the delimiter cannot be a quote or line break");
}

TEST(TableErrors, NotText) {
  const auto error = [](const std::string& text) {
    return error_of([&] { parse_table(text, "b.bin"); });
  };
  EXPECT_EQ(error(std::string("a,b\n1,2\n3,\0\n", 12)),
            "b.bin:3: not a text file (a NUL byte at offset 10)");
  EXPECT_EQ(error("a,b\n1,\x80\n"), "b.bin:2: not a text file (invalid UTF-8 at offset 6)");
  EXPECT_EQ(error("a\n\xC0\xAF\n"),
            "b.bin:2: not a text file (invalid UTF-8 at offset 2)");  // overlong
  EXPECT_EQ(error("a\n\xE0\x80\xAF\n"), "b.bin:2: not a text file (invalid UTF-8 at offset 2)");
  EXPECT_EQ(error("a\n\xED\xA0\x80\n"),
            "b.bin:2: not a text file (invalid UTF-8 at offset 2)");  // surrogate
  EXPECT_EQ(error("a\n\xF4\x90\x80\x80\n"), "b.bin:2: not a text file (invalid UTF-8 at offset 2)");
  EXPECT_EQ(error("a\n\xFF\n"), "b.bin:2: not a text file (invalid UTF-8 at offset 2)");
  EXPECT_EQ(error("a\nx\xC3"),
            "b.bin:2: not a text file (invalid UTF-8 at offset 3)");  // cut short
  EXPECT_EQ(error("a\n\xC3(\n"), "b.bin:2: not a text file (invalid UTF-8 at offset 2)");
  // Latin-1 text (a lone 0xE9 for "é") is not UTF-8.
  EXPECT_THAT(error("name\ncaf\xE9\n"), HasSubstr("invalid UTF-8"));
}

TEST(TableErrors, OnlyTheFirst64KiBAreCheckedForText) {
  std::string text = "a\nxx\n";  // 65,535 bytes ending in a line break
  while (text.size() < 64 * 1024 - 1) text += "x\n";
  ASSERT_EQ(text.size(), 64U * 1024 - 1);
  // A two-byte character that starts inside the checked part and ends past it is fine.
  const std::string straddling = text + "\xC3\xA9\n";
  const Table t = parse_table(straddling, "big.csv");
  EXPECT_EQ(t.columns[0].text.back(), "\xC3\xA9");
  // Invalid bytes past the first 64 KiB are not looked at.
  const std::string late = text + "\n\xFF\n";
  EXPECT_EQ(parse_table(late, "big.csv").columns[0].text.back(), "\xFF");
  // A NUL byte within them is.
  std::string early = text;
  early[early.size() - 1] = '\0';
  EXPECT_THAT(error_of([&] { parse_table(early, "big.csv"); }),
              HasSubstr("not a text file (a NUL byte at offset 65534)"));
}

}  // namespace
}  // namespace quarry::data
