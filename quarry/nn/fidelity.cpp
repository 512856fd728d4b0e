#include "quarry/nn/fidelity.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "quarry/core/error.hpp"

namespace quarry::nn {

namespace {

std::int64_t scaled(std::int64_t width, double fraction) {
  return std::max<std::int64_t>(
      1, static_cast<std::int64_t>(std::ceil(static_cast<double>(width) * fraction - 1e-9)));
}

/// weights[o][i]: how much of input cell i output cell o covers, normalised to sum 1 per output.
std::vector<std::vector<double>> area_weights(std::int64_t in, std::int64_t out) {
  std::vector<std::vector<double>> w(out, std::vector<double>(in, 0.0));
  const double ratio = static_cast<double>(in) / static_cast<double>(out);
  for (std::int64_t o = 0; o < out; ++o) {
    const double begin = o * ratio, end = (o + 1) * ratio;
    for (auto i = static_cast<std::int64_t>(begin); i < in && i < end; ++i)
      w[o][i] = (std::min(end, i + 1.0) - std::max(begin, static_cast<double>(i))) / ratio;
  }
  return w;
}

}  // namespace

std::string to_string(Fidelity f) {
  switch (f) {
    case Fidelity::Epochs:
      return "epochs";
    case Fidelity::Rows:
      return "rows";
    case Fidelity::Resolution:
      return "resolution";
    case Fidelity::Filters:
      return "filters";
    case Fidelity::Cells:
      return "cells";
  }
  return "";
}

const std::vector<Fidelity>& fidelities() {
  static const std::vector<Fidelity> kAll = {Fidelity::Epochs, Fidelity::Rows, Fidelity::Resolution,
                                             Fidelity::Filters, Fidelity::Cells};
  return kAll;
}

Fidelity fidelity_from_string(const std::string& s) {
  std::string known;
  for (Fidelity f : fidelities()) {
    if (to_string(f) == s) return f;
    known += (known.empty() ? "" : ", ") + to_string(f);
  }
  throw InvalidArgument("unknown fidelity '" + s + "' (known: " + known + ")");
}

double budget_fraction(double budget, double max_budget) {
  if (!(budget > 0) || !(max_budget > 0)) return 1;
  return std::min(1.0, budget / max_budget);
}

std::vector<Layer> scale_width(const std::vector<Layer>& layers, double fraction) {
  if (!(fraction > 0)) throw InvalidArgument("scale_width: the fraction must be > 0");
  std::vector<Layer> out = layers;
  std::size_t last_dense = out.size();
  for (std::size_t i = 0; i < out.size(); ++i)
    if (std::holds_alternative<Dense>(out[i])) last_dense = i;
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (auto* d = std::get_if<Dense>(&out[i]); d != nullptr && i != last_dense)
      d->units = scaled(d->units, fraction);
    if (auto* c = std::get_if<Conv2d>(&out[i])) c->filters = scaled(c->filters, fraction);
    if (auto* c = std::get_if<SepConv2d>(&out[i])) c->filters = scaled(c->filters, fraction);
    if (auto* r = std::get_if<ResidualReduce>(&out[i])) r->filters = scaled(r->filters, fraction);
  }
  return out;
}

std::int64_t scaled_side(std::int64_t side, double fraction) {
  const auto s = static_cast<std::int64_t>(std::lround(static_cast<double>(side) * fraction));
  return std::min(side, std::max<std::int64_t>(8, s));
}

data::Dataset resize_images(const data::Dataset& d, std::int64_t height, std::int64_t width) {
  if (d.shape.size() != 3)
    throw InvalidArgument("resize_images: " + d.source + " does not hold images (shape of " +
                          std::to_string(d.shape.size()) + " dimensions)");
  if (height < 1 || width < 1) throw InvalidArgument("resize_images: sizes must be >= 1");
  const std::int64_t channels = d.shape[0], in_h = d.shape[1], in_w = d.shape[2];
  const auto wy = area_weights(in_h, height), wx = area_weights(in_w, width);
  data::Dataset out = d;
  out.shape = {channels, height, width};
  out.x.assign(static_cast<std::size_t>(d.rows() * channels * height * width), 0.0f);
  std::vector<double> rows(static_cast<std::size_t>(height * in_w));
  for (std::int64_t n = 0; n < d.rows() * channels; ++n) {
    const float* in = d.x.data() + n * in_h * in_w;
    float* o = out.x.data() + n * height * width;
    std::fill(rows.begin(), rows.end(), 0.0);
    for (std::int64_t y = 0; y < height; ++y)
      for (std::int64_t r = 0; r < in_h; ++r)
        if (const double w = wy[y][r]; w > 0)
          for (std::int64_t c = 0; c < in_w; ++c) rows[y * in_w + c] += w * in[r * in_w + c];
    for (std::int64_t y = 0; y < height; ++y)
      for (std::int64_t x = 0; x < width; ++x) {
        double sum = 0;
        for (std::int64_t c = 0; c < in_w; ++c) sum += wx[x][c] * rows[y * in_w + c];
        o[y * width + x] = static_cast<float>(sum);
      }
  }
  return out;
}

}  // namespace quarry::nn
