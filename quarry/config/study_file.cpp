#include "quarry/config/study_file.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <utility>
#include <vector>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include "quarry/config/yaml_fields.hpp"
#include "quarry/core/error.hpp"
#include "quarry/pruners/registry.hpp"

namespace quarry::config {

namespace {

namespace fs = std::filesystem;
using namespace detail;

// --- the study's sections --------------------------------------------------------------------

const Keys kTopKeys = {"study",
                       "directory",
                       "storage",
                       "objective",
                       "objectives",
                       "space",
                       "command",
                       "function",
                       "env",
                       "trial_timeout",
                       "sampler",
                       "scheduler",
                       "pruner",
                       "max_trials",
                       "timeout",
                       "workers",
                       "seed",
                       "automl",
                       "max_consecutive_failures",
                       "stale_after",
                       "max_attempts"};
// Listed apart in the unknown-key message so the black-box keys read first.
const Keys kModelKeys = {"model", "data", "fit", "nas", "constraints"};

void read_location(const Entries& es, const Field& root, StudyFile& out) {
  const Field& study = require(es, root, "study");
  out.study = text_of(study);
  const bool legal =
      !out.study.empty() && std::all_of(out.study.begin(), out.study.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
      });
  if (!legal || out.study.find_first_not_of('.') == std::string::npos)
    study.fail("expected a name of letters, digits, '_', '.' and '-', got " + show(study.node));
  out.directory = out.base_dir;
  if (const Field* f = find(es, "directory")) {
    if (text_of(*f).empty()) f->fail("expected a folder, got an empty text");
    out.directory = resolve_path(out.base_dir, text_of(*f));
  }
  out.storage = "sqlite://" + (out.directory / out.study / "quarry.db").string();
  if (const Field* f = find(es, "storage")) {
    out.storage = text_of(*f);
    if (out.storage.empty()) f->fail("expected a storage URL, got an empty text");
    if (out.storage == "sqlite://") f->fail("expected a database path after sqlite://");
    if (out.storage.rfind("sqlite://", 0) == 0)
      out.storage = "sqlite://" + resolve_path(out.base_dir, out.storage.substr(9)).string();
    else if (out.storage.find(':') == std::string::npos)
      out.storage = resolve_path(out.base_dir, out.storage).string();
  }
}

Metric read_metric(const Field& f) {
  if (f.node.IsScalar() && !f.node.Scalar().empty())
    return {f.node.Scalar(), study::Direction::Minimize};
  if (!f.node.IsMap())
    f.fail("expected {metric: NAME, direction: minimize|maximize}, got " + show(f.node));
  const Entries es = entries(f, {"metric", "direction"});
  Metric m{text_of(require(es, f, "metric")), study::Direction::Minimize};
  if (m.name.empty()) require(es, f, "metric").fail("expected a metric name, got an empty text");
  if (const Field* d = find(es, "direction")) {
    try {
      m.direction = study::direction_from_string(text_of(*d));
    } catch (const InvalidArgument& e) {
      d->fail(e.what());
    }
  }
  return m;
}

void read_objectives(const Entries& es, const Field& root, StudyFile& out) {
  const Field* one = find(es, "objective");
  const Field* many = find(es, "objectives");
  if (one != nullptr && many != nullptr)
    many->fail_here("give either 'objective' or 'objectives', not both");
  if (one == nullptr && many == nullptr)
    root.fail_here("missing required key 'objective' (or 'objectives')");
  if (one != nullptr) {
    out.objectives = {read_metric(*one)};
    return;
  }
  if (!many->node.IsSequence() || many->node.size() == 0)
    many->fail("expected a non-empty list of {metric: NAME, direction: ...}, got " +
               show(many->node));
  for (std::size_t i = 0; i < many->node.size(); ++i) {
    const Field item = many->item(i, many->node[i]);
    Metric m = read_metric(item);
    for (const auto& seen : out.objectives)
      if (seen.name == m.name) item.fail("the metric '" + m.name + "' is listed twice");
    out.objectives.push_back(std::move(m));
  }
}

void read_command(const Field& f, StudyFile& out) {
  if (!f.node.IsSequence() || f.node.size() == 0)
    f.fail("expected a non-empty list of arguments like [python3, train.py, \"{lr}\"], got " +
           show(f.node));
  for (std::size_t i = 0; i < f.node.size(); ++i)
    out.command.push_back(text_of(f.item(i, f.node[i])));
  if (out.command.front().empty()) f.item(0, f.node[0]).fail("the program must not be empty");
}

void read_trial(const Entries& es, const Field& root, StudyFile& out) {
  const Field* command = find(es, "command");
  const Field* function = find(es, "function");
  const Field* model = find(es, "model");
  if (model == nullptr) model = find(es, "nas");
  if (command != nullptr && function != nullptr)
    function->fail_here("give either 'command' or 'function', not both");
  if (model != nullptr && (command != nullptr || function != nullptr))
    model->fail_here("give either '" + model->key + "' or '" +
                     (command != nullptr ? "command" : "function") + "', not both");
  if (command == nullptr && function == nullptr && model == nullptr)
    root.fail_here(
        "missing required key 'command' (or 'function'): what a trial runs (or 'model': a "
        "network to train)");
  if (command != nullptr) read_command(*command, out);
  if (function != nullptr) std::tie(out.function, out.function_options) = named(*function);
  const Field* space = find(es, "space");
  if (space != nullptr) out.space = read_space(*space);
  if (space == nullptr && command != nullptr)
    root.fail_here("missing required key 'space' (a command needs its parameters)");
  if (const Field* f = find(es, "env")) {
    for (const auto& [name, value] : entries(*f, {})) {
      const bool legal = !name.empty() && !std::isdigit(static_cast<unsigned char>(name[0])) &&
                         std::all_of(name.begin(), name.end(), [](char c) {
                           return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
                         });
      if (!legal) value.fail_here(value.key + ": not a valid environment variable name");
      out.env[name] = text_of(value);
    }
  }
  if (const Field* f = find(es, "trial_timeout")) out.trial_timeout = positive_seconds(*f);
}

/// `scheduler: median` and `scheduler: {learning_curve: {with: {hyperband: ...}}}` were written
/// before pruners had a key of their own: the pruner goes to `pruner`, the `with` scheduler to
/// `scheduler`.
void read_scheduler_naming_a_pruner(const Field& f, const Field* pruner, StudyFile& out) {
  if (pruner != nullptr)
    f.fail("'" + out.scheduler + "' is a pruner, and 'pruner' names one already");
  out.pruner = std::exchange(out.scheduler, "none");
  out.pruner_key = "scheduler";
  out.pruner_options = std::exchange(out.scheduler_options, nlohmann::json::object());
  if (!out.pruner_options.contains("with")) return;
  const nlohmann::json with = out.pruner_options["with"];
  out.pruner_options.erase("with");
  if (with.is_string()) {
    out.scheduler = with.get<std::string>();
  } else if (with.is_object() && with.size() == 1 && with.begin().value().is_object()) {
    out.scheduler = with.begin().key();
    out.scheduler_options = with.begin().value();
  } else {
    f.fail("with: expected a scheduler's name or {name: {options}}, got " + with.dump());
  }
  if (pruners::is_pruner(out.scheduler))
    f.fail("with: '" + out.scheduler +
           "' is a pruner; name a scheduler (asha, bohb, hyperband) or use one pruner");
}

void read_search(const Entries& es, StudyFile& out) {
  if (const Field* f = find(es, "sampler")) std::tie(out.sampler, out.sampler_options) = named(*f);
  const Field* pruner = find(es, "pruner");
  if (pruner != nullptr) std::tie(out.pruner, out.pruner_options) = named(*pruner);
  if (const Field* f = find(es, "scheduler")) {
    std::tie(out.scheduler, out.scheduler_options) = named(*f);
    if (pruners::is_pruner(out.scheduler) && out.scheduler != "none")
      read_scheduler_naming_a_pruner(*f, pruner, out);
  }
  if (const Field* f = find(es, "max_trials")) out.max_trials = positive_int(*f);
  if (const Field* f = find(es, "timeout")) out.timeout = positive_seconds(*f);
  if (const Field* f = find(es, "max_consecutive_failures"))
    out.max_consecutive_failures = positive_int(*f);
  if (const Field* f = find(es, "stale_after")) out.stale_after = positive_seconds(*f);
  if (const Field* f = find(es, "max_attempts")) out.max_attempts = positive_int(*f);
  if (const Field* f = find(es, "workers"))
    out.workers = static_cast<int>(positive_int(*f, INT_MAX));
  if (const Field* f = find(es, "seed")) out.seed = seed_of(*f);
}

// `automl: {train: FILE, target: COL, task:, metric:, time:, test:, families: [...]}`: the study is
// an AutoML run; what a search needs (objective, space, what a trial runs) must not be given.
void read_automl(const Field& f, const Entries& es, StudyFile& out) {
  for (const char* key :
       {"objective", "objectives", "space", "command", "function", "model", "nas", "data", "fit",
        "constraints", "sampler", "scheduler", "pruner", "storage", "env", "trial_timeout"})
    if (const Field* other = find(es, key))
      other->fail_here("'" + std::string(key) +
                       "' does not go with 'automl' (it picks models, metric and search itself)");
  const Entries a = entries(f, {"train", "target", "task", "metric", "time", "test", "families"});
  AutoMLSection section;
  section.train = resolve_path(out.base_dir, text_of(require(a, f, "train")));
  section.target = text_of(require(a, f, "target"));
  if (section.target.empty()) require(a, f, "target").fail("expected a column name");
  if (const Field* t = find(a, "task")) section.task = text_of(*t);
  if (const Field* m = find(a, "metric")) section.metric = text_of(*m);
  if (const Field* t = find(a, "time")) section.time = positive_seconds(*t);
  if (const Field* t = find(a, "test")) section.test = resolve_path(out.base_dir, text_of(*t));
  if (const Field* fam = find(a, "families")) {
    if (!fam->node.IsSequence() || fam->node.size() == 0)
      fam->fail("expected a list of family names like [xgboost, linear], got " + show(fam->node));
    for (std::size_t i = 0; i < fam->node.size(); ++i)
      section.families.push_back(text_of(fam->item(i, fam->node[i])));
  }
  out.automl = std::move(section);
}

/// Where each document of a YAML stream starts, from yaml-cpp's events (no tree built).
class DocumentStarts final : public YAML::EventHandler {
 public:
  std::vector<YAML::Mark> starts;
  void OnDocumentStart(const YAML::Mark& mark) override { starts.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

[[noreturn]] void malformed(const std::string& file, const YAML::Mark& mark,
                            const std::string& what) {
  throw UsageError(file + ":" + std::to_string(std::max(mark.line + 1, 1)) + ":" +
                   std::to_string(std::max(mark.column + 1, 1)) + ": malformed YAML: " + what);
}

/// Fails unless `text` holds at most one document. yaml-cpp's LoadAll never returns on a stray
/// flow token at the top (a document that is just ","): it starts empty documents at the same
/// place forever. Such a document is refused here instead.
void check_one_document(const std::string& text, const std::string& file) {
  std::istringstream stream(text);
  YAML::Parser parser(stream);
  DocumentStarts documents;
  while (parser.HandleNextDocument(documents)) {
    const auto& starts = documents.starts;
    if (starts.size() >= 2 && starts[starts.size() - 1].pos == starts[starts.size() - 2].pos) {
      const YAML::Mark& at = starts.back();
      const auto pos = static_cast<std::size_t>(std::max(at.pos, 0));
      malformed(file, at,
                pos < text.size() ? "unexpected '" + text.substr(pos, 1) + "'" : "unexpected end");
    }
  }
  if (documents.starts.size() > 1)
    fail_at(file, documents.starts[1].line + 1,
            "expected one YAML document, got " + std::to_string(documents.starts.size()));
}

YAML::Node load_document(const std::string& text, const std::string& file) {
  try {
    check_one_document(text, file);
    YAML::Node doc = YAML::Load(text);
    if (!doc.IsDefined()) return YAML::Node();
    check_expansion(doc, file);
    return doc;
  } catch (const YAML::Exception& e) {
    malformed(file, e.mark, e.msg);
  }
}

StudyFile read_study(const YAML::Node& doc, const std::string& file, const fs::path& path) {
  const Field root{&file, doc, "", line_of(doc, 1), line_of(doc, 1)};
  if (!doc.IsMap())
    root.fail("expected a mapping of study keys (study: NAME, objective: ..., ...), got " +
              show(doc));
  StudyFile out;
  out.path = fs::absolute(path).lexically_normal();
  out.base_dir = out.path.parent_path();
  const Entries es = entries(root, kTopKeys, kModelKeys, "to train a model");
  read_location(es, root, out);
  if (const Field* f = find(es, "automl")) {
    read_automl(*f, es, out);
    read_search(es, out);
    return out;
  }
  read_objectives(es, root, out);
  read_trial(es, root, out);
  read_search(es, out);
  read_model_study(es, root, out);
  return out;
}

}  // namespace

StudyFile parse_study_file(const std::string& yaml_text, const std::filesystem::path& path) {
  const std::string file = path.string();
  const YAML::Node doc = load_document(yaml_text, file);
  try {
    return read_study(doc, file, path);
  } catch (const UsageError&) {
    throw;
  } catch (const YAML::Exception& e) {
    fail_at(file, e.mark.line + 1, e.msg);
  } catch (const std::exception& e) {
    fail_at(file, 1, e.what());
  }
}

StudyFile load_study_file(const std::filesystem::path& path) {
  std::FILE* in = std::fopen(path.c_str(), "rb");
  std::string text;
  int error = in == nullptr ? errno : 0;
  if (in != nullptr) {
    char buffer[1 << 14];
    std::size_t n = 0;
    while ((n = std::fread(buffer, 1, sizeof buffer, in)) > 0) text.append(buffer, n);
    if (std::ferror(in)) error = errno != 0 ? errno : EIO;
    std::fclose(in);
  }
  if (error != 0)
    throw UsageError("cannot read study file '" + path.string() + "': " + std::strerror(error));
  return parse_study_file(text, path);
}

}  // namespace quarry::config
