//! Signature-preserving minimization: shrink a scenario while one era still
//! shows one signature (not merely some finding), until no single step
//! does. Deterministic: the steps are tried in a fixed order; time-bounded:
//! it stops at the deadline with the smallest scenario so far.
//!
//! Steps, smallest change first: drop the kexec step, the kexec_file
//! step, the setup_data nodes, the e820 table or one of its entries, a
//! reservation, a range, a descriptor or another command-line word; merge a descriptor
//! with the next; compress the address space (every boundary to the next
//! free page, keeping their order); move each boundary one page toward
//! zero; round unaligned values down to pages (never emptying what was not
//! empty, which would make another bug rather than a smaller one); make a type Conventional or
//! BootServicesData; clear an attribute bit; desc_size 48, fill stale.

use crate::cases::scenario::Scenario;
use crate::judge::findings::check_quiet;
use crate::judge::signature::Signature;
use crate::model::cmdline::{join_cmdline, split_cmdline};
use crate::model::desc::{MemRange, DEFAULT_DESC_SIZE, EFI_PAGE_SIZE};
use crate::model::era::Era;
use crate::model::mem::Fill;
use std::time::Instant;

/// What must be kept: `signature` in `era`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Goal {
    pub era: Era,
    pub signature: Signature,
}

impl Goal {
    /// What to keep when the user names at most an era and a signature:
    /// the first era (of `era`, or of every era) that shows `signature`
    /// (or, without one, any finding), with its first such signature.
    pub fn choose(sc: &Scenario, era: Option<Era>, signature: Option<Signature>) -> Option<Goal> {
        let candidates = era.map_or_else(Era::all, |e| vec![e]);
        candidates.into_iter().find_map(|era| {
            let (_, c) = check_quiet(era, &sc.input).ok()?;
            let sigs = c.signatures();
            let pick = match signature {
                Some(s) => sigs.contains(&s).then_some(s),
                None => sigs.into_iter().next(),
            }?;
            Some(Goal {
                era,
                signature: pick,
            })
        })
    }

    pub fn holds(&self, sc: &Scenario) -> bool {
        check_quiet(self.era, &sc.input)
            .is_ok_and(|(_, c)| c.signatures().contains(&self.signature))
    }
}

/// A scenario taken apart for editing.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Parts {
    sc: Scenario,
    ranges: Vec<MemRange>,
    rest: Vec<String>,
    structured: bool,
}

impl Parts {
    /// Takes the command line apart when rebuilding it (one
    /// `efi_fake_mem=`, in hex) keeps `goal`; several options can differ
    /// from one (each is sorted on its own, and the entry limit falls
    /// differently), and then the command line stays whole.
    fn of(sc: &Scenario, goal: &dyn Fn(&Scenario) -> bool) -> Parts {
        let opaque = Parts {
            sc: sc.clone(),
            ranges: Vec::new(),
            rest: Vec::new(),
            structured: false,
        };
        match split_cmdline(&sc.input.cmdline) {
            Some((ranges, rest)) => {
                let p = Parts {
                    sc: sc.clone(),
                    ranges,
                    rest,
                    structured: true,
                };
                if goal(&p.scenario()) {
                    p
                } else {
                    opaque
                }
            }
            None => opaque,
        }
    }

    fn scenario(&self) -> Scenario {
        let mut sc = self.sc.clone();
        if self.structured {
            sc.input.cmdline = join_cmdline(&self.ranges, &self.rest);
        }
        sc
    }

    /// Every value that marks a boundary, as (kind, index) handles.
    fn values(&self) -> Vec<u64> {
        let mut v = Vec::new();
        for d in &self.sc.input.map {
            v.push(d.phys_addr);
            v.push(d.end_exclusive());
        }
        for r in &self.ranges {
            v.push(r.start);
            v.push(r.end.wrapping_add(1));
        }
        for &(a, s) in self.pairs() {
            v.push(a);
            v.push(a.wrapping_add(s));
        }
        for e in self.sc.input.e820.iter().flatten() {
            v.push(e.addr);
            v.push(e.end());
        }
        v
    }

    /// The `(address, size)` inputs: reservations, memblock regions,
    /// setup_data nodes, the BGRT image.
    fn pairs(&self) -> impl Iterator<Item = &(u64, u64)> {
        let i = &self.sc.input;
        i.reservations
            .iter()
            .chain(&i.memblock)
            .chain(&i.setup_data)
            .chain(i.bgrt.iter())
    }

    /// Applies `f` to every boundary value; `None` if that would empty a
    /// descriptor, range or reservation that was not empty (dropping is a
    /// step of its own; emptying one makes another bug, not a smaller one).
    fn remap(&self, f: impl Fn(u64) -> u64) -> Option<Parts> {
        let mut p = self.clone();
        for d in &mut p.sc.input.map {
            let (s, e) = (f(d.phys_addr), f(d.end_exclusive()));
            let pages = e.wrapping_sub(s) / EFI_PAGE_SIZE;
            if pages == 0 && d.num_pages != 0 {
                return None;
            }
            d.phys_addr = s;
            d.num_pages = pages;
        }
        for r in &mut p.ranges {
            let (s, e) = (f(r.start), f(r.end.wrapping_add(1)));
            if s == e && r.start != r.end.wrapping_add(1) {
                return None;
            }
            *r = MemRange::new(s, e.wrapping_sub(1), r.attribute);
        }
        let i = &mut p.sc.input;
        for res in i
            .reservations
            .iter_mut()
            .chain(&mut i.memblock)
            .chain(&mut i.setup_data)
            .chain(i.bgrt.iter_mut())
        {
            let (a, e) = (f(res.0), f(res.0.wrapping_add(res.1)));
            if a == e && res.1 != 0 {
                return None;
            }
            *res = (a, e.wrapping_sub(a));
        }
        for x in i.e820.iter_mut().flatten() {
            let (a, e) = (f(x.addr), f(x.end()));
            if a == e && x.size != 0 {
                return None;
            }
            x.addr = a;
            x.size = e.wrapping_sub(a);
        }
        Some(p)
    }

    /// How big the scenario is, most important first; every accepted step
    /// makes it smaller, so minimization ends. Types rank Conventional,
    /// then BootServicesData, then the rest.
    fn measure(&self) -> [u64; 11] {
        let rank = |t: u32| match t {
            crate::model::desc::ty::CONVENTIONAL_MEMORY => 0,
            crate::model::desc::ty::BOOT_SERVICES_DATA => 1,
            _ => 2,
        };
        let values = self.values();
        let attrs = self
            .sc
            .input
            .map
            .iter()
            .map(|d| d.attribute)
            .chain(self.ranges.iter().map(|r| r.attribute));
        [
            (self.sc.input.map.len() + self.ranges.len()) as u64,
            self.sc.input.reservations.len() as u64,
            self.sc.input.later.len() as u64,
            (self.sc.input.e820.as_ref().map_or(0, |e| 1 + e.len())
                + self.sc.input.setup_data.len()
                + self.sc.input.memblock.len()
                + usize::from(self.sc.input.bgrt.is_some())
                + usize::from(self.sc.input.kexec_file.is_some())) as u64,
            (self.rest.len() + usize::from(!self.structured) * self.sc.input.cmdline.len()) as u64,
            values.iter().copied().max().unwrap_or(0),
            values.iter().fold(0u64, |a, &v| a.saturating_add(v)),
            attrs.map(|a| u64::from(a.count_ones())).sum(),
            self.sc.input.map.iter().map(|d| rank(d.ty)).sum(),
            self.sc
                .input
                .map
                .iter()
                .filter(|d| d.virt_addr != 0 || d.pad != 0)
                .count() as u64,
            u64::from(self.sc.input.desc_size != DEFAULT_DESC_SIZE)
                + u64::from(self.sc.input.fill != Fill::Stale),
        ]
    }

    /// The steps one away, smallest change first, each made only when
    /// tried (a big scenario has hundreds of thousands of them).
    fn candidates(&self) -> Vec<Step<'_>> {
        let mut out: Vec<Step<'_>> = Vec::new();
        let n_map = self.sc.input.map.len();
        let n_res = self.sc.input.reservations.len();
        let n_rng = self.ranges.len();
        edit(&mut out, |p| p.sc.input.later.clear());
        edit(&mut out, |p| p.sc.input.kexec_file = None);
        edit(&mut out, |p| p.sc.input.setup_data.clear());
        edit(&mut out, |p| p.sc.input.e820 = None);
        edit(&mut out, |p| p.sc.input.memblock.clear());
        edit(&mut out, |p| p.sc.input.bgrt = None);
        for i in 0..self.sc.input.memblock.len() {
            edit(&mut out, move |p| {
                p.sc.input.memblock.remove(i);
            });
        }
        for i in 0..self.sc.input.setup_data.len() {
            edit(&mut out, move |p| {
                p.sc.input.setup_data.remove(i);
            });
        }
        for i in 0..self.sc.input.e820.as_ref().map_or(0, Vec::len) {
            edit(&mut out, move |p| {
                if let Some(e) = &mut p.sc.input.e820 {
                    e.remove(i);
                }
            });
        }
        // Halves, quarters, ... first (delta debugging), then one at a time.
        for k in chunk_sizes(n_res) {
            for j in (0..n_res).step_by(k) {
                edit(&mut out, move |p| {
                    p.sc.input.reservations.drain(j..(j + k).min(n_res));
                });
            }
        }
        for k in chunk_sizes(n_rng) {
            for j in (0..n_rng).step_by(k) {
                edit(&mut out, move |p| {
                    p.ranges.drain(j..(j + k).min(n_rng));
                });
            }
        }
        for k in chunk_sizes(n_map) {
            for j in (0..n_map).step_by(k) {
                edit(&mut out, move |p| {
                    p.sc.input.map.drain(j..(j + k).min(n_map));
                });
            }
        }
        for i in 0..self.rest.len() {
            edit(&mut out, move |p| {
                p.rest.remove(i);
            });
        }
        if !self.structured && !self.sc.input.cmdline.is_empty() {
            edit(&mut out, |p| p.sc.input.cmdline.clear());
        }
        for i in 0..n_map.saturating_sub(1) {
            edit(&mut out, move |p| {
                let (a, b) = (p.sc.input.map[i], p.sc.input.map[i + 1]);
                let (s, e) = (
                    a.phys_addr.min(b.phys_addr),
                    a.end_exclusive().max(b.end_exclusive()),
                );
                p.sc.input.map[i].phys_addr = s;
                p.sc.input.map[i].num_pages = e.wrapping_sub(s) / EFI_PAGE_SIZE;
                p.sc.input.map.remove(i + 1);
            });
        }
        let values = self.values();
        if values.iter().all(|v| v % EFI_PAGE_SIZE == 0) {
            let mut distinct = values;
            distinct.sort_unstable();
            distinct.dedup();
            // Compress: the k-th distinct boundary goes to page k.
            let d = distinct.clone();
            out.push(Box::new(move |p: &Parts| {
                p.remap(|v| {
                    let k = d.binary_search(&v).unwrap_or(0) as u64;
                    k.wrapping_mul(EFI_PAGE_SIZE)
                })
            }));
            // Each boundary, and everything above it, down toward the one
            // below it: the whole gap, then half of it, and so on to one
            // page, so that a value shrinks by bisection, not page by page.
            for (i, &b) in distinct.iter().enumerate() {
                let below = if i == 0 { 0 } else { distinct[i - 1] };
                let gap = (b - below) / EFI_PAGE_SIZE;
                let mut pages = gap;
                while pages > 0 {
                    let by = pages * EFI_PAGE_SIZE;
                    out.push(Box::new(move |p: &Parts| {
                        p.remap(|v| if v >= b { v - by } else { v })
                    }));
                    pages /= 2;
                }
            }
        } else {
            out.push(Box::new(|p: &Parts| p.remap(|v| v & !(EFI_PAGE_SIZE - 1))));
        }
        for i in 0..n_map {
            for t in [
                crate::model::desc::ty::CONVENTIONAL_MEMORY,
                crate::model::desc::ty::BOOT_SERVICES_DATA,
            ] {
                edit(&mut out, move |p| p.sc.input.map[i].ty = t);
            }
            edit(&mut out, move |p| {
                p.sc.input.map[i].virt_addr = 0;
                p.sc.input.map[i].pad = 0;
            });
            for bit in 0..64 {
                if self.sc.input.map[i].attribute & (1u64 << bit) != 0 {
                    edit(&mut out, move |p| {
                        p.sc.input.map[i].attribute &= !(1u64 << bit)
                    });
                }
            }
        }
        for i in 0..n_rng {
            for bit in 0..64 {
                if self.ranges[i].attribute & (1u64 << bit) != 0 {
                    edit(&mut out, move |p| p.ranges[i].attribute &= !(1u64 << bit));
                }
            }
        }
        edit(&mut out, |p| p.sc.input.desc_size = DEFAULT_DESC_SIZE);
        edit(&mut out, |p| p.sc.input.fill = Fill::Stale);
        out
    }
}

/// One step: the parts it makes from the current ones, or `None` when it
/// does not apply.
type Step<'a> = Box<dyn Fn(&Parts) -> Option<Parts> + 'a>;

/// A step that edits a copy in place.
fn edit<'a>(out: &mut Vec<Step<'a>>, f: impl Fn(&mut Parts) + 'a) {
    out.push(Box::new(move |p: &Parts| {
        let mut q = p.clone();
        f(&mut q);
        Some(q)
    }));
}

/// The chunk sizes delta debugging drops: n/2, n/4, ... down to 1.
fn chunk_sizes(n: usize) -> Vec<usize> {
    let mut v = Vec::new();
    let mut k = n / 2;
    while k > 1 {
        v.push(k);
        k /= 2;
    }
    if n > 0 {
        v.push(1);
    }
    v
}

/// What minimizing gave: the scenario, and whether it is the fixpoint (no
/// step keeps the goal) or the deadline stopped it first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Minimized {
    pub scenario: Scenario,
    pub converged: bool,
}

/// Minimizes `sc` while `goal` holds, until no single step keeps it or the
/// deadline passes. Returns `sc` unchanged if the goal does not hold on it.
pub fn minimize(sc: &Scenario, goal: &Goal, deadline: Instant) -> Scenario {
    minimize_while(sc, &|s: &Scenario| goal.holds(s), deadline)
}

/// Minimizes `sc` while `keep` holds (any property of a scenario: a
/// signature in an era, a divergence between engines), by the same steps.
pub fn minimize_while(
    sc: &Scenario,
    keep: &dyn Fn(&Scenario) -> bool,
    deadline: Instant,
) -> Scenario {
    minimize_until(sc, keep, deadline).scenario
}

/// [`minimize_while`], saying whether it reached the fixpoint.
pub fn minimize_until(
    sc: &Scenario,
    keep: &dyn Fn(&Scenario) -> bool,
    deadline: Instant,
) -> Minimized {
    let goal = keep;
    if !goal(sc) {
        return Minimized {
            scenario: sc.clone(),
            converged: false,
        };
    }
    let mut cur = Parts::of(sc, goal);
    let converged = 'improve: loop {
        if Instant::now() >= deadline {
            break false;
        }
        let now = cur.measure();
        let mut next = None;
        for step in cur.candidates() {
            if Instant::now() >= deadline {
                break 'improve false;
            }
            let Some(cand) = step(&cur) else { continue };
            if cand != cur && cand.measure() < now && goal(&cand.scenario()) {
                next = Some(cand);
                break;
            }
        }
        match next {
            Some(n) => cur = n,
            None => break true,
        }
    };
    let mut out = cur.scenario();
    out.eras = Era::all();
    Minimized {
        scenario: out,
        converged,
    }
}

/// Whether no single step of `sc` makes it smaller and keeps `goal`: the
/// minimizer's fixpoint.
pub fn is_locally_minimal(sc: &Scenario, goal: &Goal) -> bool {
    if !goal.holds(sc) {
        return false;
    }
    let p = Parts::of(sc, &|s: &Scenario| goal.holds(s));
    let now = p.measure();
    let steps = p.candidates();
    let minimal = steps
        .iter()
        .filter_map(|step| step(&p))
        .all(|c| c.measure() >= now || !goal.holds(&c.scenario()));
    minimal
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two efi_fake_mem= options are sorted one by one; merged into one the
    /// equal starts sort differently, and the 0-page entry goes. The
    /// minimizer then keeps the command line whole.
    #[test]
    fn a_command_line_that_does_not_survive_rebuilding_stays_whole() {
        let sc = Scenario::parse(
            "eras v6.10\nmap\n  Reserved 0x3000 0x20 0x0\ncmdline efi_fake_mem=0@0x22000:0x40000,60K@0x22000:0x50000 efi_fake_mem=8K@0x22000:0x10000,0@0x22000:0x20000\n",
        )
        .unwrap();
        let goal = Goal {
            era: Era::V6_10,
            signature: "empty-entry/efi_fake_memmap".parse().unwrap(),
        };
        assert!(goal.holds(&sc));
        let m = minimize(
            &sc,
            &goal,
            Instant::now() + std::time::Duration::from_secs(20),
        );
        assert!(goal.holds(&m));
        assert!(is_locally_minimal(&m, &goal));
    }

    #[test]
    fn command_lines_split_and_join() {
        let (r, rest) = split_cmdline("efi=debug efi_fake_mem=4G@9G:0x40000,4K@0:1 quiet").unwrap();
        assert_eq!(
            r,
            vec![
                MemRange::from_size(9 << 30, 4 << 30, 0x40000),
                MemRange::from_size(0, 4096, 1)
            ]
        );
        assert_eq!(rest, vec!["efi=debug".to_string(), "quiet".into()]);
        assert_eq!(
            join_cmdline(&r, &rest),
            "efi_fake_mem=0x100000000@0x240000000:0x40000,0x1000@0x0:0x1 efi=debug quiet"
        );
        assert_eq!(split_cmdline("efi_fake_mem=4G@9G"), None);
        assert_eq!(split_cmdline("efi_fake_mem=4G@9G:1,"), None);
        assert_eq!(split_cmdline("efi_fake_mem"), None);
    }
}
