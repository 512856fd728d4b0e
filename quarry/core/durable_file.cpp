#include "quarry/core/durable_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>

#include "quarry/core/error.hpp"

namespace quarry {

namespace {

/// Opens `path` (a file or a folder) read-only and fsyncs it; the errno of the first failure.
int fsync_path(const std::filesystem::path& path, int flags) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | flags);
  if (fd < 0) return errno;
  const int synced = ::fsync(fd) == 0 ? 0 : errno;
  ::close(fd);
  return synced;
}

[[noreturn]] void fail(const std::filesystem::path& target, int error) {
  throw StoreFailure("cannot write '" + target.string() + "': " + io_error_message(error));
}

}  // namespace

std::string io_error_message(int error) {
  std::string message = std::generic_category().message(error);
  if (error == ENOSPC || error == EDQUOT) message += " (disk full)";
  return message;
}

std::filesystem::path temporary_path(const std::filesystem::path& target) {
  return target.string() + ".tmp";
}

void sync_file(const std::filesystem::path& file) {
  if (const int error = fsync_path(file, 0)) fail(file, error);
}

void replace_durably(const std::filesystem::path& temporary, const std::filesystem::path& target) {
  int error = fsync_path(temporary, 0);
  if (!error && ::rename(temporary.c_str(), target.c_str()) != 0) error = errno;
  if (error) {
    std::error_code ignored;
    std::filesystem::remove(temporary, ignored);
    fail(target, error);
  }
  // The folder's entry: EINVAL from file systems that cannot sync a folder is not a failure.
  const auto folder = target.has_parent_path() ? target.parent_path() : ".";
  if (const int folder_error = fsync_path(folder, O_DIRECTORY);
      folder_error && folder_error != EINVAL)
    fail(target, folder_error);
}

void write_file_durably(const std::filesystem::path& target, std::string_view bytes) {
  const auto temporary = temporary_path(target);
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail(target, errno);
  int error = 0;
  for (std::size_t written = 0; written < bytes.size() && !error;) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n > 0) {
      written += static_cast<std::size_t>(n);
    } else if (n == 0 || errno != EINTR) {
      error = n == 0 ? EIO : errno;
    }
  }
  if (::close(fd) != 0 && !error) error = errno;
  if (error) {
    std::error_code ignored;
    std::filesystem::remove(temporary, ignored);
    fail(target, error);
  }
  replace_durably(temporary, target);
}

}  // namespace quarry
