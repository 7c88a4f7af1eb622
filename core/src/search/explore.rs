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
use crate::judge::findings::check_on;
use crate::judge::signature::Signature;
use crate::model::boot::BootInput;
use crate::model::desc::{attr, ty, MemRange, MemoryDesc, EFI_PAGE_SIZE};
use crate::model::era::Era;
use crate::model::mem::Fill;
use crate::search::parallel::{self, Shared};
use crate::search::reach::Reach;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};

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
pub const RANGE_ATTRS: [u64; 4] = [attr::SP, attr::MORE_RELIABLE, attr::RO, attr::XP];
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
    /// What the scenarios held and the boots called.
    pub reach: Reach,
}

/// Every page interval `[a, b)` with `from <= a < b <= pages`, in order.
fn intervals_from(from: u64, pages: u64) -> impl Iterator<Item = (u64, u64)> {
    (from..pages).flat_map(move |a| (a + 1..=pages).map(move |b| (a, b)))
}

/// The largest bound the explorer takes: the count below is exact up to
/// it, and anything larger would not finish anyway.
pub const MAX_PAGES: u64 = 1024;
pub const MAX_ITEMS: usize = 64;

/// A bound the explorer does not take, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BoundTooLarge(pub String);

impl std::fmt::Display for BoundTooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Bound {
    /// Whether the explorer can enumerate it: at most [`MAX_PAGES`] pages
    /// and [`MAX_ITEMS`] descriptors and ranges each.
    pub fn check(&self) -> Result<(), BoundTooLarge> {
        if self.pages > MAX_PAGES || self.descs > MAX_ITEMS || self.ranges > MAX_ITEMS {
            return Err(BoundTooLarge(format!(
                "expected at most {MAX_PAGES} pages and {MAX_ITEMS} descriptors and ranges, \
                 found --pages {} --descs {} --ranges {}",
                self.pages, self.descs, self.ranges
            )));
        }
        Ok(())
    }
}

/// Calls `f` with every disjoint descriptor list in address order of up
/// to `n` descriptors, shortest first, each length in lexicographic order
/// (interval, then type); stops when `f` returns false. Nothing but the
/// current list is held.
fn each_map(n: usize, pages: u64, f: &mut dyn FnMut(&[MemoryDesc]) -> bool) -> bool {
    fn go(
        left: usize,
        from: u64,
        pages: u64,
        cur: &mut Vec<MemoryDesc>,
        f: &mut dyn FnMut(&[MemoryDesc]) -> bool,
    ) -> bool {
        if left == 0 {
            return f(cur);
        }
        for (a, b) in intervals_from(from, pages) {
            for t in TYPES {
                cur.push(MemoryDesc::new(t, a * EFI_PAGE_SIZE, b - a, 0xf));
                let go_on = go(left - 1, b, pages, cur, f);
                cur.pop();
                if !go_on {
                    return false;
                }
            }
        }
        true
    }
    let mut cur = Vec::with_capacity(n);
    (0..=n).all(|len| go(len, 0, pages, &mut cur, f))
}

/// Calls `f` with every range list of up to `n` ranges with non-decreasing
/// starts, shortest first, each length in lexicographic order.
fn each_range_list(n: usize, pages: u64, f: &mut dyn FnMut(&[MemRange]) -> bool) -> bool {
    fn go(
        k: usize,
        left: usize,
        from: u64,
        pages: u64,
        cur: &mut Vec<MemRange>,
        f: &mut dyn FnMut(&[MemRange]) -> bool,
    ) -> bool {
        if left == 0 {
            return f(cur);
        }
        for a in from..pages {
            for b in a + 1..=pages {
                cur.push(MemRange::new(
                    a * EFI_PAGE_SIZE,
                    b * EFI_PAGE_SIZE - 1,
                    RANGE_ATTRS[k % 4],
                ));
                let go_on = go(k + 1, left - 1, a, pages, cur, f);
                cur.pop();
                if !go_on {
                    return false;
                }
            }
        }
        true
    }
    let mut cur = Vec::with_capacity(n);
    (0..=n).all(|len| go(0, len, 0, pages, &mut cur, f))
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

/// How many scenarios `explore` checks for `bound`, without enumerating
/// them (saturating at `u128::MAX`): maps times reservations, summed, times
/// range lists. For a bound [`Bound::check`] refuses, `None`.
pub fn count(bound: &Bound) -> Option<u128> {
    bound.check().ok()?;
    let p = bound.pages as usize;
    let tri = |k: usize| (k * (k + 1) / 2) as u128;
    // maps[l][from]: lists of exactly l descriptors starting at >= from;
    // res[l][from]: the sum over them of their reservations (the
    // intervals of each Boot Services Data descriptor).
    let mut maps_n = vec![1u128; p + 1];
    let mut res_n = vec![0u128; p + 1];
    let (mut maps_total, mut res_total) = (1u128, 0u128);
    for _ in 0..bound.descs {
        let mut m = vec![0u128; p + 1];
        let mut r = vec![0u128; p + 1];
        for from in (0..p).rev() {
            // Lists whose first descriptor starts at `from` exactly, plus
            // those starting later.
            let (mut mm, mut rr) = (0u128, 0u128);
            for b in from + 1..=p {
                let tail = maps_n[b];
                mm = mm.saturating_add(tail.saturating_mul(2));
                let own = if bound.reserve { tri(b - from) } else { 0 };
                rr = rr
                    .saturating_add(res_n[b].saturating_mul(2))
                    .saturating_add(own.saturating_mul(tail));
            }
            m[from] = m[from + 1].saturating_add(mm);
            r[from] = r[from + 1].saturating_add(rr);
        }
        maps_n = m;
        res_n = r;
        maps_total = maps_total.saturating_add(maps_n[0]);
        res_total = res_total.saturating_add(res_n[0]);
    }
    // Range lists: lists of exactly l ranges whose starts are >= from.
    let mut rl_n = vec![1u128; p + 1];
    let mut rl_total = 1u128;
    for _ in 0..bound.ranges {
        let mut x = vec![0u128; p + 1];
        for from in (0..p).rev() {
            let here = ((p - from) as u128).saturating_mul(rl_n[from]);
            x[from] = x[from + 1].saturating_add(here);
        }
        rl_n = x;
        rl_total = rl_total.saturating_add(rl_n[0]);
    }
    Some(
        maps_total
            .saturating_add(res_total)
            .saturating_mul(rl_total),
    )
}

fn each_reservation(
    map: &[MemoryDesc],
    bound: &Bound,
    f: &mut dyn FnMut(Option<(u64, u64)>) -> bool,
) -> bool {
    if !f(None) {
        return false;
    }
    if !bound.reserve {
        return true;
    }
    for d in map.iter().filter(|d| d.ty == ty::BOOT_SERVICES_DATA) {
        let first = d.phys_addr / EFI_PAGE_SIZE;
        for (a, b) in intervals_from(0, d.num_pages) {
            if !f(Some(((first + a) * EFI_PAGE_SIZE, (b - a) * EFI_PAGE_SIZE))) {
                return false;
            }
        }
    }
    true
}

/// Calls `f` with every scenario inside `bound` and its [`size`], in a
/// fixed order, until it returns false. Streams: memory does not grow
/// with the bound.
pub fn for_each_scenario(bound: &Bound, mut f: impl FnMut(Scenario, (usize, usize)) -> bool) {
    each_map(bound.descs, bound.pages, &mut |map| {
        each_reservation(map, bound, &mut |res| {
            each_range_list(bound.ranges, bound.pages, &mut |rl| {
                let size = (map.len() + rl.len(), usize::from(res.is_some()));
                f(scenario(map, rl, res), size)
            })
        })
    });
}

/// Checks every scenario inside `bound` in each of `eras`, on as many
/// threads as the machine has cores. `progress` is called now and then
/// with (checked, total); returning false stops early.
pub fn explore(bound: &Bound, eras: &[Era], progress: impl FnMut(u64, u64) -> bool) -> Explored {
    let jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
    explore_jobs(bound, eras, jobs, progress)
}

/// [`explore`] on `jobs` threads. The result is the same for any number
/// of threads: the scenarios are split by firmware map (blocks of
/// [`MAPS_PER_CLAIM`] maps, each thread taking the next block as it
/// finishes one), each keeps its place in the single-threaded order, and
/// a signature's minimum is the smallest example, the earliest among
/// equals, as on one thread.
pub fn explore_jobs(
    bound: &Bound,
    eras: &[Era],
    jobs: usize,
    progress: impl FnMut(u64, u64) -> bool,
) -> Explored {
    let mut models: Vec<ModelEngine> = eras.iter().map(|&e| ModelEngine(e)).collect();
    let mut engines: Vec<&mut dyn Engine> =
        models.iter_mut().map(|m| m as &mut dyn Engine).collect();
    explore_engines_jobs(bound, &mut engines, jobs, progress)
        .expect("the model engine does not fail")
}

/// [`explore`] through any engines (a kernel tree's among them), on one
/// thread; an example's eras are the engines' eras. Stops at an engine's
/// failure.
pub fn explore_engines(
    bound: &Bound,
    engines: &mut [&mut dyn Engine],
    progress: impl FnMut(u64, u64) -> bool,
) -> Result<Explored, EngineError> {
    explore_engines_jobs(bound, engines, 1, progress)
}

/// [`explore_engines`] on `jobs` threads if every engine forks (see
/// [`explore_jobs`]), on this one otherwise.
pub fn explore_engines_jobs(
    bound: &Bound,
    engines: &mut [&mut dyn Engine],
    jobs: usize,
    mut progress: impl FnMut(u64, u64) -> bool,
) -> Result<Explored, EngineError> {
    let total = count(bound).map_or(u64::MAX, |n| u64::try_from(n).unwrap_or(u64::MAX));
    let shared = Shared::default();
    let next = AtomicU64::new(0);
    let parts = match parallel::forks(engines, jobs) {
        Some(sets) => parallel::run(
            sets,
            &shared,
            |engines| explore_part(bound, engines, &next, &shared, &mut |_| true),
            || progress(shared.checked(), total),
        ),
        None => vec![explore_part(bound, engines, &next, &shared, &mut |n| {
            progress(n, total)
        })],
    };
    let mut found = Minima::default();
    for part in parts {
        found.merge(part?);
    }
    progress(found.checked, total);
    Ok(found.into_explored())
}

/// What one thread found: each signature's least example, with its size
/// and its place in the single-threaded order.
#[derive(Default)]
struct Minima {
    checked: u64,
    minimum: BTreeMap<Signature, (Example, (usize, usize))>,
    reach: Reach,
}

impl Minima {
    /// Scenario `sc` (of size `sz`, number `index` in the order) shows
    /// `sig` in `era`.
    fn note(&mut self, sig: Signature, era: Era, sc: &Scenario, sz: (usize, usize), index: u64) {
        let example = || Example {
            scenario: sc.clone(),
            eras: [era].into(),
            after: index,
        };
        match self.minimum.get_mut(&sig) {
            Some((e, _)) if e.after == index => {
                e.eras.insert(era);
            }
            Some((e, size)) if sz < *size => {
                *e = example();
                *size = sz;
            }
            Some(_) => {}
            None => {
                self.minimum.insert(sig, (example(), sz));
            }
        }
    }

    fn merge(&mut self, other: Minima) {
        self.checked += other.checked;
        self.reach.merge(&other.reach);
        for (sig, (e, sz)) in other.minimum {
            match self.minimum.get_mut(&sig) {
                Some(mine) if (sz, e.after) < (mine.1, mine.0.after) => *mine = (e, sz),
                Some(_) => {}
                None => {
                    self.minimum.insert(sig, (e, sz));
                }
            }
        }
    }

    fn into_explored(self) -> Explored {
        Explored {
            checked: self.checked,
            minimum: self.minimum.into_iter().map(|(s, (e, _))| (s, e)).collect(),
            reach: self.reach,
        }
    }
}

/// Maps in a block of work of the threaded explorer.
pub const MAPS_PER_CLAIM: u64 = 16;

/// Checks the scenarios of the blocks of maps this thread claims from
/// `next` (block `b` holds maps `b * MAPS_PER_CLAIM` on): a block is
/// claimed when the walk reaches the end of the last one, and every
/// thread walks the maps in the same order, so the blocks claimed are
/// always ahead. Each scenario is numbered by its place in
/// [`for_each_scenario`]'s order. `tick` is told the count now and then;
/// false from it, or a stop in `shared`, ends the part early.
fn explore_part(
    bound: &Bound,
    engines: &mut [&mut dyn Engine],
    next: &AtomicU64,
    shared: &Shared,
    tick: &mut dyn FnMut(u64) -> bool,
) -> Result<Minima, EngineError> {
    let mut lists = 0u64;
    each_range_list(bound.ranges, bound.pages, &mut |_| {
        lists += 1;
        true
    });
    let mut found = Minima::default();
    let mut failure = None;
    let (mut base, mut nth) = (0u64, 0u64);
    let mut claimed = next.fetch_add(1, Ordering::Relaxed);
    each_map(bound.descs, bound.pages, &mut |map| {
        let mut reservations = 0u64;
        each_reservation(map, bound, &mut |_| {
            reservations += 1;
            true
        });
        let block = nth / MAPS_PER_CLAIM;
        if block > claimed {
            claimed = next.fetch_add(1, Ordering::Relaxed);
        }
        let mine = block == claimed;
        nth += 1;
        let mut index = base;
        base += reservations * lists;
        !mine
            || each_reservation(map, bound, &mut |res| {
                each_range_list(bound.ranges, bound.pages, &mut |rl| {
                    let sc = scenario(map, rl, res);
                    let sz = (map.len() + rl.len(), usize::from(res.is_some()));
                    index += 1;
                    found.checked += 1;
                    found.reach.scenario(&sc.input);
                    for engine in engines.iter_mut() {
                        let era = engine.era();
                        let c = match check_on(&mut **engine, &sc.input, true) {
                            Ok(Ok((o, c))) => {
                                found.reach.boot(&o);
                                c
                            }
                            Ok(Err(_)) => continue,
                            Err(e) => {
                                failure = Some(e);
                                return false;
                            }
                        };
                        for f in c.counted() {
                            found.note(f.signature(), era, &sc, sz, index);
                        }
                    }
                    if found.checked % 1024 != 0 {
                        return true;
                    }
                    shared.add(1024);
                    tick(found.checked) && !shared.stopped()
                })
            })
    });
    match failure {
        Some(e) => Err(e),
        None => Ok(found),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect_maps(n: usize, pages: u64) -> Vec<Vec<MemoryDesc>> {
        let mut v = Vec::new();
        each_map(n, pages, &mut |m| {
            v.push(m.to_vec());
            true
        });
        v
    }

    fn collect_ranges(n: usize, pages: u64) -> Vec<Vec<MemRange>> {
        let mut v = Vec::new();
        each_range_list(n, pages, &mut |r| {
            v.push(r.to_vec());
            true
        });
        v
    }

    #[test]
    fn enumeration_sizes() {
        assert_eq!(intervals_from(0, 4).count(), 10);
        // Empty map, 10 x 2 single descriptors, and ordered disjoint pairs.
        let pairs: usize = intervals_from(0, 4)
            .map(|(_, b)| intervals_from(b, 4).count())
            .sum();
        assert_eq!(collect_maps(2, 4).len(), 1 + 20 + pairs * 4);
        // Ranges: none, 10 singles, then pairs with non-decreasing start.
        let ordered: usize = intervals_from(0, 4)
            .map(|(a, _)| intervals_from(a, 4).count())
            .sum();
        assert_eq!(collect_ranges(2, 4).len(), 1 + 10 + ordered);
    }

    /// The count is what the enumeration gives, without enumerating.
    #[test]
    fn the_count_is_exact() {
        for bound in [
            Bound::HUNT,
            Bound::EXPLORE,
            Bound {
                descs: 3,
                ranges: 1,
                pages: 5,
                reserve: true,
            },
            Bound {
                descs: 2,
                ranges: 3,
                pages: 3,
                reserve: false,
            },
        ] {
            let mut n = 0u128;
            for_each_scenario(&bound, |_, _| {
                n += 1;
                true
            });
            assert_eq!(count(&bound), Some(n), "{bound:?}");
        }
        assert_eq!(count(&Bound::HUNT), Some(4256));
    }

    /// A hostile bound is refused, and one that is only large streams: the
    /// first scenarios come at once, nothing is built up front.
    #[test]
    fn large_bounds_are_refused_or_streamed() {
        let huge = Bound {
            descs: 100,
            ranges: 100,
            pages: 100_000,
            reserve: true,
        };
        assert!(huge.check().is_err());
        assert_eq!(count(&huge), None);
        let big = Bound {
            descs: 64,
            ranges: 64,
            pages: 1024,
            reserve: true,
        };
        assert_eq!(count(&big), Some(u128::MAX));
        let mut n = 0;
        for_each_scenario(&big, |_, _| {
            n += 1;
            n < 1000
        });
        assert_eq!(n, 1000);
    }

    /// Two and three threads give what one gives: every signature with the
    /// same least example, its eras and its place in the order, and the
    /// same count; the count is the bound's exact size.
    #[test]
    fn threads_do_not_change_the_result() {
        let bound = Bound {
            descs: 2,
            ranges: 1,
            pages: 4,
            reserve: true,
        };
        let eras = [Era::V5_5, Era::V6_10];
        let one = explore_jobs(&bound, &eras, 1, |_, _| true);
        assert_eq!(u128::from(one.checked), count(&bound).unwrap());
        assert!(!one.minimum.is_empty());
        for jobs in [2, 3] {
            assert_eq!(
                explore_jobs(&bound, &eras, jobs, |_, _| true),
                one,
                "{jobs}"
            );
        }
    }
}
