// Helpers shared by the tests.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "quarry/core/error.hpp"
#include "tests/error_catalog.hpp"

namespace quarry::testing {

/// The message of the `E` that `f` throws, or "no error". The message goes into the error catalog
/// (tests/error_catalog.hpp).
template <typename E = InvalidArgument, typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const E& e) {
    record_error("", -1, e.what());
    return e.what();
  }
  return "no error";
}

/// The bytes of `path` ("" when it cannot be read).
inline std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

/// Replaces `path`'s content with `text`.
inline void write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

/// A fresh directory under /tmp, removed with its contents.
class TempDir {
 public:
  TempDir() {
    std::string pattern = "/tmp/quarry-test-XXXXXX";
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }
  /// The path of `name` inside the directory.
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

/// The tabular NAS benchmarks' folder inside the repository, data/nas (see its README.md); CMake
/// passes its path in QUARRY_NAS_DATA_DIR.
inline std::string nas_data_dir() {
  return QUARRY_NAS_DATA_DIR;
}

}  // namespace quarry::testing
