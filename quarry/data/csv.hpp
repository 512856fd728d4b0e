// Tabular data from a CSV file (RFC 4180): a header row naming the columns, then one example per
// row. The target column becomes y; every other column becomes features of x.
//
//   auto iris = quarry::data::read_csv("iris.csv", {.target = "species"});
//   // iris.num_classes == 3, iris.class_names == {"setosa", "versicolor", "virginica"}
//
// Fields: separated by `delimiter`; a field in double quotes may hold the delimiter, line breaks
// and doubled quotes ("say ""hi"""). Spaces around unquoted fields are trimmed; blank lines are
// skipped; a UTF-8 byte order mark is ignored; line ends may be \n or \r\n.
//
// Features: a column whose every cell is a number ("3", "-1.5e3", "+2") is one feature; any other
// column is categorical and one-hot encoded, one feature per distinct value in sorted order, named
// "<column>=<value>" ("color=red").
//
// Missing values: an empty cell or NA, N/A, NaN, nan, null in any used column is an error naming
// the file, line and column. Quarry does not impute: fill or drop such rows before the search.
//
// Target: classification maps the labels, sorted (numerically when all are numbers), to class
// indices 0 .. k-1 and keeps them in class_names; regression keeps the numbers. Task::Auto picks
// classification when a label is not a number, or when every label is an integer and there are at
// most kMaxAutoClasses distinct ones; regression otherwise.
//
// Errors are InvalidArgument of one line, "<file>:<line>: <what>": an empty file, a row with more
// or fewer fields than the header, a target column that does not exist (naming those that do), an
// unterminated quote, a missing or non-finite value.
#pragma once

#include <cstdint>
#include <string>

#include "quarry/data/dataset.hpp"

namespace quarry::data {

enum class Task { Auto, Classification, Regression };

struct CsvOptions {
  std::string target;      ///< the column to predict (required)
  char delimiter = ',';    ///< field separator (not a quote or line break)
  Task task = Task::Auto;  ///< how to read the target; see above
};

/// Task::Auto reads an integer target with at most this many distinct values as classes.
inline constexpr std::int64_t kMaxAutoClasses = 20;

/// The rows of `path` as a Dataset: shape {features}, feature_names, y, num_classes (0 for
/// regression) and class_names, source = path.
Dataset read_csv(const std::string& path, const CsvOptions& options);

}  // namespace quarry::data
