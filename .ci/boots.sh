#!/usr/bin/env bash
# Boots Debian's current unsigned 6.1 and 6.12 kernel images under QEMU
# (TCG) with OVMF, on the q35 and pc machines with 512 MiB, 2 GiB and
# 6 GiB, each through `efimap boot --kernel`, which holds every map and
# e820 line the model predicts against what the kernel printed; once more
# per kernel without efi=debug (--twice) for the boot-services figure.
# Installs qemu-system-x86, ovmf and the kernel images when missing. Any
# divergence fails (efimap exits 1). Two boots at a time: TCG runs a
# one-CPU guest on one host core.
set -euo pipefail
dest=${1:?usage: boots.sh DEST}
efimap=${EFIMAP:-target/release/efimap}
mkdir -p "$dest"

apt_updated=${EFIMAP_APT_UPDATED:-}
apt_update() {
    if [ -z "$apt_updated" ]; then
        apt-get update -qq
        apt_updated=1
    fi
}

missing=()
for p in qemu-system-x86 ovmf gcc libc6-dev; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    apt_update
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The newest image of a series: its package name changes with each
# stable update (linux-image-6.1.0-57-amd64-unsigned,
# linux-image-6.12.118+deb12-amd64-unsigned).
newest() {
    apt-cache search --names-only "$1" | awk '{print $1}' | sort -V | tail -n 1
}
kernels=()
for pattern in '^linux-image-6\.1\.[0-9]+-[0-9]+-amd64-unsigned$' \
    '^linux-image-6\.12\.[0-9]+\+deb[0-9]+-amd64-unsigned$'; do
    pkg=$(newest "$pattern")
    if [ -z "$pkg" ]; then
        apt_update
        pkg=$(newest "$pattern")
    fi
    [ -n "$pkg" ] || { echo "no package matches $pattern"; exit 1; }
    dir="$dest/pkg/$pkg"
    if ! ls "$dir"/boot/vmlinuz-* >/dev/null 2>&1; then
        mkdir -p "$dir"
        (cd "$dest/pkg" && apt-get download -qq -o APT::Sandbox::User=root "$pkg" >/dev/null)
        dpkg-deb -x "$dest/pkg/${pkg}"_*.deb "$dir"
    fi
    image=$(ls "$dir"/boot/vmlinuz-* | head -n 1)
    echo "$pkg: $image"
    kernels+=("$image")
done

# One line per boot: image, machine, memory, extra flag.
jobs=()
for image in "${kernels[@]}"; do
    release=$(basename "$image" | sed 's/^vmlinuz-//')
    for machine in q35 pc; do
        for mem in 512 2048 6144; do
            jobs+=("$image $machine $mem $dest/$release-$machine-$mem")
        done
    done
    jobs+=("$image q35 2048 $dest/$release-q35-2048-twice --twice")
done

run_one() {
    local image=$1 machine=$2 mem=$3 out=$4
    shift 4
    if "$efimap" boot --kernel "$image" --machine "$machine" --memory "$mem" -o "$out" "$@" \
        >"$out.txt" 2>&1; then
        echo "ok   $(basename "$out"): $(tail -n 1 "$out.txt")"
    else
        echo "FAIL $(basename "$out"):"
        cat "$out.txt"
        return 1
    fi
}
export -f run_one
export efimap
printf '%s\n' "${jobs[@]}" | xargs -P 2 -L 1 bash -c 'run_one "$@"' _
