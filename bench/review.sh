#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The review figures of BENCHMARKS.md, section 18:
#
#   bash bench/review.sh [TREE]     (default: target/trees/6.12)
#
# Two patches made from TREE's arch/x86/platform/efi/quirks.c as the
# review tests make them (cli/tests/all/review.rs): the line of
# efi_arch_mem_reserve that adds efi.memmap.nr_map to num_entries deleted
# (a broken size), and a comment line put before its split count. Each is
# reviewed with an empty build cache (cold: the copy, two builds, both
# searches) and again with the cache warm, with gcov and without, at the
# default settings (the corpus, the exhaustive bound, 20,000 random). The
# lines printed are efimap review's own timing and /usr/bin/time's.
set -euo pipefail
cd "$(dirname "$0")/.."
tree=${1:-target/trees/6.12}
tree=$(cd "$tree" && pwd)
cargo build --release -q
efimap=$PWD/target/release/efimap
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
f=arch/x86/platform/efi/quirks.c
mkdir -p "$work/a/$(dirname $f)" "$work/size/$(dirname $f)" "$work/comment/$(dirname $f)"
cp "$tree/$f" "$work/a/$f"
awk '/efi_arch_mem_reserve\(/ && !/;$/ { body = 1 }
     body && /num_entries/ && /\+=/ && /nr_map/ && !done { done = 1; next }
     { print }' "$work/a/$f" > "$work/size/$f"
awk '/efi_arch_mem_reserve\(/ && !/;$/ { body = 1 }
     body && /num_entries =/ && /split_count/ && !done { print "\t/* The new map holds the old one and its splits. */"; done = 1 }
     { print }' "$work/a/$f" > "$work/comment/$f"
for p in size comment; do
    (cd "$work" && diff -u "a/$f" "$p/$f" > "$p.patch") || true
    for cov in gcov no-gcov; do
        flag=()
        [ $cov = no-gcov ] && flag=(--no-coverage)
        cache=$work/cache-$p-$cov
        for run in cold warm; do
            echo "== $p patch, $cov, $run"
            EFIMAP_CACHE=$cache /usr/bin/time -f "   wall %e s, peak RSS %M KB (largest process)" \
                "$efimap" review "$work/$p.patch" --tree "$tree" -o "$work/out-$p" "${flag[@]}" >/dev/null 2>"$work/err" || true
            sed 's/^/   /' "$work/err"
        done
    done
done
