// The knn family: k nearest neighbours by brute force over the training rows, on features
// standardised on those rows, with the Manhattan (p = 1) or Euclidean (p = 2) distance.
//
// Neighbours are ordered by distance, ties by training row, so predictions are deterministic; a
// bounded heap keeps the k nearest while the rows stream past.
// Weights are 1 (uniform) or 1 / distance (distance; when some neighbours lie at distance 0, only
// they count). Classification predicts the weighted share of each class among the k; regression
// the weighted mean. Input must be imputed: NaN is an InvalidArgument.
//
// The saved model keeps the standardised training rows and their targets in "<stem>.knn": the
// bytes "QKNN", a uint32 version (1), int64 rows and columns, the rows as float32 (row-major), the
// targets as float64, all little-endian. The JSON holds the rest.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "quarry/automl/families_builtin.hpp"
#include "quarry/automl/family_support.hpp"
#include "quarry/core/error.hpp"

namespace quarry::automl {
namespace {

static_assert(std::endian::native == std::endian::little, "the .knn file is written as is");

using detail::FamilyParams;
using detail::Standardizer;

const std::string kWho = "model family 'knn'";
constexpr char kMagic[4] = {'Q', 'K', 'N', 'N'};
constexpr std::uint32_t kVersion = 1;

/// The L1 distance or the squared L2 distance from z to row, given up (returning at least `bound`)
/// once it reaches `bound`: checked every 8 features.
template <int P>
double distance(const std::vector<double>& z, const float* row, double bound) {
  double d = 0;
  for (std::size_t start = 0; start < z.size(); start += 8) {
    const std::size_t end = std::min(z.size(), start + 8);
    for (std::size_t j = start; j < end; ++j) {
      const double diff = z[j] - row[j];
      d += P == 1 ? std::abs(diff) : diff * diff;
    }
    if (d >= bound) break;
  }
  return d;
}

class KnnModel final : public Estimator {
 public:
  KnnModel(std::int64_t k, bool by_distance, int p, TaskType task)
      : k_(k), by_distance_(by_distance), p_(p), task_(task) {}
  KnnModel(const nlohmann::json& saved, const std::filesystem::path& dir);

  void fit(const Matrix& x, const std::vector<double>& y, const FitOptions& options) override;
  Matrix predict(const Matrix& x) const override;
  nlohmann::json save(const std::filesystem::path& dir, const std::string& stem) const override;

 private:
  std::int64_t k_;
  bool by_distance_;
  int p_;
  TaskType task_;
  std::int64_t classes_ = 0;
  Standardizer standardizer_;
  Matrix rows_;  ///< the standardised training rows
  std::vector<double> y_;
  bool fitted_ = false;
};

void KnnModel::fit(const Matrix& x, const std::vector<double>& y, const FitOptions& options) {
  classes_ = detail::check_fit(kWho, x, y, task_, options);
  detail::check_finite(kWho, x);
  standardizer_ = Standardizer::fit(x);
  rows_ = standardizer_.transform(x);
  y_ = y;
  fitted_ = true;
}

Matrix KnnModel::predict(const Matrix& x) const {
  if (!fitted_) throw InvalidArgument(kWho + ": predict before fit");
  const std::int64_t p = rows_.cols;
  detail::check_features(kWho, x, p);
  detail::check_finite(kWho, x);
  const std::int64_t width = detail::output_width(task_, classes_);
  const auto k = static_cast<std::size_t>(std::min(k_, rows_.rows));
  Matrix out(x.rows, width);
  std::vector<double> z(static_cast<std::size_t>(p)), share(static_cast<std::size_t>(width));
  // The k nearest so far as a max-heap of (distance, row) (squared for Euclidean): rows come in
  // order, so a later row at the same distance never displaces an earlier one.
  std::vector<std::pair<double, std::int64_t>> near;
  near.reserve(k);
  for (std::int64_t r = 0; r < x.rows; ++r) {
    for (std::int64_t j = 0; j < p; ++j)
      z[static_cast<std::size_t>(j)] = standardizer_.apply(j, x.at(r, j));
    near.clear();
    for (std::int64_t t = 0; t < rows_.rows; ++t) {
      const float* row = rows_.row(t);
      const bool full = near.size() == k;
      const double bound = full ? near.front().first : std::numeric_limits<double>::infinity();
      const double d = p_ == 1 ? distance<1>(z, row, bound) : distance<2>(z, row, bound);
      if (d >= bound) continue;
      if (full) {
        std::pop_heap(near.begin(), near.end());
        near.back() = {d, t};
      } else {
        near.emplace_back(d, t);
      }
      std::push_heap(near.begin(), near.end());
    }
    std::sort_heap(near.begin(), near.end());
    if (p_ == 2)
      for (auto& n : near) n.first = std::sqrt(n.first);
    const bool exact = by_distance_ && near[0].first == 0;
    std::fill(share.begin(), share.end(), 0.0);
    double total = 0;
    for (std::size_t i = 0; i < k; ++i) {
      const auto [d, t] = near[i];
      double w = 1;
      if (exact && d > 0) continue;  // only the rows at distance 0 count
      if (by_distance_ && !exact) w = 1 / d;
      const double target = y_[static_cast<std::size_t>(t)];
      if (task_ == TaskType::Regression)
        share[0] += w * target;
      else
        share[static_cast<std::size_t>(target)] += w;
      total += w;
    }
    for (std::int64_t c = 0; c < width; ++c)
      out.at(r, c) = static_cast<float>(share[static_cast<std::size_t>(c)] / total);
  }
  return out;
}

nlohmann::json KnnModel::save(const std::filesystem::path& dir, const std::string& stem) const {
  if (!fitted_) throw InvalidArgument(kWho + ": save before fit");
  const std::string name = stem + ".knn";
  const auto path = dir / name;
  std::ofstream out(path, std::ios::binary);
  const std::int64_t shape[2] = {rows_.rows, rows_.cols};
  out.write(kMagic, sizeof kMagic);
  out.write(reinterpret_cast<const char*>(&kVersion), sizeof kVersion);
  out.write(reinterpret_cast<const char*>(shape), sizeof shape);
  out.write(reinterpret_cast<const char*>(rows_.values.data()),
            static_cast<std::streamsize>(rows_.values.size() * sizeof(float)));
  out.write(reinterpret_cast<const char*>(y_.data()),
            static_cast<std::streamsize>(y_.size() * sizeof(double)));
  out.close();
  if (!out) throw Error(kWho + ": cannot write " + path.string());
  return {{"family", "knn"},
          {"task", to_string(task_)},
          {"classes", classes_},
          {"k", k_},
          {"weights", by_distance_ ? "distance" : "uniform"},
          {"p", p_},
          {"standardizer", standardizer_.to_json()},
          {"file", name}};
}

KnnModel::KnnModel(const nlohmann::json& saved, const std::filesystem::path& dir)
    : k_(saved.at("k").get<std::int64_t>()),
      by_distance_(saved.at("weights").get<std::string>() == "distance"),
      p_(saved.at("p").get<int>()),
      task_(detail::task_from_key(saved.at("task").get<std::string>())) {
  if (saved.at("family").get<std::string>() != "knn")
    throw InvalidArgument("saved model: family '" + saved.at("family").get<std::string>() +
                          "' loaded as 'knn'");
  classes_ = saved.at("classes").get<std::int64_t>();
  standardizer_ = Standardizer::from_json(saved.at("standardizer"));
  const auto path = dir / saved.at("file").get<std::string>();
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  std::uint32_t version = 0;
  std::int64_t shape[2] = {0, 0};
  in.read(magic, sizeof magic);
  in.read(reinterpret_cast<char*>(&version), sizeof version);
  in.read(reinterpret_cast<char*>(shape), sizeof shape);
  if (!in || std::memcmp(magic, kMagic, sizeof magic) != 0 || version != kVersion || shape[0] < 1 ||
      shape[1] != static_cast<std::int64_t>(standardizer_.mean.size()) ||
      shape[0] > (std::int64_t{1} << 40) / std::max<std::int64_t>(1, shape[1]))
    throw InvalidArgument("saved model 'knn': " + path.string() + " is not a kNN file of " +
                          std::to_string(standardizer_.mean.size()) + " features");
  rows_ = Matrix(shape[0], shape[1]);
  y_.resize(static_cast<std::size_t>(shape[0]));
  in.read(reinterpret_cast<char*>(rows_.values.data()),
          static_cast<std::streamsize>(rows_.values.size() * sizeof(float)));
  in.read(reinterpret_cast<char*>(y_.data()),
          static_cast<std::streamsize>(y_.size() * sizeof(double)));
  if (!in || in.peek() != std::ifstream::traits_type::eof())
    throw InvalidArgument("saved model 'knn': " + path.string() + " has the wrong length");
  for (double t : y_)
    if (!std::isfinite(t) ||
        (classes_ > 0 && (t < 0 || t >= static_cast<double>(classes_) || t != std::floor(t))))
      throw InvalidArgument("saved model 'knn': " + path.string() + " holds a bad target");
  if (k_ < 1 || (p_ != 1 && p_ != 2))
    throw InvalidArgument("saved model 'knn': k >= 1 and p in {1, 2} must hold");
  fitted_ = true;
}

}  // namespace

Family knn_family() {
  using space::Param;
  Family f;
  f.name = "knn";
  f.description = "k nearest neighbours";
  f.params = {
      Param::Int("knn.k", 1, 50, {.log = true, .default_value = 5}),
      Param::Choice("knn.weights", {Value{std::string("uniform")}, Value{std::string("distance")}}),
      Param::Choice("knn.p", {Value{std::int64_t{1}}, Value{std::int64_t{2}}},
                    {.default_value = Value{std::int64_t{2}}}),
  };
  for (const auto& p : f.params) f.cheap[p.name()] = p.default_value();
  f.make = [space = f.params](const space::Params& params, TaskType task) {
    const FamilyParams p("knn", space, params);
    const auto k = p.integer("k");
    require(k >= 1, kWho, "k >= 1", k);
    const auto weights = p.text("weights");
    if (weights != "uniform" && weights != "distance")
      throw InvalidArgument(kWho + ": weights must be 'uniform' or 'distance', got '" + weights +
                            "'");
    const auto power = p.integer("p");
    if (power != 1 && power != 2)
      throw InvalidArgument(kWho + ": p must be 1 (Manhattan) or 2 (Euclidean), got " +
                            std::to_string(power));
    return std::unique_ptr<Estimator>(
        std::make_unique<KnnModel>(k, weights == "distance", static_cast<int>(power), task));
  };
  f.load = [](const nlohmann::json& saved, const std::filesystem::path& dir) {
    try {
      return std::unique_ptr<Estimator>(std::make_unique<KnnModel>(saved, dir));
    } catch (const nlohmann::json::exception& e) {
      throw InvalidArgument(std::string("saved model 'knn': ") + e.what());
    }
  };
  f.has_budget = false;
  return f;
}

}  // namespace quarry::automl
