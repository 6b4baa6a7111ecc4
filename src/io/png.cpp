// PNG: signature, IHDR, one IDAT (the rows, filter 0, deflated by zlib), IEND.
#include "io/png.h"

#include <zlib.h>

#include "core/check.h"
#include "io/atomic_file.h"

namespace llamba::io {

namespace {
void put_be32(std::vector<uint8_t>& out, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out.push_back((uint8_t)(v >> s));
}

void chunk(std::vector<uint8_t>& out, const char* type, const std::vector<uint8_t>& data) {
  put_be32(out, (uint32_t)data.size());
  std::vector<uint8_t> body(type, type + 4);
  body.insert(body.end(), data.begin(), data.end());
  out.insert(out.end(), body.begin(), body.end());
  put_be32(out, (uint32_t)::crc32(0, body.data(), (uInt)body.size()));
}
}  // namespace

void write_png(const std::string& path, int width, int height, const std::vector<uint8_t>& rgb) {
  LLAMBA_CHECK(width > 0 && height > 0 && rgb.size() == (size_t)width * height * 3, "png: bad image size");
  std::vector<uint8_t> raw;  // filter byte 0 + row
  raw.reserve((size_t)height * (width * 3 + 1));
  for (int y = 0; y < height; ++y) {
    raw.push_back(0);
    raw.insert(raw.end(), rgb.begin() + (size_t)y * width * 3, rgb.begin() + (size_t)(y + 1) * width * 3);
  }
  uLongf zn = compressBound((uLong)raw.size());
  std::vector<uint8_t> z(zn);
  LLAMBA_ENSURE(compress2(z.data(), &zn, raw.data(), (uLong)raw.size(), Z_BEST_COMPRESSION) == Z_OK,
                "{}: zlib could not compress the image", path);
  z.resize(zn);
  std::vector<uint8_t> png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  std::vector<uint8_t> ihdr;
  put_be32(ihdr, (uint32_t)width);
  put_be32(ihdr, (uint32_t)height);
  ihdr.insert(ihdr.end(), {8, 2, 0, 0, 0});  // 8-bit, RGB, deflate, no filter method, no interlace
  chunk(png, "IHDR", ihdr);
  chunk(png, "IDAT", z);
  chunk(png, "IEND", {});
  AtomicFile out(path);
  out.write(png.data(), png.size());
  out.commit();
}

}  // namespace llamba::io
