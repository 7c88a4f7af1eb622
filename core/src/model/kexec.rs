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
    /// What e820.c printed before `efi_init`, without the timestamp: the
    /// `BIOS-e820:` table, each setup_data node's `e820: update` line
    /// (KERN_DEBUG) and the `reserve setup_data:` table.
    pub early: Vec<String>,
    /// `trim_bios_range`'s `e820: update` and `e820: remove` lines
    /// (KERN_DEBUG). The EFI code's own lines are in its events: those of
    /// `efi_fake_memmap_early` and `efi_remove_e820_mmio` come before
    /// these, the others after.
    pub trim: Vec<String>,
    /// `e820__setup_pci_gap`'s line (after `acpi_boot_init`): the largest
    /// gap below 4 GiB, or its two complaints.
    pub pci_gap: Vec<String>,
    /// `e820__reserve_resources_late`'s `e820: reserve RAM buffer` lines
    /// (KERN_DEBUG, an fs_initcall).
    pub late: Vec<String>,
    /// `e820_table` when `e820__reserve_resources` reads it.
    pub table: E820Table,
}

impl E820Boot {
    /// What e820.c printed in `setup_arch`: [`Self::early`], then
    /// [`Self::trim`].
    pub fn lines(&self) -> impl Iterator<Item = &String> {
        self.early.iter().chain(&self.trim)
    }
}

/// The EFI functions whose e820 requests `setup_arch` makes before
/// `trim_bios_range`.
pub const E820_BEFORE_TRIM: [&str; 2] = ["efi_fake_memmap_early", "efi_remove_e820_mmio"];

/// `ram_alignment()`: where `e820__reserve_resources_late` rounds the end
/// of a RAM entry up to: 64 KiB in the first MiB, 1 MiB in the first 16
/// MiB, 64 MiB above.
fn ram_alignment(pos: u64) -> u64 {
    match pos >> 20 {
        0 => 64 << 10,
        1..=15 => 1 << 20,
        _ => 64 << 20,
    }
}

/// `MAX_ARCH_PFN` with 4-level paging (46 physical address bits).
const MAX_ARCH_PFN: u64 = 1 << (46 - 12);

/// `e820__end_of_ram_pfn()` of `t`: the end of the highest RAM entry (not
/// RESERVED_KERN), in pages, capped at [`MAX_ARCH_PFN`].
fn end_of_ram_pfn(t: &E820Table) -> u64 {
    let mut last = 0;
    for e in t.entries.iter().filter(|e| e.ty == E820Type::RAM) {
        let (start, end) = (e.addr >> 12, e.addr.wrapping_add(e.size) >> 12);
        if start >= MAX_ARCH_PFN {
            continue;
        }
        if end > MAX_ARCH_PFN {
            return MAX_ARCH_PFN;
        }
        last = last.max(end);
    }
    last
}

/// `e820__setup_pci_gap()` on `t`, `max_pfn` as `setup_arch` computed it:
/// `e820_search_gap` walks the entries last to first for the largest gap
/// (at least 4 MiB) below 4 GiB; without one, the gap starts 1 MiB above
/// the end of RAM, with two complaints.
pub fn pci_gap_lines(t: &E820Table, max_pfn: u64) -> Vec<String> {
    const MAX_GAP_END: u64 = 1 << 32;
    let (mut gapstart, mut gapsize, mut found) = (0u64, 0x40_0000u64, false);
    let mut last = MAX_GAP_END;
    for e in t.entries.iter().rev() {
        let end = e.addr.wrapping_add(e.size);
        if last > end && last - end >= gapsize {
            gapsize = last - end;
            gapstart = end;
            found = true;
        }
        last = last.min(e.addr);
    }
    let mut lines = Vec::new();
    if !found {
        gapstart = (max_pfn << 12).wrapping_add(1 << 20);
        lines.push("Cannot find an available gap in the 32-bit address range".into());
        lines.push("PCI devices with unassigned 32-bit BARs may not work!".into());
    }
    lines.push(format!(
        "[mem {gapstart:#010x}-{:#010x}] available for PCI devices",
        gapstart.wrapping_add(gapsize).wrapping_sub(1)
    ));
    lines
}

/// `e820__reserve_resources_late`'s lines for `t`: after each RAM entry
/// (not RESERVED_KERN), up to its end rounded up by [`ram_alignment`].
pub fn ram_buffer_lines(t: &E820Table) -> Vec<String> {
    t.entries
        .iter()
        .filter(|e| e.ty == E820Type::RAM)
        .filter_map(|e| {
            let start = e.addr.wrapping_add(e.size);
            let align = ram_alignment(start);
            // round_up(start, align) - 1
            let end = start.wrapping_sub(1) | (align - 1);
            (start < end)
                .then(|| format!("e820: reserve RAM buffer [mem {start:#010x}-{end:#010x}]"))
        })
        .collect()
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
    let mut early = vec!["BIOS-provided physical RAM map:".to_string()];
    t.update_table(f.e820_nomerge);
    let bios = t.clone();
    early.extend(t.print("BIOS-e820"));

    if !setup_data.is_empty() {
        // e820__range_update of each node (and, in the eras that still
        // do, e820__range_update_kexec of it, which prints the same).
        let prints = if f.setup_data_kexec { 2 } else { 1 };
        for &(start, size) in setup_data {
            t.range_update(start, size, E820Type::RAM, E820Type::RESERVED_KERN);
            for _ in 0..prints {
                early.push(update_line(
                    start,
                    size,
                    E820Type::RAM,
                    Some(E820Type::RESERVED_KERN),
                ));
            }
        }
        t.update_table(f.e820_nomerge);
        early.push("extended physical RAM map:".into());
        early.extend(t.print("reserve setup_data"));
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

    // efi_fake_memmap_early's requests, then efi_init's removal of MMIO
    // (e820__range_remove alone: trim_bios_range sanitizes after it).
    let [fake, mmio] = E820_BEFORE_TRIM;
    let early_fake: Vec<&E820Update> = requests.iter().filter(|u| u.by == fake).collect();
    for u in &early_fake {
        apply(&mut t, u);
    }
    if !early_fake.is_empty() {
        t.update_table(f.e820_nomerge);
    }
    for u in requests.iter().filter(|u| u.by == mmio) {
        apply(&mut t, u);
    }

    t.range_update(0, EFI_PAGE_SIZE, E820Type::RAM, E820Type::RESERVED);
    let mut trim = vec![update_line(
        0,
        EFI_PAGE_SIZE,
        E820Type::RAM,
        Some(E820Type::RESERVED),
    )];
    t.range_remove(BIOS_BEGIN, BIOS_END - BIOS_BEGIN, E820Type::RAM);
    trim.push(update_line(
        BIOS_BEGIN,
        BIOS_END - BIOS_BEGIN,
        E820Type::RAM,
        None,
    ));
    t.update_table(f.e820_nomerge);
    let max_pfn = end_of_ram_pfn(&t);

    for u in requests
        .iter()
        .filter(|u| !E820_BEFORE_TRIM.contains(&u.by))
    {
        apply(&mut t, u);
        t.update_table(f.e820_nomerge);
    }
    E820Boot {
        bios,
        early,
        trim,
        pci_gap: pci_gap_lines(&t, max_pfn),
        late: ram_buffer_lines(&t),
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
        let lowest = placed
            .iter()
            .filter(|s| ts < s.end && s.start < te)
            .map(|s| s.start)
            .min();
        let Some(lowest) = lowest else {
            return Some(ts);
        };
        // The kernel steps down a page (an alignment unit, once aligned)
        // at a time; every start above `lowest - memsz` still overlaps
        // that segment, so go to the first that does not at once (a huge
        // segment would otherwise take 2^52 steps). Below 0 nothing fits.
        ts = lowest.checked_sub(memsz)?;
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

    /// A 2^62-byte initrd in one RAM range of 2^63 bytes: its first
    /// candidate overlaps the three segments above it, and it goes just
    /// below the lowest of them, the kernel, as page steps would take it.
    #[test]
    fn a_huge_segment_goes_below_those_it_overlaps() {
        let t = table(&[(0x10_0000, (1 << 63) - 0x10_0000, E820Type::RAM)]);
        let k = KexecFile {
            initrd: 1 << 62,
            ..KexecFile::default()
        };
        let placed = kexec_file_load(KexecWalk::Ascending, &t, &k).unwrap();
        let starts: Vec<u64> = placed.iter().map(|s| s.start).collect();
        assert_eq!(
            starts,
            [
                0x7fff_ffff_ffff_b000,
                0x7fff_ffff_ffff_a000,
                0x7fff_ffff_fee0_0000,
                0x3fff_ffff_fee0_0000
            ]
        );
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
            b.lines().collect::<Vec<_>>(),
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
        // Both RAM entries end on their alignment: no RAM buffer.
        assert!(b.late.is_empty());
    }

    /// The lines a 6.12.118 boot under OVMF printed (q35, 2 GiB) for
    /// these entries of its table.
    #[test]
    fn ram_buffers_round_each_ram_end_up() {
        let t = table(&[
            (0x1000, 0x9f000, E820Type::RAM),
            (0x10_0000, 0x70_6000, E820Type::RAM),
            (0x90_0000, 0x7d86_8018 - 0x90_0000, E820Type::RAM),
            (0x7d86_8018, 0x3_d040, E820Type::RESERVED_KERN),
            (0x7f7f_e000, 0x7fef_4000 - 0x7f7f_e000, E820Type::RAM),
        ]);
        assert_eq!(
            ram_buffer_lines(&t),
            vec![
                "e820: reserve RAM buffer [mem 0x00806000-0x008fffff]",
                "e820: reserve RAM buffer [mem 0x7d868018-0x7fffffff]",
                "e820: reserve RAM buffer [mem 0x7fef4000-0x7fffffff]",
            ]
        );
    }

    /// The gap 6.12 printed on q35 (its 4 MiB flash removed from e820):
    /// from the end of the 256 MiB ECAM window to 4 GiB. A table with no
    /// gap of 4 MiB below 4 GiB: the complaints, and 4 MiB from 1 MiB
    /// above the end of RAM.
    #[test]
    fn the_pci_gap_is_the_largest_below_4g() {
        let t = table(&[
            (0x10_0000, 0x7ff0_0000, E820Type::RAM),
            (0xb000_0000, 0x1000_0000, E820Type::RESERVED),
        ]);
        assert_eq!(
            pci_gap_lines(&t, end_of_ram_pfn(&t)),
            ["[mem 0xc0000000-0xffffffff] available for PCI devices"]
        );
        let full = table(&[(0, 1 << 32, E820Type::RAM)]);
        assert_eq!(end_of_ram_pfn(&full), 1 << 20);
        assert_eq!(
            pci_gap_lines(&full, end_of_ram_pfn(&full)),
            [
                "Cannot find an available gap in the 32-bit address range",
                "PCI devices with unassigned 32-bit BARs may not work!",
                "[mem 0x100100000-0x1004fffff] available for PCI devices",
            ]
        );
    }

    /// 6.1 marks each setup_data node in the kexec table too, and prints
    /// its update twice; 6.12 once.
    #[test]
    fn setup_data_nodes_print_once_or_twice() {
        let map = [MemoryDesc::new(
            ty::CONVENTIONAL_MEMORY,
            0x10_0000,
            0x100,
            attr::WB,
        )];
        let node = [(0x10_2018, 0x9c40)];
        let want = "e820: update [mem 0x00102018-0x0010bc57] usable ==> usable";
        for (era, n) in [(Era::V6_1_Y, 2), (Era::V6_12_Y, 1)] {
            let b = e820_boot(era, &map, None, &node, "", &[]);
            assert_eq!(b.early.iter().filter(|l| *l == want).count(), n, "{era}");
            assert_eq!(b.early[2], want);
        }
    }
}
