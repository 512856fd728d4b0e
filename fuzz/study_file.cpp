// The study-file reader (config::parse_study_file) on any text: every problem is a UsageError on
// one line starting "<file>:<line>: " (study_file.hpp); nothing else may escape.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz/fuzz_util.hpp"
#include "quarry/config/study_file.hpp"
#include "quarry/core/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  quarry::fuzz::only_throws<quarry::UsageError>([&] {
    try {
      quarry::config::parse_study_file(text, "/fuzz/study.yaml");
    } catch (const quarry::UsageError& e) {
      if (std::string(e.what()).rfind("/fuzz/study.yaml:", 0) != 0)
        quarry::fuzz::finding(std::string("an error that does not name the file: ") + e.what());
      throw;
    }
  });
  return 0;
}
