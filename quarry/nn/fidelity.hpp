// Lower fidelities: what a multi-fidelity scheduler's budget buys when it is not epochs (Fidelity),
// and the views of a model and its data at a fraction of the full budget (a fraction of the width,
// a lower image resolution). Torch-free (core library).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "quarry/data/dataset.hpp"
#include "quarry/nn/spec.hpp"

namespace quarry::nn {

/// What a multi-fidelity scheduler's budget buys (training.hpp): epochs, or a fraction of the
/// training rows, the image resolution, the filters or the cells.
enum class Fidelity { Epochs, Rows, Resolution, Filters, Cells };
/// Every Fidelity, in that order.
const std::vector<Fidelity>& fidelities();
/// "epochs", "rows", "resolution", "filters", "cells".
std::string to_string(Fidelity f);
/// InvalidArgument "unknown fidelity 'x' (known: epochs, rows, ...)".
Fidelity fidelity_from_string(const std::string& s);

/// The fraction of the full model and data a budget buys: min(1, budget / max_budget); 1 when the
/// budget is 0 (the full budget) or max_budget is not positive.
double budget_fraction(double budget, double max_budget);

/// `layers` with every width (Dense units, Conv2d / SepConv2d filters, ResidualReduce filters)
/// times `fraction`, rounded up and at least 1, except the last Dense: it gives the outputs.
std::vector<Layer> scale_width(const std::vector<Layer>& layers, double fraction);

/// The side of an image `side` pixels wide at `fraction` of the resolution: max(8, round(f *
/// side)), never more than `side`.
std::int64_t scaled_side(std::int64_t side, double fraction);

/// The images of `d` ({channels, height, width} rows) resized to height x width by area averaging
/// (each output pixel the mean of the input pixels it covers, partial pixels weighted). Throws
/// InvalidArgument when `d` does not hold images.
data::Dataset resize_images(const data::Dataset& d, std::int64_t height, std::int64_t width);

}  // namespace quarry::nn
