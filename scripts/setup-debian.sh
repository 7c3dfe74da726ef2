#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs everything MMfree Studio needs to build and test on Debian 12 (run as root or with sudo).
set -euo pipefail
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  qt6-base-dev qt6-charts-dev qt6-tools-dev qt6-tools-dev-tools qt6-l10n-tools libqt6sql6-sqlite libqt6svg6 libgl-dev
  libvulkan-dev glslc spirv-tools mesa-vulkan-drivers vulkan-tools
  libsentencepiece-dev sentencepiece libsqlite3-dev nlohmann-json3-dev
  verilator iverilog yosys
  xvfb xauth lintian dpkg-dev file
)
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
