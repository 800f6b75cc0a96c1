#!/usr/bin/env bash
# The installed tree is what a user's program sees: `meson install --destdir` into a scratch folder, then
#  - every symbol libvae.so exports is public API (vae_*, never vae__*), and no installed header names a vae__ symbol;
#  - the README's C programs (the files it shows, which the README quotes verbatim) compile with
#    `pkg-config --cflags --libs vae` against that tree alone, and minimal_vae runs a few steps on it.
# Usage: test_install.sh BUILD_DIR SOURCE_ROOT CC
set -u
build=$1 src=$2 cc=$3
pass=0 fail=0
check() { if eval "$2"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1"; fi; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check "meson install --destdir" "meson install -C '$build' --destdir '$tmp/root' --no-rebuild --quiet >'$tmp/install.log' 2>&1 || { cat '$tmp/install.log'; false; }"
pc=$(find "$tmp/root" -name vae.pc | head -n 1)
check "vae.pc installed" "[ -n '$pc' ]"
prefix=$(sed -n 's/^prefix=//p' "$pc")
pcdir=$(dirname "$pc")
pkg() { PKG_CONFIG_PATH="$pcdir" pkg-config --define-variable=prefix="$tmp/root$prefix" "$@"; }
check "pkg-config finds vae" "pkg --exists vae"
so=$(find "$tmp/root" -name 'libvae.so.*.*' | head -n 1)
libdir=$(dirname "$so")

# Exports: public names only.
nm -D --defined-only "$so" | awk '{print $3}' >"$tmp/exports"
check "libvae.so exports public names" "[ \$(grep -c '^vae_' '$tmp/exports') -gt 100 ]"
check "libvae.so exports no internal or foreign name" "! grep -v '^vae_[a-z0-9]' '$tmp/exports' | grep -v '^_' | grep . "
check "libvae.so exports no vae__ name" "! grep '^vae__' '$tmp/exports'"
incdir=$(pkg --variable=includedir vae)/vae
check "installed headers name no vae__ symbol" "! grep -rn 'vae__' '$incdir'"
check "installed headers include only installed headers" "python3 - '$incdir' <<'PY'
import os, re, sys
root = sys.argv[1]; bad = 0
for d, _, fs in os.walk(root):
    for h in fs:
        for inc in re.findall(r'^#include \"([^\"]+)\"', open(os.path.join(d, h)).read(), re.M):
            if not (os.path.exists(os.path.join(root, inc)) or os.path.exists(os.path.join(d, inc))):
                print(os.path.join(d, h), 'includes', inc, 'which is not installed'); bad = 1
sys.exit(bad)
PY"

# The README's C programs against the installed tree (no source tree on the include path).
flags=$(pkg --cflags --libs vae)
for prog in examples/minimal_vae.c; do
  exe="$tmp/$(basename "$prog" .c)"
  check "$prog compiles against the installed tree" "(cd '$tmp' && $cc -std=c11 -Wall -Wextra -Werror '$src/$prog' -o '$exe' $flags -lm)"
done
for mod in examples/likelihood_student_t.c examples/plugin_my_lik.c examples/plugin_mc_elbo.c; do
  check "$mod compiles as a shared object against the installed tree" "(cd '$tmp' && $cc -std=c11 -Wall -Wextra -Werror -shared -fPIC '$src/$mod' -o '$tmp/'\$(basename $mod .c).so $(pkg --cflags vae))"
done
check "minimal_vae runs on the installed library" "(cd '$tmp' && LD_LIBRARY_PATH='$libdir' ./minimal_vae 3 >'$tmp/run.log' 2>&1) || { cat '$tmp/run.log'; false; }"
# The README quotes these files verbatim.
for f in examples/minimal_vae.c examples/plugin_my_lik.c examples/plugin_mc_elbo.c; do
  check "README quotes $f verbatim" "python3 - '$src/README.md' '$src/$f' <<'PY'
import sys
readme, f = open(sys.argv[1]).read(), open(sys.argv[2]).read()
sys.exit(0 if f.strip() in readme else 1)
PY"
done

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
