// Internal to nn/morphism_plan.cpp and nn/morphism.cpp: what planning and weight surgery share.
#pragma once

#include "quarry/nn/spec.hpp"

namespace quarry::nn::detail {

/// Layers that act on each channel (feature) alone: a widened input passes through them
/// (flatten, pools, dropout, batchnorm, activation, global average pool, identity).
bool channelwise(const Layer& layer);

}  // namespace quarry::nn::detail
