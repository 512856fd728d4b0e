#include "quarry/core/cpu.hpp"

#include <gtest/gtest.h>

#include <cfloat>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

namespace quarry {
namespace {

/// The kernel's view of the CPU: the words of /proc/cpuinfo's first "flags" line.
std::set<std::string> cpuinfo_flags() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("flags", 0) == 0) {
      std::istringstream words(line.substr(line.find(':') + 1));
      std::set<std::string> flags;
      for (std::string w; words >> w;) flags.insert(w);
      return flags;
    }
  return {};
}

// cpuid and xgetbv read as the kernel reads them: each feature exactly when Linux lists it.
TEST(CpuFeatures, AgreeWithTheKernelsFlags) {
  const auto flags = cpuinfo_flags();
  ASSERT_FALSE(flags.empty()) << "no flags line in /proc/cpuinfo";
  const auto has = [&](const char* f) { return flags.contains(f); };
  const CpuFeatures cpu = cpu_features();
  EXPECT_EQ(cpu.avx, has("avx"));
  EXPECT_EQ(cpu.avx2, has("avx2"));
  EXPECT_EQ(cpu.fma, has("fma"));
  EXPECT_EQ(cpu.avx512, has("avx512f") && has("avx512dq") && has("avx512cd") && has("avx512bw") &&
                            has("avx512vl"));
  EXPECT_EQ(cpu.vendor.size(), 12u) << cpu.vendor;  // "GenuineIntel", "AuthenticAMD"...
}

TEST(CpuFeatures, PickTheWidestOpenBlasKernels) {
  EXPECT_EQ(openblas_core_type(
                {.vendor = "GenuineIntel", .avx = true, .avx2 = true, .fma = true, .avx512 = true}),
            "SkylakeX");
  EXPECT_EQ(openblas_core_type(
                {.vendor = "AuthenticAMD", .avx = true, .avx2 = true, .fma = true, .avx512 = true}),
            "SkylakeX");  // Zen 4
  EXPECT_EQ(openblas_core_type({.vendor = "GenuineIntel", .avx = true, .avx2 = true, .fma = true}),
            "Haswell");
  // AVX-512 without FMA (a hypervisor hiding FMA): OpenBLAS's AVX-512 kernels need it.
  EXPECT_EQ(
      openblas_core_type({.vendor = "GenuineIntel", .avx = true, .avx2 = true, .avx512 = true}),
      "Sandybridge");
  EXPECT_EQ(openblas_core_type({.vendor = "AuthenticAMD", .avx = true, .avx2 = true, .fma = true}),
            "Zen");
  EXPECT_EQ(openblas_core_type({.vendor = "HygonGenuine", .avx = true, .avx2 = true, .fma = true}),
            "Zen");
  EXPECT_EQ(openblas_core_type({.vendor = "GenuineIntel", .avx = true}), "Sandybridge");
  // AVX2 without FMA (no such CPU ships, but a hypervisor may hide FMA): AVX kernels.
  EXPECT_EQ(openblas_core_type({.vendor = "GenuineIntel", .avx = true, .avx2 = true}),
            "Sandybridge");
  EXPECT_EQ(openblas_core_type({.vendor = "GenuineIntel"}), "");  // OpenBLAS's own choice
  EXPECT_EQ(openblas_core_type({}), "");
}

TEST(CpuFeatures, RankOpenBlasCoresByKernelWidth) {
  EXPECT_EQ(openblas_core_rank("Prescott"), 0);
  EXPECT_EQ(openblas_core_rank("Nehalem"), 0);
  EXPECT_EQ(openblas_core_rank("Sandybridge"), 1);
  EXPECT_EQ(openblas_core_rank("Haswell"), 2);
  EXPECT_EQ(openblas_core_rank("zen"), 2);  // openblas_get_corename()'s spelling varies
  EXPECT_EQ(openblas_core_rank("SkylakeX"), 3);
  EXPECT_EQ(openblas_core_rank("COOPERLAKE"), 3);
  EXPECT_EQ(openblas_core_rank(""), 0);
}

// The search core loads no OpenBLAS: the choice goes into the environment for quarry-nn, and a
// user's OPENBLAS_CORETYPE is left as it is.
TEST(CpuFeatures, SetOpenBlasCoreTypeUnlessTheUserDid) {
  ASSERT_EQ(loaded_openblas_core(), "");
  const char* before = std::getenv("OPENBLAS_CORETYPE");
  const std::string saved = before ? before : "";
  unsetenv("OPENBLAS_CORETYPE");
  const auto best = openblas_core_type(cpu_features());
  EXPECT_EQ(use_best_blas_kernels(nullptr), best);
  const char* set = std::getenv("OPENBLAS_CORETYPE");
  EXPECT_EQ(set ? set : "", best);

  setenv("OPENBLAS_CORETYPE", "Nehalem", 1);
  EXPECT_EQ(use_best_blas_kernels(nullptr), "Nehalem");
  EXPECT_STREQ(std::getenv("OPENBLAS_CORETYPE"), "Nehalem");

  if (before)
    setenv("OPENBLAS_CORETYPE", saved.c_str(), 1);
  else
    unsetenv("OPENBLAS_CORETYPE");
}

#if defined(__x86_64__) || defined(__i386__)
// A quarter of the smallest normal float, computed now (volatile: not folded at compile time).
float quarter_of_flt_min() {
  volatile float smallest = FLT_MIN;
  return smallest / 4;
}

// A denormal read from memory, times one.
float denormal_times_one() {
  volatile float denormal = FLT_MIN / 4;
  return denormal * 1.0f;
}

TEST(FlushDenormals, ZeroesDenormalResultsAndOperandsInItsScopeOnly) {
  ASSERT_GT(quarter_of_flt_min(), 0.0f) << "this thread flushes already";
  {
    const FlushDenormals flush;
    EXPECT_EQ(quarter_of_flt_min(), 0.0f);  // flush to zero: a result
    EXPECT_EQ(denormal_times_one(), 0.0f);  // denormals are zero: an operand
    EXPECT_EQ(FLT_MIN * 1.0f, FLT_MIN);     // normal floats as before
    { const FlushDenormals inner; }
    EXPECT_EQ(quarter_of_flt_min(), 0.0f) << "the inner scope restored the outer one's mode";
  }
  EXPECT_GT(quarter_of_flt_min(), 0.0f);
  EXPECT_GT(denormal_times_one(), 0.0f);
}
#endif

}  // namespace
}  // namespace quarry
