// The trial output protocol ("quarry: [step=<int>] <metric>=<number> ..."): any line is read or
// refused, never more; a line read holds at least one metric, each with a name.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_util.hpp"
#include "quarry/objectives/command.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const auto line = quarry::objectives::parse_quarry_line(body);
  if (!line) return 0;
  if (line->values.empty()) quarry::fuzz::finding("a line read with no metric");
  for (const auto& [name, value] : line->values)
    if (name.empty() || name.find_first_of(" \t=") != std::string_view::npos)
      quarry::fuzz::finding("a metric named '" + name + "'");
  return 0;
}
