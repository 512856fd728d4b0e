// Datasets: examples held in memory as one dense float block, loaded once per process and shared
// read-only by every trial that runs in it (parallel trials are threads of one process).
//
//   auto fm = quarry::data::load_idx_folder(quarry::data::kFashionMnistFolder);  // scaled to [0,
//   1] auto [train, val] = quarry::data::split(fm.train, {.validation_fraction = 0.2, .seed = 7});
//
// Targets are floats: a class index (0 .. num_classes-1) for classification, the value for
// regression.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace quarry::data {

struct Dataset {
  std::vector<std::int64_t> shape;  ///< of ONE example: {1, 28, 28} (images), {features} (tables)
  std::vector<float> x;             ///< rows() * row_size() values, row-major
  std::vector<float> y;             ///< one target per row
  std::int64_t num_classes = 0;     ///< 0 for regression
  std::vector<std::string> feature_names;  ///< tabular data: one per column of x
  std::string source;  ///< where it came from, for messages ("train-images...gz")
  /// Classification: the label of each class index when known (read_csv), else empty.
  std::vector<std::string> class_names;

  std::int64_t rows() const { return static_cast<std::int64_t>(y.size()); }
  /// Values per example: the product of `shape`.
  std::int64_t row_size() const;
  /// The rows at `indices`, in that order (a copy).
  Dataset take(const std::vector<std::int64_t>& indices) const;
  /// The first `count` rows (a copy); count is clamped to rows().
  Dataset head(std::int64_t count) const;
};

struct SplitOptions {
  double validation_fraction = 0.2;  ///< in (0, 1)
  std::uint64_t seed = 0;
  bool stratify = true;  ///< keep class proportions (classification only)
};
struct Split {
  Dataset train, validation;
};
/// A seeded random split; throws InvalidArgument for a fraction outside (0, 1) or a split that
/// leaves either part empty. The validation part holds round(fraction * rows) rows; stratified,
/// each class gives floor(fraction * its rows) or one more (largest remainders first), so every
/// class is within one row of its share. Both parts keep the rows' original order. The draws come
/// from Rng::stream(seed, {hash_name("data::split")}).
Split split(const Dataset& all, const SplitOptions& options);
/// The rows of `all` that split(all, options) puts in the validation part, ascending (to find
/// the source rows of a split's part, e.g. the lines of a CSV file). Throws as split does.
std::vector<std::int64_t> validation_indices(const Dataset& all, const SplitOptions& options);

/// The rows of `first` followed by those of `second` (a copy; the split's parts put back
/// together). Throws InvalidArgument when their example shapes or class counts differ.
Dataset concat(const Dataset& first, const Dataset& second);

/// Divides every value by `max` (images: 255 -> [0, 1]).
void scale(Dataset& d, float max);

/// Per-feature standardisation fitted on training data and applied to any data of that shape.
struct Standardizer {
  std::vector<float> mean, stddev;  ///< stddev of a constant feature is taken as 1
  static Standardizer fit(const Dataset& train);
  void apply(Dataset& d) const;
};

/// Fashion-MNIST (or MNIST) from a folder holding the four IDX files, gzip or plain:
/// {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]. Images are scaled to [0, 1], shape {1, 28,
/// 28}; class_names stay empty (kFashionMnistClasses names Fashion-MNIST's labels). When
/// the folder or a file is missing, the error names them and, for a folder a Debian
/// package provides (debian_package_of), the package to install.
struct TrainTest {
  Dataset train, test;
};
TrainTest load_idx_folder(const std::string& folder);
/// The same, naming `package` (when not empty) in the error for a missing folder or file.
TrainTest load_idx_folder(const std::string& folder, const std::string& package);
/// Where Debian's dataset-fashion-mnist package puts the files.
inline constexpr const char* kFashionMnistFolder = "/usr/share/datasets/fashion-mnist";
/// Fashion-MNIST's ten classes, by label (Xiao, Rasul & Vollgraf, 2017).
inline const std::vector<std::string> kFashionMnistClasses = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
/// The Debian package that provides `folder` (dataset-fashion-mnist for kFashionMnistFolder, with
/// or without a trailing slash), or "" when none does.
std::string debian_package_of(const std::string& folder);

}  // namespace quarry::data
