// Tables for the AutoML run's and the saved model's tests, generated from a seeded generator (so
// no fixture file) as CSV text read back with parse_table: the columns are typed as a file's are.
#pragma once

#include <cmath>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "quarry/automl/matrix.hpp"
#include "quarry/core/rng.hpp"
#include "quarry/data/table.hpp"

namespace quarry::automl::test {

/// `rows` rows of a binary problem: label is "yes" where 2 x1 + x2 + 0.3 noise > 0 (x1, x2
/// standard normal), "no" otherwise; color (red/green/blue) leans towards "yes" for red; noise is
/// a standard normal that has nothing to do with the label. Seeded: the same seed, the same rows.
inline data::Table binary_table(std::int64_t rows, std::uint64_t seed) {
  auto rng = Rng::stream(seed, {hash_name("automl_test::binary")});
  std::ostringstream csv;
  csv.precision(6);
  csv << "x1,x2,color,noise,label\n";
  const char* colors[] = {"red", "green", "blue"};
  for (std::int64_t r = 0; r < rows; ++r) {
    const double x1 = rng.normal(), x2 = rng.normal(), noise = rng.normal();
    const int color = static_cast<int>(rng.below(3));
    const double z = 2 * x1 + x2 + 0.3 * rng.normal() + (color == 0 ? 0.5 : 0.0);
    csv << x1 << ',' << x2 << ',' << colors[color] << ',' << noise << ',' << (z > 0 ? "yes" : "no")
        << '\n';
  }
  return data::parse_table(csv.str(), "binary.csv");
}

/// `rows` rows of a regression problem: y = 4 x1 + sin(3 x2) + 0.1 noise, x1 and x2 uniform in
/// [-1, 1] (one part a line fits, one it does not); noise is uniform and unrelated to y.
inline data::Table regression_table(std::int64_t rows, std::uint64_t seed) {
  auto rng = Rng::stream(seed, {hash_name("automl_test::regression")});
  std::ostringstream csv;
  csv.precision(6);
  csv << "x1,x2,noise,y\n";
  for (std::int64_t r = 0; r < rows; ++r) {
    const double x1 = rng.uniform(-1, 1), x2 = rng.uniform(-1, 1), noise = rng.uniform(-1, 1);
    const double y = 4 * x1 + std::sin(3 * x2) + 0.1 * rng.normal();
    csv << x1 << ',' << x2 << ',' << noise << ',' << y << '\n';
  }
  return data::parse_table(csv.str(), "regression.csv");
}

/// Rows [begin, end) of `table`.
inline data::Table slice(const data::Table& table, std::int64_t begin, std::int64_t end) {
  std::vector<std::int64_t> rows;
  for (std::int64_t r = begin; r < end; ++r) rows.push_back(r);
  return table.take(rows);
}

/// The class index of each row's `column` in `classes` (the label a model was trained on).
inline std::vector<double> class_indices(const data::Table& table, const std::string& column,
                                         const std::vector<std::string>& classes) {
  std::vector<double> y;
  const auto* col = table.find(column);
  for (const auto& text : col->text) {
    double index = -1;
    for (std::size_t c = 0; c < classes.size(); ++c)
      if (classes[c] == text) index = static_cast<double>(c);
    y.push_back(index);
  }
  return y;
}

/// Binary predictions: two columns, 1 - p1 (computed in float, as numpy does) and p1.
inline Matrix binary_predictions(const std::vector<float>& p1) {
  Matrix m(static_cast<std::int64_t>(p1.size()), 2);
  for (std::size_t r = 0; r < p1.size(); ++r) {
    m.at(static_cast<std::int64_t>(r), 0) = 1.0f - p1[r];
    m.at(static_cast<std::int64_t>(r), 1) = p1[r];
  }
  return m;
}

}  // namespace quarry::automl::test
