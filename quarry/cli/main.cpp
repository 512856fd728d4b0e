// quarry: find the best model (or the best settings of any program) from a YAML study file.
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <string>

#include "quarry/cli/args.hpp"
#include "quarry/cli/commands.hpp"
#include "quarry/core/cpu.hpp"
#include "quarry/core/error.hpp"

namespace {

struct Command {
  int (*run)(int, char**);
  const char* usage;
  const char* summary;
};

const std::map<std::string, Command>& commands() {
  using namespace quarry::cli;
  static const std::map<std::string, Command> table = {
      {"search",
       {search_command,
        "quarry search STUDY.yaml [--workers N] [--max-trials N] [--timeout S] [--seed N] "
        "[--storage URL] [--quiet]",
        "run or resume a study (Ctrl-C stops gracefully; run it again to resume)"}},
      {"worker",
       {worker_command, "quarry worker --storage URL [--study NAME]... [--workers N] [--quiet]",
        "run trials of the studies in a shared store (by default every one with work left) on "
        "this machine, without their study files; Ctrl-C puts back only this worker's trials"}},
      {"automl",
       {automl_command,
        "quarry automl TRAIN.csv --target COL [--task auto|binary|multiclass|regression] "
        "[--metric M] [--time SECONDS] [--workers N] [--test TEST.csv] [--out DIR] "
        "[--format table|json] [--families F1,F2...] [--seed N] [--max-trials N] [--quiet]",
        "tabular AutoML: detect the task, try model families with cross-validation, ensemble, "
        "refit, save the model (Ctrl-C stops; run it again to resume)"}},
      {"predict",
       {predict_command, "quarry predict MODEL_DIR DATA.csv [--out predictions.csv]",
        "predictions of a model saved by quarry automl (class probabilities for classifiers)"}},
      {"analyze",
       {analyze_command,
        "quarry analyze MODEL [DATA] [--slice COL | COL1,COL2 | COL=VALUE]... [--fairness COL] "
        "[--baseline MODEL2] [--thresholds FILE.yaml] [--min-count N] [--ci] [--threshold P]... "
        "[--bins N] [--format table|json|html] [--out FILE]",
        "metrics per slice of a saved model (automl folder, best_model.pt or study file), a "
        "baseline to compare with, and a pass/fail gate (exit 3 when a threshold fails)"}},
      {"list",
       {list_command, "quarry list",
        "the samplers, schedulers, pruners and built-in functions a study file can name"}},
      {"status",
       {status_command, "quarry status STUDY.yaml | --storage URL --study NAME",
        "counts and best value"}},
      {"best",
       {best_command, "quarry best STUDY.yaml | --storage URL --study NAME [--format table|json]",
        "the best trial and its hyperparameters (the Pareto front with several objectives)"}},
      {"trials",
       {trials_command,
        "quarry trials STUDY.yaml | --storage URL --study NAME [--format table|csv|json] [--state "
        "STATE]",
        "every trial"}},
      {"importance",
       {importance_command,
        "quarry importance STUDY.yaml | --storage URL --study NAME [--format table|json] "
        "[--objective NAME] [--seed N]",
        "each parameter's share of the objective's variance (fANOVA on a random forest)"}},
      {"report",
       {report_command, "quarry report STUDY.yaml | --storage URL --study NAME [-o report.html]",
        "the study's charts in one HTML file that opens offline: history, importance, contour, "
        "parallel coordinates, slices, learning curves, budgets, workers, Pareto front, trials"}},
      {"dashboard",
       {dashboard_command,
        "quarry dashboard [STUDY.yaml | --storage URL] [--host 127.0.0.1] [--port 8080]",
        "every study of the store in the browser, updating while searches run (read-only; "
        "JSON API under /api/studies)"}},
      {"ask",
       {ask_command, "quarry ask STUDY.yaml [--worker NAME] [--seed N] [--lease SECONDS]",
        "start a trial by hand: prints its number and parameters as JSON (with --lease, it is run "
        "again by others unless renewed with quarry heartbeat in time)"}},
      {"heartbeat",
       {heartbeat_command,
        "quarry heartbeat STUDY.yaml | --storage URL --study NAME --trial N [--worker NAME]",
        "renew the lease of a trial asked for with quarry ask --lease"}},
      {"tell",
       {tell_command,
        "quarry tell STUDY.yaml --trial N (--value V [--value V2...] | --state pruned|failed "
        "[--reason TEXT])",
        "finish a trial started with ask"}},
      {"bench",
       {bench_command,
        "quarry bench PROBLEM [--data PATH] [--samplers S1,S2...] [--seeds N] [--evaluations "
        "N1,N2...] [--dims N] [--metric M] [--format table|csv|json] [--time-proposals N]",
        "compare samplers on branin, hartmann6, rosenbrock, nas-bench-macro or nas-bench-201: "
        "regret or best accuracy over seeds"}},
  };
  return table;
}

void print_help(std::ostream& out) {
  out << "quarry: hyperparameter and architecture search\n\nusage:\n";
  for (const auto& [name, c] : commands())
    out << "  " << c.usage << "\n      " << c.summary << "\n";
  out << "  quarry --version\n      the version and the math kernels (OpenBLAS) model studies "
         "use\n";
  out << "\nexit codes: 0 ok, 2 usage or input error, 3 analyze: a threshold failed, 4 the store "
         "failed (disk full, deleted or replaced, I/O error, locked too long), 1 trials kept "
         "failing or internal error, 130 stopped by Ctrl-C, 143 by SIGTERM, 129 by SIGHUP\n";
}

/// `quarry --version`: the version, and the math kernels model studies train with.
void print_version(std::ostream& out) {
  out << "quarry " << QUARRY_VERSION << "\n";
  const char* chosen = std::getenv("OPENBLAS_CORETYPE");
  const std::string set_by = chosen ? std::string(" (OPENBLAS_CORETYPE=") + chosen + ")" : "";
#ifdef QUARRY_WITH_TORCH
  const auto loaded = quarry::loaded_openblas_core();
  out << "OpenBLAS kernels: " << (loaded.empty() ? "none (no OpenBLAS loaded)" : loaded)
      << (chosen ? set_by : " (OpenBLAS's own choice)") << "\n";
#else
  const auto best = quarry::openblas_core_type(quarry::cpu_features());
  out << "OpenBLAS kernels for model studies: "
      << (chosen         ? chosen + set_by
          : best.empty() ? std::string("OpenBLAS's own choice")
                         : best + " (from the CPU's features)")
      << "\n";
#endif
}

}  // namespace

int main(int argc, char** argv) {
#ifdef QUARRY_WITH_TORCH
  // OpenBLAS loaded with LibTorch before main(): if it did not know this CPU, start again with the
  // kernels it has (quarry sets them before handing over, so this is for direct calls).
  quarry::use_best_blas_kernels(argv);
#endif
  if (argc == 2 && (!std::strcmp(argv[1], "--version") || !std::strcmp(argv[1], "version"))) {
    print_version(std::cout);
    return 0;
  }
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") ||
      !std::strcmp(argv[1], "help")) {
    print_help(argc < 2 ? std::cerr : std::cout);
    return argc < 2 ? 2 : 0;
  }
  const auto it = commands().find(argv[1]);
  if (it == commands().end()) {
    std::cerr << "quarry: error: unknown command '" << argv[1] << "'\n";
    print_help(std::cerr);
    return 2;
  }
  for (int i = 2; i < argc; ++i)
    if (!std::strcmp(argv[i], "--help") || !std::strcmp(argv[i], "-h")) {
      std::cout << "usage: " << it->second.usage << "\n" << it->second.summary << "\n";
      return 0;
    }
  try {
    return it->second.run(argc, argv);
  } catch (const quarry::cli::CommandLineError& e) {
    std::cerr << "quarry: error: " << e.what() << "\nusage: " << it->second.usage << "\n";
    return 2;
  } catch (const quarry::StoreFailure& e) {  // the store failed in use: disk full, deleted...
    std::cerr << "quarry: error: " << e.what() << "\n";
    return 4;
  } catch (const quarry::Error& e) {  // a study file, a store or an option is wrong
    std::cerr << "quarry: error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "quarry: internal error: " << e.what() << "\n";
    return 1;
  }
}
