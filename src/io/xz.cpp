// xz decompression through liblzma's stream decoder, 64 KiB at a time.
#include "io/xz.h"

#include <lzma.h>

#include <fstream>
#include <sstream>
#include <vector>

#include "core/check.h"

namespace llamba::io {

namespace {
std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  LLAMBA_ENSURE(in.good(), "{}: cannot open the file", path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
}  // namespace

std::string read_xz_file(const std::string& path) {
  const std::string packed = slurp(path);
  lzma_stream s = LZMA_STREAM_INIT;
  LLAMBA_ENSURE(lzma_stream_decoder(&s, UINT64_MAX, LZMA_CONCATENATED) == LZMA_OK, "{}: cannot start the xz decoder",
                path);
  std::string out;
  std::vector<uint8_t> buf(1 << 16);
  s.next_in = reinterpret_cast<const uint8_t*>(packed.data());
  s.avail_in = packed.size();
  lzma_ret r = LZMA_OK;
  while (r == LZMA_OK) {
    s.next_out = buf.data();
    s.avail_out = buf.size();
    r = lzma_code(&s, s.avail_in == 0 ? LZMA_FINISH : LZMA_RUN);
    out.append(reinterpret_cast<const char*>(buf.data()), buf.size() - s.avail_out);
  }
  lzma_end(&s);
  LLAMBA_ENSURE(r == LZMA_STREAM_END, "{}: not a valid xz file (liblzma error {}){}", path, (int)r,
                r == LZMA_BUF_ERROR ? ": truncated" : "");
  return out;
}

std::string read_text_file(const std::string& path) {
  if (path.size() > 3 && path.compare(path.size() - 3, 3, ".xz") == 0) return read_xz_file(path);
  return slurp(path);
}

}  // namespace llamba::io
