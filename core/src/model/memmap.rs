//! The memmap manipulation functions: split_count, insert, alloc, free,
//! install and the init/unmap family.
//!
//! Models drivers/firmware/efi/memmap.c as at v5.5 (38b686c67b17 blob),
//! 1db91035, f0ef6523 and 550d14e3, and arch/x86/platform/efi/memmap.c as at
//! 450a60ef (v6.10, with 75dde792) and 57b42136 (v6.11). split_count and
//! insert are the same logic in every one of them.

use crate::model::desc::{off, MemRange, MemoryDesc, EFI_PAGE_SHIFT, EFI_PAGE_SIZE};
use crate::model::era::{MemmapApi, OldMapFree};
use crate::model::func::Func;
use crate::model::kernel::{
    Copied, EfiMemoryMap, Errno, InsertCall, Install, InstallKind, Kernel, Level, MapPtr,
    MemoryMapData, EFI_MEMMAP_LATE, EFI_MEMMAP_MEMBLOCK, EFI_MEMMAP_SLAB,
};

/// Which row of the kernel's condition table a descriptor `[S, E]` and a
/// range `[A, B]` fall in. `efi_memmap_split_count` and
/// `efi_memmap_insert` test the same four conditions, in this order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Shape {
    /// Untouched: copied as it is.
    None,
    /// `A <= S && E <= B`: the range covers the whole descriptor.
    Full,
    /// `A <= S && S < B && B < E`: it covers the head; the tail remains.
    Head,
    /// `S < A && A < E && B < E`: strictly inside; three parts.
    Inside,
    /// `S < A && A < E && E <= B`: it covers the tail.
    Tail,
}

/// The shape of `range` on `md`, `E` being the wrapping end the kernel
/// computes ([`MemoryDesc::end`]).
pub fn shape(md: &MemoryDesc, range: &MemRange) -> Shape {
    shape_of(md.phys_addr, md.end(), range)
}

fn shape_of(s: u64, e: u64, range: &MemRange) -> Shape {
    let (a, b) = (range.start, range.end);
    if a <= s && e <= b {
        Shape::Full
    } else if a <= s && s < b && b < e {
        Shape::Head
    } else if s < a && a < e && b < e {
        Shape::Inside
    } else if s < a && a < e && e <= b {
        Shape::Tail
    } else {
        Shape::None
    }
}

/// `efi_memmap_split_count(md, range)`: how many descriptors beyond `md`
/// itself inserting `range` will produce (0, 1 or 2). No alignment check.
pub fn efi_memmap_split_count(md: &MemoryDesc, range: &MemRange) -> u64 {
    match shape(md, range) {
        Shape::Head | Shape::Tail => 1,
        Shape::Inside => 2,
        Shape::None | Shape::Full => 0,
    }
}

/// Whether `efi_memmap_insert` accepts the range: start and end + 1 (mod
/// 2^64) page-aligned. It WARNs and writes nothing otherwise.
pub fn insert_range_aligned(range: &MemRange) -> bool {
    range.start % EFI_PAGE_SIZE == 0 && range.end.wrapping_add(1) % EFI_PAGE_SIZE == 0
}

impl Kernel {
    /// [`efi_memmap_split_count`], counted as a call.
    pub(crate) fn split_count(&mut self, md: &MemoryDesc, range: &MemRange) -> u64 {
        self.count(Func::EfiMemmapSplitCount);
        efi_memmap_split_count(md, range)
    }

    /// `efi_memmap_insert(old_memmap, buf, mem)`: copies every descriptor of
    /// `old` into `buf`, splitting the ones `mem` partly covers and OR-ing
    /// `mem.attribute` into the covered parts. Writes are unbounded: the
    /// caller must have sized `buf`. Returns the number of descriptors
    /// written (the kernel returns nothing; the model reports it).
    pub fn efi_memmap_insert(&mut self, old: &EfiMemoryMap, buf: MapPtr, mem: &MemRange) -> u64 {
        self.call(Func::EfiMemmapInsert, |k| {
            let (m_start, m_end, m_attr) = (mem.start, mem.end, mem.attribute);
            let ds = old.desc_size;
            let room = k
                .mem
                .allocations
                .get(buf.alloc)
                .map_or(0, |a| a.size.saturating_sub(buf.off) / ds.max(1));
            let mut call = InsertCall {
                caller: k.culprit(),
                buf: buf.alloc,
                range: *mem,
                map_len: old.map_len,
                desc_size: ds,
                copied: Vec::new(),
                written: 0,
                room,
            };
            if !insert_range_aligned(mem) {
                let file = k.memmap_file();
                k.warn_on(file);
                k.inserts.push(call);
                return 0;
            }
            let Some(map) = old.map else {
                // The loop would start at NULL; the kernel oopses on the first copy.
                if old.map_len > 0 {
                    k.log(
                        Level::Warning,
                        "BUG: kernel NULL pointer dereference, address: 0000000000000000".into(),
                    );
                }
                k.inserts.push(call);
                return 0;
            };
            let (mut o, mut n) = (0u64, 0u64);
            while o < old.map_len {
                // Copy the original; S and E come from the copy before any edit.
                // The loads are the compiled code's (gcc -O2, held against
                // Debian's 6.1 and 6.12 trees): `phys_addr` is loaded again
                // for the first part of a tail split only: not for the
                // head's or the inside's first part, and not right after a
                // part's own `phys_addr` was stored.
                k.memcpy(buf, n, map, o, ds);
                call.written += 1;
                let start = k.rd64(buf, n + off::PHYS_ADDR);
                let pages = k.rd64(buf, n + off::NUM_PAGES);
                call.copied.push(Copied {
                    offset: o,
                    start,
                    pages,
                });
                let end = start.wrapping_add(pages << EFI_PAGE_SHIFT).wrapping_sub(1);

                match shape_of(start, end, mem) {
                    Shape::None => {}
                    Shape::Full => k.or_attr(buf, n, m_attr),
                    Shape::Head => {
                        // Head covered: [start, m_end] + attr, then [m_end + 1, end].
                        k.or_attr(buf, n, m_attr);
                        k.wr64(
                            buf,
                            n + off::NUM_PAGES,
                            m_end.wrapping_sub(start).wrapping_add(1) >> EFI_PAGE_SHIFT,
                        );
                        n = n.wrapping_add(ds);
                        call.written += 1;
                        k.memcpy(buf, n, map, o, ds);
                        k.wr64(buf, n + off::PHYS_ADDR, m_end.wrapping_add(1));
                        k.wr64(
                            buf,
                            n + off::NUM_PAGES,
                            end.wrapping_sub(m_end) >> EFI_PAGE_SHIFT,
                        );
                    }
                    Shape::Inside => {
                        // Strictly inside: [start, m_start), [m_start, m_end] + attr, [m_end + 1, end].
                        k.wr64(
                            buf,
                            n + off::NUM_PAGES,
                            m_start.wrapping_sub(start) >> EFI_PAGE_SHIFT,
                        );
                        n = n.wrapping_add(ds);
                        call.written += 1;
                        k.memcpy(buf, n, map, o, ds);
                        k.or_attr(buf, n, m_attr);
                        k.wr64(buf, n + off::PHYS_ADDR, m_start);
                        k.wr64(
                            buf,
                            n + off::NUM_PAGES,
                            m_end.wrapping_sub(m_start).wrapping_add(1) >> EFI_PAGE_SHIFT,
                        );
                        n = n.wrapping_add(ds);
                        call.written += 1;
                        k.memcpy(buf, n, map, o, ds);
                        k.wr64(buf, n + off::PHYS_ADDR, m_end.wrapping_add(1));
                        k.wr64(
                            buf,
                            n + off::NUM_PAGES,
                            end.wrapping_sub(m_end) >> EFI_PAGE_SHIFT,
                        );
                    }
                    Shape::Tail => {
                        // Tail covered: [start, m_start), [m_start, end] + attr.
                        let phys = k.rd64(buf, n + off::PHYS_ADDR);
                        k.wr64(
                            buf,
                            n + off::NUM_PAGES,
                            m_start.wrapping_sub(phys) >> EFI_PAGE_SHIFT,
                        );
                        n = n.wrapping_add(ds);
                        call.written += 1;
                        k.memcpy(buf, n, map, o, ds);
                        k.wr64(buf, n + off::PHYS_ADDR, m_start);
                        k.wr64(
                            buf,
                            n + off::NUM_PAGES,
                            end.wrapping_sub(m_start).wrapping_add(1) >> EFI_PAGE_SHIFT,
                        );
                        k.or_attr(buf, n, m_attr);
                    }
                }
                o = o.wrapping_add(ds);
                n = n.wrapping_add(ds);
            }
            let written = call.written;
            k.inserts.push(call);
            written
        })
    }

    /// `md->attribute |= attr` on the descriptor at `n` in `buf`.
    fn or_attr(&mut self, buf: MapPtr, n: u64, attr: u64) {
        let a = self.rd64(buf, n + off::ATTRIBUTE);
        self.wr64(buf, n + off::ATTRIBUTE, a | attr);
    }

    /// `efi_memmap_alloc`, in the era's shape ([`MemmapApi`]). Neither
    /// shape zeroes the memory. The model hands both the same
    /// [`MemoryMapData`]; the `Late` shape fills only its address and size.
    pub fn efi_memmap_alloc(
        &mut self,
        num_entries: u64,
        data: &mut MemoryMapData,
    ) -> Result<(), Errno> {
        self.call(Func::EfiMemmapAlloc, |k| match k.f.memmap_api {
            MemmapApi::Late => {
                let phys = k.efi_memmap_alloc_late(num_entries);
                *data = MemoryMapData {
                    phys_map: phys,
                    size: num_entries.wrapping_mul(k.memmap.desc_size),
                    ..MemoryMapData::default()
                };
                if phys == 0 {
                    Err(Errno::ENOMEM)
                } else {
                    Ok(())
                }
            }
            MemmapApi::Flags => k.efi_memmap_alloc_flags(num_entries, data),
        })
    }

    /// `efi_memmap_alloc(num_entries)` as in v5.4: `num_entries *
    /// efi.memmap.desc_size` bytes from the page allocator once slab is up,
    /// else from memblock; the physical address, 0 on failure.
    fn efi_memmap_alloc_late(&mut self, num_entries: u64) -> u64 {
        let size = num_entries.wrapping_mul(self.memmap.desc_size);
        let by = self.culprit();
        if size > crate::model::mem::MAX_MAP_BYTES {
            0 // more than the model will simulate: an allocation failure
        } else if self.slab_available {
            self.mem.page_alloc(size, by).map_or(0, |a| a.1)
        } else {
            self.mem.memblock_alloc(size, by).map_or(0, |a| a.1)
        }
    }

    /// `efi_memmap_alloc(num_entries, data)` as 1db91035 made it: WARNs on a
    /// `data` already used, fills in the size, version and stride, carries
    /// the current map's LATE bit, and records MEMBLOCK or SLAB.
    fn efi_memmap_alloc_flags(
        &mut self,
        num_entries: u64,
        data: &mut MemoryMapData,
    ) -> Result<(), Errno> {
        if data.phys_map != 0 || data.size != 0 {
            let file = self.memmap_file();
            self.warn_on(file);
        }
        data.size = num_entries.wrapping_mul(self.memmap.desc_size);
        data.desc_version = self.memmap.desc_version;
        data.desc_size = self.memmap.desc_size;
        data.flags &= !(EFI_MEMMAP_SLAB | EFI_MEMMAP_MEMBLOCK);
        data.flags |= self.memmap.flags & EFI_MEMMAP_LATE;
        let by = self.culprit();
        let phys = if data.size > crate::model::mem::MAX_MAP_BYTES {
            0
        } else if self.slab_available {
            data.flags |= EFI_MEMMAP_SLAB;
            self.mem.page_alloc(data.size, by).map_or(0, |a| a.1)
        } else {
            data.flags |= EFI_MEMMAP_MEMBLOCK;
            self.mem.memblock_alloc(data.size, by).map_or(0, |a| a.1)
        };
        data.phys_map = phys;
        if phys == 0 {
            Err(Errno::ENOMEM)
        } else {
            Ok(())
        }
    }

    /// `__efi_memmap_free(phys, size, flags)` (f0ef6523): memblock or page
    /// free by the flags, nothing for a firmware map.
    pub fn __efi_memmap_free(&mut self, phys: u64, size: u64, flags: u32) {
        self.call(Func::EfiMemmapFree, |k| {
            if flags & (EFI_MEMMAP_MEMBLOCK | EFI_MEMMAP_SLAB) != 0 {
                // memblock_free / memblock_free_late / free_pages(get_order(size))
                let by = k.api_entry();
                k.mem.free(phys, size, by);
            }
        })
    }

    /// `__efi_memmap_init(data)` (v5.4/v5.5: `(data, late)`, the model's
    /// `late` being `data.flags & EFI_MEMMAP_LATE`): maps the new map, in
    /// f0ef6523 .. v6.9 frees the *current* map per its flags, and makes the
    /// new one current. No paravirt (Xen) path is modelled.
    pub fn __efi_memmap_init(
        &mut self,
        data: &MemoryMapData,
        kind: InstallKind,
    ) -> Result<(), Errno> {
        self.call(Func::EfiMemmapInitInner, |k| {
            let map = if data.flags & EFI_MEMMAP_LATE != 0 {
                k.memremap(data.phys_map, data.size)
            } else {
                k.early_memremap(data.phys_map, data.size)
            };
            let Some(map) = map else {
                k.log(Level::Err, "efi: Could not map the memory map!".into());
                return Err(Errno::ENOMEM);
            };
            if k.f.old_map_free == OldMapFree::InInit {
                // efi_memmap_free(): the current map, by the current map's flags.
                let cur = k.memmap;
                k.__efi_memmap_free(
                    cur.phys_map,
                    cur.desc_size.wrapping_mul(cur.nr_map),
                    cur.flags,
                );
            }
            let flags = match k.f.memmap_api {
                MemmapApi::Flags => data.flags,
                MemmapApi::Late => data.flags & EFI_MEMMAP_LATE,
            };
            k.memmap = EfiMemoryMap {
                phys_map: data.phys_map,
                map: Some(map),
                map_len: data.size,
                nr_map: data.size.checked_div(data.desc_size).unwrap_or(0),
                desc_version: data.desc_version,
                desc_size: data.desc_size,
                flags,
            };
            k.memmap_enabled = true;
            let kind = if k.virtual_mode {
                InstallKind::Runtime
            } else {
                kind
            };
            let install = Install {
                kind,
                by: k.culprit(),
                stage: k.stage,
                phys: data.phys_map,
                alloc: Some(map.alloc),
                descs: k.installed_descs(),
            };
            k.installs.push(install);
            Ok(())
        })
    }

    /// `efi_memmap_init_early(data)`: WARNs if the map is already late.
    pub fn efi_memmap_init_early(&mut self, data: &MemoryMapData) -> Result<(), Errno> {
        self.call(Func::EfiMemmapInitEarly, |k| {
            if k.memmap.flags & EFI_MEMMAP_LATE != 0 {
                k.warn_on("drivers/firmware/efi/memmap.c");
            }
            let data = MemoryMapData { flags: 0, ..*data };
            k.__efi_memmap_init(&data, InstallKind::Firmware)
        })
    }

    /// `efi_memmap_unmap()`: returns if EFI_MEMMAP is clear; otherwise
    /// unmaps and clears it. `map_len`, `nr_map` and the rest stay stale.
    pub fn efi_memmap_unmap(&mut self) {
        self.count(Func::EfiMemmapUnmap);
        if !self.memmap_enabled {
            return;
        }
        self.memmap.map = None;
        self.memmap_enabled = false;
    }

    /// `efi_memmap_init_late(addr, size)`: remaps with the late remapper.
    /// Both WARNs only warn. The new map's flags are LATE alone: a MEMBLOCK
    /// or SLAB origin is forgotten.
    pub fn efi_memmap_init_late(&mut self, addr: u64, size: u64) -> Result<(), Errno> {
        self.call(Func::EfiMemmapInitLate, |k| {
            if k.memmap.map.is_some() {
                k.warn_on("drivers/firmware/efi/memmap.c"); // forgot to unmap the early map?
            }
            if k.memmap.flags & EFI_MEMMAP_LATE != 0 {
                k.warn_on("drivers/firmware/efi/memmap.c"); // already called?
            }
            let data = MemoryMapData {
                phys_map: addr,
                size,
                desc_version: k.memmap.desc_version,
                desc_size: k.memmap.desc_size,
                flags: EFI_MEMMAP_LATE,
            };
            k.__efi_memmap_init(&data, InstallKind::Remap)
        })
    }

    /// `efi_memmap_install`, in the era's shape ([`MemmapApi`]).
    pub fn efi_memmap_install(&mut self, data: &MemoryMapData) -> Result<(), Errno> {
        self.call(Func::EfiMemmapInstall, |k| match k.f.memmap_api {
            MemmapApi::Late => {
                k.efi_memmap_install_late(data.phys_map, data.size / k.memmap.desc_size.max(1))
            }
            MemmapApi::Flags => k.efi_memmap_install_flags(data),
        })
    }

    /// `efi_memmap_install(addr, nr_map)` as in v5.4: unmap, then init with
    /// the current map's stride, version and `late` carried over.
    fn efi_memmap_install_late(&mut self, addr: u64, nr_map: u64) -> Result<(), Errno> {
        let old = self.memmap;
        self.efi_memmap_unmap();
        let data = MemoryMapData {
            phys_map: addr,
            size: old.desc_size.wrapping_mul(nr_map),
            desc_version: old.desc_version,
            desc_size: old.desc_size,
            flags: old.flags & EFI_MEMMAP_LATE,
        };
        self.__efi_memmap_init(&data, InstallKind::New)
    }

    /// `efi_memmap_install(data)` as 1db91035 made it: unmap, init; with
    /// 75dde792, the old map remembered first and, on success, freed by its
    /// flags.
    fn efi_memmap_install_flags(&mut self, data: &MemoryMapData) -> Result<(), Errno> {
        let old = self.memmap;
        self.efi_memmap_unmap();
        let r = self.__efi_memmap_init(data, InstallKind::New);
        if r.is_ok() && self.f.old_map_free == OldMapFree::AfterInstall {
            self.__efi_memmap_free(
                old.phys_map,
                old.desc_size.wrapping_mul(old.nr_map),
                old.flags,
            );
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::desc::{attr, ty, MemoryDesc};

    const G: u64 = 1 << 30;

    /// Descriptor [4G, 8G), ranges by the condition table (docs/kernel-notes.md).
    fn d() -> MemoryDesc {
        MemoryDesc::new(ty::CONVENTIONAL_MEMORY, 4 * G, G >> 10, attr::WB)
    }

    #[test]
    fn split_count_rows_of_the_condition_table() {
        let md = d(); // S = 4G, E = 8G - 1
        let r = |a: u64, b: u64| MemRange::new(a, b, attr::SP);
        assert_eq!(
            efi_memmap_split_count(&md, &r(G, 2 * G - 1)),
            0,
            "disjoint below"
        );
        assert_eq!(
            efi_memmap_split_count(&md, &r(9 * G, 10 * G - 1)),
            0,
            "disjoint above"
        );
        assert_eq!(
            efi_memmap_split_count(&md, &r(4 * G, 8 * G - 1)),
            0,
            "full, exact"
        );
        assert_eq!(
            efi_memmap_split_count(&md, &r(2 * G, 9 * G)),
            0,
            "full, wider"
        );
        assert_eq!(efi_memmap_split_count(&md, &r(4 * G, 5 * G - 1)), 1, "head");
        assert_eq!(
            efi_memmap_split_count(&md, &r(2 * G, 5 * G - 1)),
            1,
            "head from below"
        );
        assert_eq!(
            efi_memmap_split_count(&md, &r(5 * G, 6 * G - 1)),
            2,
            "inside"
        );
        assert_eq!(
            efi_memmap_split_count(&md, &r(5 * G, 8 * G - 1)),
            1,
            "tail, exact"
        );
        assert_eq!(
            efi_memmap_split_count(&md, &r(5 * G, 9 * G)),
            1,
            "tail, beyond"
        );
    }

    #[test]
    fn split_count_wrap_cases() {
        let empty = MemoryDesc::new(0, 0, 0, 0); // S = 0, E = 2^64 - 1
        let bgrt = MemRange::new(0xbea0_6000, 0xbea2_cfff, attr::RUNTIME);
        assert_eq!(
            efi_memmap_split_count(&empty, &bgrt),
            2,
            "empty entry: inside"
        );
        // A range ending at 2^64 - 1 covers the tail of any descriptor it starts in.
        let to_top = MemRange::new(6 * G, u64::MAX, attr::SP);
        assert_eq!(efi_memmap_split_count(&d(), &to_top), 1);
        // Zero-size range at a page inside: end = start - 1, "inside" with b < E.
        let zero = MemRange::from_size(5 * G, 0, attr::SP);
        assert_eq!(zero.end, 5 * G - 1);
        assert_eq!(efi_memmap_split_count(&d(), &zero), 2);
        // 0@0 is [0, 2^64 - 1]: full for everything.
        assert_eq!(
            efi_memmap_split_count(&d(), &MemRange::from_size(0, 0, 1)),
            0
        );
        // 2^52 pages truncate to length 0: E = S - 1, nothing can be inside.
        let huge = MemoryDesc::new(7, 4 * G, 1 << 52, 0);
        assert_eq!(
            efi_memmap_split_count(&huge, &MemRange::new(5 * G, 6 * G - 1, 1)),
            0
        );
        // 2^52 + 1 pages truncate to one page.
        let huge1 = MemoryDesc::new(7, 0, (1 << 52) + 1, 0);
        assert_eq!(huge1.end(), 0xfff);
    }

    #[test]
    fn alignment_check_passes_a_range_ending_at_the_top() {
        assert!(insert_range_aligned(&MemRange::new(0x1000, u64::MAX, 0)));
        assert!(!insert_range_aligned(&MemRange::new(0x1001, 0x1fff, 0)));
        assert!(!insert_range_aligned(&MemRange::new(0x1000, 0x1ffe, 0)));
        assert!(insert_range_aligned(&MemRange::from_size(0x1000, 0, 0)));
    }
}
