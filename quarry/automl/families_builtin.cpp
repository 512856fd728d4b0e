// The built-in families in registry order: xgboost, random_forest, linear, knn.
#include <vector>

#include "quarry/automl/families_builtin.hpp"

namespace quarry::automl {

std::vector<Family> builtin_families();  // declared for families.cpp

std::vector<Family> builtin_families() {
  std::vector<Family> all;
  all.push_back(xgboost_family());
  all.push_back(random_forest_family());
  all.push_back(linear_family());
  all.push_back(knn_family());
  return all;
}

}  // namespace quarry::automl
