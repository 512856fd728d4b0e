// The xgboost and random_forest families: trees through XGBoost's C API (hist, leaf-wise growth,
// NaN = missing, one thread per model unless FitOptions::threads says otherwise).
//
// Both start every row at a base margin fitted on the training targets, so a few trees already
// beat the trivial model (XGBoost 1.7 would start at 0.5): boosting at the mean (regression), the
// log-odds of class 1 (binary) or the log class shares (multiclass); the forest at the mean or the
// class shares.
//
// xgboost: gradient boosting, one round at a time (XGBoosterUpdateOneIter); budget_fraction scales
// the rounds (at least 1) and the deadline is checked after each round, keeping the rounds done.
// The space and its cheap point follow FLAML's XGBoost estimator (4 trees of 4 leaves).
//
// random_forest: XGBoost's forest mode (one round of num_parallel_tree trees, learning rate 1, rows
// sampled without replacement at 0.632 per tree, features per split) with plain regression trees
// (squared error, no leaf shrinkage, a row per leaf at least): on the target for regression, on
// the class indicators for classification (one output per class for multiclass), so a leaf holds
// its rows' class shares and the forest averages them, as a Gini forest does; the shares are
// clipped to [0, 1] and made to sum to 1. (One Newton step of the log loss, XGBoost's default
// forest, predicted clearly worse here.) To honour the deadline the forest is grown in chunks (4
// trees, then doubling up to an eighth of the forest), each a booster of its own seeded with seed
// + chunk; the prediction averages the chunks weighted by their trees, which is what one forest of
// all the trees predicts. budget_fraction scales the trees.
//
// A saved model is one UBJSON file per booster ("<stem>.ubj"; a forest "<stem>.<chunk>.ubj") plus
// the JSON that save returns (task, classes, features, base margin, files, rounds or trees each).
#include <xgboost/c_api.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "quarry/automl/families_builtin.hpp"
#include "quarry/automl/family_support.hpp"
#include "quarry/core/error.hpp"

namespace quarry::automl {
namespace {

using detail::FamilyParams;

// ---- the C API, checked -------------------------------------------------------------------------

/// XGBoost's last error on one line: the stack trace dropped, line breaks folded.
std::string last_error() {
  std::string text = XGBGetLastError();
  if (auto cut = text.find("Stack trace"); cut != std::string::npos) text.resize(cut);
  std::string out;
  for (char c : text) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    if (c == ' ' && (out.empty() || out.back() == ' ')) continue;
    out += c;
  }
  // The time stamp in front ("[11:32:51] ") and a dangling " :" at the end say nothing.
  if (out.size() > 11 && out[0] == '[' && out[9] == ']' && out[10] == ' ') out.erase(0, 11);
  while (!out.empty() && (out.back() == ' ' || out.back() == ':')) out.pop_back();
  return out.empty() ? "unknown error" : out;
}

void check(int rc, const char* call) {
  if (rc != 0) throw Error(std::string("XGBoost ") + call + ": " + last_error());
}

struct BoosterFree {
  void operator()(void* h) const { XGBoosterFree(h); }
};
struct DMatrixFree {
  void operator()(void* h) const { XGDMatrixFree(h); }
};
using Booster = std::unique_ptr<void, BoosterFree>;
using DMatrix = std::unique_ptr<void, DMatrixFree>;

/// The shortest text that reads back as `v` (what XGBoosterSetParam parses).
std::string number(double v) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, end);
}

DMatrix make_dmatrix(const Matrix& x, int threads) {
  DMatrixHandle h = nullptr;
  check(XGDMatrixCreateFromMat_omp(x.values.data(), static_cast<bst_ulong>(x.rows),
                                   static_cast<bst_ulong>(x.cols),
                                   std::numeric_limits<float>::quiet_NaN(), &h, threads),
        "XGDMatrixCreateFromMat");
  return DMatrix(h);
}

/// A float matrix as NumPy's array interface (what XGDMatrixSetInfoFromInterface reads).
std::string array_interface(const std::vector<float>& values, std::int64_t rows,
                            std::int64_t cols) {
  return R"({"data": [)" + std::to_string(reinterpret_cast<std::uintptr_t>(values.data())) +
         R"(, true], "shape": [)" + std::to_string(rows) + ", " + std::to_string(cols) +
         R"(], "typestr": "<f4", "version": 3})";
}

/// Every row of `d` starts at `base` (one value per output).
void set_base_margin(const DMatrix& d, std::int64_t rows, const std::vector<float>& base) {
  std::vector<float> margin(static_cast<std::size_t>(rows) * base.size());
  for (std::size_t i = 0; i < margin.size(); ++i) margin[i] = base[i % base.size()];
  check(XGDMatrixSetInfoFromInterface(
            d.get(), "base_margin",
            array_interface(margin, rows, static_cast<std::int64_t>(base.size())).c_str()),
        "XGDMatrixSetInfoFromInterface(base_margin)");
}

Booster make_booster(const DMatrix* train) {
  BoosterHandle h = nullptr;
  DMatrixHandle cache[1] = {train ? train->get() : nullptr};
  check(XGBoosterCreate(cache, train ? 1 : 0, &h), "XGBoosterCreate");
  return Booster(h);
}

void set_param(const Booster& b, const std::string& key, const std::string& value) {
  check(XGBoosterSetParam(b.get(), key.c_str(), value.c_str()),
        ("XGBoosterSetParam(" + key + "=" + value + ")").c_str());
}

// ---- the model ---------------------------------------------------------------------------------

/// The base margin fitted on the training targets (see the file comment). Probability trees
/// (forest classification) start at the class shares, boosting at their logarithms.
std::vector<float> base_margin(const std::vector<double>& y, TaskType task, std::int64_t classes,
                               bool probability_trees) {
  const auto n = static_cast<double>(y.size());
  if (task == TaskType::Regression) {
    double sum = 0;
    for (double v : y) sum += v;
    return {static_cast<float>(sum / n)};
  }
  std::vector<double> count(static_cast<std::size_t>(classes), 0.0);
  for (double v : y) count[static_cast<std::size_t>(v)] += 1;
  if (probability_trees) {
    std::vector<float> share;
    for (double c : count) share.push_back(static_cast<float>(c / n));
    if (task == TaskType::Binary) return {share[1]};
    return share;
  }
  // A half count for every class keeps a class absent from these rows at a finite margin.
  const double total = n + 0.5 * static_cast<double>(classes);
  if (task == TaskType::Binary)
    return {static_cast<float>(std::log((count[1] + 0.5) / (count[0] + 0.5)))};
  std::vector<float> base;
  for (double c : count) base.push_back(static_cast<float>(std::log((c + 0.5) / total)));
  return base;
}

std::string objective(TaskType task, bool probability_trees) {
  if (probability_trees || task == TaskType::Regression) return "reg:squarederror";
  return task == TaskType::Binary ? "binary:logistic" : "multi:softprob";
}

class TreeModel final : public Estimator {
 public:
  /// What the trial's parameters set.
  struct Setup {
    std::string family;                                       ///< "xgboost" or "random_forest"
    std::vector<std::pair<std::string, std::string>> params;  ///< the trial's, as XGBoost params
    std::int64_t size = 1;                                    ///< boosting rounds or forest trees
    double colsample = 1.0;  ///< colsample_bytree (boosting) / colsample_bynode (forest)
  };

  TreeModel(Setup setup, TaskType task) : setup_(std::move(setup)), task_(task) {}
  TreeModel(const nlohmann::json& saved, const std::filesystem::path& dir);

  void fit(const Matrix& x, const std::vector<double>& y, const FitOptions& options) override;
  Matrix predict(const Matrix& x) const override;
  nlohmann::json save(const std::filesystem::path& dir, const std::string& stem) const override;

 private:
  bool forest() const { return setup_.family == "random_forest"; }
  /// Forest classification: regression trees on the class indicators.
  bool probability_trees() const { return forest() && task_ != TaskType::Regression; }
  void configure(const Booster& b, const FitOptions& options, std::int64_t chunk,
                 std::int64_t trees) const;

  Setup setup_;
  TaskType task_;
  std::int64_t classes_ = 0, features_ = 0;
  std::vector<float> base_;
  std::vector<Booster> boosters_;
  std::vector<std::int64_t> sizes_;  ///< rounds (boosting) or trees per booster (forest)
};

void TreeModel::configure(const Booster& b, const FitOptions& options, std::int64_t chunk,
                          std::int64_t trees) const {
  set_param(b, "verbosity", "0");
  set_param(b, "nthread", std::to_string(options.threads));
  set_param(b, "objective", objective(task_, probability_trees()));
  if (task_ == TaskType::Multiclass && !probability_trees())
    set_param(b, "num_class", std::to_string(classes_));
  set_param(b, "tree_method", "hist");
  set_param(b, "grow_policy", "lossguide");
  set_param(b, "max_depth", "0");
  // XGBoost's seed is an int: the low 31 bits of the trial's, moved on per forest chunk.
  const auto seed = (options.seed + static_cast<std::uint64_t>(chunk)) & 0x7fffffffu;
  set_param(b, "seed", std::to_string(seed));
  for (const auto& [k, v] : setup_.params) set_param(b, k, v);
  // (XGBoost samples at least one feature however small the fraction.)
  const std::string colsample = number(setup_.colsample);
  if (forest()) {
    set_param(b, "num_parallel_tree", std::to_string(trees));
    set_param(b, "learning_rate", "1");
    set_param(b, "subsample", "0.632");
    set_param(b, "colsample_bynode", colsample);
    // Leaves are plain means of the sampled rows (every row's hessian is 1): no shrinkage, and
    // at least one row per leaf.
    set_param(b, "reg_lambda", "0");
    set_param(b, "min_child_weight", "0.5");
  } else {
    set_param(b, "colsample_bytree", colsample);
  }
}

void TreeModel::fit(const Matrix& x, const std::vector<double>& y, const FitOptions& options) {
  classes_ = detail::check_fit("model family '" + setup_.family + "'", x, y, task_, options);
  features_ = x.cols;
  base_ = base_margin(y, task_, classes_, probability_trees());
  boosters_.clear();
  sizes_.clear();

  DMatrix train = make_dmatrix(x, options.threads);
  // Labels: the targets, or for multiclass probability trees one indicator column per class.
  const std::int64_t label_cols =
      probability_trees() && task_ == TaskType::Multiclass ? classes_ : 1;
  std::vector<float> label(y.size() * static_cast<std::size_t>(label_cols), 0.0f);
  for (std::size_t i = 0; i < y.size(); ++i) {
    if (label_cols == 1)
      label[i] = static_cast<float>(y[i]);
    else
      label[i * static_cast<std::size_t>(label_cols) + static_cast<std::size_t>(y[i])] = 1.0f;
  }
  check(XGDMatrixSetInfoFromInterface(train.get(), "label",
                                      array_interface(label, x.rows, label_cols).c_str()),
        "XGDMatrixSetInfoFromInterface(label)");
  set_base_margin(train, x.rows, base_);
  const auto scaled = static_cast<std::int64_t>(
      std::llround(static_cast<double>(setup_.size) * options.budget_fraction));
  const std::int64_t total = std::max<std::int64_t>(1, scaled);

  if (!forest()) {
    Booster b = make_booster(&train);
    configure(b, options, 0, 1);
    std::int64_t rounds = 0;
    while (rounds < total) {
      check(XGBoosterUpdateOneIter(b.get(), static_cast<int>(rounds), train.get()),
            "XGBoosterUpdateOneIter");
      ++rounds;
      if (detail::deadline_passed(options.deadline)) break;
    }
    boosters_.push_back(std::move(b));
    sizes_.push_back(rounds);
    return;
  }
  // Chunks of 4, 8, 16, ... trees, none over an eighth of the forest (but 4 at least).
  const std::int64_t cap = std::max<std::int64_t>(4, (total + 7) / 8);
  std::int64_t grown = 0, next = std::min<std::int64_t>(4, total);
  for (std::int64_t chunk = 0; grown < total; ++chunk) {
    const std::int64_t trees = std::min(next, total - grown);
    Booster b = make_booster(&train);
    configure(b, options, chunk, trees);
    check(XGBoosterUpdateOneIter(b.get(), 0, train.get()), "XGBoosterUpdateOneIter");
    boosters_.push_back(std::move(b));
    sizes_.push_back(trees);
    grown += trees;
    next = std::min(cap, next * 2);
    if (detail::deadline_passed(options.deadline)) break;
  }
}

Matrix TreeModel::predict(const Matrix& x) const {
  const std::string who = "model family '" + setup_.family + "'";
  if (boosters_.empty()) throw InvalidArgument(who + ": predict before fit");
  detail::check_features(who, x, features_);
  const std::int64_t width = detail::output_width(task_, classes_);
  const std::int64_t outputs = task_ == TaskType::Binary ? 1 : width;
  Matrix out(x.rows, width);
  if (x.rows == 0) return out;
  DMatrix d = make_dmatrix(x, 1);
  set_base_margin(d, x.rows, base_);

  double trees = 0;
  for (auto s : sizes_) trees += static_cast<double>(s);
  std::vector<double> margin(static_cast<std::size_t>(x.rows * outputs), 0.0);
  const char* config = R"({"type": 1, "training": false, "iteration_begin": 0, "iteration_end": 0,)"
                       R"( "strict_shape": false})";
  for (std::size_t i = 0; i < boosters_.size(); ++i) {
    const bst_ulong* shape = nullptr;
    bst_ulong dim = 0;
    const float* result = nullptr;
    check(XGBoosterPredictFromDMatrix(boosters_[i].get(), d.get(), config, &shape, &dim, &result),
          "XGBoosterPredictFromDMatrix");
    bst_ulong size = 1;
    for (bst_ulong k = 0; k < dim; ++k) size *= shape[k];
    if (size != margin.size())
      throw Error("XGBoost predicted " + std::to_string(size) + " margins for " +
                  std::to_string(margin.size()));
    const double weight = forest() ? static_cast<double>(sizes_[i]) / trees : 1.0;
    for (std::size_t k = 0; k < margin.size(); ++k) margin[k] += weight * result[k];
  }
  for (std::int64_t r = 0; r < x.rows; ++r) {
    const double* m = margin.data() + r * outputs;
    if (task_ == TaskType::Regression) {
      out.at(r, 0) = static_cast<float>(m[0]);
    } else if (task_ == TaskType::Binary) {
      const double p1 =
          probability_trees() ? std::clamp(m[0], 0.0, 1.0) : 1 / (1 + std::exp(-m[0]));
      out.at(r, 0) = static_cast<float>(1.0 - p1);
      out.at(r, 1) = static_cast<float>(p1);
    } else if (probability_trees()) {
      // Each class's trees estimate its share; they are made to sum to 1.
      double sum = 0;
      for (std::int64_t k = 0; k < outputs; ++k) sum += std::clamp(m[k], 0.0, 1.0);
      for (std::int64_t k = 0; k < outputs; ++k)
        out.at(r, k) = static_cast<float>(sum > 0 ? std::clamp(m[k], 0.0, 1.0) / sum
                                                  : 1.0 / static_cast<double>(outputs));
    } else {
      const double top = *std::max_element(m, m + outputs);
      double sum = 0;
      for (std::int64_t k = 0; k < outputs; ++k) sum += std::exp(m[k] - top);
      for (std::int64_t k = 0; k < outputs; ++k)
        out.at(r, k) = static_cast<float>(std::exp(m[k] - top) / sum);
    }
  }
  return out;
}

nlohmann::json TreeModel::save(const std::filesystem::path& dir, const std::string& stem) const {
  if (boosters_.empty())
    throw InvalidArgument("model family '" + setup_.family + "': save before fit");
  nlohmann::json files = nlohmann::json::array();
  for (std::size_t i = 0; i < boosters_.size(); ++i) {
    const std::string name = forest() ? stem + "." + std::to_string(i) + ".ubj" : stem + ".ubj";
    const std::string path = (dir / name).string();
    check(XGBoosterSaveModel(boosters_[i].get(), path.c_str()),
          ("XGBoosterSaveModel(" + path + ")").c_str());
    files.push_back(name);
  }
  return {{"family", setup_.family}, {"task", to_string(task_)}, {"classes", classes_},
          {"features", features_},   {"base_margin", base_},     {"files", files},
          {"sizes", sizes_}};
}

TreeModel::TreeModel(const nlohmann::json& saved, const std::filesystem::path& dir) {
  setup_.family = saved.at("family").get<std::string>();
  task_ = detail::task_from_key(saved.at("task").get<std::string>());
  classes_ = saved.at("classes").get<std::int64_t>();
  features_ = saved.at("features").get<std::int64_t>();
  saved.at("base_margin").get_to(base_);
  saved.at("sizes").get_to(sizes_);
  const auto files = saved.at("files").get<std::vector<std::string>>();
  const auto outputs = static_cast<std::size_t>(task_ == TaskType::Multiclass ? classes_ : 1);
  if (files.empty() || files.size() != sizes_.size() || base_.size() != outputs)
    throw InvalidArgument("saved model '" + setup_.family + "': " + std::to_string(files.size()) +
                          " files, " + std::to_string(sizes_.size()) + " sizes and " +
                          std::to_string(base_.size()) + " base margins do not agree");
  for (const auto& name : files) {
    Booster b = make_booster(nullptr);
    const std::string path = (dir / name).string();
    check(XGBoosterLoadModel(b.get(), path.c_str()), ("XGBoosterLoadModel(" + path + ")").c_str());
    set_param(b, "nthread", "1");
    boosters_.push_back(std::move(b));
  }
}

// ---- the families ------------------------------------------------------------------------------

std::unique_ptr<Estimator> load_tree_model(const std::string& family, const nlohmann::json& saved,
                                           const std::filesystem::path& dir) {
  try {
    if (saved.at("family").get<std::string>() != family)
      throw InvalidArgument("saved model: family '" + saved.at("family").get<std::string>() +
                            "' loaded as '" + family + "'");
    return std::make_unique<TreeModel>(saved, dir);
  } catch (const nlohmann::json::exception& e) {
    throw InvalidArgument("saved model '" + family + "': " + e.what());
  }
}

}  // namespace

Family xgboost_family() {
  using space::Param;
  Family f;
  f.name = "xgboost";
  f.description = "gradient-boosted trees (XGBoost)";
  f.params = {
      Param::Int("xgboost.n_estimators", 4, 1000, {.log = true, .default_value = 4}),
      Param::Int("xgboost.max_leaves", 4, 1024, {.log = true, .default_value = 4}),
      Param::Float("xgboost.learning_rate", 1.0 / 1024, 1.0, {.log = true, .default_value = 0.1}),
      Param::Float("xgboost.min_child_weight", 0.001, 128, {.log = true, .default_value = 1.0}),
      Param::Float("xgboost.subsample", 0.1, 1.0, {.default_value = 1.0}),
      Param::Float("xgboost.colsample_bytree", 0.01, 1.0, {.default_value = 1.0}),
      Param::Float("xgboost.reg_alpha", 1.0 / 1024, 1024,
                   {.log = true, .default_value = 1.0 / 1024}),
      Param::Float("xgboost.reg_lambda", 1.0 / 1024, 1024, {.log = true, .default_value = 1.0}),
  };
  for (const auto& p : f.params) f.cheap[p.name()] = p.default_value();
  // scikit-learn's HistGradientBoosting defaults, and slower, subsampled boosting.
  f.portfolio = {
      {{"xgboost.n_estimators", std::int64_t{100}},
       {"xgboost.max_leaves", std::int64_t{31}},
       {"xgboost.learning_rate", 0.1}},
      {{"xgboost.n_estimators", std::int64_t{400}},
       {"xgboost.max_leaves", std::int64_t{16}},
       {"xgboost.learning_rate", 0.03},
       {"xgboost.subsample", 0.8},
       {"xgboost.colsample_bytree", 0.8}},
  };
  f.make = [space = f.params](const space::Params& params, TaskType task) {
    const FamilyParams p("xgboost", space, params);
    const std::string who = "model family 'xgboost'";
    TreeModel::Setup s;
    s.family = "xgboost";
    s.size = p.integer("n_estimators");
    require(s.size >= 1, who, "n_estimators >= 1", s.size);
    const auto leaves = p.integer("max_leaves");
    require(leaves >= 2, who, "max_leaves >= 2", leaves);
    const double eta = p.real("learning_rate"), mcw = p.real("min_child_weight"),
                 sub = p.real("subsample"), alpha = p.real("reg_alpha"),
                 lambda = p.real("reg_lambda");
    s.colsample = p.real("colsample_bytree");
    require(eta > 0 && eta <= 1, who, "0 < learning_rate <= 1", eta);
    require(mcw >= 0, who, "min_child_weight >= 0", mcw);
    require(sub > 0 && sub <= 1, who, "0 < subsample <= 1", sub);
    require(s.colsample > 0 && s.colsample <= 1, who, "0 < colsample_bytree <= 1", s.colsample);
    require(alpha >= 0, who, "reg_alpha >= 0", alpha);
    require(lambda >= 0, who, "reg_lambda >= 0", lambda);
    s.params = {{"max_leaves", std::to_string(leaves)}, {"learning_rate", number(eta)},
                {"min_child_weight", number(mcw)},      {"subsample", number(sub)},
                {"reg_alpha", number(alpha)},           {"reg_lambda", number(lambda)}};
    return std::unique_ptr<Estimator>(std::make_unique<TreeModel>(std::move(s), task));
  };
  f.load = [](const nlohmann::json& saved, const std::filesystem::path& dir) {
    return load_tree_model("xgboost", saved, dir);
  };
  f.has_budget = true;
  return f;
}

Family random_forest_family() {
  using space::Param;
  Family f;
  f.name = "random_forest";
  f.description = "random forest (XGBoost's forest mode)";
  f.params = {
      Param::Int("random_forest.n_estimators", 4, 1000, {.log = true, .default_value = 4}),
      Param::Int("random_forest.max_leaves", 4, 32768, {.log = true, .default_value = 4}),
      Param::Float("random_forest.colsample_bynode", 0.1, 1.0, {.default_value = 1.0}),
  };
  for (const auto& p : f.params) f.cheap[p.name()] = p.default_value();
  // A forest of fully grown trees, half the features at each split.
  f.portfolio = {{{"random_forest.n_estimators", std::int64_t{300}},
                  {"random_forest.max_leaves", std::int64_t{32768}},
                  {"random_forest.colsample_bynode", 0.5}}};
  f.make = [space = f.params](const space::Params& params, TaskType task) {
    const FamilyParams p("random_forest", space, params);
    const std::string who = "model family 'random_forest'";
    TreeModel::Setup s;
    s.family = "random_forest";
    s.size = p.integer("n_estimators");
    require(s.size >= 1, who, "n_estimators >= 1", s.size);
    const auto leaves = p.integer("max_leaves");
    require(leaves >= 2, who, "max_leaves >= 2", leaves);
    s.colsample = p.real("colsample_bynode");
    require(s.colsample > 0 && s.colsample <= 1, who, "0 < colsample_bynode <= 1", s.colsample);
    s.params = {{"max_leaves", std::to_string(leaves)}};
    return std::unique_ptr<Estimator>(std::make_unique<TreeModel>(std::move(s), task));
  };
  f.load = [](const nlohmann::json& saved, const std::filesystem::path& dir) {
    return load_tree_model("random_forest", saved, dir);
  };
  f.has_budget = true;
  return f;
}

}  // namespace quarry::automl
