// Internal to the macro space (macro.cpp, macro_text.cpp): its operations, and one architecture
// as a plain struct that every path goes through: params -> Arch -> layers / text, and
// text -> Arch -> params.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "quarry/nas/macro.hpp"

namespace quarry::nas::detail {

inline const std::string kMacroWho = "macro space";

enum class OpKind { Conv, SepConv, MaxPool, AvgPool, Identity };
struct OpInfo {
  std::string name;
  OpKind kind;
  std::int64_t kernel = 0;  ///< convolutions only
};
/// The operation called `name`; InvalidArgument "macro space: unknown operation ..." otherwise.
const OpInfo& op_info(const std::string& name);
/// True for conv<k>x<k> and sepconv<k>x<k>.
bool is_conv(const std::string& op);

struct ImageLayer {
  std::string op;
  std::int64_t filters = 0, stride = 1;  ///< convolutions only
  std::string activation;                ///< convolutions only
};
struct DenseLayer {
  std::int64_t units = 0;
  std::string activation;
};
struct Arch {
  std::vector<ImageLayer> image;
  std::string head = "gap";  ///< "gap" | "flatten"
  std::vector<DenseLayer> dense;
};

/// The text of macro_string.
std::string to_text(const Arch& arch);
/// The architecture of a text, every value checked against the options; InvalidArgument with
/// the reason alone ("bad token 'x' (...)"), which parse_macro_string prefixes with the text.
Arch parse_text(const std::string& text, const MacroOptions& options);

}  // namespace quarry::nas::detail
