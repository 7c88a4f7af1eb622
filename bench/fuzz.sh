#!/usr/bin/env bash
# The fuzzing figures of BENCHMARKS.md, from libFuzzer's own statistics:
#  2. harness overhead: exec/s of fake_mem over exec/s of the empty target,
#     built and run the same way;
#  3. time to each seed bug class in v5.5 from an empty corpus, for the
#     structure-aware boot_flow target and the naive one, over 10 seeds:
#     executions (libFuzzer's count) and wall time of the whole process;
# 11. libFuzzer against in process: boot_flow's exec/s under libFuzzer
#     (seeded with the corpus section 2 grew, and replaying its files)
#     over the same check's rate in process on the same files.
# Usage: bash bench/fuzz.sh [SECONDS_PER_RATE] [CAP_PER_RUN]
set -uo pipefail
cd "$(dirname "$0")/.."
rate_time=${1:-20}
cap=${2:-60}
if rustup run nightly rustc --version >/dev/null 2>&1; then FUZZ=(cargo +nightly fuzz); else FUZZ=(env RUSTC_BOOTSTRAP=1 cargo fuzz); fi
# libFuzzer grows inputs slowly from a few bytes unless told otherwise; a
# scenario needs a few dozen.
FLAGS=(-len_control=0 -max_len=128)
out=target/bench-fuzz
rm -rf "$out" && mkdir -p "$out"
# The project's fuzz build (as .ci/run and efimap fuzz): -O, so no debug
# assertions or overflow checks; no sanitizer; no compare tracing.
BUILD=(-O -s none --no-trace-compares)
"${FUZZ[@]}" build "${BUILD[@]}" >/dev/null 2>&1
cargo build --release -q

stat() { grep -o "stat::$1: *[0-9]*" "$2" | grep -o '[0-9]*$' | tail -n 1; }
# median [min..max] of the numbers on stdin
summary() { sort -g | awk '{a[NR]=$1} END {if (NR==0) {print "none"; exit}; m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "median %s [%s..%s] (%d runs)", m, a[1], a[NR], NR}'; }

echo "2. Harness overhead (${rate_time} s each, no corpus, ${FLAGS[*]})"
for t in empty fake_mem boot_flow naive; do
    mkdir -p "$out/c-$t"
    EFIMAP_ERAS=v5.6,v6.10,v6.11 EFIMAP_KNOWN=fixed-code "${FUZZ[@]}" run "${BUILD[@]}" "$t" "$out/c-$t" -- \
        "${FLAGS[@]}" -max_total_time="$rate_time" -print_final_stats=1 >"$out/rate-$t.log" 2>&1
    echo "   $t: $(stat average_exec_per_sec "$out/rate-$t.log") exec/s"
done
e=$(stat average_exec_per_sec "$out/rate-empty.log"); f=$(stat average_exec_per_sec "$out/rate-fake_mem.log")
echo "   fake_mem / empty = $(echo "scale=5; $f / $e" | bc)"

echo "11. libFuzzer against in process (boot_flow, the same eras, on the $(ls "$out/c-boot_flow" | wc -l) files section 2 grew)"
export EFIMAP_ERAS=v5.6,v6.10,v6.11 EFIMAP_KNOWN=fixed-code
bin=fuzz/target/x86_64-unknown-linux-gnu/release/boot_flow
cp -r "$out/c-boot_flow" "$out/fixed" && cp -r "$out/fixed" "$out/seeded"
"$bin" "$out/seeded" -seed=1 "${FLAGS[@]}" -max_total_time="$rate_time" -print_final_stats=1 >"$out/seeded.log" 2>&1
fuzzing=$(stat average_exec_per_sec "$out/seeded.log")
"$bin" -runs=3 "$out"/fixed/* >"$out/replay.log" 2>&1
ms=$(grep -o "in [0-9]* ms" "$out/replay.log" | awk '{s += $2} END {print s}')
replay=$(echo "3 * $(grep -c '^Executed' "$out/replay.log") * 1000 / ($ms + 1)" | bc)
inproc=$(target/release/efimap bench --fuzz-target boot_flow --fuzz-corpus "$out/fixed" --seconds 5 | grep -o '[0-9]* exec/s' | grep -o '^[0-9]*')
unset EFIMAP_ERAS EFIMAP_KNOWN
echo "   libFuzzer seeded with them: $fuzzing exec/s; replaying them: $replay exec/s; in process: $inproc exec/s"
echo "   libFuzzer / in process = $(echo "scale=2; $fuzzing / $inproc" | bc) (replay $(echo "scale=2; $replay / $inproc" | bc))"

echo "3. Time to each seed bug in v5.5 from an empty corpus, 10 seeds (cap ${cap} s a run)"
for t in boot_flow naive; do
    for class in empty-entry/efi_fake_memmap lost-attribute/efi_fake_memmap overrun/efi_arch_mem_reserve; do
        : >"$out/execs" ; : >"$out/secs"; missed=0
        for seed in 1 2 3 4 5 6 7 8 9 10; do
            log="$out/ttb-$t-${class//\//-}-$seed.log"
            rm -rf "$out/e" && mkdir -p "$out/e"
            start=$(date +%s.%N)
            EFIMAP_ERAS=v5.5 EFIMAP_ONLY="$class" "${FUZZ[@]}" run "${BUILD[@]}" "$t" "$out/e" -- \
                "${FLAGS[@]}" -seed="$seed" -max_total_time="$cap" -print_final_stats=1 \
                -artifact_prefix="$out/a-" >"$log" 2>&1
            end=$(date +%s.%N)
            if grep -q "efimap finding: $class" "$log"; then
                stat number_of_executed_units "$log" >>"$out/execs"
                echo "$end - $start" | bc >>"$out/secs"
            else
                missed=$((missed + 1))
            fi
        done
        echo "   $t $class: executions $(summary <"$out/execs"), seconds $(summary <"$out/secs"), not found in $missed"
    done
done
