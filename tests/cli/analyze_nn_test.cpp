// nn_analysis_input (quarry/cli/analyze_nn.cpp): the predictions of a model study's retrained best,
// from its study file or its saved best_model.pt (+ best_model.json). Two tiny model studies are
// searched once by the quarry-nn command on data this file generates: 8x8 IDX images of three
// classes (a bright band of rows per class, plus noise) and a CSV table (two numbers and a
// category; the class is the sign of their sum). Built into quarry_nn_tests (it needs LibTorch).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "quarry/cli/analyze_nn.hpp"
#include "quarry/core/error.hpp"
#include "quarry/core/rng.hpp"
#include "quarry/core/sha256.hpp"
#include "quarry/data/idx.hpp"
#include "quarry/storage/storage.hpp"
#include "tests/cli/cli_helpers.hpp"
#include "tests/test_util.hpp"

namespace quarry::cli_test {
namespace {

using cli::AnalysisInput;
using cli::needs_trainer;
using cli::nn_analysis_input;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

/// The message of the InvalidArgument `f` throws, or "no error".
template <typename F>
std::string invalid(F&& f) {
  return quarry::testing::error_of(std::forward<F>(f));
}

void put_u32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((v >> shift) & 0xff));
}

/// Plain (not gzipped) IDX files of `count` side x side images and their labels.
void write_idx(const fs::path& folder, const std::string& part, std::int64_t count, int side,
               std::uint64_t seed) {
  Rng rng(seed);
  std::string images, labels;
  images += std::string("\0\0\x08\x03", 4);
  put_u32(images, static_cast<std::uint32_t>(count));
  put_u32(images, static_cast<std::uint32_t>(side));
  put_u32(images, static_cast<std::uint32_t>(side));
  labels += std::string("\0\0\x08\x01", 4);
  put_u32(labels, static_cast<std::uint32_t>(count));
  for (std::int64_t i = 0; i < count; ++i) {
    const int label = static_cast<int>(i % 3);
    labels.push_back(static_cast<char>(label));
    for (int r = 0; r < side; ++r)
      for (int c = 0; c < side; ++c) {
        const bool band = r / 2 == label;
        images.push_back(static_cast<char>(band ? 180 + rng.below(70) : rng.below(60)));
      }
  }
  fs::create_directories(folder);
  write_text(folder / (part + "-images-idx3-ubyte"), images);
  write_text(folder / (part + "-labels-idx1-ubyte"), labels);
}

void write_idx_folder(const fs::path& folder, int side) {
  write_idx(folder, "train", 120, side, 1);
  write_idx(folder, "t10k", 30, side, 2);
}

/// x1, x2, group, kind: kind is dog when x1 + x2 > 0; group a, b or c at random.
std::string table_text(std::int64_t rows, std::uint64_t seed) {
  Rng rng(seed);
  std::ostringstream out;
  out << "x1,x2,group,kind\n";
  const char* groups[] = {"a", "b", "c"};
  for (std::int64_t i = 0; i < rows; ++i) {
    const double x1 = 2 * rng.normal(), x2 = 2 * rng.normal();
    out << std::fixed;
    out.precision(6);
    out << x1 << "," << x2 << "," << groups[rng.below(3)] << "," << (x1 + x2 > 0 ? "dog" : "cat")
        << "\n";
  }
  return out.str();
}

const char* kImageStudy =
    "study: bands\n"
    "objective: {metric: val_accuracy, direction: maximize}\n"
    "data: {idx: images, validation_split: 0.25, class_names: [top, middle, bottom]}\n"
    "model:\n"
    "  layers: [flatten, {dense: {units: {choice: [8, 12]}, activation: relu}}, {dense: 3}]\n"
    "  optimizer: {adam: {learning_rate: 0.02}}\n"
    "  loss: sparse_categorical_crossentropy\n"
    "fit: {epochs: 3, batch_size: 16}\n"
    "max_trials: 2\n"
    "workers: 1\n"
    "seed: 1\n";

const char* kTableStudy =
    "study: pets\n"
    "objective: {metric: val_accuracy, direction: maximize}\n"
    "data: {csv: pets.csv, target: kind, test_split: 0.25}\n"
    "model:\n"
    "  layers: [{dense: {units: {choice: [4, 8]}, activation: relu}}, {dense: 1}]\n"
    "  optimizer: {adam: {learning_rate: 0.02}}\n"
    "  loss: binary_crossentropy\n"
    "fit: {epochs: 3, batch_size: 16, retrain: {seeds: 2}}\n"  // two networks averaged
    "max_trials: 2\n"
    "workers: 1\n"
    "seed: 2\n";

/// The share of rows whose most probable class is the truth.
double accuracy_of(const analysis::Predictions& p) {
  std::int64_t right = 0;
  for (std::int64_t r = 0; r < p.predicted.rows; ++r) {
    std::int64_t best = 0;
    for (std::int64_t c = 1; c < p.predicted.cols; ++c)
      if (p.predicted.at(r, c) > p.predicted.at(r, best)) best = c;
    right += best == static_cast<std::int64_t>(p.y[static_cast<std::size_t>(r)]);
  }
  return static_cast<double>(right) / static_cast<double>(p.predicted.rows);
}

/// A test metric the search printed after retraining ("test: loss 0.3 accuracy 0.9").
double printed_test(const std::string& out, const std::string& metric) {
  const auto line = out.find("test: ");
  const auto at = out.find(metric + " ", line);
  if (line == std::string::npos || at == std::string::npos) return NAN;
  return std::stod(out.substr(at + metric.size() + 1));
}

/// The mean cross-entropy of the truth under the predicted probabilities.
double log_loss_of(const analysis::Predictions& p) {
  double sum = 0;
  for (std::int64_t r = 0; r < p.predicted.rows; ++r)
    sum -= std::log(p.predicted.at(r, static_cast<std::int64_t>(p.y[static_cast<std::size_t>(r)])));
  return sum / static_cast<double>(p.predicted.rows);
}

/// The predictions are those of the network the search retrained and tested: they score the
/// loss and accuracy it printed.
void expect_scores_as_printed(const analysis::Predictions& p, const std::string& out) {
  const double loss = printed_test(out, "loss");
  EXPECT_NEAR(log_loss_of(p), loss, 1e-4 * std::max(1.0, loss)) << out;
  EXPECT_NEAR(accuracy_of(p), printed_test(out, "accuracy"), 1e-5) << out;
}

void expect_probabilities(const analysis::Predictions& p) {
  for (std::int64_t r = 0; r < p.predicted.rows; ++r) {
    double sum = 0;
    for (std::int64_t c = 0; c < p.predicted.cols; ++c) {
      EXPECT_GE(p.predicted.at(r, c), 0.0f);
      sum += p.predicted.at(r, c);
    }
    EXPECT_NEAR(sum, 1.0, 1e-5) << "row " << r;
  }
}

/// The two studies, searched once for every test here.
struct Studies {
  TempDir dir;
  fs::path images, image_study, image_weights, table, table_study, table_weights;
  std::string image_out, table_out;
};
Studies* studies = nullptr;

class AnalyzeNnTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto s = std::make_unique<Studies>();
    s->images = s->dir / "images";
    write_idx_folder(s->images, 8);
    s->image_study = s->dir.write("bands.yaml", kImageStudy);
    s->table = s->dir.write("pets.csv", table_text(200, 5));
    s->table_study = s->dir.write("pets.yaml", kTableStudy);
    for (const auto& [file, out] :
         {std::pair{s->image_study, &s->image_out}, std::pair{s->table_study, &s->table_out}}) {
      const CliResult r = run_cli({"search", file.string(), "--quiet"});
      ASSERT_EQ(r.exit_code, 0) << r.describe();
      *out = r.out;
    }
    s->image_weights = s->dir / "bands" / "best_model.pt";
    s->table_weights = s->dir / "pets" / "best_model.pt";
    studies = s.release();
  }
  static void TearDownTestSuite() {
    delete studies;
    studies = nullptr;
  }
  void SetUp() override { ASSERT_NE(studies, nullptr) << "the studies' searches failed"; }
};

TEST_F(AnalyzeNnTest, SearchWritesTheNetworksDescriptionBesideItsWeights) {
  EXPECT_THAT(studies->image_out, HasSubstr("best_model.json (what rebuilds the network)"));
  const auto json = nlohmann::json::parse(read_text(studies->dir / "bands" / "best_model.json"));
  EXPECT_EQ(json["format"], "quarry-saved-model");
  EXPECT_EQ(json["input_shape"], nlohmann::json({1, 8, 8}));
  EXPECT_EQ(json["classes"], nlohmann::json({"top", "middle", "bottom"}));
  EXPECT_EQ(json["task"], "multiclass");
  EXPECT_EQ(json["study_text"], kImageStudy);
  EXPECT_TRUE(json["params"].contains("units"));
  EXPECT_EQ(json["weights_sha256"], sha256_file(studies->image_weights));
  // The checksum is kept in the store, too, with the trial retrained.
  auto store = storage::open_storage("sqlite://" + (studies->dir / "bands" / "quarry.db").string());
  const auto info = store->find_study("bands");
  ASSERT_TRUE(info);
  const auto saved = store->get_attr(info->id, "saved_model");
  ASSERT_TRUE(saved);
  EXPECT_EQ(nlohmann::json::parse(*saved),
            nlohmann::json({{"trial", json["trial"]},
                            {"path", studies->image_weights.string()},
                            {"sha256", json["weights_sha256"]}}));
}

TEST_F(AnalyzeNnTest, StudyFilePredictsItsTestRowsWithNamedClasses) {
  const AnalysisInput in = nn_analysis_input(studies->image_study.string(), std::nullopt);
  const auto& p = in.predictions;
  EXPECT_EQ(p.task, automl::TaskType::Multiclass);
  EXPECT_THAT(p.classes, ElementsAre("top", "middle", "bottom"));
  ASSERT_EQ(p.predicted.rows, 30);
  ASSERT_EQ(p.predicted.cols, 3);
  expect_probabilities(p);
  const data::Dataset test =
      data::idx_dataset((studies->images / "t10k-images-idx3-ubyte").string(),
                        (studies->images / "t10k-labels-idx1-ubyte").string());
  ASSERT_EQ(p.y.size(), test.y.size());
  for (std::size_t i = 0; i < p.y.size(); ++i) EXPECT_EQ(p.y[i], test.y[i]);
  expect_scores_as_printed(p, studies->image_out);
  ASSERT_EQ(in.table.columns.size(), 1u);
  const data::Column& label = in.table.columns[0];
  EXPECT_EQ(label.name, "label");
  EXPECT_EQ(label.type, data::ColumnType::Categorical);
  ASSERT_EQ(label.rows(), 30);
  for (std::size_t i = 0; i < p.y.size(); ++i)
    EXPECT_EQ(label.text[i], p.classes[static_cast<std::size_t>(p.y[i])]);
  ASSERT_TRUE(in.study_file.has_value());
  EXPECT_EQ(*in.study_file, studies->image_study);
  EXPECT_EQ(in.model, studies->image_weights.string());
}

TEST_F(AnalyzeNnTest, TheCommandOnAStudyFileShowsClassesGatesAndStoresTheVerdict) {
  // `quarry analyze STUDY.yaml --slice label`: per class, what the winner takes each class for.
  const CliResult table = run_cli({"analyze", studies->image_study.string(), "--slice", "label"});
  ASSERT_EQ(table.exit_code, 0) << table.describe();
  EXPECT_THAT(table.out, HasSubstr("label=top"));
  EXPECT_THAT(table.out, HasSubstr("per class (overall):"));
  EXPECT_THAT(table.out, HasSubstr("most often taken for"));
  const CliResult json =
      run_cli({"analyze", studies->image_study.string(), "--slice", "label", "--format", "json"});
  ASSERT_EQ(json.exit_code, 0) << json.describe();
  const auto j = nlohmann::json::parse(json.out);
  EXPECT_EQ(j["task"], "multiclass");
  ASSERT_EQ(j["slices"].size(), 4u);  // overall and the three classes
  EXPECT_EQ(j["slices"][0]["count"], 30);
  EXPECT_NEAR(j["slices"][0]["metrics"]["accuracy"].get<double>(),
              printed_test(studies->image_out, "accuracy"), 1e-5);

  // An impossible threshold fails the gate (exit 3), and the verdict is stored with the study.
  const auto gate =
      studies->dir.write("gate.yaml", "thresholds:\n  - {metric: log_loss, max: 0}\n");
  const CliResult refused =
      run_cli({"analyze", studies->image_study.string(), "--thresholds", gate.string()});
  EXPECT_EQ(refused.exit_code, 3) << refused.describe();
  EXPECT_THAT(refused.out, HasSubstr("FAIL log_loss on overall"));
  auto store = storage::open_storage("sqlite://" + (studies->dir / "bands" / "quarry.db").string());
  const auto info = store->find_study("bands");
  ASSERT_TRUE(info);
  const auto verdict = store->get_attr(info->id, "analysis.verdict");
  ASSERT_TRUE(verdict);
  EXPECT_EQ(nlohmann::json::parse(*verdict)["passed"], false);
}

TEST_F(AnalyzeNnTest, SavedNetworkPredictsTheSameOnAFolderAFileOrItsStudysRows) {
  const AnalysisInput from_study = nn_analysis_input(studies->image_study.string(), std::nullopt);
  const std::string weights = studies->image_weights.string();
  for (const std::optional<std::string>& data :
       {std::optional<std::string>(studies->images.string()),
        std::optional<std::string>((studies->images / "t10k-images-idx3-ubyte").string()),
        std::optional<std::string>()}) {
    const AnalysisInput in = nn_analysis_input(weights, data);
    EXPECT_EQ(in.predictions.predicted.values, from_study.predictions.predicted.values);
    EXPECT_EQ(in.predictions.y, from_study.predictions.y);
    EXPECT_EQ(in.predictions.classes, from_study.predictions.classes);
    EXPECT_EQ(in.table.columns[0].text, from_study.table.columns[0].text);
    EXPECT_FALSE(in.study_file.has_value());
  }
}

TEST_F(AnalyzeNnTest, TableStudyKeepsTheCsvColumnsOfItsTestRows) {
  // Its model averages two networks: the analysis predicts with both, as the search measured it.
  EXPECT_THAT(studies->table_out, HasSubstr(" (2 seeds averaged)"));
  const AnalysisInput in = nn_analysis_input(studies->table_study.string(), std::nullopt);
  const auto& p = in.predictions;
  EXPECT_EQ(p.task, automl::TaskType::Binary);
  EXPECT_THAT(p.classes, ElementsAre("cat", "dog"));
  ASSERT_EQ(p.predicted.rows, 50);  // test_split 0.25 of 200 rows
  ASSERT_EQ(p.predicted.cols, 2);
  expect_probabilities(p);
  expect_scores_as_printed(p, studies->table_out);
  EXPECT_EQ(in.table.column_list(), "x1, x2, group, kind");
  ASSERT_EQ(in.table.rows(), 50);
  const data::Column& kind = *in.table.find("kind");
  for (std::size_t i = 0; i < p.y.size(); ++i)
    EXPECT_EQ(kind.text[i], p.classes[static_cast<std::size_t>(p.y[i])]);

  // The whole file through the saved network: the test rows are among its rows, predicted alike.
  const AnalysisInput all =
      nn_analysis_input(studies->table_weights.string(), studies->table.string());
  ASSERT_EQ(all.predictions.predicted.rows, 200);
  ASSERT_EQ(all.table.rows(), 200);
  std::map<std::pair<std::string, std::string>, std::int64_t> row_of;
  for (std::int64_t r = 0; r < 200; ++r)
    row_of[{all.table.columns[0].text[r], all.table.columns[1].text[r]}] = r;
  for (std::int64_t r = 0; r < 50; ++r) {
    const auto at = row_of.find({in.table.columns[0].text[r], in.table.columns[1].text[r]});
    ASSERT_NE(at, row_of.end());
    EXPECT_EQ(all.predictions.y[at->second], p.y[r]);
    for (std::int64_t c = 0; c < 2; ++c)
      EXPECT_NEAR(all.predictions.predicted.at(at->second, c), p.predicted.at(r, c), 1e-6);
  }
}

TEST_F(AnalyzeNnTest, CsvColumnsAreMatchedByNameAndClassesByLabel) {
  // Other column order, one group (the other categories absent), one class: the same rows
  // predict the same, and "dog" stays class 1.
  const std::string whole = read_text(studies->table);
  std::istringstream lines(whole);
  std::string line, subset = "kind,group,x2,x1\n";
  std::vector<std::pair<std::string, std::string>> kept;
  std::getline(lines, line);
  while (std::getline(lines, line)) {
    std::vector<std::string> f;
    std::istringstream cells(line);
    for (std::string cell; std::getline(cells, cell, ',');) f.push_back(cell);
    if (f[2] != "b" || f[3] != "dog") continue;
    subset += f[3] + "," + f[2] + "," + f[1] + "," + f[0] + "\n";
    kept.emplace_back(f[0], f[1]);
  }
  ASSERT_GE(kept.size(), 5u);
  const fs::path file = studies->dir.write("dogs_b.csv", subset);
  const AnalysisInput some = nn_analysis_input(studies->table_weights.string(), file.string());
  const AnalysisInput all =
      nn_analysis_input(studies->table_weights.string(), studies->table.string());
  ASSERT_EQ(some.predictions.predicted.rows, static_cast<std::int64_t>(kept.size()));
  EXPECT_EQ(some.table.column_list(), "kind, group, x2, x1");
  for (std::size_t i = 0; i < kept.size(); ++i) {
    EXPECT_EQ(some.predictions.y[i], 1.0);
    std::int64_t r = 0;
    while (all.table.columns[0].text[r] != kept[i].first ||
           all.table.columns[1].text[r] != kept[i].second)
      ++r;
    for (std::int64_t c = 0; c < 2; ++c)
      EXPECT_NEAR(some.predictions.predicted.at(static_cast<std::int64_t>(i), c),
                  all.predictions.predicted.at(r, c), 1e-6);
  }
}

TEST_F(AnalyzeNnTest, BadModelsAndDataAreOneLineNamingTheFile) {
  TempDir bad;
  // The weights without their description.
  fs::create_directories(bad / "alone");
  fs::copy_file(studies->image_weights, bad / "alone" / "best_model.pt");
  std::string e = invalid([&] {
    nn_analysis_input((bad / "alone" / "best_model.pt").string(), studies->images.string());
  });
  EXPECT_THAT(e, HasSubstr((bad / "alone" / "best_model.json").string() + ": does not exist"));
  EXPECT_EQ(e.find('\n'), std::string::npos) << e;

  // A description that is not one, or that names another network.
  const auto copy = [&](const std::string& name, const std::string& json) {
    fs::create_directories(bad / name);
    fs::copy_file(studies->image_weights, bad / name / "best_model.pt");
    write_text(bad / name / "best_model.json", json);
    return (bad / name / "best_model.pt").string();
  };
  const std::string corrupt = copy("corrupt", "{\"format\": \"quarry-saved-model\", \"version\"");
  e = invalid([&] { nn_analysis_input(corrupt, studies->images.string()); });
  EXPECT_THAT(e, HasSubstr((bad / "corrupt" / "best_model.json").string() +
                           ": not a saved-model description"));
  EXPECT_EQ(e.find('\n'), std::string::npos) << e;
  auto json = nlohmann::json::parse(read_text(studies->dir / "bands" / "best_model.json"));
  json.erase("input_shape");
  const std::string no_shape = copy("no_shape", json.dump());
  EXPECT_THAT(invalid([&] { nn_analysis_input(no_shape, studies->images.string()); }),
              HasSubstr("the field 'input_shape' is missing"));
  json = nlohmann::json::parse(read_text(studies->dir / "bands" / "best_model.json"));
  json["params"]["units"] = 16;  // trained with 8 or 12
  const std::string other = copy("other", json.dump());
  e = invalid([&] { nn_analysis_input(other, studies->images.string()); });
  EXPECT_THAT(e, HasSubstr(other));
  EXPECT_THAT(e, HasSubstr("in the file but"));

  // Weights changed after they were saved: 64 bytes flipped in the middle of the file.
  const std::string damaged =
      copy("damaged", read_text(studies->dir / "bands" / "best_model.json"));
  std::string bytes = read_text(damaged);
  for (std::size_t i = bytes.size() / 2; i < bytes.size() / 2 + 64; ++i)
    bytes[i] = static_cast<char>(~bytes[i]);
  write_text(damaged, bytes);
  e = invalid([&] { nn_analysis_input(damaged, studies->images.string()); });
  EXPECT_THAT(e, HasSubstr(damaged + ": does not match the checksum saved with trial "));
  EXPECT_THAT(e, HasSubstr("the file was changed or damaged"));
  EXPECT_EQ(e.find('\n'), std::string::npos) << e;

  // An ensemble's other network missing, or changed.
  const fs::path pets = studies->dir / "pets";
  const auto ensemble = [&](const std::string& name) {
    fs::create_directories(bad / name);
    for (const char* file : {"best_model.pt", "best_model_2.pt", "best_model.json"})
      fs::copy_file(pets / file, bad / name / file);
    return bad / name;
  };
  const fs::path missing = ensemble("missing");
  fs::remove(missing / "best_model_2.pt");
  e = invalid(
      [&] { nn_analysis_input((missing / "best_model.pt").string(), studies->table.string()); });
  EXPECT_THAT(e, HasSubstr((missing / "best_model_2.pt").string() + ": does not exist, but " +
                           (missing / "best_model.json").string() + " averages it"));
  EXPECT_EQ(e.find('\n'), std::string::npos) << e;
  const fs::path changed = ensemble("changed");
  fs::copy_file(pets / "best_model.pt", changed / "best_model_2.pt",
                fs::copy_options::overwrite_existing);
  EXPECT_THAT(invalid([&] {
                nn_analysis_input((changed / "best_model.pt").string(), studies->table.string());
              }),
              HasSubstr((changed / "best_model_2.pt").string() +
                        ": does not match the checksum saved with trial "));
  json = nlohmann::json::parse(read_text(pets / "best_model.json"));
  json["ensemble"][1]["weights"] = "../best_model_2.pt";
  const fs::path outside = ensemble("outside");
  write_text(outside / "best_model.json", json.dump());
  EXPECT_THAT(invalid([&] {
                nn_analysis_input((outside / "best_model.pt").string(), studies->table.string());
              }),
              HasSubstr("'ensemble' names \"../best_model_2.pt\", not a file in its folder"));

  // Images of another size; a table for an image model; an image folder for a table model.
  write_idx_folder(bad / "small", 6);
  e = invalid(
      [&] { nn_analysis_input(studies->image_weights.string(), (bad / "small").string()); });
  EXPECT_THAT(e, HasSubstr((bad / "small" / "t10k-images-idx3-ubyte").string() +
                           ": examples of shape {1, 6, 6}, but the model " +
                           studies->image_weights.string() + " takes {1, 8, 8}"));
  EXPECT_THAT(
      invalid([&] { nn_analysis_input(studies->image_weights.string(), studies->table.string()); }),
      HasSubstr("was trained on images"));
  EXPECT_THAT(invalid([&] {
                nn_analysis_input(studies->table_weights.string(), studies->images.string());
              }),
              HasSubstr("was trained on a table (target 'kind')"));
  // A table without a column the model takes.
  const fs::path no_x2 = bad.write("no_x2.csv", "x1,group,kind\n0.5,a,dog\n-1,b,cat\n");
  EXPECT_THAT(invalid([&] { nn_analysis_input(studies->table_weights.string(), no_x2.string()); }),
              HasSubstr(no_x2.string() + ": no column 'x2'"));

  // Weights saved for another trial than the study's best (a search stopped before retraining).
  const fs::path saved = studies->dir / "bands" / "best_model.json";
  const std::string original = read_text(saved);
  json = nlohmann::json::parse(original);
  const std::int64_t best = json["trial"].get<std::int64_t>();
  json["trial"] = best + 7;
  write_text(saved, json.dump());
  e = invalid([&] { nn_analysis_input(studies->image_study.string(), std::nullopt); });
  write_text(saved, original);
  EXPECT_THAT(
      e, HasSubstr(studies->image_weights.string() + " holds trial " + std::to_string(best + 7) +
                   ", but the best trial of study 'bands' is "
                   "now trial " +
                   std::to_string(best)));

  // A model study never searched.
  const fs::path fresh = bad.write("fresh.yaml", kImageStudy);
  EXPECT_THAT(invalid([&] { nn_analysis_input(fresh.string(), std::nullopt); }),
              HasSubstr("no saved model " + (bad / "bands" / "best_model.pt").string()));
}

TEST(AnalyzeNnNeedsTrainer, StudyFilesAndSavedNetworksGoToTheTrainer) {
  EXPECT_TRUE(needs_trainer("study.yaml"));
  EXPECT_TRUE(needs_trainer("study.YML"));
  EXPECT_TRUE(needs_trainer("runs/best_model.pt"));
  EXPECT_FALSE(needs_trainer("automl_out/model"));
  TempDir dir;
  const fs::path automl =
      dir.write("tabular.yaml", "study: t\nautoml: {train: train.csv, target: y}\n");
  EXPECT_FALSE(needs_trainer(automl.string()));
}

}  // namespace
}  // namespace quarry::cli_test
