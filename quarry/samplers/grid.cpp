#include "quarry/samplers/grid.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <unordered_map>

#include "quarry/core/error.hpp"

namespace quarry::samplers {

namespace {

constexpr double kLimit = static_cast<double>(GridSampler::kMaxCombinations);

/// How many values `p` has (the formula of Param::discrete_values), computed without listing them.
double value_count(const Param& p) {
  if (p.kind() == space::ParamKind::Int) return std::floor((p.high() - p.low()) / *p.step()) + 1;
  if (p.kind() == space::ParamKind::Float)
    return std::floor((p.high() - p.low()) / *p.step() + 1e-9) + 1;
  return static_cast<double>(p.choices().size());
}

std::string count_text(double n) {
  if (n < 9e18) return std::to_string(static_cast<long long>(n));
  return space::to_string(Value{n});
}

}  // namespace

// The grid as a tree walked in space order. Only parents (parameters some later condition names)
// branch; any other active parameter multiplies the size of what follows. count(i) is the number of
// combinations of parameters i.. given the parents chosen before i, memoised on those parents.
class GridSampler::Grid {
 public:
  explicit Grid(const Space& space);
  const Space& space() const { return space_; }
  std::int64_t size() const { return size_; }
  Params combination(std::int64_t k);

 private:
  struct Walk {
    Params assigned;
    std::vector<int> chosen;  // value index per parameter, -1 while unassigned
  };
  static InvalidArgument too_large(double total, bool at_least, const std::string& why);
  void index_conditions();
  double count(std::size_t i, Walk& walk);
  void choose(std::size_t i, int value, Walk& walk) const;
  void unchoose(std::size_t i, Walk& walk) const;

  Space space_;
  std::vector<std::vector<Value>> values_;
  std::vector<bool> is_parent_;
  std::vector<std::vector<std::size_t>> context_;  // per i: parents before i named at or after i
  std::vector<std::map<std::vector<int>, double>> memo_;
  std::int64_t size_ = 0;
  bool truncated_ = false;  // counting stopped early, past the limit
};

GridSampler::Grid::Grid(const Space& space) : space_(space) {
  for (const Param& p : space_.params()) {
    if (!p.is_discrete())
      throw InvalidArgument("GridSampler: " + p.describe() +
                            " has no step; a grid needs discrete values (give it a step)");
    if (value_count(p) > kLimit)
      throw too_large(value_count(p), true, " (" + p.describe() + " alone has that many values)");
    values_.push_back(p.discrete_values());
  }
  index_conditions();
  Walk walk{{}, std::vector<int>(values_.size(), -1)};
  const double total = count(0, walk);
  if (total > kLimit) throw too_large(total, truncated_, "");
  size_ = static_cast<std::int64_t>(total);
}

InvalidArgument GridSampler::Grid::too_large(double total, bool at_least, const std::string& why) {
  return InvalidArgument("GridSampler: the grid has " + std::string(at_least ? "at least " : "") +
                         count_text(total) + " combinations" + why + ", more than the limit of " +
                         std::to_string(kMaxCombinations) +
                         "; give parameters fewer values or use another sampler");
}

void GridSampler::Grid::index_conditions() {
  const auto& params = space_.params();
  std::unordered_map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < params.size(); ++i) index.emplace(params[i].name(), i);
  is_parent_.assign(params.size(), false);
  context_.resize(params.size() + 1);
  memo_.resize(params.size() + 1);
  for (std::size_t k = 0; k < params.size(); ++k)
    for (const auto& c : params[k].conditions()) {
      const std::size_t j = index.at(c.parent);
      is_parent_[j] = true;
      for (std::size_t i = j + 1; i <= k; ++i) context_[i].push_back(j);
    }
  for (auto& parents : context_) {  // conditions of several children may name the same parent
    std::sort(parents.begin(), parents.end());
    parents.erase(std::unique(parents.begin(), parents.end()), parents.end());
  }
}

void GridSampler::Grid::choose(std::size_t i, int value, Walk& walk) const {
  walk.assigned[space_.params()[i].name()] = values_[i][static_cast<std::size_t>(value)];
  walk.chosen[i] = value;
}

void GridSampler::Grid::unchoose(std::size_t i, Walk& walk) const {
  walk.assigned.erase(space_.params()[i].name());
  walk.chosen[i] = -1;
}

double GridSampler::Grid::count(std::size_t i, Walk& walk) {
  if (i == values_.size()) return 1;
  std::vector<int> key;
  for (std::size_t j : context_[i]) key.push_back(walk.chosen[j]);
  if (auto it = memo_[i].find(key); it != memo_[i].end()) return it->second;
  double total = 0;
  const auto n_values = static_cast<int>(values_[i].size());
  if (!Space::is_active(space_.params()[i], walk.assigned)) {
    total = count(i + 1, walk);
  } else if (!is_parent_[i]) {
    total = n_values * count(i + 1, walk);
  } else {
    for (int v = 0; v < n_values; ++v) {
      if (total > kLimit) {  // past the limit: stop counting, the grid is refused anyway
        truncated_ = true;
        break;
      }
      choose(i, v, walk);
      total += count(i + 1, walk);
      unchoose(i, walk);
    }
  }
  memo_[i].emplace(std::move(key), total);
  return total;
}

Params GridSampler::Grid::combination(std::int64_t k) {
  Walk walk{{}, std::vector<int>(values_.size(), -1)};
  for (std::size_t i = 0; i < values_.size(); ++i) {
    if (!Space::is_active(space_.params()[i], walk.assigned)) continue;
    if (!is_parent_[i]) {  // every value leads to the same number of combinations
      const auto rest = static_cast<std::int64_t>(count(i + 1, walk));
      choose(i, static_cast<int>(k / rest), walk);
      k %= rest;
      continue;
    }
    for (int v = 0;; ++v) {
      choose(i, v, walk);
      const auto rest = static_cast<std::int64_t>(count(i + 1, walk));
      if (k < rest) break;
      k -= rest;
      unchoose(i, walk);
    }
  }
  return walk.assigned;
}

GridSampler::GridSampler(GridOptions options) {
  (void)options;
}
GridSampler::~GridSampler() = default;

GridSampler::Grid& GridSampler::grid_for(const Space& space) const {
  if (!grid_ || !(grid_->space() == space)) grid_ = std::make_unique<Grid>(space);
  return *grid_;
}

Params GridSampler::sample_relative(const Space& space, const std::vector<Trial>& history,
                                    std::int64_t number) {
  (void)history;
  std::lock_guard lock(mutex_);
  Grid& grid = grid_for(space);
  if (number < 0 || number >= grid.size())
    throw InvalidArgument("GridSampler: trial number " + std::to_string(number) +
                          " is past the end of the grid (" + std::to_string(grid.size()) +
                          " combinations); the study must stop at capacity()");
  return grid.combination(number);
}

Value GridSampler::sample_independent(const Param& param, const Params& assigned,
                                      const std::vector<Trial>& history, std::int64_t number) {
  (void)assigned, (void)history, (void)number;
  return param.default_value();
}

std::optional<std::int64_t> GridSampler::capacity(const Space& space) const {
  std::lock_guard lock(mutex_);
  return grid_for(space).size();
}

}  // namespace quarry::samplers
