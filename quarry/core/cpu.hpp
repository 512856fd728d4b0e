// The CPU's vector features (cpuid), and the OpenBLAS kernels that suit them.
//
// OpenBLAS (LibTorch's BLAS on Debian) picks its kernels from the CPU's model number when it
// loads. A model it does not know (common in virtual machines, which may report a plain
// "Intel(R) Xeon(R) Processor") makes it fall back to its oldest x86-64 kernels (Prescott, SSE3),
// about 1.5x slower for the trainer's matrix products. Quarry reads the features instead and,
// unless the user chose a core type (OPENBLAS_CORETYPE), tells OpenBLAS which kernels to use:
// through the environment of the processes it starts (quarry -> quarry-nn), or by starting itself
// again when OpenBLAS was already loaded with weaker kernels (use_best_blas_kernels).
#pragma once

#include <string>

namespace quarry {

/// What the CPU can run, and the operating system saves the registers of (xgetbv).
struct CpuFeatures {
  std::string vendor;  ///< "GenuineIntel", "AuthenticAMD", ... ("" off x86-64)
  bool avx = false;
  bool avx2 = false;
  bool fma = false;
  bool avx512 = false;  ///< AVX-512 F, DQ, CD, BW and VL: what OpenBLAS's SkylakeX kernels use
};

/// This machine's features (all false off x86-64).
CpuFeatures cpu_features();

/// While it lives, this thread's float arithmetic counts values below FLT_MIN (denormals) as zero,
/// in and out (x86's flush-to-zero and denormals-are-zero; TensorFlow trains Keras models so); at
/// the end of its scope the thread's previous mode is back. Denormal operands cost ~100 times a
/// normal one, and training meets them wherever a decaying average has nothing left to average:
/// Adam's, RMSprop's and momentum's state for a weight whose gradient is zero. Does nothing off
/// x86.
class FlushDenormals {
 public:
  FlushDenormals();
  ~FlushDenormals();
  FlushDenormals(const FlushDenormals&) = delete;
  FlushDenormals& operator=(const FlushDenormals&) = delete;

 private:
  unsigned saved_ = 0;  ///< the thread's MXCSR before
};

/// The OpenBLAS core type (OPENBLAS_CORETYPE's spelling) with the best kernels for `cpu`:
/// "SkylakeX" with AVX-512 (and FMA), "Haswell" with AVX2 and FMA ("Zen" on AMD and Hygon),
/// "Sandybridge" with AVX; "" when OpenBLAS's own choice cannot be bettered (no AVX).
std::string openblas_core_type(const CpuFeatures& cpu);

/// OpenBLAS's core types ranked by the width of their kernels (0 for those without AVX, 1 AVX,
/// 2 AVX2, 3 AVX-512), case-insensitively.
int openblas_core_rank(const std::string& core_type);

/// The core type OpenBLAS uses in this process ("" when no OpenBLAS is loaded).
std::string loaded_openblas_core();

/// Makes OpenBLAS use the best kernels for this CPU unless the user set OPENBLAS_CORETYPE. In a
/// process without OpenBLAS it sets the variable for the programs this one then starts (quarry
/// before it hands a model study to quarry-nn). In one that loaded OpenBLAS with weaker kernels
/// than the CPU has, it sets the variable and starts this program again (execv of /proc/self/exe
/// with `argv`; returns only if that fails); where OpenBLAS chose well, it changes nothing. Call
/// it first thing in main(). Returns the core type in effect: the user's, the one OpenBLAS
/// loaded, or the one set ("" when OpenBLAS is left to choose and is not loaded).
std::string use_best_blas_kernels(char** argv);

}  // namespace quarry
