// A model study's `data:` and `fit:` sections, and the rules tying them to `model:` and the
// objectives; declared in yaml_fields.hpp.
#include <algorithm>

#include "quarry/config/study_file.hpp"
#include "quarry/config/yaml_fields.hpp"
#include "quarry/data/dataset.hpp"

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

DataSection read_data(const Field& f, const StudyFile& study) {
  const Entries es =
      entries(f, {"idx", "csv", "target", "validation_split", "test_split", "seed", "max_rows"});
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
  } else {
    out.format = DataSection::Format::csv;
    out.path = path_of(*csv, study.base_dir);
    const Field& target = require(es, f, "target");
    out.target = text_of(target);
    if (out.target.empty()) target.fail("expected a column name, got an empty text");
    if (const Field* t = find(es, "test_split")) out.test_split = split_of(*t);
  }
  if (const Field* v = find(es, "validation_split")) out.validation_split = split_of(*v);
  if (const Field* s = find(es, "seed")) out.seed = seed_of(*s);
  if (const Field* m = find(es, "max_rows")) out.max_rows = positive_int(*m);
  return out;
}

/// `name` is a metric a model study reports, and the model computes it.
void check_metric(const Field& f, const std::string& name, const nn::ModelSpec& spec) {
  const auto& known = model_metrics();
  if (std::find(known.begin(), known.end(), name) == known.end())
    f.fail("a model study reports loss, accuracy, val_loss or val_accuracy, got '" + name + "'");
  const bool accuracy = name.find("accuracy") != std::string::npos;
  if (accuracy &&
      std::find(spec.metrics.begin(), spec.metrics.end(), "accuracy") == spec.metrics.end())
    f.fail(name + " needs 'accuracy' in model.metrics");
}

std::int64_t non_negative_int(const Field& f) {
  const std::int64_t n = int_of(f);
  if (n < 0) f.fail("expected an integer >= 0, got " + show(f.node));
  return n;
}

EarlyStoppingSection read_early_stopping(const Field& f, const nn::ModelSpec& spec) {
  EarlyStoppingSection out;
  if (f.node.IsNull()) return out;
  const Entries es =
      entries(f, {"monitor", "patience", "min_delta", "mode", "restore_best_weights"});
  if (const Field* m = find(es, "monitor")) {
    out.monitor = text_of(*m);
    check_metric(*m, out.monitor, spec);
  }
  if (const Field* p = find(es, "patience")) out.patience = non_negative_int(*p);
  if (const Field* d = find(es, "min_delta")) {
    out.min_delta = number_of(*d);
    if (!(out.min_delta >= 0)) d->fail("expected a number >= 0, got " + show(d->node));
  }
  if (const Field* m = find(es, "mode")) {
    out.mode = text_of(*m);
    if (out.mode != "min" && out.mode != "max" && out.mode != "auto")
      m->fail("expected min, max or auto, got " + show(m->node));
  }
  if (const Field* r = find(es, "restore_best_weights")) out.restore_best_weights = bool_of(*r);
  return out;
}

FitSection read_fit(const Field& f, const nn::ModelSpec& spec) {
  const Entries es = entries(f, {"epochs", "batch_size", "shuffle", "early_stopping"});
  FitSection out;
  if (const Field* e = find(es, "epochs")) out.epochs = positive_int(*e);
  if (const Field* b = find(es, "batch_size")) out.batch_size = positive_int(*b);
  if (const Field* s = find(es, "shuffle")) out.shuffle = bool_of(*s);
  if (const Field* e = find(es, "early_stopping"))
    out.early_stopping = read_early_stopping(*e, spec);
  return out;
}

/// The field naming an objective's metric: `NAME` itself, or the `metric` of `{metric: NAME}`.
Field metric_field(const Field& objective) {
  if (!objective.node.IsMap()) return objective;
  const Entries es = entries(objective, {});
  return *find(es, "metric");  // read_metric required it
}

void check_objectives(const Entries& es, const nn::ModelSpec& spec) {
  std::vector<Field> metrics;
  if (const Field* one = find(es, "objective")) metrics.push_back(metric_field(*one));
  if (const Field* many = find(es, "objectives"))
    for (std::size_t i = 0; i < many->node.size(); ++i)
      metrics.push_back(metric_field(many->item(i, many->node[i])));
  for (const Field& m : metrics) check_metric(m, text_of(m), spec);
}

}  // namespace

void read_model_study(const Entries& es, const Field& root, StudyFile& out) {
  const Field* model = find(es, "model");
  const Field* data = find(es, "data");
  const Field* fit = find(es, "fit");
  if (model == nullptr) {
    for (const Field* f : {data, fit})
      if (f != nullptr)
        f->fail_here("'" + f->key + "' is for a model study: add 'model' or remove '" + f->key +
                     "'");
    return;
  }
  if (data == nullptr) root.fail_here("missing required key 'data' (a model trains on it)");
  out.model = read_model(*model, out.space);
  out.data = read_data(*data, out);
  out.fit = fit != nullptr ? read_fit(*fit, out.model->spec) : FitSection{};
  check_objectives(es, out.model->spec);
}

}  // namespace quarry::config::detail
