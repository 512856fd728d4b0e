// Helpers shared by the tests.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <stdexcept>
#include <string>

#include "quarry/core/error.hpp"

namespace quarry::testing {

/// The message of the `E` that `f` throws, or "no error".
template <typename E = InvalidArgument, typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  return "no error";
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

/// The tabular NAS benchmarks' folder (see its README.md): ../shared/data beside the repository,
/// else the workplace's /work/shared/data. Tests that read it skip when neither exists.
inline std::string shared_data_dir() {
  const std::filesystem::path beside = std::filesystem::path(QUARRY_SOURCE_DIR) / "../shared/data";
  return std::filesystem::is_directory(beside) ? beside.lexically_normal().string()
                                               : "/work/shared/data";
}

}  // namespace quarry::testing
