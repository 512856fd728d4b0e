// write_file_durably / replace_durably (quarry/core/durable_file.hpp): the target holds the new
// bytes whole, no temporary file is left behind, and a failure is a StoreFailure naming the target.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <filesystem>
#include <string>

#include "quarry/core/durable_file.hpp"
#include "quarry/core/error.hpp"
#include "tests/test_util.hpp"

namespace quarry {
namespace {

using testing::error_of;
using ::testing::HasSubstr;
using testing::read_text;
using testing::TempDir;
using testing::write_text;

TEST(DurableFileTest, WritesAndReplacesWithoutLeavingTheTemporaryFile) {
  TempDir dir;
  const auto target = dir.path() / "model.pt";
  write_file_durably(target, "first");
  EXPECT_EQ(read_text(target), "first");
  write_file_durably(target, std::string(100000, 'x'));
  EXPECT_EQ(read_text(target), std::string(100000, 'x'));
  EXPECT_FALSE(std::filesystem::exists(temporary_path(target)));
  EXPECT_EQ(temporary_path(target), dir.path() / "model.pt.tmp");
}

TEST(DurableFileTest, ReplaceRenamesTheTemporaryFileOverTheTarget) {
  TempDir dir;
  const auto target = dir.path() / "weights";
  write_text(target, "old");
  write_text(temporary_path(target), "new");
  replace_durably(temporary_path(target), target);
  EXPECT_EQ(read_text(target), "new");
  EXPECT_FALSE(std::filesystem::exists(temporary_path(target)));
}

TEST(DurableFileTest, AFailureIsAStoreFailureNamingTheTarget) {
  TempDir dir;
  const auto target = dir.path() / "gone" / "model.pt";  // its folder does not exist
  EXPECT_EQ(error_of<StoreFailure>([&] { write_file_durably(target, "x"); }),
            "cannot write '" + target.string() + "': No such file or directory");
  EXPECT_THAT(error_of<StoreFailure>([&] { replace_durably(dir.path() / "none", target); }),
              HasSubstr("cannot write '" + target.string() + "'"));
  write_text(dir.path() / "left", "x");
  EXPECT_THAT(error_of<StoreFailure>([&] { replace_durably(dir.path() / "left", target); }),
              HasSubstr("No such file or directory"));
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "left")) << "the temporary file is removed";
}

TEST(DurableFileTest, AFullDiskIsCalledSo) {
  // Writes to /dev/full fail with ENOSPC: the temporary name made a link to it is a full disk.
  TempDir dir;
  const auto target = dir.path() / "checkpoint.pt";
  std::filesystem::create_symlink("/dev/full", temporary_path(target));
  EXPECT_EQ(error_of<StoreFailure>([&] { write_file_durably(target, std::string(4096, 'x')); }),
            "cannot write '" + target.string() + "': No space left on device (disk full)");
  EXPECT_FALSE(std::filesystem::exists(target));
  EXPECT_EQ(io_error_message(ENOSPC), "No space left on device (disk full)");
  EXPECT_EQ(io_error_message(EDQUOT), "Disk quota exceeded (disk full)");
  EXPECT_EQ(io_error_message(EACCES), "Permission denied");
}

}  // namespace
}  // namespace quarry
