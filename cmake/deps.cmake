# Every third-party dependency, found from Debian 12 packages. Nothing is downloaded at configure time.
# A missing package fails here with the apt package to install (scripts/install_deps.sh has the full list).
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)

macro(llamba_require found apt_pkg what)
  if(NOT ${found})
    message(FATAL_ERROR "llamba needs ${what}: install it with `apt-get install ${apt_pkg}` "
                        "(or run scripts/install_deps.sh)")
  endif()
endmacro()

find_package(fmt CONFIG QUIET)
llamba_require(fmt_FOUND libfmt-dev "fmt")
find_package(nlohmann_json CONFIG QUIET)
llamba_require(nlohmann_json_FOUND nlohmann-json3-dev "nlohmann-json")
find_package(CLI11 CONFIG QUIET)
llamba_require(CLI11_FOUND libcli11-dev "CLI11")
find_package(hwy CONFIG QUIET)
llamba_require(hwy_FOUND libhwy-dev "Highway")
pkg_check_modules(PCRE2 QUIET IMPORTED_TARGET libpcre2-8)
llamba_require(PCRE2_FOUND libpcre2-dev "PCRE2")

if(LLAMBA_BUILD_TESTS)
  find_package(GTest CONFIG QUIET)
  llamba_require(GTest_FOUND "libgtest-dev libgmock-dev" "GoogleTest")
  include(GoogleTest)
endif()
if(LLAMBA_BUILD_BENCH)
  find_package(benchmark CONFIG QUIET)
  if(NOT benchmark_FOUND)
    message(STATUS "Google Benchmark not found (apt-get install libbenchmark-dev): benchmarks are skipped")
  endif()
endif()
