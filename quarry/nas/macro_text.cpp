// The macro space's text: to_text and parse_text (see macro.hpp for the format).
#include <algorithm>
#include <type_traits>

#include "quarry/core/error.hpp"
#include "quarry/nas/lists.hpp"
#include "quarry/nas/macro_arch.hpp"

namespace quarry::nas::detail {
namespace {

/// `value` when `values` lists it; else throws the reason ("filters 33 is not one of 16, 32").
template <typename T>
T member(const T& value, const std::vector<T>& values, const std::string& what) {
  if (std::find(values.begin(), values.end(), value) != values.end()) return value;
  std::string shown;
  if constexpr (std::is_same_v<T, std::string>)
    shown = "'" + value + "'";
  else
    shown = std::to_string(value);
  throw InvalidArgument(what + " " + shown + " is not one of " + join(values));
}

std::int64_t integer(const std::string& text, const std::string& what) {
  std::int64_t v = 0;
  if (!parse_integer(text, v)) throw InvalidArgument(what + " '" + text + "' is not an integer");
  return v;
}

ImageLayer image_token(const std::string& token, const MacroOptions& o) {
  const std::vector<std::string> parts = split(token, '-');
  ImageLayer l{.op = member(parts[0], o.operations, "operation")};
  const bool conv = is_conv(l.op);
  if (parts.size() != (conv ? 4u : 1u)) {
    throw InvalidArgument(conv ? "expected <op>-<filters>-s<stride>-<activation>"
                               : "expected the operation's name alone");
  }
  if (!conv) return l;
  l.filters = member(integer(parts[1], "filters"), o.filters, "filters");
  if (parts[2].empty() || parts[2][0] != 's') throw InvalidArgument("expected s<stride>");
  l.stride = member(integer(parts[2].substr(1), "stride"), o.strides, "stride");
  l.activation = member(parts[3], o.activations, "activation");
  return l;
}

DenseLayer dense_token(const std::string& token, const MacroOptions& o) {
  const std::vector<std::string> parts = split(token, '-');
  if (parts.size() != 3 || parts[0] != "dense")
    throw InvalidArgument("expected dense-<units>-<activation>");
  return {member(integer(parts[1], "units"), o.units, "units"),
          member(parts[2], o.activations, "activation")};
}

/// The tokens of one part ("" -> none).
std::vector<std::string> tokens(const std::string& part) {
  return part.empty() ? std::vector<std::string>{} : split(part, '|');
}
}  // namespace

std::string to_text(const Arch& arch) {
  std::string image, dense;
  for (const ImageLayer& l : arch.image) {
    image += (image.empty() ? "" : "|") + l.op;
    if (is_conv(l.op)) {
      image +=
          "-" + std::to_string(l.filters) + "-s" + std::to_string(l.stride) + "-" + l.activation;
    }
  }
  if (arch.head != "gap") dense = arch.head;
  for (const DenseLayer& d : arch.dense)
    dense += std::string(dense.empty() ? "" : "|") + "dense-" + std::to_string(d.units) + "-" +
             d.activation;
  return image + "||" + dense;
}

Arch parse_text(const std::string& text, const MacroOptions& o) {
  const auto bar = text.find("||");
  if (bar == std::string::npos || text.find("||", bar + 1) != std::string::npos)
    throw InvalidArgument("expected one '||' between the image and the dense layers");
  Arch arch;
  const auto each = [&](const std::string& part, auto parse_token, auto& into) {
    for (const std::string& token : tokens(part)) {
      try {
        into.push_back(parse_token(token, o));
      } catch (const InvalidArgument& e) {
        throw InvalidArgument("bad token '" + token + "' (" + e.what() + ")");
      }
    }
  };
  each(text.substr(0, bar), image_token, arch.image);
  std::string dense = text.substr(bar + 2);
  const std::string first = dense.substr(0, dense.find('|'));
  if (first == "gap" || first == "flatten") {
    dense.erase(0, first.size() + (first.size() < dense.size() ? 1 : 0));
    arch.head = first;
  }
  try {
    (void)member(arch.head, o.heads, "head");
  } catch (const InvalidArgument& e) {
    throw InvalidArgument(std::string(e.what()) + " (write the head after '||')");
  }
  each(dense, dense_token, arch.dense);
  const auto n = static_cast<std::int64_t>(arch.image.size());
  if (n < o.min_layers || n > o.max_layers) {
    throw InvalidArgument(std::to_string(n) + " image layers, the options allow " +
                          std::to_string(o.min_layers) + " to " + std::to_string(o.max_layers));
  }
  if (static_cast<std::int64_t>(arch.dense.size()) > o.max_dense_layers) {
    throw InvalidArgument(std::to_string(arch.dense.size()) +
                          " dense layers, the options allow at most " +
                          std::to_string(o.max_dense_layers));
  }
  return arch;
}

}  // namespace quarry::nas::detail
