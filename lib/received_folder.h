// A received folder: the directory where Syncthing delivers one remote
// source's files. Knows which paths are deliveries of images and which are
// Syncthing's own files, and walks the folder without following symlinks.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "lib/status.h"

namespace indafoto {

// Folder (at the top of a received folder) holding the publisher's manifest.
inline constexpr std::string_view kManifestDir = ".indafoto-sync";

// Why `rel_path` is not an image delivery ("syncthing temporary file",
// "syncthing conflict copy", "manifest", ...), or "" when it is one.
std::string_view IgnoreReason(std::string_view rel_path);

// Resolves `rel_path` under `root` for reading, refusing a path that is not
// safe or that passes through a symlink anywhere below `root` (a received
// folder can hold symlinks; we never follow them). NotFound when absent.
Status ResolveReceivedFile(const std::filesystem::path& root, const std::string& rel_path,
                           std::filesystem::path* out);

// Calls `fn` with the relative path of every regular file under `root` that
// is an image delivery (IgnoreReason empty), in directory order. Symlinks
// are neither followed nor reported; Syncthing's and our own folders are
// skipped. Stops early when `fn` returns false.
Status WalkReceivedFolder(const std::filesystem::path& root,
                          const std::function<bool(const std::string& rel_path)>& fn);

}  // namespace indafoto
