// Small POSIX file helpers shared by the writers of durable files (placed
// images, manifest parts and index, the publisher key).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "lib/status.h"

namespace indafoto {

// Writes all of `data` to `fd`, retrying short writes and EINTR. `what`
// names the file in the error.
Status WriteAll(int fd, std::string_view data, const std::string& what);

// fsyncs a directory, making the creation, rename or removal of its entries
// durable.
Status FsyncDirectory(const std::filesystem::path& dir);

}  // namespace indafoto
