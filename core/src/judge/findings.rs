//! Findings: every kind of wrong an [`Outcome`] can show, each with a
//! stable [`Signature`], a one-line explanation and evidence. The judge
//! reads the outcome's typed records (faults, inserts, installs, event
//! kinds), never the text the kernel printed.

use crate::engine::{Engine, EngineError, ModelEngine};
use crate::judge::geometry::{compare, overlaps, Discrepancy};
use crate::judge::oracle::{Oracle, OutsideDomain};
pub use crate::judge::signature::{Class, Signature};
use crate::model::boot::{BootInput, InputError, Outcome};
use crate::model::desc::{MemRange, MemoryDesc};
use crate::model::era::Era;
use crate::model::kernel::{EventKind, InsertCall, InstallKind, Level, Stage};
use crate::model::kexec::{kexec_file_load, Segment};
use crate::model::mem::{Access, AllocId, FaultKind};
use crate::model::memmap::{efi_memmap_split_count, insert_range_aligned};
use std::collections::BTreeSet;

/// What shows a finding.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Evidence {
    /// A buffer with `room` descriptors of which insert wrote `written`.
    Count {
        buffer: AllocId,
        room: u64,
        written: u64,
    },
    /// Installed descriptor `index`, which prints as ending at `printed_end`.
    Empty {
        index: usize,
        desc: MemoryDesc,
        printed_end: u64,
    },
    /// `bytes_past` bytes written past allocation `alloc` of `size` bytes.
    Overrun {
        alloc: AllocId,
        size: u64,
        bytes_past: u64,
        page_fault: bool,
    },
    /// `[start, end]` should carry `expected`, carries `actual`.
    Attribute {
        start: u64,
        end: u64,
        expected: u64,
        actual: u64,
    },
    /// `[start, end]` should be `expected` (type, attributes), is `actual`.
    Coverage {
        start: u64,
        end: u64,
        expected: Option<(u32, u64)>,
        actual: Option<(u32, u64)>,
    },
    /// Installed descriptors `first` and `second` both cover `[start, end]`.
    Overlap {
        first: usize,
        second: usize,
        start: u64,
        end: u64,
    },
    /// `bytes_past` bytes read past allocation `alloc` of `size` bytes.
    Overread {
        alloc: AllocId,
        size: u64,
        bytes_past: u64,
        page_fault: bool,
    },
    /// `by` accessed freed allocation `alloc` at `[offset, offset + len)`.
    Freed {
        alloc: AllocId,
        access: Access,
        offset: u64,
        len: u64,
        by: &'static str,
    },
    /// Allocation `alloc` of `size` bytes.
    Leak { alloc: AllocId, size: u64 },
    /// Insert of `range` wrote `written`, the count predicts `predicted`.
    Mismatch {
        range: MemRange,
        predicted: u64,
        written: u64,
    },
    /// `[start, end)`, kept by the EFI map, is System RAM in e820 over
    /// `usable`; `landed`: the kexec segments that overlap it.
    KexecClobber {
        start: u64,
        end: u64,
        usable: Vec<(u64, u64)>,
        landed: Vec<Segment>,
    },
    /// What the kernel printed.
    Text(String),
}

/// One finding.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Finding {
    pub class: Class,
    /// The code responsible (the buffer's owner, the installer, ...).
    pub function: &'static str,
    pub explanation: String,
    pub evidence: Evidence,
}

impl Finding {
    /// `class/function`, stable across runs and versions of efimap.
    pub fn signature(&self) -> Signature {
        Signature::new(self.class, self.function)
    }
}

/// Findings of one outcome, and whether the oracle could judge it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Classification {
    pub domain: Result<(), OutsideDomain>,
    /// One finding per signature, in signature order.
    pub findings: Vec<Finding>,
    /// Every finding, in signature order: each fault, leak, empty entry,
    /// discrepancy and clobbered region, where `findings` keeps the first
    /// of each signature. What [`crate::judge::known`] explains one by one.
    pub all: Vec<Finding>,
}

impl Classification {
    /// The findings a search counts: all of them on input the oracle can
    /// judge; on other input only those that need no oracle (faults, and a
    /// map installed unwritten), since they are bugs whatever the input
    /// meant.
    pub fn counted(&self) -> impl Iterator<Item = &Finding> {
        let judged = self.domain.is_ok();
        self.findings
            .iter()
            .filter(move |f| judged || f.class.needs_no_oracle())
    }

    /// [`Classification::counted`] over [`Classification::all`].
    pub fn counted_all(&self) -> impl Iterator<Item = &Finding> {
        let judged = self.domain.is_ok();
        self.all
            .iter()
            .filter(move |f| judged || f.class.needs_no_oracle())
    }

    pub fn signatures(&self) -> BTreeSet<Signature> {
        self.findings.iter().map(Finding::signature).collect()
    }
}

/// What [`check`] gives.
pub type Checked = Result<(Outcome, Classification), InputError>;

/// The one way to run a case: boots `input` on `engine` (with `quiet`,
/// the KERN_INFO and KERN_DEBUG text may be left out: no finding depends
/// on it) and classifies the outcome. An input no engine runs is a
/// [`Checked`] error, the same for every engine; an engine that failed
/// (a driver that died) is the outer error, never a verdict.
pub fn check_on(
    engine: &mut dyn Engine,
    input: &BootInput,
    quiet: bool,
) -> Result<Checked, EngineError> {
    judged(input, engine.boot(input, quiet))
}

/// What [`check_on`] makes of a boot: for the engines that boot in two
/// halves ([`Engine::begin`] and [`Engine::finish`]).
pub fn judged(
    input: &BootInput,
    boot: Result<Outcome, EngineError>,
) -> Result<Checked, EngineError> {
    match boot {
        Ok(o) => {
            let c = classify(input, &o);
            Ok(Ok((o, c)))
        }
        Err(EngineError::Input(e)) => Ok(Err(e)),
        Err(e) => Err(e),
    }
}

/// [`check_on`] a model era, which fails on its input only.
fn check_model(era: Era, input: &BootInput, quiet: bool) -> Checked {
    match check_on(&mut ModelEngine(era), input, quiet) {
        Ok(checked) => checked,
        Err(e) => unreachable!("the model engine fails on its input only: {e}"),
    }
}

/// Runs `era` on `input` and classifies the outcome.
pub fn check(era: Era, input: &BootInput) -> Checked {
    check_model(era, input, false)
}

/// [`check`] without the KERN_INFO and KERN_DEBUG text: the same findings,
/// faster.
pub fn check_quiet(era: Era, input: &BootInput) -> Checked {
    check_model(era, input, true)
}

/// Turns an outcome into findings.
pub fn classify(input: &BootInput, o: &Outcome) -> Classification {
    let mut found = Vec::new();
    memory_findings(o, &mut found);
    count_findings(o, &mut found);
    let domain = oracle_domain(input, o);
    map_findings(input, o, domain.is_ok(), &mut found);
    kexec_findings(input, o, &mut found);
    for e in o.events.iter().filter(|e| e.level == Level::Warning) {
        found.push(Finding {
            class: Class::Warn,
            function: e.func,
            explanation: format!("{} fired a WARN", e.func),
            evidence: Evidence::Text(e.text.clone()),
        });
    }
    found.sort_by_key(|f| (f.class, f.function));
    let all = found.clone();
    found.dedup_by(|a, b| a.class == b.class && a.function == b.function);
    Classification {
        domain,
        findings: found,
        all,
    }
}

/// What stays of the EFI map after the boot and is not to be reused: the
/// parts of RUNTIME-tagged RAM-type descriptors (boot services, loader,
/// conventional) that hold an `efi_mem_reserve` reservation, charged to
/// `efi_arch_mem_reserve` (whose job, since af164898, is to tell e820),
/// and runtime code and data, charged to the boot loader's table
/// (`e820__memory_setup`).
pub fn kept_by_efi(input: &BootInput, o: &Outcome) -> Vec<(u64, u64, &'static str)> {
    use crate::model::desc::{attr, ty};
    // Without a map at mm_init (EFI_MEMMAP off: noefi, efi=noruntime, a
    // map too big to map) the EFI code reserved nothing and keeps nothing.
    let Some(map) = o.boot_map.as_ref() else {
        return Vec::new();
    };
    let mut kept = Vec::new();
    for d in map {
        let (s, e) = (d.phys_addr, d.end_exclusive());
        if e <= s {
            continue;
        }
        match d.ty {
            ty::RUNTIME_SERVICES_CODE | ty::RUNTIME_SERVICES_DATA => {
                kept.push((s, e, "e820__memory_setup"))
            }
            ty::LOADER_CODE
            | ty::LOADER_DATA
            | ty::BOOT_SERVICES_CODE
            | ty::BOOT_SERVICES_DATA
            | ty::CONVENTIONAL_MEMORY
                if d.attribute & attr::RUNTIME != 0 =>
            {
                for (a, z) in input.reserve_calls() {
                    let (lo, hi) = (a.max(s), a.saturating_add(z).min(e));
                    if lo < hi {
                        kept.push((lo, hi, "efi_arch_mem_reserve"));
                    }
                }
            }
            _ => {}
        }
    }
    kept
}

/// kexec-clobber: kept memory that e820 (as `e820__reserve_resources`
/// reads it) calls System RAM; with a `kexec_file` step, where the
/// segments land.
fn kexec_findings(input: &BootInput, o: &Outcome, found: &mut Vec<Finding>) {
    let kept = kept_by_efi(input, o);
    if kept.is_empty() {
        return;
    }
    let e = o.e820_boot(input);
    let segments = input
        .kexec_file
        .map(|k| kexec_file_load(o.era.features().kexec_walk, &e.table, &k).unwrap_or_default())
        .unwrap_or_default();
    for (start, end, function) in kept {
        let usable = e.table.system_ram_in(start, end);
        if usable.is_empty() {
            continue;
        }
        let landed: Vec<Segment> = segments
            .iter()
            .copied()
            .filter(|s| s.start < end && start < s.end)
            .collect();
        let on = match landed.first() {
            Some(s) => format!(
                "; kexec_file_load puts the {} at [{:#x}-{:#x}] on it",
                s.name,
                s.start,
                s.end - 1
            ),
            None => String::new(),
        };
        found.push(Finding {
            class: Class::KexecClobber,
            function,
            explanation: format!(
                "[{start:#x}-{:#x}] is kept by the EFI map but e820 calls {} of it System RAM{on}",
                end - 1,
                if usable == [(start, end)] {
                    "all"
                } else {
                    "part"
                },
            ),
            evidence: Evidence::KexecClobber {
                start,
                end,
                usable,
                landed,
            },
        });
    }
}

/// The oracle's domain for this outcome's inputs.
fn oracle_domain(input: &BootInput, o: &Outcome) -> Result<(), OutsideDomain> {
    let kinds = || o.events.iter().map(|e| e.kind);
    if !input
        .map
        .iter()
        .any(crate::judge::oracle::firmware_entry_valid)
    {
        return Err(OutsideDomain(
            "the firmware map has no valid descriptor".into(),
        ));
    }
    if kinds().any(|k| k == EventKind::EarlyMapRefused) {
        return Err(OutsideDomain(
            "a map outgrew what early_memremap maps (64 pages)".into(),
        ));
    }
    if kinds().any(|k| {
        k == EventKind::OptionRejected {
            param: "efi_fake_mem",
        }
    }) {
        return Err(OutsideDomain(
            "the kernel rejected the efi_fake_mem= option".into(),
        ));
    }
    Oracle::expect(&input.map, &o.fake_mems, &input.reserve_calls()).map(|_| ())
}

fn freed(f: &crate::model::mem::Fault) -> Evidence {
    Evidence::Freed {
        alloc: f.alloc,
        access: f.access,
        offset: f.offset,
        len: f.len,
        by: f.by,
    }
}

fn memory_findings(o: &Outcome, found: &mut Vec<Finding>) {
    for f in &o.faults {
        let a = o.allocations.get(f.alloc);
        match f.kind {
            FaultKind::OutOfBounds { .. } if f.access == Access::Write => {
                let Some(a) = a else { continue };
                let page_fault = o.faults.iter().any(|g| {
                    g.alloc == f.alloc
                        && g.access == Access::Write
                        && g.kind == FaultKind::OutOfBounds { page_fault: true }
                });
                let bytes_past = o.bytes_written_past(f.alloc);
                found.push(Finding {
                    class: Class::Overrun,
                    function: a.by,
                    explanation: format!(
                        "{} wrote {bytes_past} bytes past the {}-byte buffer {} allocated{}",
                        f.by,
                        a.size,
                        a.by,
                        if page_fault {
                            " (page fault)"
                        } else {
                            " (silent corruption)"
                        }
                    ),
                    evidence: Evidence::Overrun {
                        alloc: f.alloc,
                        size: a.size,
                        bytes_past,
                        page_fault,
                    },
                });
            }
            FaultKind::OutOfBounds { page_fault } if f.access == Access::Read => {
                let Some(a) = a else { continue };
                // Insert reads back what it just wrote: past an overrun
                // buffer, that is the overrun's doing, reported as such.
                let overrun = o.faults.iter().any(|g| {
                    g.alloc == f.alloc
                        && g.access == Access::Write
                        && matches!(g.kind, FaultKind::OutOfBounds { .. })
                });
                if overrun {
                    continue;
                }
                let bytes_past = (f.offset + f.len).saturating_sub(a.size);
                found.push(Finding {
                    class: Class::Overread,
                    function: f.by,
                    explanation: format!(
                        "{} read {bytes_past} bytes past the {}-byte buffer {} allocated{}",
                        f.by,
                        a.size,
                        a.by,
                        if page_fault { " (page fault)" } else { "" }
                    ),
                    evidence: Evidence::Overread {
                        alloc: f.alloc,
                        size: a.size,
                        bytes_past,
                        page_fault,
                    },
                });
            }
            FaultKind::UseAfterFree => {
                let freed_by = a.and_then(|a| a.freed_by).unwrap_or(f.by);
                found.push(Finding {
                    class: Class::UseAfterFree,
                    function: freed_by,
                    explanation: format!("{} used a map that {freed_by} had freed", f.by),
                    evidence: freed(f),
                });
            }
            FaultKind::DoubleFree | FaultKind::BadFree => found.push(Finding {
                class: Class::BadFree,
                function: f.by,
                explanation: format!("{} freed memory it should not have ({:?})", f.by, f.kind),
                evidence: freed(f),
            }),
            _ => {}
        }
    }
    for &id in &o.leaks {
        let a = &o.allocations[id];
        found.push(Finding {
            class: Class::Leak,
            function: a.by,
            explanation: format!("the {}-byte map {} allocated is never freed", a.size, a.by),
            evidence: Evidence::Leak {
                alloc: id,
                size: a.size,
            },
        });
    }
}

/// What the caller's count gives for one insert: `1 + split_count` for
/// each descriptor insert copied that `for_each_efi_memory_desc` visits
/// (a whole `desc_size` inside the map).
pub fn predicted(c: &InsertCall) -> u64 {
    c.copied
        .iter()
        .filter(|d| d.offset.wrapping_add(c.desc_size) <= c.map_len)
        .map(|d| 1 + efi_memmap_split_count(&MemoryDesc::new(0, d.start, d.pages, 0), &c.range))
        .sum()
}

fn count_findings(o: &Outcome, found: &mut Vec<Finding>) {
    for c in &o.inserts {
        let aligned = insert_range_aligned(&c.range);
        let predicted = predicted(c);
        if aligned && !c.copied.is_empty() && predicted != c.written {
            found.push(Finding {
                class: Class::CountMismatch,
                function: c.caller,
                explanation: format!(
                    "split_count predicts {predicted} descriptors, insert wrote {}",
                    c.written
                ),
                evidence: Evidence::Mismatch {
                    range: c.range,
                    predicted,
                    written: c.written,
                },
            });
        }
    }
    // Buffers that were installed with slots no insert wrote.
    let mut buffers: Vec<AllocId> = o.inserts.iter().map(|c| c.buf).collect();
    buffers.dedup();
    for buf in buffers {
        let calls: Vec<_> = o.inserts.iter().filter(|c| c.buf == buf).collect();
        if !o.installs.iter().any(|i| i.alloc == Some(buf)) {
            continue;
        }
        let room = calls[0].room;
        let written = calls.iter().map(|c| c.written).max().unwrap_or(0);
        if written >= room {
            continue;
        }
        let refused = calls.iter().any(|c| !insert_range_aligned(&c.range));
        let (class, why) = if refused {
            (
                Class::UninitializedInstall,
                "insert refused a misaligned range and wrote",
            )
        } else {
            (Class::OverCount, "insert wrote")
        };
        found.push(Finding {
            class,
            function: calls[0].caller,
            explanation: format!(
                "{} allocated and installed {room} descriptors; {why} {written}",
                calls[0].caller
            ),
            evidence: Evidence::Count {
                buffer: buf,
                room,
                written,
            },
        });
    }
}

fn map_findings(input: &BootInput, o: &Outcome, judge: bool, found: &mut Vec<Finding>) {
    // Each finding goes to the install where it first appears: a map that
    // is merely installed again (efi_memmap_init_late) inherits nothing.
    let mut previous: Vec<Discrepancy> = Vec::new();
    let mut judged = Stage::default();
    // What the firmware handed over is not the kernel's doing.
    let mut before: &[MemoryDesc] = o
        .installs
        .first()
        .filter(|i| i.kind == InstallKind::Firmware)
        .map_or(&[], |i| &i.descs);
    let calls = input.reserve_calls();
    let expect = |stage: Stage| {
        let fake = &o.fake_mems[..stage.ranges.min(o.fake_mems.len())];
        let res = &calls[..stage.reservations.min(calls.len())];
        let mut oracle = Oracle::expect(&input.map, fake, res).ok()?;
        if stage.boot_services_kept {
            for &(start, size) in &o.kept {
                oracle.keep(start, size);
            }
        }
        Some(oracle)
    };
    for install in o
        .installs
        .iter()
        .filter(|i| i.kind != InstallKind::Firmware)
    {
        structure_findings(install.by, before, &install.descs, found);
        before = &install.descs;
        // The runtime's map holds only what it maps: no oracle for it.
        if !judge || install.kind == InstallKind::Runtime {
            continue;
        }
        let Some(oracle) = expect(install.stage) else {
            continue;
        };
        let now = compare(&oracle.normalized(), &install.descs);
        for d in now.iter().filter(|d| is_new(d, &previous)) {
            found.push(discrepancy_finding(install.by, d));
        }
        previous = now;
        judged = install.stage;
    }
    // Reservations refused after the last install change nothing the loop
    // saw: judge the final map against what they should have done.
    if judge && o.boot_map.is_some() && o.stage.reservations > judged.reservations {
        if let (Some(oracle), Some(map)) = (expect(o.stage), &o.boot_map) {
            let now = compare(&oracle.normalized(), map);
            for d in now.iter().filter(|d| is_new(d, &previous)) {
                found.push(discrepancy_finding("efi_arch_mem_reserve", d));
            }
        }
    }
}

/// The attribute bits a discrepancy is about (none for coverage).
fn bits(d: &Discrepancy) -> u64 {
    match (d.class, d.expected, d.actual) {
        (Class::LostAttribute, Some((_, w)), Some((_, g))) => w & !g,
        (Class::SpuriousAttribute, Some((_, w)), Some((_, g))) => g & !w,
        _ => 0,
    }
}

/// Whether some address of `d` had no such discrepancy (same class, its
/// bits among theirs) in the map before: a later install that only cuts an
/// old discrepancy in two, or changes what is expected elsewhere, is not
/// charged with it.
fn is_new(d: &Discrepancy, previous: &[Discrepancy]) -> bool {
    let mut old: Vec<&Discrepancy> = previous
        .iter()
        .filter(|p| p.class == d.class && bits(p) & bits(d) == bits(d))
        .filter(|p| p.start <= d.end && d.start <= p.end)
        .collect();
    old.sort_by_key(|p| p.start);
    let mut next = u128::from(d.start);
    for p in old {
        if u128::from(p.start) > next {
            return true;
        }
        next = next.max(u128::from(p.end) + 1);
    }
    next <= u128::from(d.end)
}

/// The same region: type, start and pages. The virtual address
/// `efi_map_region` writes, or the RUNTIME bit `efi_reserve_boot_services`
/// sets in place, does not make a descriptor new.
fn same_region(a: &MemoryDesc, b: &MemoryDesc) -> bool {
    (a.ty, a.phys_addr, a.num_pages) == (b.ty, b.phys_addr, b.num_pages)
}

/// A set of closed address intervals, asked whether one of them holds a
/// given interval: sorted by start, with the furthest end so far, so each
/// question is a binary search instead of a walk over the set (an
/// overlapping map has as many overlaps as descriptors).
struct Within {
    /// `(start, furthest end of this and every earlier interval)`.
    starts: Vec<(u64, u64)>,
}

impl Within {
    fn new(spans: impl Iterator<Item = (u64, u64)>) -> Within {
        let mut starts: Vec<(u64, u64)> = spans.collect();
        starts.sort_unstable();
        let mut reach = 0;
        for x in &mut starts {
            reach = reach.max(x.1);
            x.1 = reach;
        }
        Within { starts }
    }

    /// Whether some interval `[os, oe]` of the set has `os <= s` and `e <= oe`.
    fn covers(&self, s: u64, e: u64) -> bool {
        let n = self.starts.partition_point(|&(os, _)| os <= s);
        n > 0 && e <= self.starts[n - 1].1
    }
}

/// Empty and overlapping descriptors of an installed map that the map
/// installed before it did not have.
fn structure_findings(
    by: &'static str,
    before: &[MemoryDesc],
    descs: &[MemoryDesc],
    found: &mut Vec<Finding>,
) {
    let new_empty = descs
        .iter()
        .enumerate()
        .filter(|(_, d)| d.num_pages == 0 && !before.iter().any(|b| same_region(b, d)));
    for (index, d) in new_empty {
        found.push(Finding {
            class: Class::EmptyEntry,
            function: by,
            explanation: format!(
                "{by} installed a descriptor with no pages at {:#x} (prints as ending at {:#018x})",
                d.phys_addr,
                d.end()
            ),
            evidence: Evidence::Empty {
                index,
                desc: *d,
                printed_end: d.end(),
            },
        });
    }
    // An overlap is new where the map before had no overlap at all.
    let old = Within::new(overlaps(before).into_iter().map(|(_, _, s, e)| (s, e)));
    let new = overlaps(descs)
        .into_iter()
        .find(|&(_, _, s, e)| !old.covers(s, e));
    if let Some((i, j, start, end)) = new {
        found.push(Finding {
            class: Class::StaleDuplicate,
            function: by,
            explanation: format!("{by} installed descriptors {i} and {j}, which overlap"),
            evidence: Evidence::Overlap {
                first: i,
                second: j,
                start,
                end,
            },
        });
    }
}

fn discrepancy_finding(by: &'static str, d: &Discrepancy) -> Finding {
    let range = format!("[{:#x}-{:#x}]", d.start, d.end);
    let (explanation, evidence) = match (d.class, d.expected, d.actual) {
        (Class::LostAttribute | Class::SpuriousAttribute, Some((_, want)), Some((_, got))) => {
            let bits = if d.class == Class::LostAttribute {
                want & !got
            } else {
                got & !want
            };
            let verb = if d.class == Class::LostAttribute {
                "lacks"
            } else {
                "gained"
            };
            (
                format!("after {by}, {range} {verb} attribute bits {bits:#x}"),
                Evidence::Attribute {
                    start: d.start,
                    end: d.end,
                    expected: want,
                    actual: got,
                },
            )
        }
        _ => {
            let what = match (d.expected, d.actual) {
                (None, Some(_)) => "appeared",
                (Some(_), None) => "vanished",
                _ => "changed type",
            };
            (
                format!("after {by}, {range} {what}"),
                Evidence::Coverage {
                    start: d.start,
                    end: d.end,
                    expected: d.expected,
                    actual: d.actual,
                },
            )
        }
    };
    Finding {
        class: d.class,
        function: by,
        explanation,
        evidence,
    }
}

#[cfg(test)]
mod within_tests {
    use super::Within;

    #[test]
    fn an_interval_is_within_the_set_when_one_member_holds_it_whole() {
        let w = Within::new([(10, 20), (0, 5), (3, 12)].into_iter());
        assert_eq!(w.starts, [(0, 5), (3, 12), (10, 20)]);
        // Held by one member each.
        assert!(w.covers(0, 5) && w.covers(4, 12) && w.covers(11, 20));
        // Inside the union but no one member: not held, as before.
        assert!(!w.covers(2, 8));
        assert!(!w.covers(9, 21));
        // Before every member, or past their ends.
        assert!(!Within::new([(10, 20)].into_iter()).covers(9, 10));
        assert!(!Within::new(std::iter::empty()).covers(0, 0));
    }
}
