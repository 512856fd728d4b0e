#include "quarry/config/yaml_fields.hpp"

#include <algorithm>
#include <cmath>

#include "quarry/core/error.hpp"

namespace quarry::config::detail {

namespace {

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

}  // namespace

void fail_at(const std::string& file, int line, const std::string& what) {
  throw UsageError(file + ":" + std::to_string(std::max(line, 1)) + ": " + what);
}

namespace {
/// Counts `n` and what it holds into `count`; false (with `where` its line) once past the limit.
bool within_limit(const YAML::Node& n, std::size_t& count, int& where) {
  if (++count > kMaxYamlValues) {
    where = line_of(n, 1);
    return false;
  }
  if (n.IsMap()) {
    for (const auto& kv : n)
      if (!within_limit(kv.first, count, where) || !within_limit(kv.second, count, where))
        return false;
  } else if (n.IsSequence()) {
    for (const auto& item : n)
      if (!within_limit(item, count, where)) return false;
  }
  return true;
}
}  // namespace

void check_expansion(const YAML::Node& doc, const std::string& file) {
  std::size_t count = 0;
  int where = 1;
  if (!within_limit(doc, count, where))
    fail_at(file, where,
            "the YAML expands to more than " + std::to_string(kMaxYamlValues) +
                " values (aliases of aliases?)");
}

int line_of(const YAML::Node& n, int fallback) {
  const int line = n.Mark().line;
  return line >= 0 ? line + 1 : fallback;
}

bool is_quoted(const YAML::Node& n) {
  return n.Tag() == "!" || n.Tag() == "tag:yaml.org,2002:str";
}

std::string show(const YAML::Node& n) {
  if (n.IsNull()) return "nothing";
  std::string s;
  render(n, s);
  return s.size() > 60 ? s.substr(0, 57) + "..." : s;
}

std::string joined(const Keys& keys) {
  std::string s;
  for (auto k : keys) s += (s.empty() ? "" : ", ") + std::string(k);
  return s;
}

space::Value scalar_value(const YAML::Node& n) {
  const std::string& s = n.Scalar();
  if (is_quoted(n)) return s;
  if (auto i = parse_full<std::int64_t>(s)) return *i;
  if (auto d = parse_full<double>(s); d && std::isfinite(*d)) return *d;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  return s;
}

// --- Field -----------------------------------------------------------------------------------

void Field::fail(const std::string& what) const {
  fail_at(*file, line, key.empty() ? what : key + ": " + what);
}

void Field::fail_here(const std::string& what) const {
  fail_at(*file, key_line, what);
}

std::string Field::where() const {
  return key.empty() ? "the study" : key;
}

Field Field::child(const std::string& name, const YAML::Node& value, int name_line) const {
  const int at = value.IsNull() ? name_line : line_of(value, name_line);
  return {file, value, key.empty() ? name : key + "." + name, at, name_line};
}

Field Field::item(std::size_t i, const YAML::Node& value) const {
  const int at = value.IsNull() ? line : line_of(value, line);
  return {file, value, key + "[" + std::to_string(i) + "]", at, at};
}

// --- mappings --------------------------------------------------------------------------------

Entries entries(const Field& f, const Keys& allowed, const Keys& more,
                std::string_view more_label) {
  if (!f.node.IsMap()) f.fail("expected a mapping, got " + show(f.node));
  const auto known = [&](const std::string& k) {
    return std::find(allowed.begin(), allowed.end(), k) != allowed.end() ||
           std::find(more.begin(), more.end(), k) != more.end();
  };
  Entries out;
  for (auto it = f.node.begin(); it != f.node.end(); ++it) {
    const int at = line_of(it->first, f.line);
    if (!it->first.IsScalar())
      fail_at(*f.file, at, "a key in " + f.where() + " must be plain text");
    const std::string& k = it->first.Scalar();
    if (!allowed.empty() && !known(k)) {
      const std::string also =
          more.empty() ? "" : " or, " + std::string(more_label) + ": " + joined(more);
      fail_at(*f.file, at,
              "unknown key '" + k + "' in " + f.where() + " (expected one of: " + joined(allowed) +
                  ")" + also);
    }
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

space::Value value_of(const Field& f, const std::string& expected) {
  if (!f.node.IsScalar()) f.fail("expected " + expected + ", got " + show(f.node));
  return scalar_value(f.node);
}

std::string text_of(const Field& f) {
  if (!f.node.IsScalar()) f.fail("expected text, got " + show(f.node));
  return f.node.Scalar();
}

bool bool_of(const Field& f) {
  const space::Value v = value_of(f, "true or false");
  if (!std::holds_alternative<bool>(v)) f.fail("expected true or false, got " + show(f.node));
  return std::get<bool>(v);
}

double number_of(const Field& f) {
  const space::Value v = value_of(f, "a number");
  if (std::holds_alternative<bool>(v) || std::holds_alternative<std::string>(v))
    f.fail("expected a number, got " + show(f.node));
  return space::to_double(v);
}

std::int64_t int_of(const Field& f) {
  const space::Value v = value_of(f, "an integer");
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

std::int64_t positive_int(const Field& f, std::int64_t max) {
  const std::int64_t n = int_of(f);
  if (n <= 0) f.fail("expected an integer > 0, got " + show(f.node));
  if (n > max) f.fail("expected an integer <= " + std::to_string(max) + ", got " + show(f.node));
  return n;
}

std::uint64_t seed_of(const Field& f) {
  const auto seed = f.node.IsScalar() && !is_quoted(f.node)
                        ? parse_full<std::uint64_t>(f.node.Scalar())
                        : std::nullopt;
  if (!seed) f.fail("expected an integer >= 0, got " + show(f.node));
  return *seed;
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

std::filesystem::path resolve_path(const std::filesystem::path& base,
                                   const std::filesystem::path& p) {
  std::filesystem::path out = (p.is_absolute() ? p : base / p).lexically_normal();
  if (!out.has_filename() && out != out.root_path()) out = out.parent_path();
  return out;
}

}  // namespace quarry::config::detail
