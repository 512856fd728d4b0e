// best_model.json: writing and reading the description of a model study's retrained best.
#include "quarry/cli/saved_model.hpp"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <system_error>

#include "quarry/core/durable_file.hpp"
#include "quarry/core/error.hpp"
#include "quarry/core/sha256.hpp"

namespace quarry::cli {

namespace {

constexpr const char* kFormat = "quarry-saved-model";
constexpr int kVersion = 1;          // one network
constexpr int kEnsembleVersion = 2;  // with "ensemble"

std::string first_line(const std::string& text) {
  return text.substr(0, text.find('\n'));
}

/// The field `key` of `j`, or a json::exception that read_saved_model turns into one line.
const nlohmann::json& field(const nlohmann::json& j, const char* key) {
  if (!j.contains(key)) throw InvalidArgument(std::string("the field '") + key + "' is missing");
  return j.at(key);
}

}  // namespace

std::filesystem::path description_path(const std::filesystem::path& weights) {
  std::filesystem::path out = weights;
  return out.replace_extension(".json");
}

void write_saved_model(const SavedModel& model, const std::filesystem::path& path) {
  nlohmann::json data = {{"format", model.target.empty() ? "idx" : "csv"}};
  if (!model.target.empty()) {
    data["target"] = model.target;
    data["features"] = model.feature_names;
    data["mean"] = model.mean;
    data["stddev"] = model.stddev;
  }
  nlohmann::json j = {{"format", kFormat},
                      {"version", model.ensemble.empty() ? kVersion : kEnsembleVersion},
                      {"weights", path.filename().replace_extension(".pt").string()},
                      {"study", model.study},
                      {"study_file", model.study_file.string()},
                      {"study_text", model.study_text},
                      {"trial", model.trial},
                      {"params", space::to_json(model.params)},
                      {"input_shape", model.input_shape},
                      {"task", automl::to_string(model.task)},
                      {"classes", model.classes},
                      {"data", data}};
  if (!model.weights_sha256.empty()) j["weights_sha256"] = model.weights_sha256;
  if (!model.ensemble.empty()) {
    j["ensemble"] = nlohmann::json::array();
    for (const auto& m : model.ensemble)
      j["ensemble"].push_back({{"weights", m.weights}, {"sha256", m.sha256}});
  }
  write_file_durably(path, j.dump(2) + "\n");
}

SavedModel read_saved_model(const std::filesystem::path& path) {
  const std::string where = path.string() + ": ";
  if (!std::filesystem::is_regular_file(path))
    throw InvalidArgument(where +
                          "does not exist: a model study writes it next to best_model.pt (its "
                          "network's description); run the study's search to the end to save both");
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in) throw InvalidArgument(where + "cannot be read");
  try {
    const nlohmann::json j = nlohmann::json::parse(text.str());
    if (!j.is_object() || !j.contains("format") || j["format"] != kFormat)
      throw InvalidArgument(std::string("not a saved-model description (no \"format\": \"") +
                            kFormat + "\")");
    if (field(j, "version") != kVersion && j["version"] != kEnsembleVersion)
      throw InvalidArgument("version " + j["version"].dump() + " is not one this quarry reads (" +
                            std::to_string(kVersion) + " or " + std::to_string(kEnsembleVersion) +
                            ")");
    SavedModel m;
    m.study = field(j, "study").get<std::string>();
    m.study_file = field(j, "study_file").get<std::string>();
    m.study_text = field(j, "study_text").get<std::string>();
    m.trial = field(j, "trial").get<std::int64_t>();
    const auto& params = field(j, "params");
    if (!params.is_object()) throw InvalidArgument("'params' is not an object");
    for (const auto& [name, value] : params.items()) m.params[name] = space::value_from_json(value);
    m.input_shape = field(j, "input_shape").get<std::vector<std::int64_t>>();
    if (m.input_shape.empty()) throw InvalidArgument("'input_shape' is empty");
    for (const std::int64_t d : m.input_shape)
      if (d < 1) throw InvalidArgument("'input_shape' holds " + std::to_string(d));
    const auto task = automl::task_from_string(field(j, "task").get<std::string>());
    if (!task) throw InvalidArgument("'task' is auto");
    m.task = *task;
    m.classes = field(j, "classes").get<std::vector<std::string>>();
    if (m.task != automl::TaskType::Regression && m.classes.size() < 2)
      throw InvalidArgument("a classifier needs two or more 'classes'");
    const auto& data = field(j, "data");
    if (field(data, "format") == "csv") {
      m.target = field(data, "target").get<std::string>();
      m.feature_names = field(data, "features").get<std::vector<std::string>>();
      m.mean = field(data, "mean").get<std::vector<float>>();
      m.stddev = field(data, "stddev").get<std::vector<float>>();
      if (m.target.empty() || m.mean.size() != m.feature_names.size() ||
          m.stddev.size() != m.feature_names.size())
        throw InvalidArgument("'data' needs a target and one mean and stddev per feature");
    } else if (data["format"] != "idx") {
      throw InvalidArgument("'data.format' is " + data["format"].dump() + ", not idx or csv");
    }
    if (j.contains("weights_sha256")) m.weights_sha256 = j["weights_sha256"].get<std::string>();
    if (j["version"] == kEnsembleVersion) {
      const auto& ensemble = field(j, "ensemble");
      if (!ensemble.is_array() || ensemble.size() < 2)
        throw InvalidArgument("'ensemble' is not a list of two or more networks");
      for (const auto& member : ensemble) {
        m.ensemble.push_back({field(member, "weights").get<std::string>(),
                              field(member, "sha256").get<std::string>()});
        const std::string& name = m.ensemble.back().weights;
        if (name.empty() || std::filesystem::path(name).filename() != name)
          throw InvalidArgument("'ensemble' names \"" + name + "\", not a file in its folder");
      }
      if (m.ensemble.front().weights != field(j, "weights").get<std::string>())
        throw InvalidArgument("'ensemble' does not start with its 'weights'");
    }
    return m;
  } catch (const nlohmann::json::exception& e) {
    throw InvalidArgument(where + "not a saved-model description: " + first_line(e.what()));
  } catch (const InvalidArgument& e) {
    throw InvalidArgument(where + "not a saved-model description: " + first_line(e.what()));
  }
}

std::vector<std::filesystem::path> member_weights(const SavedModel& model,
                                                  const std::filesystem::path& weights) {
  if (model.ensemble.empty()) return {weights};
  std::vector<std::filesystem::path> out;
  for (const auto& m : model.ensemble) out.push_back(weights.parent_path() / m.weights);
  return out;
}

void check_weights(const SavedModel& model, const std::filesystem::path& weights) {
  const auto files = member_weights(model, weights);
  for (std::size_t k = 0; k < files.size(); ++k) {
    const std::string& expected =
        model.ensemble.empty() ? model.weights_sha256 : model.ensemble[k].sha256;
    if (expected.empty()) continue;
    // The weights file itself (k = 0) is the caller's to find; the others are the ensemble's.
    if (k > 0 && !std::filesystem::is_regular_file(files[k]))
      throw InvalidArgument(files[k].string() + ": does not exist, but " +
                            description_path(weights).string() +
                            " averages it with the other networks; run the study's search again "
                            "to retrain and save them");
    const std::string actual = sha256_file(files[k]);
    if (actual != expected)
      throw InvalidArgument(files[k].string() + ": does not match the checksum saved with trial " +
                            std::to_string(model.trial) + " (sha256 " + actual.substr(0, 12) +
                            "... now, " + expected.substr(0, 12) +
                            "... when saved): the file was changed or damaged; run the study's "
                            "search again to retrain and save it");
  }
}

config::StudyFile saved_study_file(const SavedModel& model, const std::filesystem::path& path) {
  try {
    config::StudyFile file = config::parse_study_file(model.study_text, model.study_file);
    if (!file.model) throw UsageError("the study has no model section");
    return file;
  } catch (const Error& e) {
    throw InvalidArgument(path.string() +
                          ": the study file it holds no longer reads: " + first_line(e.what()));
  }
}

nn::ModelSpec saved_spec(const SavedModel& model, const config::StudyFile& file,
                         const std::filesystem::path& path) {
  try {
    return config::resolve(*file.model, model.params, model.input_shape);
  } catch (const Error& e) {
    throw InvalidArgument(path.string() + ": trial " + std::to_string(model.trial) +
                          "'s network cannot be rebuilt: " + first_line(e.what()));
  }
}

}  // namespace quarry::cli
