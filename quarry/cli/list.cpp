// `quarry list`: the samplers, schedulers, pruners and built-in functions a study file can name.
#include <iostream>

#include "quarry/cli/args.hpp"
#include "quarry/cli/commands.hpp"
#include "quarry/objectives/functions.hpp"
#include "quarry/pruners/registry.hpp"
#include "quarry/samplers/registry.hpp"
#include "quarry/schedulers/registry.hpp"

namespace quarry::cli {

namespace {

template <typename Entries>
void print_entries(const char* title, const char* key, const Entries& entries) {
  std::cout << title << " (" << key << "):\n";
  for (const auto& e : entries)
    std::cout << "  " << e.name << std::string(e.name.size() < 12 ? 12 - e.name.size() : 1, ' ')
              << e.description << "\n";
}

}  // namespace

int list_command(int argc, char** argv) {
  Args args(argc, argv, 2, {}, {});
  if (!args.positionals().empty())
    throw CommandLineError("list: takes no arguments, got '" + args.positionals()[0] + "'");
  print_entries("samplers", "sampler:", samplers::sampler_registry());
  print_entries("\nschedulers", "scheduler:", schedulers::scheduler_registry());
  print_entries("\npruners", "pruner:", pruners::pruner_registry());
  print_entries("\nbuilt-in objectives", "function:", objectives::known_functions());
  return 0;
}

}  // namespace quarry::cli
