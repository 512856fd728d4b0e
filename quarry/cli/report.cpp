// `quarry report`: the study's charts in one self-contained HTML file (report/study_page.hpp).
#include <iostream>
#include <string>
#include <vector>

#include "quarry/cli/commands.hpp"
#include "quarry/cli/common.hpp"
#include "quarry/core/error.hpp"
#include "quarry/report/study_page.hpp"
#include "quarry/schedulers/hyperband.hpp"
#include "quarry/storage/storage.hpp"

namespace quarry::cli {

int report_command(int argc, char** argv) {
  // `-o FILE` is `--out FILE`.
  std::vector<std::string> words(argv, argv + argc);
  for (auto& w : words)
    if (w == "-o") w = "--out";
  std::vector<char*> pointers;
  for (auto& w : words) pointers.push_back(w.data());
  Args args(argc, pointers.data(), 2, {}, {"storage", "study", "out"});
  const auto ref = resolve_study(args, "report");
  Study study = open_existing(ref, true);
  report::StudyData data{
      .name = study.name(),
      .storage = storage::shown_url(ref.storage),
      .space = study.space(),
      .directions = study.directions(),
      .metrics = metric_names(study),
      .trials = study.trials(),
      .hyperband =
          study.storage().get_attr(study.id(), schedulers::kHyperbandStateAttr).value_or("")};
  const std::string html = report::study_report(data);
  const std::string path = args.get("out").value_or("report.html");
  write_output(path, [&](std::ostream& out) { out << html; });
  std::cout << "wrote " << path << " (" << data.trials.size() << " trials, "
            << (html.size() + 1023) / 1024 << " KiB); open it in a browser\n";
  return 0;
}

}  // namespace quarry::cli
