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

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>

namespace quarry::testing {

/// `text` with the tests' temporary folders written as $TMP, the CLI under test as `quarry` and
/// paths inside the source tree relative to it.
inline std::string catalog_text(std::string text) {
  static const std::regex temporary(R"((?:/[A-Za-z0-9._-]+)*/quarry-(?:test|cli)-[A-Za-z0-9]{6})");
  text = std::regex_replace(text, temporary, "$$TMP");
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
