#include "quarry/config/study_file.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string_view>

#include "quarry/core/error.hpp"

namespace quarry::config {

namespace {

namespace fs = std::filesystem;
using space::Param;
using space::Value;
using Keys = std::vector<std::string_view>;

[[noreturn]] void fail_at(const std::string& file, int line, const std::string& what) {
  throw UsageError(file + ":" + std::to_string(std::max(line, 1)) + ": " + what);
}

int line_of(const YAML::Node& n, int fallback) {
  const int line = n.Mark().line;
  return line >= 0 ? line + 1 : fallback;
}

bool is_quoted(const YAML::Node& n) {
  return n.Tag() == "!" || n.Tag() == "tag:yaml.org,2002:str";
}

void render(const YAML::Node& n, std::string& out) {
  if (n.IsNull()) {
    out += "null";
  } else if (n.IsScalar()) {
    std::string s = n.Scalar();
    std::replace(s.begin(), s.end(), '\n', ' ');
    out += is_quoted(n) ? "\"" + s + "\"" : s;
  } else if (n.IsSequence()) {
    out += "[";
    for (std::size_t i = 0; i < n.size(); ++i) {
      if (i > 0) out += ", ";
      render(n[i], out);
    }
    out += "]";
  } else {
    out += "{";
    for (auto it = n.begin(); it != n.end(); ++it) {
      if (it != n.begin()) out += ", ";
      render(it->first, out);
      out += ": ";
      render(it->second, out);
    }
    out += "}";
  }
}

/// A node shown in an error: "[16]", "\"abc\"", "{a: 1}", "nothing"; at most 60 characters.
std::string show(const YAML::Node& n) {
  if (n.IsNull()) return "nothing";
  std::string s;
  render(n, s);
  return s.size() > 60 ? s.substr(0, 57) + "..." : s;
}

template <typename T>
std::optional<T> parse_full(std::string_view s) {
  if (s.size() > 1 && s[0] == '+' && s[1] != '-') s.remove_prefix(1);
  T v{};
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

/// Quoted -> string; else int64, finite double, true/false, or the text as a string.
Value scalar_value(const YAML::Node& n) {
  const std::string& s = n.Scalar();
  if (is_quoted(n)) return s;
  if (auto i = parse_full<std::int64_t>(s)) return *i;
  if (auto d = parse_full<double>(s); d && std::isfinite(*d)) return *d;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  return s;
}

/// One node of the file with what errors need: the file, the key path and the lines.
struct Field {
  const std::string* file = nullptr;
  YAML::Node node;
  std::string key;   // "space.units.int"; empty for the whole file
  int line = 1;      // where the value is (its key's line when it is empty)
  int key_line = 1;  // where the key naming it is

  [[noreturn]] void fail(const std::string& what) const {
    fail_at(*file, line, key.empty() ? what : key + ": " + what);
  }
  [[noreturn]] void fail_here(const std::string& what) const { fail_at(*file, key_line, what); }
  std::string where() const { return key.empty() ? "the study" : key; }

  Field child(const std::string& name, const YAML::Node& value, int name_line) const {
    const int at = value.IsNull() ? name_line : line_of(value, name_line);
    return {file, value, key.empty() ? name : key + "." + name, at, name_line};
  }
  Field item(std::size_t i, const YAML::Node& value) const {
    const int at = value.IsNull() ? line : line_of(value, line);
    return {file, value, key + "[" + std::to_string(i) + "]", at, at};
  }
};

using Entries = std::vector<std::pair<std::string, Field>>;

std::string joined(const Keys& keys) {
  std::string s;
  for (auto k : keys) s += (s.empty() ? "" : ", ") + std::string(k);
  return s;
}

/// The mapping's entries in file order; checks keys are plain, unique and (unless `allowed` is
/// empty) among `allowed`.
Entries entries(const Field& f, const Keys& allowed) {
  if (!f.node.IsMap()) f.fail("expected a mapping, got " + show(f.node));
  Entries out;
  for (auto it = f.node.begin(); it != f.node.end(); ++it) {
    const int at = line_of(it->first, f.line);
    if (!it->first.IsScalar())
      fail_at(*f.file, at, "a key in " + f.where() + " must be plain text");
    const std::string& k = it->first.Scalar();
    if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), k) == allowed.end())
      fail_at(*f.file, at,
              "unknown key '" + k + "' in " + f.where() + " (expected one of: " + joined(allowed) +
                  ")");
    for (const auto& [seen, unused] : out)
      if (seen == k) fail_at(*f.file, at, "duplicate key '" + k + "' in " + f.where());
    out.emplace_back(k, f.child(k, it->second, at));
  }
  return out;
}

const Field* find(const Entries& es, std::string_view key) {
  for (const auto& [k, f] : es)
    if (k == key) return &f;
  return nullptr;
}

const Field& require(const Entries& es, const Field& map, std::string_view key) {
  if (const Field* f = find(es, key)) return *f;
  const std::string in = map.key.empty() ? "" : " in " + map.key;
  map.fail_here("missing required key '" + std::string(key) + "'" + in);
}

// --- scalars ---------------------------------------------------------------------------------

Value value_of(const Field& f, const std::string& expected = "a value") {
  if (!f.node.IsScalar()) f.fail("expected " + expected + ", got " + show(f.node));
  return scalar_value(f.node);
}

std::string text_of(const Field& f) {
  if (!f.node.IsScalar()) f.fail("expected text, got " + show(f.node));
  return f.node.Scalar();
}

bool bool_of(const Field& f) {
  const Value v = value_of(f, "true or false");
  if (!std::holds_alternative<bool>(v)) f.fail("expected true or false, got " + show(f.node));
  return std::get<bool>(v);
}

double number_of(const Field& f) {
  const Value v = value_of(f, "a number");
  if (std::holds_alternative<bool>(v) || std::holds_alternative<std::string>(v))
    f.fail("expected a number, got " + show(f.node));
  return space::to_double(v);
}

std::int64_t int_of(const Field& f) {
  const Value v = value_of(f, "an integer");
  if (const auto* i = std::get_if<std::int64_t>(&v)) return *i;
  const auto* d = std::get_if<double>(&v);
  if (d == nullptr || *d != std::trunc(*d) || std::abs(*d) > 0x1.0p53)
    f.fail("expected an integer, got " + show(f.node));
  return static_cast<std::int64_t>(*d);
}

double positive_seconds(const Field& f) {
  const double s = number_of(f);
  if (!(s > 0)) f.fail("expected a number of seconds > 0, got " + show(f.node));
  return s;
}

std::int64_t positive_int(const Field& f, std::int64_t max = INT64_MAX) {
  const std::int64_t n = int_of(f);
  if (n <= 0 || n > max) f.fail("expected an integer > 0, got " + show(f.node));
  return n;
}

nlohmann::json json_of(const Field& f) {
  if (f.node.IsNull()) return nullptr;
  if (f.node.IsScalar()) return space::to_json(scalar_value(f.node));
  nlohmann::json out = f.node.IsMap() ? nlohmann::json::object() : nlohmann::json::array();
  if (f.node.IsMap()) {
    for (const auto& [k, v] : entries(f, {})) out[k] = json_of(v);
  } else {
    for (std::size_t i = 0; i < f.node.size(); ++i) out.push_back(json_of(f.item(i, f.node[i])));
  }
  return out;
}

/// `name` or `{name: {options}}` -> (name, options object).
std::pair<std::string, nlohmann::json> named(const Field& f) {
  if (f.node.IsScalar() && !f.node.Scalar().empty())
    return {f.node.Scalar(), nlohmann::json::object()};
  if (!f.node.IsMap() || f.node.size() != 1)
    f.fail("expected a name or {name: {options}}, got " + show(f.node));
  const auto es = entries(f, {});
  const Field& options = es.front().second;
  if (options.node.IsNull()) return {es.front().first, nlohmann::json::object()};
  if (!options.node.IsMap())
    options.fail("expected options as a mapping, got " + show(options.node));
  return {es.front().first, json_of(options)};
}

// --- the search space ------------------------------------------------------------------------

std::pair<Value, Value> bounds(const Field& f, bool integers) {
  const std::string what =
      integers ? "expected [low, high] of integers, got " : "expected [low, high], got ";
  const YAML::Node& n = f.node;
  if (!n.IsSequence() || n.size() != 2 || !n[0].IsScalar() || !n[1].IsScalar())
    f.fail(what + show(n));
  const Field low = f.item(0, n[0]), high = f.item(1, n[1]);
  if (integers) return {int_of(low), int_of(high)};
  return {number_of(low), number_of(high)};
}

Param int_param(const std::string& name, const Field& spec, const Entries& es) {
  const auto [low, high] = bounds(spec, true);
  space::IntOptions o;
  if (const Field* f = find(es, "step")) o.step = int_of(*f);
  if (const Field* f = find(es, "log")) o.log = bool_of(*f);
  if (const Field* f = find(es, "default")) o.default_value = int_of(*f);
  return Param::Int(name, std::get<std::int64_t>(low), std::get<std::int64_t>(high), o);
}

Param float_param(const std::string& name, const Field& spec, const Entries& es) {
  const auto [low, high] = bounds(spec, false);
  space::FloatOptions o;
  if (const Field* f = find(es, "step")) o.step = number_of(*f);
  if (const Field* f = find(es, "log")) o.log = bool_of(*f);
  if (const Field* f = find(es, "default")) o.default_value = number_of(*f);
  return Param::Float(name, std::get<double>(low), std::get<double>(high), o);
}

std::vector<Value> values_of(const Field& f, const std::string& expected) {
  if (f.node.IsScalar()) return {scalar_value(f.node)};
  if (!f.node.IsSequence()) f.fail("expected " + expected + ", got " + show(f.node));
  std::vector<Value> out;
  for (std::size_t i = 0; i < f.node.size(); ++i) {
    if (!f.node[i].IsScalar()) f.fail("expected " + expected + ", got " + show(f.node));
    out.push_back(scalar_value(f.node[i]));
  }
  return out;
}

Param choice_param(const std::string& name, const Field& spec, const Entries& es) {
  if (!spec.node.IsSequence()) spec.fail("expected a list of values, got " + show(spec.node));
  const std::vector<Value> values = values_of(spec, "a list of values");
  space::ChoiceOptions o;
  if (const Field* f = find(es, "ordered")) o.ordered = bool_of(*f);
  if (const Field* f = find(es, "default")) o.default_value = value_of(*f);
  return Param::Choice(name, values, o);
}

/// The one type key of a parameter ("float", "int"...) and the keys allowed with it.
std::pair<std::string, Keys> param_kind(const Field& f) {
  static const std::vector<std::pair<std::string, Keys>> kKinds = {
      {"float", {"float", "step", "log", "default", "when"}},
      {"int", {"int", "step", "log", "default", "when"}},
      {"choice", {"choice", "ordered", "default", "when"}},
      {"bool", {"bool", "when"}},
      {"fixed", {"fixed", "when"}}};
  const std::pair<std::string, Keys>* kind = nullptr;
  for (const auto& [k, v] : entries(f, {})) {
    auto it =
        std::find_if(kKinds.begin(), kKinds.end(), [&](const auto& e) { return e.first == k; });
    if (it == kKinds.end()) continue;
    if (kind != nullptr)
      v.fail_here(f.key + ": give one type, got both '" + kind->first + "' and '" + k + "'");
    kind = &*it;
  }
  if (kind == nullptr)
    f.fail_here(
        f.key +
        ": missing the type, one of: float, int, choice, bool, fixed (e.g. {float: [0, 1]})");
  return *kind;
}

Param read_param(const std::string& name, const Field& f) {
  if (!f.node.IsMap()) f.fail("expected a mapping like {float: [0, 1]}, got " + show(f.node));
  const auto [kind, allowed] = param_kind(f);
  const Entries es = entries(f, allowed);
  const Field& spec = *find(es, kind);
  try {
    if (kind == "int") return int_param(name, spec, es);
    if (kind == "float") return float_param(name, spec, es);
    if (kind == "choice") return choice_param(name, spec, es);
    if (kind == "bool") return Param::Boolean(name, {.default_value = bool_of(spec)});
    return Param::Fixed(name, value_of(spec));
  } catch (const InvalidArgument& e) {
    f.fail_here(f.key + ": " + e.what());
  }
}

Param with_conditions(Param p, const Field& when) {
  const Entries es = entries(when, {});
  if (es.empty()) when.fail("expected {parent: value or [values]}, got {}");
  for (const auto& [parent, values] : es) {
    try {
      p = p.with_condition({parent, values_of(values, "a value or a list of values")});
    } catch (const InvalidArgument& e) {
      values.fail_here(when.key + ": " + e.what());
    }
  }
  return p;
}

space::Space read_space(const Field& f) {
  const Entries es = entries(f, {});
  if (es.empty()) f.fail("expected at least one parameter, got " + show(f.node));
  space::Space out;
  for (const auto& [name, spec] : es) {
    Param p = read_param(name, spec);
    const Entries parts = entries(spec, {});  // a mapping: read_param checked it
    const Field* when = find(parts, "when");
    if (when != nullptr) p = with_conditions(std::move(p), *when);
    try {
      out.add(std::move(p));
    } catch (const InvalidArgument& e) {
      (when != nullptr ? *when : spec).fail_here(spec.key + ": " + e.what());
    }
  }
  return out;
}

// --- the study's sections --------------------------------------------------------------------

const Keys kTopKeys = {"study",      "directory",     "storage", "objective",
                       "objectives", "space",         "command", "function",
                       "env",        "trial_timeout", "sampler", "scheduler",
                       "max_trials", "timeout",       "workers", "seed"};

fs::path resolve(const fs::path& base, const fs::path& p) {
  fs::path out = (p.is_absolute() ? p : base / p).lexically_normal();
  if (!out.has_filename() && out != out.root_path()) out = out.parent_path();
  return out;
}

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
    out.directory = resolve(out.base_dir, text_of(*f));
  }
  out.storage = "sqlite://" + (out.directory / out.study / "quarry.db").string();
  if (const Field* f = find(es, "storage")) {
    out.storage = text_of(*f);
    if (out.storage.empty()) f->fail("expected a storage URL, got an empty text");
    if (out.storage == "sqlite://") f->fail("expected a database path after sqlite://");
    if (out.storage.rfind("sqlite://", 0) == 0)
      out.storage = "sqlite://" + resolve(out.base_dir, out.storage.substr(9)).string();
    else if (out.storage.find(':') == std::string::npos)
      out.storage = resolve(out.base_dir, out.storage).string();
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
  if (command != nullptr && function != nullptr)
    function->fail_here("give either 'command' or 'function', not both");
  if (command == nullptr && function == nullptr)
    root.fail_here("missing required key 'command' (or 'function'): what a trial runs");
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

void read_search(const Entries& es, StudyFile& out) {
  if (const Field* f = find(es, "sampler")) std::tie(out.sampler, out.sampler_options) = named(*f);
  if (const Field* f = find(es, "scheduler"))
    std::tie(out.scheduler, out.scheduler_options) = named(*f);
  if (const Field* f = find(es, "max_trials")) out.max_trials = positive_int(*f);
  if (const Field* f = find(es, "timeout")) out.timeout = positive_seconds(*f);
  if (const Field* f = find(es, "workers"))
    out.workers = static_cast<int>(positive_int(*f, INT_MAX));
  if (const Field* f = find(es, "seed")) {
    const auto seed = f->node.IsScalar() && !is_quoted(f->node)
                          ? parse_full<std::uint64_t>(f->node.Scalar())
                          : std::nullopt;
    if (!seed) f->fail("expected an integer >= 0, got " + show(f->node));
    out.seed = *seed;
  }
}

YAML::Node load_document(const std::string& text, const std::string& file) {
  try {
    std::vector<YAML::Node> docs = YAML::LoadAll(text);
    if (docs.size() > 1)
      fail_at(file, line_of(docs[1], 1),
              "expected one YAML document, got " + std::to_string(docs.size()));
    return docs.empty() ? YAML::Node() : docs.front();
  } catch (const YAML::Exception& e) {
    throw UsageError(file + ":" + std::to_string(std::max(e.mark.line + 1, 1)) + ":" +
                     std::to_string(std::max(e.mark.column + 1, 1)) + ": malformed YAML: " + e.msg);
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
  const Entries es = entries(root, kTopKeys);
  read_location(es, root, out);
  read_objectives(es, root, out);
  read_trial(es, root, out);
  read_search(es, out);
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
