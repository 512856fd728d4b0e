// one_line() for every error's message, and require(): the one-line rule check of options
// constructors.
#include "quarry/core/error.hpp"

#include <charconv>
#include <cmath>

namespace quarry {

std::string one_line(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte != 0x7f) {
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else {
      constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 15];
    }
  }
  return out;
}

std::string real_text(double x) {
  if (std::isnan(x)) return "nan";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  char buffer[32];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, x);
  return std::string(buffer, result.ptr);
}

void require(bool ok, std::string_view who, std::string_view rule, std::string_view got) {
  if (ok) return;
  std::string message(who);
  message.append(": ").append(rule).append(" must hold, got ").append(got);
  throw InvalidArgument(message);
}

void require(bool ok, std::string_view who, std::string_view rule, double got) {
  if (!ok) require(false, who, rule, real_text(got));
}

}  // namespace quarry
