// The IDX reader (data::read_idx; gzip or plain) on any file: an IdxArray whose bytes are exactly
// its dimensions' product, or one InvalidArgument line.
#include <cstddef>
#include <cstdint>

#include "fuzz/fuzz_util.hpp"
#include "quarry/core/error.hpp"
#include "quarry/data/idx.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const quarry::fuzz::MemoryFile file(data, size);
  quarry::fuzz::only_throws<quarry::Error>([&] {
    const auto array = quarry::data::read_idx(file.path());
    std::size_t values = 1;
    for (const auto d : array.dims) values *= static_cast<std::size_t>(d);
    if (array.dims.empty() || values != array.bytes.size())
      quarry::fuzz::finding("an IDX array whose size is not its dimensions' product");
  });
  return 0;
}
