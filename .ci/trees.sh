#!/usr/bin/env bash
# Extracts the files of Debian's linux-source-6.1 and linux-source-6.12
# that the kernel engine reads into DEST/6.1 and DEST/6.12 (installing the
# packages when they are missing). Only those files: tar member patterns,
# never the whole tree.
set -euo pipefail
dest=${1:?usage: trees.sh DEST}
members=(
    '*/Makefile'
    '*/arch/x86/platform/efi/*'
    '*/arch/x86/include/asm/efi.h'
    '*/arch/x86/include/asm/pgtable_64_types.h'
    '*/drivers/firmware/efi/*.c'
    '*/drivers/firmware/efi/*.h'
    '*/include/linux/efi.h'
    '*/lib/sort.c'
    '*/lib/cmdline.c'
    '*/kernel/printk/printk.c'
)
for v in 6.1 6.12; do
    tarball=/usr/src/linux-source-$v.tar.xz
    if [ ! -f "$tarball" ]; then
        if [ -z "${EFIMAP_APT_UPDATED:-}" ]; then
            apt-get update -qq
            export EFIMAP_APT_UPDATED=1
        fi
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "linux-source-$v" >/dev/null
    fi
    out="$dest/$v"
    if [ -f "$out/Makefile" ]; then
        continue
    fi
    mkdir -p "$out.tmp"
    tar -xf "$tarball" --wildcards --no-wildcards-match-slash --strip-components=1 -C "$out.tmp" "${members[@]}"
    mv "$out.tmp" "$out"
    echo "$out: $(sed -n 's/^VERSION = //p;s/^PATCHLEVEL = //p;s/^SUBLEVEL = //p' "$out/Makefile" | paste -sd.)"
done
