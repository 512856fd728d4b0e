// The catalog of errors the tests provoke, from which docs/errors.md is generated.
//
// A test that makes Quarry refuse something (a `quarry` run that exits non-zero, a study file the
// reader refuses, a trial that fails) calls record_error with what it did and what Quarry said.
// When QUARRY_ERROR_CATALOG names a file (ctest sets it for every test), one JSON line is appended
// to it: the test's source file and name, the input, the exit code and the message, with the
// test's temporary folders written as $TMP. scripts/errors-doc turns the catalog into
// docs/errors.md, and the ctest case `docs.errors_md` fails when the page no longer matches what
// the tests saw. Every recorded message is also checked here: none may be an internal error.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace quarry::testing {

/// `text` with the tests' temporary folders written as $TMP, the CLI under test as `quarry` and
/// paths inside the source tree relative to it. (No std::regex: GCC 12 warns inside it at -O1.)
inline std::string catalog_text(std::string text) {
  const auto in_name = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
  };
  for (const std::string_view marker : {"/quarry-test-", "/quarry-cli-"}) {
    for (std::size_t at = 0; (at = text.find(marker, at)) != std::string::npos;) {
      const std::size_t end = at + marker.size() + 6;  // mkdtemp's six characters
      if (end > text.size() ||
          !std::all_of(text.begin() + static_cast<std::ptrdiff_t>(at + marker.size()),
                       text.begin() + static_cast<std::ptrdiff_t>(end),
                       [](char c) { return std::isalnum(static_cast<unsigned char>(c)); })) {
        at += marker.size();
        continue;
      }
      // Back over the folders above it: "/name" each ("sqlite:///tmp/..." keeps "sqlite://").
      std::size_t start = at;
      for (std::size_t name = start; name > 0 && in_name(text[name - 1]);) {
        --name;
        if (name > 0 && !in_name(text[name - 1])) {
          if (text[name - 1] != '/') break;
          start = --name;
        }
      }
      text.replace(start, end - start, "$TMP");
      at = start + 4;
    }
  }
#ifdef QUARRY_CLI
  for (std::size_t at; (at = text.find(QUARRY_CLI)) != std::string::npos;)
    text.replace(at, std::string_view(QUARRY_CLI).size(), "quarry");
#endif
#ifdef QUARRY_SOURCE_DIR
  for (std::size_t at; (at = text.find(QUARRY_SOURCE_DIR "/")) != std::string::npos;)
    text.erase(at, std::string_view(QUARRY_SOURCE_DIR "/").size());
#endif
  return text;
}

/// Records that `input` (a command line, a file's text, a trial's program) ended with `message`
/// and `exit_code` (that of `quarry`; -1 when there is none, as for a trial's failure reason).
inline void record_error(const std::string& input, int exit_code, const std::string& message) {
  EXPECT_EQ(message.find("internal error:"), std::string::npos)
      << "an error users meet must say what is wrong, not \"internal error\": " << message;
  const char* catalog = std::getenv("QUARRY_ERROR_CATALOG");
  const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
  if (catalog == nullptr || *catalog == '\0' || test == nullptr) return;
  std::string file = test->file();
#ifdef QUARRY_SOURCE_DIR
  if (file.rfind(QUARRY_SOURCE_DIR "/", 0) == 0)
    file.erase(0, std::string_view(QUARRY_SOURCE_DIR "/").size());
#endif
  const nlohmann::json entry = {{"file", file},
                                {"test", std::string(test->test_suite_name()) + "." + test->name()},
                                {"input", catalog_text(input)},
                                {"exit", exit_code},
                                {"message", catalog_text(message)}};
  const std::string line = entry.dump() + "\n";
  // One write of one line to a file opened for appending: tests running at once do not mix lines.
  const int fd = open(catalog, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return;
  (void)!write(fd, line.data(), line.size());
  close(fd);
}

}  // namespace quarry::testing
