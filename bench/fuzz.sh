#!/usr/bin/env bash
# The fuzzing figures of BENCHMARKS.md, from libFuzzer's own statistics:
#  2. harness overhead: exec/s of fake_mem over exec/s of the empty target;
#  3. time to each seed bug class from an empty corpus, for the
#     structure-aware boot_flow target and the naive one, over 10 seeds.
# Usage: bash bench/fuzz.sh [SECONDS_PER_RATE] [CAP_PER_RUN]
set -uo pipefail
cd "$(dirname "$0")/.."
rate_time=${1:-20}
cap=${2:-30}
if rustup run nightly rustc --version >/dev/null 2>&1; then FUZZ=(cargo +nightly fuzz); else FUZZ=(env RUSTC_BOOTSTRAP=1 cargo fuzz); fi
out=target/bench-fuzz
rm -rf "$out" && mkdir -p "$out"
"${FUZZ[@]}" build -s none >/dev/null 2>&1

stat() { grep -o "stat::$1: *[0-9]*" "$2" | grep -o '[0-9]*$' | tail -n 1; }

echo "2. Harness overhead (${rate_time} s each, no corpus)"
for t in empty fake_mem boot_flow; do
    mkdir -p "$out/c-$t"
    EFIMAP_ERAS=v5.6,v6.10,v6.11 EFIMAP_KNOWN=fixed-code "${FUZZ[@]}" run -s none "$t" "$out/c-$t" -- \
        -max_total_time="$rate_time" -print_final_stats=1 >"$out/rate-$t.log" 2>&1
    echo "   $t: $(stat average_exec_per_sec "$out/rate-$t.log") exec/s"
done
e=$(stat average_exec_per_sec "$out/rate-empty.log"); f=$(stat average_exec_per_sec "$out/rate-fake_mem.log")
echo "   fake_mem / empty = $(echo "scale=4; $f / $e" | bc)"

echo "3. Time to bug in v5.5 from an empty corpus (cap ${cap} s a run): seconds = executions / exec/s"
for t in boot_flow naive; do
    for class in empty-entry/efi_fake_memmap lost-attribute/efi_fake_memmap overrun/efi_arch_mem_reserve; do
        line="   $t $class:"
        for seed in 1 2 3 4 5 6 7 8 9 10; do
            log="$out/ttb-$t-${class//\//-}-$seed.log"
            mkdir -p "$out/e" && rm -rf "$out/e"/*
            EFIMAP_ERAS=v5.5 EFIMAP_ONLY="$class" "${FUZZ[@]}" run -s none "$t" "$out/e" -- \
                -seed="$seed" -max_total_time="$cap" -print_final_stats=1 \
                -artifact_prefix="$out/a-" >"$log" 2>&1
            n=$(stat number_of_executed_units "$log"); r=$(stat average_exec_per_sec "$log")
            if grep -q "efimap finding: $class" "$log"; then
                line="$line $n/$(echo "scale=3; $n / ($r + 0.0001)" | bc)s"
            else
                line="$line none-in-${cap}s"
            fi
        done
        echo "$line"
    done
done
