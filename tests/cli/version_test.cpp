// `quarry --version`: the version, and the OpenBLAS kernels quarry-nn will be told to use.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "quarry/core/cpu.hpp"
#include "tests/cli/cli_helpers.hpp"

namespace quarry::cli_test {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(CliVersion, NamesTheKernelsModelStudiesGet) {
  unsetenv("OPENBLAS_CORETYPE");
  const CliResult r = run_cli({"--version"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_THAT(r.out, StartsWith("quarry 0."));
  const auto best = openblas_core_type(cpu_features());
  EXPECT_THAT(r.out, HasSubstr("OpenBLAS kernels for model studies: " +
                               (best.empty() ? "OpenBLAS's own choice"
                                             : best + " (from the CPU's features)")));
  const CliResult user = run_cli({"version"}, {.env = {{"OPENBLAS_CORETYPE", "Haswell"}}});
  ASSERT_EQ(user.exit_code, 0) << user.describe();
  EXPECT_THAT(user.out, HasSubstr(": Haswell (OPENBLAS_CORETYPE=Haswell)"));
}

}  // namespace
}  // namespace quarry::cli_test
