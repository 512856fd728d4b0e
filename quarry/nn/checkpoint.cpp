// Model checkpoints and weights files (torch archives).
//
// A checkpoint holds four entries: "model" (what Module::save writes: one sub-archive per child
// module, its parameters and buffers by name), "optimizer" (Optimizer::save), "optimizer_kind"
// (to_string(OptimizerKind)) and "epochs_done" (an int64 scalar). A weights file is the "model"
// part alone, at the top level, so torch::load(net, path) reads it too. Files are written to
// "<path>.tmp", synced and renamed over `path` (durable_file.hpp): a crash leaves the previous file
// or the new one, never half of one. Loading checks every tensor's presence, shape and type before
// changing anything, and copies values into the existing tensors so the optimizer keeps pointing at
// the model's parameters.
#include <filesystem>
#include <sstream>
#include <utility>

#include "quarry/core/durable_file.hpp"
#include "quarry/core/error.hpp"
#include "quarry/nn/model.hpp"

namespace quarry::nn {
namespace {

using torch::serialize::InputArchive;
using torch::serialize::OutputArchive;

std::string first_line(const char* message) {
  std::string s(message);
  return s.substr(0, s.find('\n'));
}

std::string sizes_string(const torch::Tensor& t) {
  std::ostringstream out;
  out << t.sizes() << ' ' << t.dtype();
  return out.str();
}

/// The archive's bytes written durably (durable_file.hpp): a failure to write is the
/// environment's (StoreFailure: disk full, no permission), not the model's.
void write_atomically(OutputArchive& archive, const std::string& path, const std::string& who) {
  std::ostringstream bytes;
  try {
    archive.save_to(bytes);
  } catch (const c10::Error& e) {
    throw InvalidArgument(who + ": cannot write '" + path +
                          "': " + first_line(e.what_without_backtrace()));
  }
  try {
    write_file_durably(path, bytes.view());
  } catch (const StoreFailure& e) {
    throw StoreFailure(who + ": " + e.what());
  }
}

/// The tensor `name` ("0.weight") of the archive Module::save wrote.
bool read_tensor(InputArchive& archive, const std::string& name, torch::Tensor& out,
                 bool is_buffer) {
  const auto dot = name.find('.');
  if (dot == std::string::npos) return archive.try_read(name, out, is_buffer);
  InputArchive child;
  if (!archive.try_read(name.substr(0, dot), child)) return false;
  return read_tensor(child, name.substr(dot + 1), out, is_buffer);
}

/// Parameters and buffers in an archive Module::save wrote, counted through its sub-archives.
std::size_t count_tensors(InputArchive& archive) {
  std::size_t count = 0;
  for (const std::string& key : archive.keys()) {
    torch::Tensor tensor;
    InputArchive child;
    if (archive.try_read(key, tensor)) {
      ++count;
    } else if (archive.try_read(key, child)) {
      count += count_tensors(child);
    }
  }
  return count;
}

/// Pairs (model tensor, saved tensor) for every parameter and buffer of `net`; throws
/// InvalidArgument (prefixed by `where`) when one is missing or differs in shape or type.
std::vector<std::pair<torch::Tensor, torch::Tensor>> matched_state(torch::nn::Module& net,
                                                                   InputArchive& archive,
                                                                   const std::string& where) {
  std::vector<std::pair<torch::Tensor, torch::Tensor>> pairs;
  const auto match = [&](const auto& named, bool is_buffer) {
    for (const auto& item : named) {
      torch::Tensor saved;
      if (!read_tensor(archive, item.key(), saved, is_buffer)) {
        throw InvalidArgument(where + ": the file has no '" + item.key() +
                              "'; it was saved from another model");
      }
      if (!saved.sizes().equals(item.value().sizes()) || saved.dtype() != item.value().dtype()) {
        throw InvalidArgument(where + ": '" + item.key() + "' is " + sizes_string(saved) +
                              " in the file but " + sizes_string(item.value()) + " in the model");
      }
      pairs.emplace_back(item.value(), saved);
    }
  };
  match(net.named_parameters(), false);
  match(net.named_buffers(), true);
  if (const std::size_t saved = count_tensors(archive); saved != pairs.size()) {
    throw InvalidArgument(where + ": the file holds " + std::to_string(saved) +
                          " tensors, the model " + std::to_string(pairs.size()) +
                          "; it was saved from another model");
  }
  return pairs;
}

void copy_state(const std::vector<std::pair<torch::Tensor, torch::Tensor>>& pairs) {
  torch::NoGradGuard no_grad;
  for (const auto& [model, saved] : pairs) model.copy_(saved);
}

/// Opens `path` as a torch archive; InvalidArgument naming it when it is missing or unreadable.
void open_archive(InputArchive& archive, const std::string& path, const std::string& who) {
  if (!std::filesystem::is_regular_file(path)) {
    throw InvalidArgument(who + ": '" + path + "' does not exist");
  }
  archive.load_from(path);
}

/// The checkpoint's optimizer must be of the model's kind (its state means nothing to another).
void check_optimizer_kind(InputArchive& archive, const std::string& kind,
                          const std::string& where) {
  c10::IValue saved;
  archive.read("optimizer_kind", saved);
  if (!saved.isString() || saved.toStringRef() != kind) {
    throw InvalidArgument(where + ": holds the state of an optimizer of kind " +
                          (saved.isString() ? saved.toStringRef() : "?") + ", the model's is " +
                          kind);
  }
}

}  // namespace

void Model::save_checkpoint(const std::string& path, std::int64_t epochs_done) {
  OutputArchive archive;
  OutputArchive model(archive.compilation_unit()), optimizer(archive.compilation_unit());
  compiled_.net->save(model);
  optimizer_->save(optimizer);
  archive.write("model", model);
  archive.write("optimizer", optimizer);
  archive.write("optimizer_kind", c10::IValue(to_string(compiled_.optimizer.kind)));
  archive.write("epochs_done", torch::tensor(epochs_done, torch::kInt64));
  write_atomically(archive, path, "Model::save_checkpoint");
}

std::int64_t Model::load_checkpoint(const std::string& path) {
  const std::string who = "Model::load_checkpoint";
  const std::string where = who + ": '" + path + "'";
  try {
    InputArchive archive, model, optimizer;
    open_archive(archive, path, who);
    archive.read("model", model);
    archive.read("optimizer", optimizer);
    torch::Tensor epochs;
    archive.read("epochs_done", epochs);
    check_optimizer_kind(archive, to_string(compiled_.optimizer.kind), where);
    const auto pairs = matched_state(*compiled_.net, model, where);
    // A fresh optimizer of the same kind reads the state first: a mismatch throws here, before
    // the model or the real optimizer changed.
    make_optimizer(compiled_.optimizer, compiled_.net->parameters())->load(optimizer);
    copy_state(pairs);
    optimizer_->load(optimizer);
    return epochs.item<std::int64_t>();
  } catch (const c10::Error& e) {
    throw InvalidArgument(
        where + " is not a checkpoint of this model: " + first_line(e.what_without_backtrace()));
  }
}

void Model::save_weights(const std::string& path) {
  OutputArchive archive;
  compiled_.net->save(archive);
  write_atomically(archive, path, "Model::save_weights");
}

void Model::load_weights(const std::string& path) {
  const std::string who = "Model::load_weights";
  const std::string where = who + ": '" + path + "'";
  try {
    InputArchive archive;
    open_archive(archive, path, who);
    copy_state(matched_state(*compiled_.net, archive, where));
  } catch (const c10::Error& e) {
    throw InvalidArgument(
        where + " is not a weights file of this model: " + first_line(e.what_without_backtrace()));
  }
}

}  // namespace quarry::nn
