// A chain-structured architecture space (the "macro" search of Zoph & Le, ICLR 2017, and of
// Elsken et al.'s survey, JMLR 2019): a chain of image layers, each an operation with its own
// filters, stride and activation, then a head (global average pooling, or every feature flattened)
// and a few dense layers.
//
//   quarry::Space space = quarry::nas::macro_space({.max_layers = 4, .filters = {8, 16}});
//   std::vector<quarry::nn::Layer> layers =
//       quarry::nas::macro_layers(params, options, {1, 28, 28});
//
// Parameters (names as in a study's params; a list of ONE value in the options is no parameter,
// its value is simply used):
//   layers               Int(min_layers, max_layers): how many image layers
//   layer_<i>/op         Choice(operations), active when layers > i
//   layer_<i>/filters    Choice(filters), active when layers > i and layer_<i>/op is a convolution
//   layer_<i>/stride     Choice(strides), same condition
//   layer_<i>/activation Choice(activations), same condition
//   head                 Choice(heads): "gap" (global average pooling: a small dense part whatever
//                        the image size) or "flatten" (every feature of the last image: more
//                        weights, learns in fewer epochs)
//   dense_layers         Int(0, max_dense_layers) (no parameter when max_dense_layers is 0)
//   dense_<i>/units      Choice(units), active when dense_layers > i
//   dense_<i>/activation Choice(activations), same condition
// i counts from 0, in this order (each parent before its children).
//
// Layers: for each image layer, conv<k>x<k> -> Conv2d(filters, k, stride, "same", activation),
// sepconv<k>x<k> -> SepConv2d(...), maxpool / avgpool -> a 2x2 pool of stride 2, identity ->
// Identity; then the head (GlobalAvgPool or Flatten), the dense layers, and Dense(classes) without
// activation (logits). Every sample builds: a layer that would
// make the image smaller than 2x2 (height or width) is not applied as asked: a pool becomes
// Identity, a strided convolution gets stride 1.
//
// Text (macro_string): image layers joined by "|", then "||", then the head when it is not "gap"
// and the dense layers, joined by "|":
//   "conv3x3-32-s1-relu|maxpool|sepconv3x3-64-s2-relu||dense-128-relu"      (global average pool)
//   "conv3x3-32-s1-relu|maxpool||flatten|dense-128-relu"                     (flattened)
// A convolution is "<op>-<filters>-s<stride>-<activation>", a pool or identity its op name, a
// dense layer "dense-<units>-<activation>"; "||" alone is no image layer and no dense layer.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "quarry/nn/spec.hpp"
#include "quarry/space/hyperparameters.hpp"
#include "quarry/space/space.hpp"

namespace quarry::nas {

/// The macro space's options (the keys of macro_options_from_json). Operations: conv1x1, conv3x3,
/// conv5x5, conv7x7, sepconv3x3, sepconv5x5, sepconv7x7, maxpool, avgpool, identity.
struct MacroOptions {
  std::int64_t min_layers = 1;  ///< >= 0
  std::int64_t max_layers = 5;  ///< >= max(min_layers, 1)
  std::vector<std::string> operations = {"conv3x3", "conv5x5", "sepconv3x3",
                                         "maxpool", "avgpool", "identity"};
  std::vector<std::int64_t> filters = {16, 32, 64};     ///< of the convolutions, each >= 1
  std::vector<std::string> activations = {"relu"};      ///< nn activation names
  std::vector<std::int64_t> strides = {1, 2};           ///< of the convolutions, each >= 1
  std::vector<std::string> heads = {"gap", "flatten"};  ///< "gap" and/or "flatten"
  std::int64_t max_dense_layers = 1;                    ///< >= 0
  std::vector<std::int64_t> units = {64, 128, 256};     ///< of the dense layers, each >= 1
  std::int64_t classes = 10;                            ///< outputs of the last layer, >= 1
};

/// The space of `options`; InvalidArgument ("macro space: ...") when the options break a rule.
space::Space macro_space(const MacroOptions& options);

/// The layers of one architecture for inputs of `input_shape` ({channels, height, width}).
/// Reads the space's parameters from `params` (other entries are ignored); InvalidArgument naming
/// the parameter when an active one is missing or holds a value outside the options.
std::vector<nn::Layer> macro_layers(const Params& params, const MacroOptions& options,
                                    const std::vector<std::int64_t>& input_shape);
/// Define-by-run: registers the whole space in `hp` (same names and definitions as macro_space)
/// and builds the layers of its values.
std::vector<nn::Layer> macro_layers(HyperParameters& hp, const MacroOptions& options,
                                    const std::vector<std::int64_t>& input_shape);

/// The architecture as text (see the format above).
std::string macro_string(const Params& params, const MacroOptions& options);
/// The parameters of a macro_string text (the active ones only); InvalidArgument naming the text
/// and the bad token: "macro space: 'conv3x3-33-s1-relu||': bad token 'conv3x3-33-s1-relu' ...".
Params parse_macro_string(const std::string& text, const MacroOptions& options);

/// Options from a study file's JSON object (null: the defaults); InvalidArgument ("macro space:
/// unknown option 'x'", "macro space: unknown operation 'conv9x9' (known: ...)") on one line.
MacroOptions macro_options_from_json(const nlohmann::json& json);

}  // namespace quarry::nas
