// IDX files, the format of MNIST and Fashion-MNIST (LeCun et al.,
// http://yann.lecun.com/exdb/mnist/): a 4-byte magic number {0, 0, type, dims}, `dims` big-endian
// 32-bit sizes, then the values in row-major order. Files may be gzip-compressed or plain; zlib
// reads both the same way.
//
//   auto images = quarry::data::read_idx("train-images-idx3-ubyte.gz");  // dims {60000, 28, 28}
//   auto train = quarry::data::idx_dataset("train-images-idx3-ubyte.gz",
//                                          "train-labels-idx1-ubyte.gz");
//
// Only unsigned byte data (type 0x08) is read; the other IDX types (signed byte, short, int,
// float, double) are rejected by name. Every problem is an InvalidArgument of one line that names
// the file: "<path>: truncated: expected 47040000 data bytes, got 1000", "<path>: not an IDX file
// (magic 0x1f8b0803)", "cannot open '<path>': No such file or directory".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "quarry/data/dataset.hpp"

namespace quarry::data {

/// The IDX type code of unsigned bytes, the only one read.
inline constexpr std::uint8_t kIdxUnsignedByte = 0x08;

struct IdxArray {
  std::vector<std::int64_t> dims;  ///< 1 to 4 sizes, outermost first
  std::uint8_t type = kIdxUnsignedByte;
  std::vector<std::uint8_t> bytes;  ///< the product of dims values, row-major
};

/// Reads one IDX file (gzip or plain). Checks the magic number, that the type is unsigned byte and
/// that the data is exactly the product of the dimensions long (no truncation, no trailing bytes).
IdxArray read_idx(const std::string& path);

/// Images (n x rows x cols, unsigned bytes) and their labels (n) as a Dataset: shape {1, rows,
/// cols}, x scaled to [0, 1], y the labels, num_classes = largest label + 1, source = images_path.
/// Throws InvalidArgument naming both files when the counts differ.
Dataset idx_dataset(const std::string& images_path, const std::string& labels_path);

}  // namespace quarry::data
