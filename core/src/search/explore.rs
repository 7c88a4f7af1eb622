//! The exhaustive small-scope explorer: every scenario inside a bound, each
//! checked in every chosen era; the smallest example of every signature is
//! the proven minimum within that bound.
//!
//! The bound: a `pages`-page address space; up to `descs` page-granular
//! firmware descriptors, Conventional or BootServicesData, attributes
//! WB|WT|WC|UC; up to `ranges` page-granular `efi_fake_mem` ranges of at
//! least one page, range k carrying its own attribute bit; optionally one
//! page-granular reservation. desc_size 48, fill zero.
//!
//! The bound takes descriptors disjoint and in address order, as firmware
//! lists them. That is part of the bound, not a symmetry: in the eras with
//! the buggy `efi_fake_memmap` the order decides which stale pieces stay
//! behind (one order of two descriptors overruns where the other does
//! not), so a proven minimum is the minimum among address-ordered maps.
//!
//! Symmetry reductions (each sound for the findings):
//! - ranges are listed with non-decreasing starts: `setup_fake_mem` sorts
//!   by start, so permuting ranges with different starts gives the same
//!   sorted array (for up to `EFI_MAX_FAKEMEM` ranges; past that, which
//!   range is dropped depends on the order); ranges with equal starts keep
//!   every order, because the kernel's heapsort is not stable;
//! - the reservation lies inside a BootServicesData descriptor: any other
//!   is refused before anything is allocated or installed, exactly as no
//!   reservation at all.

use crate::cases::scenario::Scenario;
use crate::engine::{Engine, EngineError, ModelEngine};
use crate::judge::findings::classify;
use crate::judge::signature::Signature;
use crate::model::boot::BootInput;
use crate::model::desc::{attr, ty, MemRange, MemoryDesc, EFI_PAGE_SIZE};
use crate::model::era::Era;
use crate::model::mem::Fill;
use std::collections::{BTreeMap, BTreeSet};

/// What the explorer enumerates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bound {
    pub descs: usize,
    pub ranges: usize,
    pub pages: u64,
    pub reserve: bool,
}

impl Bound {
    /// The hunt's exhaustive phase: small enough to finish in milliseconds,
    /// large enough to show the four seed bugs in v5.5.
    pub const HUNT: Bound = Bound {
        descs: 1,
        ranges: 2,
        pages: 4,
        reserve: true,
    };
    /// `efimap explore` without flags.
    pub const EXPLORE: Bound = Bound {
        descs: 2,
        ranges: 2,
        pages: 6,
        reserve: true,
    };
}

/// The attribute of range k.
const RANGE_ATTRS: [u64; 4] = [attr::SP, attr::MORE_RELIABLE, attr::RO, attr::XP];
const TYPES: [u32; 2] = [ty::CONVENTIONAL_MEMORY, ty::BOOT_SERVICES_DATA];

/// The size of a case: descriptors plus ranges (then reservations).
pub fn size(sc: &Scenario) -> (usize, usize) {
    (
        sc.input.map.len() + fake_ranges(sc).len(),
        sc.input.reservations.len(),
    )
}

/// The `efi_fake_mem=` ranges a scenario's command line gives, in order.
pub fn fake_ranges(sc: &Scenario) -> Vec<MemRange> {
    crate::model::cmdline::split_cmdline(&sc.input.cmdline).map_or_else(Vec::new, |(r, _)| r)
}

/// The smallest example of one signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Example {
    pub scenario: Scenario,
    /// The eras in which this example shows the signature.
    pub eras: BTreeSet<Era>,
    /// How many scenarios had been checked when it was found.
    pub after: u64,
}

/// What an exploration found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Explored {
    pub checked: u64,
    pub minimum: BTreeMap<Signature, Example>,
}

/// Every page interval `[a, b)` with `0 <= a < b <= pages`, ordered.
fn intervals(pages: u64) -> Vec<(u64, u64)> {
    let mut v = Vec::new();
    for a in 0..pages {
        for b in a + 1..=pages {
            v.push((a, b));
        }
    }
    v
}

/// All disjoint descriptor lists in address order, up to `n` long.
fn maps(n: usize, pages: u64) -> Vec<Vec<MemoryDesc>> {
    let mut out = vec![Vec::new()];
    let mut frontier: Vec<(Vec<MemoryDesc>, u64)> = vec![(Vec::new(), 0)];
    for _ in 0..n {
        let mut next = Vec::new();
        for (m, from) in &frontier {
            for (a, b) in intervals(pages).into_iter().filter(|&(a, _)| a >= *from) {
                for t in TYPES {
                    let mut m2 = m.clone();
                    m2.push(MemoryDesc::new(t, a * EFI_PAGE_SIZE, b - a, 0xf));
                    out.push(m2.clone());
                    next.push((m2, b));
                }
            }
        }
        frontier = next;
    }
    out
}

/// All range lists up to `n` long with non-decreasing starts.
fn range_lists(n: usize, pages: u64) -> Vec<Vec<MemRange>> {
    let mut out = vec![Vec::new()];
    let mut frontier: Vec<Vec<MemRange>> = vec![Vec::new()];
    for k in 0..n {
        let mut next = Vec::new();
        for l in &frontier {
            let from = l.last().map_or(0, |r| r.start);
            for (a, b) in intervals(pages) {
                if a * EFI_PAGE_SIZE < from {
                    continue;
                }
                let mut l2 = l.clone();
                l2.push(MemRange::new(
                    a * EFI_PAGE_SIZE,
                    b * EFI_PAGE_SIZE - 1,
                    RANGE_ATTRS[k % 4],
                ));
                out.push(l2.clone());
                next.push(l2);
            }
        }
        frontier = next;
    }
    out
}

/// The scenario with these parts.
pub fn scenario(
    map: &[MemoryDesc],
    ranges: &[MemRange],
    reservation: Option<(u64, u64)>,
) -> Scenario {
    Scenario {
        input: BootInput {
            fill: Fill::Zero,
            map: map.to_vec(),
            cmdline: crate::model::cmdline::join_cmdline(ranges, &[]),
            reservations: reservation.into_iter().collect(),
            ..BootInput::default()
        },
        ..Scenario::default()
    }
}

/// How many scenarios `explore` checks for `bound`.
pub fn count(bound: &Bound) -> u64 {
    let rl = range_lists(bound.ranges, bound.pages).len() as u64;
    maps(bound.descs, bound.pages)
        .iter()
        .map(|m| rl * reservations(m, bound).len() as u64)
        .sum()
}

fn reservations(map: &[MemoryDesc], bound: &Bound) -> Vec<Option<(u64, u64)>> {
    let mut v = vec![None];
    if bound.reserve {
        for d in map.iter().filter(|d| d.ty == ty::BOOT_SERVICES_DATA) {
            let first = d.phys_addr / EFI_PAGE_SIZE;
            for (a, b) in intervals(d.num_pages) {
                v.push(Some(((first + a) * EFI_PAGE_SIZE, (b - a) * EFI_PAGE_SIZE)));
            }
        }
    }
    v
}

/// Calls `f` with every scenario inside `bound` and its [`size`], in a
/// fixed order, until it returns false.
pub fn for_each_scenario(bound: &Bound, mut f: impl FnMut(Scenario, (usize, usize)) -> bool) {
    let rls = range_lists(bound.ranges, bound.pages);
    for map in maps(bound.descs, bound.pages) {
        for res in reservations(&map, bound) {
            for rl in &rls {
                let size = (map.len() + rl.len(), usize::from(res.is_some()));
                if !f(scenario(&map, rl, res), size) {
                    return;
                }
            }
        }
    }
}

/// Checks every scenario inside `bound` in each of `eras`. `progress` is
/// called now and then with (checked, total); returning false stops early.
pub fn explore(bound: &Bound, eras: &[Era], progress: impl FnMut(u64, u64) -> bool) -> Explored {
    let mut models: Vec<ModelEngine> = eras.iter().map(|&e| ModelEngine(e)).collect();
    let mut engines: Vec<&mut dyn Engine> =
        models.iter_mut().map(|m| m as &mut dyn Engine).collect();
    explore_engines(bound, &mut engines, progress).expect("the model engine does not fail")
}

/// [`explore`] through any engines (a kernel tree's among them); an
/// example's eras are the engines' eras. Stops at an engine's failure.
pub fn explore_engines(
    bound: &Bound,
    engines: &mut [&mut dyn Engine],
    mut progress: impl FnMut(u64, u64) -> bool,
) -> Result<Explored, EngineError> {
    let total = count(bound);
    let mut failure = None;
    let mut found = Explored::default();
    let mut sizes: BTreeMap<Signature, (usize, usize)> = BTreeMap::new();
    for_each_scenario(bound, |sc, sz| {
        let input = &sc.input;
        found.checked += 1;
        for engine in engines.iter_mut() {
            let era = engine.era();
            let c = match engine.boot(input, true) {
                Ok(o) => classify(input, &o),
                Err(EngineError::Input(_)) => continue,
                Err(e) => {
                    failure = Some(e);
                    return false;
                }
            };
            for f in c.counted() {
                let example = || Example {
                    scenario: sc.clone(),
                    eras: [era].into(),
                    after: found.checked,
                };
                let sig = f.signature();
                match found.minimum.get_mut(&sig) {
                    Some(e) if e.scenario == sc => {
                        e.eras.insert(era);
                    }
                    Some(e) if sz < sizes[&sig] => {
                        *e = example();
                        sizes.insert(sig, sz);
                    }
                    Some(_) => {}
                    None => {
                        found.minimum.insert(sig, example());
                        sizes.insert(sig, sz);
                    }
                }
            }
        }
        found.checked % 1024 != 0 || progress(found.checked, total)
    });
    progress(found.checked, total);
    match failure {
        Some(e) => Err(e),
        None => Ok(found),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enumeration_sizes() {
        assert_eq!(intervals(4).len(), 10);
        // Empty map, 10 x 2 single descriptors, and ordered disjoint pairs.
        let pairs: usize = intervals(4)
            .iter()
            .map(|&(_, b)| intervals(4).iter().filter(|&&(a, _)| a >= b).count())
            .sum();
        assert_eq!(maps(2, 4).len(), 1 + 20 + pairs * 4);
        // Ranges: none, 10 singles, then pairs with non-decreasing start.
        let ordered: usize = intervals(4)
            .iter()
            .map(|&(a, _)| intervals(4).iter().filter(|&&(c, _)| c >= a).count())
            .sum();
        assert_eq!(range_lists(2, 4).len(), 1 + 10 + ordered);
    }
}
