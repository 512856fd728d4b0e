// The trainer tests' main(): OpenBLAS's kernels chosen as quarry-nn chooses them (the program
// starts again with OPENBLAS_CORETYPE set when OpenBLAS did not know this CPU), then GoogleTest.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "quarry/core/cpu.hpp"

int main(int argc, char** argv) {
  quarry::use_best_blas_kernels(argv);
  testing::InitGoogleMock(&argc, argv);
  return RUN_ALL_TESTS();
}
