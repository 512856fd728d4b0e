#include "quarry/data/csv.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

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

/// Writes `text` to `name` in `dir` and returns its path.
std::string write(const TempDir& dir, const std::string& name, const std::string& text) {
  const std::string path = dir.file(name);
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path);
  return path;
}

TEST(CsvRead, NumericCategoricalAndQuotedFields) {
  TempDir dir;
  const std::string path = write(dir, "mixed.csv",
                                 "size,color,label,name\n"
                                 "1.5, red ,yes,\"Smith, J\"\n"
                                 "-2,\"blue\",no,plain\n"
                                 "+3e1,red,yes,\"say \"\"hi\"\"\"\n");
  const Dataset d = read_csv(path, {.target = "label"});
  EXPECT_EQ(d.feature_names, (Strings{"size", "color=blue", "color=red", "name=Smith, J",
                                      "name=plain", "name=say \"hi\""}));
  EXPECT_EQ(d.shape, (std::vector<std::int64_t>{6}));
  EXPECT_EQ(d.x, (std::vector<float>{1.5f, 0, 1, 1, 0, 0,   //
                                     -2.0f, 1, 0, 0, 1, 0,  //
                                     30.0f, 0, 1, 0, 0, 1}));
  EXPECT_EQ(d.num_classes, 2);
  EXPECT_EQ(d.class_names, (Strings{"no", "yes"}));
  EXPECT_EQ(d.y, (std::vector<float>{1, 0, 1}));
  EXPECT_EQ(d.source, path);
}

TEST(CsvRead, QuotedFieldsMaySpanLinesAndLineEndsMayBeCrLf) {
  TempDir dir;
  const std::string path = write(dir, "crlf.csv",
                                 "\xEF\xBB\xBFnote,y\r\n"
                                 "\"two\r\nlines\",1.25\r\n"
                                 "\r\n"
                                 "one,2.5\r\n");
  const Dataset d = read_csv(path, {.target = "y"});
  EXPECT_EQ(d.feature_names, (Strings{"note=one", "note=two\r\nlines"}));
  EXPECT_EQ(d.y, (std::vector<float>{1.25f, 2.5f}));
}

TEST(CsvRead, OtherDelimiters) {
  TempDir dir;
  const std::string path = write(dir, "t.tsv", "a\tb\ty\n1\t2\t0\n3\t4\t1\n");
  const Dataset d = read_csv(path, {.target = "y", .delimiter = '\t'});
  EXPECT_EQ(d.x, (std::vector<float>{1, 2, 3, 4}));
  const std::string semi = write(dir, "s.csv", "a;y\n\"x;z\";0\nw;1\n");
  EXPECT_EQ(read_csv(semi, {.target = "y", .delimiter = ';'}).feature_names,
            (Strings{"a=w", "a=x;z"}));
}

TEST(CsvRead, AutoTaskPicksClassificationForFewIntegerLabels) {
  TempDir dir;
  const std::string path = write(dir, "int.csv", "x,y\n1,10\n2,2\n3,3\n4,10\n");
  const Dataset d = read_csv(path, {.target = "y"});
  EXPECT_EQ(d.num_classes, 3);
  EXPECT_EQ(d.class_names, (Strings{"2", "3", "10"}));  // numeric order, not text order
  EXPECT_EQ(d.y, (std::vector<float>{2, 0, 1, 2}));
}

TEST(CsvRead, AutoTaskPicksRegressionForFractionsOrManyValues) {
  TempDir dir;
  const std::string fractions = write(dir, "f.csv", "x,y\n1,0.5\n2,1\n3,0.5\n");
  const Dataset f = read_csv(fractions, {.target = "y"});
  EXPECT_EQ(f.num_classes, 0);
  EXPECT_TRUE(f.class_names.empty());
  EXPECT_EQ(f.y, (std::vector<float>{0.5f, 1.0f, 0.5f}));

  std::string many = "x,y\n";
  for (int i = 0; i <= kMaxAutoClasses; ++i) many += "1," + std::to_string(i) + "\n";
  const Dataset m = read_csv(write(dir, "m.csv", many), {.target = "y"});
  EXPECT_EQ(m.num_classes, 0);
  EXPECT_EQ(m.y.back(), static_cast<float>(kMaxAutoClasses));
  many += "1,0\n";  // still 21 distinct values
  EXPECT_EQ(read_csv(write(dir, "m2.csv", many), {.target = "y"}).num_classes, 0);
}

TEST(CsvRead, AutoTaskPicksClassificationForWords) {
  TempDir dir;
  const std::string path = write(dir, "w.csv", "x,y\n1,b\n2,a\n3,2\n");
  const Dataset d = read_csv(path, {.target = "y"});
  EXPECT_EQ(d.class_names, (Strings{"2", "a", "b"}));
  EXPECT_EQ(d.y, (std::vector<float>{2, 1, 0}));
}

TEST(CsvRead, ExplicitTaskOverridesDetection) {
  TempDir dir;
  const std::string ints = write(dir, "i.csv", "x,y\n1,1\n2,0\n");
  EXPECT_EQ(read_csv(ints, {.target = "y", .task = Task::Regression}).num_classes, 0);
  const std::string floats = write(dir, "f.csv", "x,y\n1,0.5\n2,1.5\n3,0.5\n");
  const Dataset c = read_csv(floats, {.target = "y", .task = Task::Classification});
  EXPECT_EQ(c.class_names, (Strings{"0.5", "1.5"}));
  EXPECT_EQ(c.y, (std::vector<float>{0, 1, 0}));
  const std::string words = write(dir, "w.csv", "x,y\n1,2\n2,big\n");
  EXPECT_EQ(error_of([&] { read_csv(words, {.target = "y", .task = Task::Regression}); }),
            words + ":3: target 'y' has 'big', not a number (a regression target must be numeric)");
}

TEST(CsvRead, RaggedRowNamesItsLine) {
  TempDir dir;
  const std::string path = write(dir, "ragged.csv",
                                 "a,b,y\n"
                                 "1,2,0\n"
                                 "\n"
                                 "\"two\nlines\",3,1\n"
                                 "4,5\n");
  EXPECT_EQ(error_of([&] { read_csv(path, {.target = "y"}); }),
            path + ":6: 2 fields, but the header has 3");
  const std::string longer = write(dir, "long.csv", "a,y\n1,0,9\n");
  EXPECT_EQ(error_of([&] { read_csv(longer, {.target = "y"}); }),
            longer + ":2: 3 fields, but the header has 2");
}

TEST(CsvRead, AnErrorQuotingALineBreakIsOneLine) {
  // Found by fuzz/csv: a quoted column name's line break went into the message as it was.
  TempDir dir;
  const std::string path = write(dir, "lines.csv", "\"two\nlines\",y\n1,2\n");
  const std::string error = error_of([&] { read_csv(path, {.target = "z"}); });
  EXPECT_THAT(error, HasSubstr("no target column 'z'"));
  EXPECT_THAT(error, HasSubstr("two\\nlines"));
  EXPECT_EQ(error.find('\n'), std::string::npos) << error;
}

TEST(CsvRead, MissingTargetColumnListsTheColumns) {
  TempDir dir;
  const std::string path = write(dir, "t.csv", "sepal,petal,species\n1,2,a\n");
  EXPECT_EQ(error_of([&] { read_csv(path, {.target = "class"}); }),
            path + ":1: no target column 'class' (columns: sepal, petal, species)");
  EXPECT_THAT(error_of([&] { read_csv(path, {}); }), HasSubstr("options.target must name"));
}

TEST(CsvRead, MissingValuesAreErrorsNotImputed) {
  TempDir dir;
  const std::string empty = write(dir, "e.csv", "a,b,y\n1,2,0\n3,,1\n");
  EXPECT_EQ(error_of([&] { read_csv(empty, {.target = "y"}); }),
            empty +
                ":3: column 'b' is empty, a missing value; Quarry does not impute (fill or drop "
                "the row)");
  const std::string na = write(dir, "na.csv", "a,y\nNA,0\n1,1\n");
  EXPECT_THAT(error_of([&] { read_csv(na, {.target = "y"}); }),
              HasSubstr(na + ":2: column 'a' has 'NA', a missing value"));
  const std::string target = write(dir, "t.csv", "a,y\n1,0\n1,\n");
  EXPECT_THAT(error_of([&] { read_csv(target, {.target = "y"}); }),
              HasSubstr(target + ":3: column 'y' is empty"));
}

TEST(CsvRead, MalformedFiles) {
  TempDir dir;
  const std::string empty = write(dir, "empty.csv", "\n\n");
  EXPECT_EQ(error_of([&] { read_csv(empty, {.target = "y"}); }),
            empty + ":1: empty file; a header row naming the columns is required");
  const std::string header_only = write(dir, "h.csv", "a,y\n");
  EXPECT_EQ(error_of([&] { read_csv(header_only, {.target = "y"}); }),
            header_only + ":2: no data rows after the header");
  const std::string open_quote = write(dir, "q.csv", "a,y\n1,0\n\"oops,1\n2,0\n");
  EXPECT_EQ(error_of([&] { read_csv(open_quote, {.target = "y"}); }),
            open_quote + ":3: field 1 opens a quote that is never closed");
  const std::string after_quote = write(dir, "aq.csv", "a,y\n\"x\"z,0\n");
  EXPECT_EQ(error_of([&] { read_csv(after_quote, {.target = "y"}); }),
            after_quote + ":2: text after the closing quote of field 1");
  const std::string duplicate = write(dir, "d.csv", "a,y,a\n1,0,2\n");
  EXPECT_EQ(error_of([&] { read_csv(duplicate, {.target = "y"}); }),
            duplicate + ":1: columns 1 and 3 are both named 'a'");
  const std::string huge = write(dir, "big.csv", "a,y\n1e39,0\n");
  EXPECT_EQ(error_of([&] { read_csv(huge, {.target = "y"}); }),
            huge + ":2: column 'a' has '1e39', not a finite float");
  EXPECT_EQ(error_of([&] { read_csv(dir.file("none.csv"), {.target = "y"}); }),
            "cannot open '" + dir.file("none.csv") + "': No such file or directory");
}

}  // namespace
}  // namespace quarry::data
