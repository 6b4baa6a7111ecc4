// Reading whole files that may be xz-compressed (liblzma): evaluation sets such as BLiMP ship as .jsonl.xz.
#pragma once

#include <string>

namespace llamba::io {

// The decompressed contents of an .xz file; throws llamba::Error naming the file when it is missing or corrupt.
std::string read_xz_file(const std::string& path);
// The file's contents, decompressed when its name ends in ".xz".
std::string read_text_file(const std::string& path);

}  // namespace llamba::io
