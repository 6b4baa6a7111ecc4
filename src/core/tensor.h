// Shapes, non-owning tensor views (PyTorch dimension order, strides in elements) and owning tensors.
// GGUF's reversed dimension order never appears here: io/gguf converts once.
// Block-quantized views keep element strides that are multiples of the block size along rows.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/buffer.h"
#include "core/check.h"
#include "core/device.h"
#include "core/dtype.h"

namespace llamba::core {

constexpr int kMaxDims = 6;

class Shape {
 public:
  Shape() = default;
  Shape(std::initializer_list<int64_t> dims);
  static Shape from(std::span<const int64_t> dims);

  int rank() const { return rank_; }
  // Negative indices count from the end, as in PyTorch.
  int64_t operator[](int i) const { return d_[norm(i)]; }
  int64_t& operator[](int i) { return d_[norm(i)]; }
  int64_t numel() const;
  std::vector<int64_t> vec() const { return {d_.begin(), d_.begin() + rank_}; }
  bool operator==(const Shape& o) const;
  bool operator!=(const Shape& o) const { return !(*this == o); }
  std::string str() const;  // "(2, 3, 4)"

 private:
  int norm(int i) const {
    const int j = i < 0 ? i + rank_ : i;
    LLAMBA_CHECK(j >= 0 && j < rank_, "dim {} out of range for rank {}", i, rank_);
    return j;
  }
  std::array<int64_t, kMaxDims> d_{};
  int rank_ = 0;
};

struct TensorView {
  void* data = nullptr;
  DType dtype = DType::kF32;
  Shape shape;
  std::array<int64_t, kMaxDims> strides{};  // elements
  Device device = Device::kCpu;              // where `data` points; views of a view keep it

  static TensorView contiguous(void* data, DType dtype, const Shape& shape);

  int rank() const { return shape.rank(); }
  int64_t numel() const { return shape.numel(); }
  int64_t size(int i) const { return shape[i]; }
  bool is_contiguous() const;
  int64_t nbytes() const;  // requires a contiguous view

  // Byte address of the element at linear element offset `off` (block aligned for quantized types).
  uint8_t* byte_ptr(int64_t off) const;
  template <class T>
  T* as() const {
    return static_cast<T*>(data);
  }
  float* f32() const {
    LLAMBA_CHECK(dtype == DType::kF32, "expected f32, got {}", dtype_name(dtype));
    return static_cast<float*>(data);
  }
  double* f64() const {
    LLAMBA_CHECK(dtype == DType::kF64, "expected f64, got {}", dtype_name(dtype));
    return static_cast<double*>(data);
  }

  // Narrows dimension `dim` to [begin, end).
  TensorView slice(int dim, int64_t begin, int64_t end) const;
  // Indexes dimension `dim` at `i`, removing it.
  TensorView select(int dim, int64_t i) const;
  // Reinterprets a contiguous view with another shape of the same size.
  TensorView reshape(const Shape& s) const;
};

// An owning tensor: a buffer plus a view into it. Copying shares the buffer (like torch.Tensor).
class Tensor {
 public:
  Tensor() = default;
  Tensor(std::shared_ptr<Buffer> buf, TensorView view) : buf_(std::move(buf)), view_(view) {}

  // Zero-filled contiguous tensor.
  static Tensor zeros(DType dtype, const Shape& shape);
  static Tensor from_f32(const Shape& shape, std::span<const float> values);
  // A contiguous host copy of any dense host view (quantized views must be contiguous). Device memory is copied by
  // its backend (ops/cuda/cuda.h); a device view throws llamba::Error here.
  static Tensor copy_of(const TensorView& v);

  const TensorView& view() const { return view_; }
  operator const TensorView&() const { return view_; }
  const Shape& shape() const { return view_.shape; }
  DType dtype() const { return view_.dtype; }
  int64_t numel() const { return view_.numel(); }
  bool empty() const { return buf_ == nullptr; }
  float* f32() const { return view_.f32(); }
  double* f64() const { return view_.f64(); }
  const std::shared_ptr<Buffer>& buffer() const { return buf_; }

 private:
  std::shared_ptr<Buffer> buf_;
  TensorView view_;
};

// A contiguous f32 view of host memory `data` shaped `shape`; throws llamba::Error unless the sizes agree.
TensorView view_f32(std::span<float> data, const Shape& shape);

}  // namespace llamba::core
