// resolve(): one trial's spec from a ModelTemplate, its values checked by the rules of
// nn/spec_rules.hpp; and the layers and text of a `nas:` section's architecture.
#include <algorithm>
#include <cmath>

#include "quarry/config/model_section.hpp"
#include "quarry/core/error.hpp"
#include "quarry/nas/macro.hpp"
#include "quarry/nas/micro.hpp"
#include "quarry/nn/spec_rules.hpp"

namespace quarry::config {

namespace {

/// The architecture's layers for one trial (a `nas:` section).
std::vector<nn::Layer> nas_layers(const NasSection& nas, const space::Params& params,
                                  const std::vector<std::int64_t>& input_shape, double cells) {
  if (input_shape.empty())
    throw InvalidArgument("nas: the layers of an architecture need the input's shape");
  if (nas.space == "macro")
    return nas::macro_layers(params, nas::macro_options_from_json(nas.options), input_shape);
  nas::MicroOptions options = nas::micro_options_from_json(nas.options);
  options.cells = std::max<std::int64_t>(
      1, static_cast<std::int64_t>(std::lround(static_cast<double>(options.cells) * cells)));
  return nas::micro_layers(params, options, input_shape);
}

}  // namespace

std::string architecture_string(const ModelTemplate& model, const space::Params& params) {
  if (!model.nas) return "";
  if (model.nas->space == "macro")
    return nas::macro_string(params, nas::macro_options_from_json(model.nas->options));
  return nas::micro_string(params, nas::micro_options_from_json(model.nas->options));
}

nn::ModelSpec resolve(const ModelTemplate& model, const space::Params& params,
                      const std::vector<std::int64_t>& input_shape, double cells) {
  nn::ModelSpec spec = model.spec;
  if (model.nas) spec.layers = nas_layers(*model.nas, params, input_shape, cells);
  bool optimizer_searched = false;
  for (const auto& slot : model.slots) {
    const auto it = params.find(slot.param);
    if (it == params.end()) continue;  // inactive: the default stays
    const bool in_layer = slot.layer.has_value();
    if (in_layer && *slot.layer >= spec.layers.size())
      throw InvalidArgument(slot.key + ": no layer " + std::to_string(*slot.layer));
    const auto& fields = in_layer ? nn::layer_fields(spec.layers[*slot.layer]).fields
                                  : nn::optimizer_fields(spec.optimizer.kind).fields;
    const nn::FieldRule* field = nn::find_field(fields, slot.field);
    if (field == nullptr) throw InvalidArgument(slot.key + ": no field '" + slot.field + "'");
    if (!nn::accepts(field->rule, it->second))
      throw InvalidArgument(slot.key + ": expected " + nn::rule_text(field->rule) + ", got " +
                            space::to_string(it->second) + " (parameter '" + slot.param + "')");
    if (in_layer) {
      nn::set_field(spec.layers[*slot.layer], slot.field, it->second);
    } else {
      nn::set_field(spec.optimizer, slot.field, it->second);
      optimizer_searched = true;
    }
  }
  if (optimizer_searched)  // the rules between fields, on this trial's values
    if (const auto problem = nn::optimizer_problem(spec.optimizer))
      throw InvalidArgument("model.optimizer: " + *problem);
  return spec;
}

}  // namespace quarry::config
