// Model::complexity (parameters, FLOPs, measured latency) and pin_math_threads.
//
// FLOPs of one example's forward pass in eval mode, counted per module from the shapes a forward
// pass at batch 1 sees (a multiply-add is 2):
//   Linear   2 * in * out (+ out for the bias), per input row
//   Conv     2 * (in_channels / groups) * kernel area per output element (+ 1 for the bias)
//   Pooling  kernel area per output element; adaptive (global) average pooling 1 per input element
//   Activations 1, BatchNorm 2 (scale and shift) per output element
//   Flatten, Dropout (identity at inference), padding and other modules: 0
// Nested Sequentials are counted module by module, and so are the branches of a BranchedModule
// (nn/blocks.hpp: a NAS-Bench-201 cell, a residual block), plus 1 per element added joining them.
#include <dlfcn.h>

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <chrono>
#include <mutex>

#include "quarry/core/error.hpp"
#include "quarry/nn/blocks.hpp"
#include "quarry/nn/model.hpp"

namespace quarry::nn {
namespace {

template <typename... Impl>
bool is_any(const torch::nn::Module& m) {
  return (... || (m.as<Impl>() != nullptr));
}

template <std::size_t D>
std::int64_t area(const torch::ExpandingArray<D>& kernel) {
  std::int64_t a = 1;
  for (std::int64_t k : *kernel) a *= k;
  return a;
}

std::int64_t pool_area(const torch::nn::Module& m) {
  namespace nn = torch::nn;
  if (const auto* p = m.as<nn::MaxPool1dImpl>()) return area(p->options.kernel_size());
  if (const auto* p = m.as<nn::MaxPool2dImpl>()) return area(p->options.kernel_size());
  if (const auto* p = m.as<nn::MaxPool3dImpl>()) return area(p->options.kernel_size());
  if (const auto* p = m.as<nn::AvgPool1dImpl>()) return area(p->options.kernel_size());
  if (const auto* p = m.as<nn::AvgPool2dImpl>()) return area(p->options.kernel_size());
  if (const auto* p = m.as<nn::AvgPool3dImpl>()) return area(p->options.kernel_size());
  return 0;
}

/// FLOPs of module `m` whose input and output for one example are `in` and `out` (the convention
/// above).
std::int64_t module_flops(const torch::nn::Module& m, const torch::Tensor& in,
                          const torch::Tensor& out) {
  namespace nn = torch::nn;
  const std::int64_t elements = out.numel();
  if (const auto* linear = m.as<nn::LinearImpl>()) {
    const std::int64_t in_f = linear->weight.size(1), out_f = linear->weight.size(0);
    return elements / out_f * (2 * in_f * out_f + (linear->bias.defined() ? out_f : 0));
  }
  torch::Tensor weight, bias;
  if (const auto* c = m.as<nn::Conv1dImpl>()) weight = c->weight, bias = c->bias;
  if (const auto* c = m.as<nn::Conv2dImpl>()) weight = c->weight, bias = c->bias;
  if (const auto* c = m.as<nn::Conv3dImpl>()) weight = c->weight, bias = c->bias;
  if (weight.defined()) {
    const std::int64_t per_output = 2 * weight.numel() / weight.size(0);
    return elements * (per_output + (bias.defined() ? 1 : 0));
  }
  if (const std::int64_t a = pool_area(m)) return elements * a;
  if (is_any<nn::AdaptiveAvgPool1dImpl, nn::AdaptiveAvgPool2dImpl, nn::AdaptiveAvgPool3dImpl>(m)) {
    return in.numel();  // global pooling: one addition per input element
  }
  if (is_any<nn::ReLUImpl, nn::ReLU6Impl, nn::LeakyReLUImpl, nn::ELUImpl, nn::SELUImpl,
             nn::SiLUImpl, nn::GELUImpl, nn::TanhImpl, nn::SigmoidImpl, nn::SoftmaxImpl>(m)) {
    return elements;
  }
  if (is_any<nn::BatchNorm1dImpl, nn::BatchNorm2dImpl, nn::BatchNorm3dImpl>(m)) {
    return 2 * elements;
  }
  return 0;
}

/// Runs `x` through `net` module by module, summing their FLOPs; walks inside nested Sequentials
/// and BranchedModules (a cell: each branch's modules plus the additions joining them).
std::int64_t forward_flops(torch::nn::SequentialImpl& net, torch::Tensor& x) {
  std::int64_t total = 0;
  const BranchedModule::Apply count = [&total](torch::nn::SequentialImpl& branch,
                                               const torch::Tensor& in) {
    torch::Tensor out = in;
    total += forward_flops(branch, out);
    return out;
  };
  for (auto& any : net) {
    const auto module = any.ptr();
    if (auto* inner = module->as<torch::nn::SequentialImpl>()) {
      total += forward_flops(*inner, x);
    } else if (auto* branched = dynamic_cast<BranchedModule*>(module.get())) {
      std::int64_t additions = 0;
      x = branched->run(x, count, additions);
      total += additions;
    } else {
      const torch::Tensor in = x;
      x = any.forward(x);
      total += module_flops(*module, in, x);
    }
  }
  return total;
}

/// Eval mode and no autograd while alive; restores the training flag.
class InferenceScope {
 public:
  explicit InferenceScope(torch::nn::Module& net) : net_(net), was_training_(net.is_training()) {
    net_.eval();
  }
  InferenceScope(const InferenceScope&) = delete;
  InferenceScope& operator=(const InferenceScope&) = delete;
  ~InferenceScope() { net_.train(was_training_); }

 private:
  torch::nn::Module& net_;
  bool was_training_;
  torch::NoGradGuard no_grad_;
};

/// Median milliseconds of `repeats` forward passes of a random batch (after one warm-up pass).
double median_latency_ms(torch::nn::Sequential& net, std::vector<std::int64_t> shape,
                         std::int64_t batch, int repeats) {
  shape.insert(shape.begin(), batch);
  // A private generator: measuring must not move torch's global random stream.
  at::Generator generator = at::detail::createCPUGenerator(0);
  const torch::Tensor x = torch::randn(shape, generator);
  net->forward(x);
  std::vector<double> times;
  for (int i = 0; i < repeats; ++i) {
    const auto start = std::chrono::steady_clock::now();
    net->forward(x);
    const std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - start;
    times.push_back(took.count());
  }
  std::nth_element(times.begin(), times.begin() + repeats / 2, times.end());
  return times[repeats / 2];
}

}  // namespace

Complexity Model::complexity(int repeats) {
  if (repeats < 1) {
    throw InvalidArgument("Model::complexity: repeats must be >= 1, got " +
                          std::to_string(repeats));
  }
  Complexity c;
  for (const torch::Tensor& p : compiled_.net->parameters()) c.parameters += p.numel();
  InferenceScope scope(*compiled_.net);
  std::vector<std::int64_t> one = input_shape_;
  one.insert(one.begin(), 1);
  torch::Tensor x = torch::zeros(one);
  c.flops = forward_flops(*compiled_.net, x);
  c.latency_b1_ms = median_latency_ms(compiled_.net, input_shape_, 1, repeats);
  c.latency_b256_ms = median_latency_ms(compiled_.net, input_shape_, 256, repeats);
  return c;
}

// at::set_num_threads sets OpenMP's thread count for the calling thread only (an OpenMP
// per-thread setting), hence one call per trial thread. OpenBLAS keeps its own pool, which
// LibTorch's setting does not reach; its setter is looked up at run time so that a BLAS without it
// still links. The inter-op pool is process-wide and can be sized once, before any parallel work:
// later calls throw, which we ignore (it then keeps the size it has).
void pin_math_threads() {
  at::set_num_threads(1);
  using SetThreads = void (*)(int);
  static const auto openblas_set_num_threads =
      reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  if (openblas_set_num_threads) openblas_set_num_threads(1);
  static std::once_flag interop_once;
  std::call_once(interop_once, [] {
    try {
      at::set_num_interop_threads(1);
    } catch (const c10::Error&) {
    }
  });
}

}  // namespace quarry::nn
