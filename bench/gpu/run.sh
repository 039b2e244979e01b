#!/usr/bin/env bash
# Runs on the GPU machine, in the repo root, after bench/gpu/bundle.sh --gl built .carry/ and .gl/ here.
#   bench/gpu/run.sh [all|bench|accuracy|timeline|probe|after|cpuprof|transformer]   (BATCHES='128 1024' by default)
#   results and logs go to $OUT (default ./gpu-out)
set -u
OUT=${OUT:-$PWD/gpu-out}; mkdir -p "$OUT"
what=${1:-all}
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
export VK_DRIVER_FILES=${VK_DRIVER_FILES:-/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json}
mkdir -p /tmp/gpu-node && xz -dc .carry/node.xz > /tmp/gpu-node/node && chmod +x /tmp/gpu-node/node
export PATH=/tmp/gpu-node:$PATH
DAWN=.carry/node_modules/webgpu/dist/linux-x64/dawn.node
[ -f "$DAWN" ] || xz -dk "$DAWN.xz"
export BENCH_PYTHON=${BENCH_PYTHON:-$(command -v python3)}
LOG=$OUT/all.log
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm --format=csv | tee -a "$LOG"
node --version | tee -a "$LOG"
step() {
  echo "=== $* ($(date +%T))" | tee -a "$LOG"
  timeout "${T:-240}" "$@" 2>&1 | grep -v '^Warning: ' | tee -a "$LOG"
}
B=${BATCHES:-128 1024}
if [ "$what" = all ] || [ "$what" = bench ]; then
  # After: tuned + the replacement kernels (webgpu-kernels.ts); before: the tuned engine without them; both with the
  # PyTorch CUDA peer, at the two batch sizes. Most important first (the device time is short).
  for b in $B; do
    step node .carry/bench.mjs --backend webgpu --rounds "${ROUNDS:-2}" --batch "$b" \
      --out "$OUT/train-gpu-kernels-b$b.json"
  done
  for b in $B; do
    TRAINING_WEBGPU_KERNELS=0 step node .carry/bench.mjs --backend webgpu --rounds 1 --batch "$b" \
      --out "$OUT/train-gpu-tuned-b$b.json"
  done
fi
if [ "$what" = all ] || [ "$what" = probe ] || [ "$what" = timeline ]; then
  # Per-kernel GPU timeline (timestamp queries) of the engine's step, without and with the replacement kernels.
  step node .carry/probe.mjs --timeline-only --quick
fi
if [ "$what" = all ] || [ "$what" = accuracy ]; then
  step node .carry/accuracy.mjs --backend webgpu --data .carry/acc-data.json --out "$OUT/acc-webgpu.json"
fi
if [ "$what" = all ] || [ "$what" = bench ]; then
  # Stock tfjs-backend-webgpu + Dawn defaults, no peer (the slow part).
  for b in $B; do
    step node .carry/bench.mjs --backend webgpu --webgpu-tuning off --no-peer --rounds 1 --batch "$b" \
      --out "$OUT/train-gpu-stock-b$b.json"
  done
fi
if [ "$what" = after ]; then
  # A second, shorter run: the kernels' bench with the peer, their timeline (and the one-tap-per-workgroup
  # Conv2DBackpropFilter of the first version for comparison), and the accuracy check.
  for b in $B; do
    step node .carry/bench.mjs --backend webgpu --rounds "${ROUNDS:-2}" --batch "$b" \
      --out "$OUT/train-gpu-kernels-b$b.json"
  done
  PROBE_TIMELINE_KERNELS=on step node .carry/probe.mjs --timeline-only --quick
  TRAINING_WEBGPU_CONV_FILTER=tap PROBE_TIMELINE_KERNELS=on PROBE_TIMELINE=cnn:128,cnn:1024 \
    step node .carry/probe.mjs --timeline-only --quick
  step node .carry/accuracy.mjs --backend webgpu --data .carry/acc-data.json --out "$OUT/acc-webgpu.json"
fi
if [ "$what" = cpuprof ]; then
  # Where the per-kernel overhead goes on the host: V8 CPU profiles of the engine's loop (MLP b128, CNN b1024).
  mkdir -p "$OUT/prof"
  step node --cpu-prof --cpu-prof-dir="$OUT/prof" --cpu-prof-name=mlp-b128.cpuprofile .carry/bench-prof.mjs \
    --backend webgpu --models mlp --batch 128 --samples 16384 --rounds 1 --no-peer --out /tmp/prof-mlp.json
  step node --cpu-prof --cpu-prof-dir="$OUT/prof" --cpu-prof-name=cnn-b1024.cpuprofile .carry/bench-prof.mjs \
    --backend webgpu --models cnn --batch 1024 --samples 16384 --rounds 1 --no-peer --out /tmp/prof-cnn.json
fi
if [ "$what" = transformer ]; then
  # The Transformer encoder of bench:train (layers branch) on webgpu with the CUDA peer, and its GPU timeline.
  step node .carry/bench.mjs --backend webgpu --models transformer --rounds "${ROUNDS:-2}" \
    --out "$OUT/train-gpu-transformer.json"
  PROBE_TIMELINE_KERNELS=on PROBE_TIMELINE=transformer:64,transformer:512 \
    step node .carry/probe.mjs --timeline-only --quick
fi
if [ "$what" = probe ]; then
  step node .carry/probe.mjs --quick
fi
echo "=== done ($(date +%T))" | tee -a "$LOG"
