// Files that survive a crash or a power cut whole: written under a temporary name, synced to the
// disk, renamed over the target (rename is atomic on POSIX file systems), and the folder synced so
// that the rename itself is on the disk. A reader then sees the previous file or the new one,
// never half of one. Used for checkpoints, saved models and their descriptions.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace quarry {

/// The temporary name `target` is written under before replace_durably: "<target>.tmp".
std::filesystem::path temporary_path(const std::filesystem::path& target);

/// Flushes `file`'s content to the disk (fsync). Throws StoreFailure naming the file and the
/// system's reason ("No space left on device (disk full)") when it cannot.
void sync_file(const std::filesystem::path& file);

/// Syncs `temporary`, renames it over `target` and syncs `target`'s folder. Throws StoreFailure
/// naming `target` when any step fails; the temporary file is removed then.
void replace_durably(const std::filesystem::path& temporary, const std::filesystem::path& target);

/// Writes `bytes` to `target` durably (temporary_path, sync, rename). Throws StoreFailure naming
/// `target` when it cannot.
void write_file_durably(const std::filesystem::path& target, std::string_view bytes);

/// The system's message for `error`, with " (disk full)" after ENOSPC and EDQUOT.
std::string io_error_message(int error);

}  // namespace quarry
