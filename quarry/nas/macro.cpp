// The chain-structured space: options, parameters and layers (the text is in macro_text.cpp).
#include "quarry/nas/macro.hpp"

#include <algorithm>

#include "quarry/core/error.hpp"
#include "quarry/core/options.hpp"
#include "quarry/nas/lists.hpp"
#include "quarry/nas/macro_arch.hpp"

namespace quarry::nas {

namespace detail {

namespace {
const std::vector<OpInfo>& known_ops() {
  static const std::vector<OpInfo> kOps = {
      {"conv1x1", OpKind::Conv, 1},       {"conv3x3", OpKind::Conv, 3},
      {"conv5x5", OpKind::Conv, 5},       {"conv7x7", OpKind::Conv, 7},
      {"sepconv3x3", OpKind::SepConv, 3}, {"sepconv5x5", OpKind::SepConv, 5},
      {"sepconv7x7", OpKind::SepConv, 7}, {"maxpool", OpKind::MaxPool},
      {"avgpool", OpKind::AvgPool},       {"identity", OpKind::Identity}};
  return kOps;
}
}  // namespace

const OpInfo& op_info(const std::string& name) {
  for (const OpInfo& op : known_ops())
    if (op.name == name) return op;
  std::vector<std::string> names;
  for (const OpInfo& op : known_ops()) names.push_back(op.name);
  throw InvalidArgument(kMacroWho + ": unknown operation '" + name + "' (known: " + join(names) +
                        ")");
}

bool is_conv(const std::string& op) {
  const OpKind kind = op_info(op).kind;
  return kind == OpKind::Conv || kind == OpKind::SepConv;
}

}  // namespace detail

namespace {

using detail::Arch;
using detail::DenseLayer;
using detail::ImageLayer;
using detail::is_conv;
using detail::op_info;
using detail::OpInfo;
using detail::OpKind;
const std::string& kWho = detail::kMacroWho;

template <typename T>
void check_list(const std::vector<T>& values, const std::string& name) {
  if (values.empty()) throw InvalidArgument(kWho + ": " + name + " must not be empty");
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (std::find(values.begin(), values.begin() + i, values[i]) != values.begin() + i)
      throw InvalidArgument(kWho + ": " + name + " lists a value twice: " + join(values));
    if constexpr (std::is_same_v<T, std::int64_t>)
      if (values[i] < 1)
        throw InvalidArgument(kWho + ": " + name + " must be >= 1: " + join(values));
  }
}

void check(const MacroOptions& o) {
  require(o.min_layers >= 0 && o.max_layers >= std::max<std::int64_t>(o.min_layers, 1), kWho,
          "0 <= min_layers <= max_layers and max_layers >= 1",
          "min_layers=" + std::to_string(o.min_layers) +
              ", max_layers=" + std::to_string(o.max_layers));
  require(o.max_dense_layers >= 0 && o.classes >= 1, kWho, "max_dense_layers >= 0 and classes >= 1",
          std::to_string(o.max_dense_layers) + " and " + std::to_string(o.classes));
  check_list(o.operations, "operations");
  for (const auto& op : o.operations) op_info(op);
  check_list(o.activations, "activations");
  try {
    for (const auto& a : o.activations) nn::activation_from_string(a);
  } catch (const InvalidArgument& e) {
    throw InvalidArgument(kWho + ": " + e.what());
  }
  check_list(o.filters, "filters");
  check_list(o.strides, "strides");
  check_list(o.units, "units");
  check_list(o.heads, "heads");
  for (const auto& h : o.heads)
    if (h != "gap" && h != "flatten")
      throw InvalidArgument(kWho + ": unknown head '" + h + "' (known: gap, flatten)");
}

// --- the space ---------------------------------------------------------------------------------

template <typename T>
std::vector<Value> values_of(const std::vector<T>& xs) {
  return std::vector<Value>(xs.begin(), xs.end());
}

/// Int values low..high.
std::vector<Value> range(std::int64_t low, std::int64_t high) {
  std::vector<Value> out;
  for (std::int64_t v = low; v <= high; ++v) out.emplace_back(v);
  return out;
}

/// Adds Choice(name, values) under `conditions` unless `values` holds one value only.
template <typename T>
void add_choice(space::Space& s, const std::string& name, const std::vector<T>& values,
                const std::vector<space::Condition>& conditions) {
  if (values.size() < 2) return;
  space::Param p = space::Param::Choice(name, values_of(values));
  for (const auto& c : conditions) p = p.with_condition(c);
  s.add(p);
}

/// The image layer fields of layer i (its op and the convolution's fields).
void add_image_layer(space::Space& s, const MacroOptions& o, std::int64_t i) {
  const std::string prefix = "layer_" + std::to_string(i) + "/";
  std::vector<space::Condition> conditions;
  if (i >= o.min_layers) conditions.push_back({"layers", range(i + 1, o.max_layers)});
  add_choice(s, prefix + "op", o.operations, conditions);
  std::vector<std::string> convs;
  std::copy_if(o.operations.begin(), o.operations.end(), std::back_inserter(convs), is_conv);
  if (convs.empty()) return;
  if (o.operations.size() > 1) conditions.push_back({prefix + "op", values_of(convs)});
  add_choice(s, prefix + "filters", o.filters, conditions);
  add_choice(s, prefix + "stride", o.strides, conditions);
  add_choice(s, prefix + "activation", o.activations, conditions);
}

// --- one architecture --------------------------------------------------------------------------

/// The value of `name` in `params` when the space has such a parameter, else `fixed`.
class Reader {
 public:
  Reader(const Params& params, const space::Space& s) : params_(params), space_(s) {}
  Value get(const std::string& name, const Value& fixed) const {
    const space::Param* p = space_.find(name);
    if (p == nullptr) return fixed;
    const auto it = params_.find(name);
    if (it == params_.end()) throw InvalidArgument(kWho + ": no value for '" + name + "'");
    try {
      return p->normalize(it->second);
    } catch (const InvalidArgument& e) {
      throw InvalidArgument(kWho + ": " + e.what());
    }
  }
  std::int64_t integer(const std::string& name, std::int64_t fixed) const {
    return std::get<std::int64_t>(get(name, fixed));
  }
  std::string text(const std::string& name, const std::string& fixed) const {
    return std::get<std::string>(get(name, fixed));
  }

 private:
  const Params& params_;
  const space::Space& space_;
};

Arch arch_of(const Params& params, const MacroOptions& o) {
  const space::Space s = macro_space(o);
  const Reader r(params, s);
  Arch arch;
  const std::int64_t layers = r.integer("layers", o.min_layers);
  for (std::int64_t i = 0; i < layers; ++i) {
    const std::string prefix = "layer_" + std::to_string(i) + "/";
    ImageLayer l{.op = r.text(prefix + "op", o.operations[0])};
    if (is_conv(l.op)) {
      l.filters = r.integer(prefix + "filters", o.filters[0]);
      l.stride = r.integer(prefix + "stride", o.strides[0]);
      l.activation = r.text(prefix + "activation", o.activations[0]);
    }
    arch.image.push_back(l);
  }
  arch.head = r.text("head", o.heads[0]);
  const std::int64_t dense = r.integer("dense_layers", 0);
  for (std::int64_t i = 0; i < dense; ++i) {
    const std::string prefix = "dense_" + std::to_string(i) + "/";
    arch.dense.push_back(
        {r.integer(prefix + "units", o.units[0]), r.text(prefix + "activation", o.activations[0])});
  }
  return arch;
}

/// The parameters of `arch` (its values already checked against the options).
Params params_of(const Arch& arch, const MacroOptions& o) {
  const space::Space s = macro_space(o);
  Params p;
  const auto set = [&](const std::string& name, Value v) {
    if (s.find(name) != nullptr) p[name] = std::move(v);
  };
  set("layers", static_cast<std::int64_t>(arch.image.size()));
  for (std::size_t i = 0; i < arch.image.size(); ++i) {
    const std::string prefix = "layer_" + std::to_string(i) + "/";
    const ImageLayer& l = arch.image[i];
    set(prefix + "op", l.op);
    if (!is_conv(l.op)) continue;
    set(prefix + "filters", l.filters);
    set(prefix + "stride", l.stride);
    set(prefix + "activation", l.activation);
  }
  set("head", arch.head);
  set("dense_layers", static_cast<std::int64_t>(arch.dense.size()));
  for (std::size_t i = 0; i < arch.dense.size(); ++i) {
    const std::string prefix = "dense_" + std::to_string(i) + "/";
    set(prefix + "units", arch.dense[i].units);
    set(prefix + "activation", arch.dense[i].activation);
  }
  return p;
}

/// Size after a "same" convolution of stride s: ceil(size / s).
std::int64_t strided(std::int64_t size, std::int64_t s) {
  return (size + s - 1) / s;
}

/// Appends the layer for `l` to `out`, updating the image size {c, h, w} (the 2x2 rule).
void add_layer(const ImageLayer& l, std::vector<std::int64_t>& shape, std::vector<nn::Layer>& out) {
  const OpInfo& op = op_info(l.op);
  std::int64_t &h = shape[1], &w = shape[2];
  if (op.kind == OpKind::Conv || op.kind == OpKind::SepConv) {
    const std::int64_t s = strided(h, l.stride) < 2 || strided(w, l.stride) < 2 ? 1 : l.stride;
    const nn::Activation a = nn::activation_from_string(l.activation);
    if (op.kind == OpKind::Conv)
      out.push_back(
          nn::Conv2d{.filters = l.filters, .kernel_size = op.kernel, .stride = s, .activation = a});
    else
      out.push_back(nn::SepConv2d{l.filters, op.kernel, s, a});
    shape = {l.filters, strided(h, s), strided(w, s)};
  } else if (op.kind == OpKind::Identity || h / 2 < 2 || w / 2 < 2) {
    out.push_back(nn::Identity{});
  } else {
    if (op.kind == OpKind::MaxPool)
      out.push_back(nn::MaxPool2d{.pool_size = 2});
    else
      out.push_back(nn::AvgPool2d{.pool_size = 2});
    h /= 2, w /= 2;
  }
}

std::vector<nn::Layer> layers_of(const Arch& arch, const MacroOptions& o,
                                 std::vector<std::int64_t> shape) {
  if (shape.size() != 3 || std::any_of(shape.begin(), shape.end(), [](auto d) { return d < 1; })) {
    throw InvalidArgument(kWho + ": the input must be an image {channels, height, width}, got " +
                          std::to_string(shape.size()) + " sizes");
  }
  std::vector<nn::Layer> out;
  for (const ImageLayer& l : arch.image) add_layer(l, shape, out);
  if (arch.head == "flatten")
    out.push_back(nn::Flatten{});
  else
    out.push_back(nn::GlobalAvgPool{});
  for (const DenseLayer& d : arch.dense)
    out.push_back(nn::Dense{d.units, nn::activation_from_string(d.activation)});
  out.push_back(nn::Dense{o.classes});
  return out;
}

}  // namespace

space::Space macro_space(const MacroOptions& options) {
  check(options);
  space::Space s;
  if (options.min_layers < options.max_layers)
    s.add(space::Param::Int("layers", options.min_layers, options.max_layers));
  for (std::int64_t i = 0; i < options.max_layers; ++i) add_image_layer(s, options, i);
  add_choice(s, "head", options.heads, {});
  if (options.max_dense_layers > 0)
    s.add(space::Param::Int("dense_layers", 0, options.max_dense_layers));
  for (std::int64_t i = 0; i < options.max_dense_layers; ++i) {
    const std::string prefix = "dense_" + std::to_string(i) + "/";
    const std::vector<space::Condition> deep = {
        {"dense_layers", range(i + 1, options.max_dense_layers)}};
    add_choice(s, prefix + "units", options.units, deep);
    add_choice(s, prefix + "activation", options.activations, deep);
  }
  return s;
}

std::vector<nn::Layer> macro_layers(const Params& params, const MacroOptions& options,
                                    const std::vector<std::int64_t>& input_shape) {
  return layers_of(arch_of(params, options), options, input_shape);
}

std::vector<nn::Layer> macro_layers(HyperParameters& hp, const MacroOptions& options,
                                    const std::vector<std::int64_t>& input_shape) {
  const space::Space s = macro_space(options);
  for (const space::Param& p : s.params()) hp.get(p);
  return macro_layers(hp.values(), options, input_shape);
}

std::string macro_string(const Params& params, const MacroOptions& options) {
  return detail::to_text(arch_of(params, options));
}

Params parse_macro_string(const std::string& text, const MacroOptions& options) {
  check(options);
  try {
    return params_of(detail::parse_text(text, options), options);
  } catch (const InvalidArgument& e) {
    throw InvalidArgument(kWho + ": '" + text + "': " + e.what());
  }
}

MacroOptions macro_options_from_json(const nlohmann::json& json) {
  const ComponentOptions c(kWho, json,
                           {"activations", "classes", "filters", "heads", "max_dense_layers",
                            "max_layers", "min_layers", "operations", "strides", "units"});
  MacroOptions o;
  o.min_layers = c.integer("min_layers", o.min_layers);
  o.max_layers = c.integer("max_layers", o.max_layers);
  o.operations = text_list(json, "operations", o.operations, kWho);
  o.filters = count_list(json, "filters", o.filters, kWho);
  o.activations = text_list(json, "activations", o.activations, kWho);
  o.strides = count_list(json, "strides", o.strides, kWho);
  o.heads = text_list(json, "heads", o.heads, kWho);
  o.max_dense_layers = c.integer("max_dense_layers", o.max_dense_layers);
  o.units = count_list(json, "units", o.units, kWho);
  o.classes = c.integer("classes", o.classes);
  check(o);
  return o;
}

}  // namespace quarry::nas
