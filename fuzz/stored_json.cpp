// The JSON read back from the store (storage::detail::decode_params, decode_values,
// decode_directions; the first byte picks which): any text is decoded or refused with a
// StorageError line, and what is decoded encodes to text that decodes to the same again.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz/fuzz_util.hpp"
#include "quarry/core/error.hpp"
#include "quarry/storage/codec.hpp"

namespace {

using namespace quarry::storage::detail;

template <typename Decode, typename Encode>
void round_trip(const std::string& json, Decode decode, Encode encode) {
  quarry::fuzz::only_throws<quarry::StorageError>([&] {
    const std::string once = encode(decode(json));
    if (encode(decode(once)) != once)
      quarry::fuzz::finding("decoding what was encoded changed it: " + once);
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string json(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0:
      round_trip(json, decode_params, encode_params);
      break;
    case 1:
      round_trip(json, decode_values, encode_values);
      break;
    default:
      round_trip(json, decode_directions, encode_directions);
  }
  return 0;
}
