// A minimal PNG writer (8-bit RGB, deflated by zlib) for loss curves and benchmark plots. Written atomically.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace llamba::io {

// `rgb` holds height rows of width pixels, 3 bytes each.
void write_png(const std::string& path, int width, int height, const std::vector<uint8_t>& rgb);

}  // namespace llamba::io
