// Tabular AutoML from an installed Quarry: a small table written here (the label is "yes" where
// x > 0), its target detected, the columns encoded, XGBoost trained on them and its ROC AUC on the
// same rows scored. Exits 0 when the task is binary and the AUC is near 1.
#include <cstdio>
#include <string>
#include <vector>

#include "quarry/automl/estimator.hpp"
#include "quarry/automl/metrics.hpp"
#include "quarry/automl/preprocess.hpp"
#include "quarry/automl/task.hpp"
#include "quarry/data/table.hpp"

int main() {
  namespace automl = quarry::automl;
  std::string csv = "x,color,label\n";
  for (int i = 0; i < 40; ++i) {
    const double x = (i * 37 % 40 - 19.5) / 10;  // -1.95 .. 1.95, shuffled
    csv += std::to_string(x) + (i % 2 ? ",red," : ",blue,") + (x > 0 ? "yes" : "no") + "\n";
  }
  const auto table = quarry::data::parse_table(csv, "consumer.csv");
  const auto target = automl::detect_target(table, "label");
  if (target.task != automl::TaskType::Binary) return 1;

  std::vector<std::int64_t> rows;
  for (std::int64_t r = 0; r < table.rows(); ++r) rows.push_back(r);
  const auto prep = automl::Preprocessor::fit(table, automl::plan_columns(table, "label"), target.y,
                                              target.task, rows);
  const auto x = prep.transform(table);
  const auto& xgboost = automl::family("xgboost");
  auto model = xgboost.make(xgboost.cheap, target.task);
  model->fit(x, target.y, {.num_classes = target.num_classes()});
  const double auc =
      automl::score(automl::Metric::RocAuc, target.task, target.y, model->predict(x));
  std::printf("%s: %s, %zu features, XGBoost's ROC AUC on its training rows = %f\n",
              target.column.c_str(), target.reason.c_str(), prep.feature_names().size(), auc);
  return auc > 0.95 ? 0 : 1;
}
