// Placing a verified file into the archive, durably.
//
// Same filesystem: a hardlink, so no byte is copied and Syncthing's received
// folder stays clean (moving the file away would show up in Syncthing as a
// local deletion; a user pressing "Revert Local Changes" would download it
// all again). Across filesystems, or where the kernel refuses the link
// (fs.protected_hardlinks when we do not own the file): copy into a
// temporary file beside the destination, fsync, then link it into place.
// The destination directory is fsynced before returning, so once this
// returns the file survives a power cut.
#pragma once

#include <filesystem>
#include <set>
#include <string>

#include "lib/util/file_util.h"
#include "lib/util/sha256.h"
#include "lib/util/status.h"

namespace indafoto {

enum class PlaceMethod { kHardlink, kCopy };

// The temporary name used while copying to `dest`; crash recovery removes it.
std::filesystem::path TemporaryPathFor(const std::filesystem::path& dest);

// Both take `hashed`, the digest of `source` computed earlier, and fail
// (leaving nothing behind) when the bytes placed are not those of the file
// that was hashed: Syncthing replaces a file by renaming a new version over
// it, so a changed inode, size or mtime means the delivery changed between
// hash and place. A digest without an inode (0) is not checked.

// Creates `dest` (which must not exist) with the content of `source`.
// Creates missing parent directories. On failure nothing is left at `dest`.
// The new directory entries are durable on return, unless `synced_dirs` is
// given: then the directories that need an fsync for that (the
// destination's, and the parent of each directory created) are added to
// it, and the caller syncs them, once for a whole batch of placements.
Status PlaceFile(const std::filesystem::path& source, const std::filesystem::path& dest, const FileDigest& hashed,
                 PlaceMethod* used, std::set<std::filesystem::path>* synced_dirs = nullptr);

// Atomically replaces `dest` (which may exist, e.g. a corrupt copy) with the
// content of `source`, via TemporaryPathFor(dest) and rename.
Status ReplaceFile(const std::filesystem::path& source, const std::filesystem::path& dest, const FileDigest& hashed,
                   PlaceMethod* used);

}  // namespace indafoto
