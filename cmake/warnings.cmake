# Compiler warnings and code generation flags shared by every llamba target.
add_library(llamba_flags INTERFACE)
target_compile_options(llamba_flags INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wno-unused-parameter -Wno-sign-compare>)
if(LLAMBA_WERROR)
  target_compile_options(llamba_flags INTERFACE $<$<COMPILE_LANGUAGE:CXX>:-Werror>)
endif()
if(LLAMBA_NATIVE)
  target_compile_options(llamba_flags INTERFACE $<$<COMPILE_LANGUAGE:CXX>:-march=native>)
  # -march=native already picks the target; Debian's Highway 1.0 cannot put every native baseline (AVX-512 on
  # Zen 4/5, for example) among its dynamic targets and stops with "best baseline should be included".
  target_compile_definitions(llamba_flags INTERFACE HWY_COMPILE_ONLY_STATIC)
endif()
# Keep float arithmetic IEEE: no -ffast-math anywhere, and no contraction into FMA outside the SIMD
# kernels, so the fp32 reference path rounds the same way on every machine.
target_compile_options(llamba_flags INTERFACE $<$<COMPILE_LANGUAGE:CXX>:-ffp-contract=off>)
target_compile_definitions(llamba_flags INTERFACE LLAMBA_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
