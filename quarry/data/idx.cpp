#include "quarry/data/idx.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <string>
#include <system_error>

#include "quarry/core/error.hpp"

namespace quarry::data {

namespace {

/// Values an IDX header may announce before we call it corrupt (16 GiB of bytes).
constexpr std::int64_t kMaxIdxValues = std::int64_t{1} << 34;

std::string hex(std::uint32_t value, int digits) {
  std::array<char, 16> buffer{};
  std::snprintf(buffer.data(), buffer.size(), "0x%0*x", digits, value);
  return buffer.data();
}

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw InvalidArgument(path + ": " + what);
}

/// A gzip or plain file read through zlib, closed on scope exit.
class GzReader {
 public:
  explicit GzReader(const std::string& path) : path_(path) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec))
      throw InvalidArgument("cannot open '" + path + "': Is a directory");
    errno = 0;
    file_ = gzopen(path.c_str(), "rb");
    if (!file_)
      throw InvalidArgument("cannot open '" + path + "': " +
                            (errno ? std::generic_category().message(errno) : "out of memory"));
  }
  GzReader(const GzReader&) = delete;
  GzReader& operator=(const GzReader&) = delete;
  ~GzReader() { gzclose(file_); }

  /// Reads up to `n` bytes, fewer only at the end of the file.
  std::size_t read(std::uint8_t* buffer, std::size_t n) {
    std::size_t done = 0;
    while (done < n) {
      const auto chunk = static_cast<unsigned>(std::min<std::size_t>(n - done, 1u << 24));
      const int got = gzread(file_, buffer + done, chunk);
      if (got < 0) fail(path_, "read error: " + error_message());
      if (got == 0) break;
      done += static_cast<std::size_t>(got);
    }
    return done;
  }

  /// True when the file ended in the middle of a gzip stream.
  bool truncated_stream() {
    int code = Z_OK;
    gzerror(file_, &code);
    return code == Z_BUF_ERROR;
  }

 private:
  /// zlib's message without the "<path>: " it puts in front.
  std::string error_message() {
    int code = Z_OK;
    std::string message = gzerror(file_, &code);
    const std::string prefix = path_ + ": ";
    if (message.rfind(prefix, 0) == 0) message.erase(0, prefix.size());
    return message;
  }

  std::string path_;
  gzFile file_ = nullptr;
};

const char* type_name(std::uint8_t type) {
  switch (type) {
    case 0x08:
      return "unsigned byte";
    case 0x09:
      return "signed byte";
    case 0x0B:
      return "short";
    case 0x0C:
      return "int";
    case 0x0D:
      return "float";
    case 0x0E:
      return "double";
    default:
      return nullptr;
  }
}

/// The magic number and dimensions; leaves `in` at the first data byte.
IdxArray read_header(GzReader& in, const std::string& path) {
  std::array<std::uint8_t, 4> magic{};
  const std::size_t got = in.read(magic.data(), magic.size());
  if (got < magic.size())
    fail(path, "not an IDX file (" + std::to_string(got) + " bytes, shorter than the header)");
  const std::uint32_t word = (std::uint32_t{magic[0]} << 24) | (std::uint32_t{magic[1]} << 16) |
                             (std::uint32_t{magic[2]} << 8) | magic[3];
  if (magic[0] != 0 || magic[1] != 0 || !type_name(magic[2]) || magic[3] < 1 || magic[3] > 4)
    fail(path, "not an IDX file (magic " + hex(word, 8) + ")");
  if (magic[2] != kIdxUnsignedByte)
    fail(path, "IDX type " + hex(magic[2], 2) + " (" + type_name(magic[2]) +
                   ") is not supported; only unsigned byte (0x08) data is");
  IdxArray array;
  array.type = magic[2];
  std::vector<std::uint8_t> sizes(4u * magic[3]);
  const std::size_t size_bytes = in.read(sizes.data(), sizes.size());
  if (size_bytes < sizes.size())
    fail(path, "truncated header: expected " + std::to_string(sizes.size()) +
                   " bytes of dimensions, got " + std::to_string(size_bytes));
  for (std::size_t i = 0; i < sizes.size(); i += 4)
    array.dims.push_back((std::int64_t{sizes[i]} << 24) | (std::int64_t{sizes[i + 1]} << 16) |
                         (std::int64_t{sizes[i + 2]} << 8) | sizes[i + 3]);
  return array;
}

std::string dims_text(const std::vector<std::int64_t>& dims) {
  std::string text;
  for (std::int64_t d : dims) text += (text.empty() ? "" : " x ") + std::to_string(d);
  return text;
}

/// The number of values the dimensions announce; throws past kMaxIdxValues.
std::int64_t value_count(const IdxArray& array, const std::string& path) {
  std::int64_t count = 1;
  for (std::int64_t d : array.dims) {
    if (d != 0 && count > kMaxIdxValues / d)
      fail(path, "dimensions " + dims_text(array.dims) + " exceed " +
                     std::to_string(kMaxIdxValues) + " values (corrupt header?)");
    count *= d;
  }
  return count;
}

/// Reads exactly `expected` data bytes, then checks that nothing follows.
void read_data(GzReader& in, IdxArray& array, std::int64_t expected, const std::string& path) {
  const auto want = static_cast<std::size_t>(expected);
  array.bytes.reserve(std::min<std::size_t>(want, std::size_t{1} << 28));
  while (array.bytes.size() < want) {
    const std::size_t before = array.bytes.size();
    const std::size_t ask = std::min<std::size_t>(want - before, std::size_t{1} << 24);
    array.bytes.resize(before + ask);
    const std::size_t got = in.read(array.bytes.data() + before, ask);
    array.bytes.resize(before + got);
    if (got < ask)
      fail(path, "truncated: expected " + std::to_string(want) + " data bytes, got " +
                     std::to_string(array.bytes.size()));
  }
  std::vector<std::uint8_t> scratch(1u << 16);
  std::size_t trailing = 0;
  for (std::size_t got; (got = in.read(scratch.data(), scratch.size())) > 0;) trailing += got;
  if (trailing > 0)
    fail(path, std::to_string(trailing) + " trailing bytes after the " + std::to_string(want) +
                   " data bytes of dimensions " + dims_text(array.dims));
  if (in.truncated_stream()) fail(path, "truncated gzip stream (the file ends mid-stream)");
}

/// The IDX file `name` in `folder`, gzip first; throws naming both when neither exists (and
/// `package`, the Debian package to install, when not empty).
std::string find_in_folder(const std::filesystem::path& folder, const std::string& name,
                           const std::string& package) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const std::string hint =
      package.empty() ? "" : "; install Debian's " + package + " (scripts/install-deps)";
  if (!fs::is_directory(folder, ec))
    throw InvalidArgument(folder.string() + ": no such folder (expected " + name + "[.gz] there)" +
                          hint);
  for (const std::string& candidate : {name + ".gz", name})
    if (fs::is_regular_file(folder / candidate, ec)) return (folder / candidate).string();
  throw InvalidArgument(folder.string() + ": missing " + name + "[.gz]" + hint);
}

}  // namespace

IdxArray read_idx(const std::string& path) {
  GzReader in(path);
  IdxArray array = read_header(in, path);
  read_data(in, array, value_count(array, path), path);
  return array;
}

Dataset idx_dataset(const std::string& images_path, const std::string& labels_path) {
  const IdxArray images = read_idx(images_path);
  if (images.dims.size() != 3)
    fail(images_path,
         "expected images (count x rows x cols), got dimensions " + dims_text(images.dims));
  const IdxArray labels = read_idx(labels_path);
  if (labels.dims.size() != 1)
    fail(labels_path, "expected labels (one dimension), got dimensions " + dims_text(labels.dims));
  if (images.dims[0] != labels.dims[0])
    throw InvalidArgument(images_path + " holds " + std::to_string(images.dims[0]) +
                          " images but " + labels_path + " holds " +
                          std::to_string(labels.dims[0]) + " labels");
  Dataset d;
  d.shape = {1, images.dims[1], images.dims[2]};
  d.x.assign(images.bytes.begin(), images.bytes.end());
  scale(d, 255.0f);
  d.y.assign(labels.bytes.begin(), labels.bytes.end());
  const auto top = std::max_element(labels.bytes.begin(), labels.bytes.end());
  d.num_classes = top == labels.bytes.end() ? 0 : std::int64_t{*top} + 1;
  d.source = images_path;
  return d;
}

std::string debian_package_of(const std::string& folder) {
  const std::filesystem::path normal = std::filesystem::path(folder).lexically_normal();
  const bool fashion_mnist = (normal.has_filename() ? normal : normal.parent_path()) ==
                             std::filesystem::path(kFashionMnistFolder);
  return fashion_mnist ? "dataset-fashion-mnist" : "";
}

TrainTest load_idx_folder(const std::string& folder) {
  return load_idx_folder(folder, debian_package_of(folder));
}

TrainTest load_idx_folder(const std::string& folder, const std::string& package) {
  const auto path = [&](const char* name) { return find_in_folder(folder, name, package); };
  const std::string train_images = path("train-images-idx3-ubyte");
  const std::string train_labels = path("train-labels-idx1-ubyte");
  const std::string test_images = path("t10k-images-idx3-ubyte");
  const std::string test_labels = path("t10k-labels-idx1-ubyte");
  TrainTest data{idx_dataset(train_images, train_labels), idx_dataset(test_images, test_labels)};
  // A class missing from one part must not shrink that part's output layer.
  data.train.num_classes = data.test.num_classes =
      std::max(data.train.num_classes, data.test.num_classes);
  return data;
}

}  // namespace quarry::data
