#include "quarry/nn/adam_kernel.hpp"

#include <cmath>

namespace quarry::nn {

// One clone per vector width, picked when the program loads (GCC's function multiversioning);
// CMakeLists.txt compiles this file with -O3 -fno-math-errno so that the loop vectorises (sqrt
// included).
__attribute__((target_clones("avx512f", "avx2", "default"))) void adam_update(
    float* __restrict param, const float* __restrict grad, float* __restrict exp_avg,
    float* __restrict exp_avg_sq, std::int64_t n, const AdamStep& step) {
  const AdamStep s = step;  // in registers: `step` could alias the arrays as far as C++ knows
  const float keep1 = 1 - s.beta1, keep2 = 1 - s.beta2;
  // step_size m / (sqrt(v) / c + eps) = (step_size c) m / (sqrt(v) + eps c): one division, not two.
  const float scaled_step = s.step_size * s.sqrt_bias_correction2;
  const float scaled_eps = s.eps * s.sqrt_bias_correction2;
  for (std::int64_t i = 0; i < n; ++i) {
    const float g = grad[i] + s.l2 * param[i];
    const float m = s.beta1 * exp_avg[i] + keep1 * g;
    const float v = s.beta2 * exp_avg_sq[i] + keep2 * g * g;
    exp_avg[i] = m;
    exp_avg_sq[i] = v;
    param[i] = s.decay * param[i] - scaled_step * m / (std::sqrt(v) + scaled_eps);
  }
}

}  // namespace quarry::nn
