// `model:` -> ModelTemplate, and resolve(). Each layer and optimizer field has a rule (an integer
// >= 1, a number in [0, 1)...) checked on literal values, on every value a searched parameter can
// take (at load time) and on the values a trial brings (in resolve).
#include "quarry/config/model_section.hpp"

#include <algorithm>
#include <cmath>
#include <tuple>
#include <type_traits>

#include "quarry/config/yaml_fields.hpp"
#include "quarry/core/error.hpp"
#include "quarry/nas/macro.hpp"
#include "quarry/nas/micro.hpp"

namespace quarry::config {

namespace {

using namespace detail;
using space::Param;
using space::ParamKind;
using space::Value;

// --- the rules a field's values follow ------------------------------------------------------

enum class Rule { count, fraction, positive, non_negative, boolean, activation, padding };

std::string rule_text(Rule rule) {
  switch (rule) {
    case Rule::count:
      return "an integer >= 1";
    case Rule::fraction:
      return "a number in [0, 1)";
    case Rule::positive:
      return "a number > 0";
    case Rule::non_negative:
      return "a number >= 0";
    case Rule::boolean:
      return "true or false";
    case Rule::activation:
      return "an activation (none, relu, tanh, sigmoid, gelu)";
    case Rule::padding:
      return "same or valid";
  }
  return "";
}

bool is_activation(const std::string& s) {
  try {
    nn::activation_from_string(s);
    return true;
  } catch (const InvalidArgument&) {
    return false;
  }
}

bool accepts(Rule rule, const Value& v) {
  const auto* text = std::get_if<std::string>(&v);
  if (rule == Rule::boolean) return std::holds_alternative<bool>(v);
  if (rule == Rule::activation) return text != nullptr && is_activation(*text);
  if (rule == Rule::padding) return text != nullptr && (*text == "same" || *text == "valid");
  if (text != nullptr || std::holds_alternative<bool>(v)) return false;
  const double x = space::to_double(v);  // an integer read back from JSON may be a double
  switch (rule) {
    case Rule::count:
      return x >= 1 && x == std::trunc(x) && x <= 0x1.0p53;
    case Rule::fraction:
      return x >= 0 && x < 1;
    case Rule::positive:
      return x > 0 && std::isfinite(x);
    default:
      return x >= 0 && std::isfinite(x);
  }
}

/// A literal value of the field, checked.
Value literal(const Field& f, Rule rule) {
  const Value v = value_of(f, rule_text(rule));
  if (!accepts(rule, v)) f.fail("expected " + rule_text(rule) + ", got " + show(f.node));
  return v;
}

/// Every value `p` can take follows `rule` (the bounds of a range, else each value).
void check_param(const Param& p, Rule rule, const Field& f) {
  const std::string head = p.describe() + ": every value must be " + rule_text(rule);
  if (p.kind() == ParamKind::Float && rule == Rule::count)
    f.fail(head + "; use {int: [low, high]} or {choice: [...]}");
  std::vector<Value> values = p.discrete_values();
  if (p.kind() == ParamKind::Int)
    values = {static_cast<std::int64_t>(p.low()), static_cast<std::int64_t>(p.high())};
  else if (p.kind() == ParamKind::Float)
    values = {p.low(), p.high()};
  for (const Value& v : values)
    if (!accepts(rule, v)) f.fail(head + ", got " + space::to_string(v));
}

// --- fields of layers and optimizers --------------------------------------------------------

struct FieldInfo {
  std::string_view key;  // as in the file
  Rule rule;
  std::string_view name;  // the automatic parameter name
};

struct LayerKind {
  std::string_view name;
  nn::Layer prototype;            // the defaults
  std::vector<FieldInfo> fields;  // the first is the shorthand's: {dense: 64}
  bool needs_first = false;       // no default for the first field
};

const std::vector<LayerKind>& layer_kinds() {
  static const FieldInfo kActivation{"activation", Rule::activation, "activation"};
  static const std::vector<LayerKind> kKinds = {
      {"flatten", nn::Flatten{}, {}},
      {"dense", nn::Dense{}, {{"units", Rule::count, "units"}, kActivation}, true},
      {"conv2d",
       nn::Conv2d{},
       {{"filters", Rule::count, "filters"},
        {"kernel_size", Rule::count, "kernel_size"},
        {"strides", Rule::count, "strides"},
        {"padding", Rule::padding, "padding"},
        kActivation},
       true},
      {"maxpool",
       nn::MaxPool2d{},
       {{"pool_size", Rule::count, "pool_size"}, {"strides", Rule::count, "strides"}}},
      {"avgpool",
       nn::AvgPool2d{},
       {{"pool_size", Rule::count, "pool_size"}, {"strides", Rule::count, "strides"}}},
      {"dropout", nn::Dropout{}, {{"rate", Rule::fraction, "dropout"}}, true},
      {"batchnorm", nn::BatchNorm{}, {}},
      {"activation", nn::ActivationLayer{}, {kActivation}, true}};
  return kKinds;
}

struct OptimizerInfo {
  nn::OptimizerSpec defaults;
  Keys fields;
};

const std::vector<FieldInfo>& optimizer_fields() {
  static const std::vector<FieldInfo> kFields = {
      {"learning_rate", Rule::positive, "learning_rate"},
      {"momentum", Rule::fraction, "momentum"},
      {"nesterov", Rule::boolean, "nesterov"},
      {"beta_1", Rule::fraction, "beta_1"},
      {"beta_2", Rule::fraction, "beta_2"},
      {"epsilon", Rule::non_negative, "epsilon"},
      {"weight_decay", Rule::non_negative, "weight_decay"},
      {"rho", Rule::fraction, "rho"}};
  return kFields;
}

OptimizerInfo optimizer_info(nn::OptimizerKind kind) {
  switch (kind) {
    case nn::OptimizerKind::sgd:
      return {nn::SGD(), {"learning_rate", "momentum", "nesterov"}};
    case nn::OptimizerKind::adamw:
      return {nn::AdamW(), {"learning_rate", "beta_1", "beta_2", "epsilon", "weight_decay"}};
    case nn::OptimizerKind::rmsprop:
      return {nn::RMSprop(), {"learning_rate", "rho", "momentum", "epsilon"}};
    default:
      return {nn::Adam(), {"learning_rate", "beta_1", "beta_2", "epsilon"}};
  }
}

const FieldInfo* field_info(const std::vector<FieldInfo>& fields, std::string_view key) {
  for (const auto& f : fields)
    if (f.key == key) return &f;
  return nullptr;
}

const LayerKind& kind_of(const nn::Layer& layer) {
  for (const auto& k : layer_kinds())
    if (k.prototype.index() == layer.index()) return k;
  return layer_kinds().front();
}

std::int64_t as_int(const Value& v) {
  return std::llround(space::to_double(v));
}

void set_field(nn::Layer& layer, std::string_view key, const Value& v) {
  std::visit(
      [&](auto& l) {
        using T = std::decay_t<decltype(l)>;
        if constexpr (std::is_same_v<T, nn::Dense>) {
          if (key == "units") l.units = as_int(v);
        } else if constexpr (std::is_same_v<T, nn::Conv2d>) {
          if (key == "filters") l.filters = as_int(v);
          if (key == "kernel_size") l.kernel_size = as_int(v);
          if (key == "strides") l.stride = as_int(v);
          if (key == "padding") l.same_padding = std::get<std::string>(v) == "same";
        } else if constexpr (std::is_same_v<T, nn::MaxPool2d> || std::is_same_v<T, nn::AvgPool2d>) {
          if (key == "pool_size") l.pool_size = as_int(v);
          if (key == "strides") l.stride = as_int(v);
        } else if constexpr (std::is_same_v<T, nn::Dropout>) {
          l.rate = space::to_double(v);
        }
        if constexpr (requires { l.activation; })
          if (key == "activation")
            l.activation = nn::activation_from_string(std::get<std::string>(v));
      },
      layer);
}

void set_field(nn::OptimizerSpec& o, std::string_view key, const Value& v) {
  if (key == "nesterov") {
    o.nesterov = std::get<bool>(v);
    return;
  }
  const double x = space::to_double(v);
  if (key == "learning_rate") o.learning_rate = x;
  if (key == "momentum") o.momentum = x;
  if (key == "beta_1") o.beta1 = x;
  if (key == "beta_2") o.beta2 = x;
  if (key == "epsilon") o.epsilon = x;
  if (key == "weight_decay") o.weight_decay = x;
  if (key == "rho") o.rho = x;
}

// --- reading ---------------------------------------------------------------------------------

struct Reader {
  space::Space& space;
  ModelTemplate& out;
};

/// The explicit `name:` of a definition, else `automatic` or the first of automatic_2, _3... free.
std::string param_name(const space::Space& space, const Field& f, std::string_view automatic) {
  const Entries es = entries(f, {});
  if (const Field* n = find(es, "name")) {
    const std::string name = text_of(*n);
    if (name.empty()) n->fail("expected a parameter name, got an empty text");
    return name;
  }
  std::string name(automatic);
  for (int i = 2; space.find(name) != nullptr; ++i)
    name = std::string(automatic) + "_" + std::to_string(i);
  return name;
}

/// The field's value now: a literal, or a searched parameter's default (and a slot for it).
Value read_value(Reader& r, const Field& f, const FieldInfo& info,
                 std::optional<std::size_t> layer) {
  if (!is_param_definition(f)) return literal(f, info.rule);
  const Param& p = add_param(r.space, param_name(r.space, f, info.name), f, {"name"});
  check_param(p, info.rule, f);
  r.out.slots.push_back({layer, std::string(info.key), p.name(), f.key});
  return p.default_value();
}

void read_layer_fields(Reader& r, const LayerKind& kind, const Field& body) {
  const std::size_t index = r.out.spec.layers.size() - 1;
  nn::Layer& layer = r.out.spec.layers.back();
  if (!body.node.IsMap() || is_param_definition(body)) {  // {dense: 64}
    set_field(layer, kind.fields.front().key, read_value(r, body, kind.fields.front(), index));
    return;
  }
  Keys keys;
  for (const auto& f : kind.fields) keys.push_back(f.key);
  const Entries es = entries(body, keys);
  if (kind.needs_first) require(es, body, kind.fields.front().key);
  for (const auto& [key, f] : es)
    set_field(layer, key, read_value(r, f, *field_info(kind.fields, key), index));
}

std::string layer_names() {
  std::string s;
  for (const auto& k : layer_kinds()) s += (s.empty() ? "" : ", ") + std::string(k.name);
  return s;
}

void read_layer(Reader& r, const Field& item) {
  if (!item.node.IsScalar() && !(item.node.IsMap() && item.node.size() == 1))
    item.fail("expected a layer name or {layer: settings}, got " + show(item.node));
  std::optional<Field> body;
  std::string name = item.node.IsScalar() ? item.node.Scalar() : "";
  if (item.node.IsMap()) std::tie(name, body) = entries(item, {}).front();
  const auto& kinds = layer_kinds();
  const auto kind =
      std::find_if(kinds.begin(), kinds.end(), [&](const auto& k) { return k.name == name; });
  if (kind == kinds.end())
    item.fail("unknown layer '" + name + "' (expected one of: " + layer_names() + ")");
  r.out.spec.layers.push_back(kind->prototype);
  const bool empty = !body || body->node.IsNull() || (body->node.IsMap() && body->node.size() == 0);
  if (empty && kind->needs_first)
    item.fail(name + " needs its " + std::string(kind->fields.front().key) + ", e.g. {" + name +
              ": {" + std::string(kind->fields.front().key) + ": ...}}");
  if (empty) return;
  if (kind->fields.empty()) body->fail("expected no settings, got " + show(body->node));
  read_layer_fields(r, *kind, *body);
}

void read_optimizer(Reader& r, const Field& f) {
  if (!(f.node.IsScalar() && !f.node.Scalar().empty()) && !(f.node.IsMap() && f.node.size() == 1))
    f.fail("expected an optimizer name or {name: {settings}}, got " + show(f.node));
  std::optional<Field> body;
  std::string name = f.node.IsScalar() ? f.node.Scalar() : "";
  if (f.node.IsMap()) std::tie(name, body) = entries(f, {}).front();
  OptimizerInfo info;
  try {
    info = optimizer_info(nn::optimizer_from_string(name));
  } catch (const InvalidArgument& e) {
    f.fail(e.what());
  }
  r.out.spec.optimizer = info.defaults;
  if (!body || body->node.IsNull()) return;
  for (const auto& [key, field] : entries(*body, info.fields))
    set_field(r.out.spec.optimizer, key,
              read_value(r, field, *field_info(optimizer_fields(), key), std::nullopt));
}

std::vector<std::string> read_metrics(const Field& f) {
  if (!f.node.IsSequence()) f.fail("expected a list like [accuracy], got " + show(f.node));
  std::vector<std::string> out;
  for (std::size_t i = 0; i < f.node.size(); ++i) {
    const Field item = f.item(i, f.node[i]);
    const std::string m = text_of(item);
    if (m != "accuracy" && m != "loss")
      item.fail("expected accuracy or loss, got " + show(item.node));
    if (std::find(out.begin(), out.end(), m) != out.end())
      item.fail("the metric '" + m + "' is listed twice");
    out.push_back(m);
  }
  return out;
}

}  // namespace

namespace detail {

ModelTemplate read_model(const Field& f, space::Space& space, bool nas) {
  ModelTemplate out;
  if (f.node.IsNull()) return out;
  const Entries es = entries(f, {"layers", "optimizer", "loss", "metrics"});
  Reader r{space, out};
  if (nas) {
    if (const Field* layers = find(es, "layers"))
      layers->fail_here("give either 'model.layers' or 'nas' (an architecture space), not both");
  } else {
    const Field& layers = require(es, f, "layers");
    if (!layers.node.IsSequence() || layers.node.size() == 0)
      layers.fail("expected a non-empty list of layers like [flatten, {dense: 10}], got " +
                  show(layers.node));
    for (std::size_t i = 0; i < layers.node.size(); ++i)
      read_layer(r, layers.item(i, layers.node[i]));
  }
  if (const Field* o = find(es, "optimizer")) read_optimizer(r, *o);
  if (const Field* l = find(es, "loss")) {
    try {
      out.spec.loss = nn::loss_from_string(text_of(*l));
    } catch (const InvalidArgument& e) {
      l->fail(e.what());
    }
  }
  if (const Field* m = find(es, "metrics")) out.spec.metrics = read_metrics(*m);
  return out;
}

}  // namespace detail

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
  for (const auto& slot : model.slots) {
    const auto it = params.find(slot.param);
    if (it == params.end()) continue;  // inactive: the default stays
    const bool in_layer = slot.layer.has_value();
    if (in_layer && *slot.layer >= spec.layers.size())
      throw InvalidArgument(slot.key + ": no layer " + std::to_string(*slot.layer));
    const FieldInfo* info = in_layer
                                ? field_info(kind_of(spec.layers[*slot.layer]).fields, slot.field)
                                : field_info(optimizer_fields(), slot.field);
    if (info == nullptr) throw InvalidArgument(slot.key + ": no field '" + slot.field + "'");
    if (!accepts(info->rule, it->second))
      throw InvalidArgument(slot.key + ": expected " + rule_text(info->rule) + ", got " +
                            space::to_string(it->second) + " (parameter '" + slot.param + "')");
    if (in_layer)
      set_field(spec.layers[*slot.layer], slot.field, it->second);
    else
      set_field(spec.optimizer, slot.field, it->second);
  }
  return spec;
}

}  // namespace quarry::config
