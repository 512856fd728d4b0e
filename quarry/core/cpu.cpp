#include "quarry/core/cpu.hpp"

#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iterator>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <xmmintrin.h>
#endif

namespace quarry {

namespace {

std::string lower(std::string text) {
  std::ranges::transform(text, text.begin(),
                         [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

}  // namespace

#if defined(__x86_64__) || defined(__i386__)
FlushDenormals::FlushDenormals() : saved_(_mm_getcsr()) {
  constexpr unsigned kFlushToZero = 0x8000, kDenormalsAreZero = 0x0040;
  _mm_setcsr(saved_ | kFlushToZero | kDenormalsAreZero);
}
FlushDenormals::~FlushDenormals() {
  _mm_setcsr(saved_);
}
#else
FlushDenormals::FlushDenormals() = default;
FlushDenormals::~FlushDenormals() = default;
#endif

CpuFeatures cpu_features() {
  CpuFeatures cpu;
#if defined(__x86_64__) || defined(__i386__)
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid(0, &eax, &ebx, &ecx, &edx)) return cpu;
  const unsigned max_leaf = eax;
  char vendor[13] = {};
  std::memcpy(vendor, &ebx, 4);
  std::memcpy(vendor + 4, &edx, 4);
  std::memcpy(vendor + 8, &ecx, 4);
  cpu.vendor = vendor;

  __get_cpuid(1, &eax, &ebx, &ecx, &edx);
  const bool osxsave = ecx & (1u << 27);
  if (!osxsave) return cpu;  // the OS saves no AVX registers: none of them may be used
  unsigned xcr0_low = 0, xcr0_high = 0;
  asm volatile("xgetbv" : "=a"(xcr0_low), "=d"(xcr0_high) : "c"(0));
  const bool os_avx = (xcr0_low & 0x6) == 0x6;       // SSE and AVX state
  const bool os_avx512 = (xcr0_low & 0xe6) == 0xe6;  // and opmask, ZMM_Hi256, Hi16_ZMM
  cpu.avx = os_avx && (ecx & (1u << 28));
  cpu.fma = cpu.avx && (ecx & (1u << 12));
  if (max_leaf < 7) return cpu;
  __get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx);
  cpu.avx2 = cpu.avx && (ebx & (1u << 5));
  constexpr unsigned kAvx512 = (1u << 16) | (1u << 17) | (1u << 28) | (1u << 30) | (1u << 31);
  cpu.avx512 = os_avx512 && cpu.avx2 && (ebx & kAvx512) == kAvx512;
#endif
  return cpu;
}

std::string openblas_core_type(const CpuFeatures& cpu) {
  if (cpu.avx512 && cpu.fma) return "SkylakeX";
  if (cpu.avx2 && cpu.fma)
    return cpu.vendor == "AuthenticAMD" || cpu.vendor == "HygonGenuine" ? "Zen" : "Haswell";
  if (cpu.avx) return "Sandybridge";
  return "";
}

int openblas_core_rank(const std::string& core_type) {
  static constexpr const char* kRanked[][2] = {
      {"sandybridge", "1"}, {"bulldozer", "1"},      {"piledriver", "1"}, {"steamroller", "1"},
      {"excavator", "1"},   {"haswell", "2"},        {"zen", "2"},        {"skylakex", "3"},
      {"cooperlake", "3"},  {"sapphirerapids", "3"},
  };
  const auto name = lower(core_type);
  const auto* it = std::ranges::find_if(kRanked, [&](const auto& r) { return name == r[0]; });
  return it == std::end(kRanked) ? 0 : (*it)[1][0] - '0';
}

std::string loaded_openblas_core() {
  using CoreName = char* (*)();
  const auto core_name = reinterpret_cast<CoreName>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
  const char* name = core_name ? core_name() : nullptr;
  return name ? name : "";
}

std::string use_best_blas_kernels(char** argv) {
  if (const char* chosen = std::getenv("OPENBLAS_CORETYPE")) return chosen;  // the user's choice
  const auto best = openblas_core_type(cpu_features());
  const auto loaded = loaded_openblas_core();
  if (!loaded.empty() && openblas_core_rank(loaded) >= openblas_core_rank(best))
    return loaded;  // OpenBLAS knew this CPU
  if (best.empty()) return loaded;
  setenv("OPENBLAS_CORETYPE", best.c_str(), 1);
  if (!loaded.empty() && argv) execv("/proc/self/exe", argv);  // returns only if it failed
  return best;
}

}  // namespace quarry
