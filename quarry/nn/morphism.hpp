// Weight inheritance by network morphism: a child architecture derived from a trained parent by
// function-preserving steps starts from the parent's weights instead of from scratch.
//
//   auto child = quarry::nn::deepen(quarry::nn::widen(parent_spec, 0, 128), 0);
//   quarry::nn::Model model(child, {2});
//   quarry::nn::inherit_weights(model, child, parent_spec, "parent.ckpt", /*seed=*/1);
//
// The two steps of Net2Net (Chen, Goodfellow & Shlens, "Net2Net: Accelerating Learning via
// Knowledge Transfer", ICLR 2016), as network morphism (Wei, Wang, Rui & Chen, "Network
// Morphism", ICML 2016) composes them:
//  - Net2WiderNet: a Dense's units or a Conv2d's filters grow. Each new unit copies a randomly
//    chosen existing one (its incoming weights and bias); the next Dense / Conv2d divides the
//    outgoing weights of every replicated unit by its replication count, so the sum is unchanged.
//    A BatchNorm, activation, pool, dropout or global average pool between them is widened with
//    the same copies; a Flatten maps the copied channels to their flattened features.
//  - Net2DeeperNet: a layer the parent lacks, initialised as the identity: a Dense whose units
//    equal its input width (weights I, bias 0), a Conv2d with stride 1, same padding (or a 1x1
//    kernel) and filters equal to its input channels (the centre tap of each channel's kernel 1,
//    the rest 0). Their activation must be none, or relu where the input is non-negative (after a
//    relu or sigmoid, through pools, dropout and flatten). Also any layer without parameters that
//    returns its input at that position (Identity, Dropout, relu on a non-negative input), and a
//    BatchNorm (gamma 1, beta 0, running mean 0, running variance 1 - eps: exactly the identity in
//    eval mode; in training mode it normalises by the batch statistics, so it preserves the
//    function only up to the per-channel mean and scale of its input, as in Net2Net's own
//    discussion of batch normalisation).
// Every other child layer must equal its parent layer (same type and settings, describe() for
// the types this file does not know, which must also see the parent's input size). The output
// width cannot change. Planning (plan_morphism, widen, deepen) is in morphism_plan.cpp, the weight
// surgery (apply_morphism, inherit_weights) in morphism.cpp. Includes <torch/torch.h>: keep it
// out of the search core.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "quarry/nn/model.hpp"

namespace quarry::nn {

/// How a child layer list derives from a parent layer list (see above). Made by plan_morphism.
struct MorphPlan {
  std::vector<Layer> parent;
  std::vector<Layer> child;
  std::vector<std::int64_t> input_shape;  ///< one example, e.g. {1, 28, 28}
  /// For each child layer: the parent layer it continues (same type, possibly wider), or nullopt
  /// for a layer inserted as the identity.
  std::vector<std::optional<std::size_t>> source;
  /// torch modules build_layers makes for each layer (a conv's ZeroPad2d and activation...).
  std::vector<std::size_t> parent_modules, child_modules;
  /// The shape of one example entering each child layer, then the output's.
  std::vector<std::vector<std::int64_t>> child_shapes;
  /// One line per step, for logs: "widen layer 0 dense(64, relu) from 32 units", "insert layer 1
  /// dense(64, relu) as the identity".
  std::vector<std::string> steps;
};

/// The plan deriving `child` from `parent` for inputs of `input_shape`, or nullopt when no
/// sequence of widen / deepen steps does (a narrower layer, another op or setting, a pool
/// inserted, a widened output...). Both lists must build (InvalidArgument from build_layers).
std::optional<MorphPlan> plan_morphism(const std::vector<Layer>& parent,
                                       const std::vector<Layer>& child,
                                       const std::vector<std::int64_t>& input_shape);

/// Writes into `child` (built by build_layers from plan.child) the parent's weights morphed by
/// `plan`: the child computes the parent's function (eval mode; exactly when `noise` is 0). The
/// copies of new units are drawn from Rng::stream(seed, {child layer}); `noise` > 0 adds
/// noise * sd(parent weights) * N(0, 1) to the incoming weights of the copied units, breaking
/// their symmetry (Net2Net's suggestion), at the cost of exactness. Tensors are written in place,
/// so an optimizer made over `child`'s parameters keeps pointing at them. Throws InvalidArgument
/// when a network does not have the modules the plan's layers build.
void apply_morphism(const MorphPlan& plan, torch::nn::Sequential& parent,
                    torch::nn::Sequential& child, std::uint64_t seed, double noise = 0);

/// For the trainer: builds the parent from `parent_spec` (for child.input_shape()), loads the
/// weights of `parent_checkpoint` (a file Model::save_checkpoint wrote; its optimizer state is
/// not carried over: the child's optimizer starts fresh) and morphs them into `child`. Returns
/// false, changing nothing, when plan_morphism finds no plan. Throws InvalidArgument naming the
/// file when it is missing or is not a checkpoint of the parent.
bool inherit_weights(Model& child, const ModelSpec& child_spec, const ModelSpec& parent_spec,
                     const std::string& parent_checkpoint, std::uint64_t seed);

/// `spec` with layer `layer` (a Dense or Conv2d) widened to `new_width` units / filters. Throws
/// InvalidArgument for another layer type, an index out of range or a narrower width.
ModelSpec widen(const ModelSpec& spec, std::size_t layer, std::int64_t new_width);

/// `spec` with an identity-initialisable layer inserted after layer `after_layer`: a Dense
/// (flat) or 3x3 same Conv2d (image) as wide as the nearest Dense / Conv2d at or before
/// `after_layer`, relu when its input is non-negative (else no activation). Throws
/// InvalidArgument when the index is out of range or the width is unknown (no Dense / Conv2d
/// before it, or a Flatten in between).
ModelSpec deepen(const ModelSpec& spec, std::size_t after_layer);

}  // namespace quarry::nn
