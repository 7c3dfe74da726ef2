#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The .deb end to end: build it with CPack, check it with lintian, install it with dpkg, run the
# CLI on the bundled model and the app offscreen, remove and purge it, and check that nothing of
# it is left in the prefix while the user's data survives.
#   test_deb.sh BUILD_DIR
# Needs root and dpkg (it installs into /usr): CI runs as root on Debian 12. Elsewhere it fails
# with a message; leave it out with `ctest -LE installer`.
set -euo pipefail

BUILD=$(cd "${1:?usage: test_deb.sh BUILD_DIR}" && pwd)
PKG=mmfree-studio
# Installed, or removed with its configuration still registered: something for dpkg --purge.
registered() { dpkg-query -W -f='${Status}' "$PKG" 2>/dev/null | grep -qE 'ok installed|config-files|half'; }
step() { echo; echo "== $*"; }
fail() { echo "test_deb: FAIL: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || fail "installs a package with dpkg, so it must run as root (CI does); skip it with 'ctest -LE installer'"
for tool in cpack dpkg dpkg-deb dpkg-query dpkg-shlibdeps lintian timeout; do
  command -v "$tool" >/dev/null || fail "$tool is not installed (scripts/setup-debian.sh installs it)"
done
[ -f "$BUILD/CPackConfig.cmake" ] || fail "$BUILD/CPackConfig.cmake is missing: configure the build with installer/ present"

WORK=$(mktemp -d /tmp/mmfree-deb-test.XXXXXX)
cleanup() {
  local rc=$?
  if registered; then
    echo "test_deb: purging $PKG left installed by this test"
    dpkg --purge "$PKG" >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT

if registered; then
  echo "test_deb: $PKG is installed already (an earlier run?): purging it first"
  dpkg --purge "$PKG"
fi

step "cpack -G DEB"
(cd "$BUILD" && cpack -G DEB -B "$WORK/pkg") > "$WORK/cpack.log" 2>&1 || { cat "$WORK/cpack.log"; fail "cpack -G DEB failed"; }
DEB=$(ls "$WORK"/pkg/${PKG}_*.deb 2>/dev/null | head -n1)
[ -n "$DEB" ] || { cat "$WORK/cpack.log"; fail "cpack wrote no ${PKG}_*.deb"; }
echo "$DEB ($(du -h "$DEB" | cut -f1))"
dpkg-deb --field "$DEB" Package Version Architecture Depends Recommends Section Homepage

step "package contents"
dpkg-deb --contents "$DEB" | awk '{print $6}' | sed 's|^\./|/|' > "$WORK/contents"
for want in /usr/bin/mmfree /usr/bin/mmfree-studio /usr/share/mmfree/models/ \
            /usr/share/applications/mmfree-studio.desktop /usr/share/metainfo/io.mmfree.Studio.metainfo.xml \
            /usr/share/icons/hicolor/scalable/apps/mmfree-studio.svg /usr/share/icons/hicolor/256x256/apps/mmfree-studio.png \
            /usr/share/doc/$PKG/copyright /usr/share/doc/$PKG/changelog.gz /usr/share/man/man1/mmfree.1.gz; do
  grep -qxF "$want" "$WORK/contents" || fail "the package lacks $want"
done
grep -q '/usr/share/mmfree/models/.*\.gguf$' "$WORK/contents" || fail "the package lacks the demo model (.gguf)"
if grep -q '/mmfree/libmmfree-fpga\.so$' "$WORK/contents"; then echo "FPGA plugin: $(grep '/libmmfree-fpga\.so$' "$WORK/contents")"
else echo "note: no FPGA plugin in the package (built with MMFREE_FPGA=OFF)"; fi
depends=$(dpkg-deb --field "$DEB" Depends)
for dep in libqt6core6 libqt6widgets6 libqt6sql6-sqlite libqt6svg6 libsentencepiece0 libstdc++6 libc6; do
  grep -qE "(^|, )${dep//+/\\+}( |,|$)" <<<"$depends" || fail "Depends lacks $dep: $depends"
done

step "lintian"
# Errors fail the test; warnings and notes are shown.
lintian --fail-on error --display-info "$DEB" | tee "$WORK/lintian.log" || fail "lintian reports errors"
echo "lintian: $(grep -c '^E:' "$WORK/lintian.log" || true) errors, $(grep -c '^W:' "$WORK/lintian.log" || true) warnings"

step "relocatable: the unpacked tree under another prefix uses its own files"
dpkg-deb -x "$DEB" "$WORK/reloc"
info=$(env -u MMFREE_MODEL "$WORK/reloc/usr/bin/mmfree" info)
grep -q "^model: *$WORK/reloc/usr/share/mmfree/models/.*\.gguf" <<<"$info" || { echo "$info"; fail "the relocated mmfree did not pick the model next to it"; }
echo "$info" | head -n1

step "dpkg -i"
export DEBIAN_FRONTEND=noninteractive
if ! dpkg -i "$DEB"; then
  echo "test_deb: dpkg -i left dependencies unmet; trying apt-get -f install"
  apt-get -f install -y -qq || fail "the package's dependencies cannot be installed"
fi
dpkg-query -W -f='${Status}\n' "$PKG" | grep -q "install ok installed" || fail "$PKG is not installed after dpkg -i"
dpkg -L "$PKG" | sort > "$WORK/installed"
BIN=/usr/bin
[ "$(command -v mmfree)" = "$BIN/mmfree" ] || echo "note: mmfree on PATH is $(command -v mmfree), testing $BIN/mmfree"

step "mmfree --version"
"$BIN/mmfree" --version | tee "$WORK/version"
grep -qE '^mmfree [0-9]+\.[0-9]+' "$WORK/version" || fail "unexpected --version output"

step "mmfree run -p Hello -n 8 (the bundled model)"
(cd / && env -u MMFREE_MODEL timeout 120 "$BIN/mmfree" run -p "Hello" -n 8 --seed 1) > "$WORK/run.out" 2> "$WORK/run.err" \
  || { cat "$WORK/run.out" "$WORK/run.err"; fail "mmfree run failed"; }
cat "$WORK/run.out" "$WORK/run.err"
head -c 5 "$WORK/run.out" | grep -q '^Hello' || fail "mmfree run did not echo the prompt"
[ "$(wc -c < "$WORK/run.out")" -gt 7 ] || fail "mmfree run generated no text"
grep -qE '[1-9][0-9]* generated' "$WORK/run.err" || fail "mmfree run generated no tokens"

step "mmfree-studio offscreen for 5 s (separate HOME: user data goes to its XDG folders)"
HOMEDIR="$WORK/home"
mkdir -p "$HOMEDIR"
set +e
(cd / && env -u MMFREE_MODEL -u MMFREE_DATA_DIR -u XDG_DATA_HOME -u XDG_CONFIG_HOME HOME="$HOMEDIR" \
   QT_QPA_PLATFORM=offscreen timeout 5 "$BIN/mmfree-studio") > "$WORK/app.log" 2>&1
rc=$?
set -e
cat "$WORK/app.log"
[ $rc -eq 124 ] || fail "mmfree-studio exited with status $rc before the 5 s were up (124 = still running = good)"
grep -qiE 'driver not loaded|cannot load|could not load|failed to load' "$WORK/app.log" && fail "mmfree-studio could not load one of its parts (see above)"
DATA="$HOMEDIR/.local/share/MMfree/MMfree Studio"
[ -f "$DATA/conversations.sqlite" ] || { find "$HOMEDIR" | head -n 20; fail "no conversations database in $DATA (XDG data folder)"; }
echo "user data: $(cd "$HOMEDIR" && find . -type f | sort | tr '\n' ' ')"
echo "keep me" > "$DATA/user-file.txt"
mkdir -p "$HOMEDIR/.local/share/MMfree/MMfree Studio/models"
echo "downloaded" > "$HOMEDIR/.local/share/MMfree/MMfree Studio/models/downloaded.gguf"

step "dpkg -r, dpkg --purge"
dpkg -r "$PKG"
dpkg --purge "$PKG"
! registered || fail "$PKG is still registered with dpkg after dpkg --purge"
left=0
while IFS= read -r path; do
  [ -n "$path" ] && [ "$path" != "/." ] || continue
  if [ -d "$path" ] && [ ! -L "$path" ]; then
    # Shared folders (/usr/bin, /usr/share/icons/...) stay when other packages own them or hold files.
    if [ -z "$(ls -A "$path")" ] && ! dpkg -S "$path" >/dev/null 2>&1; then echo "left: empty folder $path"; left=1; fi
  elif [ -e "$path" ] || [ -L "$path" ]; then
    echo "left: $path"; left=1
  fi
done < "$WORK/installed"
for dir in /usr/share/mmfree /usr/share/doc/$PKG /usr/lib/mmfree /usr/lib/*/mmfree; do
  [ ! -e "$dir" ] || { echo "left: $dir"; left=1; }
done
[ $left -eq 0 ] || fail "files of $PKG are left in the prefix after removal"
echo "nothing of $PKG is left ($(wc -l < "$WORK/installed") paths checked)"
[ -f "$DATA/conversations.sqlite" ] && [ -f "$DATA/user-file.txt" ] && [ -f "$DATA/models/downloaded.gguf" ] \
  || fail "removing the package deleted user data in $DATA"
echo "user data in ~/.local/share survives removal"

echo; echo "test_deb: PASS"
