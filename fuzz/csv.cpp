// The CSV readers on any text: data::detail::parse_document (records, header, field counts), then
// data::read_csv with the first byte choosing the target column and the delimiter. A Dataset has
// one row of features per target value, or the reader throws one error line.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz/fuzz_util.hpp"
#include "quarry/core/error.hpp"
#include "quarry/data/csv.hpp"
#include "quarry/data/csv_reader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const char delimiter = (data[0] & 1) != 0 ? ';' : ',';
  const std::size_t target = data[0] >> 1;
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  using quarry::data::detail::parse_document;
  quarry::fuzz::only_throws<quarry::Error>(
      [&] { parse_document(text, "/fuzz/table.csv", delimiter); });
  std::string target_name;
  quarry::fuzz::only_throws<quarry::Error>([&] {
    const auto document = parse_document(text, "/fuzz/table.csv", delimiter);
    target_name = document.header.at(target % document.header.size());
  });
  if (target_name.empty()) return 0;
  const quarry::fuzz::MemoryFile file(data + 1, size - 1);
  quarry::fuzz::only_throws<quarry::Error>([&] {
    const auto dataset =
        quarry::data::read_csv(file.path(), {.target = target_name, .delimiter = delimiter});
    if (dataset.y.size() * static_cast<std::size_t>(dataset.row_size()) != dataset.x.size())
      quarry::fuzz::finding("a dataset whose features and targets disagree");
  });
  return 0;
}
