// Helpers shared by the tests.
#pragma once

#include <string>

#include "quarry/core/error.hpp"

namespace quarry::testing {

/// The message of the `E` that `f` throws, or "no error".
template <typename E = InvalidArgument, typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace quarry::testing
