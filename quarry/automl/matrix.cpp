#include "quarry/automl/matrix.hpp"

#include <algorithm>

namespace quarry::automl {

Matrix Matrix::take(const std::vector<std::int64_t>& indices) const {
  Matrix out(static_cast<std::int64_t>(indices.size()), cols);
  for (std::size_t i = 0; i < indices.size(); ++i)
    std::copy_n(row(indices[i]), cols, out.row(static_cast<std::int64_t>(i)));
  return out;
}

}  // namespace quarry::automl
