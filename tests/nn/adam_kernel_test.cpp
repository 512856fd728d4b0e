#include "quarry/nn/adam_kernel.hpp"

#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <vector>

#include "quarry/core/cpu.hpp"

namespace quarry::nn {
namespace {

AdamStep first_step(float lr) {
  const float beta1 = 0.9f, beta2 = 0.999f;
  return {.beta1 = beta1,
          .beta2 = beta2,
          .step_size = lr / (1 - beta1),
          .sqrt_bias_correction2 = std::sqrt(1 - beta2),
          .eps = 1e-7f};
}

// 37 elements: the vector loop and its scalar tail, against the formula in double.
TEST(AdamKernel, OneStepFollowsTheFormula) {
  const std::int64_t n = 37;
  std::vector<float> param(n), grad(n), m(n), v(n);
  for (std::int64_t i = 0; i < n; ++i) {
    param[i] = 0.1f * static_cast<float>(i) - 1;
    grad[i] = 0.05f * static_cast<float>(i % 7) - 0.15f;
    m[i] = 0.01f * static_cast<float>(i % 5);
    v[i] = 0.001f * static_cast<float>(i % 3 + 1);
  }
  const std::vector<float> p0 = param, m0 = m, v0 = v;
  const AdamStep s = first_step(0.01f);
  adam_update(param.data(), grad.data(), m.data(), v.data(), n, s);
  for (std::int64_t i = 0; i < n; ++i) {
    const double g = grad[i];
    const double mi = 0.9 * m0[i] + 0.1 * g, vi = 0.999 * v0[i] + 0.001 * g * g;
    const double want =
        p0[i] - s.step_size * mi / (std::sqrt(vi) / s.sqrt_bias_correction2 + s.eps);
    EXPECT_NEAR(m[i], mi, 1e-7) << i;
    EXPECT_NEAR(v[i], vi, 1e-9) << i;
    EXPECT_NEAR(param[i], want, 1e-5) << i;
  }
}

#if defined(__x86_64__) || defined(__i386__)
// In the mode fit trains in, a first moment decaying through the denormal range becomes zero,
// whether it was denormal already or only its product is; a denormal gradient counts as zero.
// Without the flush the first two would be 0.9 times their value and the third would move the
// moment.
TEST(AdamKernel, MomentsBelowTheSmallestNormalFloatBecomeZeroWhenFlushed) {
  const FlushDenormals flush;
  const float denormal = FLT_MIN / 4, just_normal = FLT_MIN * 1.05f;
  std::vector<float> param = {0.5f, 0.5f, 0.5f}, grad = {0, 0, denormal},
                     m = {denormal, just_normal, 0}, v = {1e-4f, 1e-4f, 1e-4f};
  adam_update(param.data(), grad.data(), m.data(), v.data(), 3, first_step(0.01f));
  EXPECT_EQ(m[0], 0.0f);
  EXPECT_EQ(m[1], 0.0f);
  EXPECT_EQ(m[2], 0.0f);
  EXPECT_EQ(v[2], 0.999f * 1e-4f);
  for (float p : param) EXPECT_EQ(p, 0.5f);
}

// The update leaves the thread's floating-point mode as it found it: IEEE arithmetic after it.
TEST(AdamKernel, TheCallersDenormalsAreLeftAsTheyWere) {
  std::vector<float> param = {1}, grad = {1}, m = {0}, v = {0};
  adam_update(param.data(), grad.data(), m.data(), v.data(), 1, first_step(0.01f));
  volatile float smallest = FLT_MIN;
  const float quarter = smallest / 4;
  EXPECT_GT(quarter, 0.0f);
  EXPECT_EQ(quarter * 4, FLT_MIN);
}
#endif

}  // namespace
}  // namespace quarry::nn
