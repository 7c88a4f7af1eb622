//! Plain-text rendering: an [`Outcome`] (the installed map in the era's
//! dmesg format, what the boot printed, the memory faults, the leaks), a
//! picture of maps, and a whole scenario across its eras. Stable: the same
//! input renders the same text.

use crate::cases::scenario::Scenario;
use crate::judge::findings::check;
use crate::judge::oracle::{Oracle, Region};
use crate::model::boot::{AllocInfo, Outcome};
use crate::model::desc::MemoryDesc;
use crate::model::kernel::Level;
use crate::model::mem::{Access, AllocKind, Fault, FaultKind};
use crate::model::print::memmap_lines;
use std::fmt::Write;

fn alloc_name(a: &AllocInfo) -> String {
    let kind = match a.kind {
        AllocKind::Firmware => "firmware".to_string(),
        AllocKind::Memblock => "memblock".to_string(),
        AllocKind::Pages { order } => format!("pages order {order}"),
        AllocKind::Slab { object } => format!("slab kmalloc-{object}"),
    };
    format!(
        "#{} ({kind}, {} bytes at {:#x}, for {})",
        a.id, a.size, a.phys, a.by
    )
}

/// One line for a fault.
pub fn fault_line(o: &Outcome, f: &Fault) -> String {
    let what = match f.access {
        Access::Read => "read",
        Access::Write => "write",
    };
    let alloc = o
        .allocations
        .get(f.alloc)
        .map_or_else(|| "no allocation".to_string(), alloc_name);
    let kind = match f.kind {
        FaultKind::OutOfBounds { page_fault } => {
            let size = o.allocations.get(f.alloc).map_or(0, |a| a.size);
            let past = f.offset + f.len - size;
            let pf = match (page_fault, f.access) {
                (true, _) => "beyond the mapped pages: page fault",
                (false, crate::model::mem::Access::Write) => {
                    "inside the mapped pages: silent corruption"
                }
                (false, crate::model::mem::Access::Read) => {
                    "inside the mapped pages: unnoticed without KASAN"
                }
            };
            format!("{what} past the end, up to {past} bytes past it, {pf}")
        }
        FaultKind::UseAfterFree => format!("{what} after free"),
        FaultKind::DoubleFree => "double free".to_string(),
        FaultKind::BadFree => "free with a wrong address or size".to_string(),
    };
    format!(
        "{} {kind}: bytes {}..{} of {alloc}, {} access{}",
        f.by,
        f.offset,
        f.offset + f.len,
        f.accesses,
        if f.accesses == 1 { "" } else { "es" }
    )
}

/// The whole outcome as text.
pub fn render(o: &Outcome) -> String {
    let mut s = String::new();
    let m = &o.memmap;
    let _ = writeln!(
        s,
        "installed map: nr_map {}, desc_size {}, phys_map {:#x}, flags {:#x}",
        m.nr_map, m.desc_size, m.phys_map, m.flags
    );
    for line in memmap_lines(&o.map, o.era.features().printer) {
        let _ = writeln!(s, "  {line}");
    }
    let _ = writeln!(s, "printed:");
    for e in &o.events {
        let level = match e.level {
            Level::Warning => "WARN",
            Level::Err => "err",
            Level::Warn => "warn",
            Level::Notice => "notice",
            Level::Info => "info",
            Level::Debug => "debug",
        };
        let _ = writeln!(s, "  {level:<6} {:<24} {}", e.func, e.text);
    }
    let _ = writeln!(
        s,
        "faults:{}",
        if o.faults.is_empty() { " none" } else { "" }
    );
    for f in &o.faults {
        let _ = writeln!(s, "  {}", fault_line(o, f));
    }
    if !o.freed.is_empty() {
        let _ = writeln!(s, "boot services freed:");
        for f in &o.freed {
            let _ = writeln!(s, "  [{:#x}-{:#x}) by {}", f.start, f.end, f.by);
        }
    }
    let _ = writeln!(s, "leaks:{}", if o.leaks.is_empty() { " none" } else { "" });
    for &id in &o.leaks {
        let _ = writeln!(s, "  {}", alloc_name(&o.allocations[id]));
    }
    s
}

/// The e820 side of a boot: what e820.c printed (the EFI code's own
/// `e820: update` lines are among the events above), `e820_table` when
/// `e820__reserve_resources` makes System RAM of it, and where
/// `kexec_file_load` puts the next kernel.
pub fn render_e820(input: &crate::model::boot::BootInput, o: &Outcome) -> String {
    use crate::model::kexec::kexec_file_load;
    let e = o.e820_boot(input);
    let mut s = String::new();
    let _ = writeln!(s, "e820 printed:");
    for l in e.lines().chain(&e.pci_gap).chain(&e.late) {
        let _ = writeln!(s, "  {l}");
    }
    let _ = writeln!(s, "e820_table after setup_arch:");
    for l in e.table.print("e820") {
        let _ = writeln!(s, "  {l}");
    }
    if let Some(k) = &input.kexec_file {
        match kexec_file_load(o.era.features().kexec_walk, &e.table, k) {
            Ok(segs) => {
                let _ = writeln!(s, "kexec_file_load places:");
                for g in segs {
                    let _ = writeln!(s, "  {:<12} [{:#x}-{:#x}]", g.name, g.start, g.end - 1);
                }
            }
            Err(n) => {
                let _ = writeln!(s, "kexec_file_load: no room for the {}", n.0);
            }
        }
    }
    s
}

/// The letter a memory type is drawn with.
pub(crate) fn type_letter(ty: u32) -> char {
    use crate::model::desc::ty::*;
    match ty {
        RESERVED => 'r',
        LOADER_CODE | LOADER_DATA => 'l',
        BOOT_SERVICES_CODE | BOOT_SERVICES_DATA => 'b',
        RUNTIME_SERVICES_CODE | RUNTIME_SERVICES_DATA => 'u',
        CONVENTIONAL_MEMORY => 'c',
        UNUSABLE_MEMORY => 'x',
        ACPI_RECLAIM_MEMORY | ACPI_MEMORY_NVS => 'a',
        MEMORY_MAPPED_IO | MEMORY_MAPPED_IO_PORT_SPACE => 'm',
        PAL_CODE => 'p',
        PERSISTENT_MEMORY => 'n',
        _ => '?',
    }
}

/// The most stretches a picture draws.
pub const PICTURE_MAX: usize = 96;

/// What one stretch of one row of a picture holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cell {
    /// No descriptor covers it.
    Empty,
    /// One descriptor covers it: its type, and whether it carries attribute
    /// bits the firmware's map did not give the stretch.
    One { ty: u32, added: bool },
    /// More than one descriptor covers it.
    Overlap,
}

/// Maps cut into stretches: `cuts` is every boundary of every row, sorted
/// and distinct, so stretch `i` is `[cuts[i], cuts[i + 1])`; each row has
/// one cell per stretch. Stretches are not proportional to their size, so
/// a page and a terabyte are both one column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grid {
    pub cuts: Vec<u128>,
    pub rows: Vec<(String, Vec<Cell>)>,
}

impl Grid {
    /// How many stretches.
    pub fn stretches(&self) -> usize {
        self.cuts.len().saturating_sub(1)
    }
}

/// The maps a scenario's picture draws: the firmware's, the oracle's
/// expected map (where the case is in its domain) and each era's installed
/// map, named by its era.
#[derive(Clone, Debug, Default)]
pub struct Maps {
    pub firmware: Vec<MemoryDesc>,
    pub expected: Option<Vec<Region>>,
    pub eras: Vec<(String, Vec<MemoryDesc>)>,
}

impl Maps {
    /// The rows `firmware`, `expected` (if any), then the eras, cut into
    /// stretches.
    pub fn grid(&self) -> Grid {
        grid(&self.firmware, &self.eras, self.expected.as_deref())
    }
}

/// Cuts `firmware`, `expected` (as descriptors) and `rows` at every
/// boundary of any of them; a cell is what covers the stretch's first
/// address, its attributes held against the firmware's effective map.
pub fn grid(
    firmware: &[MemoryDesc],
    rows: &[(String, Vec<MemoryDesc>)],
    expected: Option<&[Region]>,
) -> Grid {
    let fw = crate::judge::geometry::effective_map(firmware);
    let expected_descs: Vec<MemoryDesc> = expected.map_or_else(Vec::new, |regions| {
        regions
            .iter()
            .map(|r| MemoryDesc::new(r.ty, r.start, (r.end - r.start + 1) >> 12, r.attr))
            .collect()
    });
    let mut all: Vec<(String, &[MemoryDesc])> = vec![("firmware".into(), firmware)];
    if expected.is_some() {
        all.push(("expected".into(), &expected_descs));
    }
    for (name, descs) in rows {
        all.push((name.clone(), descs));
    }
    let mut cuts: Vec<u128> = Vec::new();
    for (_, descs) in &all {
        for (s, e) in descs.iter().filter_map(MemoryDesc::span) {
            cuts.push(s);
            cuts.push(e);
        }
    }
    cuts.sort_unstable();
    cuts.dedup();
    let rows = all
        .iter()
        .map(|(name, descs)| {
            let cells = cuts
                .windows(2)
                .map(|w| {
                    let x = w[0];
                    let covering: Vec<&MemoryDesc> = descs
                        .iter()
                        .filter(|d| d.span().is_some_and(|(st, e)| st <= x && x < e))
                        .collect();
                    match covering.as_slice() {
                        [] => Cell::Empty,
                        [d] => {
                            let base = fw
                                .iter()
                                .find(|r| u128::from(r.start) <= x && x <= u128::from(r.end))
                                .map_or(0, |r| r.attr);
                            Cell::One {
                                ty: d.ty,
                                added: d.attribute & !base != 0,
                            }
                        }
                        _ => Cell::Overlap,
                    }
                })
                .collect();
            (name.clone(), cells)
        })
        .collect();
    Grid { cuts, rows }
}

/// Draws maps one character per stretch of addresses (the stretches
/// between every boundary of every row, [`grid`]), as the kernel's
/// tools/testing/vma comments draw pages: `.` nothing, a letter for the
/// type (`r` Reserved, `l` Loader, `b` BootServices, `u` RuntimeServices,
/// `c` Conventional, `x` Unusable, `a` ACPI, `m` MMIO, `p` PAL, `n`
/// Persistent, `?` other), capital where the stretch carries attribute bits
/// the firmware's map did not give it, `*` where more than one descriptor
/// covers it.
pub fn picture(
    firmware: &[MemoryDesc],
    rows: &[(String, Vec<MemoryDesc>)],
    expected: Option<&[Region]>,
) -> String {
    let g = grid(firmware, rows, expected);
    let stretches = g.stretches();
    let mut s = String::new();
    if stretches > PICTURE_MAX {
        let _ = writeln!(s, "({stretches} stretches: too many to draw)");
        return s;
    }
    let width = g.rows.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    let ruler: String = (0..stretches)
        .map(|i| char::from(b'0' + (i % 10) as u8))
        .collect();
    let _ = writeln!(
        s,
        "  one column per stretch: . nothing, letter = type, CAPITAL = attributes added, * = overlap"
    );
    let _ = writeln!(s, "  {:width$}  {ruler}", "");
    for (name, cells) in &g.rows {
        let row: String = cells
            .iter()
            .map(|c| match *c {
                Cell::Empty => '.',
                Cell::One { ty, added } => {
                    let c = type_letter(ty);
                    if added {
                        c.to_ascii_uppercase()
                    } else {
                        c
                    }
                }
                Cell::Overlap => '*',
            })
            .collect();
        let _ = writeln!(s, "  {name:width$}  {row}");
    }
    let marks: Vec<String> = g
        .cuts
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{i}:{c:#x}"))
        .collect();
    for chunk in marks.chunks(4) {
        let _ = writeln!(s, "  {}", chunk.join("  "));
    }
    s
}

/// Everything a scenario does, era by era, as one stable text: for each
/// era its findings (and whether they are the ones the header expects),
/// then the outcome; last, the picture of every era's installed map.
pub fn scenario_report(sc: &Scenario) -> String {
    scenario_run(sc).0
}

/// [`scenario_report`], and whether any era has a finding.
pub fn scenario_run(sc: &Scenario) -> (String, bool) {
    let (s, any, _) = scenario_run_maps(sc);
    (s, any)
}

/// [`scenario_run`], and the maps its picture draws (for
/// [`crate::cases::svg`]).
pub fn scenario_run_maps(sc: &Scenario) -> (String, bool, Maps) {
    let mut any = false;
    let input = &sc.input;
    let expectations = sc.expectations().unwrap_or_default();
    let mut s = String::new();
    let mut rows = Vec::new();
    let mut expected = None;
    for &era in &sc.eras {
        let _ = writeln!(s, "== {era}");
        let (o, c) = match check(era, input) {
            Ok(x) => x,
            Err(e) => {
                let _ = writeln!(s, "rejected: {e}");
                continue;
            }
        };
        any |= !c.findings.is_empty();
        if let Err(d) = &c.domain {
            let _ = writeln!(s, "oracle: {d}");
        } else if expected.is_none() {
            expected = Oracle::expect(&input.map, &o.fake_mems, &input.reservations)
                .ok()
                .map(|x| x.normalized());
        }
        let _ = writeln!(
            s,
            "findings:{}",
            if c.findings.is_empty() { " none" } else { "" }
        );
        for f in &c.findings {
            let _ = writeln!(s, "  {}: {}", f.signature(), f.explanation);
        }
        if let Some(want) = expectations.get(&era) {
            let got = c.signatures();
            if &got == want {
                let _ = writeln!(s, "expected: as stated");
            } else {
                let missing: Vec<String> = want.difference(&got).map(|s| s.to_string()).collect();
                let extra: Vec<String> = got.difference(want).map(|s| s.to_string()).collect();
                let _ = writeln!(
                    s,
                    "expected: DIFFERS, missing {missing:?}, unexpected {extra:?}"
                );
            }
        }
        s.push_str(&render(&o));
        if input.e820.is_some() || !input.setup_data.is_empty() || input.kexec_file.is_some() {
            s.push_str(&render_e820(input, &o));
        }
        rows.push((era.to_string(), o.map.clone()));
    }
    let _ = writeln!(s, "== picture");
    s.push_str(&picture(&sc.input.map, &rows, expected.as_deref()));
    let maps = Maps {
        firmware: sc.input.map.clone(),
        expected,
        eras: rows,
    };
    (s, any, maps)
}

/// The section `efimap run --tree` adds: the engine's outcome on `sc`, its
/// findings, and how it compares with the model of the era it should equal
/// (a full run each, KERN_INFO lines included). The bool: any finding or
/// divergence.
pub fn engine_section(
    sc: &Scenario,
    engine: &mut dyn crate::engine::Engine,
) -> Result<(String, bool), crate::engine::EngineError> {
    let mut s = String::new();
    let era = engine.era();
    let _ = writeln!(s, "== {} (held against {era})", engine.name());
    let (o, c) = match crate::judge::findings::check_on(engine, &sc.input, false)? {
        Ok(checked) => checked,
        Err(e) => {
            let _ = writeln!(s, "rejected: {e}");
            return Ok((s, false));
        }
    };
    let _ = writeln!(
        s,
        "findings:{}",
        if c.findings.is_empty() { " none" } else { "" }
    );
    for f in &c.findings {
        let _ = writeln!(s, "  {}: {}", f.signature(), f.explanation);
    }
    let model = crate::model::boot::run(era, &sc.input).ok();
    let div = model
        .as_ref()
        .and_then(|m| crate::judge::verdict::kernel_divergence(m, &o));
    match &div {
        None => {
            let _ = writeln!(s, "against the model of {era}: the same outcome");
        }
        Some(d) => {
            let _ = writeln!(
                s,
                "{}: {} differs\n  model {era}: {}\n  tree: {}",
                d.signature(),
                d.field,
                d.model,
                d.tree
            );
        }
    }
    s.push_str(&render(&o));
    Ok((s, !c.findings.is_empty() || div.is_some()))
}
