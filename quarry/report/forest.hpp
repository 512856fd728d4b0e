// A random forest of regression trees (Breiman 2001), as scikit-learn's RandomForestRegressor
// grows it with Optuna's fANOVA settings: bootstrap samples, every feature tried at every split,
// the split that most reduces the squared error, grown until leaves are pure or too small. It is
// the model behind parameter importance (importance.hpp) and the report's contour plots.
//
//   report::Forest forest = report::Forest::fit(x, y, {.trees = 64, .seed = 1});
//   double guess = forest.predict({0.2, 0.7});
#pragma once

#include <cstdint>
#include <vector>

namespace quarry::report {

struct ForestOptions {
  int trees = 64;
  int max_depth = 64;
  int min_samples_split = 2;  ///< a node with fewer samples is a leaf
  int min_samples_leaf = 1;   ///< no split leaves fewer on either side
  std::uint64_t seed = 0;
};

/// One tree: node 0 is the root; a leaf has feature -1.
struct Tree {
  struct Node {
    int feature = -1;
    double threshold = 0;  ///< x[feature] <= threshold goes left
    int left = -1, right = -1;
    double value = 0;  ///< the mean of the training targets that reached the node
  };
  std::vector<Node> nodes;

  double predict(const std::vector<double>& x) const;
};

class Forest {
 public:
  /// Rows of `x` (all of one length, at least one row) with targets `y` (same count, finite).
  static Forest fit(const std::vector<std::vector<double>>& x, const std::vector<double>& y,
                    const ForestOptions& options = {});

  /// The mean of the trees' predictions.
  double predict(const std::vector<double>& x) const;
  const std::vector<Tree>& trees() const { return trees_; }
  int features() const { return features_; }

 private:
  std::vector<Tree> trees_;
  int features_ = 0;
};

}  // namespace quarry::report
