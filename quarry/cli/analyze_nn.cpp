// `quarry analyze` on a model study's retrained best (analyze_nn.hpp): rebuild the network from
// best_model.json, load best_model.pt, read the rows (the study's test rows, an IDX folder or
// file, or a CSV file prepared as the study prepared its training rows), and predict them once.
#include "quarry/cli/analyze_nn.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <limits>
#include <memory>
#include <vector>

#include "quarry/cli/model_study.hpp"
#include "quarry/cli/saved_model.hpp"
#include "quarry/core/error.hpp"
#include "quarry/data/csv.hpp"
#include "quarry/data/idx.hpp"
#include "quarry/data/shape.hpp"
#include "quarry/storage/storage.hpp"
#include "quarry/study/study.hpp"

#ifdef QUARRY_WITH_TORCH
#include "quarry/nn/fit.hpp"
#include "quarry/nn/model.hpp"
#endif

namespace quarry::cli {

namespace {

std::string lower_extension(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext;
}

bool is_study_file(const std::string& path) {
  const std::string ext = lower_extension(path);
  return ext == ".yaml" || ext == ".yml";
}

}  // namespace

bool needs_trainer(const std::string& model) {
  if (lower_extension(model) == ".pt") return true;
  if (!is_study_file(model)) return false;
  // A tabular AutoML study's model is analysed without the trainer; any other study file (or one
  // that does not read: quarry-nn reports why) goes to it.
  try {
    return !config::load_study_file(model).automl.has_value();
  } catch (const Error&) {
    return true;
  }
}

#ifdef QUARRY_WITH_TORCH

namespace {

using automl::TaskType;

using data::shape_text;

/// The rows to predict, as the network takes them, and the table slices are taken from.
struct Rows {
  data::Dataset dataset;
  data::Table table;
  std::string source;
};

/// One Categorical column "label": each row's true class name.
data::Table label_table(const data::Dataset& d, const std::vector<std::string>& classes) {
  data::Column label{.name = "label", .type = data::ColumnType::Categorical};
  for (const float y : d.y) {
    const std::string& name = classes.at(static_cast<std::size_t>(y));
    char* end = nullptr;
    const double number = std::strtod(name.c_str(), &end);
    label.text.push_back(name);
    label.numbers.push_back(
        !name.empty() && *end == '\0' ? number : std::numeric_limits<double>::quiet_NaN());
    label.missing.push_back(false);
  }
  return {.source = d.source, .columns = {std::move(label)}};
}

/// IDX images: checks that every label is one of the model's classes.
Rows image_rows(data::Dataset d, const SavedModel& saved, const std::filesystem::path& weights) {
  const auto classes = static_cast<std::int64_t>(saved.classes.size());
  for (const float y : d.y)
    if (static_cast<std::int64_t>(y) >= classes)
      throw InvalidArgument(d.source + ": label " + std::to_string(static_cast<std::int64_t>(y)) +
                            ", but the model " + weights.string() + " knows " +
                            std::to_string(classes) + " classes");
  Rows rows{.table = label_table(d, saved.classes), .source = d.source};
  rows.dataset = std::move(d);
  return rows;
}

/// The test part (t10k files) of an IDX folder, without reading its training images.
data::Dataset idx_test_part(const std::filesystem::path& folder) {
  const auto find = [&](const std::string& name) -> std::optional<std::string> {
    for (const std::string& candidate : {name + ".gz", name})
      if (std::filesystem::is_regular_file(folder / candidate))
        return (folder / candidate).string();
    return std::nullopt;
  };
  const auto images = find("t10k-images-idx3-ubyte"), labels = find("t10k-labels-idx1-ubyte");
  if (!images || !labels) return data::load_idx_folder(folder.string()).test;  // its error
  return data::idx_dataset(*images, *labels);
}

/// DATA as IDX images: a folder of the four files (its t10k part), `fashion-mnist`, or an images
/// file whose labels file sits beside it (…images-idx3… -> …labels-idx1…).
data::Dataset read_images(const std::string& path) {
  if (path == "fashion-mnist") return idx_test_part(data::kFashionMnistFolder);
  if (std::filesystem::is_directory(path)) return idx_test_part(path);
  const std::string name = std::filesystem::path(path).filename().string();
  const auto at = name.find("images-idx3");
  if (at == std::string::npos)
    throw InvalidArgument(path +
                          ": not image data: give a folder of IDX files, an "
                          "...images-idx3-ubyte[.gz] file, or a CSV file");
  std::string labels = name;
  labels.replace(at, std::string("images-idx3").size(), "labels-idx1");
  return data::idx_dataset(path, (std::filesystem::path(path).parent_path() / labels).string());
}

/// DATA as a CSV file, encoded as the training rows were: the model's features in its order (a
/// category this file lacks is all zeros), standardised, the labels mapped to its classes.
Rows csv_rows(const std::string& path, const SavedModel& saved,
              const std::filesystem::path& weights) {
  const bool regression = saved.task == TaskType::Regression;
  const data::Dataset read = data::read_csv(
      path, {.target = saved.target,
             .task = regression ? data::Task::Regression : data::Task::Classification});
  data::Table table = data::read_table(path);
  if (table.rows() != read.rows())
    throw InvalidArgument(path + ": read as " + std::to_string(table.rows()) + " and " +
                          std::to_string(read.rows()) + " rows");
  data::Dataset d{.shape = {static_cast<std::int64_t>(saved.feature_names.size())},
                  .feature_names = saved.feature_names,
                  .source = path,
                  .class_names = saved.classes};
  const std::int64_t n = read.rows(), width = read.row_size();
  d.x.assign(static_cast<std::size_t>(n) * saved.feature_names.size(), 0.0f);
  for (std::size_t j = 0; j < saved.feature_names.size(); ++j) {
    const std::string& feature = saved.feature_names[j];
    const auto it = std::find(read.feature_names.begin(), read.feature_names.end(), feature);
    if (it == read.feature_names.end()) {
      const auto eq = feature.find('=');
      const std::string column = feature.substr(0, eq);
      if (eq == std::string::npos || table.find(column) == nullptr)
        throw InvalidArgument(path + ": no column '" + column + "', which the model " +
                              weights.string() + " takes (columns: " + table.column_list() + ")");
      continue;  // a category none of these rows has
    }
    const auto from = it - read.feature_names.begin();
    for (std::int64_t r = 0; r < n; ++r)
      d.x[static_cast<std::size_t>(r) * saved.feature_names.size() + j] =
          read.x[static_cast<std::size_t>(r * width + from)];
  }
  d.num_classes = static_cast<std::int64_t>(saved.classes.size());
  for (const float y : read.y) {
    if (regression) {
      d.y.push_back(y);
      continue;
    }
    const std::string& name = read.class_names.at(static_cast<std::size_t>(y));
    const auto c = std::find(saved.classes.begin(), saved.classes.end(), name);
    if (c == saved.classes.end())
      throw InvalidArgument(path + ": column '" + saved.target + "' holds '" + name +
                            "', not a class the model " + weights.string() + " knows");
    d.y.push_back(static_cast<float>(c - saved.classes.begin()));
  }
  data::Standardizer{saved.mean, saved.stddev}.apply(d);
  return {std::move(d), std::move(table), path};
}

/// The rows of DATA, prepared for the saved model.
Rows data_rows(const std::string& path, const SavedModel& saved,
               const std::filesystem::path& weights) {
  const bool csv = lower_extension(path) == ".csv";
  if (saved.target.empty() && csv)
    throw InvalidArgument(path + ": a CSV file, but the model " + weights.string() +
                          " was trained on images (IDX data)");
  if (!saved.target.empty() && !csv)
    throw InvalidArgument(path + ": not a CSV file, but the model " + weights.string() +
                          " was trained on a table (target '" + saved.target + "')");
  return csv ? csv_rows(path, saved, weights) : image_rows(read_images(path), saved, weights);
}

/// The study's own test rows: IDX data's test files, or the CSV rows the search kept apart.
Rows study_test_rows(const config::StudyFile& file, const SavedModel& saved,
                     const std::filesystem::path& weights) {
  if (file.data->format == config::DataSection::Format::Idx)
    return image_rows(idx_test_part(file.data->path), saved, weights);
  if (saved.target.empty())
    throw InvalidArgument(file.path.string() + ": its data is a CSV file now, but " +
                          weights.string() + " was trained on images; run the search again");
  const ModelStudy study = load_model_study(file, /*quiet=*/true);
  const data::Dataset& test = *study.test;
  if (test.feature_names != saved.feature_names || test.class_names != saved.classes)
    throw InvalidArgument(file.data->path.string() + ": its columns or classes changed since " +
                          weights.string() + " was trained on it; run the search again");
  return {test, data::read_table(file.data->path.string()).take(study.test_rows),
          file.data->path.string()};
}

/// The store's best trial must be the one whose weights were saved.
void check_best_trial(const config::StudyFile& file, const SavedModel& saved,
                      const std::filesystem::path& weights) {
  if (const auto db = storage::sqlite_path(file.storage);
      db && !db->empty() && !std::filesystem::exists(*db))
    throw InvalidArgument(file.path.string() + ": its store " + *db +
                          " does not exist (a search creates it)");
  const Study study = Study::open(storage::open_storage(file.storage), file.study);
  const auto best = study.best_trial();
  if (best && best->number != saved.trial)
    throw InvalidArgument(weights.string() + " holds trial " + std::to_string(saved.trial) +
                          ", but the best trial of study '" + file.study + "' is now trial " +
                          std::to_string(best->number) + ": run `quarry search " +
                          file.path.string() + "` to retrain and save it");
}

AnalysisInput analyse(const std::filesystem::path& weights, const SavedModel& saved,
                      const config::StudyFile& saved_file, Rows rows) {
  const auto description = description_path(weights);
  if (rows.dataset.row_size() != data::shape_size(saved.input_shape))
    throw InvalidArgument(rows.source + ": examples of shape " + shape_text(rows.dataset.shape) +
                          ", but the model " + weights.string() + " takes " +
                          shape_text(saved.input_shape));
  rows.dataset.shape = saved.input_shape;
  check_weights(saved, weights);
  const nn::ModelSpec spec = saved_spec(saved, saved_file, description);
  std::vector<std::unique_ptr<nn::Model>> members;  // one network, or an ensemble's
  std::vector<nn::Model*> models;
  for (const auto& file : member_weights(saved, weights)) {
    members.push_back(std::make_unique<nn::Model>(spec, saved.input_shape));
    members.back()->load_weights(file.string());
    models.push_back(members.back().get());
  }
  const torch::Tensor p = nn::predict_average(models, rows.dataset);
  const bool regression = saved.task == TaskType::Regression;
  const auto columns = regression ? 1 : static_cast<std::int64_t>(saved.classes.size());
  if (p.size(1) != columns)
    throw InvalidArgument(weights.string() + ": the network has " + std::to_string(p.size(1)) +
                          " outputs, but " + description.string() + " names " +
                          std::to_string(columns) + (regression ? " value" : " classes"));
  AnalysisInput out;
  out.predictions.task = saved.task;
  out.predictions.classes = saved.classes;
  out.predictions.predicted = automl::Matrix(p.size(0), p.size(1));
  std::copy_n(p.data_ptr<float>(), p.numel(), out.predictions.predicted.values.begin());
  out.predictions.y.assign(rows.dataset.y.begin(), rows.dataset.y.end());
  out.table = std::move(rows.table);
  out.model = weights.string();
  out.data = rows.source;
  return out;
}

AnalysisInput saved_model_input(const std::filesystem::path& weights,
                                const std::optional<std::string>& data) {
  if (!std::filesystem::is_regular_file(weights))
    throw InvalidArgument(weights.string() + ": does not exist");
  const auto description = description_path(weights);
  const SavedModel saved = read_saved_model(description);
  const config::StudyFile file = saved_study_file(saved, description);
  Rows rows = data && !data->empty() ? data_rows(*data, saved, weights)
                                     : study_test_rows(file, saved, weights);
  return analyse(weights, saved, file, std::move(rows));
}

AnalysisInput study_input(const std::string& path, const std::optional<std::string>& data) {
  const config::StudyFile file = config::load_study_file(path);
  if (!file.model)
    throw InvalidArgument(path +
                          ": not a model study (no model: section); `quarry analyze` takes "
                          "a tabular model's folder or a model study's file");
  const auto weights = file.directory / file.study / "best_model.pt";
  if (!std::filesystem::is_regular_file(weights))
    throw InvalidArgument(path + ": no saved model " + weights.string() + ": a search saves it (" +
                          "quarry search " + path + ") once its trials are done");
  const auto description = description_path(weights);
  const SavedModel saved = read_saved_model(description);
  check_best_trial(file, saved, weights);
  const config::StudyFile saved_file = saved_study_file(saved, description);
  Rows rows = data && !data->empty() ? data_rows(*data, saved, weights)
                                     : study_test_rows(file, saved, weights);
  AnalysisInput out = analyse(weights, saved, saved_file, std::move(rows));
  out.study_file = file.path;
  return out;
}

}  // namespace

AnalysisInput nn_analysis_input(const std::string& model, const std::optional<std::string>& data) {
  if (is_study_file(model)) return study_input(model, data);
  if (lower_extension(model) == ".pt") return saved_model_input(model, data);
  throw InvalidArgument(model + ": not a model study's file (.yaml) or saved network (.pt)");
}

#else

AnalysisInput nn_analysis_input(const std::string& model, const std::optional<std::string>&) {
  throw UsageError("analysing " + model +
                   " needs quarry-nn (the command built with LibTorch) next to quarry; this "
                   "quarry was built without it (QUARRY_TORCH=OFF)");
}

#endif

}  // namespace quarry::cli
