// Shape and view arithmetic.
#include "core/tensor.h"

#include <cstring>

namespace llamba::core {

Shape::Shape(std::initializer_list<int64_t> dims) {
  LLAMBA_CHECK(dims.size() <= (size_t)kMaxDims, "rank {} > {}", dims.size(), kMaxDims);
  for (int64_t v : dims) d_[rank_++] = v;
}

Shape Shape::from(std::span<const int64_t> dims) {
  LLAMBA_CHECK(dims.size() <= (size_t)kMaxDims, "rank {} > {}", dims.size(), kMaxDims);
  Shape s;
  for (int64_t v : dims) s.d_[s.rank_++] = v;
  return s;
}

int64_t Shape::numel() const {
  int64_t n = 1;
  for (int i = 0; i < rank_; ++i) n *= d_[i];
  return n;
}

bool Shape::operator==(const Shape& o) const {
  if (rank_ != o.rank_) return false;
  for (int i = 0; i < rank_; ++i)
    if (d_[i] != o.d_[i]) return false;
  return true;
}

std::string Shape::str() const {
  std::string s = "(";
  for (int i = 0; i < rank_; ++i) s += (i ? ", " : "") + std::to_string(d_[i]);
  return s + (rank_ == 1 ? ",)" : ")");
}

TensorView TensorView::contiguous(void* data, DType dtype, const Shape& shape) {
  TensorView v;
  v.data = data;
  v.dtype = dtype;
  v.shape = shape;
  int64_t st = 1;
  for (int i = shape.rank() - 1; i >= 0; --i) {
    v.strides[i] = st;
    st *= shape[i];
  }
  return v;
}

bool TensorView::is_contiguous() const {
  int64_t st = 1;
  for (int i = rank() - 1; i >= 0; --i) {
    if (shape[i] != 1 && strides[i] != st) return false;
    st *= shape[i];
  }
  return true;
}

int64_t TensorView::nbytes() const {
  LLAMBA_CHECK(is_contiguous(), "nbytes of a non-contiguous view");
  return dtype_bytes(dtype, numel());
}

uint8_t* TensorView::byte_ptr(int64_t off) const {
  const DTypeInfo& i = dtype_info(dtype);
  LLAMBA_DCHECK(off % i.block_size == 0);
  return static_cast<uint8_t*>(data) + off / i.block_size * i.block_bytes;
}

TensorView TensorView::slice(int dim, int64_t begin, int64_t end) const {
  const int d = dim < 0 ? dim + rank() : dim;
  LLAMBA_CHECK(d >= 0 && d < rank() && 0 <= begin && begin <= end && end <= shape[d],
               "slice dim {} [{}, {}) of {}", dim, begin, end, shape.str());
  TensorView v = *this;
  v.data = byte_ptr(begin * strides[d]);
  v.shape[d] = end - begin;
  return v;
}

TensorView TensorView::select(int dim, int64_t i) const {
  const int d = dim < 0 ? dim + rank() : dim;
  LLAMBA_CHECK(d >= 0 && d < rank() && 0 <= i && i < shape[d], "select dim {} index {} of {}", dim, i,
               shape.str());
  TensorView v;
  v.data = byte_ptr(i * strides[d]);
  v.dtype = dtype;
  v.device = device;
  std::array<int64_t, kMaxDims> dims{};  // no heap: views are taken in every decode step
  int k = 0;
  for (int j = 0; j < rank(); ++j) {
    if (j == d) continue;
    dims[k] = shape[j];
    v.strides[k++] = strides[j];
  }
  v.shape = Shape::from(std::span<const int64_t>(dims.data(), k));
  return v;
}

TensorView TensorView::reshape(const Shape& s) const {
  LLAMBA_CHECK(is_contiguous(), "reshape of a non-contiguous view {}", shape.str());
  LLAMBA_CHECK(s.numel() == numel(), "reshape {} -> {}", shape.str(), s.str());
  TensorView v = contiguous(data, dtype, s);
  v.device = device;
  return v;
}

Tensor Tensor::zeros(DType dtype, const Shape& shape) {
  auto buf = Buffer::allocate((size_t)dtype_bytes(dtype, shape.numel()));
  return Tensor(buf, TensorView::contiguous(buf->data(), dtype, shape));
}

Tensor Tensor::from_f32(const Shape& shape, std::span<const float> values) {
  LLAMBA_CHECK((int64_t)values.size() == shape.numel(), "{} values for shape {}", values.size(), shape.str());
  Tensor t = zeros(DType::kF32, shape);
  if (!values.empty()) std::memcpy(t.f32(), values.data(), values.size() * sizeof(float));
  return t;
}

Tensor Tensor::copy_of(const TensorView& v) {
  LLAMBA_ENSURE(v.device == Device::kCpu, "copy_of a tensor {} on {}: copy it to the host first (ops/cuda/cuda.h)",
                v.shape.str(), device_name(v.device));
  Tensor t = zeros(v.dtype, v.shape);
  if (v.is_contiguous()) {
    if (v.numel() > 0) std::memcpy(t.view().data, v.data, (size_t)v.nbytes());
    return t;
  }
  LLAMBA_CHECK(!dtype_info(v.dtype).is_quantized, "copy of a strided quantized view");
  const int64_t es = dtype_info(v.dtype).block_bytes;
  const int r = v.rank();
  std::array<int64_t, kMaxDims> idx{};
  uint8_t* dst = static_cast<uint8_t*>(t.view().data);
  for (int64_t n = 0; n < v.numel(); ++n) {
    int64_t off = 0;
    for (int j = 0; j < r; ++j) off += idx[j] * v.strides[j];
    std::memcpy(dst + n * es, static_cast<uint8_t*>(v.data) + off * es, (size_t)es);
    for (int j = r - 1; j >= 0; --j) {
      if (++idx[j] < v.shape[j]) break;
      idx[j] = 0;
    }
  }
  return t;
}

TensorView view_f32(std::span<float> data, const Shape& shape) {
  LLAMBA_ENSURE((int64_t)data.size() == shape.numel(), "a buffer of {} floats cannot be viewed as {}", data.size(),
                shape.str());
  return TensorView::contiguous(data.data(), DType::kF32, shape);
}

}  // namespace llamba::core
