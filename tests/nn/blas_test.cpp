// The trainer's math kernels: OpenBLAS runs the widest kernels this CPU has (tests/nn/blas_main.cpp
// and quarry-nn start again with OPENBLAS_CORETYPE when OpenBLAS did not know the CPU), and a
// user's OPENBLAS_CORETYPE is obeyed.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cctype>
#include <cstdlib>
#include <string>

#include "quarry/core/cpu.hpp"
#include "tests/cli/cli_helpers.hpp"

namespace quarry::cli_test {
namespace {

using ::testing::HasSubstr;

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

TEST(BlasKernels, AreTheWidestTheCpuHasOrTheUsersChoice) {
  const std::string loaded = loaded_openblas_core();
  ASSERT_FALSE(loaded.empty()) << "LibTorch should run on OpenBLAS here";
  if (const char* chosen = std::getenv("OPENBLAS_CORETYPE"); chosen && *chosen)
    EXPECT_EQ(lower(loaded), lower(chosen));
  else
    EXPECT_GE(openblas_core_rank(loaded), openblas_core_rank(openblas_core_type(cpu_features())))
        << "OpenBLAS runs " << loaded << " kernels";
}

// quarry-nn started by hand (not by quarry, which sets the variable): the same kernels, and
// --version says which.
TEST(BlasKernels, QuarryNnChoosesThemWhenStartedDirectly) {
  const char* before = std::getenv("OPENBLAS_CORETYPE");
  const std::string saved = before ? before : "";
  unsetenv("OPENBLAS_CORETYPE");
  const CliResult r = run_cli({"--version"});
  if (before) setenv("OPENBLAS_CORETYPE", saved.c_str(), 1);
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  const auto at = r.out.find("OpenBLAS kernels: ");
  ASSERT_NE(at, std::string::npos) << r.out;
  const auto start = at + std::string("OpenBLAS kernels: ").size();
  const std::string core = r.out.substr(start, r.out.find(' ', start) - start);
  EXPECT_GE(openblas_core_rank(core), openblas_core_rank(openblas_core_type(cpu_features())))
      << r.out;

  // Prescott's SSE3 kernels run on every x86-64 CPU: OpenBLAS obeys a variable set before it loads.
  const CliResult user = run_cli({"--version"}, {.env = {{"OPENBLAS_CORETYPE", "Prescott"}}});
  ASSERT_EQ(user.exit_code, 0) << user.describe();
  EXPECT_THAT(user.out, HasSubstr("OpenBLAS kernels: Prescott (OPENBLAS_CORETYPE=Prescott)"));
}

}  // namespace
}  // namespace quarry::cli_test
