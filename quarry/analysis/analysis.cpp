// Slices and their metrics (analysis.hpp). The model's predictions are made once; each slice is a
// list of row indices into them. Every scalar metric is computed from per-row weights (1 for the
// point estimate, bootstrap counts for the intervals) over orders sorted once per slice, so a
// resample costs one pass over the slice's rows.
#include "quarry/analysis/analysis.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <mutex>
#include <numeric>
#include <random>
#include <set>
#include <thread>

#include "quarry/automl/model.hpp"
#include "quarry/core/error.hpp"

namespace quarry::analysis {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr const char* kMissing = "(missing)";

bool is_classifier(TaskType task) {
  return task != TaskType::Regression;
}

std::string number_text(double v) {
  if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 1e15)
    return std::to_string(static_cast<long long>(v));
  std::array<char, 32> buffer{};
  const auto r =
      std::to_chars(buffer.data(), buffer.data() + buffer.size(), v, std::chars_format::general, 4);
  return std::string(buffer.data(), r.ptr);
}

// --- slicing -----------------------------------------------------------------------------------

/// A column's groups: (label, rows), in display order.
using Groups = std::vector<std::pair<std::string, std::vector<std::int64_t>>>;

const data::Column& column_of(const data::Table& table, const std::string& name,
                              const std::string& spec) {
  const auto* c = table.find(name);
  if (!c)
    throw InvalidArgument("slice '" + spec + "': " + table.source + " has no column '" + name +
                          "' (columns: " + table.column_list() + ")");
  return *c;
}

Groups groups_of(const data::Column& c, const SlicingOptions& options) {
  Groups out;
  std::vector<std::int64_t> missing;
  const auto n = c.rows();
  if (c.type == data::ColumnType::Numeric) {
    std::vector<double> present;
    for (std::int64_t i = 0; i < n; ++i)
      if (!c.missing[static_cast<std::size_t>(i)])
        present.push_back(c.numbers[static_cast<std::size_t>(i)]);
    std::vector<double> sorted = present;
    std::sort(sorted.begin(), sorted.end());
    std::vector<double> distinct = sorted;
    distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
    if (static_cast<int>(distinct.size()) <= options.max_levels) {
      out.resize(distinct.size());
      for (std::size_t k = 0; k < distinct.size(); ++k) out[k].first = number_text(distinct[k]);
      for (std::int64_t i = 0; i < n; ++i) {
        const auto s = static_cast<std::size_t>(i);
        if (c.missing[s]) {
          missing.push_back(i);
          continue;
        }
        const auto k =
            std::lower_bound(distinct.begin(), distinct.end(), c.numbers[s]) - distinct.begin();
        out[static_cast<std::size_t>(k)].second.push_back(i);
      }
    } else {
      // Quantile bins: edges at the k / bins quantiles, repeated edges merged.
      std::vector<double> edges;
      const int bins = std::max(1, options.bins);
      for (int k = 0; k <= bins; ++k) {
        const double q = static_cast<double>(k) / bins;
        const auto at =
            static_cast<std::size_t>(std::llround(q * static_cast<double>(sorted.size() - 1)));
        edges.push_back(sorted[at]);
      }
      edges.erase(std::unique(edges.begin(), edges.end()), edges.end());
      const std::size_t count = std::max<std::size_t>(1, edges.size() - 1);
      out.resize(count);
      for (std::size_t k = 0; k < count; ++k) {
        const bool last = k + 1 == count;
        const double hi = edges.size() > 1 ? edges[k + 1] : edges[0];
        out[k].first = "[" + number_text(edges[k]) + ", " + number_text(hi) + (last ? "]" : ")");
      }
      for (std::int64_t i = 0; i < n; ++i) {
        const auto s = static_cast<std::size_t>(i);
        if (c.missing[s]) {
          missing.push_back(i);
          continue;
        }
        // The bin whose [low, high) holds the value; the top edge belongs to the last bin.
        const auto up = std::upper_bound(edges.begin(), edges.end(), c.numbers[s]) - edges.begin();
        const auto k =
            std::clamp<std::ptrdiff_t>(up - 1, 0, static_cast<std::ptrdiff_t>(count) - 1);
        out[static_cast<std::size_t>(k)].second.push_back(i);
      }
    }
  } else {
    std::map<std::string, std::vector<std::int64_t>> by_text;
    for (std::int64_t i = 0; i < n; ++i) {
      const auto s = static_cast<std::size_t>(i);
      if (c.missing[s])
        missing.push_back(i);
      else
        by_text[c.text[s]].push_back(i);
    }
    for (auto& [text, rows] : by_text) out.emplace_back(text, std::move(rows));
  }
  if (!missing.empty()) out.emplace_back(kMissing, std::move(missing));
  std::erase_if(out, [](const auto& g) { return g.second.empty(); });
  return out;
}

bool cell_matches(const data::Column& c, std::size_t i, const std::string& value) {
  if (c.missing[i]) return value == kMissing || value.empty();
  if (c.text[i] == value) return true;
  if (c.type != data::ColumnType::Categorical) {
    double v = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
    if (ec == std::errc() && end == value.data() + value.size()) return c.numbers[i] == v;
  }
  return false;
}

// --- scoring -----------------------------------------------------------------------------------

/// The rows of one slice, with what every weighting of them needs, sorted once.
class SliceScorer {
 public:
  SliceScorer(const Predictions& p, const std::vector<std::int64_t>& rows, int reliability_bins)
      : p_(p), rows_(rows), bins_(std::max(1, reliability_bins)) {
    const auto n = rows_.size();
    if (!is_classifier(p_.task)) return;
    const auto k = static_cast<std::size_t>(p_.predicted.cols);
    truth_.resize(n);
    guess_.resize(n);
    top_.resize(n);
    neg_log_p_.resize(n);
    for (std::size_t j = 0; j < n; ++j) {
      const float* row = p_.predicted.row(rows_[j]);
      truth_[j] = static_cast<std::size_t>(p_.y[static_cast<std::size_t>(rows_[j])]);
      if (p_.task == TaskType::Binary) {
        guess_[j] = row[1] >= 0.5f ? 1 : 0;
      } else {
        guess_[j] = static_cast<std::size_t>(std::max_element(row, row + k) - row);
      }
      top_[j] = row[guess_[j]];
      neg_log_p_[j] = -std::log(std::clamp(static_cast<double>(row[truth_[j]]), 1e-15, 1 - 1e-15));
    }
    // One order per class scored (binary: the positive class only), ascending by its probability.
    const std::size_t first = p_.task == TaskType::Binary ? 1 : 0;
    for (std::size_t c = first; c < k; ++c) {
      std::vector<std::uint32_t> order(n);
      std::iota(order.begin(), order.end(), 0u);
      std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
        return p_.predicted.at(rows_[a], static_cast<std::int64_t>(c)) <
               p_.predicted.at(rows_[b], static_cast<std::int64_t>(c));
      });
      orders_.emplace_back(c, std::move(order));
    }
  }

  /// Every scalar metric (metric_names order) under weights `w` (one per row of the slice).
  std::vector<double> scalars(const std::vector<double>& w) const {
    return is_classifier(p_.task) ? class_scalars(w) : regression_scalars(w);
  }

 private:
  std::vector<double> class_scalars(const std::vector<double>& w) const {
    const auto k = static_cast<std::size_t>(p_.predicted.cols);
    std::vector<double> truth(k), guessed(k), hit(k);
    std::vector<double> bin_w(static_cast<std::size_t>(bins_)), bin_conf(bin_w.size()),
        bin_hit(bin_w.size());
    double total = 0, logloss = 0;
    for (std::size_t j = 0; j < rows_.size(); ++j) {
      if (w[j] == 0) continue;
      total += w[j];
      truth[truth_[j]] += w[j];
      guessed[guess_[j]] += w[j];
      const bool right = guess_[j] == truth_[j];
      if (right) hit[truth_[j]] += w[j];
      logloss += w[j] * neg_log_p_[j];
      const auto b = bin_of(top_[j]);
      bin_w[b] += w[j];
      bin_conf[b] += w[j] * top_[j];
      if (right) bin_hit[b] += w[j];
    }
    std::vector<double> out;
    if (total == 0) return std::vector<double>(metric_names(p_.task).size(), kNaN);
    const double accuracy = std::accumulate(hit.begin(), hit.end(), 0.0) / total;
    double balanced = 0, precision = 0, recall = 0, f1 = 0;
    int present = 0, counted = 0;
    for (std::size_t c = 0; c < k; ++c) {
      if (truth[c] > 0) {
        balanced += hit[c] / truth[c];
        ++present;
      }
    }
    balanced = present ? balanced / present : kNaN;
    const auto prf = [&](std::size_t c, double& pr, double& re, double& f) {
      pr = guessed[c] > 0 ? hit[c] / guessed[c] : 0;
      re = truth[c] > 0 ? hit[c] / truth[c] : 0;
      f = truth[c] + guessed[c] > 0 ? 2 * hit[c] / (truth[c] + guessed[c]) : 0;
    };
    if (p_.task == TaskType::Binary) {
      prf(1, precision, recall, f1);
    } else {
      for (std::size_t c = 0; c < k; ++c) {
        if (truth[c] + guessed[c] == 0) continue;
        double pr = 0, re = 0, f = 0;
        prf(c, pr, re, f);
        precision += pr;
        recall += re;
        f1 += f;
        ++counted;
      }
      precision /= counted;
      recall /= counted;
      f1 /= counted;
    }
    // Macro one-vs-rest AUC over the classes with both sides present.
    double auc_sum = 0;
    int aucs = 0;
    for (const auto& [c, order] : orders_) {
      const double a = auc(c, order, w);
      if (std::isnan(a)) continue;
      auc_sum += a;
      ++aucs;
    }
    double ece = 0;
    for (std::size_t b = 0; b < bin_w.size(); ++b)
      if (bin_w[b] > 0) ece += std::fabs(bin_hit[b] - bin_conf[b]) / total;
    return {accuracy,        balanced, precision, recall, f1, aucs ? auc_sum / aucs : kNaN,
            logloss / total, ece};
  }

  std::size_t bin_of(double confidence) const {
    const auto b = static_cast<std::int64_t>(confidence * bins_);
    return static_cast<std::size_t>(std::clamp<std::int64_t>(b, 0, bins_ - 1));
  }

  /// P(score of a row of class c > score of a row of another class), ties counted half.
  double auc(std::size_t c, const std::vector<std::uint32_t>& order,
             const std::vector<double>& w) const {
    const auto col = static_cast<std::int64_t>(c);
    double pos = 0, neg = 0, below_neg = 0, sum = 0;
    for (std::size_t s = 0; s < order.size();) {
      std::size_t e = s;
      const float v = p_.predicted.at(rows_[order[s]], col);
      double group_pos = 0, group_neg = 0;
      while (e < order.size() && p_.predicted.at(rows_[order[e]], col) == v) {
        const auto j = order[e];
        (truth_[j] == c ? group_pos : group_neg) += w[j];
        ++e;
      }
      sum += group_pos * (below_neg + 0.5 * group_neg);
      below_neg += group_neg;
      pos += group_pos;
      neg += group_neg;
      s = e;
    }
    return pos > 0 && neg > 0 ? sum / (pos * neg) : kNaN;
  }

  std::vector<double> regression_scalars(const std::vector<double>& w) const {
    double total = 0, sq = 0, ab = 0, res = 0, mean = 0;
    for (std::size_t j = 0; j < rows_.size(); ++j) {
      if (w[j] == 0) continue;
      const auto r = static_cast<std::size_t>(rows_[j]);
      const double e = p_.y[r] - static_cast<double>(p_.predicted.values[r]);
      total += w[j];
      sq += w[j] * e * e;
      ab += w[j] * std::fabs(e);
      res += w[j] * e;
      mean += w[j] * p_.y[r];
    }
    if (total == 0) return std::vector<double>(metric_names(p_.task).size(), kNaN);
    mean /= total;
    double var = 0;
    for (std::size_t j = 0; j < rows_.size(); ++j) {
      if (w[j] == 0) continue;
      const double d = p_.y[static_cast<std::size_t>(rows_[j])] - mean;
      var += w[j] * d * d;
    }
    const double r2 = var > 0 ? 1 - sq / var : kNaN;
    return {std::sqrt(sq / total), ab / total, r2, res / total};
  }

 public:
  // Details at unit weights.
  void details(SliceResult& out, const AnalysisOptions& options) const {
    const auto n = rows_.size();
    if (!is_classifier(p_.task)) {
      std::vector<double> residuals(n);
      for (std::size_t j = 0; j < n; ++j) {
        const auto r = static_cast<std::size_t>(rows_[j]);
        residuals[j] = p_.y[r] - static_cast<double>(p_.predicted.values[r]);
      }
      std::sort(residuals.begin(), residuals.end());
      for (double q : {0.05, 0.25, 0.5, 0.75, 0.95}) {
        const double at = q * static_cast<double>(n - 1);
        const auto lo = static_cast<std::size_t>(std::floor(at));
        const auto hi = std::min(n - 1, lo + 1);
        out.residual_quantiles.emplace_back(
            q, residuals[lo] + (at - static_cast<double>(lo)) * (residuals[hi] - residuals[lo]));
      }
      return;
    }
    const auto k = static_cast<std::size_t>(p_.predicted.cols);
    out.confusion.assign(k, std::vector<std::int64_t>(k, 0));
    std::vector<double> truth(k), guessed(k), hit(k);
    for (std::size_t j = 0; j < n; ++j) {
      ++out.confusion[truth_[j]][guess_[j]];
      truth[truth_[j]] += 1;
      guessed[guess_[j]] += 1;
      if (truth_[j] == guess_[j]) hit[truth_[j]] += 1;
    }
    for (std::size_t c = 0; c < k; ++c) {
      ClassMetrics m;
      m.label = c < p_.classes.size() ? p_.classes[c] : std::to_string(c);
      m.precision = guessed[c] > 0 ? hit[c] / guessed[c] : 0;
      m.recall = truth[c] > 0 ? hit[c] / truth[c] : 0;
      m.f1 = truth[c] + guessed[c] > 0 ? 2 * hit[c] / (truth[c] + guessed[c]) : 0;
      m.support = static_cast<std::int64_t>(truth[c]);
      out.per_class.push_back(m);
    }
    std::vector<ReliabilityBin> bins(static_cast<std::size_t>(bins_));
    for (std::size_t b = 0; b < bins.size(); ++b) {
      bins[b].low = static_cast<double>(b) / bins_;
      bins[b].high = static_cast<double>(b + 1) / bins_;
    }
    for (std::size_t j = 0; j < n; ++j) {
      auto& b = bins[bin_of(top_[j])];
      b.confidence += top_[j];
      b.accuracy += truth_[j] == guess_[j];
      ++b.count;
    }
    for (auto& b : bins)
      if (b.count > 0) {
        b.confidence /= static_cast<double>(b.count);
        b.accuracy /= static_cast<double>(b.count);
        out.reliability.push_back(b);
      }
    if (p_.task != TaskType::Binary) return;
    // The ROC curve: thresholds from the highest score down, one point per distinct score,
    // thinned to about 200 points.
    const auto& order = orders_.front().second;
    double pos = truth[1], neg = truth[0];
    std::vector<std::pair<double, double>> roc{{0.0, 0.0}};
    double tp = 0, fp = 0;
    for (std::size_t s = order.size(); s > 0;) {
      const float v = p_.predicted.at(rows_[order[s - 1]], 1);
      while (s > 0 && p_.predicted.at(rows_[order[s - 1]], 1) == v) {
        (truth_[order[s - 1]] == 1 ? tp : fp) += 1;
        --s;
      }
      roc.emplace_back(neg > 0 ? fp / neg : kNaN, pos > 0 ? tp / pos : kNaN);
    }
    const std::size_t stride = std::max<std::size_t>(1, roc.size() / 200);
    for (std::size_t i = 0; i < roc.size(); ++i)
      if (i % stride == 0 || i + 1 == roc.size()) out.roc.push_back(roc[i]);
    for (double t : options.thresholds) {
      ThresholdMetrics m;
      m.threshold = t;
      for (std::size_t j = 0; j < n; ++j) {
        const bool said = p_.predicted.at(rows_[j], 1) >= t;
        const bool is = truth_[j] == 1;
        (said ? (is ? m.true_positives : m.false_positives)
              : (is ? m.false_negatives : m.true_negatives))++;
      }
      const auto tps = static_cast<double>(m.true_positives);
      const auto fps = static_cast<double>(m.false_positives);
      const auto fns = static_cast<double>(m.false_negatives);
      const auto tns = static_cast<double>(m.true_negatives);
      m.accuracy = n ? (tps + tns) / static_cast<double>(n) : kNaN;
      m.precision = tps + fps > 0 ? tps / (tps + fps) : 0;
      m.recall = tps + fns > 0 ? tps / (tps + fns) : 0;
      m.f1 = 2 * tps + fps + fns > 0 ? 2 * tps / (2 * tps + fps + fns) : 0;
      m.false_positive_rate = fps + tns > 0 ? fps / (fps + tns) : kNaN;
      out.at_thresholds.push_back(m);
    }
  }

 private:
  const Predictions& p_;
  const std::vector<std::int64_t>& rows_;
  int bins_;
  std::vector<std::size_t> truth_, guess_;
  std::vector<double> top_;
  std::vector<double> neg_log_p_;  ///< -log p(true class), clipped: the log loss's terms
  std::vector<std::pair<std::size_t, std::vector<std::uint32_t>>> orders_;
};

/// The percentile interval of `values` (NaNs left out) at `confidence`.
Interval percentile_interval(std::vector<double> values, double confidence) {
  std::erase_if(values, [](double v) { return std::isnan(v); });
  if (values.empty()) return {kNaN, kNaN};
  std::sort(values.begin(), values.end());
  const auto at = [&](double q) {
    const double pos = q * static_cast<double>(values.size() - 1);
    const auto lo = static_cast<std::size_t>(std::floor(pos));
    const auto hi = std::min(values.size() - 1, lo + 1);
    return values[lo] + (pos - static_cast<double>(lo)) * (values[hi] - values[lo]);
  };
  const double tail = (1 - confidence) / 2;
  return {at(tail), at(1 - tail)};
}

SliceResult score_slice(const Predictions& p, Slice slice, const AnalysisOptions& options,
                        std::uint64_t seed) {
  SliceResult out;
  out.count = static_cast<std::int64_t>(slice.rows.size());
  out.slice = std::move(slice);
  if (out.count < std::max<std::int64_t>(1, options.min_count)) {
    out.too_small = true;
    return out;
  }
  const SliceScorer scorer(p, out.slice.rows, options.reliability_bins);
  const auto names = metric_names(p.task);
  const std::vector<double> ones(out.slice.rows.size(), 1.0);
  const auto values = scorer.scalars(ones);
  for (std::size_t m = 0; m < names.size(); ++m) out.metrics[names[m]] = values[m];
  if (options.bootstrap > 0) {
    std::mt19937_64 rng(seed);
    std::vector<std::vector<double>> draws(names.size());
    std::vector<double> w(out.slice.rows.size());
    std::uniform_int_distribution<std::size_t> pick(0, w.size() - 1);
    for (int b = 0; b < options.bootstrap; ++b) {
      std::fill(w.begin(), w.end(), 0.0);
      for (std::size_t i = 0; i < w.size(); ++i) w[pick(rng)] += 1;
      const auto v = scorer.scalars(w);
      for (std::size_t m = 0; m < names.size(); ++m) draws[m].push_back(v[m]);
    }
    for (std::size_t m = 0; m < names.size(); ++m)
      out.intervals[names[m]] = percentile_interval(std::move(draws[m]), options.confidence);
  }
  scorer.details(out, options);
  return out;
}

nlohmann::json number(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
}

}  // namespace

Predictions predictions_of(const automl::AutoModel& model, data::Table& table) {
  const auto target = automl::encode_target(table, model.target(), model.task(), model.classes());
  if (static_cast<std::int64_t>(target.rows.size()) != table.rows())
    table = table.take(target.rows);
  Predictions p;
  p.task = model.task();
  p.classes = model.classes();
  p.predicted = model.predict(table);
  p.y = target.y;
  return p;
}

SliceSpec parse_slice(const std::string& text) {
  SliceSpec spec;
  spec.text = text;
  std::string columns = text;
  if (const auto eq = text.find('='); eq != std::string::npos) {
    columns = text.substr(0, eq);
    spec.value = text.substr(eq + 1);
    if (columns.find(',') != std::string::npos)
      throw InvalidArgument("--slice '" + text + "': COL=VALUE names one column");
  }
  std::size_t start = 0;
  while (true) {
    const auto comma = columns.find(',', start);
    const auto part =
        columns.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (part.empty())
      throw InvalidArgument("--slice '" + text +
                            "': an empty column name (use COL, COL1,COL2 or COL=VALUE)");
    spec.columns.push_back(part);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (spec.columns.size() > 2)
    throw InvalidArgument("--slice '" + text + "': at most two columns are crossed, got " +
                          std::to_string(spec.columns.size()));
  return spec;
}

std::vector<Slice> make_slices(const data::Table& table, const std::vector<SliceSpec>& specs,
                               const SlicingOptions& options) {
  std::vector<Slice> out;
  Slice overall{"overall", "", {}, {}};
  overall.rows.resize(static_cast<std::size_t>(table.rows()));
  std::iota(overall.rows.begin(), overall.rows.end(), 0);
  out.push_back(std::move(overall));
  for (const auto& spec : specs) {
    if (spec.value) {
      const auto& c = column_of(table, spec.columns.front(), spec.text);
      Slice s{c.name + "=" + *spec.value, spec.text, {{c.name, *spec.value}}, {}};
      for (std::int64_t i = 0; i < table.rows(); ++i)
        if (cell_matches(c, static_cast<std::size_t>(i), *spec.value)) s.rows.push_back(i);
      if (s.rows.empty()) {
        std::string values;
        const auto groups = groups_of(c, options);
        for (std::size_t g = 0; g < groups.size() && g < 12; ++g)
          values += (g ? ", " : "") + groups[g].first;
        if (groups.size() > 12) values += ", ...";
        throw InvalidArgument("slice '" + spec.text + "': no row of " + table.source + " has " +
                              c.name + " = '" + *spec.value + "' (values: " + values + ")");
      }
      out.push_back(std::move(s));
      continue;
    }
    const auto& a = column_of(table, spec.columns.front(), spec.text);
    const auto ga = groups_of(a, options);
    if (spec.columns.size() == 1) {
      for (const auto& [label, rows] : ga)
        out.push_back({a.name + "=" + label, spec.text, {{a.name, label}}, rows});
      continue;
    }
    const auto& b = column_of(table, spec.columns[1], spec.text);
    const auto gb = groups_of(b, options);
    std::vector<std::size_t> group_b(static_cast<std::size_t>(table.rows()));
    for (std::size_t g = 0; g < gb.size(); ++g)
      for (auto r : gb[g].second) group_b[static_cast<std::size_t>(r)] = g;
    for (const auto& [la, rows_a] : ga) {
      std::vector<std::vector<std::int64_t>> cross(gb.size());
      for (auto r : rows_a) cross[group_b[static_cast<std::size_t>(r)]].push_back(r);
      for (std::size_t g = 0; g < gb.size(); ++g)
        if (!cross[g].empty())
          out.push_back({a.name + "=" + la + ", " + b.name + "=" + gb[g].first,
                         spec.text,
                         {{a.name, la}, {b.name, gb[g].first}},
                         std::move(cross[g])});
    }
  }
  return out;
}

std::vector<std::string> metric_names(TaskType task) {
  if (is_classifier(task))
    return {"accuracy", "balanced_accuracy", "precision", "recall",
            "f1",       "roc_auc",           "log_loss",  "ece"};
  return {"rmse", "mae", "r2", "mean_residual"};
}

bool higher_is_better(const std::string& metric) {
  static const std::set<std::string> higher = {
      "accuracy", "balanced_accuracy", "precision", "recall", "f1", "roc_auc", "r2"};
  return higher.contains(metric);
}

Analysis analyze(const Predictions& predictions, const data::Table& table,
                 const AnalysisOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  const auto n = static_cast<std::int64_t>(predictions.y.size());
  if (predictions.predicted.rows != n || table.rows() != n)
    throw InvalidArgument(table.source + ": " + std::to_string(table.rows()) + " rows, but " +
                          std::to_string(predictions.predicted.rows) + " predictions and " +
                          std::to_string(n) + " true values");
  if (n == 0) throw InvalidArgument(table.source + ": no rows to analyse");
  const auto expected_cols =
      is_classifier(predictions.task) ? static_cast<std::int64_t>(predictions.classes.size()) : 1;
  if (predictions.predicted.cols != expected_cols)
    throw InvalidArgument("the model predicts " + std::to_string(predictions.predicted.cols) +
                          " column(s) per row, expected " + std::to_string(expected_cols));
  if (options.bootstrap < 0) throw InvalidArgument("bootstrap resamples must be >= 0");
  if (!(options.confidence > 0 && options.confidence < 1))
    throw InvalidArgument("confidence must be in (0, 1)");
  for (double t : options.thresholds)
    if (!(t >= 0 && t <= 1))
      throw InvalidArgument("decision threshold " + number_text(t) + " is not in [0, 1]");

  auto specs = options.slices;
  for (const auto& column : options.fairness) {
    const bool sliced = std::any_of(specs.begin(), specs.end(), [&](const SliceSpec& s) {
      return s.columns.size() == 1 && !s.value && s.columns.front() == column;
    });
    if (!sliced) specs.push_back(parse_slice(column));
  }
  auto slices = make_slices(table, specs, options.slicing);

  Analysis a;
  a.task = predictions.task;
  a.classes = predictions.classes;
  a.data = table.source;
  a.rows = n;
  // Slices are scored independently (each with its own seeded stream), on every core when the
  // bootstrap makes them worth a thread.
  a.slices.resize(slices.size());
  std::atomic<std::size_t> next{0};
  std::exception_ptr error;
  std::mutex error_mutex;
  const auto work = [&] {
    try {
      for (std::size_t k; (k = next++) < slices.size();)
        a.slices[k] = score_slice(predictions, std::move(slices[k]), options,
                                  options.seed * 1000003 + static_cast<std::uint64_t>(k));
    } catch (...) {
      std::lock_guard lock(error_mutex);
      error = std::current_exception();
    }
  };
  const std::size_t threads =
      options.bootstrap > 0
          ? std::min<std::size_t>(slices.size(), std::max(1u, std::thread::hardware_concurrency()))
          : 1;
  std::vector<std::thread> pool;
  for (std::size_t t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);

  for (const auto& column : options.fairness) {
    FairnessView view;
    view.column = column;
    std::vector<const SliceResult*> groups;
    for (const auto& s : a.slices)
      // The column's own slices (given twice as --slice COL, they are compared once).
      if (!s.too_small && s.slice.spec == column &&
          std::find(view.groups.begin(), view.groups.end(), s.slice.name) == view.groups.end()) {
        groups.push_back(&s);
        view.groups.push_back(s.slice.name);
      }
    for (const auto& metric : metric_names(a.task)) {
      if (metric == "mean_residual") continue;  // signed: spread is not a disparity
      const SliceResult *best = nullptr, *worst = nullptr;
      for (const auto* g : groups) {
        const double v = g->metrics.at(metric);
        if (std::isnan(v)) continue;
        const bool up = higher_is_better(metric);
        if (!best || (up ? v > best->metrics.at(metric) : v < best->metrics.at(metric))) best = g;
        if (!worst || (up ? v < worst->metrics.at(metric) : v > worst->metrics.at(metric)))
          worst = g;
      }
      if (!best) continue;
      Disparity d;
      d.metric = metric;
      d.best = best->metrics.at(metric);
      d.worst = worst->metrics.at(metric);
      d.best_group = best->slice.name;
      d.worst_group = worst->slice.name;
      d.difference = std::fabs(d.best - d.worst);
      const double hi = std::max(d.best, d.worst), lo = std::min(d.best, d.worst);
      d.ratio = hi != 0 ? lo / hi : kNaN;
      view.disparities.push_back(d);
    }
    a.fairness.push_back(std::move(view));
  }
  a.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return a;
}

nlohmann::json to_json(const Analysis& a) {
  nlohmann::json slices = nlohmann::json::array();
  for (const auto& s : a.slices) {
    nlohmann::json j;
    j["name"] = s.slice.name;
    j["spec"] = s.slice.spec;
    nlohmann::json features = nlohmann::json::array();
    for (const auto& [c, v] : s.slice.features) features.push_back({c, v});
    j["features"] = features;
    j["count"] = s.count;
    j["too_small"] = s.too_small;
    nlohmann::json metrics = nlohmann::json::object();
    for (const auto& name : metric_names(a.task))
      if (auto it = s.metrics.find(name); it != s.metrics.end()) metrics[name] = number(it->second);
    j["metrics"] = metrics;
    nlohmann::json intervals = nlohmann::json::object();
    for (const auto& [name, iv] : s.intervals) intervals[name] = {number(iv.low), number(iv.high)};
    j["intervals"] = intervals;
    if (is_classifier(a.task)) {
      nlohmann::json per_class = nlohmann::json::array();
      for (const auto& c : s.per_class)
        per_class.push_back({{"label", c.label},
                             {"precision", number(c.precision)},
                             {"recall", number(c.recall)},
                             {"f1", number(c.f1)},
                             {"support", c.support}});
      j["per_class"] = per_class;
      j["confusion"] = s.confusion;
      nlohmann::json reliability = nlohmann::json::array();
      for (const auto& b : s.reliability)
        reliability.push_back({{"low", b.low},
                               {"high", b.high},
                               {"confidence", number(b.confidence)},
                               {"accuracy", number(b.accuracy)},
                               {"count", b.count}});
      j["reliability"] = reliability;
      if (a.task == TaskType::Binary) {
        nlohmann::json roc = nlohmann::json::array();
        for (const auto& [x, y] : s.roc) roc.push_back({number(x), number(y)});
        j["roc"] = roc;
        nlohmann::json thresholds = nlohmann::json::array();
        for (const auto& t : s.at_thresholds)
          thresholds.push_back({{"threshold", t.threshold},
                                {"accuracy", number(t.accuracy)},
                                {"precision", number(t.precision)},
                                {"recall", number(t.recall)},
                                {"f1", number(t.f1)},
                                {"false_positive_rate", number(t.false_positive_rate)},
                                {"true_positives", t.true_positives},
                                {"false_positives", t.false_positives},
                                {"true_negatives", t.true_negatives},
                                {"false_negatives", t.false_negatives}});
        j["thresholds"] = thresholds;
      }
    } else {
      nlohmann::json q = nlohmann::json::array();
      for (const auto& [p, v] : s.residual_quantiles) q.push_back({p, number(v)});
      j["residual_quantiles"] = q;
    }
    slices.push_back(std::move(j));
  }
  nlohmann::json fairness = nlohmann::json::array();
  for (const auto& f : a.fairness) {
    nlohmann::json d = nlohmann::json::array();
    for (const auto& x : f.disparities)
      d.push_back({{"metric", x.metric},
                   {"best", number(x.best)},
                   {"worst", number(x.worst)},
                   {"best_group", x.best_group},
                   {"worst_group", x.worst_group},
                   {"difference", number(x.difference)},
                   {"ratio", number(x.ratio)}});
    fairness.push_back({{"column", f.column}, {"groups", f.groups}, {"disparities", d}});
  }
  return {{"task", automl::to_string(a.task)},
          {"classes", a.classes},
          {"model", a.model},
          {"data", a.data},
          {"rows", a.rows},
          {"metric_names", metric_names(a.task)},
          {"slices", slices},
          {"fairness", fairness},
          {"seconds", a.seconds}};
}

}  // namespace quarry::analysis
