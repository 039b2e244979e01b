#!/usr/bin/env bash
# Builds the folder that travels to a GPU machine (.carry/, git-ignored) reproducibly from this checkout:
#   .carry/node.xz                       this machine's node binary (xz), unpacked there with `xz -dk`
#   .carry/bench.mjs probe.mjs accuracy.mjs   esbuild bundles of bench/train.bench.ts, bench/gpu/probe.ts,
#                                        bench/gpu/accuracy.ts (everything but the native `webgpu` package inlined)
#   .carry/node_modules/webgpu/          index.js + package.json + dist/linux-x64/dawn.node.xz (Dawn for Node)
#   .carry/acc-data.json                 Iris + 4000 MNIST digits for accuracy.mjs (bench/gpu/make-data.mjs)
#   .carry/bench-prof.mjs                the bench unminified, for CPU profiles (run.sh cpuprof)
#   .carry/run.sh                        a copy of bench/gpu/run.sh (run it as `bash .carry/run.sh all`)
# and, with --gl, the Vulkan/GL loader .debs into .gl/ (see the device README; needs apt-get here).
# Usage: bench/gpu/bundle.sh [--gl]          then see bench/gpu/README for the command to run there.
set -euo pipefail
cd "$(dirname "$0")/../.."
C=.carry
rm -rf "$C/node_modules" "$C"/*.mjs
mkdir -p "$C/node_modules/webgpu/dist/linux-x64"

# Keep external: the native Dawn package (loaded from .carry/node_modules) and tfjs-node(-gpu), which
# backend.ts imports optionally and which are not installed here.
# CommonJS parts of tfjs (the wasm backend's emscripten glue) use require/__dirname: provide them in the ESM bundle.
BANNER="import { createRequire as __cr } from 'node:module'; import { dirname as __dn } from 'node:path'; "
BANNER+="import { fileURLToPath as __fu } from 'node:url'; const require = __cr(import.meta.url); "
BANNER+="const __filename = __fu(import.meta.url); const __dirname = __dn(__filename);"
for pair in bench:bench/train.bench.ts probe:bench/gpu/probe.ts accuracy:bench/gpu/accuracy.ts; do
  name=${pair%%:*}; src=${pair#*:}
  npx esbuild "$src" --bundle --platform=node --format=esm --target=node20 --minify --keep-names --log-level=warning \
    --external:webgpu --external:@tensorflow/tfjs-node --external:@tensorflow/tfjs-node-gpu \
    --banner:js="$BANNER" --outfile="$C/$name.mjs"
done

# Unminified bench for CPU profiles (run.sh cpuprof): readable function names in the .cpuprofile.
npx esbuild bench/train.bench.ts --bundle --platform=node --format=esm --target=node20 --log-level=warning \
  --external:webgpu --external:@tensorflow/tfjs-node --external:@tensorflow/tfjs-node-gpu \
  --banner:js="$BANNER" --outfile="$C/bench-prof.mjs"

W=node_modules/webgpu
cp "$W/index.js" "$W/package.json" "$C/node_modules/webgpu/"
xz -T0 -6 -c "$W/dist/linux-x64/dawn.node" > "$C/node_modules/webgpu/dist/linux-x64/dawn.node.xz"

[ -f "$C/node.xz" ] && [ "$(cat "$C/node.version" 2>/dev/null)" = "$(node --version)" ] || {
  xz -T0 -6 -c "$(command -v node)" > "$C/node.xz"; node --version > "$C/node.version"; }

node bench/gpu/make-data.mjs "$C/acc-data.json" 400
# run.sh travels inside .carry too: a helper's device call sends the session's own checkout, where only the
# carried (ignored) folders are this branch's; the bundles above hold all of its code but bench/torch_peer.py.
cp bench/gpu/run.sh "$C/run.sh"

if [ "${1:-}" = "--gl" ] && [ ! -d .gl ]; then
  grep -qx '/.gl/' .git/info/exclude 2>/dev/null || grep -qx '/.gl/' .gitignore || echo /.gl/ >> .git/info/exclude
  mkdir -p .gl /tmp/amd64/partial
  o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
  apt-get $o update -qq
  (cd .gl && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
fi
du -sh "$C" .gl 2>/dev/null || true
