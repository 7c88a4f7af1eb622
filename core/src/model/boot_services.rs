//! Boot-services memory (arch/x86/platform/efi/quirks.c):
//! `efi_reserve_boot_services` in setup_arch, and what gives the memory
//! back once the runtime is in virtual mode. Until a4b0bf6a40f3 (2026) one
//! `efi_free_boot_services` frees each region at once and rebuilds the
//! map; from it, `efi_unmap_boot_services` records the regions in a
//! `kzalloc`ed array and rebuilds the map, and an `arch_initcall`,
//! `efi_free_boot_services`, frees them later and says how much
//! (docs/kernel-notes.md, "Boot-services memory").
//!
//! Modelled as at Debian's 6.12.117 and 6.1.192 (both with a4b0bf6a40f3
//! and 217c0a5c177a), a4b0bf6a40f3 as merged, and mainline before it.
//! `real_mode_size_needed()` is 0 (the trampoline was placed at boot by
//! `reserve_real_mode`), the kernel image, initrd, setup_data and BIOS
//! regions overlap no descriptor (of the early reservations only the first
//! 64 KiB is modelled), every boot-services region is e820 RAM, and
//! `efi_unmap_pages` has nothing to show.

use crate::model::desc::{attr, off, ty, EFI_PAGE_SHIFT};
use crate::model::era::{BootServices, RangesSize};
use crate::model::func::Func;
use crate::model::kernel::{Freed, Kernel, Level, MapPtr, MemoryMapData};
use crate::model::mem::AllocKind;

/// `SZ_1M`: memory below it is never given back.
pub const SZ_1M: u64 = 1 << 20;
/// `sizeof(struct efi_freeable_range)`: `{ u64 start; u64 end; }`.
pub const FREEABLE_RANGE_SIZE: u64 = 16;

fn is_boot_services(t: u32) -> bool {
    t == ty::BOOT_SERVICES_CODE || t == ty::BOOT_SERVICES_DATA
}

impl Kernel {
    /// `memblock_is_region_reserved(start, size)`: whether any byte of it
    /// is reserved: by `efi_mem_reserve`, by the firmware map's own
    /// reservation, or as a live memblock allocation.
    pub fn memblock_is_region_reserved(&self, start: u64, size: u64) -> bool {
        let end = u128::from(start) + u128::from(size);
        let hits = |s: u64, z: u64| {
            u128::from(s) < end && u128::from(start) < u128::from(s) + u128::from(z)
        };
        self.reserved.iter().any(|&(s, z)| hits(s, z))
            || self.mem.allocations.iter().any(|a| {
                matches!(a.kind, AllocKind::Memblock | AllocKind::Firmware)
                    && a.is_live()
                    && hits(a.phys, a.size)
            })
    }

    /// `efi_reserve_boot_services()`: memblock-reserves each Boot Services
    /// Code/Data region; one that was reserved already (any byte of it)
    /// gets `EFI_MEMORY_RUNTIME` in place, so that it is never freed.
    pub fn efi_reserve_boot_services(&mut self) {
        self.call(Func::EfiReserveBootServices, |k| {
            if !k.memmap_enabled {
                return;
            }
            let Some(map) = k.memmap.map else { return };
            for o in k.for_each_desc() {
                let t = k.rd32(map, o + off::TYPE);
                if !is_boot_services(t) {
                    continue;
                }
                let start = k.rd64(map, o + off::PHYS_ADDR);
                let size = k.rd64(map, o + off::NUM_PAGES) << EFI_PAGE_SHIFT;
                if !k.memblock_is_region_reserved(start, size) {
                    k.reserved.push((start, size));
                    continue; // can_free_region: see the module's assumptions
                }
                let a = k.rd64(map, o + off::ATTRIBUTE);
                k.wr64(map, o + off::ATTRIBUTE, a | attr::RUNTIME);
                k.kept.push((start, size));
            }
            k.stage.boot_services_kept = true;
        })
    }

    /// The walk both versions share: the descriptors the new map keeps are
    /// counted, the others' regions (clipped at 1 MiB) handed to `give`.
    fn boot_services_walk(&mut self, mut give: impl FnMut(&mut Kernel, u64, u64)) -> u64 {
        let Some(map) = self.memmap.map else { return 0 };
        let mut num_entries = 0u64;
        for o in self.for_each_desc() {
            let t = self.rd32(map, o + off::TYPE);
            let a = self.rd64(map, o + off::ATTRIBUTE);
            if !is_boot_services(t) || a & attr::RUNTIME != 0 {
                num_entries += 1;
                continue;
            }
            let mut start = self.rd64(map, o + off::PHYS_ADDR);
            let mut size = self.rd64(map, o + off::NUM_PAGES) << EFI_PAGE_SHIFT;
            if start.wrapping_add(size) < SZ_1M {
                continue;
            }
            if start < SZ_1M {
                size = size.wrapping_sub(SZ_1M - start);
                start = SZ_1M;
            }
            give(self, start, size);
        }
        num_entries
    }

    /// The rebuild both versions share: a map of the `num_entries`
    /// descriptors that are not boot services without RUNTIME, installed.
    fn boot_services_rebuild(&mut self, num_entries: u64) {
        let mut data = MemoryMapData::default();
        if self.efi_memmap_alloc(num_entries, &mut data).is_err() {
            return self.log(Level::Err, "efi: Failed to allocate new EFI memmap".into());
        }
        let Some(new) = self.memremap(data.phys_map, data.size) else {
            return self.log(Level::Err, "efi: Failed to map new EFI memmap".into());
        };
        let Some(map) = self.memmap.map else { return };
        let ds = self.memmap.desc_size;
        let mut n = 0u64;
        for o in self.for_each_desc() {
            let t = self.rd32(map, o + off::TYPE);
            let a = self.rd64(map, o + off::ATTRIBUTE);
            if a & attr::RUNTIME == 0 && is_boot_services(t) {
                continue;
            }
            self.memcpy(new, n, map, o, ds);
            n = n.wrapping_add(ds);
        }
        if self.efi_memmap_install(&data).is_err() {
            self.log(Level::Err, "efi: Could not install new EFI memmap".into());
        }
    }

    /// `efi_free_boot_services()`, in the era's shape: at once (until
    /// a4b0bf6a40f3), or the deferred initcall.
    pub fn efi_free_boot_services(&mut self) {
        self.call(Func::EfiFreeBootServices, |k| match k.f.boot_services {
            BootServices::FreeAtOnce => k.efi_free_boot_services_at_once(),
            BootServices::Deferred { .. } => k.efi_free_boot_services_deferred(),
        })
    }

    /// The single `efi_free_boot_services` of v4.x .. v6.19: with
    /// `efi=debug` nothing; else each freeable region goes back at once by
    /// `memblock_free_late`, and the kept descriptors become the new map.
    /// Prints nothing on success.
    fn efi_free_boot_services_at_once(&mut self) {
        if self.efi_debug {
            return;
        }
        let num_entries = self.boot_services_walk(|k, start, size| {
            k.freed.push(Freed {
                start,
                end: start.wrapping_add(size),
                by: "memblock_free_late",
            });
        });
        if num_entries == 0 {
            return;
        }
        self.boot_services_rebuild(num_entries);
    }

    /// `efi_unmap_boot_services()` (a4b0bf6a40f3): with `efi=debug`
    /// nothing; else a zeroed array of `{start, end}` records sized as the
    /// era has it, one record per freeable region, and the new map.
    pub fn efi_unmap_boot_services(&mut self) {
        self.call(Func::EfiUnmapBootServices, |k| {
            if k.efi_debug {
                return;
            }
            let BootServices::Deferred { ranges_size } = k.f.boot_services else {
                return;
            };
            let nr_map = k.memmap.nr_map;
            let sz = match ranges_size {
                RangesSize::AsMerged => FREEABLE_RANGE_SIZE.wrapping_mul(nr_map).wrapping_add(1),
                RangesSize::Fixed => FREEABLE_RANGE_SIZE.wrapping_mul(nr_map.wrapping_add(1)),
            };
            let Some((id, _)) = k.mem.slab_alloc(sz, true, "efi_unmap_boot_services") else {
                return k.log(
                    Level::Err,
                    "efi: Failed to allocate storage for freeable EFI regions".into(),
                );
            };
            let ranges = MapPtr { alloc: id, off: 0 };
            k.ranges_to_free = Some(ranges);
            let mut idx = 0u64;
            let num_entries = k.boot_services_walk(|k, start, size| {
                k.wr64(ranges, idx * FREEABLE_RANGE_SIZE, start);
                k.wr64(
                    ranges,
                    idx * FREEABLE_RANGE_SIZE + 8,
                    start.wrapping_add(size),
                );
                idx += 1;
            });
            if num_entries == 0 {
                return;
            }
            k.boot_services_rebuild(num_entries);
        })
    }

    /// The `arch_initcall` `efi_free_boot_services()` of a4b0bf6a40f3:
    /// every record up to the zero sentinel back by `free_reserved_area`,
    /// the array freed, and `efi: Freeing EFI boot services memory: NK`.
    fn efi_free_boot_services_deferred(&mut self) {
        let Some(ranges) = self.ranges_to_free else {
            return;
        };
        let mut freed = 0u64;
        let mut at = 0u64;
        loop {
            let start = self.rd64(ranges, at);
            if start == 0 {
                break;
            }
            let end = self.rd64(ranges, at + 8);
            self.freed.push(Freed {
                start,
                end,
                by: "free_reserved_area",
            });
            freed = freed.wrapping_add(end.wrapping_sub(start));
            at += FREEABLE_RANGE_SIZE;
            if at > self.mem.allocations[ranges.alloc].mapped_len() {
                break; // past the mapped pages: the kernel would have oopsed
            }
        }
        let phys = self.mem.allocations[ranges.alloc].phys;
        let size = self.mem.allocations[ranges.alloc].size;
        self.mem.free(phys, size, "efi_free_boot_services");
        if freed != 0 && !self.quiet {
            self.log(
                Level::Info,
                format!("efi: Freeing EFI boot services memory: {}K", freed / 1024),
            );
        }
    }
}
