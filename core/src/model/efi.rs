//! Generic and x86 EFI helpers around the map: lookup, `efi_mem_reserve`,
//! `efi_clean_memmap`, `efi_print_memmap`.
//!
//! Models drivers/firmware/efi/efi.c (v5.4 .. 6599e683: the lookup and
//! `efi_mem_reserve` did not change) and arch/x86/platform/efi/efi.c
//! (`efi_clean_memmap` as at v5.5 and after 59365cad).

use crate::model::desc::{ty, MemoryDesc, EFI_PAGES_MAX, EFI_PAGE_SHIFT};
use crate::model::e820::{E820Op, E820Type};
use crate::model::func::Func;
use crate::model::kernel::{Errno, Kernel, Level, MemoryMapData};
use crate::model::print::{efi_md_typeattr_format_with, memmap_line_with};

/// What `efi_mem_desc_lookup` skips from ab03e91e60ce: a descriptor that
/// is misaligned, empty, or runs past 2^64.
pub fn bogus(md: &MemoryDesc) -> bool {
    md.phys_addr % crate::model::desc::EFI_PAGE_SIZE != 0
        || md.num_pages == 0
        || md.num_pages > (u64::MAX - md.phys_addr) >> EFI_PAGE_SHIFT
}

impl Kernel {
    /// `efi_mem_desc_lookup(addr, &out)`: the first descriptor with
    /// `phys <= addr < phys + (pages << 12)` (wrapping), 40 bytes of it.
    /// No type filter. Empty descriptors never match. From ab03e91e60ce
    /// misaligned, empty and overflowing descriptors are skipped.
    pub fn efi_mem_desc_lookup(&mut self, addr: u64) -> Result<MemoryDesc, Errno> {
        self.call(Func::EfiMemDescLookup, |k| {
            if !k.memmap_enabled {
                k.log_once(
                    "lookup-disabled",
                    Level::Err,
                    "efi: EFI_MEMMAP is not enabled.".into(),
                );
                Err(Errno::EINVAL)
            } else {
                let map = k.memmap.map.expect("EFI_MEMMAP set means mapped");
                let mut found = Err(Errno::ENOENT);
                for o in k.for_each_desc() {
                    let md = k.read_desc(map, o);
                    if k.f.lookup_skips_bogus && bogus(&md) {
                        continue;
                    }
                    if addr >= md.phys_addr && addr < md.end_exclusive() {
                        found = Ok(md);
                        break;
                    }
                }
                found
            }
        })
    }

    /// `efi_mem_reserve(addr, size)`: memblock-reserves the range (not
    /// modelled: memblock's own bookkeeping) and calls the arch hook.
    pub fn efi_mem_reserve(&mut self, addr: u64, size: u64) {
        if !self.memblock_is_region_reserved(addr, size) {
            self.reserved.push((addr, size)); // memblock_reserve
        }
        self.call(Func::EfiMemReserve, |k| {
            k.efi_arch_mem_reserve(addr, size);
        })
    }

    /// `efi_memmap_entry_valid(md, i)` (x86 efi.c): invalid when it has no
    /// pages or its last page index reaches 2^52; prints why.
    fn efi_memmap_entry_valid(&mut self, md: &MemoryDesc, i: u64) -> bool {
        self.count(Func::EfiMemmapEntryValid);
        const OVERFLOW_ADDR_SHIFT: u32 = 64 - EFI_PAGE_SHIFT;
        const OVERFLOW_ADDR_MASK: u64 = u64::MAX << OVERFLOW_ADDR_SHIFT;
        const U64_HIGH_BIT: u64 = 1 << 63;
        let mut end = md.end();
        let mut end_hi = 0u64;
        if md.num_pages == 0 {
            end = 0;
        } else if md.num_pages > EFI_PAGES_MAX
            || EFI_PAGES_MAX - md.num_pages < (md.phys_addr >> EFI_PAGE_SHIFT)
        {
            end_hi = (md.num_pages & OVERFLOW_ADDR_MASK) >> OVERFLOW_ADDR_SHIFT;
            if md.phys_addr & U64_HIGH_BIT != 0 && end & U64_HIGH_BIT == 0 {
                end_hi += 1;
            }
        } else {
            return true;
        }
        self.log_once(
            "fw-bug-invalid",
            Level::Warn,
            "efi: [Firmware Bug]: Invalid EFI memory map entries:".into(),
        );
        let ta = efi_md_typeattr_format_with(md, self.f.printer, self.f.unaccepted_name);
        let text = if end_hi != 0 {
            format!(
                "efi: mem{:02}: {} range=[0x{:016x}-0x{:x}{:016x}] (invalid)",
                i, ta, md.phys_addr, end_hi, end
            )
        } else {
            format!(
                "efi: mem{:02}: {} range=[0x{:016x}-0x{:016x}] (invalid)",
                i, ta, md.phys_addr, end
            )
        };
        self.log(Level::Warn, text);
        false
    }

    /// `efi_clean_memmap()` (efi_init): compacts the valid descriptors in
    /// place and reinstalls the same buffer with fewer entries. The walk
    /// runs `in < map_end`, i.e. over ceil(size / desc_size) descriptors.
    pub fn efi_clean_memmap(&mut self) {
        self.call(Func::EfiCleanMemmap, |k| {
            if let Some(map) = k.memmap.map {
                let ds = k.memmap.desc_size;
                let (mut inp, mut out, mut i, mut n_removal) = (0u64, 0u64, 0u64, 0u64);
                while inp < k.memmap.map_len && ds > 0 {
                    let md = k.read_desc(map, inp);
                    if k.efi_memmap_entry_valid(&md, i) {
                        if out != inp {
                            k.memcpy(map, out, map, inp, ds);
                        }
                        out += ds;
                    } else {
                        n_removal += 1;
                    }
                    inp += ds;
                    i += 1;
                }
                if n_removal > 0 {
                    let size = k.memmap.nr_map.wrapping_sub(n_removal);
                    k.log(
                        Level::Warn,
                        format!("efi: Removing {} invalid memory map entries.", n_removal),
                    );
                    let data = MemoryMapData {
                        phys_map: k.memmap.phys_map,
                        size: k.memmap.desc_size.wrapping_mul(size),
                        desc_version: k.memmap.desc_version,
                        desc_size: k.memmap.desc_size,
                        flags: 0,
                    };
                    let _ = k.efi_memmap_install(&data);
                }
            }
        })
    }

    /// `efi_print_memmap()` (x86): one `efi: memNN:` line per descriptor.
    /// `efi_remove_e820_mmio()` (efi_init, after `efi_clean_memmap`, in
    /// the eras with [`crate::model::era::Features::remove_e820_mmio`]):
    /// each EFI_MEMORY_MAPPED_IO descriptor of 256 KiB or more is removed
    /// from e820 as a reserved range, a smaller one only named; the index
    /// printed counts every descriptor.
    pub fn efi_remove_e820_mmio(&mut self) {
        self.call(Func::EfiRemoveE820Mmio, |k| {
            let Some(map) = k.memmap.map else { return };
            let offsets: Vec<u64> = k.for_each_desc().collect();
            for (i, o) in offsets.into_iter().enumerate() {
                let md = k.read_desc(map, o);
                if md.ty != ty::MEMORY_MAPPED_IO {
                    continue;
                }
                let size = md.num_pages.wrapping_shl(EFI_PAGE_SHIFT);
                let start = md.phys_addr;
                let end = start.wrapping_add(size).wrapping_sub(1);
                if size >= 256 * 1024 {
                    if !k.quiet {
                        k.log(
                        Level::Info,
                        format!(
                            "efi: Remove mem{i:02}: MMIO range=[{start:#010x}-{end:#010x}] ({}MB) from e820 map",
                            size >> 20
                        ),
                    );
                    }
                    k.e820_request(start, size, E820Op::Remove { from: E820Type::RESERVED });
                } else if !k.quiet {
                    k.log(
                        Level::Info,
                        format!(
                            "efi: Not removing mem{i:02}: MMIO range=[{start:#010x}-{end:#010x}] ({}KB) from e820 map",
                            size >> 10
                        ),
                    );
                }
            }
        })
    }

    pub fn efi_print_memmap(&mut self) {
        self.call(Func::EfiPrintMemmap, |k| {
            if let Some(map) = k.memmap.map {
                for (i, o) in k.for_each_desc().enumerate() {
                    let md = k.read_desc(map, o);
                    if !k.quiet {
                        let line = memmap_line_with(i, &md, k.f.printer, k.f.unaccepted_name);
                        k.log(Level::Info, line);
                    }
                }
            }
        })
    }
}
