//! The part of `efi_enter_virtual_mode` (arch/x86/platform/efi/efi.c and
//! efi_64.c, as in v5.6 .. Debian's 6.12.117) that touches the map: merge
//! adjacent regions, map the regions the runtime needs into a new map of
//! their own, install it late, print it with `efi=debug`, and let the
//! boot-services code free what the runtime does not need.
//!
//! Not modelled: the page tables (`efi_alloc_page_tables`,
//! `efi_setup_page_tables`), SetVirtualAddressMap (it succeeds), mixed
//! mode (64-bit firmware), `efi_check_for_embedded_firmwares`.

use crate::model::desc::{attr, off, ty, EFI_PAGE_SHIFT};
use crate::model::era::BootServices;
use crate::model::func::Func;
use crate::model::kernel::{Kernel, Level, MapPtr};

pub use crate::model::kernel::EFI_VA_START;
/// `EFI_VA_END`: its bottom (-68 GiB).
pub const EFI_VA_END: u64 = 68u64.wrapping_neg() << 30;
/// `PMD_SIZE` on x86_64: 2 MiB.
const PMD_SIZE: u64 = 2 << 20;

impl Kernel {
    /// `efi_enter_virtual_mode()`, not from kexec (that is
    /// [`crate::model::boot::LaterStep::KexecInitLate`]).
    pub fn efi_enter_virtual_mode(&mut self) {
        self.call(Func::EfiEnterVirtualMode, |k| k.__efi_enter_virtual_mode());
    }

    /// `__efi_enter_virtual_mode()`: merge, map into a new map, unmap the
    /// old one, `efi_memmap_init_late` of the new one, print it with
    /// `efi=debug`, then the era's boot-services step.
    pub fn __efi_enter_virtual_mode(&mut self) {
        self.call(Func::EfiEnterVirtualModeInner, |k| {
            k.efi_merge_regions();
            let Some((new, count)) = k.efi_map_regions() else {
                k.log(
                    Level::Err,
                    "efi: Error reallocating memory, EFI runtime non-functional!".into(),
                );
                return;
            };
            k.virtual_mode = true;
            k.efi_memmap_unmap();
            let size = k.memmap.desc_size.wrapping_mul(count);
            if k.efi_memmap_init_late(new, size).is_err() {
                k.log(
                    Level::Err,
                    "efi: Failed to remap late EFI memory map".into(),
                );
                return;
            }
            if k.efi_debug && !k.quiet {
                k.log(Level::Info, "efi: EFI runtime memory map:".into());
                k.efi_print_memmap();
            }
            match k.f.boot_services {
                BootServices::FreeAtOnce => k.efi_free_boot_services(),
                BootServices::Deferred { .. } => k.efi_unmap_boot_services(),
            }
        })
    }

    /// `efi_merge_regions()`: a descriptor that continues the one before it
    /// with the same type and attributes is folded into it, and becomes a
    /// Reserved descriptor with no attributes (it keeps its pages).
    fn efi_merge_regions(&mut self) {
        self.count(Func::EfiMergeRegions);
        let Some(map) = self.memmap.map else { return };
        let mut prev: Option<u64> = None;
        for o in self.for_each_desc() {
            let Some(p) = prev else {
                prev = Some(o);
                continue;
            };
            let (pt, pa) = (
                self.rd32(map, p + off::TYPE),
                self.rd64(map, p + off::ATTRIBUTE),
            );
            let (t, a) = (
                self.rd32(map, o + off::TYPE),
                self.rd64(map, o + off::ATTRIBUTE),
            );
            if pt != t || pa != a {
                prev = Some(o);
                continue;
            }
            let prev_pages = self.rd64(map, p + off::NUM_PAGES);
            let prev_end = self
                .rd64(map, p + off::PHYS_ADDR)
                .wrapping_add(prev_pages << EFI_PAGE_SHIFT);
            if self.rd64(map, o + off::PHYS_ADDR) == prev_end {
                let pages = self.rd64(map, o + off::NUM_PAGES);
                self.wr64(map, p + off::NUM_PAGES, prev_pages.wrapping_add(pages));
                self.wr32(map, o + off::TYPE, ty::RESERVED);
                self.wr64(map, o + off::ATTRIBUTE, 0);
                continue;
            }
            prev = Some(o);
        }
    }

    /// `should_map_region(md)` on 64-bit, not mixed mode.
    fn should_map_region(&mut self, t: u32, a: u64) -> bool {
        self.count(Func::ShouldMapRegion);
        if a & attr::RUNTIME != 0 {
            return true;
        }
        if t == ty::CONVENTIONAL_MEMORY && self.soft_reserve && a & attr::SP != 0 {
            return false;
        }
        t == ty::BOOT_SERVICES_CODE || t == ty::BOOT_SERVICES_DATA
    }

    /// `efi_map_regions(&count, &pg_shift)`: walks the map last to first
    /// (`efi_map_next_entry_reverse`, 64-bit), and copies each region
    /// `should_map_region` keeps, after `efi_map_region` gave it a virtual
    /// address, into pages that `realloc_pages` doubles as they fill.
    /// Returns the new map's physical address and its count.
    fn efi_map_regions(&mut self) -> Option<(u64, u64)> {
        self.call(Func::EfiMapRegions, |k| {
            let map = k.memmap.map?;
            let ds = k.memmap.desc_size;
            let (mut count, mut pg_shift, mut left) = (0u64, 0u32, 0u64);
            let mut new: Option<(MapPtr, u64)> = None;
            let offsets: Vec<u64> = k.for_each_desc().collect();
            for &o in offsets.iter().rev() {
                let (t, a) = (k.rd32(map, o + off::TYPE), k.rd64(map, o + off::ATTRIBUTE));
                if !k.should_map_region(t, a) {
                    continue;
                }
                k.efi_map_region(map, o);
                if left < ds {
                    new = Some(k.realloc_pages(new, pg_shift)?);
                    left += crate::model::desc::EFI_PAGE_SIZE << pg_shift;
                    pg_shift += 1;
                }
                let (ptr, _) = new?;
                k.memcpy(ptr, count * ds, map, o, ds);
                left -= ds;
                count += 1;
            }
            new.map(|(_, phys)| (phys, count))
        })
    }

    /// `realloc_pages(old, old_shift)`: pages of order `old_shift + 1`, the
    /// old block's bytes copied in, the old block freed.
    fn realloc_pages(
        &mut self,
        old: Option<(MapPtr, u64)>,
        old_shift: u32,
    ) -> Option<(MapPtr, u64)> {
        self.count(Func::ReallocPages);
        let by = "efi_map_regions";
        let size = crate::model::desc::EFI_PAGE_SIZE << (old_shift + 1);
        let got = self.mem.page_alloc(size, by);
        if let (Some((id, _)), Some((o, _))) = (got, old) {
            let half = crate::model::desc::EFI_PAGE_SIZE << old_shift;
            self.memcpy(MapPtr { alloc: id, off: 0 }, 0, o, 0, half);
        }
        if let Some((_, phys)) = old {
            let half = crate::model::desc::EFI_PAGE_SIZE << old_shift;
            self.mem.free(phys, half, by);
        }
        got.map(|(id, phys)| (MapPtr { alloc: id, off: 0 }, phys))
    }

    /// `efi_map_region(md)` (efi_64.c): the region's virtual address, taken
    /// top-down from `EFI_VA_START` with the physical address's offset in
    /// its 2 MiB page kept, is written into the descriptor.
    fn efi_map_region(&mut self, map: MapPtr, o: u64) {
        self.count(Func::EfiMapRegion);
        let pa = self.rd64(map, o + off::PHYS_ADDR);
        let size = self.rd64(map, o + off::NUM_PAGES) << EFI_PAGE_SHIFT;
        self.efi_va = self.efi_va.wrapping_sub(size);
        if pa & (PMD_SIZE - 1) == 0 {
            self.efi_va &= !(PMD_SIZE - 1);
        } else {
            let prev = self.efi_va;
            self.efi_va = (self.efi_va & !(PMD_SIZE - 1)) + (pa & (PMD_SIZE - 1));
            if self.efi_va > prev {
                self.efi_va = self.efi_va.wrapping_sub(PMD_SIZE);
            }
        }
        if self.efi_va < EFI_VA_END {
            self.log(
                Level::Warn,
                "efi: [Firmware Warn]: VA address range overflow!".into(),
            );
            return;
        }
        let va = self.efi_va;
        self.wr64(map, o + off::VIRT_ADDR, va);
    }
}
