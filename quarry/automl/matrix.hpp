// A dense row-major block of floats: the features models train on (rows x features), and what
// they predict (rows x classes of probabilities, or rows x 1 values for regression). Missing
// values are NaN (XGBoost reads them as missing; other families see imputed data).
#pragma once

#include <cstdint>
#include <vector>

namespace quarry::automl {

struct Matrix {
  std::int64_t rows = 0, cols = 0;
  std::vector<float> values;  ///< rows * cols, row-major

  Matrix() = default;
  Matrix(std::int64_t r, std::int64_t c, float fill = 0.0f)
      : rows(r), cols(c), values(static_cast<std::size_t>(r * c), fill) {}

  float& at(std::int64_t r, std::int64_t c) {
    return values[static_cast<std::size_t>(r * cols + c)];
  }
  float at(std::int64_t r, std::int64_t c) const {
    return values[static_cast<std::size_t>(r * cols + c)];
  }
  const float* row(std::int64_t r) const { return values.data() + r * cols; }
  float* row(std::int64_t r) { return values.data() + r * cols; }
  /// The rows at `indices`, in that order.
  Matrix take(const std::vector<std::int64_t>& indices) const;
};

}  // namespace quarry::automl
