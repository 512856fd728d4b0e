#include "quarry/data/idx.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/test_util.hpp"

namespace quarry::data {
namespace {

using quarry::testing::error_of;
using quarry::testing::TempDir;
using ::testing::HasSubstr;
using Bytes = std::vector<std::uint8_t>;

/// An IDX file's bytes: magic {0, 0, type, dims}, big-endian sizes, then `data`.
Bytes idx_bytes(const std::vector<std::uint32_t>& dims, const Bytes& data,
                std::uint8_t type = 0x08) {
  Bytes out = {0, 0, type, static_cast<std::uint8_t>(dims.size())};
  for (std::uint32_t d : dims)
    for (int shift : {24, 16, 8, 0}) out.push_back(static_cast<std::uint8_t>(d >> shift));
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

void write_plain(const std::string& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path);
}

void write_gzip(const std::string& path, const Bytes& bytes) {
  gzFile file = gzopen(path.c_str(), "wb");
  if (!file) throw std::runtime_error("cannot write " + path);
  const int written = gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size()));
  if (gzclose(file) != Z_OK || written != static_cast<int>(bytes.size()))
    throw std::runtime_error("gzwrite failed for " + path);
}

Bytes iota_bytes(std::size_t n) {
  Bytes data(n);
  for (std::size_t i = 0; i < n; ++i) data[i] = static_cast<std::uint8_t>(i * 7);
  return data;
}

TEST(IdxRead, PlainAndGzipFilesGiveTheSameArray) {
  TempDir dir;
  const Bytes file = idx_bytes({2, 3, 4}, iota_bytes(24));
  write_plain(dir.file("a-idx3-ubyte"), file);
  write_gzip(dir.file("a-idx3-ubyte.gz"), file);
  for (const char* name : {"a-idx3-ubyte", "a-idx3-ubyte.gz"}) {
    const IdxArray array = read_idx(dir.file(name));
    EXPECT_EQ(array.dims, (std::vector<std::int64_t>{2, 3, 4})) << name;
    EXPECT_EQ(array.type, kIdxUnsignedByte);
    EXPECT_EQ(array.bytes, iota_bytes(24)) << name;
  }
}

TEST(IdxRead, ReadsDimensionsAboveOneByte) {
  TempDir dir;
  write_gzip(dir.file("labels.gz"), idx_bytes({300}, iota_bytes(300)));
  const IdxArray array = read_idx(dir.file("labels.gz"));
  EXPECT_EQ(array.dims, (std::vector<std::int64_t>{300}));
  EXPECT_EQ(array.bytes.size(), 300u);
}

TEST(IdxRead, TruncatedDataNamesTheFileAndBothLengths) {
  TempDir dir;
  for (bool gzip : {false, true}) {
    const std::string path = dir.file(gzip ? "t.gz" : "t");
    const Bytes short_file = idx_bytes({10, 5, 5}, iota_bytes(200));
    gzip ? write_gzip(path, short_file) : write_plain(path, short_file);
    EXPECT_EQ(error_of([&] { read_idx(path); }),
              path + ": truncated: expected 250 data bytes, got 200");
  }
}

TEST(IdxRead, TrailingBytesAreAnError) {
  TempDir dir;
  write_gzip(dir.file("long.gz"), idx_bytes({2, 2}, iota_bytes(7)));
  EXPECT_EQ(error_of([&] { read_idx(dir.file("long.gz")); }),
            dir.file("long.gz") + ": 3 trailing bytes after the 4 data bytes of dimensions 2 x 2");
}

TEST(IdxRead, WrongMagicIsNotAnIdxFile) {
  TempDir dir;
  write_plain(dir.file("text"), {'h', 'e', 'l', 'l', 'o', '\n'});
  EXPECT_EQ(error_of([&] { read_idx(dir.file("text")); }),
            dir.file("text") + ": not an IDX file (magic 0x68656c6c)");
  Bytes no_dims = idx_bytes({}, {});  // dims count 0
  write_plain(dir.file("zero"), no_dims);
  EXPECT_THAT(error_of([&] { read_idx(dir.file("zero")); }),
              HasSubstr("not an IDX file (magic 0x00000800)"));
  write_plain(dir.file("tiny"), {0, 0});
  EXPECT_THAT(error_of([&] { read_idx(dir.file("tiny")); }),
              HasSubstr("tiny: not an IDX file (2 bytes"));
}

TEST(IdxRead, OtherValueTypesAreRejectedByName) {
  TempDir dir;
  write_plain(dir.file("floats"), idx_bytes({1}, {0, 0, 0, 0}, 0x0D));
  EXPECT_EQ(error_of([&] { read_idx(dir.file("floats")); }),
            dir.file("floats") +
                ": IDX type 0x0d (float) is not supported; only unsigned byte (0x08) data is");
}

TEST(IdxRead, TruncatedHeader) {
  TempDir dir;
  Bytes file = idx_bytes({5, 5, 5}, {});
  file.resize(9);
  write_plain(dir.file("h"), file);
  EXPECT_THAT(error_of([&] { read_idx(dir.file("h")); }),
              HasSubstr("h: truncated header: expected 12 bytes of dimensions, got 5"));
}

TEST(IdxRead, GzipStreamCutShortIsAnError) {
  TempDir dir;
  const std::string path = dir.file("cut.gz");
  write_gzip(path, idx_bytes({64}, iota_bytes(64)));
  std::filesystem::resize_file(path, std::filesystem::file_size(path) - 4);  // lose ISIZE
  EXPECT_THAT(error_of([&] { read_idx(path); }), HasSubstr(path + ": truncated"));
}

TEST(IdxRead, MissingFileSaysCannotOpen) {
  TempDir dir;
  EXPECT_EQ(error_of([&] { read_idx(dir.file("nope.gz")); }),
            "cannot open '" + dir.file("nope.gz") + "': No such file or directory");
  EXPECT_EQ(error_of([&] { read_idx(dir.path().string()); }),
            "cannot open '" + dir.path().string() + "': Is a directory");
}

TEST(IdxDataset, ImagesBecomeScaledRowsWithLabels) {
  TempDir dir;
  write_gzip(dir.file("img.gz"), idx_bytes({3, 2, 2}, {0, 255, 51, 102, 1, 2, 3, 4, 9, 9, 9, 9}));
  write_plain(dir.file("lab"), idx_bytes({3}, {0, 4, 1}));
  const Dataset d = idx_dataset(dir.file("img.gz"), dir.file("lab"));
  EXPECT_EQ(d.shape, (std::vector<std::int64_t>{1, 2, 2}));
  EXPECT_EQ(d.rows(), 3);
  EXPECT_EQ(d.row_size(), 4);
  ASSERT_EQ(d.x.size(), 12u);
  EXPECT_FLOAT_EQ(d.x[0], 0.0f);
  EXPECT_FLOAT_EQ(d.x[1], 1.0f);
  EXPECT_FLOAT_EQ(d.x[2], 0.2f);
  EXPECT_FLOAT_EQ(d.x[3], 0.4f);
  EXPECT_EQ(d.y, (std::vector<float>{0, 4, 1}));
  EXPECT_EQ(d.num_classes, 5);
  EXPECT_EQ(d.source, dir.file("img.gz"));
}

TEST(IdxDataset, CountMismatchNamesBothFiles) {
  TempDir dir;
  write_plain(dir.file("img"), idx_bytes({3, 1, 1}, {1, 2, 3}));
  write_plain(dir.file("lab"), idx_bytes({2}, {0, 1}));
  EXPECT_EQ(error_of([&] { idx_dataset(dir.file("img"), dir.file("lab")); }),
            dir.file("img") + " holds 3 images but " + dir.file("lab") + " holds 2 labels");
}

TEST(IdxDataset, WrongRankIsAnError) {
  TempDir dir;
  write_plain(dir.file("flat"), idx_bytes({3, 4}, iota_bytes(12)));
  write_plain(dir.file("lab"), idx_bytes({3}, {0, 1, 2}));
  EXPECT_EQ(error_of([&] { idx_dataset(dir.file("flat"), dir.file("lab")); }),
            dir.file("flat") + ": expected images (count x rows x cols), got dimensions 3 x 4");
  EXPECT_THAT(error_of([&] { idx_dataset(dir.file("flat"), dir.file("flat")); }),
              HasSubstr("expected images"));
}

/// A folder with the four files, train as gzip and test plain.
void write_folder(const TempDir& dir) {
  write_gzip(dir.file("train-images-idx3-ubyte.gz"), idx_bytes({4, 2, 3}, iota_bytes(24)));
  write_gzip(dir.file("train-labels-idx1-ubyte.gz"), idx_bytes({4}, {0, 1, 2, 1}));
  write_plain(dir.file("t10k-images-idx3-ubyte"), idx_bytes({2, 2, 3}, iota_bytes(12)));
  write_plain(dir.file("t10k-labels-idx1-ubyte"), idx_bytes({2}, {3, 0}));
}

TEST(IdxFolder, FindsGzipAndPlainFiles) {
  TempDir dir;
  write_folder(dir);
  const TrainTest data = load_idx_folder(dir.path().string());
  EXPECT_EQ(data.train.rows(), 4);
  EXPECT_EQ(data.test.rows(), 2);
  EXPECT_EQ(data.train.shape, (std::vector<std::int64_t>{1, 2, 3}));
  EXPECT_EQ(data.test.y, (std::vector<float>{3, 0}));
  // Class 3 appears only in the test part: both parts agree on 4 classes.
  EXPECT_EQ(data.train.num_classes, 4);
  EXPECT_EQ(data.test.num_classes, 4);
}

TEST(IdxFolder, MissingFileNamesTheFolderAndTheFile) {
  TempDir dir;
  write_folder(dir);
  std::filesystem::remove(dir.file("t10k-labels-idx1-ubyte"));
  const std::string error = error_of([&] { load_idx_folder(dir.path().string()); });
  EXPECT_EQ(error, dir.path().string() + ": missing t10k-labels-idx1-ubyte[.gz]");
  EXPECT_EQ(error_of([&] { load_idx_folder(dir.file("absent")); }),
            dir.file("absent") + ": no such folder (expected train-images-idx3-ubyte[.gz] there)");
}

TEST(IdxFolder, MissingDebianFolderHintsAtThePackage) {
  EXPECT_EQ(debian_package_of(kFashionMnistFolder), "dataset-fashion-mnist");
  EXPECT_EQ(debian_package_of(std::string(kFashionMnistFolder) + "/"), "dataset-fashion-mnist");
  EXPECT_EQ(debian_package_of("/usr/share/datasets"), "");
  EXPECT_EQ(debian_package_of("fashion-mnist"), "");
  // The folder of a package that is not installed: a folder that does not exist (the real one may).
  TempDir dir;
  EXPECT_EQ(error_of([&] { load_idx_folder(dir.file("absent"), "dataset-fashion-mnist"); }),
            dir.file("absent") +
                ": no such folder (expected train-images-idx3-ubyte[.gz] there); install Debian's "
                "dataset-fashion-mnist (scripts/install-deps)");
  write_folder(dir);
  std::filesystem::remove(dir.file("train-labels-idx1-ubyte.gz"));
  EXPECT_EQ(error_of([&] { load_idx_folder(dir.path().string(), "dataset-fashion-mnist"); }),
            dir.path().string() +
                ": missing train-labels-idx1-ubyte[.gz]; install Debian's dataset-fashion-mnist "
                "(scripts/install-deps)");
}

TEST(IdxFolder, ReadsTheRealFashionMnist) {
  // scripts/install-deps installs it for the tests: absent, this test fails rather than skip.
  ASSERT_TRUE(std::filesystem::exists(kFashionMnistFolder))
      << kFashionMnistFolder
      << " is absent: needs Debian's dataset-fashion-mnist (scripts/install-deps)";
  const TrainTest data = load_idx_folder(std::string(kFashionMnistFolder) + "/");
  EXPECT_EQ(data.train.rows(), 60000);
  EXPECT_EQ(data.test.rows(), 10000);
  for (const Dataset* d : {&data.train, &data.test}) {
    EXPECT_EQ(d->shape, (std::vector<std::int64_t>{1, 28, 28}));
    EXPECT_EQ(d->num_classes, 10);
    EXPECT_EQ(static_cast<std::int64_t>(d->x.size()), d->rows() * 784);
    const auto [low, high] = std::minmax_element(d->x.begin(), d->x.end());
    EXPECT_EQ(*low, 0.0f);
    EXPECT_EQ(*high, 1.0f);
  }
  std::map<float, int> per_class;
  for (float label : data.train.y) ++per_class[label];
  ASSERT_EQ(per_class.size(), 10u);
  for (const auto& [label, count] : per_class) EXPECT_EQ(count, 6000) << "class " << label;
}

}  // namespace
}  // namespace quarry::data
