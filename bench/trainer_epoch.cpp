// Trainer speed: one epoch of the seed model with Quarry's LibTorch trainer (quarry::nn::fit),
// measured the way bench/pytorch_epoch.py measures PyTorch from Python.
//
// The seed model (Keras Tuner's tutorial): flatten -> dense(256, relu) -> dropout(0.2) ->
// dense(10), Adam(1e-3), sparse categorical cross-entropy on logits, batch 32. With --net conv,
// the first layers of the macro architecture space instead ("conv3x3-32-s1-relu|maxpool||flatten":
// conv 3x3, 32 filters, stride 1, same padding, relu -> 2x2 max pool -> flatten -> dense(10)),
// same optimiser, loss and batch. Training data: the first 48,000 Fashion-MNIST training images;
// validation: the last 12,000 (scaled to [0, 1] by quarry::data::load_idx_folder). One "epoch" is
// what fit does for one epoch with validation_data: a shuffled pass over the 48,000 rows (running
// loss and accuracy) and an evaluation of the 12,000 validation rows (334 at a time, as fit does).
//
// Usage: bench_trainer_epoch [--net seed|conv] [--epochs N] [--warmup W] [--parallel P]
//                            [--no-pin] [--floor] [--data DIR]
//        bench_trainer_epoch --blas-core   (the OpenBLAS core type in effect, for the peers)
//   --epochs   timed epochs per model (default 3), after --warmup untimed ones (default 1)
//   --parallel P models trained at once, one thread each (default 1)
//   --floor    instead of training, the epoch's matrix products through the BLAS alone (the floor
//              an epoch's time is measured against; see floor_epochs)
//   --no-pin   skip quarry::nn::pin_math_threads() (run with OPENBLAS_NUM_THREADS and
//              OMP_NUM_THREADS unset to see LibTorch's and OpenBLAS's default thread pools)
// Prints one machine-readable line per epoch (bench/trainer.sh reads them), e.g.
//   quarry mode=single pin=yes model=0 epoch=1 warmup=0 epoch_s=1.702 loss=0.52 accuracy=0.81
//          val_loss=0.43 val_accuracy=0.84 faults=1234
// (faults: the training thread's minor page faults during the epoch) and one line for the data
// loading and one for the wall time of all models together.
#include <dlfcn.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <iostream>
#include <mutex>
#include <numeric>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "quarry/core/cpu.hpp"
#include "quarry/data/dataset.hpp"
#include "quarry/nn/fit.hpp"
#include "quarry/nn/model.hpp"
#include "quarry/nn/spec.hpp"

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::int64_t kTrainRows = 48000;
constexpr std::int64_t kValidationRows = 12000;
constexpr std::int64_t kBatchSize = 32;
// The rows fit evaluates per forward pass for 784-value images (nn/fit.cpp: 2^18 input values).
constexpr std::int64_t kEvaluationRows = (std::int64_t{1} << 18) / 784;

struct Args {
  int epochs = 3;
  int warmup = 1;
  int parallel = 1;
  bool pin = true;
  bool floor = false;
  bool conv = false;  ///< --net conv
  std::string data = quarry::data::kFashionMnistFolder;
};

struct Data {
  quarry::data::Dataset train, validation;
};

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

/// Minor page faults of the calling thread so far (memory the allocator handed back to the
/// kernel and took again shows up here).
long minor_faults() {
  rusage usage{};
  getrusage(RUSAGE_THREAD, &usage);
  return usage.ru_minflt;
}

quarry::nn::ModelSpec model_spec(bool conv) {
  using namespace quarry::nn;
  std::vector<Layer> layers = {Flatten{}, Dense{.units = 256, .activation = Activation::Relu},
                               Dropout{.rate = 0.2}, Dense{.units = 10}};
  if (conv)
    layers = {Conv2d{.filters = 32, .kernel_size = 3, .activation = Activation::Relu},
              MaxPool2d{.pool_size = 2}, Flatten{}, Dense{.units = 10}};
  return {.layers = std::move(layers),
          .optimizer = Adam(1e-3),
          .loss = Loss::SparseCategoricalCrossentropy,
          .metrics = {"accuracy"}};
}

/// The first 48,000 training images for training, the next 12,000 for validation.
Data load(const std::string& folder) {
  auto all = quarry::data::load_idx_folder(folder).train;
  std::vector<std::int64_t> rest(static_cast<std::size_t>(kValidationRows));
  std::iota(rest.begin(), rest.end(), kTrainRows);
  return {all.head(kTrainRows), all.take(rest)};
}

std::mutex print_mutex;

// cblas_sgemm, looked up in the BLAS LibTorch loaded (OpenBLAS on Debian): no cblas.h needed.
using Sgemm = void (*)(int order, int trans_a, int trans_b, int m, int n, int k, float alpha,
                       const float* a, int lda, const float* b, int ldb, float beta, float* c,
                       int ldc);
constexpr int kRowMajor = 101, kNoTrans = 111, kTrans = 112;

/// The 3x3 patches (same padding) of `rows` 28x28 images, one row of 9 values per pixel.
std::vector<float> patches(const float* images, std::int64_t rows) {
  constexpr int side = 28;
  std::vector<float> out(static_cast<std::size_t>(rows) * side * side * 9, 0.0f);
  float* p = out.data();
  for (std::int64_t r = 0; r < rows; ++r, images += side * side)
    for (int y = 0; y < side; ++y)
      for (int x = 0; x < side; ++x, p += 9)
        for (int dy = -1; dy <= 1; ++dy)
          for (int dx = -1; dx <= 1; ++dx)
            if (y + dy >= 0 && y + dy < side && x + dx >= 0 && x + dx < side)
              p[(dy + 1) * 3 + dx + 1] = images[(y + dy) * side + x + dx];
  return out;
}

/// Times warmup + epochs floor epochs, printing a line for each: `products(first, rows, training)`
/// for every training batch of kBatchSize rows (training = true), then for the validation rows in
/// fit's evaluation batches of kEvaluationRows (the last one shorter).
template <typename Products>
void time_floor_epochs(const Args& args, Products products) {
  for (int epoch = 0; epoch < args.warmup + args.epochs; ++epoch) {
    const auto start = Clock::now();
    for (std::int64_t first = 0; first < kTrainRows; first += kBatchSize)
      products(first, kBatchSize, true);
    for (std::int64_t first = 0; first < kValidationRows; first += kEvaluationRows)
      products(first, std::min(kEvaluationRows, kValidationRows - first), false);
    std::printf("quarry mode=floor pin=%s model=0 epoch=%d warmup=%d epoch_s=%.4f\n",
                args.pin ? "yes" : "no", epoch + 1, epoch < args.warmup ? 1 : 0,
                seconds_since(start));
    std::fflush(stdout);
  }
}

/// floor_epochs for --net conv (see there). The patches take 1.7 GB (9 floats per pixel).
void conv_floor_epochs(const Data& data, const Args& args, Sgemm sgemm) {
  constexpr int pixels = 784, taps = 9, filters = 32, pooled = filters * 14 * 14, classes = 10,
                b = static_cast<int>(kBatchSize), m = b * pixels,
                most = static_cast<int>(kEvaluationRows);  // the largest batch's rows
  const std::vector<float> train = patches(data.train.x.data(), kTrainRows),
                           validation = patches(data.validation.x.data(), kValidationRows);
  std::vector<float> f(taps * filters, 0.01f), c(most * pixels * filters, 0.1f),
      z(most * pooled, 0.1f), w(classes * pooled, 0.01f), y(most * classes, 0.1f),
      dw(classes * pooled), dz(b * pooled), df(filters * taps);
  const auto batch_products = [&](const float* p, int rows, bool backward) {
    sgemm(kRowMajor, kNoTrans, kNoTrans, rows * pixels, filters, taps, 1, p, taps, f.data(),
          filters, 0, c.data(), filters);
    sgemm(kRowMajor, kNoTrans, kTrans, rows, classes, pooled, 1, z.data(), pooled, w.data(), pooled,
          0, y.data(), classes);
    if (!backward) return;
    sgemm(kRowMajor, kTrans, kNoTrans, classes, pooled, b, 1, y.data(), classes, z.data(), pooled,
          0, dw.data(), pooled);
    sgemm(kRowMajor, kNoTrans, kNoTrans, b, pooled, classes, 1, y.data(), classes, w.data(), pooled,
          0, dz.data(), pooled);
    sgemm(kRowMajor, kTrans, kNoTrans, filters, taps, m, 1, c.data(), filters, p, taps, 0,
          df.data(), taps);
  };
  const auto stride = static_cast<std::size_t>(pixels) * taps;  // one image's patches
  time_floor_epochs(args, [&](std::int64_t first, std::int64_t rows, bool training) {
    const std::vector<float>& p = training ? train : validation;
    batch_products(p.data() + static_cast<std::size_t>(first) * stride, static_cast<int>(rows),
                   training);
  });
}

/// The floor of one epoch: the matrix products of the seed model's epoch and nothing else, through
/// the BLAS alone, same shapes, transposes and count. Per training batch of 32 rows (torch's
/// Linear computes x W^T + b): the two forward products X W1^T [32x784 . 784x256] and H W2^T
/// [32x256 . 256x10], and the three backward ones dW2 = dY^T H [10x32 . 32x256], dH = dY W2
/// [32x10 . 10x256], dW1 = dH^T X [256x32 . 32x784] (no gradient for the input); per validation
/// batch (fit's 334 rows, the last one 310) the two forward products. The batches are consecutive
/// rows of the real images.
///
/// With --net conv, per training batch: the convolution as one product of the batch's 3x3 patches
/// (im2col, made once up front and not timed) with the filters, P F [32*784x9 . 9x32]; the dense
/// layer on the pooled features Z W^T [32x6272 . 6272x10]; backward dW = dY^T Z [10x32 . 32x6272],
/// dZ = dY W [32x10 . 10x6272] and the filters' gradient dF = dC^T P [32x25088 . 25088x9] (no
/// gradient for the input); per validation batch the two forward ones. The pooling, relu, bias
/// and im2col are left out: the floor is the products alone.
void floor_epochs(const Data& data, const Args& args) {
  const auto sgemm = reinterpret_cast<Sgemm>(dlsym(RTLD_DEFAULT, "cblas_sgemm"));
  if (!sgemm) throw std::runtime_error("no cblas_sgemm in the loaded BLAS");
  if (args.pin) quarry::nn::pin_math_threads();
  if (args.conv) return conv_floor_epochs(data, args, sgemm);
  constexpr int in = 784, hidden = 256, classes = 10, b = static_cast<int>(kBatchSize),
                most = static_cast<int>(kEvaluationRows);  // the largest batch's rows
  std::vector<float> w1(hidden * in, 0.01f), w2(classes * hidden, 0.01f), h(most * hidden),
      y(most * classes, 0.1f), dw1(hidden * in), dw2(classes * hidden), dh(b * hidden);
  const auto batch_products = [&](const float* x, int rows, bool backward) {
    sgemm(kRowMajor, kNoTrans, kTrans, rows, hidden, in, 1, x, in, w1.data(), in, 0, h.data(),
          hidden);
    sgemm(kRowMajor, kNoTrans, kTrans, rows, classes, hidden, 1, h.data(), hidden, w2.data(),
          hidden, 0, y.data(), classes);
    if (!backward) return;
    sgemm(kRowMajor, kTrans, kNoTrans, classes, hidden, b, 1, y.data(), classes, h.data(), hidden,
          0, dw2.data(), hidden);
    sgemm(kRowMajor, kNoTrans, kNoTrans, b, hidden, classes, 1, y.data(), classes, w2.data(),
          hidden, 0, dh.data(), hidden);
    sgemm(kRowMajor, kTrans, kNoTrans, hidden, in, b, 1, dh.data(), hidden, x, in, 0, dw1.data(),
          in);
  };
  time_floor_epochs(args, [&](std::int64_t first, std::int64_t rows, bool training) {
    const quarry::data::Dataset& set = training ? data.train : data.validation;
    batch_products(set.x.data() + first * in, static_cast<int>(rows), training);
  });
}

/// Trains one model for warmup + epochs epochs, printing each epoch's time and metrics.
void train_one(const Data& data, const Args& args, int index, const std::string& mode) {
  if (args.pin) quarry::nn::pin_math_threads();
  quarry::nn::Model model(model_spec(args.conv), data.train.shape);
  for (int epoch = 0; epoch < args.warmup + args.epochs; ++epoch) {
    const long faults = minor_faults();
    const auto start = Clock::now();
    const auto history = quarry::nn::fit(model, data.train,
                                         {.epochs = epoch + 1,
                                          .initial_epoch = epoch,
                                          .batch_size = kBatchSize,
                                          .seed = static_cast<std::uint64_t>(index),
                                          .validation_data = &data.validation});
    const double seconds = seconds_since(start);
    const long epoch_faults = minor_faults() - faults;
    const auto& logs = history.epochs.at(0);
    const std::lock_guard lock(print_mutex);
    std::printf(
        "quarry mode=%s pin=%s model=%d epoch=%d warmup=%d epoch_s=%.4f loss=%.4f "
        "accuracy=%.4f val_loss=%.4f val_accuracy=%.4f faults=%ld\n",
        mode.c_str(), args.pin ? "yes" : "no", index, epoch + 1, epoch < args.warmup ? 1 : 0,
        seconds, logs.at("loss"), logs.at("accuracy"), logs.at("val_loss"), logs.at("val_accuracy"),
        epoch_faults);
    std::fflush(stdout);
  }
}

/// Runs args.parallel models at once, one thread each; rethrows the first thread's error.
void train_all(const Data& data, const Args& args) {
  const std::string mode =
      args.parallel == 1 ? "single" : "parallel" + std::to_string(args.parallel);
  std::vector<std::exception_ptr> errors(static_cast<std::size_t>(args.parallel));
  std::vector<std::thread> threads;
  const auto start = Clock::now();
  for (int i = 0; i < args.parallel; ++i) {
    threads.emplace_back([&, i] {
      try {
        train_one(data, args, i, mode);
      } catch (...) {
        errors[static_cast<std::size_t>(i)] = std::current_exception();
      }
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& e : errors)
    if (e) std::rethrow_exception(e);
  std::printf("quarry mode=%s pin=%s wall_s=%.4f\n", mode.c_str(), args.pin ? "yes" : "no",
              seconds_since(start));
}

[[noreturn]] void usage(const std::string& problem) {
  std::cerr
      << "bench_trainer_epoch: " << problem << "\n"
      << "usage: bench_trainer_epoch [--net seed|conv] [--epochs N] [--warmup W] [--parallel P] "
         "[--no-pin] [--floor] [--data DIR]\n";
  std::exit(2);
}

int to_int(const std::string& flag, const std::string& value) {
  try {
    std::size_t used = 0;
    const int n = std::stoi(value, &used);
    if (used == value.size()) return n;
  } catch (const std::exception&) {
  }
  usage(flag + " needs an integer, got '" + value + "'");
}

Args parse(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--no-pin") {
      args.pin = false;
      continue;
    }
    if (flag == "--floor") {
      args.floor = true;
      continue;
    }
    if (flag != "--epochs" && flag != "--warmup" && flag != "--parallel" && flag != "--data" &&
        flag != "--net")
      usage("unknown option " + flag);
    if (i + 1 >= argc) usage(flag + " needs a value");
    const std::string value = argv[++i];
    if (flag == "--net") {
      if (value != "seed" && value != "conv") usage("--net is seed or conv, got '" + value + "'");
      args.conv = value == "conv";
    } else if (flag == "--epochs")
      args.epochs = to_int(flag, value);
    else if (flag == "--warmup")
      args.warmup = to_int(flag, value);
    else if (flag == "--parallel")
      args.parallel = to_int(flag, value);
    else
      args.data = value;
  }
  if (args.epochs < 1 || args.warmup < 0 || args.parallel < 1)
    usage("--epochs and --parallel must be >= 1, --warmup >= 0");
  return args;
}

}  // namespace

int main(int argc, char** argv) {
  // The kernels quarry-nn gets on this CPU (OpenBLAS may not know it: see quarry/core/cpu.hpp).
  const std::string blas_core = quarry::use_best_blas_kernels(argv);
  if (argc == 2 && std::string(argv[1]) == "--blas-core") {  // for bench/trainer.sh's peers
    std::printf("%s\n", blas_core.c_str());
    return 0;
  }
  const Args args = parse(argc, argv);
  try {
    const auto start = Clock::now();
    const Data data = load(args.data);
    std::printf("quarry load_s=%.4f train_rows=%lld validation_rows=%lld\n", seconds_since(start),
                static_cast<long long>(data.train.rows()),
                static_cast<long long>(data.validation.rows()));
    if (args.floor)
      floor_epochs(data, args);
    else
      train_all(data, args);
  } catch (const std::exception& e) {
    std::cerr << "bench_trainer_epoch: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
