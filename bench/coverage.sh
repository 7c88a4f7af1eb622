#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The coverage figures of BENCHMARKS.md, section 13.
#
#   bash bench/coverage.sh [--fuzz-seconds N]     the model's region coverage
#   bash bench/coverage.sh --kernel [--random N]  the kernel trees' line and branch coverage
#   bash bench/coverage.sh --report               the model reports again, from the last run's profiles
#
# Model: the efimap binary built with -C instrument-coverage (its own target
# dir, target/coverage/build), run (a) on the corpus alone: `efimap replay
# corpus`, then `efimap run` of every corpus file in every era; (b) on the
# corpus and what N seconds (default 300) of the boot_flow and fake_mem fuzz
# targets grew from it (seeded with `efimap seeds`, all eras, libFuzzer's fork
# mode so that the findings of the buggy eras do not stop it): every input
# of the grown corpora and every crash artifact decoded with `efimap show`
# (which boots it in every era) and the decoded scenarios replayed. Region
# coverage of the model's kernel functions (memmap.rs, fake_mem.rs,
# quirks.rs, efi.rs, cmdline.rs) from llvm-cov, per file and in total, and
# every region neither reached, with its function.
#
# Kernel: `efimap diff --tree TREE --coverage` on each tree of
# target/trees (or EFIMAP_TREES): the tree built with gcov, the corpus, the
# hunt's exhaustive bound and N random scenarios (default 100000, as CI's
# diff) through it and the model; gcov's line and branch coverage per
# function of the tree files the driver is built from, the lines not
# reached and the lines with a branch not taken.
#
# Needs llvm-profdata and llvm-cov of rustc's LLVM (LLVM_PROFDATA, LLVM_COV,
# default llvm-profdata-22 and llvm-cov-22: Debian's llvm-22), cargo-fuzz and
# a nightly toolchain for (b), gcc's gcov for --kernel. Output in
# target/coverage/ (model-a.txt, model-b.txt, kernel-VERSION.txt).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
fuzz_seconds=300
random=100000
mode=model
while [ $# -gt 0 ]; do
    case $1 in
    --kernel) mode=kernel ;;
    --report) mode=report ;;
    --fuzz-seconds) fuzz_seconds=$2; shift ;;
    --random) random=$2; shift ;;
    *) echo "usage: $0 [--fuzz-seconds N] | --kernel [--random N] | --report" >&2; exit 2 ;;
    esac
    shift
done
OUT=$ROOT/target/coverage
mkdir -p "$OUT"
MODEL_FILES="memmap.rs fake_mem.rs quirks.rs efi.rs cmdline.rs"

# ------------------------------------------------------------------
# The model.

model() {
    local profdata=${LLVM_PROFDATA:-llvm-profdata-22} cov=${LLVM_COV:-llvm-cov-22}
    local want have
    want=$(rustc -vV | sed -n 's/^LLVM version: \([0-9]*\).*/\1/p')
    have=$("$cov" --version | sed -n 's/.*LLVM version \([0-9]*\).*/\1/p')
    if [ "$want" != "$have" ]; then
        echo "coverage.sh: rustc uses LLVM $want, $cov is LLVM $have (apt-get install llvm-$want)" >&2
        exit 2
    fi
    echo "== build (instrument-coverage, target/coverage/build)"
    RUSTFLAGS="-C instrument-coverage" CARGO_TARGET_DIR=$OUT/build \
        cargo build --release -q -p efimap-cli || exit 1
    local bin=$OUT/build/release/efimap
    local eras
    eras=$(: | LLVM_PROFILE_FILE=/dev/null "$bin" show /dev/stdin | sed -n 's/^eras //p' | tr ' ' ',')

    echo "== (a) the corpus alone"
    rm -rf "$OUT/prof-a" && mkdir -p "$OUT/prof-a"
    export LLVM_PROFILE_FILE=$OUT/prof-a/%p-%m.profraw
    "$bin" replay corpus >/dev/null
    for f in corpus/*.scn; do
        "$bin" run "$f" --eras "$eras" >/dev/null
    done
    unset LLVM_PROFILE_FILE
    "$profdata" merge -sparse "$OUT"/prof-a/*.profraw -o "$OUT/a.profdata" || exit 1
    report "$bin" "$OUT/a.profdata" "corpus alone" >"$OUT/model-a.txt"
    cat "$OUT/model-a.txt"

    echo "== (b) the corpus and ${fuzz_seconds} s of boot_flow and fake_mem"
    local fz=$OUT/fuzz-run
    rm -rf "$fz" && mkdir -p "$fz"
    LLVM_PROFILE_FILE=/dev/null "$bin" seeds corpus -o "$fz/seeds" >/dev/null || exit 1
    local FUZZ
    if rustup run nightly rustc --version >/dev/null 2>&1; then FUZZ=(cargo +nightly fuzz); else FUZZ=(env RUSTC_BOOTSTRAP=1 cargo fuzz); fi
    local t pids=()
    for t in boot_flow fake_mem; do
        "${FUZZ[@]}" build -s none --target-dir "$OUT/fuzz" "$t" >"$fz/build-$t.log" 2>&1 || { tail "$fz/build-$t.log"; exit 1; }
    done
    for t in boot_flow fake_mem; do
        mkdir -p "$fz/$t" "$fz/artifacts-$t"
        cp "$fz/seeds/$t"/* "$fz/$t/" 2>/dev/null
        # One job per target at a time: the two targets use both CPUs.
        "${FUZZ[@]}" run -s none --target-dir "$OUT/fuzz" "$t" "$fz/$t" -- \
            -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 -seed=1 \
            -len_control=0 -max_len=512 -max_total_time="$fuzz_seconds" -timeout=10 \
            -artifact_prefix="$fz/artifacts-$t/" >"$fz/run-$t.log" 2>&1 &
        pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p"; done
    for t in boot_flow fake_mem; do
        echo "   $t: $(ls "$fz/$t" | wc -l) corpus inputs, $(ls "$fz/artifacts-$t" | wc -l) artifacts; $(grep -o 'exec/s: [0-9]*' "$fz/run-$t.log" | tail -n 1)"
    done
    rm -rf "$OUT/prof-b" "$fz/scn" && mkdir -p "$OUT/prof-b" "$fz/scn"
    export LLVM_PROFILE_FILE=$OUT/prof-b/%p-%4m.profraw
    local n=0 f
    for t in boot_flow fake_mem; do
        for f in "$fz/$t"/* "$fz/artifacts-$t"/*; do
            [ -f "$f" ] || continue
            n=$((n + 1))
            "$bin" show "$f" -o "$fz/scn/$t-$(basename "$f").scn" >/dev/null 2>&1
        done
    done
    "$bin" replay "$fz/scn" >"$fz/replay.log" 2>&1 || echo "   (replay of the decoded scenarios: $(tail -n 1 "$fz/replay.log"))"
    unset LLVM_PROFILE_FILE
    echo "   $n inputs decoded and replayed"
    "$profdata" merge -sparse "$OUT"/prof-a/*.profraw "$OUT"/prof-b/*.profraw -o "$OUT/b.profdata" || exit 1
    report "$bin" "$OUT/b.profdata" "corpus + ${fuzz_seconds} s of fuzzing" >"$OUT/model-b.txt"
    cat "$OUT/model-b.txt"
}

# Region coverage of the model files: llvm-cov's per-file summary, then
# every code region with a zero count in every instantiation of its
# function (file:line:column, function).
report() {
    local bin=$1 prof=$2 what=$3 cov=${LLVM_COV:-llvm-cov-22} srcs=() f
    for f in $MODEL_FILES; do srcs+=("$ROOT/core/src/model/$f"); done
    echo "model region coverage, $what"
    "$cov" export "$bin" -instr-profile "$prof" -format=text "${srcs[@]}" >"$prof.json" || exit 1
    python3 - "$prof.json" "$ROOT/core/src/model/" ${LLVM_CXXFILT:-llvm-cxxfilt-22} $MODEL_FILES <<'EOF'
import json, subprocess, sys
data = json.load(open(sys.argv[1]))["data"][0]
root = sys.argv[2]
ours = {root + f for f in sys.argv[4:]}
rows = []
for f in data["files"]:
    r = f["summary"]["regions"]
    rows.append((f["filename"].replace(root, ""), r["count"], r["covered"]))
rows.sort()
print(f"  {'file':<12} {'regions':>8} {'covered':>8} {'missed':>7} {'cover':>7}")
tc = tv = 0
for name, c, v in rows:
    tc += c; tv += v
    print(f"  {name:<12} {c:>8} {v:>8} {c - v:>7} {100.0 * v / c:>6.2f}%")
print(f"  {'total':<12} {tc:>8} {tv:>8} {tc - tv:>7} {100.0 * tv / tc:>6.2f}%")
# Regions by place: covered if any instantiation covers them.
names = {}
seen = {}
for fn in data["functions"]:
    files = fn["filenames"]
    for reg in fn["regions"]:
        ls, cs, le, ce, count, fid, _, kind = reg[:8]
        if kind != 0 or files[fid] not in ours:
            continue
        key = (files[fid].replace(root, ""), ls, cs, le, ce)
        seen[key] = seen.get(key, 0) + count
        names.setdefault(key, fn["name"])
missed = sorted(k for k, v in seen.items() if v == 0)
dem = {}
if missed:
    mangled = sorted({names[k] for k in missed})
    try:
        out = subprocess.run([sys.argv[3]], input="\n".join(mangled), capture_output=True, text=True).stdout.split("\n")
        dem = dict(zip(mangled, out))
    except OSError:
        pass
def short(n):
    n = dem.get(n, n)
    if "::h" in n:
        n = n[: n.rindex("::h")]
    return n.replace("efimap_core::model::", "")
print(f"  regions not reached ({len(missed)}):")
for k in missed:
    print(f"    {k[0]}:{k[1]}:{k[2]}-{k[3]}:{k[4]}  {short(names[k])}")
EOF
}

# ------------------------------------------------------------------
# The kernel trees.

kernel() {
    local trees=${EFIMAP_TREES:-$ROOT/target/trees}
    echo "== build efimap (release)"
    cargo build --release -q -p efimap-cli || exit 1
    local bin=$ROOT/target/release/efimap v
    for v in 6.1 6.12; do
        local tree=$trees/$v
        [ -f "$tree/Makefile" ] || { echo "coverage.sh: no tree at $tree (bash .ci/trees.sh target/trees)" >&2; exit 2; }
        echo "== tree $v"
        # efimap diff --coverage builds the tree with gcov (its own cache
        # folder), runs the corpus, the hunt's bound and N random scenarios
        # through it and the model, and ends with gcov's lines and branches
        # per function.
        "$bin" diff --tree "$tree" --random "$random" --coverage -o "$OUT/kernel-$v-diverged" \
            >"$OUT/kernel-$v-diff.log" 2>&1
        echo "   diff: $(grep -m1 'diverged' "$OUT/kernel-$v-diff.log")"
        sed -n '/^The tree.s own code, gcov/,$p' "$OUT/kernel-$v-diff.log" >"$OUT/kernel-$v.txt"
        cat "$OUT/kernel-$v.txt"
    done
}

case $mode in
model) model ;;
report)
    report "$OUT/build/release/efimap" "$OUT/a.profdata" "corpus alone" >"$OUT/model-a.txt"
    cat "$OUT/model-a.txt"
    if [ -f "$OUT/b.profdata" ]; then
        report "$OUT/build/release/efimap" "$OUT/b.profdata" "corpus + fuzzing" >"$OUT/model-b.txt"
        cat "$OUT/model-b.txt"
    fi ;;
kernel) kernel ;;
esac
