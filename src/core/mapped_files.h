// Read-only file mappings that another process truncates: touching a page past the file's new end raises SIGBUS,
// which would kill the process without a word. Buffer::map_file registers every mapping here; a SIGBUS handler
// (installed with the first registration) looks the faulting address up and, when it lies in a registered mapping,
// writes "llamba: error: <path>: file was truncated while mapped (...)" to stderr and exits with
// kExitMappedFileTruncated. A SIGBUS anywhere else gets the action that was installed before ours (the default
// kills the process, a sanitizer's reports), as if we had never been there. docs/reliability.md §"Files that
// shrink while mapped" says what this cannot do (the process still ends: a signal handler cannot unwind into the
// code that read the page).
// Thread safety: register/unregister from any thread; the handler reads the registry without locks.
#pragma once

#include <cstddef>
#include <string>

namespace llamba::core {

// sysexits.h's EX_IOERR: "an error occurred while doing I/O on some file".
constexpr int kExitMappedFileTruncated = 74;

// Remembers [data, data + size) as a mapping of `path`. Returns false when the registry is full (the mapping then
// works unprotected, as before). Long paths are kept by their end (the file name).
bool register_mapping(const void* data, size_t size, const std::string& path);
// Forgets the mapping that starts at `data` (before it is unmapped); no-op if it was never registered.
void unregister_mapping(const void* data);

}  // namespace llamba::core
