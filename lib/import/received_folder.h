// A received folder: the directory where Syncthing delivers one remote
// source's files. Knows which paths are deliveries of images and which are
// Syncthing's own files, and walks the folder without following symlinks.
//
// Every entry of a received folder is one of three kinds:
//   - not a delivery (IgnoreReason): Syncthing's own files and folders, its
//     temporary files, our manifest. Never recorded.
//   - a delivery we cannot take as it is (RefusedReason, or found by
//     ResolveReceivedFile): an unsafe or over-long name, a Syncthing
//     conflict copy, a symlink, a FIFO, socket or device. Recorded as
//     `failed` with the reason, so nothing in a received folder is dropped
//     silently.
//   - an image delivery: hashed and imported.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "lib/catalog/manifest.h"  // kManifestDirName: the manifest at the top of a received folder
#include "lib/util/status.h"

namespace indafoto {

// Deliveries nested deeper than this many folders are refused (the
// crawler's layout has three); it also bounds the walk's open directories.
inline constexpr int kMaxDeliveryDepth = 32;

// Why `rel_path` is not a delivery at all ("syncthing temporary file",
// "manifest", ...), or "" when it is one.
std::string_view IgnoreReason(std::string_view rel_path);

// Why a delivery cannot be imported under this name ("syncthing conflict
// copy", "unsafe path: ...", "path longer than ..."), or "" when it can.
std::string RefusedReason(std::string_view rel_path);

// Resolves `rel_path` under `root` for reading, refusing a path that is not
// safe, that passes through a symlink anywhere below `root` (a received
// folder can hold symlinks; we never follow them) or that is not a regular
// file: Invalid with the reason. NotFound when absent.
Status ResolveReceivedFile(const std::filesystem::path& root, const std::string& rel_path,
                           std::filesystem::path* out);

// Calls `fn` with the relative path of every entry under `root` that is
// not a directory and not ignored (IgnoreReason empty): regular files, and
// also symlinks, FIFOs, sockets and devices, which the importer refuses and
// records. Never follows a symlink. Works with directory descriptors, so a
// path longer than PATH_MAX is still reported (and then refused). A folder
// deeper than kMaxDeliveryDepth is reported itself instead of entered. An
// unreadable subfolder does not stop the walk: the first such error is
// returned at the end. Stops early when `fn` returns false.
Status WalkReceivedFolder(const std::filesystem::path& root,
                          const std::function<bool(const std::string& rel_path)>& fn);

}  // namespace indafoto
