# CUDA architectures. Default 90 (H200); each other architecture multiplies build time on 2-core machines,
# so add one only with its reason here.
if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
  set(CMAKE_CUDA_ARCHITECTURES 90)
endif()
enable_language(CUDA)
find_package(CUDAToolkit REQUIRED)
