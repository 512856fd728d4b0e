// SHA-256 (FIPS 180-4) of bytes and of files, as lowercase hex: what `sha256sum` prints. Used to
// tell whether a data file on one machine is the one a study was created with.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace quarry {

/// The SHA-256 of `bytes`, 64 lowercase hex digits.
std::string sha256_hex(std::string_view bytes);

/// The SHA-256 of the file's content, read in blocks. Throws Error naming the file when it
/// cannot be read.
std::string sha256_file(const std::filesystem::path& file);

}  // namespace quarry
