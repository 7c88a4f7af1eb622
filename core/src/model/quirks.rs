//! `efi_arch_mem_reserve` (arch/x86/platform/efi/quirks.c), as at 704f63ef
//! (v5.4), with af164898 (v5.5), 1db91035 (v5.6) and 1ff2fc02 (the
//! encrypted mapping, which the model does not distinguish).
//!
//! Its weakness in every era: it counts the splits for the one descriptor
//! it looked up, while `efi_memmap_insert` walks the whole map. Any other
//! descriptor the range splits (an overlapping one, or an empty (0, 0)
//! entry, which ends at 2^64 - 1) writes past the new buffer. The
//! `v7.0-rc+fix` era counts every descriptor's splits instead
//! (`reserve_counts_every_desc`); `reserve_one_short`, in no era, injects
//! a new overrun for tests.

use crate::model::desc::{attr, ty, MemRange, EFI_PAGE_SIZE};
use crate::model::func::Func;
use crate::model::kernel::{E820Op, E820Type, EventKind, Kernel, Level, MemoryMapData};

/// The page-rounded range `efi_arch_mem_reserve` inserts for `(addr,
/// size)`: `addr` rounded down, `size + addr % 4096` rounded up, as
/// `[start, start + size - 1]` (wrapping, as the C does: a size that rounds
/// to 0 gives the empty range `[start, start - 1]`, which at 0 is the whole
/// address space).
pub fn reserve_range(addr: u64, size: u64) -> (u64, u64) {
    let size = size.wrapping_add(addr % EFI_PAGE_SIZE);
    let size = (size.wrapping_sub(1) | (EFI_PAGE_SIZE - 1)).wrapping_add(1); // round_up
    let addr = addr & !(EFI_PAGE_SIZE - 1);
    (addr, addr.wrapping_add(size).wrapping_sub(1))
}

impl Kernel {
    /// `efi_arch_mem_reserve(addr, size)`: marks `[addr, addr + size)`,
    /// page-rounded, RUNTIME in a new map so that efi_free_boot_services
    /// keeps it.
    pub fn efi_arch_mem_reserve(&mut self, addr: u64, size: u64) {
        self.call(Func::EfiArchMemReserve, |k| {
            k.arch_mem_reserve(addr, size);
        })
    }

    fn arch_mem_reserve(&mut self, addr: u64, size: u64) {
        // Both messages print the address as the caller passed it (%pa).
        let md = match self.efi_mem_desc_lookup(addr) {
            Ok(md) if md.ty == ty::BOOT_SERVICES_DATA => md,
            _ => {
                let text = format!("efi: Failed to lookup EFI memory descriptor for 0x{addr:016x}");
                return self.log_kind(Level::Err, text, EventKind::ReserveRefused { addr });
            }
        };
        if addr.wrapping_add(size) > md.end_exclusive() {
            let text = format!("efi: Region spans EFI memory descriptors, 0x{addr:016x}");
            return self.log_kind(Level::Err, text, EventKind::ReserveRefused { addr });
        }
        if self.f.reserve_skips_runtime && md.attribute & attr::RUNTIME != 0 {
            return; // "No need to reserve regions that will never be freed."
        }
        let (start, end) = reserve_range(addr, size);
        let (addr, size) = (start, end.wrapping_sub(start).wrapping_add(1));
        let mr = MemRange::new(start, end, md.attribute | attr::RUNTIME);

        let splits = if self.f.reserve_counts_every_desc {
            // The proposed fix: every descriptor insert will split.
            let map = self.memmap.map.expect("the lookup found a mapped map");
            let offsets: Vec<u64> = self.for_each_desc().collect();
            offsets
                .into_iter()
                .map(|o| {
                    let md = self.read_desc(map, o);
                    self.split_count(&md, &mr)
                })
                .fold(0u64, u64::wrapping_add)
        } else {
            self.split_count(&md, &mr)
        };
        let mut num_entries = splits.wrapping_add(self.memmap.nr_map);
        if self.f.reserve_one_short {
            num_entries = num_entries.wrapping_sub(1);
        }
        let mut data = MemoryMapData::default();
        if self.efi_memmap_alloc(num_entries, &mut data).is_err() {
            return self.log(
                Level::Err,
                "efi: Could not allocate boot services memmap".into(),
            );
        }
        let Some(new) = self.early_memremap(data.phys_map, data.size) else {
            // The allocation is leaked.
            return self.log(
                Level::Err,
                "efi: Failed to map new boot services memmap".into(),
            );
        };
        let current = self.memmap;
        self.efi_memmap_insert(&current, new, &mr);
        let _ = self.efi_memmap_install(&data);
        if self.f.reserve_updates_e820 {
            // With the rounded range, whether or not the install worked.
            self.e820_request(
                addr,
                size,
                E820Op::Update {
                    from: E820Type::RAM,
                    to: E820Type::RESERVED,
                },
            );
        }
    }
}
