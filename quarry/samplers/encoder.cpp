#include "quarry/samplers/encoder.hpp"

#include <algorithm>
#include <string>

#include "quarry/core/error.hpp"

namespace quarry::samplers {

using space::Param;

namespace {

Encoder::Kind kind_of(const Param& p) {
  const std::size_t levels = p.count();
  if (p.kind() == space::ParamKind::Fixed || (p.is_discrete() && levels < 2))
    return Encoder::Kind::None;
  if (!p.is_discrete()) return Encoder::Kind::Continuous;
  if (p.kind() == space::ParamKind::Choice && !p.ordered() && levels > 2)
    return Encoder::Kind::OneHot;
  return Encoder::Kind::Ordinal;
}

/// The index of `v` among the choices of `p` (a legal value).
std::size_t choice_index(const Param& p, const Value& v) {
  const auto& choices = p.choices();
  const auto at = std::find_if(choices.begin(), choices.end(),
                               [&](const Value& c) { return space::same_value(c, v); });
  return static_cast<std::size_t>(at - choices.begin());
}

}  // namespace

Encoder::Encoder(const Space& space) : params_(space.params()) {
  for (const Param& p : params_) {
    Block b{.kind = kind_of(p), .offset = dims_, .width = 0, .levels = p.count()};
    if (b.kind == Kind::OneHot)
      b.width = b.levels;
    else if (b.kind != Kind::None)
      b.width = 1;
    dims_ += b.width;
    blocks_.push_back(b);
  }
}

std::vector<double> Encoder::encode(const Params& values) const {
  std::vector<double> x(dims_, kInactive);
  for (std::size_t i = 0; i < params_.size(); ++i) {
    const Param& p = params_[i];
    const Block& b = blocks_[i];
    if (b.kind == Kind::None) continue;
    const auto it = values.find(p.name());
    if (it != values.end() && p.contains(it->second) && Space::is_active(p, values))
      set(x, i, it->second);
    else if (b.kind == Kind::OneHot)
      std::fill_n(x.begin() + static_cast<std::ptrdiff_t>(b.offset), b.width, 0.0);
  }
  return x;
}

void Encoder::set(std::span<double> x, std::size_t i, const Value& value) const {
  const Param& p = params_[i];
  const Block& b = blocks_[i];
  if (b.kind == Kind::OneHot) {
    std::fill_n(x.begin() + static_cast<std::ptrdiff_t>(b.offset), b.width, 0.0);
    x[b.offset + choice_index(p, value)] = 1.0;
  } else if (b.kind != Kind::None) {
    x[b.offset] = p.to_unit(value);
  }
}

Params Encoder::decode(std::span<const double> x) const {
  if (x.size() != dims_)
    throw InvalidArgument("Encoder: a point of " + std::to_string(x.size()) +
                          " columns; the space encodes to " + std::to_string(dims_));
  Params out;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    const Param& p = params_[i];
    if (!Space::is_active(p, out)) continue;
    const Block& b = blocks_[i];
    if (b.kind == Kind::OneHot) {
      const auto first = x.begin() + static_cast<std::ptrdiff_t>(b.offset);
      const auto largest = std::max_element(first, first + static_cast<std::ptrdiff_t>(b.width));
      out[p.name()] = p.choices()[static_cast<std::size_t>(largest - first)];
    } else {
      out[p.name()] = p.from_unit(b.kind == Kind::None ? kInactive : x[b.offset]);
    }
  }
  return out;
}

}  // namespace quarry::samplers
