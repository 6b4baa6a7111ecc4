#!/bin/bash
# Runs check_llamba_triton.py on every fixture, in parallel, in several Triton settings, on a CUDA machine:
#   tf32:     mamba_ssm as shipped (autotuned, tl.dot on fp32 inputs uses TF32)
#   det:      MAMBA_DETERMINISTIC=1 (no autotuning: cheapest config), TF32
#   ieee_det: MAMBA_DETERMINISTIC=1 and TRITON_F32_DEFAULT=ieee (fp32 dots)
#   ieee:     autotuned with fp32 dots (compiling every autotune config takes over 220 s per process on an H200)
# VARIANTS (default "tf32 det ieee_det") picks them.
# Layout expected beside this script: fixtures/<name>/ (copies of tests/fixtures/llamba/<name>) and
# mamba_src/mamba_ssm (the mamba_ssm-2.3.2.post1 sdist's package folder). Results: $OUT/triton_results.{json,txt},
# $OUT/logs.txt. Usage: OUT=dir bash run_llamba_triton_check.sh [per-process timeout seconds]
set -u
cd "$(dirname "$0")"
OUT=${OUT:-/tmp/llamba_triton_out}
LIMIT=${1:-220}
mkdir -p "$OUT" /tmp/llamba_res
export MAMBA_SSM_SRC=$PWD/mamba_src PYTHONUNBUFFERED=1
nvidia-smi -L
python3 -c "import torch, triton; print('torch', torch.__version__, 'triton', triton.__version__, torch.cuda.get_device_name(0))"
start=$(date +%s)
for fx in fixtures/*/; do
  n=$(basename "$fx")
  for v in ${VARIANTS:-tf32 det ieee_det}; do
    case $v in
      tf32) envs="" ;;
      det) envs="MAMBA_DETERMINISTIC=1" ;;
      ieee_det) envs="MAMBA_DETERMINISTIC=1 TRITON_F32_DEFAULT=ieee" ;;
      ieee) envs="TRITON_F32_DEFAULT=ieee" ;;
    esac
    env $envs TRITON_CACHE_DIR=/tmp/tc_${n}_$v timeout "$LIMIT" python3 check_llamba_triton.py --fixture "$fx" \
      --variant "$v" --json /tmp/llamba_res/$n.$v.json > /tmp/llamba_res/log.$n.$v 2>&1 &
  done
done
wait
echo "all done after $(( $(date +%s) - start )) s"
for f in /tmp/llamba_res/log.*; do echo "=== $f"; tail -c 3000 "$f"; done > "$OUT/logs.txt"
python3 check_llamba_triton.py --summarize /tmp/llamba_res --out "$OUT/triton_results.json"
