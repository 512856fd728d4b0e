// Network morphism, the weight-surgery half: writing a parent's weights into a child network
// along a MorphPlan (morphism_plan.cpp) so that it computes the same function (Net2WiderNet's
// replicated units, Net2DeeperNet's identity layers), and inherit_weights for the trainer.
#include "quarry/nn/morphism.hpp"

#include <variant>

#include "quarry/core/error.hpp"
#include "quarry/core/rng.hpp"
#include "quarry/nn/morphism_detail.hpp"

namespace quarry::nn {

namespace {

using detail::channelwise;
using Shape = std::vector<std::int64_t>;

/// Which parent unit (channel or feature) each child unit copies; the parent's width.
struct UnitMap {
  std::vector<std::int64_t> map;
  std::int64_t parent_width = 0;

  static UnitMap identity(std::int64_t width) {
    UnitMap m{{}, width};
    for (std::int64_t u = 0; u < width; ++u) m.map.push_back(u);
    return m;
  }
  torch::Tensor index() const { return torch::tensor(map, torch::kLong); }
  /// 1 / (how many child units copy the same parent unit), per child unit.
  torch::Tensor inverse_counts() const {
    std::vector<float> count(static_cast<std::size_t>(parent_width), 0);
    for (std::int64_t u : map) ++count[static_cast<std::size_t>(u)];
    std::vector<float> scale;
    for (std::int64_t u : map) scale.push_back(1.0F / count[static_cast<std::size_t>(u)]);
    return torch::tensor(scale);
  }
};

/// The modules build_layers made for one layer: [begin, end) of a Sequential.
struct Span {
  torch::nn::Sequential* net;
  std::size_t begin, end;

  template <typename M>
  M* find() const {
    for (std::size_t k = begin; k < end; ++k) {
      if (auto* m = (*net)->ptr(k)->as<M>()) return m;
    }
    return nullptr;
  }
  std::vector<torch::Tensor> state() const {
    std::vector<torch::Tensor> tensors;
    for (std::size_t k = begin; k < end; ++k) {
      for (const auto& p : (*net)->ptr(k)->parameters()) tensors.push_back(p);
      for (const auto& b : (*net)->ptr(k)->buffers()) tensors.push_back(b);
    }
    return tensors;
  }
};

std::vector<Span> spans(torch::nn::Sequential& net, const std::vector<std::size_t>& modules,
                        const char* which) {
  std::size_t total = 0;
  for (std::size_t m : modules) total += m;
  if (net->size() != total) {
    throw InvalidArgument(std::string("apply_morphism: the ") + which + " network has " +
                          std::to_string(net->size()) + " modules, its planned layers build " +
                          std::to_string(total));
  }
  std::vector<Span> out;
  std::size_t begin = 0;
  for (std::size_t m : modules) {
    out.push_back({&net, begin, begin + m});
    begin += m;
  }
  return out;
}

/// Net2WiderNet for one Dense / Conv2d: rows copy `out` (new ones drawn at random), columns take
/// the input's copies, each divided by its replication count. Returns the output's unit map.
UnitMap widen_weights(const torch::Tensor& pw, const torch::Tensor& pb, torch::Tensor cw,
                      torch::Tensor cb, const UnitMap& in, Rng rng, double noise) {
  UnitMap out = UnitMap::identity(pw.size(0));
  for (std::int64_t o = pw.size(0); o < cw.size(0); ++o) {
    out.map.push_back(static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(pw.size(0)))));
  }
  std::vector<std::int64_t> scale_shape(static_cast<std::size_t>(pw.dim()), 1);
  scale_shape[1] = -1;
  torch::Tensor w = pw.index_select(0, out.index()).index_select(1, in.index()) *
                    in.inverse_counts().view(scale_shape);
  const std::int64_t copies = cw.size(0) - pw.size(0);
  if (noise > 0 && copies > 0) {
    const double sd = pw.numel() > 1 ? pw.std().item<double>() : 1.0;
    std::vector<float> z(static_cast<std::size_t>(copies * (w.numel() / w.size(0))));
    for (float& v : z) v = static_cast<float>(noise * sd * rng.normal());
    w.narrow(0, pw.size(0), copies).add_(torch::tensor(z).view_as(w.narrow(0, pw.size(0), copies)));
  }
  cw.copy_(w);
  if (cb.defined() && pb.defined()) cb.copy_(pb.index_select(0, out.index()));
  return out;
}

/// Net2DeeperNet: a Dense / Conv2d whose output is its input.
void identity_weights(torch::Tensor w, torch::Tensor b) {
  w.zero_();
  const std::int64_t n = w.size(0);
  if (w.dim() == 2) {
    w.copy_(torch::eye(n));
  } else {
    const std::int64_t kh = (w.size(2) - 1) / 2, kw = (w.size(3) - 1) / 2;
    for (std::int64_t c = 0; c < n; ++c) w[c][c][kh][kw].fill_(1);
  }
  if (b.defined()) b.zero_();
}

/// A BatchNorm's per-channel state copied along `in` (`parent` null: the identity in eval mode).
template <typename BN>
void morph_batchnorm(const Span* parent, const Span& child, const UnitMap& in) {
  BN* c = child.find<BN>();
  if (!c) return;
  if (parent) {
    BN* p = parent->find<BN>();
    const torch::Tensor index = in.index();
    c->weight.copy_(p->weight.index_select(0, index));
    c->bias.copy_(p->bias.index_select(0, index));
    c->running_mean.copy_(p->running_mean.index_select(0, index));
    c->running_var.copy_(p->running_var.index_select(0, index));
    c->num_batches_tracked.copy_(p->num_batches_tracked);
  } else {  // inserted: the identity in eval mode
    c->weight.fill_(1);
    c->bias.zero_();
    c->running_mean.zero_();
    c->running_var.fill_(1 - c->options.eps());
    c->num_batches_tracked.zero_();
  }
}

/// A Flatten of an image {c, h, w}: feature c * h * w + s copies feature map[c] * h * w + s.
UnitMap flatten_map(const UnitMap& in, const Shape& shape) {
  if (shape.size() != 3) return in;
  const std::int64_t area = shape[1] * shape[2];
  UnitMap out{{}, in.parent_width * area};
  for (std::int64_t c : in.map) {
    for (std::int64_t s = 0; s < area; ++s) out.map.push_back(c * area + s);
  }
  return out;
}

/// The weight and bias of a span's Linear or Conv2d; undefined tensors when it has neither.
std::pair<torch::Tensor, torch::Tensor> weighted(const Span& span) {
  if (auto* linear = span.find<torch::nn::LinearImpl>()) return {linear->weight, linear->bias};
  if (auto* conv = span.find<torch::nn::Conv2dImpl>()) return {conv->weight, conv->bias};
  return {};
}

/// Morphs one child layer (`parent` null: inserted as the identity); returns the unit map after it.
UnitMap morph_layer(const Layer& layer, const Span* parent, const Span& child, const UnitMap& in,
                    const Shape& in_shape, const Shape& out_shape, Rng rng, double noise) {
  if (std::holds_alternative<Dense>(layer) || std::holds_alternative<Conv2d>(layer)) {
    const auto [cw, cb] = weighted(child);
    if (!parent) {
      identity_weights(cw, cb);
      return in;
    }
    const auto [pw, pb] = weighted(*parent);
    return widen_weights(pw, pb, cw, cb, in, rng, noise);
  }
  if (std::holds_alternative<BatchNorm>(layer)) {
    morph_batchnorm<torch::nn::BatchNorm1dImpl>(parent, child, in);
    morph_batchnorm<torch::nn::BatchNorm2dImpl>(parent, child, in);
    return in;
  }
  if (std::holds_alternative<Flatten>(layer)) return flatten_map(in, in_shape);
  if (channelwise(layer)) return in;
  if (parent) {  // identical in parent and child, with the same input: copy its state as it is
    const std::vector<torch::Tensor> from = parent->state(), to = child.state();
    for (std::size_t k = 0; k < to.size() && k < from.size(); ++k) to[k].copy_(from[k]);
  }
  return UnitMap::identity(out_shape.at(0));
}

}  // namespace

void apply_morphism(const MorphPlan& plan, torch::nn::Sequential& parent,
                    torch::nn::Sequential& child, std::uint64_t seed, double noise) {
  const std::vector<Span> pspans = spans(parent, plan.parent_modules, "parent");
  const std::vector<Span> cspans = spans(child, plan.child_modules, "child");
  torch::NoGradGuard no_grad;
  UnitMap units = UnitMap::identity(plan.input_shape.at(0));
  for (std::size_t i = 0; i < plan.child.size(); ++i) {
    const Span* from = plan.source[i] ? &pspans.at(*plan.source[i]) : nullptr;
    units = morph_layer(plan.child[i], from, cspans[i], units, plan.child_shapes[i],
                        plan.child_shapes[i + 1], Rng::stream(seed, {i}), noise);
    if (static_cast<std::int64_t>(units.map.size()) != plan.child_shapes[i + 1].at(0)) {
      throw InvalidArgument("apply_morphism: child layer " + std::to_string(i) + " " +
                            describe(plan.child[i]) + " does not match the plan's shapes");
    }
  }
}

bool inherit_weights(Model& child, const ModelSpec& child_spec, const ModelSpec& parent_spec,
                     const std::string& parent_checkpoint, std::uint64_t seed) {
  const auto plan = plan_morphism(parent_spec.layers, child_spec.layers, child.input_shape());
  if (!plan) return false;
  Model parent(parent_spec, child.input_shape());
  parent.load_checkpoint(parent_checkpoint);
  apply_morphism(*plan, parent.net(), child.net(), seed);
  return true;
}

}  // namespace quarry::nn
