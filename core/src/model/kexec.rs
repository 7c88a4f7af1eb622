//! What e820 says after `setup_arch`, and where `kexec_file_load` would put
//! the next kernel: the other half of the seed thread (a reservation kept
//! by the EFI map but left System RAM in e820, so that kexec's initramfs
//! lands on it).
//!
//! [`e820_boot`] replays `setup_arch`'s e820 steps around the EFI code's
//! recorded requests, in the kernel's order: `e820__memory_setup` (the
//! boot loader's table, sanitized and printed as `BIOS-e820:`),
//! `e820__reserve_setup_data`, `do_add_efi_memmap`, the requests of
//! `efi_fake_memmap_early`, `trim_bios_range`, then the others (those of
//! `efi_arch_mem_reserve`), each followed by `e820__update_table` as its
//! caller does. `e820__reserve_resources` then makes every RAM and
//! RESERVED_KERN entry a "System RAM" resource: what [`kexec_file_load`]
//! walks.
//!
//! [`kexec_file_load`] models kernel/kexec_file.c's `kexec_locate_mem_hole`
//! for the segments arch/x86/kernel/kexec-bzimage64.c adds, in its order:
//! purgatory, boot parameters, kernel, initrd; each top-down, page-rounded,
//! away from the segments before it.

use crate::model::desc::{ty, MemoryDesc, EFI_PAGE_SIZE};
use crate::model::e820::{setup_e820, E820Entry, E820Op, E820Table, E820Type, E820Update};
use crate::model::era::{Era, KexecWalk};

/// What e820 went through in one boot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct E820Boot {
    /// The boot loader's table after `e820__memory_setup`'s sanitize.
    pub bios: E820Table,
    /// What e820.c and `trim_bios_range` printed, in order, without the
    /// timestamp: the `BIOS-e820:` table, the `reserve setup_data:` table,
    /// the `e820: update` / `e820: remove` lines (KERN_DEBUG) of the steps
    /// that are not EFI code. The EFI code's own lines are in its events.
    pub lines: Vec<String>,
    /// `e820_table` when `e820__reserve_resources` reads it.
    pub table: E820Table,
}

/// `trim_bios_range`: the first page is reserved, the legacy BIOS area
/// `[0xa0000, 0x100000)` removed.
const BIOS_BEGIN: u64 = 0xa0000;
const BIOS_END: u64 = 0x100000;

fn words(cmdline: &str) -> impl Iterator<Item = &str> {
    cmdline.split_whitespace()
}

/// `efi=nosoftreserve` was given (the last `efi=` list that names it).
fn nosoftreserve(cmdline: &str) -> bool {
    words(cmdline)
        .filter_map(|w| w.strip_prefix("efi="))
        .any(|v| v.split(',').any(|o| o == "nosoftreserve"))
}

fn update_line(start: u64, size: u64, from: E820Type, to: Option<E820Type>) -> String {
    let last = start.wrapping_add(size).wrapping_sub(1);
    match to {
        Some(to) => format!(
            "e820: update [mem {start:#010x}-{last:#010x}] {} ==> {}",
            from.name(),
            to.name()
        ),
        None => format!(
            "e820: remove [mem {start:#010x}-{last:#010x}] {}",
            from.name()
        ),
    }
}

fn apply(t: &mut E820Table, u: &E820Update) {
    match u.op {
        E820Op::Update { from, to } => {
            t.range_update(u.start, u.size, from, to);
        }
        E820Op::Remove { from } => {
            t.range_remove(u.start, u.size, from);
        }
        E820Op::Add { to } => {
            let _ = t.range_add(u.start, u.size, to);
        }
    }
}

/// The e820 steps of one boot. `given`: the boot loader's table, if the
/// case has one; otherwise the EFI stub's `setup_e820` of `map`.
/// `setup_data`: the nodes `(start, size)`, header included.
pub fn e820_boot(
    era: Era,
    map: &[MemoryDesc],
    given: Option<&[E820Entry]>,
    setup_data: &[(u64, u64)],
    cmdline: &str,
    requests: &[E820Update],
) -> E820Boot {
    let f = era.features();
    let soft_reserve = f.e820_soft_reserved && !nosoftreserve(cmdline);
    let mut t = match given {
        Some(e) => E820Table {
            entries: e.to_vec(),
        },
        None => setup_e820(map, soft_reserve),
    };
    let mut lines = vec!["BIOS-provided physical RAM map:".to_string()];
    t.update_table(f.e820_nomerge);
    let bios = t.clone();
    lines.extend(t.print("BIOS-e820"));

    if !setup_data.is_empty() {
        for &(start, size) in setup_data {
            t.range_update(start, size, E820Type::RAM, E820Type::RESERVED_KERN);
        }
        t.update_table(f.e820_nomerge);
        lines.push("extended physical RAM map:".into());
        lines.extend(t.print("reserve setup_data"));
    }

    // do_add_efi_memmap: with `add_efi_memmap`, or (from v5.5) when a
    // Conventional descriptor is EFI_MEMORY_SP and soft reservation is on.
    let sp = |d: &MemoryDesc| {
        d.ty == ty::CONVENTIONAL_MEMORY && d.attribute & crate::model::desc::attr::SP != 0
    };
    if words(cmdline).any(|w| w == "add_efi_memmap") || (soft_reserve && map.iter().any(sp)) {
        for d in map {
            let ty = crate::model::e820::add_efi_memmap_type(d, soft_reserve);
            let size = d.num_pages.wrapping_shl(crate::model::desc::EFI_PAGE_SHIFT);
            let _ = t.range_add(d.phys_addr, size, ty);
        }
        t.update_table(f.e820_nomerge);
    }

    let (early, late): (Vec<&E820Update>, Vec<&E820Update>) = requests
        .iter()
        .partition(|u| u.by == "efi_fake_memmap_early");
    for u in &early {
        apply(&mut t, u);
    }
    if !early.is_empty() {
        t.update_table(f.e820_nomerge);
    }

    t.range_update(0, EFI_PAGE_SIZE, E820Type::RAM, E820Type::RESERVED);
    lines.push(update_line(
        0,
        EFI_PAGE_SIZE,
        E820Type::RAM,
        Some(E820Type::RESERVED),
    ));
    t.range_remove(BIOS_BEGIN, BIOS_END - BIOS_BEGIN, E820Type::RAM);
    lines.push(update_line(
        BIOS_BEGIN,
        BIOS_END - BIOS_BEGIN,
        E820Type::RAM,
        None,
    ));
    t.update_table(f.e820_nomerge);

    for u in &late {
        apply(&mut t, u);
        t.update_table(f.e820_nomerge);
    }
    E820Boot {
        bios,
        lines,
        table: t,
    }
}

/// A `kexec_file_load` of a bzImage: the sizes of its segments, and the
/// kernel's alignment (`kernel_alignment` of its setup header).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct KexecFile {
    pub purgatory: u64,
    pub params: u64,
    pub kernel: u64,
    pub kernel_align: u64,
    pub initrd: u64,
}

impl Default for KexecFile {
    /// A 16 MiB kernel (`init_size`) aligned to 2 MiB (Debian's
    /// `CONFIG_PHYSICAL_ALIGN`), a 64 MiB initramfs, a 16 KiB purgatory and
    /// one page of boot parameters.
    fn default() -> Self {
        KexecFile {
            purgatory: 0x4000,
            params: 0x1000,
            kernel: 0x100_0000,
            kernel_align: 0x20_0000,
            initrd: 0x400_0000,
        }
    }
}

impl KexecFile {
    /// The segments in the order `bzImage64_load` adds them: name, size,
    /// lowest address, alignment. `MIN_PURGATORY_ADDR` and
    /// `MIN_BOOTPARAM_ADDR` are 0x3000, `MIN_KERNEL_LOAD_ADDR` 1 MiB,
    /// `MIN_INITRD_LOAD_ADDR` 16 MiB.
    pub fn segments(&self) -> [(&'static str, u64, u64, u64); 4] {
        [
            ("purgatory", self.purgatory, 0x3000, EFI_PAGE_SIZE),
            ("boot params", self.params, 0x3000, EFI_PAGE_SIZE),
            ("kernel", self.kernel, 0x10_0000, self.kernel_align),
            ("initrd", self.initrd, 0x100_0000, EFI_PAGE_SIZE),
        ]
    }
}

/// A placed segment, `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Segment {
    pub name: &'static str,
    pub start: u64,
    pub end: u64,
}

/// Why a load failed: the segment that found no room (-EADDRNOTAVAIL).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NoRoom(pub &'static str);

/// `locate_mem_hole_top_down` in System RAM range `[start, end]`
/// (inclusive, as resources are): the highest aligned block of `memsz`
/// bytes at or above `min` that no placed segment overlaps.
fn top_down(
    walk: KexecWalk,
    (start, end): (u64, u64),
    memsz: u64,
    min: u64,
    align: u64,
    placed: &[Segment],
) -> Option<u64> {
    let mut ts = end.wrapping_sub(memsz);
    if walk == KexecWalk::TopDown {
        ts = ts.wrapping_add(1);
    }
    loop {
        ts &= !(align - 1);
        if ts < start || ts < min || ts > end {
            return None;
        }
        let te = ts.wrapping_add(memsz);
        if placed.iter().any(|s| ts < s.end && s.start < te) {
            ts = ts.wrapping_sub(EFI_PAGE_SIZE);
            continue;
        }
        return Some(ts);
    }
}

/// Where `kexec_file_load` puts the segments of `k`, given the System RAM
/// of `table`.
pub fn kexec_file_load(
    walk: KexecWalk,
    table: &E820Table,
    k: &KexecFile,
) -> Result<Vec<Segment>, NoRoom> {
    let mut ram: Vec<(u64, u64)> = table
        .entries
        .iter()
        .filter(|e| e.ty.is_system_ram() && e.size != 0)
        .map(|e| (e.addr, e.end().wrapping_sub(1)))
        .collect();
    ram.sort_unstable();
    if walk == KexecWalk::TopDown {
        ram.reverse();
    }
    let mut placed: Vec<Segment> = Vec::new();
    for (name, size, min, align) in k.segments() {
        let memsz = size.wrapping_add(EFI_PAGE_SIZE - 1) & !(EFI_PAGE_SIZE - 1);
        let align = align.max(EFI_PAGE_SIZE).next_power_of_two();
        let found = ram.iter().find_map(|&(s, e)| {
            if e.wrapping_sub(s).wrapping_add(1) < memsz || e < min {
                return None;
            }
            top_down(walk, (s, e), memsz, min, align, &placed)
        });
        let start = found.ok_or(NoRoom(name))?;
        placed.push(Segment {
            name,
            start,
            end: start.wrapping_add(memsz),
        });
    }
    Ok(placed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::desc::attr;

    fn table(e: &[(u64, u64, E820Type)]) -> E820Table {
        E820Table {
            entries: e.iter().map(|&(a, s, t)| E820Entry::new(a, s, t)).collect(),
        }
    }

    /// Two RAM ranges: [1M, 512M) and [1G, 2G). Until v6.8 the walk is
    /// ascending, so every segment goes in the low range, each at its top
    /// less one alignment unit (the first candidate is one byte low); from
    /// v6.8 the high range is taken first and filled exactly to its top.
    #[test]
    fn segments_go_top_down_in_the_first_range_that_fits() {
        let t = table(&[
            (0x10_0000, 0x1ff0_0000, E820Type::RAM),
            (0x4000_0000, 0x4000_0000, E820Type::RAM),
        ]);
        let k = KexecFile::default();
        let low = kexec_file_load(KexecWalk::Ascending, &t, &k).unwrap();
        let at = |v: &[Segment]| {
            v.iter()
                .map(|s| (s.name, s.start, s.end))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            at(&low),
            vec![
                // 0x1fffffff - 0x4000 = 0x1fffbfff, down to a page.
                ("purgatory", 0x1fffb000, 0x1ffff000),
                ("boot params", 0x1fffa000, 0x1fffb000),
                // 0x1fffffff - 16M = 0x1effffff, down to 2M: 0x1ee00000.
                ("kernel", 0x1ee0_0000, 0x1fe0_0000),
                // 0x1bffffff down to a page, then below the kernel.
                ("initrd", 0x1ae0_0000, 0x1ee0_0000),
            ]
        );
        let high = kexec_file_load(KexecWalk::TopDown, &t, &k).unwrap();
        assert_eq!(
            at(&high),
            vec![
                ("purgatory", 0x7fffc000, 0x8000_0000),
                ("boot params", 0x7fffb000, 0x7fffc000),
                // 0x7f000000 is 2M aligned; it overlaps the two above, so
                // one page down and aligned again: 0x7ee00000.
                ("kernel", 0x7ee0_0000, 0x7fe0_0000),
                ("initrd", 0x7ae0_0000, 0x7ee0_0000),
            ]
        );
    }

    #[test]
    fn no_room_names_the_segment() {
        let t = table(&[(0x10_0000, 0x80_0000, E820Type::RAM)]);
        assert_eq!(
            kexec_file_load(KexecWalk::TopDown, &t, &KexecFile::default()),
            Err(NoRoom("kernel"))
        );
    }

    #[test]
    fn setup_arch_prints_the_table_and_trims_the_bios_area() {
        let map = [
            MemoryDesc::new(ty::BOOT_SERVICES_CODE, 0, 0xa0, attr::WB),
            MemoryDesc::new(ty::CONVENTIONAL_MEMORY, 0x10_0000, 0x100, attr::WB),
        ];
        let b = e820_boot(Era::V6_12_Y, &map, None, &[], "", &[]);
        assert_eq!(
            b.lines,
            vec![
                "BIOS-provided physical RAM map:",
                "BIOS-e820: [mem 0x0000000000000000-0x000000000009ffff] usable",
                "BIOS-e820: [mem 0x0000000000100000-0x00000000001fffff] usable",
                "e820: update [mem 0x00000000-0x00000fff] usable ==> reserved",
                "e820: remove [mem 0x000a0000-0x000fffff] usable",
            ]
        );
        assert_eq!(
            b.table,
            table(&[
                (0, 0x1000, E820Type::RESERVED),
                (0x1000, 0x9f000, E820Type::RAM),
                (0x10_0000, 0x10_0000, E820Type::RAM),
            ])
        );
    }
}
