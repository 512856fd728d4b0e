// The Preprocessor (preprocess.hpp): per-column encoders fitted on training rows, applied by
// column name, saved as JSON.
//
// Target encoding is the m-estimate (m = kSmoothing): a level seen n times with target sum s
// encodes as (s + m * prior) / (n + m), the prior being the training mean. Binary and regression
// use y itself (the class-1 rate, the mean); multiclass has one feature per class c (the rate of
// y == c), for the classes 0 .. max(y) of the training rows.
#include "quarry/automl/preprocess.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <unordered_map>
#include <utility>

#include "quarry/core/error.hpp"

namespace quarry::automl {

namespace {

using data::Column;
using data::ColumnType;

constexpr double kSmoothing = 10;  // m of the m-estimate
constexpr int kFormatVersion = 1;

double nan() {
  return std::numeric_limits<double>::quiet_NaN();
}

/// "3" for integers, the shortest round-trip text otherwise.
std::string number_text(double value) {
  if (value == std::floor(value) && std::fabs(value) < 1e15)
    return std::to_string(static_cast<long long>(value));
  std::array<char, 32> buffer{};
  const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
  return std::string(buffer.data(), result.ptr);
}

/// The number a level of Key::Number spells (number_text's output).
double number_from(const std::string& s) {
  double v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

/// "true" / "false" for true/yes/false/no in any case.
std::optional<std::string> boolean_text(const std::string& s) {
  if (s.size() > 5) return std::nullopt;
  std::string lower(s);
  for (char& c : lower)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  if (lower == "true" || lower == "yes") return "true";
  if (lower == "false" || lower == "no") return "false";
  return std::nullopt;
}

/// The cell's number; NaN when missing or not a number.
double number_of(const Column& col, std::size_t r) {
  return col.missing[r] ? nan() : col.numbers[r];
}

float to_float(double v) {
  constexpr double kMax = std::numeric_limits<float>::max();
  return static_cast<float>(std::clamp(v, -kMax, kMax));
}

/// The column of `table` named `name`; throws naming it and the table's source.
const Column& column_of(const data::Table& table, const std::string& name) {
  if (const Column* col = table.find(name)) return *col;
  throw InvalidArgument(table.source + ": no column '" + name +
                        "', which the model uses (columns: " + table.column_list() + ")");
}

void check_rows(const data::Table& table, const std::vector<std::int64_t>& rows) {
  const std::int64_t n = table.rows();
  for (const std::int64_t r : rows)
    if (r < 0 || r >= n)
      throw InvalidArgument(table.source + ": row index " + std::to_string(r) + " out of range (" +
                            std::to_string(n) + " rows)");
}

[[noreturn]] void bad_json(const std::string& what) {
  throw InvalidArgument("saved preprocessor: " + what);
}

}  // namespace

struct Preprocessor::Encoder {
  enum class Kind { Numeric, OneHot, Target };
  /// How a categorical cell becomes a level: its text, its number ("3" for "3.0"), or its truth
  /// ("true" for "Yes").
  enum class Key { Text, Number, Boolean };

  Kind kind = Kind::Numeric;
  std::string column;
  Key key = Key::Text;
  // Numeric.
  double median = 0;
  bool indicator = false;  ///< a "<col>:missing" feature
  // One-hot: the value itself first when `value` (integer codes keep their order for linear
  // models, kNN and the MLP; missing -> median), a feature per level, in this order, then one for
  // missing cells when missing_level.
  bool value = false;
  std::vector<std::string> levels;
  bool missing_level = false;
  std::unordered_map<std::string, std::size_t> level_index;
  // Target encoding: one value per output for each level, for missing cells (when training had
  // some) and for anything else (the prior).
  std::vector<double> prior;
  std::map<std::string, std::vector<double>> encoded;
  std::optional<std::vector<double>> missing_encoded;

  /// The cell's level, or nullopt when it is missing.
  std::optional<std::string> level(const Column& col, std::size_t r) const {
    if (col.missing[r]) return std::nullopt;
    const std::string& text = col.text[r];
    if (key == Key::Number && std::isfinite(col.numbers[r])) return number_text(col.numbers[r]);
    if (key == Key::Boolean)
      if (auto b = boolean_text(text)) return b;
    return text;
  }

  void index_levels() {
    level_index.clear();
    for (std::size_t i = 0; i < levels.size(); ++i) level_index.emplace(levels[i], i);
  }

  std::vector<std::string> names() const {
    std::vector<std::string> out;
    switch (kind) {
      case Kind::Numeric:
        out.push_back(column);
        if (indicator) out.push_back(column + ":missing");
        break;
      case Kind::OneHot: {
        if (value) out.push_back(column);
        for (const std::string& l : levels) out.push_back(column + "=" + l);
        // A real level named "missing" keeps its name; the missing cells' feature steps aside.
        const bool clash = level_index.count("missing") > 0;
        if (missing_level) out.push_back(column + (clash ? "=(missing)" : "=missing"));
        break;
      }
      case Kind::Target:
        if (prior.size() == 1)
          out.push_back(column + ":target");
        else
          for (std::size_t c = 0; c < prior.size(); ++c)
            out.push_back(column + ":target=" + std::to_string(c));
        break;
    }
    return out;
  }

  /// Writes row r's features at `out` (names().size() of them, zeroed by the caller).
  void write(const Column& col, std::size_t r, float* out) const {
    switch (kind) {
      case Kind::Numeric: {
        const double v = number_of(col, r);
        const bool absent = std::isnan(v);
        out[0] = to_float(absent ? median : v);
        if (indicator) out[1] = absent ? 1.0f : 0.0f;
        return;
      }
      case Kind::OneHot: {
        if (value) {
          const double v = number_of(col, r);
          *out++ = to_float(std::isnan(v) ? median : v);
        }
        const auto l = level(col, r);
        if (!l) {
          if (missing_level) out[levels.size()] = 1.0f;
        } else if (const auto it = level_index.find(*l); it != level_index.end()) {
          out[it->second] = 1.0f;
        }
        return;
      }
      case Kind::Target: {
        const auto l = level(col, r);
        const std::vector<double>* values = &prior;
        if (!l) {
          if (missing_encoded) values = &*missing_encoded;
        } else if (const auto it = encoded.find(*l); it != encoded.end()) {
          values = &it->second;
        }
        for (std::size_t c = 0; c < values->size(); ++c) out[c] = to_float((*values)[c]);
        return;
      }
    }
  }

  static Encoder numeric(const Column& col, const std::vector<std::int64_t>& rows,
                         std::int64_t min_missing) {
    Encoder e;
    e.kind = Kind::Numeric;
    e.column = col.name;
    std::vector<double> values;
    values.reserve(rows.size());
    std::int64_t missing = 0;
    for (const std::int64_t r : rows) {
      const double v = number_of(col, static_cast<std::size_t>(r));
      if (std::isnan(v))
        ++missing;
      else
        values.push_back(v);
    }
    e.indicator = missing > 0 && missing >= min_missing;
    if (!values.empty()) {
      const std::size_t mid = values.size() / 2;
      std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(mid),
                       values.end());
      e.median = values[mid];
      if (values.size() % 2 == 0)
        e.median =
            (*std::max_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(mid)) +
             e.median) /
            2;
    }
    return e;
  }

  static Encoder categorical(const Column& col, const std::vector<std::int64_t>& rows,
                             const std::vector<double>& y, TaskType task,
                             std::int64_t min_missing) {
    Encoder e;
    e.column = col.name;
    e.key = col.type == ColumnType::Numeric   ? Key::Number
            : col.type == ColumnType::Boolean ? Key::Boolean
                                              : Key::Text;
    std::map<std::string, std::int64_t> counts;
    std::int64_t missing = 0;
    for (const std::int64_t r : rows) {
      if (const auto l = e.level(col, static_cast<std::size_t>(r)))
        ++counts[*l];
      else
        ++missing;
    }
    if (static_cast<std::int64_t>(counts.size()) <= kMaxOneHotLevels) {
      e.kind = Kind::OneHot;
      for (const auto& [l, n] : counts) e.levels.push_back(l);
      if (e.key == Key::Number)  // numeric order: "2" before "10"
        std::sort(e.levels.begin(), e.levels.end(), [](const std::string& a, const std::string& b) {
          return number_from(a) < number_from(b);
        });
      e.missing_level = missing > 0 && missing >= min_missing;
      e.index_levels();
      if (e.key == Key::Number) {
        e.value = true;
        e.median = numeric(col, rows, min_missing).median;
      }
      return e;
    }
    e.kind = Kind::Target;
    e.fit_target(col, rows, y, task);
    return e;
  }

  void fit_target(const Column& col, const std::vector<std::int64_t>& rows,
                  const std::vector<double>& y, TaskType task) {
    std::size_t outputs = 1;
    if (task == TaskType::Multiclass) {
      double top = 0;
      for (const std::int64_t r : rows)
        if (const double v = y[static_cast<std::size_t>(r)]; !std::isnan(v)) top = std::max(top, v);
      outputs = static_cast<std::size_t>(top) + 1;
    }
    // The target of row r as one value per output.
    const auto add = [&](std::vector<double>& sums, double v) {
      if (outputs == 1)
        sums[0] += v;
      else
        sums[static_cast<std::size_t>(v)] += 1;
    };
    struct Stats {
      std::vector<double> sums;
      std::int64_t n = 0;
    };
    Stats all{std::vector<double>(outputs, 0.0)};
    std::map<std::string, Stats> per_level;
    Stats missing{std::vector<double>(outputs, 0.0)};
    bool any_missing = false;
    for (const std::int64_t row : rows) {
      const auto r = static_cast<std::size_t>(row);
      const auto l = level(col, r);
      any_missing = any_missing || !l;
      const double v = y[r];
      if (std::isnan(v)) continue;
      Stats& s =
          l ? per_level.try_emplace(*l, Stats{std::vector<double>(outputs, 0.0)}).first->second
            : missing;
      add(s.sums, v);
      ++s.n;
      add(all.sums, v);
      ++all.n;
    }
    prior.assign(outputs, 0.0);
    if (all.n > 0)
      for (std::size_t c = 0; c < outputs; ++c) prior[c] = all.sums[c] / static_cast<double>(all.n);
    const auto smoothed = [&](const Stats& s) {
      std::vector<double> out(outputs);
      for (std::size_t c = 0; c < outputs; ++c)
        out[c] = (s.sums[c] + kSmoothing * prior[c]) / (static_cast<double>(s.n) + kSmoothing);
      return out;
    };
    for (const auto& [l, s] : per_level) encoded.emplace(l, smoothed(s));
    if (any_missing) missing_encoded = smoothed(missing);
  }

  nlohmann::json to_json() const {
    nlohmann::json j{{"column", column}};
    if (kind == Kind::Numeric) {
      j["kind"] = "numeric";
      j["median"] = median;
      j["indicator"] = indicator;
      return j;
    }
    j["key"] = key == Key::Number ? "number" : key == Key::Boolean ? "boolean" : "text";
    if (kind == Kind::OneHot) {
      j["kind"] = "one_hot";
      j["levels"] = levels;
      j["missing_level"] = missing_level;
      if (value) {
        j["value"] = true;
        j["median"] = median;
      }
      return j;
    }
    j["kind"] = "target";
    j["prior"] = prior;
    j["levels"] = encoded;
    j["missing"] = missing_encoded ? nlohmann::json(*missing_encoded) : nlohmann::json(nullptr);
    return j;
  }

  static Encoder from_json(const nlohmann::json& j) {
    Encoder e;
    e.column = j.at("column").get<std::string>();
    const std::string kind = j.at("kind").get<std::string>();
    if (kind == "numeric") {
      e.kind = Kind::Numeric;
      e.median = j.at("median").get<double>();
      e.indicator = j.at("indicator").get<bool>();
      return e;
    }
    const std::string key = j.at("key").get<std::string>();
    if (key == "number")
      e.key = Key::Number;
    else if (key == "boolean")
      e.key = Key::Boolean;
    else if (key == "text")
      e.key = Key::Text;
    else
      bad_json("column '" + e.column + "': unknown key '" + key + "'");
    if (kind == "one_hot") {
      e.kind = Kind::OneHot;
      e.levels = j.at("levels").get<std::vector<std::string>>();
      e.missing_level = j.at("missing_level").get<bool>();
      e.value = j.value("value", false);
      if (e.value) e.median = j.at("median").get<double>();
      e.index_levels();
      return e;
    }
    if (kind != "target") bad_json("column '" + e.column + "': unknown kind '" + kind + "'");
    e.kind = Kind::Target;
    e.prior = j.at("prior").get<std::vector<double>>();
    e.encoded = j.at("levels").get<std::map<std::string, std::vector<double>>>();
    if (!j.at("missing").is_null()) e.missing_encoded = j.at("missing").get<std::vector<double>>();
    if (e.prior.empty()) bad_json("column '" + e.column + "': no prior");
    for (const auto& [l, v] : e.encoded)
      if (v.size() != e.prior.size())
        bad_json("column '" + e.column + "': level '" + l + "' has " + std::to_string(v.size()) +
                 " values, the prior " + std::to_string(e.prior.size()));
    if (e.missing_encoded && e.missing_encoded->size() != e.prior.size())
      bad_json("column '" + e.column + "': the missing level's size differs from the prior's");
    return e;
  }
};

Preprocessor Preprocessor::fit(const data::Table& table, const std::vector<ColumnPlan>& plan,
                               const std::vector<double>& y, TaskType task,
                               const std::vector<std::int64_t>& rows, std::int64_t min_missing) {
  if (static_cast<std::int64_t>(y.size()) != table.rows())
    throw InvalidArgument(table.source + ": the target has " + std::to_string(y.size()) +
                          " values for " + std::to_string(table.rows()) + " rows");
  check_rows(table, rows);
  if (task != TaskType::Regression)
    for (const std::int64_t r : rows)
      if (const double v = y[static_cast<std::size_t>(r)];
          !std::isnan(v) && (v < 0 || v != std::floor(v) || (task == TaskType::Binary && v > 1)))
        throw InvalidArgument(table.source + ": row " + std::to_string(r) + " has target " +
                              number_text(v) + ", not a class index of a " + to_string(task) +
                              " task");
  Preprocessor p;
  for (const ColumnPlan& column : plan) {
    if (column.role == ColumnPlan::Role::Dropped) continue;
    const Column& col = column_of(table, column.name);
    auto e = std::make_shared<Encoder>(column.role == ColumnPlan::Role::Numeric
                                           ? Encoder::numeric(col, rows, min_missing)
                                           : Encoder::categorical(col, rows, y, task, min_missing));
    const auto names = e->names();
    p.feature_names_.insert(p.feature_names_.end(), names.begin(), names.end());
    p.encoders_.push_back(std::move(e));
  }
  return p;
}

Matrix Preprocessor::transform(const data::Table& table,
                               const std::vector<std::int64_t>& rows) const {
  check_rows(table, rows);
  std::vector<const Column*> cols;
  std::vector<std::int64_t> offsets;
  std::int64_t width = 0;
  for (const auto& e : encoders_) {
    cols.push_back(&column_of(table, e->column));
    offsets.push_back(width);
    width += static_cast<std::int64_t>(e->names().size());
  }
  Matrix x(static_cast<std::int64_t>(rows.size()), width);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    float* out = x.row(static_cast<std::int64_t>(i));
    for (std::size_t k = 0; k < encoders_.size(); ++k)
      encoders_[k]->write(*cols[k], static_cast<std::size_t>(rows[i]), out + offsets[k]);
  }
  return x;
}

Matrix Preprocessor::transform(const data::Table& table) const {
  std::vector<std::int64_t> rows(static_cast<std::size_t>(table.rows()));
  for (std::size_t i = 0; i < rows.size(); ++i) rows[i] = static_cast<std::int64_t>(i);
  return transform(table, rows);
}

std::vector<std::string> Preprocessor::columns() const {
  std::vector<std::string> out;
  for (const auto& e : encoders_) out.push_back(e->column);
  return out;
}

nlohmann::json Preprocessor::to_json() const {
  nlohmann::json encoders = nlohmann::json::array();
  for (const auto& e : encoders_) encoders.push_back(e->to_json());
  return {{"version", kFormatVersion}, {"encoders", std::move(encoders)}};
}

Preprocessor Preprocessor::from_json(const nlohmann::json& j) {
  Preprocessor p;
  try {
    if (!j.is_object() || j.value("version", 0) != kFormatVersion)
      bad_json("expected an object with \"version\": " + std::to_string(kFormatVersion));
    for (const nlohmann::json& item : j.at("encoders")) {
      auto e = std::make_shared<Encoder>(Encoder::from_json(item));
      const auto names = e->names();
      p.feature_names_.insert(p.feature_names_.end(), names.begin(), names.end());
      p.encoders_.push_back(std::move(e));
    }
  } catch (const nlohmann::json::exception& e) {
    bad_json(e.what());
  }
  return p;
}

}  // namespace quarry::automl
