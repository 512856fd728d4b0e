// The built-in model families (internal to quarry/automl): families_builtin.cpp lists them, in
// this order, for the registry (estimator.hpp).
#pragma once

#include "quarry/automl/estimator.hpp"

namespace quarry::automl {

/// Gradient-boosted trees through XGBoost's C API (xgboost.cpp).
Family xgboost_family();
/// Random forests: XGBoost's forest mode, grown in chunks of trees (xgboost.cpp).
Family random_forest_family();
/// Elastic-net linear and logistic regression on standardised features (linear.cpp).
Family linear_family();
/// k nearest neighbours on standardised features (knn.cpp).
Family knn_family();

}  // namespace quarry::automl
