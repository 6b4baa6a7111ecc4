#!/usr/bin/env bash
# Fresh machine to working engine: Debian packages, a Release build in build/, the default model in models/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$(nproc)"
scripts/get_model.sh
