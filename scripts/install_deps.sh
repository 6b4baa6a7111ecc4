#!/usr/bin/env bash
# The single list of Debian packages llamba builds and tests with (docs/architecture.md §"Dependencies").
# Safe to re-run.
set -euo pipefail
pkgs=(
  build-essential cmake pkg-config git xz-utils ca-certificates python3 python3-dev python3-pip python3-venv
  libgtest-dev libgmock-dev libbenchmark-dev
  nlohmann-json3-dev libcli11-dev libcpp-httplib-dev libfmt-dev libpcre2-dev libhwy-dev liblzma-dev zlib1g-dev
  pybind11-dev libopenblas-dev
  chromium  # the server's chat page is tested in headless Chromium
  clang libclang-rt-14-dev ninja-build  # the libFuzzer harnesses (scripts/fuzz.sh)
)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install_deps: all ${#pkgs[@]} packages present"
  exit 0
fi
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "install_deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
