//! The x86 e820 table (arch/x86/kernel/e820.c) as the EFI code sees it:
//! built from the firmware's EFI map by the EFI stub's `setup_e820` (or
//! taken from a boot log's `BIOS-e820:` lines), sanitized by
//! `e820__update_table`, changed by `e820__range_update` /
//! `e820__range_remove` / `e820__range_add`, and printed by
//! `e820__print_table`.
//!
//! The EFI code's e820 calls are recorded by every engine (the model and a
//! kernel tree's own code alike) as [`E820Update`]s; what the table then
//! looks like is computed here, from those records, the same way for every
//! engine: e820.c itself is not among the files a tree engine builds.
//!
//! Modelled on e820.c as it is from v5.4 to 6.12 (the splitting and
//! sanitizing logic did not change in that span); the differences between
//! eras are the soft-reserved type (262b45ae3ab4, v5.5) and which types
//! never merge in the sanitizer (PRAM only until v5.10, then PRAM and
//! soft reserved).

use crate::model::desc::{attr, ty, MemoryDesc, EFI_PAGE_SHIFT};

/// An e820 type, by its number in `enum e820_type`. Ordered by number:
/// in an overlap the sanitizer keeps the highest.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct E820Type(pub u32);

impl E820Type {
    pub const RAM: E820Type = E820Type(1);
    pub const RESERVED: E820Type = E820Type(2);
    pub const ACPI: E820Type = E820Type(3);
    pub const NVS: E820Type = E820Type(4);
    pub const UNUSABLE: E820Type = E820Type(5);
    pub const PMEM: E820Type = E820Type(7);
    pub const PRAM: E820Type = E820Type(12);
    /// `E820_TYPE_RESERVED_KERN`: RAM the kernel keeps (setup_data).
    pub const RESERVED_KERN: E820Type = E820Type(128);
    pub const SOFT_RESERVED: E820Type = E820Type(0xefff_ffff);

    /// What `e820_print_type` prints for it.
    pub fn name(self) -> String {
        match self {
            E820Type::RAM | E820Type::RESERVED_KERN => "usable".into(),
            E820Type::RESERVED => "reserved".into(),
            E820Type::SOFT_RESERVED => "soft reserved".into(),
            E820Type::ACPI => "ACPI data".into(),
            E820Type::NVS => "ACPI NVS".into(),
            E820Type::UNUSABLE => "unusable".into(),
            E820Type::PMEM | E820Type::PRAM => format!("persistent (type {})", self.0),
            E820Type(n) => format!("type {n}"),
        }
    }

    /// `e820_type_to_string()`: the name of the resource
    /// `e820__reserve_resources` makes of an entry, and of its
    /// `/sys/firmware/memmap` entry.
    pub fn resource_name(self) -> &'static str {
        match self {
            E820Type::RAM | E820Type::RESERVED_KERN => "System RAM",
            E820Type::ACPI => "ACPI Tables",
            E820Type::NVS => "ACPI Non-volatile Storage",
            E820Type::UNUSABLE => "Unusable memory",
            E820Type::PRAM => "Persistent Memory (legacy)",
            E820Type::PMEM => "Persistent Memory",
            E820Type::RESERVED => "Reserved",
            E820Type::SOFT_RESERVED => "Soft Reserved",
            _ => "Unknown E820 type",
        }
    }

    /// The type a printed name stands for (the inverse of [`Self::name`],
    /// taking `usable` as RAM).
    pub fn from_name(name: &str) -> Option<E820Type> {
        let fixed = [
            E820Type::RAM,
            E820Type::RESERVED,
            E820Type::SOFT_RESERVED,
            E820Type::ACPI,
            E820Type::NVS,
            E820Type::UNUSABLE,
        ];
        if let Some(&t) = fixed.iter().find(|t| t.name() == name) {
            return Some(t);
        }
        let n = name
            .strip_prefix("persistent (type ")
            .and_then(|r| r.strip_suffix(')'))
            .or_else(|| name.strip_prefix("type "))?;
        n.parse().ok().map(E820Type)
    }

    /// `e820__reserve_resources` names these "System RAM": the ranges
    /// `kexec_file_load` may place a segment in.
    pub fn is_system_ram(self) -> bool {
        self == E820Type::RAM || self == E820Type::RESERVED_KERN
    }
}

/// A change to the e820 table that the EFI code requested.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum E820Op {
    /// `e820__range_update(start, size, from, to)`.
    Update { from: E820Type, to: E820Type },
    /// `e820__range_remove(start, size, from, true)`.
    Remove { from: E820Type },
    /// `e820__range_add(start, size, to)`.
    Add { to: E820Type },
}

/// One recorded e820 request: where, what, and on whose behalf.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct E820Update {
    pub start: u64,
    pub size: u64,
    pub op: E820Op,
    pub by: &'static str,
}

/// `struct e820_entry`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct E820Entry {
    pub addr: u64,
    pub size: u64,
    pub ty: E820Type,
}

impl E820Entry {
    pub const fn new(addr: u64, size: u64, ty: E820Type) -> E820Entry {
        E820Entry { addr, size, ty }
    }

    /// The exclusive end, wrapping as the kernel's u64 sum does.
    pub const fn end(&self) -> u64 {
        self.addr.wrapping_add(self.size)
    }
}

/// `E820_MAX_ENTRIES` with Debian's amd64 configuration: the zero page's
/// 128 plus 3 per NUMA node, `NODES_SHIFT` 10.
pub const E820_MAX_ENTRIES: usize = 128 + 3 * 1024;

/// `struct e820_table` (`e820_table`, the one the EFI code changes).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct E820Table {
    pub entries: Vec<E820Entry>,
}

/// Which types the sanitizer never merges with their neighbours
/// (`e820_nomerge`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NoMerge {
    /// v5.4 .. v5.9: only `E820_TYPE_PRAM`.
    Pram,
    /// v5.10 and later: PRAM and soft reserved, so that every
    /// `efi_fake_mem` instance stays its own resource.
    PramAndSoftReserved,
}

impl NoMerge {
    fn holds(self, t: E820Type) -> bool {
        t == E820Type::PRAM
            || (self == NoMerge::PramAndSoftReserved && t == E820Type::SOFT_RESERVED)
    }
}

/// The size that `e820__range_update` and `e820__range_remove` use: the
/// range is clamped to end at 2^64 - 1.
pub const fn clamped(start: u64, size: u64) -> u64 {
    if size > u64::MAX - start {
        u64::MAX - start
    } else {
        size
    }
}

impl E820Table {
    /// `__e820__range_add`: appends, unsorted; a full table drops the
    /// range and returns the kernel's error text.
    pub fn range_add(&mut self, start: u64, size: u64, ty: E820Type) -> Result<(), String> {
        if self.entries.len() >= E820_MAX_ENTRIES {
            return Err(format!(
                "too many entries; ignoring [mem {:#010x}-{:#010x}]",
                start,
                start.wrapping_add(size).wrapping_sub(1)
            ));
        }
        self.entries.push(E820Entry::new(start, size, ty));
        Ok(())
    }

    /// `__e820__range_update(table, start, size, old, new)`: the bytes of
    /// `[start, start + size)` that are `old` become `new`; returns how
    /// many bytes changed. Entries appended on the way are visited too, as
    /// the kernel's loop re-reads the count.
    pub fn range_update(&mut self, start: u64, size: u64, old: E820Type, new: E820Type) -> u64 {
        let size = clamped(start, size);
        let end = start.wrapping_add(size);
        let mut real = 0u64;
        let mut i = 0;
        while i < self.entries.len() {
            let e = self.entries[i];
            i += 1;
            if e.ty != old {
                continue;
            }
            let eend = e.end();
            // Completely covered: the type changes in place.
            if e.addr >= start && eend <= end {
                self.entries[i - 1].ty = new;
                real = real.wrapping_add(e.size);
                continue;
            }
            // The range is inside the entry: three pieces.
            if e.addr < start && eend > end {
                let _ = self.range_add(start, size, new);
                let _ = self.range_add(end, eend.wrapping_sub(end), e.ty);
                self.entries[i - 1].size = start.wrapping_sub(e.addr);
                real = real.wrapping_add(size);
                continue;
            }
            // A partial overlap: the overlap is appended as `new`, the
            // entry keeps what is left of it.
            let fs = e.addr.max(start);
            let fe = eend.min(end);
            if fs >= fe {
                continue;
            }
            let _ = self.range_add(fs, fe - fs, new);
            real = real.wrapping_add(fe - fs);
            let x = &mut self.entries[i - 1];
            x.size = x.size.wrapping_sub(fe - fs);
            if x.addr >= fs {
                x.addr = fe;
            }
        }
        real
    }

    /// `e820__range_remove(start, size, old, true)`: the bytes of the range
    /// that are `old` leave the table. A fully covered entry is zeroed
    /// (the sanitizer drops it); returns how many bytes were removed.
    pub fn range_remove(&mut self, start: u64, size: u64, old: E820Type) -> u64 {
        let size = clamped(start, size);
        let end = start.wrapping_add(size);
        let mut real = 0u64;
        for i in 0..self.entries.len() {
            let e = self.entries[i];
            if e.ty != old {
                continue;
            }
            let eend = e.end();
            if e.addr >= start && eend <= end {
                real = real.wrapping_add(e.size);
                self.entries[i] = E820Entry::new(0, 0, E820Type(0));
                continue;
            }
            if e.addr < start && eend > end {
                let _ = self.range_add(end, eend.wrapping_sub(end), e.ty);
                self.entries[i].size = start.wrapping_sub(e.addr);
                real = real.wrapping_add(size);
                continue;
            }
            let fs = e.addr.max(start);
            let fe = eend.min(end);
            if fs >= fe {
                continue;
            }
            real = real.wrapping_add(fe - fs);
            let x = &mut self.entries[i];
            x.size = x.size.wrapping_sub(fe - fs);
            if x.addr >= fs {
                x.addr = fe;
            }
        }
        real
    }

    /// `e820__update_table`: overlaps resolved to the highest type, touching
    /// entries of one type merged (except `nomerge` types), sorted by
    /// address, empty entries gone. Refuses (returns false, the table
    /// unchanged) with fewer than two entries or an entry that wraps.
    pub fn update_table(&mut self, nomerge: NoMerge) -> bool {
        if self.entries.len() < 2 || self.entries.iter().any(|e| e.end() < e.addr) {
            return false;
        }
        // Change points: (address, is end, entry). At one address, starts
        // sort before ends; among starts (or ends) the order does not
        // change the result.
        let mut points: Vec<(u64, bool, usize)> = Vec::with_capacity(2 * self.entries.len());
        for (i, e) in self.entries.iter().enumerate() {
            if e.size != 0 {
                points.push((e.addr, false, i));
                points.push((e.end(), true, i));
            }
        }
        points.sort_by_key(|&(a, is_end, _)| (a, is_end));
        let mut overlap: Vec<usize> = Vec::new();
        let mut out: Vec<E820Entry> = Vec::new();
        let mut open: Option<E820Entry> = None;
        let mut last_type = E820Type(0);
        for &(addr, is_end, i) in &points {
            if is_end {
                if let Some(k) = overlap.iter().position(|&x| x == i) {
                    overlap.swap_remove(k);
                }
            } else {
                overlap.push(i);
            }
            let current = overlap
                .iter()
                .map(|&x| self.entries[x].ty)
                .max()
                .unwrap_or(E820Type(0));
            if current != last_type || nomerge.holds(current) {
                if let Some(mut e) = open.take() {
                    e.size = addr.wrapping_sub(e.addr);
                    if e.size != 0 {
                        out.push(e);
                        if out.len() >= E820_MAX_ENTRIES {
                            break;
                        }
                    }
                }
                if current != E820Type(0) {
                    open = Some(E820Entry::new(addr, 0, current));
                }
                last_type = current;
            }
        }
        self.entries = out;
        true
    }

    /// `e820__print_table(who)`: one line per entry, without the log prefix.
    pub fn print(&self, who: &str) -> Vec<String> {
        self.entries
            .iter()
            .map(|e| {
                format!(
                    "{who}: [mem {:#018x}-{:#018x}] {}",
                    e.addr,
                    e.end().wrapping_sub(1),
                    e.ty.name()
                )
            })
            .collect()
    }

    /// Whether `[start, end)` meets an entry whose memory is System RAM;
    /// the parts that do, in table order.
    pub fn system_ram_in(&self, start: u64, end: u64) -> Vec<(u64, u64)> {
        self.entries
            .iter()
            .filter(|e| e.ty.is_system_ram())
            .filter_map(|e| {
                let (a, b) = (e.addr.max(start), e.end().min(end));
                (a < b).then_some((a, b))
            })
            .collect()
    }
}

/// The e820 type the EFI stub's `setup_e820` gives a descriptor, `None` for
/// types it leaves out. `soft_reserve`: the era has EFI_MEMORY_SP
/// (262b45ae3ab4, v5.5) and `efi=nosoftreserve` was not given.
pub fn stub_type(md: &MemoryDesc, soft_reserve: bool) -> Option<E820Type> {
    Some(match md.ty {
        ty::RESERVED
        | ty::RUNTIME_SERVICES_CODE
        | ty::RUNTIME_SERVICES_DATA
        | ty::MEMORY_MAPPED_IO
        | ty::MEMORY_MAPPED_IO_PORT_SPACE
        | ty::PAL_CODE => E820Type::RESERVED,
        ty::UNUSABLE_MEMORY => E820Type::UNUSABLE,
        ty::ACPI_RECLAIM_MEMORY => E820Type::ACPI,
        ty::ACPI_MEMORY_NVS => E820Type::NVS,
        ty::PERSISTENT_MEMORY => E820Type::PMEM,
        ty::LOADER_CODE
        | ty::LOADER_DATA
        | ty::BOOT_SERVICES_CODE
        | ty::BOOT_SERVICES_DATA
        | ty::CONVENTIONAL_MEMORY => {
            if soft_reserve && md.attribute & attr::SP != 0 {
                E820Type::SOFT_RESERVED
            } else {
                E820Type::RAM
            }
        }
        _ => return None,
    })
}

/// The EFI stub's `setup_e820`: the firmware map in its order, each
/// descriptor folded into the entry before it when the type is the same
/// and the two touch.
pub fn setup_e820(map: &[MemoryDesc], soft_reserve: bool) -> E820Table {
    let mut t = E820Table::default();
    for md in map {
        let Some(ty) = stub_type(md, soft_reserve) else {
            continue;
        };
        let size = md.num_pages.wrapping_shl(EFI_PAGE_SHIFT);
        if let Some(prev) = t.entries.last_mut() {
            if prev.ty == ty && prev.end() == md.phys_addr {
                prev.size = prev.size.wrapping_add(size);
                continue;
            }
        }
        t.entries.push(E820Entry::new(md.phys_addr, size, ty));
    }
    t
}

/// The e820 type `do_add_efi_memmap` gives a descriptor.
pub fn add_efi_memmap_type(md: &MemoryDesc, soft_reserve: bool) -> E820Type {
    match md.ty {
        ty::LOADER_CODE
        | ty::LOADER_DATA
        | ty::BOOT_SERVICES_CODE
        | ty::BOOT_SERVICES_DATA
        | ty::CONVENTIONAL_MEMORY => {
            if soft_reserve && md.attribute & attr::SP != 0 {
                E820Type::SOFT_RESERVED
            } else if md.attribute & attr::WB != 0 {
                E820Type::RAM
            } else {
                E820Type::RESERVED
            }
        }
        ty::ACPI_RECLAIM_MEMORY => E820Type::ACPI,
        ty::ACPI_MEMORY_NVS => E820Type::NVS,
        ty::UNUSABLE_MEMORY => E820Type::UNUSABLE,
        ty::PERSISTENT_MEMORY => E820Type::PMEM,
        _ => E820Type::RESERVED,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(entries: &[(u64, u64, E820Type)]) -> E820Table {
        E820Table {
            entries: entries
                .iter()
                .map(|&(a, s, ty)| E820Entry::new(a, s, ty))
                .collect(),
        }
    }

    const RAM: E820Type = E820Type::RAM;
    const RES: E820Type = E820Type::RESERVED;

    #[test]
    fn an_update_inside_an_entry_makes_three_pieces_appended() {
        let mut x = t(&[(0x1000, 0x9000, RAM)]);
        assert_eq!(x.range_update(0x3000, 0x2000, RAM, RES), 0x2000);
        assert_eq!(
            x,
            t(&[
                (0x1000, 0x2000, RAM),
                (0x3000, 0x2000, RES),
                (0x5000, 0x5000, RAM)
            ])
        );
        assert!(x.update_table(NoMerge::Pram));
        assert_eq!(
            x,
            t(&[
                (0x1000, 0x2000, RAM),
                (0x3000, 0x2000, RES),
                (0x5000, 0x5000, RAM)
            ])
        );
    }

    #[test]
    fn partial_updates_keep_the_head_or_the_tail() {
        // Over the end of the first entry and the start of the second.
        let mut x = t(&[(0, 0x4000, RAM), (0x4000, 0x4000, RAM)]);
        assert_eq!(x.range_update(0x3000, 0x2000, RAM, RES), 0x2000);
        assert_eq!(
            x,
            t(&[
                (0, 0x3000, RAM),
                (0x5000, 0x3000, RAM),
                (0x3000, 0x1000, RES),
                (0x4000, 0x1000, RES)
            ])
        );
        assert!(x.update_table(NoMerge::Pram));
        assert_eq!(
            x,
            t(&[
                (0, 0x3000, RAM),
                (0x3000, 0x2000, RES),
                (0x5000, 0x3000, RAM)
            ])
        );
        // Other types are not touched.
        let mut y = t(&[(0, 0x4000, E820Type::ACPI)]);
        assert_eq!(y.range_update(0, 0x4000, RAM, RES), 0);
    }

    #[test]
    fn the_size_is_clamped_below_2_to_the_64() {
        assert_eq!(clamped(0x1000, u64::MAX), u64::MAX - 0x1000);
        let mut x = t(&[(0xffff_ffff_ffff_0000, 0xffff, RAM)]);
        // [base, 2^64 - 1): the last byte of the entry stays RAM.
        x.range_update(0xffff_ffff_ffff_0000, 0x1_0000, RAM, RES);
        assert_eq!(
            x,
            t(&[(0xffff_ffff_ffff_0000, 0xffff, RES)]),
            "the entry itself ends at 2^64 - 1, so it is covered"
        );
    }

    #[test]
    fn the_sanitizer_resolves_overlaps_by_the_highest_type() {
        // RAM [0, 0x10000), ACPI over [0x4000, 0x6000), reserved over
        // [0x5000, 0x8000), an empty entry, a touching RAM entry. Where
        // ACPI (3) and reserved (2) overlap, ACPI wins.
        let mut x = t(&[
            (0, 0x10000, RAM),
            (0x4000, 0x2000, E820Type::ACPI),
            (0x5000, 0x3000, RES),
            (0x2000, 0, E820Type::NVS),
            (0x10000, 0x1000, RAM),
        ]);
        assert!(x.update_table(NoMerge::Pram));
        assert_eq!(
            x,
            t(&[
                (0, 0x4000, RAM),
                (0x4000, 0x2000, E820Type::ACPI),
                (0x6000, 0x2000, RES),
                (0x8000, 0x9000, RAM)
            ])
        );
    }

    #[test]
    fn soft_reserved_runs_stay_apart_from_v5_10() {
        let sr = E820Type::SOFT_RESERVED;
        let mut a = t(&[(0, 0x1000, sr), (0x1000, 0x1000, sr)]);
        let mut b = a.clone();
        assert!(a.update_table(NoMerge::Pram));
        assert_eq!(a, t(&[(0, 0x2000, sr)]));
        assert!(b.update_table(NoMerge::PramAndSoftReserved));
        assert_eq!(b, t(&[(0, 0x1000, sr), (0x1000, 0x1000, sr)]));
    }

    #[test]
    fn the_sanitizer_refuses_one_entry_and_wrapping_ones() {
        let mut one = t(&[(0, 0x1000, RAM)]);
        assert!(!one.update_table(NoMerge::Pram));
        let mut wraps = t(&[(0x1000, u64::MAX, RAM), (0, 0x1000, RAM)]);
        assert!(!wraps.update_table(NoMerge::Pram));
        assert_eq!(wraps.entries[0].size, u64::MAX);
    }

    #[test]
    fn a_removal_zeroes_covered_entries() {
        let mut x = t(&[
            (0, 0x1000, RAM),
            (0xa0000, 0x60000, RAM),
            (0x100000, 0x1000, RAM),
        ]);
        assert_eq!(x.range_remove(0xa0000, 0x60000, RAM), 0x60000);
        assert_eq!(x.entries[1], E820Entry::new(0, 0, E820Type(0)));
        assert!(x.update_table(NoMerge::Pram));
        assert_eq!(x, t(&[(0, 0x1000, RAM), (0x100000, 0x1000, RAM)]));
    }

    #[test]
    fn names_as_e820_print_type_prints_them() {
        assert_eq!(E820Type::RESERVED_KERN.name(), "usable");
        assert_eq!(E820Type::PMEM.name(), "persistent (type 7)");
        assert_eq!(E820Type(20).name(), "type 20");
        for n in [
            "usable",
            "reserved",
            "soft reserved",
            "ACPI data",
            "ACPI NVS",
            "unusable",
            "persistent (type 12)",
            "type 20",
        ] {
            assert_eq!(E820Type::from_name(n).unwrap().name(), n);
        }
        let x = t(&[(0, 0xa0000, RAM)]);
        assert_eq!(
            x.print("BIOS-e820"),
            vec!["BIOS-e820: [mem 0x0000000000000000-0x000000000009ffff] usable"]
        );
    }

    #[test]
    fn the_stub_merges_touching_descriptors_of_one_type() {
        let map = [
            MemoryDesc::new(ty::BOOT_SERVICES_CODE, 0, 1, attr::WB),
            MemoryDesc::new(ty::CONVENTIONAL_MEMORY, 0x1000, 0x9f, attr::WB),
            MemoryDesc::new(
                ty::RUNTIME_SERVICES_DATA,
                0x100000,
                1,
                attr::WB | attr::RUNTIME,
            ),
            MemoryDesc::new(ty::CONVENTIONAL_MEMORY, 0x101000, 1, attr::WB | attr::SP),
        ];
        assert_eq!(
            setup_e820(&map, true),
            t(&[
                (0, 0xa0000, RAM),
                (0x100000, 0x1000, RES),
                (0x101000, 0x1000, E820Type::SOFT_RESERVED)
            ])
        );
        assert_eq!(setup_e820(&map, false).entries[2].ty, RAM);
    }
}
