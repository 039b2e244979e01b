#!/usr/bin/env bash
# Runs on the GPU machine, in the repo root, after bench/gpu/bundle.sh --gl built .carry/ and .gl/ here.
#   bench/gpu/run.sh [all|bench|probe|accuracy]     results and logs go to $OUT (default ./gpu-out)
set -u
OUT=${OUT:-$PWD/gpu-out}; mkdir -p "$OUT"
what=${1:-all}
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
export VK_DRIVER_FILES=${VK_DRIVER_FILES:-/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json}
mkdir -p /tmp/gpu-node && xz -dc .carry/node.xz > /tmp/gpu-node/node && chmod +x /tmp/gpu-node/node
export PATH=/tmp/gpu-node:$PATH
[ -f .carry/node_modules/webgpu/dist/linux-x64/dawn.node ] || xz -dk .carry/node_modules/webgpu/dist/linux-x64/dawn.node.xz
export BENCH_PYTHON=${BENCH_PYTHON:-$(command -v python3)}
LOG=$OUT/all.log
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm --format=csv | tee -a "$LOG"
node --version | tee -a "$LOG"
step() { echo "=== $* ($(date +%T))" | tee -a "$LOG"; timeout "${T:-240}" "$@" 2>&1 | grep -v '^Warning: ' | tee -a "$LOG"; }
if [ "$what" = all ] || [ "$what" = bench ]; then
  step node .carry/bench.mjs --backend webgpu --webgpu-tuning off --no-peer --out "$OUT/train-gpu-stock.json"
  step node .carry/bench.mjs --backend webgpu --webgpu-tuning on --out "$OUT/train-gpu-tuned.json"
  step node .carry/bench.mjs --backend webgpu --webgpu-tuning on --no-peer --out "$OUT/train-gpu-tuned2.json"
  TRAINING_WEBGPU_DAWN_TOGGLES=none step node .carry/bench.mjs --backend webgpu --webgpu-tuning on --no-peer --out "$OUT/train-gpu-tuned-notoggles.json"
fi
if [ "$what" = all ] || [ "$what" = accuracy ]; then
  step node .carry/accuracy.mjs --backend webgpu --data .carry/acc-data.json --out "$OUT/acc-webgpu.json"
fi
if [ "$what" = all ] || [ "$what" = probe ]; then
  step node .carry/probe.mjs --quick
fi
echo "=== done ($(date +%T))" | tee -a "$LOG"
