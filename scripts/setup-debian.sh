#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs everything MMfree Studio needs to build and test (run as root or with sudo).
# Supported: Debian 12 (bookworm), the release CI proves from a minimal root on every landing;
# Ubuntu 24.04 (noble) carries the same package names. Each line below says what needs it.
set -euo pipefail
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
PACKAGES=(
  # toolchain
  build-essential cmake ninja-build pkg-config git ca-certificates
  # the app: Qt 6 Widgets, Charts (whose CMake config needs Qt6OpenGL), SQL, SVG, Linguist
  qt6-base-dev qt6-charts-dev libqt6opengl6-dev qt6-tools-dev qt6-tools-dev-tools qt6-l10n-tools
  libqt6sql6-sqlite libqt6svg6 libgl-dev
  # the engine: Vulkan (lavapipe runs every shader without a GPU), tokenizer, storage, JSON, HTTP
  libvulkan-dev glslc spirv-tools mesa-vulkan-drivers vulkan-tools
  libsentencepiece-dev sentencepiece libsqlite3-dev nlohmann-json3-dev libcpp-httplib-dev
  # the FPGA accelerator: simulation and synthesis estimates
  verilator iverilog yosys
  # tests: GUI under Xvfb, the .deb check, fuzzing (clang's libFuzzer), the scale-out proxy
  xvfb xauth lintian dpkg-dev file procps clang libfuzzer-14-dev libclang-rt-14-dev nginx
)
# The OpenAI SDK tests run on Node.js + npm. A machine that already has both (e.g. NodeSource's
# nodejs, which bundles npm and conflicts with Debian's npm package) keeps them.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  PACKAGES+=(nodejs npm)
fi
# Skip the network when everything is already there (CI re-runs, developer machines).
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: all Debian packages present"
fi
