// A model study's `data:` and `fit:` sections, and the rules tying them to `model:` and the
// objectives; declared in yaml_fields.hpp.
#include <algorithm>

#include "quarry/config/study_file.hpp"
#include "quarry/config/yaml_fields.hpp"
#include "quarry/core/error.hpp"
#include "quarry/data/dataset.hpp"
#include "quarry/nas/macro.hpp"
#include "quarry/nas/micro.hpp"
#include "quarry/nn/fidelity.hpp"
#include "quarry/nn/metrics.hpp"
#include "quarry/nn/spec_rules.hpp"

namespace quarry::config::detail {

namespace {

/// A number in (0, 1).
double split_of(const Field& f) {
  const double x = number_of(f);
  if (!(x > 0 && x < 1)) f.fail("expected a number in (0, 1), got " + show(f.node));
  return x;
}

std::filesystem::path path_of(const Field& f, const std::filesystem::path& base) {
  const std::string text = text_of(f);
  if (text.empty()) f.fail("expected a path, got an empty text");
  return resolve_path(base, text);
}

/// `class_names: [T-shirt, Trouser, ...]`: distinct, non-empty names.
std::vector<std::string> class_names_of(const Field& f) {
  if (!f.node.IsSequence() || f.node.size() < 2)
    f.fail("expected a list of two or more class names, got " + show(f.node));
  std::vector<std::string> out;
  for (std::size_t i = 0; i < f.node.size(); ++i) {
    const Field item = f.item(i, f.node[i]);
    std::string name = text_of(item);
    if (name.empty()) item.fail("expected a class name, got an empty text");
    if (std::find(out.begin(), out.end(), name) != out.end())
      item.fail("class name '" + name + "' is given twice");
    out.push_back(std::move(name));
  }
  return out;
}

DataSection read_data(const Field& f, const StudyFile& study) {
  const Entries es = entries(f, {"idx", "csv", "target", "validation_split", "test_split", "seed",
                                 "max_rows", "class_names"});
  const Field* idx = find(es, "idx");
  const Field* csv = find(es, "csv");
  if (idx != nullptr && csv != nullptr) csv->fail_here("give either 'idx' or 'csv', not both");
  if (idx == nullptr && csv == nullptr)
    f.fail_here("missing required key 'idx' (or 'csv') in " + f.key);
  DataSection out{.seed = study.seed};
  if (idx != nullptr) {
    const bool fashion = idx->node.IsScalar() && idx->node.Scalar() == "fashion-mnist";
    out.path =
        fashion ? std::filesystem::path(data::kFashionMnistFolder) : path_of(*idx, study.base_dir);
    if (const Field* t = find(es, "target")) t->fail("only for csv data (IDX files hold labels)");
    if (const Field* t = find(es, "test_split"))
      t->fail("only for csv data (IDX data has its own test files)");
    if (const Field* c = find(es, "class_names"))
      out.class_names = class_names_of(*c);
    else if (fashion)
      out.class_names = data::kFashionMnistClasses;
  } else {
    out.format = DataSection::Format::Csv;
    out.path = path_of(*csv, study.base_dir);
    const Field& target = require(es, f, "target");
    out.target = text_of(target);
    if (out.target.empty()) target.fail("expected a column name, got an empty text");
    if (const Field* t = find(es, "test_split")) out.test_split = split_of(*t);
    if (const Field* c = find(es, "class_names"))
      c->fail("only for idx data (a CSV file's labels are the class names)");
  }
  if (const Field* v = find(es, "validation_split")) out.validation_split = split_of(*v);
  if (const Field* s = find(es, "seed")) out.seed = seed_of(*s);
  if (const Field* m = find(es, "max_rows")) out.max_rows = positive_int(*m);
  return out;
}

/// "a, b, c<last>d".
std::string listed(const std::vector<std::string>& names, const std::string& last) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i)
    out += (i == 0 ? "" : i + 1 == names.size() ? last : ", ") + names[i];
  return out;
}

/// `name` is a metric a model study reports, and the model computes it.
void check_metric(const Field& f, const std::string& name, const nn::ModelSpec& spec) {
  const auto& known = nn::training_metrics();
  if (std::find(known.begin(), known.end(), name) == known.end())
    f.fail("a model study reports " + listed(known, " or ") + ", got '" + name + "'");
  const bool accuracy = name.find("accuracy") != std::string::npos;
  if (accuracy &&
      std::find(spec.metrics.begin(), spec.metrics.end(), "accuracy") == spec.metrics.end())
    f.fail(name + " needs 'accuracy' in model.metrics");
}

/// `fit.early_stopping`: the monitor is a metric the model reports; the other fields follow
/// nn::early_stopping_fields(), the rules EarlyStopping checks.
nn::EarlyStoppingOptions read_early_stopping(const Field& f, const nn::ModelSpec& spec) {
  nn::EarlyStoppingOptions out;
  if (f.node.IsNull()) return out;
  Keys keys = {"monitor"};
  for (const auto& field : nn::early_stopping_fields()) keys.push_back(field.key);
  for (const auto& [key, field] : entries(f, keys)) {
    if (key == "monitor") {
      out.monitor = text_of(field);
      check_metric(field, out.monitor, spec);
    } else {
      nn::set_field(out, key,
                    literal(field, nn::find_field(nn::early_stopping_fields(), key)->rule));
    }
  }
  return out;
}

/// The budget of the full model and data: the scheduler's max_epochs / max_budget.
std::optional<double> scheduler_max_budget(const nlohmann::json& options) {
  for (const char* key : {"max_epochs", "max_budget"})
    if (options.contains(key) && options[key].is_number()) return options[key].get<double>();
  return std::nullopt;
}

void read_fidelity(const Entries& es, const StudyFile& study, FitSection& out) {
  const Field* f = find(es, "fidelity");
  if (const Field* m = find(es, "max_budget")) {
    out.max_budget = number_of(*m);
    if (!(*out.max_budget > 0)) m->fail("expected a number > 0, got " + show(m->node));
  }
  if (f == nullptr) return;
  out.fidelity = text_of(*f);
  try {
    nn::fidelity_from_string(out.fidelity);
  } catch (const InvalidArgument&) {
    std::string kinds;
    for (nn::Fidelity k : nn::fidelities()) kinds += (kinds.empty() ? "" : ", ") + to_string(k);
    f->fail("expected one of " + kinds + ", got " + show(f->node));
  }
  if (out.fidelity == "epochs") return;
  if (!out.max_budget) out.max_budget = scheduler_max_budget(study.scheduler_options);
  if (!out.max_budget)
    f->fail(out.fidelity +
            " reads the scheduler's budget as a fraction of the full one: use a "
            "multi-fidelity scheduler (hyperband, asha, bohb) or set fit.max_budget");
  const auto& nas = study.model->nas;
  if (out.fidelity == "cells" && !(nas && nas->space == "micro"))
    f->fail("cells needs a micro architecture space (nas: micro)");
  if (out.fidelity == "resolution" && study.data->format != DataSection::Format::Idx)
    f->fail("resolution needs image data (idx)");
}

FitSection read_fit(const Field& f, const StudyFile& study) {
  const nn::ModelSpec& spec = study.model->spec;
  const Entries es = entries(f, {"epochs", "batch_size", "shuffle", "early_stopping", "fidelity",
                                 "max_budget", "inherit_weights", "retrain"});
  FitSection out;
  if (const Field* e = find(es, "epochs")) out.epochs = positive_int(*e);
  if (const Field* b = find(es, "batch_size")) out.batch_size = positive_int(*b);
  if (const Field* s = find(es, "shuffle")) out.shuffle = bool_of(*s);
  if (const Field* e = find(es, "early_stopping"))
    out.early_stopping = read_early_stopping(*e, spec);
  if (const Field* i = find(es, "inherit_weights")) out.inherit_weights = bool_of(*i);
  if (const Field* r = find(es, "retrain")) {
    const Entries rs = entries(*r, {"seeds", "average", "validation_rows"});
    if (const Field* s = find(rs, "seeds")) out.retrain.seeds = positive_int(*s, 64);
    if (const Field* a = find(rs, "average")) out.retrain.average = bool_of(*a);
    if (const Field* v = find(rs, "validation_rows")) out.retrain.validation_rows = bool_of(*v);
  }
  read_fidelity(es, study, out);
  return out;
}

/// The field naming an objective's metric: `NAME` itself, or the `metric` of `{metric: NAME}`.
Field metric_field(const Field& objective) {
  if (!objective.node.IsMap()) return objective;
  const Entries es = entries(objective, {});
  return *find(es, "metric");  // read_metric required it
}

/// The first objective is reported every epoch (a training metric); the others may also be
/// measured on the trained model (nn::complexity_metrics).
void check_objectives(const Entries& es, const nn::ModelSpec& spec) {
  std::vector<Field> metrics;
  if (const Field* one = find(es, "objective")) metrics.push_back(metric_field(*one));
  if (const Field* many = find(es, "objectives"))
    for (std::size_t i = 0; i < many->node.size(); ++i)
      metrics.push_back(metric_field(many->item(i, many->node[i])));
  for (std::size_t i = 0; i < metrics.size(); ++i) {
    const std::string name = text_of(metrics[i]);
    if (i > 0 && nn::is_complexity_metric(name)) continue;
    if (i == 0 && nn::is_complexity_metric(name))
      metrics[i].fail(
          "the first objective of a model study is reported every epoch: name a "
          "training metric (" +
          listed(nn::training_metrics(), ", ") + ") first, then '" + name + "'");
    check_metric(metrics[i], name, spec);
  }
}

/// `constraints: ["params <= 100000", ...]` on training or complexity metrics.
std::vector<study::Constraint> read_constraints(const Field& f, const nn::ModelSpec& spec) {
  if (!f.node.IsSequence() || f.node.size() == 0)
    f.fail("expected a list like [\"params <= 100000\", \"latency_b1_ms <= 0.5\"], got " +
           show(f.node));
  std::vector<study::Constraint> out;
  for (std::size_t i = 0; i < f.node.size(); ++i) {
    const Field item = f.item(i, f.node[i]);
    try {
      out.push_back(study::parse_constraint(text_of(item)));
    } catch (const InvalidArgument& e) {
      item.fail(e.what());
    }
    if (!nn::is_complexity_metric(out.back().metric)) check_metric(item, out.back().metric, spec);
  }
  return out;
}

/// `nas: macro` or `nas: {micro: {options}}`: its parameters join the study's space.
NasSection read_nas(const Field& f, space::Space& space) {
  NasSection out;
  std::tie(out.space, out.options) = named(f);
  try {
    if (out.space == "macro")
      space.merge(nas::macro_space(nas::macro_options_from_json(out.options)));
    else if (out.space == "micro")
      space.merge(nas::micro_space(nas::micro_options_from_json(out.options)));
    else
      f.fail("expected an architecture space: macro or micro, got '" + out.space + "'");
  } catch (const InvalidArgument& e) {
    f.fail(e.what());
  }
  return out;
}

}  // namespace

void read_model_study(const Entries& es, const Field& root, StudyFile& out) {
  const Field* model = find(es, "model");
  const Field* data = find(es, "data");
  const Field* fit = find(es, "fit");
  const Field* nas = find(es, "nas");
  const Field* constraints = find(es, "constraints");
  if (model == nullptr && nas == nullptr) {
    for (const Field* f : {data, fit, constraints})
      if (f != nullptr)
        f->fail_here("'" + f->key + "' is for a model study: add 'model' (or 'nas') or remove '" +
                     f->key + "'");
    return;
  }
  if (data == nullptr) root.fail_here("missing required key 'data' (a model trains on it)");
  out.model = model != nullptr ? read_model(*model, out.space, nas != nullptr) : ModelTemplate{};
  if (nas != nullptr) out.model->nas = read_nas(*nas, out.space);
  out.data = read_data(*data, out);
  out.fit = fit != nullptr ? read_fit(*fit, out) : FitSection{};
  check_objectives(es, out.model->spec);
  if (constraints != nullptr) out.constraints = read_constraints(*constraints, out.model->spec);
}

}  // namespace quarry::config::detail
