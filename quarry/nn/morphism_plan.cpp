// Network morphism, the planning half: how a child layer list derives from a parent's (which
// child layer continues which parent layer, which are inserted as the identity), and the widen /
// deepen steps on specs. The weights are written by morphism.cpp.
//
// Layers are looked at one at a time: each is built alone (build_layers on {layer} with the shape
// propagated so far) to learn its output shape and how many torch modules it makes, so layer types
// this file does not know (the NAS blocks) are handled generically: they must be identical in
// parent and child and see the same input. The alignment of child layers to parent layers is a
// depth-first search over (child layer, parent layer, input non-negative), matching before
// inserting, with failed states remembered.
#include <set>
#include <tuple>
#include <variant>

#include "quarry/core/error.hpp"
#include "quarry/nn/morphism.hpp"
#include "quarry/nn/morphism_detail.hpp"

namespace quarry::nn {

namespace detail {

bool channelwise(const Layer& layer) {
  return std::holds_alternative<Flatten>(layer) || std::holds_alternative<MaxPool2d>(layer) ||
         std::holds_alternative<AvgPool2d>(layer) || std::holds_alternative<Dropout>(layer) ||
         std::holds_alternative<BatchNorm>(layer) ||
         std::holds_alternative<ActivationLayer>(layer) ||
         std::holds_alternative<GlobalAvgPool>(layer) || std::holds_alternative<Identity>(layer);
}

}  // namespace detail

namespace {

using detail::channelwise;

using Shape = std::vector<std::int64_t>;

/// What building one layer alone tells about it.
struct LayerInfo {
  Shape in, out;
  std::size_t modules = 0;
  bool has_state = false;        ///< parameters or buffers
  bool identity_signed = false;  ///< stateless, returns any input unchanged (eval mode)
  bool identity_nonneg = false;  ///< stateless, returns a non-negative input unchanged
};

/// A deterministic probe with both signs, [1, shape...].
torch::Tensor probe(const Shape& shape) {
  Shape sizes = {1};
  sizes.insert(sizes.end(), shape.begin(), shape.end());
  std::int64_t n = 1;
  for (std::int64_t d : shape) n *= d;
  return torch::sin(torch::arange(n, torch::kFloat) * 0.7 + 0.3).reshape(sizes);
}

std::vector<LayerInfo> layer_infos(const std::vector<Layer>& layers, const Shape& input_shape) {
  build_layers(layers, input_shape);  // errors name the layer by its index in the whole list
  torch::NoGradGuard no_grad;
  std::vector<LayerInfo> infos;
  Shape shape = input_shape;
  for (const Layer& layer : layers) {
    LayerInfo info;
    info.in = shape;
    torch::nn::Sequential net = build_layers({layer}, shape);
    net->eval();
    const torch::Tensor x = probe(shape);
    const torch::Tensor y = net->forward(x);
    info.out = Shape(y.sizes().begin() + 1, y.sizes().end());
    info.modules = net->size();
    info.has_state = !net->parameters().empty() || !net->buffers().empty();
    if (!info.has_state && info.out == shape) {
      info.identity_signed = torch::equal(y, x);
      info.identity_nonneg = torch::equal(net->forward(x.abs()), x.abs());
    }
    shape = info.out;
    infos.push_back(info);
  }
  return infos;
}

bool positive_activation(Activation a) {
  return a == Activation::Relu || a == Activation::Sigmoid;
}

/// Whether a layer's output is non-negative: true / false, or nullopt when it keeps its input's
/// sign (pools, dropout, flatten, identity, no activation).
std::optional<bool> nonneg_effect(const Layer& layer) {
  if (const auto* d = std::get_if<Dense>(&layer)) return positive_activation(d->activation);
  if (const auto* c = std::get_if<Conv2d>(&layer)) return positive_activation(c->activation);
  if (const auto* a = std::get_if<ActivationLayer>(&layer)) {
    if (a->activation == Activation::None) return std::nullopt;
    return positive_activation(a->activation);
  }
  const bool keeps =
      std::holds_alternative<Flatten>(layer) || std::holds_alternative<MaxPool2d>(layer) ||
      std::holds_alternative<AvgPool2d>(layer) || std::holds_alternative<Dropout>(layer) ||
      std::holds_alternative<GlobalAvgPool>(layer) || std::holds_alternative<Identity>(layer);
  if (keeps) return std::nullopt;
  return false;
}

/// The child's shape may be wider than the parent's in its first (channel / feature) axis only.
bool compatible(const Shape& child, const Shape& parent) {
  if (child.size() != parent.size() || child.empty()) return false;
  for (std::size_t k = 1; k < child.size(); ++k) {
    if (child[k] != parent[k]) return false;
  }
  return child[0] >= parent[0];
}

/// Whether child layer `c` continues parent layer `p` (same type and settings, maybe wider).
bool continues(const Layer& c, const LayerInfo& ci, const Layer& p, const LayerInfo& pi) {
  if (c.index() != p.index()) return false;
  if (const auto* cd = std::get_if<Dense>(&c)) {
    const auto& pd = std::get<Dense>(p);
    return cd->activation == pd.activation && cd->units >= pd.units;
  }
  if (const auto* cc = std::get_if<Conv2d>(&c)) {
    const auto& pc = std::get<Conv2d>(p);
    return cc->kernel_size == pc.kernel_size && cc->stride == pc.stride &&
           cc->same_padding == pc.same_padding && cc->activation == pc.activation &&
           cc->filters >= pc.filters;
  }
  if (describe(c) != describe(p)) return false;
  return channelwise(c) || ci.in == pi.in;
}

/// Whether child layer `c` can start as the identity where its input has `nonneg` values.
bool identity_at(const Layer& c, const LayerInfo& ci, bool nonneg) {
  if (ci.out != ci.in) return false;
  const auto activation_ok = [&](Activation a) {
    return a == Activation::None || (a == Activation::Relu && nonneg);
  };
  if (const auto* d = std::get_if<Dense>(&c)) return activation_ok(d->activation);
  if (const auto* conv = std::get_if<Conv2d>(&c)) {
    return conv->stride == 1 && (conv->same_padding || conv->kernel_size == 1) &&
           activation_ok(conv->activation);
  }
  if (std::holds_alternative<BatchNorm>(c)) return true;
  return !ci.has_state && (nonneg ? ci.identity_nonneg : ci.identity_signed);
}

/// The depth-first alignment of child layers to parent layers.
struct Aligner {
  const std::vector<Layer>& parent;
  const std::vector<Layer>& child;
  const std::vector<LayerInfo>& pinfo;
  const std::vector<LayerInfo>& cinfo;
  std::vector<std::optional<std::size_t>> source;
  std::set<std::tuple<std::size_t, std::size_t, bool>> failed;

  const Shape& parent_in(std::size_t j) const {
    return j < parent.size() ? pinfo[j].in : pinfo.back().out;
  }

  bool search(std::size_t i, std::size_t j, bool nonneg) {
    if (i == child.size()) return j == parent.size() && cinfo.back().out == parent_in(j);
    if (!compatible(cinfo[i].in, parent_in(j)) || failed.count({i, j, nonneg})) return false;
    if (j < parent.size() && continues(child[i], cinfo[i], parent[j], pinfo[j])) {
      source.push_back(j);
      if (search(i + 1, j + 1, nonneg_effect(child[i]).value_or(nonneg))) return true;
      source.pop_back();
    }
    if (identity_at(child[i], cinfo[i], nonneg)) {
      source.push_back(std::nullopt);
      const bool after = std::holds_alternative<BatchNorm>(child[i]) ? false : nonneg;
      if (search(i + 1, j, after)) return true;
      source.pop_back();
    }
    failed.insert({i, j, nonneg});
    return false;
  }
};

std::int64_t width_of(const Layer& layer) {
  if (const auto* d = std::get_if<Dense>(&layer)) return d->units;
  if (const auto* c = std::get_if<Conv2d>(&layer)) return c->filters;
  return 0;
}

std::vector<std::string> describe_steps(const MorphPlan& plan) {
  std::vector<std::string> steps;
  for (std::size_t i = 0; i < plan.child.size(); ++i) {
    const std::string layer = "layer " + std::to_string(i) + " " + describe(plan.child[i]);
    if (!plan.source[i]) {
      steps.push_back("insert " + layer + " as the identity");
    } else if (const std::int64_t from = width_of(plan.parent[*plan.source[i]]);
               from != width_of(plan.child[i])) {
      steps.push_back("widen " + layer + " from " + std::to_string(from));
    }
  }
  return steps;
}

}  // namespace

std::optional<MorphPlan> plan_morphism(const std::vector<Layer>& parent,
                                       const std::vector<Layer>& child,
                                       const std::vector<std::int64_t>& input_shape) {
  if (parent.empty() || child.empty()) return std::nullopt;
  const std::vector<LayerInfo> pinfo = layer_infos(parent, input_shape);
  const std::vector<LayerInfo> cinfo = layer_infos(child, input_shape);
  Aligner aligner{parent, child, pinfo, cinfo, {}, {}};
  if (!aligner.search(0, 0, false)) return std::nullopt;
  MorphPlan plan{parent, child, input_shape, std::move(aligner.source), {}, {}, {}, {}};
  for (const LayerInfo& info : pinfo) plan.parent_modules.push_back(info.modules);
  for (const LayerInfo& info : cinfo) {
    plan.child_modules.push_back(info.modules);
    plan.child_shapes.push_back(info.in);
  }
  plan.child_shapes.push_back(cinfo.back().out);
  plan.steps = describe_steps(plan);
  return plan;
}

ModelSpec widen(const ModelSpec& spec, std::size_t layer, std::int64_t new_width) {
  if (layer >= spec.layers.size()) {
    throw InvalidArgument("widen: layer " + std::to_string(layer) +
                          " is out of range; the spec has " + std::to_string(spec.layers.size()) +
                          " layers");
  }
  ModelSpec child = spec;
  std::int64_t* width = nullptr;
  if (auto* d = std::get_if<Dense>(&child.layers[layer])) width = &d->units;
  if (auto* c = std::get_if<Conv2d>(&child.layers[layer])) width = &c->filters;
  const std::string what =
      "widen: layer " + std::to_string(layer) + " " + describe(spec.layers[layer]);
  if (!width) throw InvalidArgument(what + " is not a dense or conv2d layer");
  if (new_width < *width) {
    throw InvalidArgument(what + ": the new width must be >= " + std::to_string(*width) + ", got " +
                          std::to_string(new_width));
  }
  *width = new_width;
  return child;
}

ModelSpec deepen(const ModelSpec& spec, std::size_t after_layer) {
  const std::string who = "deepen: after layer " + std::to_string(after_layer);
  if (after_layer >= spec.layers.size()) {
    throw InvalidArgument(who + " is out of range; the spec has " +
                          std::to_string(spec.layers.size()) + " layers");
  }
  std::optional<bool> nonneg;
  for (std::size_t k = after_layer + 1; k-- > 0;) {
    const Layer& layer = spec.layers[k];
    if (!nonneg) nonneg = nonneg_effect(layer);
    Activation activation = nonneg.value_or(false) ? Activation::Relu : Activation::None;
    ModelSpec child = spec;
    const auto at = child.layers.begin() + static_cast<std::ptrdiff_t>(after_layer) + 1;
    if (const auto* d = std::get_if<Dense>(&layer)) {
      child.layers.insert(at, Dense{.units = d->units, .activation = activation});
      return child;
    }
    if (const auto* c = std::get_if<Conv2d>(&layer)) {
      child.layers.insert(at, Conv2d{.filters = c->filters,
                                     .kernel_size = 3,
                                     .stride = 1,
                                     .same_padding = true,
                                     .activation = activation});
      return child;
    }
    if (!channelwise(layer) || std::holds_alternative<Flatten>(layer) ||
        std::holds_alternative<GlobalAvgPool>(layer)) {
      break;
    }
  }
  throw InvalidArgument(who +
                        ": the width there is unknown; it needs a dense or conv2d layer at "
                        "or before it with only batchnorm, activation, dropout or pooling between");
}

}  // namespace quarry::nn
