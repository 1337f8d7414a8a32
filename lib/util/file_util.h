// Small POSIX file helpers shared by the writers of durable files (placed
// images, manifest parts and index, the publisher key).
#pragma once

#include <filesystem>
#include <set>
#include <string>
#include <string_view>

#include "lib/util/status.h"
#include "lib/util/unique_fd.h"

namespace indafoto {

// Writes all of `data` to `fd`, retrying short writes and EINTR. `what`
// names the file in the error.
Status WriteAll(int fd, std::string_view data, const std::string& what);

// Opens `path` for reading without ever blocking or following a symlink in
// its last component, and only if it is a regular file: a FIFO, socket or
// device where a file is expected would otherwise hang open() or read()
// for ever (a FIFO blocks until a writer appears). The returned descriptor
// is blocking again. `what` names the file in errors ("manifest part",
// "local image", ...): NotFound when absent, Invalid for a symlink or a
// file that is not regular, else the errno's code.
// `dir_fd` (-1: none) makes `path` relative to that directory (openat).
Status OpenRegularFile(const std::filesystem::path& path, const std::string& what, UniqueFd* out,
                       int dir_fd = -1);

// OpenRegularFile, then reads the whole file when it is at most `limit`
// bytes (Invalid when larger).
Status ReadSmallRegularFile(const std::filesystem::path& path, const std::string& what, size_t limit,
                            std::string* out);

// Makes the directory entries created in `dirs` durable at the lowest
// cost: one fsync when there is one directory, else one syncfs(2) per
// filesystem they are on (measured: a batch of new images touches a
// directory per author, and one syncfs costs about what one fsync does,
// where 20 fsyncs cost 20 journal commits).
Status SyncDirectories(const std::set<std::filesystem::path>& dirs);

// fsyncs a directory, making the creation, rename or removal of its entries
// durable.
Status FsyncDirectory(const std::filesystem::path& dir);

}  // namespace indafoto
