//! Findings: every kind of wrong an [`Outcome`] can show, each with a
//! stable signature `class/function`, a one-line explanation and evidence;
//! and the differential verdict on two eras.

use crate::judge::oracle::{normalize, Oracle, OutsideDomain, Region};
use crate::model::boot::{run, BootInput, Outcome};
use crate::model::desc::{MemRange, MemoryDesc, EFI_PAGE_SHIFT};
use crate::model::era::Era;
use crate::model::kernel::Level;
use crate::model::mem::{Access, AllocId, FaultKind};
use crate::model::memmap::insert_range_aligned;
use std::collections::BTreeSet;
use std::fmt;

/// The kinds of wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Class {
    /// More descriptors allocated and installed than insert wrote.
    OverCount,
    /// An installed descriptor with no pages.
    EmptyEntry,
    /// A write past an allocation.
    Overrun,
    /// Attribute bits the oracle expects are missing.
    LostAttribute,
    /// Attribute bits the oracle does not expect are present.
    SpuriousAttribute,
    /// Addresses appear, vanish or change type.
    CoverageChanged,
    /// Installed descriptors overlap.
    StaleDuplicate,
    /// Installed descriptors that no code wrote (insert refused the range).
    UninitializedInstall,
    UseAfterFree,
    /// A free of a freed block, or with the wrong address or size.
    BadFree,
    Leak,
    /// `1 + split_count` over the descriptors the caller counted differs
    /// from what insert wrote.
    CountMismatch,
    /// A kernel WARN fired.
    Warn,
}

impl Class {
    pub const ALL: [Class; 13] = [
        Class::OverCount,
        Class::EmptyEntry,
        Class::Overrun,
        Class::LostAttribute,
        Class::SpuriousAttribute,
        Class::CoverageChanged,
        Class::StaleDuplicate,
        Class::UninitializedInstall,
        Class::UseAfterFree,
        Class::BadFree,
        Class::Leak,
        Class::CountMismatch,
        Class::Warn,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            Class::OverCount => "over-count",
            Class::EmptyEntry => "empty-entry",
            Class::Overrun => "overrun",
            Class::LostAttribute => "lost-attribute",
            Class::SpuriousAttribute => "spurious-attribute",
            Class::CoverageChanged => "coverage-changed",
            Class::StaleDuplicate => "stale-duplicate",
            Class::UninitializedInstall => "uninitialized-install",
            Class::UseAfterFree => "use-after-free",
            Class::BadFree => "bad-free",
            Class::Leak => "leak",
            Class::CountMismatch => "count-mismatch",
            Class::Warn => "warn",
        }
    }

    /// Overrun, use-after-free and bad free.
    pub const fn is_memory_safety(self) -> bool {
        matches!(self, Class::Overrun | Class::UseAfterFree | Class::BadFree)
    }

    pub fn from_name(s: &str) -> Option<Class> {
        Class::ALL.into_iter().find(|c| c.name() == s)
    }
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

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
    pub fn signature(&self) -> String {
        format!("{}/{}", self.class, self.function)
    }
}

/// Findings of one outcome, and whether the oracle could judge it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Classification {
    pub domain: Result<(), OutsideDomain>,
    /// One finding per signature, in signature order.
    pub findings: Vec<Finding>,
}

impl Classification {
    /// The findings a search counts: all of them on input the oracle can
    /// judge; on other input only the memory-safety ones, since a fault is
    /// a bug whatever the input meant.
    pub fn counted(&self) -> impl Iterator<Item = &Finding> {
        let judged = self.domain.is_ok();
        self.findings
            .iter()
            .filter(move |f| judged || f.class.is_memory_safety())
    }

    pub fn signatures(&self) -> BTreeSet<String> {
        self.findings.iter().map(Finding::signature).collect()
    }
}

/// Runs `era` on `input` and classifies the outcome.
pub fn check(
    era: Era,
    input: &BootInput,
) -> Result<(Outcome, Classification), crate::model::boot::InputError> {
    let o = run(era, input)?;
    let c = classify(input, &o);
    Ok((o, c))
}

/// [`check`] without the KERN_INFO and KERN_DEBUG text: the same findings,
/// faster.
pub fn check_quiet(
    era: Era,
    input: &BootInput,
) -> Result<(Outcome, Classification), crate::model::boot::InputError> {
    let o = crate::model::boot::run_with(era, input, true)?;
    let c = classify(input, &o);
    Ok((o, c))
}

/// Turns an outcome into findings.
pub fn classify(input: &BootInput, o: &Outcome) -> Classification {
    let mut found = Vec::new();
    memory_findings(o, &mut found);
    count_findings(o, &mut found);
    let domain = oracle_domain(input, o);
    map_findings(input, o, domain.is_ok(), &mut found);
    for e in o.events.iter().filter(|e| e.level == Level::Warning) {
        found.push(Finding {
            class: Class::Warn,
            function: e.func,
            explanation: format!("{} fired a WARN", e.func),
            evidence: Evidence::Text(e.text.clone()),
        });
    }
    found.sort_by_key(|f| (f.class, f.function));
    found.dedup_by(|a, b| a.class == b.class && a.function == b.function);
    Classification {
        domain,
        findings: found,
    }
}

/// The oracle's domain for this outcome's inputs.
fn oracle_domain(input: &BootInput, o: &Outcome) -> Result<(), OutsideDomain> {
    let rejected = |e: &crate::model::kernel::Event| {
        e.text
            .strip_prefix("Malformed early option '")
            .and_then(|r| r.strip_suffix('\''))
            .is_some_and(|name| crate::model::cmdline::parameq(name, "efi_fake_mem"))
    };
    if !input
        .map
        .iter()
        .any(crate::judge::oracle::firmware_entry_valid)
    {
        return Err(OutsideDomain(
            "the firmware map has no valid descriptor".into(),
        ));
    }
    if o.events.iter().any(|e| e.func == "__early_ioremap") {
        return Err(OutsideDomain(
            "a map outgrew what early_memremap maps (64 pages)".into(),
        ));
    }
    if o.events.iter().any(rejected) {
        return Err(OutsideDomain(
            "the kernel rejected the efi_fake_mem= option".into(),
        ));
    }
    Oracle::expect(&input.map, &o.fake_mems, &input.reservations).map(|_| ())
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

fn count_findings(o: &Outcome, found: &mut Vec<Finding>) {
    for c in &o.inserts {
        let aligned = insert_range_aligned(&c.range);
        if aligned && c.read > 0 && c.predicted != c.written {
            found.push(Finding {
                class: Class::CountMismatch,
                function: c.caller,
                explanation: format!(
                    "split_count predicts {} descriptors, insert wrote {}",
                    c.predicted, c.written
                ),
                evidence: Evidence::Mismatch {
                    range: c.range,
                    predicted: c.predicted,
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

/// A disagreement between the oracle and a map over `[start, end]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Discrepancy {
    class: Class,
    start: u64,
    end: u64,
    expected: Option<(u32, u64)>,
    actual: Option<(u32, u64)>,
}

fn map_findings(input: &BootInput, o: &Outcome, judge: bool, found: &mut Vec<Finding>) {
    // Each finding goes to the install where it first appears: a map that
    // is merely installed again (efi_memmap_init_late) inherits nothing.
    let mut previous: Vec<Discrepancy> = Vec::new();
    let mut judged = crate::model::kernel::Stage::default();
    // What the firmware handed over is not the kernel's doing.
    let mut before: &[MemoryDesc] = o
        .installs
        .first()
        .filter(|i| i.by == "efi_memblock_x86_reserve_range")
        .map_or(&[], |i| &i.descs);
    let expect = |stage: crate::model::kernel::Stage| {
        let fake = &o.fake_mems[..stage.ranges.min(o.fake_mems.len())];
        let res = &input.reservations[..stage.reservations.min(input.reservations.len())];
        Oracle::expect(&input.map, fake, res).ok()
    };
    for install in o
        .installs
        .iter()
        .filter(|i| i.by != "efi_memblock_x86_reserve_range")
    {
        structure_findings(install.by, before, &install.descs, found);
        before = &install.descs;
        if !judge {
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
    if judge && o.memmap.map.is_some() && o.stage.reservations > judged.reservations {
        if let Some(oracle) = expect(o.stage) {
            let now = compare(&oracle.normalized(), &o.map);
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
        .find(|(_, d)| d.num_pages == 0 && !before.contains(d));
    if let Some((index, d)) = new_empty {
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
    let old = overlaps(before);
    let new = overlaps(descs)
        .into_iter()
        .find(|&(_, _, s, e)| !old.iter().any(|&(_, _, os, oe)| os <= s && e <= oe));
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

/// Overlapping descriptors `(first, second, start, end)`: a sweep by
/// address, pairing each descriptor that starts below the furthest end so
/// far with the one that reached it. Finds at least one pair whenever any
/// two overlap, in O(n log n).
fn overlaps(descs: &[MemoryDesc]) -> Vec<(usize, usize, u64, u64)> {
    let mut spans: Vec<(u128, usize, u128)> = descs
        .iter()
        .enumerate()
        .filter_map(|(i, d)| span(d).map(|(s, e)| (s, i, e)))
        .collect();
    spans.sort_unstable();
    let mut out = Vec::new();
    let mut reach: Option<(u128, usize)> = None;
    for &(s, j, e) in &spans {
        match reach {
            Some((end, i)) if s < end => {
                out.push((i.min(j), i.max(j), s as u64, (e.min(end) - 1) as u64));
                if e > end {
                    reach = Some((e, j));
                }
            }
            _ => reach = Some((e, j)),
        }
    }
    out
}

/// The bytes a descriptor covers, `[start, end)` below 2^64; `None` if none.
fn span(d: &MemoryDesc) -> Option<(u128, u128)> {
    let len = u128::from(d.num_pages << EFI_PAGE_SHIFT);
    let s = u128::from(d.phys_addr);
    (len > 0).then(|| (s, (s + len).min(1 << 64)))
}

/// Where the oracle's regions and the map's first-match view disagree.
fn compare(expected: &[Region], descs: &[MemoryDesc]) -> Vec<Discrepancy> {
    let spans: Vec<(u128, u128, u32, u64)> = descs
        .iter()
        .filter_map(|d| span(d).map(|(s, e)| (s, e, d.ty, d.attribute)))
        .collect();
    let mut cuts: Vec<u128> = Vec::new();
    for r in expected {
        cuts.push(r.start.into());
        cuts.push(u128::from(r.end) + 1);
    }
    // (address, descriptor) at which a descriptor starts or stops covering.
    let mut starts: Vec<(u128, usize)> = Vec::new();
    let mut stops: Vec<(u128, usize)> = Vec::new();
    for (i, &(s, e, _, _)) in spans.iter().enumerate() {
        cuts.push(s);
        cuts.push(e);
        starts.push((s, i));
        stops.push((e, i));
    }
    cuts.sort_unstable();
    cuts.dedup();
    starts.sort_unstable();
    stops.sort_unstable();
    let (mut si, mut ti, mut ri) = (0, 0, 0);
    // The descriptors covering the current stretch; the first in map order wins.
    let mut active = std::collections::BTreeSet::new();
    let mut out: Vec<Discrepancy> = Vec::new();
    for w in cuts.windows(2) {
        let (x, y) = (w[0], w[1]);
        while ti < stops.len() && stops[ti].0 <= x {
            active.remove(&stops[ti].1);
            ti += 1;
        }
        while si < starts.len() && starts[si].0 <= x {
            active.insert(starts[si].1);
            si += 1;
        }
        while ri < expected.len() && u128::from(expected[ri].end) < x {
            ri += 1;
        }
        let want = expected
            .get(ri)
            .filter(|r| u128::from(r.start) <= x)
            .map(|r| (r.ty, r.attr));
        let got = active.first().map(|&i| (spans[i].2, spans[i].3));
        let mut push = |class| {
            let d = Discrepancy {
                class,
                start: x as u64,
                end: (y - 1) as u64,
                expected: want,
                actual: got,
            };
            match out.last_mut() {
                Some(p)
                    if p.class == class
                        && p.expected == want
                        && p.actual == got
                        && u128::from(p.end) + 1 == x =>
                {
                    p.end = d.end
                }
                _ => out.push(d),
            }
        };
        match (want, got) {
            (None, None) => {}
            (Some((wt, wa)), Some((gt, ga))) if wt == gt => {
                if wa & !ga != 0 {
                    push(Class::LostAttribute);
                }
                if ga & !wa != 0 {
                    push(Class::SpuriousAttribute);
                }
            }
            _ => push(Class::CoverageChanged),
        }
    }
    out
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

/// The map a kernel's lookups see, as maximal intervals: the first
/// descriptor covering each address wins.
pub fn effective_map(descs: &[MemoryDesc]) -> Vec<Region> {
    // Against an empty expectation every covered stretch "appeared".
    normalize(compare(&[], descs).into_iter().filter_map(|d| {
        d.actual.map(|(ty, attr)| Region {
            start: d.start,
            end: d.end,
            ty,
            attr,
        })
    }))
}

/// How two eras compare on one input, in wasmtime's terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Same installed map (as maximal intervals) and the same signatures.
    Agree,
    /// Neither era can run the input.
    BothReject(String),
    /// The findings or the maps differ: the signatures only one era has,
    /// and whether the installed maps mean different things.
    Diverge {
        only_a: Vec<String>,
        only_b: Vec<String>,
        maps_differ: bool,
    },
    /// The oracle gives the input no meaning: not a finding.
    OutsideDomain(String),
}

/// What [`check`] gives.
pub type Checked = Result<(Outcome, Classification), crate::model::boot::InputError>;

/// Runs both eras on `input` and compares them.
pub fn differential(input: &BootInput, a: Era, b: Era) -> Verdict {
    verdict(&check_quiet(a, input), &check_quiet(b, input))
}

/// Compares two eras' results on one input.
pub fn verdict(ra: &Checked, rb: &Checked) -> Verdict {
    let ((oa, ca), (ob, cb)) = match (ra, rb) {
        // Input validation does not depend on the era.
        (Err(e), _) | (_, Err(e)) => return Verdict::BothReject(e.to_string()),
        (Ok(x), Ok(y)) => (x, y),
    };
    if let Err(d) = ca.domain.as_ref().and(cb.domain.as_ref()) {
        return Verdict::OutsideDomain(d.0.clone());
    }
    let (sa, sb) = (ca.signatures(), cb.signatures());
    let maps_differ = effective_map(&oa.map) != effective_map(&ob.map);
    if sa == sb && !maps_differ {
        return Verdict::Agree;
    }
    Verdict::Diverge {
        only_a: sa.difference(&sb).cloned().collect(),
        only_b: sb.difference(&sa).cloned().collect(),
        maps_differ,
    }
}
