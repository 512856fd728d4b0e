// The target and its task (task.hpp): AutoGluon's detection rules, class encoding, column plans.
#include "quarry/automl/task.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <tuple>
#include <unordered_set>
#include <utility>

#include "quarry/core/error.hpp"

namespace quarry::automl {

namespace {

using data::Column;
using data::ColumnType;

// AutoGluon's infer_problem_type thresholds.
constexpr std::int64_t kMulticlassUpperLimit = 1000;
constexpr std::int64_t kLargeData = 1000;
constexpr double kRatioLargeData = 0.05;
constexpr double kRatioSmallData = 0.1;

bool is_integer(double v) {
  return std::isfinite(v) && v == std::floor(v);
}

/// A class label for a number: "3" for integers, the shortest round-trip text otherwise.
std::string label_of(double value) {
  if (is_integer(value) && std::fabs(value) < 1e15)
    return std::to_string(static_cast<long long>(value));
  std::array<char, 32> buffer{};
  const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
  return std::string(buffer.data(), result.ptr);
}

std::string percent(double share) {
  std::array<char, 32> buffer{};
  std::snprintf(buffer.data(), buffer.size(), "%.1f", 100.0 * share);
  return buffer.data();
}

std::string where(const data::Table& table, const std::string& column) {
  return table.source + ": target column '" + column + "'";
}

/// The classes of a column and each present row's class index, labels in class order.
struct Classes {
  std::vector<std::string> labels;
  std::vector<double> index;  ///< per row; NaN where missing
};

Classes classes_of(const Column& col) {
  const std::size_t rows = col.text.size();
  Classes out;
  out.index.assign(rows, std::numeric_limits<double>::quiet_NaN());
  if (col.type == ColumnType::Categorical) {
    std::map<std::string, std::size_t> order;
    for (std::size_t r = 0; r < rows; ++r)
      if (!col.missing[r]) order.emplace(col.text[r], 0);
    for (auto& [label, i] : order) {
      i = out.labels.size();
      out.labels.push_back(label);
    }
    for (std::size_t r = 0; r < rows; ++r)
      if (!col.missing[r]) out.index[r] = static_cast<double>(order.at(col.text[r]));
    return out;
  }
  // Numbers (and booleans, 0 / 1) in numeric order; a boolean class keeps its first spelling.
  std::map<double, std::pair<std::size_t, std::string>> order;
  for (std::size_t r = 0; r < rows; ++r)
    if (!col.missing[r])
      order.emplace(col.numbers[r], std::pair{std::size_t{0}, col.type == ColumnType::Boolean
                                                                  ? col.text[r]
                                                                  : label_of(col.numbers[r])});
  for (auto& [value, entry] : order) {
    entry.first = out.labels.size();
    out.labels.push_back(entry.second);
  }
  for (std::size_t r = 0; r < rows; ++r)
    if (!col.missing[r]) out.index[r] = static_cast<double>(order.at(col.numbers[r]).first);
  return out;
}

/// Detection for a target with `distinct` >= 2 distinct values: the task and why.
std::pair<TaskType, std::string> detect(const Column& col, std::int64_t distinct,
                                        std::int64_t present) {
  const std::string count = std::to_string(distinct);
  if (distinct == 2) return {TaskType::Binary, "2 distinct values: binary"};
  if (col.type != ColumnType::Numeric)
    return {TaskType::Multiclass, count + " distinct values, not numbers: multiclass"};
  for (std::size_t r = 0; r < col.numbers.size(); ++r)
    if (!col.missing[r] && !is_integer(col.numbers[r]))
      return {TaskType::Regression, "non-integer numbers: regression"};
  if (distinct > kMulticlassUpperLimit)
    return {TaskType::Regression, count + " distinct integer values (more than " +
                                      std::to_string(kMulticlassUpperLimit) + "): regression"};
  const double share = static_cast<double>(distinct) / static_cast<double>(present);
  const double limit = present > kLargeData ? kRatioLargeData : kRatioSmallData;
  const std::string text =
      count + " distinct integer values in " + std::to_string(present) + " rows (" + percent(share);
  if (share <= limit) return {TaskType::Multiclass, text + " %): multiclass"};
  return {TaskType::Regression, text + " %, more than " + percent(limit) + " %): regression"};
}

}  // namespace

std::string to_string(TaskType type) {
  switch (type) {
    case TaskType::Binary:
      return "binary";
    case TaskType::Multiclass:
      return "multiclass";
    case TaskType::Regression:
      return "regression";
  }
  return "unknown";
}

std::optional<TaskType> task_from_string(const std::string& name) {
  if (name == "auto") return std::nullopt;
  for (const TaskType t : {TaskType::Binary, TaskType::Multiclass, TaskType::Regression})
    if (name == to_string(t)) return t;
  throw InvalidArgument("unknown task '" + name +
                        "' (choices: auto, binary, multiclass, regression)");
}

Target detect_target(const data::Table& table, const std::string& column,
                     std::optional<TaskType> forced) {
  const Column* col = table.find(column);
  if (col == nullptr)
    throw InvalidArgument(table.source + ": no target column '" + column +
                          "' (columns: " + table.column_list() + ")");
  Target target;
  target.column = column;
  target.missing = col->missing_count();
  const std::int64_t present = col->rows() - target.missing;
  if (present == 0) throw InvalidArgument(where(table, column) + ": every value is missing");

  Classes classes = classes_of(*col);
  const auto distinct = static_cast<std::int64_t>(classes.labels.size());
  if (distinct == 1)
    throw InvalidArgument(where(table, column) + " has a single value ('" + classes.labels.front() +
                          "'): nothing to predict");

  if (forced) {
    target.task = *forced;
    target.reason = to_string(*forced) + " (chosen)";
  } else {
    std::tie(target.task, target.reason) = detect(*col, distinct, present);
  }

  if (target.task == TaskType::Regression) {
    if (col->type != ColumnType::Numeric) {
      std::size_t r = 0;
      // The first present cell that is not a number (a boolean is not one).
      while (col->missing[r] ||
             (col->type == ColumnType::Categorical && !std::isnan(col->numbers[r])))
        ++r;
      throw InvalidArgument(where(table, column) + " has '" + col->text[r] + "' in row " +
                            std::to_string(r + 1) +
                            ", not a number (a regression target must be numeric)");
    }
    target.y = col->numbers;
    return target;
  }
  if (target.task == TaskType::Binary && distinct != 2)
    throw InvalidArgument(where(table, column) + " has " + std::to_string(distinct) +
                          " distinct values; binary needs exactly 2");
  target.classes = std::move(classes.labels);
  target.y = std::move(classes.index);
  return target;
}

std::vector<ColumnPlan> plan_columns(const data::Table& table, const std::string& target) {
  std::vector<ColumnPlan> plan;
  for (const Column& col : table.columns) {
    if (col.name == target) continue;
    ColumnPlan p{col.name, ColumnPlan::Role::Numeric, ""};
    const std::int64_t rows = col.rows();
    const std::int64_t missing = col.missing_count();
    const auto dropped = [&](std::string reason) {
      p.role = ColumnPlan::Role::Dropped;
      p.reason = std::move(reason);
    };
    if (missing == rows) {
      dropped("all missing");
    } else if (col.type == ColumnType::Categorical) {
      std::unordered_set<std::string> levels;
      for (std::size_t r = 0; r < col.text.size(); ++r)
        if (!col.missing[r]) levels.insert(col.text[r]);
      const auto distinct = static_cast<std::int64_t>(levels.size());
      if (distinct == 1) {
        dropped("constant");
      } else if (distinct == rows) {
        dropped("ID-like: " + std::to_string(distinct) + " distinct of " + std::to_string(rows));
      } else {
        p.role = ColumnPlan::Role::Categorical;
        p.reason = "text, " + std::to_string(distinct) + " distinct values";
      }
    } else {
      std::vector<double> values;
      bool integers = true;
      for (std::size_t r = 0; r < col.numbers.size(); ++r)
        if (!col.missing[r]) {
          values.push_back(col.numbers[r]);
          integers = integers && is_integer(col.numbers[r]);
        }
      std::sort(values.begin(), values.end());
      values.erase(std::unique(values.begin(), values.end()), values.end());
      const auto distinct = static_cast<std::int64_t>(values.size());
      const double low = values.front(), high = values.back();
      if (distinct == 1) {
        dropped("constant");
      } else if (col.type == ColumnType::Boolean) {
        p.role = ColumnPlan::Role::Categorical;
        p.reason = "boolean";
      } else if (integers && distinct == rows && high - low + 1 == static_cast<double>(rows)) {
        dropped("ID-like: the integers " + label_of(low) + ".." + label_of(high) + ", each once");
      } else if (integers && distinct <= kMaxIntegerCategories) {
        p.role = ColumnPlan::Role::Categorical;
        p.reason = std::to_string(distinct) + " distinct integers";
      } else {
        p.reason = "numbers";
      }
    }
    plan.push_back(std::move(p));
  }
  return plan;
}

EncodedTarget encode_target(const data::Table& table, const std::string& column, TaskType task,
                            const std::vector<std::string>& classes) {
  const auto* col = table.find(column);
  if (!col)
    throw InvalidArgument(table.source + ": no target column '" + column +
                          "' (columns: " + table.column_list() + ")");
  EncodedTarget out;
  for (std::int64_t r = 0; r < table.rows(); ++r) {
    const auto i = static_cast<std::size_t>(r);
    if (col->missing[i]) continue;
    if (task == TaskType::Regression) {
      if (std::isnan(col->numbers[i]))
        throw InvalidArgument(table.source + ": row " + std::to_string(r + 1) + ": target '" +
                              column + "' is not a number: '" + col->text[i] + "'");
      out.y.push_back(col->numbers[i]);
    } else {
      auto it = std::find(classes.begin(), classes.end(), col->text[i]);
      if (it == classes.end() && !std::isnan(col->numbers[i]))
        it = std::find_if(classes.begin(), classes.end(), [&](const std::string& c) {
          double v = 0;
          const auto [end, ec] = std::from_chars(c.data(), c.data() + c.size(), v);
          return ec == std::errc() && end == c.data() + c.size() && v == col->numbers[i];
        });
      if (it == classes.end())
        throw InvalidArgument(table.source + ": row " + std::to_string(r + 1) + ": class '" +
                              col->text[i] + "' of '" + column + "' was not in the training data");
      out.y.push_back(static_cast<double>(it - classes.begin()));
    }
    out.rows.push_back(r);
  }
  if (out.rows.empty())
    throw InvalidArgument(table.source + ": every value of '" + column + "' is missing");
  return out;
}

}  // namespace quarry::automl
