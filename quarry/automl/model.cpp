// The saved AutoML model (model.hpp): model.json plus each member's files.
#include "quarry/automl/model.hpp"

#include <cmath>
#include <fstream>
#include <sstream>

#include "quarry/core/durable_file.hpp"
#include "quarry/core/error.hpp"

namespace quarry::automl {
namespace {

constexpr int kFormatVersion = 1;

std::string number_text(double v) {
  std::ostringstream out;
  out.precision(10);
  out << v;
  return out.str();
}

}  // namespace

AutoModel::AutoModel(TaskType task, std::string target, std::vector<std::string> classes,
                     Metric metric, Preprocessor preprocessor, std::vector<Member> members)
    : task_(task),
      target_(std::move(target)),
      classes_(std::move(classes)),
      metric_(metric),
      preprocessor_(std::move(preprocessor)),
      members_(std::move(members)) {
  if (members_.empty()) throw InvalidArgument("AutoModel: a model needs at least one member");
}

void AutoModel::save(const std::filesystem::path& dir) const {
  // Written next to the folder, then swapped in: a reader never sees half a model.
  const auto tmp = dir.string() + ".tmp";
  std::filesystem::remove_all(tmp);
  std::filesystem::create_directories(tmp);
  nlohmann::json members = nlohmann::json::array();
  for (std::size_t i = 0; i < members_.size(); ++i) {
    const auto& m = members_[i];
    members.push_back({{"family", m.family},
                       {"weight", m.weight},
                       {"params", space::to_json(m.params)},
                       {"budget_fraction", m.budget_fraction},
                       {"saved", m.estimator->save(tmp, "member" + std::to_string(i))}});
  }
  const nlohmann::json j = {{"format", "quarry-automl"},
                            {"version", kFormatVersion},
                            {"task", to_string(task_)},
                            {"target", target_},
                            {"classes", classes_},
                            {"metric", to_string(metric_)},
                            {"preprocessor", preprocessor_.to_json()},
                            {"members", members}};
  {
    std::ofstream out(std::filesystem::path(tmp) / "model.json");
    out << j.dump(1) << "\n";
    out.close();
    if (!out) throw Error(tmp + "/model.json: cannot write the model");
  }
  // Every file on the disk before the swap (durable_file.hpp), so a crash never leaves a model
  // folder whose files are empty.
  for (const auto& entry : std::filesystem::recursive_directory_iterator(tmp))
    if (entry.is_regular_file()) sync_file(entry.path());
  const auto old = dir.string() + ".old";
  std::filesystem::remove_all(old);
  if (std::filesystem::exists(dir)) std::filesystem::rename(dir, old);
  replace_durably(tmp, dir);
  std::filesystem::remove_all(old);
}

AutoModel AutoModel::load(const std::filesystem::path& dir) {
  const auto file = dir / "model.json";
  std::ifstream in(file);
  if (!in)
    throw InvalidArgument(dir.string() + ": not a Quarry AutoML model folder (no model.json)");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const std::exception& e) {
    throw InvalidArgument(file.string() + ": not valid JSON: " + e.what());
  }
  if (!j.is_object() || j.value("format", "") != "quarry-automl")
    throw InvalidArgument(file.string() + ": not a Quarry AutoML model");
  if (j.value("version", 0) != kFormatVersion)
    throw InvalidArgument(file.string() + ": model format version " +
                          j.value("version", nlohmann::json()).dump() + " (this Quarry reads " +
                          std::to_string(kFormatVersion) + ")");
  try {
    const auto task = task_from_string(j.at("task").get<std::string>());
    if (!task) throw InvalidArgument("task 'auto' in a saved model");
    std::vector<Member> members;
    for (const auto& m : j.at("members")) {
      const auto name = m.at("family").get<std::string>();
      const Family& f = family(name);
      space::Params params;
      for (const auto& [k, v] : m.at("params").items()) params[k] = space::value_from_json(v);
      members.push_back({name, m.at("weight").get<double>(), params,
                         std::shared_ptr<Estimator>(f.load(m.at("saved"), dir)),
                         m.value("budget_fraction", 1.0)});
    }
    return AutoModel(*task, j.at("target").get<std::string>(),
                     j.at("classes").get<std::vector<std::string>>(),
                     metric_from_string(j.at("metric").get<std::string>()),
                     Preprocessor::from_json(j.at("preprocessor")), std::move(members));
  } catch (const InvalidArgument& e) {
    throw InvalidArgument(file.string() + ": " + e.what());
  } catch (const nlohmann::json::exception& e) {
    throw InvalidArgument(file.string() + ": " + e.what());
  }
}

Matrix AutoModel::predict_features(const Matrix& features) const {
  Matrix out;
  for (const auto& m : members_) {
    const Matrix p = m.estimator->predict(features);
    if (out.values.empty()) out = Matrix(p.rows, p.cols);
    for (std::size_t i = 0; i < p.values.size(); ++i)
      out.values[i] += static_cast<float>(m.weight) * p.values[i];
  }
  return out;
}

Matrix AutoModel::predict(const data::Table& table) const {
  return predict_features(preprocessor_.transform(table));
}

std::vector<std::string> AutoModel::predict_labels(const data::Table& table) const {
  return labels(predict(table));
}

std::vector<std::string> AutoModel::labels(const Matrix& p) const {
  std::vector<std::string> labels;
  labels.reserve(static_cast<std::size_t>(p.rows));
  for (std::int64_t r = 0; r < p.rows; ++r) {
    if (task_ == TaskType::Regression) {
      labels.push_back(number_text(p.at(r, 0)));
      continue;
    }
    std::int64_t best = 0;
    for (std::int64_t c = 1; c < p.cols; ++c)
      if (p.at(r, c) > p.at(r, best)) best = c;
    labels.push_back(classes_[static_cast<std::size_t>(best)]);
  }
  return labels;
}

std::string AutoModel::describe() const {
  if (members_.size() == 1) return members_.front().family;
  std::string out = "ensemble of " + std::to_string(members_.size()) + " (";
  for (std::size_t i = 0; i < members_.size(); ++i) {
    out += (i ? ", " : "") + members_[i].family + " ";
    std::ostringstream w;
    w.precision(2);
    w << members_[i].weight;
    out += w.str();
  }
  return out + ")";
}

}  // namespace quarry::automl
