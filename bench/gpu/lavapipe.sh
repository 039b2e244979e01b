#!/usr/bin/env bash
# Puts lavapipe (Mesa's Vulkan driver on the CPU) into .lavapipe/ (git-ignored), so that Dawn (npm `webgpu`) finds
# a WebGPU adapter on machines without a GPU and the webgpu kernel tests (libs/pure/training/webgpu-kernels.spec.ts)
# run instead of skipping. Touches nothing outside the repository: the driver is unpacked from the .deb, and the
# spec points VK_DRIVER_FILES at .lavapipe/lvp_icd.json.
#
# Why not `apt-get install mesa-vulkan-drivers`: Debian 12's lavapipe (Mesa 22.3) lacks
# shaderUniform*ArrayDynamicIndexing, which Dawn requires ("Vulkan shaderUniform*ArrayDynamicIndexing required"), so
# Dawn finds no adapter with it. The bookworm-backports build (Mesa 25.0) works; it needs the Vulkan loader
# (libvulkan1) and LLVM 15 (libllvm15), both from Debian 12 itself.
set -euo pipefail
cd "$(dirname "$0")/../.."
DEST=.lavapipe
VERSION='25.0.7-2~bpo12+1'
SHA256=3899f1800424c60a05df5d6913076a526ca8fdbabec43672cd397563d1ca3263
[ -f "$DEST/lvp_icd.json" ] && [ "$(cat "$DEST/version" 2>/dev/null)" = "$VERSION" ] && exit 0
[ "$(uname -m)" = x86_64 ] || { echo "lavapipe.sh: x86_64 only" >&2; exit 1; }
if ! ldconfig -p | grep -q 'libvulkan.so.1 ' || ! ldconfig -p | grep -q 'libLLVM-15.so.1 '; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get install -y -qq libvulkan1 libllvm15 >/dev/null
  else
    echo "lavapipe.sh: needs libvulkan1 and libllvm15 installed" >&2; exit 1
  fi
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The .deb comes through apt-get from this machine's own Debian mirror (its sources list, read below), with the
# backports suite added for this one download in a private list and state folder: nothing system-wide changes.
uri=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
[ -n "$uri" ] || uri=$(awk '$1 == "deb" { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)
[ -n "$uri" ] || { echo "lavapipe.sh: no Debian mirror configured" >&2; exit 1; }
chmod 755 "$tmp"; mkdir -p "$tmp/lists/partial"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri bookworm-backports main" \
  > "$tmp/backports.list"
apt_private=(-o Dir::Etc::sourcelist="$tmp/backports.list" -o Dir::Etc::sourceparts=- -o Dir::State::Lists="$tmp/lists")
apt-get "${apt_private[@]}" -qq update >/dev/null
(cd "$tmp" && apt-get "${apt_private[@]}" -qq download "mesa-vulkan-drivers=$VERSION" >/dev/null)
mv "$tmp"/mesa-vulkan-drivers_*.deb "$tmp/mesa.deb"
echo "$SHA256  $tmp/mesa.deb" | sha256sum -c --quiet
dpkg-deb -x "$tmp/mesa.deb" "$tmp/root"
rm -rf "$DEST" && mkdir -p "$DEST"
cp "$tmp/root/usr/lib/x86_64-linux-gnu/libvulkan_lvp.so" "$DEST/"
printf '{ "file_format_version": "1.0.0", "ICD": { "library_path": "%s", "api_version": "1.4.305" } }\n' \
  "$PWD/$DEST/libvulkan_lvp.so" > "$DEST/lvp_icd.json"
echo "$VERSION" > "$DEST/version"
echo "lavapipe: $DEST/lvp_icd.json"
