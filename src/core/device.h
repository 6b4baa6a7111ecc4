// Where a buffer's bytes live. Every TensorView carries its device, so an op can refuse memory that its
// backend cannot touch (ops::Context dispatches on the device).
#pragma once

#include <string_view>

namespace llamba::core {

enum class Device { kCpu, kCuda };

constexpr std::string_view device_name(Device d) { return d == Device::kCpu ? "cpu" : "cuda"; }

}  // namespace llamba::core
