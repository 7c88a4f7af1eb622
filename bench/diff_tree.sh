#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The differential fuzz target's figures of BENCHMARKS.md (section 19):
# on each Debian tree, diff_tree's exec/s under libFuzzer (a plain run
# seeded with the corpus seeds, SECONDS long, one process) and replaying
# the corpus it grew, against the same check in process without libFuzzer
# (cargo bench -p efimap-kernel-ffi --bench diff_tree_rate) on the same
# inputs.
#
#   bash bench/diff_tree.sh [SECONDS]
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
trees=${EFIMAP_TREES:-$PWD/target/trees}
if rustup run nightly rustc --version >/dev/null 2>&1; then FUZZ=(cargo +nightly fuzz); else FUZZ=(env RUSTC_BOOTSTRAP=1 cargo fuzz); fi
BUILD=(-O -s none --no-trace-compares)
out=target/bench-diff-tree
rm -rf "$out" && mkdir -p "$out"
cargo build --release -q -p efimap-cli || exit 1
efimap=target/release/efimap
"${FUZZ[@]}" build "${BUILD[@]}" diff_tree >/dev/null 2>&1 || { echo "diff_tree.sh: the fuzz build failed" >&2; exit 1; }
"$efimap" seeds corpus -o "$out/seeds" >/dev/null
bin=fuzz/target/x86_64-unknown-linux-gnu/release/diff_tree
stat() { grep -o "stat::$1: *[0-9]*" "$2" | grep -o '[0-9]*$' | tail -n 1; }
for v in 6.1 6.12; do
    # The fuzz build of the tree, as efimap fuzz makes it (a 1-second run).
    "$efimap" fuzz diff_tree --tree "$trees/$v" --jobs 1 --budget 1 \
        --corpus "$out/warm-$v" -o "$out/warm-$v-out" >/dev/null 2>&1
    lib=$(ls -td target/kernel-builds/*-fuzz | while read -r d; do
        case $(basename "$d") in "$v".*) echo "$d/libefimap-kernel.so"; break ;; esac; done)
    era=$("$efimap" run corpus/single-8g-sp-clean.scn --tree "$trees/$v" 2>/dev/null |
        sed -n 's/.*(held against \(.*\))$/\1/p' | head -n 1)
    mkdir -p "$out/corpus-$v"
    cp "$out/seeds/diff_tree/"* "$out/corpus-$v/"
    EFIMAP_TREE_LIB=$PWD/$lib EFIMAP_TREE_ERA=$era "$bin" -len_control=0 -max_len=256 \
        -max_total_time="$seconds" -print_final_stats=1 "$out/corpus-$v" >"$out/run-$v.log" 2>&1
    EFIMAP_TREE_LIB=$PWD/$lib EFIMAP_TREE_ERA=$era "$bin" -runs=3 "$out/corpus-$v"/* >"$out/replay-$v.log" 2>&1
    n=$(ls "$out/corpus-$v" | wc -l)
    ms=$(grep -o 'Executed .* in [0-9]* ms' "$out/replay-$v.log" | grep -o '[0-9]* ms' | awk '{s += $1} END {print s}')
    echo "tree $v ($era): libFuzzer $(stat average_exec_per_sec "$out/run-$v.log") exec/s over ${seconds} s;" \
        "replay of its $n inputs $(echo "scale=0; 3 * $n * 1000 / ($ms + 1)" | bc) exec/s"
    cp -r "$out/corpus-$v" "$out/grown-$v"
done
# The same check in process, on the corpus grown on 6.12.
EFIMAP_TREES=$trees EFIMAP_DIFF_CORPUS=$PWD/$out/grown-6.12 EFIMAP_BENCH_SECONDS=10 \
    cargo bench -q -p efimap-kernel-ffi --bench diff_tree_rate 2>/dev/null
