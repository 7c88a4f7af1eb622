#!/usr/bin/env bash
# Builds every fuzz target of fuzz/ and copies the binaries to $OUT, as the
# OSS-Fuzz base image builds a cargo-fuzz project (cargo fuzz build -O),
# with the project's own flags: no compare tracing, and no sanitizer when
# $SANITIZER is unset or `none` (the models are #![forbid(unsafe_code)]).
# Runs in the ClusterFuzzLite image, or locally with only $OUT set ($SRC
# optional: the source tree is this script's parent folder); CI calls it
# after its own fuzz build with the same flags and target folder, so
# nothing is rebuilt.
set -euo pipefail
: "${OUT:?set OUT to the folder the fuzz target binaries go to}"
root=${SRC:+$SRC/efimap}
if [ -z "$root" ] || [ ! -d "$root/fuzz" ]; then
    root=$(cd "$(dirname "$0")/.." && pwd)
fi
cd "$root"
sanitizer=${SANITIZER:-none}
case "$sanitizer" in
    none | address | memory | thread | leak) ;;
    # ClusterFuzzLite's `undefined` and `coverage` builds have no cargo
    # fuzz sanitizer of that name: no sanitizer.
    *) sanitizer=none ;;
esac
if [ -n "${FUZZ_CARGO:-}" ]; then
    read -r -a fuzz <<<"$FUZZ_CARGO"
elif command -v rustup >/dev/null && rustup run nightly rustc --version >/dev/null 2>&1; then
    fuzz=(cargo +nightly fuzz)
else
    fuzz=(env RUSTC_BOOTSTRAP=1 cargo fuzz)
fi
"${fuzz[@]}" build -O -s "$sanitizer" --no-trace-compares
mkdir -p "$OUT"
release=fuzz/target/x86_64-unknown-linux-gnu/release
# Every [[bin]] of fuzz/Cargo.toml but diff_tree, which runs a kernel
# tree's library beside the model (efimap fuzz diff_tree --tree DIR): the
# image has no tree.
for target in $(awk '/^\[\[bin\]\]/ {b = 1; next} /^\[/ {b = 0} b && $1 == "name" {gsub(/"/, "", $3); print $3}' fuzz/Cargo.toml); do
    [ "$target" = diff_tree ] && continue
    cp "$release/$target" "$OUT/$target"
done
