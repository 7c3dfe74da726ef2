#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Sets up a fresh Debian 12 machine, builds MMfree Studio and opens it on the embedded default model.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-debian.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
ninja -C build -j"$(nproc)"
if [ -x build/app/mmfree-studio ]; then
  exec build/app/mmfree-studio "$@"
fi
# Built without the app (MMFREE_APP=OFF): stream a continuation from the default model instead.
exec build/engine/mmfree run -p "${1:-It was a dark and stormy night}"
