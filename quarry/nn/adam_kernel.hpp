// Adam's update of one parameter tensor in one pass over its elements (torch::optim::Adam makes
// five passes and two temporaries of the parameter's size per step). Torch-free: built into the
// core with the vectorising options it needs (CMakeLists.txt), used by nn's FusedAdam (model.cpp).
#pragma once

#include <cstdint>

namespace quarry::nn {

/// The scalars of one step (torch's Adam and AdamW, Kingma & Ba; Loshchilov & Hutter):
///   g = grad + l2 * param                      (Adam's coupled weight decay; 0 for none)
///   m = beta1 m + (1 - beta1) g;  v = beta2 v + (1 - beta2) g^2
///   param = decay * param - step_size * m / (sqrt(v) / sqrt_bias_correction2 + eps)
/// with step_size = lr / (1 - beta1^t), sqrt_bias_correction2 = sqrt(1 - beta2^t), and
/// decay = 1 - lr * weight_decay for AdamW's decoupled decay (1 for none).
struct AdamStep {
  float beta1, beta2, step_size, sqrt_bias_correction2, eps;
  float decay = 1, l2 = 0;
};

/// Updates `n` contiguous elements of a parameter, its gradient, and Adam's two moving averages.
/// It computes in the calling thread's floating-point mode, and fit trains with denormals counted
/// as zero (quarry::FlushDenormals): a weight whose gradient has gone to zero (a dead ReLU unit, an
/// input pixel that is always blank) has its first moment decay by beta1 every step, through the
/// denormal range where each operation costs ~100 times a normal one; on the seed model that
/// doubled the update's time. The moments the flush zeroes are below 1.2e-38: with eps 1e-8 and a
/// learning rate up to 0.1, the step they would have given is below 1.2e-30, under half the float
/// spacing of any weight above 1e-22.
void adam_update(float* param, const float* grad, float* exp_avg, float* exp_avg_sq, std::int64_t n,
                 const AdamStep& step);

}  // namespace quarry::nn
