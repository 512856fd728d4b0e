// The shape of one example ({1, 28, 28} for an image, {features} for a table row): its size and
// its text for messages.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace quarry::data {

/// "{1, 28, 28}".
inline std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string text = "{";
  for (std::size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "}";
}

/// The number of values in one example of this shape (1 for {}).
inline std::int64_t shape_size(const std::vector<std::int64_t>& shape) {
  std::int64_t n = 1;
  for (const std::int64_t d : shape) n *= d;
  return n;
}

}  // namespace quarry::data
