# The CUDA layer (-DLLAMBA_CUDA=ON): nvcc for sm_90 (H100/H200). Each other architecture multiplies build time on
# 2-core machines, so add one only with its reason here.
if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
  set(CMAKE_CUDA_ARCHITECTURES 90)
endif()
if(NOT DEFINED CMAKE_CUDA_HOST_COMPILER)
  set(CMAKE_CUDA_HOST_COMPILER ${CMAKE_CXX_COMPILER})  # the same g++ as the rest of the tree
endif()
enable_language(CUDA)
# Device code is C++17: CMake 3.25 (Debian 12) knows no CUDA20 flags for nvcc. The .cu files include only
# kernels.h, dequant.cuh, common.cuh and core/dtype.h; the host entry points (.cpp) are C++20 like the tree.
set(CMAKE_CUDA_STANDARD 17)
set(CMAKE_CUDA_STANDARD_REQUIRED ON)
set(CMAKE_CUDA_EXTENSIONS OFF)
find_package(CUDAToolkit REQUIRED)
# Every target sees LLAMBA_WITH_CUDA: the op headers' dispatch (LLAMBA_DISPATCH_CUDA, ops/context.h) then reaches
# ops::cuda::X. Without it the headers compile exactly as in the CPU-only build.
target_compile_definitions(llamba_flags INTERFACE LLAMBA_WITH_CUDA=1)
# Device code rounds a·b + c twice, like the CPU ops (-ffp-contract=off in warnings.cmake), so elementwise kernels
# can match them bit for bit; kernels that want fused multiply-adds ask for them (fmaf, __fmaf_rn).
set(LLAMBA_CUDA_FLAGS --fmad=false -Xcompiler=-Wall)
