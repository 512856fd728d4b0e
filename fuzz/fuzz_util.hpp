// What the libFuzzer harnesses share: running a reader on the fuzzer's bytes and letting only the
// errors it documents through. Anything else escaping (another exception type, a message over
// several lines) is a finding: the harness aborts and libFuzzer saves the input.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace quarry::fuzz {

/// Stops the run with `what`: libFuzzer reports the input as a crash.
[[noreturn]] inline void finding(const std::string& what) {
  std::fprintf(stderr, "fuzz finding: %s\n", what.c_str());
  std::abort();
}

/// Runs `read`; an `Allowed` error must be one line. Every other exception escapes to libFuzzer.
template <typename Allowed, typename Read>
void only_throws(Read&& read) {
  try {
    read();
  } catch (const Allowed& e) {
    if (std::string_view(e.what()).find('\n') != std::string_view::npos)
      finding(std::string("an error message of several lines: ") + e.what());
  }
}

/// The fuzzer's bytes as a file that readers taking a path can open ("/proc/self/fd/N"), without
/// touching the disk; closed when this goes.
class MemoryFile {
 public:
  MemoryFile(const std::uint8_t* data, std::size_t size) : fd_(memfd_create("fuzz", 0)) {
    if (fd_ < 0) finding("memfd_create failed");
    for (std::size_t done = 0; done < size;) {
      const ssize_t n = write(fd_, data + done, size - done);
      if (n <= 0) finding("cannot write the memory file");
      done += static_cast<std::size_t>(n);
    }
  }
  MemoryFile(const MemoryFile&) = delete;
  MemoryFile& operator=(const MemoryFile&) = delete;
  ~MemoryFile() { close(fd_); }
  std::string path() const { return "/proc/self/fd/" + std::to_string(fd_); }

 private:
  int fd_;
};

}  // namespace quarry::fuzz
