// Reading `model:` into a ModelTemplate. Each layer and optimizer field follows its rule in
// nn/spec_rules.hpp (an integer >= 1, a number in [0, 1)...), checked here on literal values and on
// every value a searched parameter can take; resolve() (model_resolve.cpp) checks a trial's.
#include "quarry/config/model_section.hpp"

#include <algorithm>
#include <tuple>

#include "quarry/config/yaml_fields.hpp"
#include "quarry/core/error.hpp"
#include "quarry/nn/metrics.hpp"
#include "quarry/nn/spec_rules.hpp"

namespace quarry::config {

namespace {

using namespace detail;
using space::Param;
using space::ParamKind;
using space::Value;

/// Every value `p` can take follows `rule` (the bounds of a range, else each value).
void check_param(const Param& p, nn::Rule rule, const Field& f) {
  const std::string head = p.describe() + ": every value must be " + nn::rule_text(rule);
  if (p.kind() == ParamKind::Float && rule == nn::Rule::Count)
    f.fail(head + "; use {int: [low, high]} or {choice: [...]}");
  std::vector<Value> values = p.discrete_values();
  if (p.kind() == ParamKind::Int)
    values = {static_cast<std::int64_t>(p.low()), static_cast<std::int64_t>(p.high())};
  else if (p.kind() == ParamKind::Float)
    values = {p.low(), p.high()};
  for (const Value& v : values)
    if (!nn::accepts(rule, v)) f.fail(head + ", got " + space::to_string(v));
}

/// The parameter named after a field: its key, except a dropout rate's ("dropout").
std::string_view automatic_name(const nn::LayerFields* layer, const nn::FieldRule& field) {
  return layer != nullptr && layer->name == "dropout" ? "dropout" : field.key;
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
Value read_value(Reader& r, const Field& f, const nn::FieldRule& field, std::string_view automatic,
                 std::optional<std::size_t> layer) {
  if (!is_param_definition(f)) return literal(f, field.rule);
  const Param& p = add_param(r.space, param_name(r.space, f, automatic), f, {"name"});
  check_param(p, field.rule, f);
  r.out.slots.push_back({layer, std::string(field.key), p.name(), f.key});
  return p.default_value();
}

void read_layer_fields(Reader& r, const nn::LayerFields& kind, const Field& body) {
  const std::size_t index = r.out.spec.layers.size() - 1;
  nn::Layer& layer = r.out.spec.layers.back();
  const auto read = [&](const nn::FieldRule& field, const Field& f) {
    nn::set_field(layer, field.key, read_value(r, f, field, automatic_name(&kind, field), index));
  };
  if (!body.node.IsMap() || is_param_definition(body)) {  // {dense: 64}
    read(kind.fields.front(), body);
    return;
  }
  Keys keys;
  for (const auto& f : kind.fields) keys.push_back(f.key);
  const Entries es = entries(body, keys);
  if (kind.needs_first) require(es, body, kind.fields.front().key);
  for (const auto& [key, f] : es) read(*nn::find_field(kind.fields, key), f);
}

/// The layers a study file may write, in table order.
std::vector<const nn::LayerFields*> file_layers() {
  std::vector<const nn::LayerFields*> out;
  for (const auto& k : nn::layer_fields())
    if (k.in_files) out.push_back(&k);
  return out;
}

std::string layer_names() {
  std::string s;
  for (const auto* k : file_layers()) s += (s.empty() ? "" : ", ") + std::string(k->name);
  return s;
}

void read_layer(Reader& r, const Field& item) {
  if (!item.node.IsScalar() && !(item.node.IsMap() && item.node.size() == 1))
    item.fail("expected a layer name or {layer: settings}, got " + show(item.node));
  std::optional<Field> body;
  std::string name = item.node.IsScalar() ? item.node.Scalar() : "";
  if (item.node.IsMap()) std::tie(name, body) = entries(item, {}).front();
  const auto kinds = file_layers();
  const auto found =
      std::find_if(kinds.begin(), kinds.end(), [&](const auto* k) { return k->name == name; });
  if (found == kinds.end())
    item.fail("unknown layer '" + name + "' (expected one of: " + layer_names() + ")");
  const nn::LayerFields& kind = **found;
  r.out.spec.layers.push_back(kind.prototype);
  const bool empty = !body || body->node.IsNull() || (body->node.IsMap() && body->node.size() == 0);
  if (empty && kind.needs_first)
    item.fail(name + " needs its " + std::string(kind.fields.front().key) + ", e.g. {" + name +
              ": {" + std::string(kind.fields.front().key) + ": ...}}");
  if (empty) return;
  if (kind.fields.empty()) body->fail("expected no settings, got " + show(body->node));
  read_layer_fields(r, kind, *body);
}

void read_optimizer(Reader& r, const Field& f) {
  if (!(f.node.IsScalar() && !f.node.Scalar().empty()) && !(f.node.IsMap() && f.node.size() == 1))
    f.fail("expected an optimizer name or {name: {settings}}, got " + show(f.node));
  std::optional<Field> body;
  std::string name = f.node.IsScalar() ? f.node.Scalar() : "";
  if (f.node.IsMap()) std::tie(name, body) = entries(f, {}).front();
  const nn::OptimizerFields* info = nullptr;
  try {
    info = &nn::optimizer_fields(nn::optimizer_from_string(name));
  } catch (const InvalidArgument& e) {
    f.fail(e.what());
  }
  nn::OptimizerSpec& spec = r.out.spec.optimizer;
  spec = info->defaults;
  if (body && !body->node.IsNull()) {
    Keys keys;
    for (const auto& field : info->fields) keys.push_back(field.key);
    for (const auto& [key, field] : entries(*body, keys)) {
      const nn::FieldRule& rule = *nn::find_field(info->fields, key);
      nn::set_field(spec, key, read_value(r, field, rule, rule.key, std::nullopt));
    }
  }
  // The rules between fields, on the spec with every searched value at its default.
  if (const auto problem = nn::optimizer_problem(spec)) f.fail(*problem);
}

std::vector<std::string> read_metrics(const Field& f) {
  if (!f.node.IsSequence()) f.fail("expected a list like [accuracy], got " + show(f.node));
  const auto& known = nn::compiled_metrics();
  std::vector<std::string> out;
  for (std::size_t i = 0; i < f.node.size(); ++i) {
    const Field item = f.item(i, f.node[i]);
    const std::string m = text_of(item);
    if (std::find(known.begin(), known.end(), m) == known.end()) {
      std::string names;
      for (std::size_t k = 0; k < known.size(); ++k)
        names += (k == 0 ? "" : k + 1 == known.size() ? " or " : ", ") + known[k];
      item.fail("expected " + names + ", got " + show(item.node));
    }
    if (std::find(out.begin(), out.end(), m) != out.end())
      item.fail("the metric '" + m + "' is listed twice");
    out.push_back(m);
  }
  return out;
}

}  // namespace

namespace detail {

Value literal(const Field& f, nn::Rule rule) {
  const Value v = value_of(f, nn::rule_text(rule));
  if (!nn::accepts(rule, v)) f.fail("expected " + nn::rule_text(rule) + ", got " + show(f.node));
  return v;
}

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
  const Field* loss = find(es, "loss");
  if (loss != nullptr) {
    try {
      out.spec.loss = nn::loss_from_string(text_of(*loss));
    } catch (const InvalidArgument& e) {
      loss->fail(e.what());
    }
  }
  const Field* metrics = find(es, "metrics");
  if (metrics != nullptr) out.spec.metrics = read_metrics(*metrics);
  if (const auto problem = nn::metrics_problem(out.spec.loss, out.spec.metrics))
    (metrics != nullptr ? *metrics : loss != nullptr ? *loss : f).fail(*problem);
  return out;
}

}  // namespace detail

}  // namespace quarry::config
