// The cluster launchers in examples/ (docs/scaling.md): each one parses, and the `quarry worker`
// command it runs is one the CLI accepts. No cluster needed: the command runs here against an
// empty store.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <regex>

#include "tests/cli/cli_helpers.hpp"

namespace quarry::cli_test {
namespace {

using ::testing::HasSubstr;

/// `quarry ARGS...` against an empty SQLite store (the launcher's URL replaced): it must parse
/// its options and find nothing to do.
void runs_against_an_empty_store(std::vector<std::string> args, const std::string& url_in_file) {
  TempDir dir;
  const auto store = (dir / "empty.db").string();
  for (auto& a : args)
    if (a == url_in_file) a = store;
  ASSERT_GE(args.size(), 1u);
  ASSERT_EQ(args[0], "worker");
  const CliResult r = run_cli(args);
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_THAT(r.out, HasSubstr("worker: no study with work left in " + store));
}

TEST(Launchers, SlurmArrayJobRunsQuarryWorker) {
  const auto path = source_dir() / "examples" / "slurm" / "quarry-worker.sbatch";
  const auto text = read_text(path);
  ASSERT_FALSE(text.empty()) << path;
  EXPECT_EQ(text.rfind("#!/bin/bash\n", 0), 0u);
  EXPECT_TRUE(std::regex_search(text, std::regex(R"(\n#SBATCH --array=\d+-\d+\n)")));
  EXPECT_EQ(std::system(("bash -n " + path.string()).c_str()), 0) << "bash syntax of " << path;
  // The line that runs the worker, with its shell variables given values.
  std::smatch m;
  ASSERT_TRUE(std::regex_search(text, m, std::regex(R"(\nexec quarry (worker [^\n]*)\n)")));
  std::vector<std::string> args;
  std::istringstream words(
      std::regex_replace(m[1].str(), std::regex(R"(\"\$\{SLURM_CPUS_PER_TASK:-1\}\")"), "4"));
  for (std::string w; words >> w;) args.push_back(w == "\"$QUARRY_STORAGE\"" ? "URL" : w);
  runs_against_an_empty_store(args, "URL");
}

TEST(Launchers, KubernetesJobRunsQuarryWorkerWithThePasswordFromASecret) {
  const auto path = source_dir() / "examples" / "kubernetes" / "quarry-worker.yaml";
  const YAML::Node job = YAML::LoadFile(path.string());
  EXPECT_EQ(job["apiVersion"].as<std::string>(), "batch/v1");
  EXPECT_EQ(job["kind"].as<std::string>(), "Job");
  EXPECT_GE(job["spec"]["parallelism"].as<int>(), 2);
  const auto pod = job["spec"]["template"]["spec"];
  EXPECT_EQ(pod["restartPolicy"].as<std::string>(), "OnFailure");
  const auto container = pod["containers"][0];
  EXPECT_EQ(container["command"][0].as<std::string>(), "quarry");
  std::string url;
  bool password_from_secret = false;
  for (const auto& e : container["env"]) {
    if (e["name"].as<std::string>() == "QUARRY_STORAGE") url = e["value"].as<std::string>();
    if (e["name"].as<std::string>() == "PGPASSWORD")
      password_from_secret = static_cast<bool>(e["valueFrom"]["secretKeyRef"]);
  }
  EXPECT_EQ(url.rfind("postgresql://", 0), 0u) << url;
  EXPECT_EQ(url.find(':', std::string("postgresql://").size()), url.find(":5432"))
      << "no password in the URL: " << url;
  EXPECT_TRUE(password_from_secret);
  std::vector<std::string> args;
  for (const auto& a : container["args"]) args.push_back(a.as<std::string>());
  runs_against_an_empty_store(args, "$(QUARRY_STORAGE)");
}

}  // namespace
}  // namespace quarry::cli_test
