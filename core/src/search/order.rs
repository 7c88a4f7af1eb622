//! Order-type exploration: every way the boundaries of a small scenario
//! can compare, each realised once by the smallest page values, instead of
//! every page assignment.
//!
//! # The bound
//!
//! Up to `descs` firmware descriptors (Conventional or BootServicesData,
//! attributes WB|WT|WC|UC, in any order, overlapping or not), up to
//! `ranges` `efi_fake_mem` ranges (range k of the sorted list carrying
//! `RANGE_ATTRS[k]`, as in [`super::explore`]), and optionally one
//! reservation inside a BootServicesData descriptor. Every item is an
//! interval with a start point and an end point (exclusive); the order
//! type of a scenario is the weak order of all its points, with the point
//! 0 as a fixed mark, plus the descriptors' types. It is realised by the
//! smallest values: the points equal to 0 are 0, and each following block
//! of equal points is the next page.
//!
//! With `marks`, one item of a scenario may carry one mark, each an extra
//! kind of point the kernel treats differently from a page boundary:
//! - `Zero`: the item is empty (start point = end point): a zero-page
//!   descriptor, `efi_fake_mem=0@...`, a zero-size reservation;
//! - `Top`: the end is 2^64 (inclusive end `u64::MAX`, where `start + size
//!   - 1` is one step from wrapping): a descriptor or a range;
//! - `MisStart`, `MisEnd`: a range's or the reservation's start or end is
//!   not page-aligned: the point sits alone strictly between two page
//!   boundaries, realised [`MISALIGN`] bytes past the page before it.
//!
//! # Why the order type decides the findings (soundness)
//!
//! Take two scenarios of the bound whose points compare alike (one order
//! type, the same types, the same marks) and whose values lie below
//! 64 KiB. Every branch the modelled code takes on the scenario's values is
//! a comparison of two values built from the points: a descriptor's
//! inclusive end `phys + (pages << 12) - 1`, a range's inclusive end, the
//! starts. On page-aligned points `x - 1 < y` exactly when `x <= y`, so
//! each such comparison is a comparison of two points, or of a point with
//! the constant 0. The values the code computes and stores are the points
//! themselves, page counts between two points (used again only to rebuild
//! the same points) and counts of descriptors; the sizes of the buffers
//! it allocates depend on the counts only. So the two runs take the same
//! branches, allocate the same sizes, write the same number of descriptors
//! and fault at the same offsets: they have the same findings, which name
//! a class and a function and never a value. The constants the model
//! compares points with are 0, the 64 KiB the kernel reserves before any
//! EFI code runs (`LOW_RESERVED`: every Boot Services region below it is
//! reserved already, so `efi_reserve_boot_services` keeps it), 1 MiB (below
//! which boot-services memory is never freed), and the simulated
//! allocations from 128 MiB up. With at most 2(d + r + 1) points, every
//! realisation stays below 64 KiB, so only 0 is a mark inside the window
//! and the argument covers the whole bound: an order type stands for every
//! scenario of the bound with that order type. An item marked `Top` reaches
//! past every constant, but it starts below 64 KiB in every realisation, so
//! each comparison with a constant comes out the same in all of them. A misaligned point is
//! compared with page boundaries only, and `>> 12` of a distance to it
//! rounds the same way wherever in its page it sits, so one offset stands
//! for all (the tests check three).
//!
//! What the bound does not hold: a boundary at or above 64 KiB (where boot
//! services are freed), kexec, the later steps, and more than one mark.
//!
//! `tests::order_types_equal_page_enumeration` checks the argument: on
//! bounds small enough for both, the page enumeration, each scenario
//! reduced to its order type, gives the same signatures per era with the
//! same minimal examples.

use crate::cases::scenario::Scenario;
use crate::engine::ModelEngine;
use crate::judge::findings::check_on;
use crate::judge::signature::Signature;
use crate::model::desc::{ty, MemRange, MemoryDesc, EFI_PAGE_SIZE};
use crate::model::era::Era;
use crate::search::reach::Reach;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

use super::explore::{scenario, RANGE_ATTRS};

/// Where a misaligned point sits in its page.
pub const MISALIGN: u64 = 0x800;

/// What the order-type explorer enumerates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderBound {
    pub descs: usize,
    pub ranges: usize,
    pub reserve: bool,
    /// One item may carry one mark.
    pub marks: bool,
    /// Descriptors disjoint and in address order only (the page explorer's
    /// maps): for comparing the two.
    pub ordered: bool,
    /// Realisations that fit in this many pages only (0: no cap).
    pub pages: u64,
}

impl OrderBound {
    /// The bound of BENCHMARKS.md: three descriptors, two ranges, one
    /// reservation, every order.
    pub const PROOF: OrderBound = OrderBound {
        descs: 3,
        ranges: 2,
        reserve: true,
        marks: false,
        ordered: false,
        pages: 0,
    };

    /// The largest bound taken: the points must fit in a `u32` mask and
    /// their realisations below 64 KiB.
    pub fn check(&self) -> Result<(), String> {
        if 2 * (self.descs + self.ranges + usize::from(self.reserve)) > 14 {
            return Err(format!(
                "expected at most 7 items (descriptors, ranges and the reservation) for order types, \
                 found {} descriptors, {} ranges{}",
                self.descs,
                self.ranges,
                if self.reserve { " and a reservation" } else { "" }
            ));
        }
        Ok(())
    }
}

/// A mark on one item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Mark {
    None,
    Zero,
    Top,
    MisStart,
    MisEnd,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Item {
    Desc(usize),
    Range(usize),
    Reserve,
}

/// One shape: how many of each item, the descriptors' types, the mark, and
/// the descriptor holding the reservation.
#[derive(Clone, Debug)]
struct Shape {
    types: Vec<u32>,
    ranges: usize,
    /// The first BootServicesData descriptor that holds the reservation.
    holder: Option<usize>,
    mark: Option<(Item, Mark)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Aligned,
    Misaligned,
}

/// The points of a shape and the constraints between them, as bit masks.
struct Points {
    kinds: Vec<Kind>,
    /// For each point: points that must be strictly before it.
    before: Vec<u32>,
    /// For each point: points that must be before it or equal.
    not_after: Vec<u32>,
    /// For each item: its (start, end) point, `None` for an end at 2^64.
    at: Vec<(Item, usize, Option<usize>)>,
}

impl Shape {
    fn items(&self) -> Vec<Item> {
        let mut v: Vec<Item> = (0..self.types.len()).map(Item::Desc).collect();
        v.extend((0..self.ranges).map(Item::Range));
        if self.holder.is_some() {
            v.push(Item::Reserve);
        }
        v
    }

    fn mark_of(&self, item: Item) -> Mark {
        match self.mark {
            Some((i, m)) if i == item => m,
            _ => Mark::None,
        }
    }

    /// The points and their constraints; `ordered`: descriptors disjoint
    /// and in address order.
    fn points(&self, ordered: bool) -> Points {
        let mut p = Points {
            kinds: Vec::new(),
            before: Vec::new(),
            not_after: Vec::new(),
            at: Vec::new(),
        };
        let new = |p: &mut Points, k: Kind| {
            p.kinds.push(k);
            p.before.push(0);
            p.not_after.push(0);
            p.kinds.len() - 1
        };
        for item in self.items() {
            let m = self.mark_of(item);
            let sk = if m == Mark::MisStart {
                Kind::Misaligned
            } else {
                Kind::Aligned
            };
            let ek = if m == Mark::MisEnd {
                Kind::Misaligned
            } else {
                Kind::Aligned
            };
            let s = new(&mut p, sk);
            let e = match m {
                Mark::Zero => Some(s),
                Mark::Top => None,
                _ => {
                    let e = new(&mut p, ek);
                    p.before[e] |= 1 << s;
                    Some(e)
                }
            };
            p.at.push((item, s, e));
        }
        let find = |p: &Points, item: Item| p.at.iter().find(|a| a.0 == item).map(|a| (a.1, a.2));
        // Ranges with non-decreasing starts (setup_fake_mem sorts them).
        for k in 1..self.ranges {
            let (a, _) = find(&p, Item::Range(k - 1)).unwrap();
            let (b, _) = find(&p, Item::Range(k)).unwrap();
            p.not_after[b] |= 1 << a;
        }
        if ordered {
            for i in 1..self.types.len() {
                let (_, e) = find(&p, Item::Desc(i - 1)).unwrap();
                let (s, _) = find(&p, Item::Desc(i)).unwrap();
                if let Some(e) = e {
                    p.not_after[s] |= 1 << e;
                }
            }
        }
        if let Some(h) = self.holder {
            let (ds, de) = find(&p, Item::Desc(h)).unwrap();
            let (vs, ve) = find(&p, Item::Reserve).unwrap();
            let ve = ve.expect("a reservation has an end");
            p.not_after[vs] |= 1 << ds;
            if let Some(de) = de {
                if ve == vs {
                    // A zero-size reservation's address is inside.
                    p.before[de] |= 1 << vs;
                } else {
                    p.not_after[de] |= 1 << ve;
                }
            }
        }
        p
    }
}

/// One enumerated scenario's points, realised.
fn realise(blocks: &[u32], zero: u32, kinds: &[Kind]) -> Vec<u64> {
    let mut v = vec![0u64; kinds.len()];
    let mut page = 0u64;
    for (i, &b) in std::iter::once(&zero).chain(blocks).enumerate() {
        let first = b.trailing_zeros() as usize;
        let value = if i == 0 {
            0
        } else if b.count_ones() == 1 && kinds[first] == Kind::Misaligned {
            page * EFI_PAGE_SIZE + MISALIGN
        } else {
            page += 1;
            page * EFI_PAGE_SIZE
        };
        for (j, x) in v.iter_mut().enumerate() {
            if b & (1 << j) != 0 {
                *x = value;
            }
        }
    }
    v
}

/// The scenario of a shape with these point values.
fn build(shape: &Shape, pts: &Points, v: &[u64]) -> Option<Scenario> {
    let top = |s: u64| (1u64 << 52) - s / EFI_PAGE_SIZE;
    let mut map = Vec::with_capacity(shape.types.len());
    let mut ranges = Vec::with_capacity(shape.ranges);
    let mut reservation = None;
    for &(item, s, e) in &pts.at {
        let start = v[s];
        match item {
            Item::Desc(i) => {
                let pages = e.map_or_else(|| top(start), |e| (v[e] - start) / EFI_PAGE_SIZE);
                map.push(MemoryDesc::new(shape.types[i], start, pages, 0xf));
            }
            Item::Range(k) => {
                let end = e.map_or(u64::MAX, |e| v[e].wrapping_sub(1));
                if e.is_none() && start == 0 {
                    // `efi_fake_mem=` cannot say a size of 2^64.
                    return None;
                }
                ranges.push(MemRange::new(start, end, RANGE_ATTRS[k % 4]));
            }
            Item::Reserve => reservation = Some((start, v[e?] - start)),
        }
    }
    // The holder is the first BootServicesData descriptor holding it.
    if let (Some(h), Some((addr, size))) = (shape.holder, reservation) {
        let holds = |d: &MemoryDesc| {
            let end = u128::from(d.phys_addr) + (u128::from(d.num_pages) << 12);
            d.phys_addr <= addr
                && u128::from(addr) < end
                && u128::from(addr) + u128::from(size) <= end
        };
        if map[..h]
            .iter()
            .any(|d| d.ty == ty::BOOT_SERVICES_DATA && holds(d))
        {
            return None;
        }
    }
    Some(scenario(&map, &ranges, reservation))
}

/// Calls `f` with every weak order of the points of `pts` (as blocks after
/// the block of points equal to 0), whose first block is `zero`, whose
/// realisation fits in `cap` pages (0: any), until it returns false.
fn each_order(pts: &Points, zero: u32, cap: u64, f: &mut dyn FnMut(&[u32]) -> bool) -> bool {
    struct Walk<'a> {
        pts: &'a Points,
        all: u32,
        cap: u64,
        blocks: Vec<u32>,
        f: &'a mut dyn FnMut(&[u32]) -> bool,
    }
    impl Walk<'_> {
        fn go(&mut self, placed: u32, pages: u64) -> bool {
            if placed == self.all {
                return (self.f)(&self.blocks);
            }
            let n = self.pts.kinds.len();
            let free = self.all & !placed;
            // Points whose strict predecessors are all placed.
            let ready = (0..n)
                .filter(|&j| free & (1 << j) != 0 && self.pts.before[j] & !placed == 0)
                .fold(0u32, |m, j| m | 1 << j);
            let mut b = ready;
            while b != 0 {
                let members = || (0..n).filter(move |j| b & (1 << j) != 0);
                let closed = members().all(|j| self.pts.not_after[j] & !(placed | b) == 0);
                let misaligned = members().any(|j| self.pts.kinds[j] == Kind::Misaligned);
                // A misaligned point is alone in its block and takes no page.
                let next = if misaligned { pages } else { pages + 1 };
                if closed
                    && (!misaligned || b.count_ones() == 1)
                    && (self.cap == 0 || next <= self.cap)
                {
                    self.blocks.push(b);
                    let go_on = self.go(placed | b, next);
                    self.blocks.pop();
                    if !go_on {
                        return false;
                    }
                }
                b = (b - 1) & ready;
            }
            true
        }
    }
    let mut w = Walk {
        pts,
        all: (1u32 << pts.kinds.len()) - 1,
        cap,
        blocks: Vec::with_capacity(pts.kinds.len()),
        f,
    };
    w.go(zero, 0)
}

/// The blocks that may be the points equal to 0: aligned points with no
/// strict predecessor, closed under "not after".
fn zero_blocks(pts: &Points) -> Vec<u32> {
    let n = pts.kinds.len();
    let can: u32 = (0..n)
        .filter(|&j| pts.before[j] == 0 && pts.kinds[j] == Kind::Aligned)
        .fold(0, |m, j| m | 1 << j);
    let mut out = Vec::new();
    let mut b = can;
    loop {
        if (0..n)
            .filter(|j| b & (1 << j) != 0)
            .all(|j| pts.not_after[j] & !b == 0)
        {
            out.push(b);
        }
        if b == 0 {
            break;
        }
        b = (b - 1) & can;
    }
    out.reverse();
    out
}

/// Every shape of the bound, smallest first.
fn shapes(bound: &OrderBound) -> Vec<Shape> {
    let mut out = Vec::new();
    for size in 0..=bound.descs + bound.ranges {
        for nd in 0..=bound.descs.min(size) {
            let nr = size - nd;
            if nr > bound.ranges {
                continue;
            }
            for t in 0..1u32 << nd {
                let types: Vec<u32> = (0..nd)
                    .map(|i| {
                        if t & (1 << i) != 0 {
                            ty::BOOT_SERVICES_DATA
                        } else {
                            ty::CONVENTIONAL_MEMORY
                        }
                    })
                    .collect();
                let holders = std::iter::once(None).chain(
                    (0..nd)
                        .filter(|&i| bound.reserve && types[i] == ty::BOOT_SERVICES_DATA)
                        .map(Some),
                );
                for holder in holders {
                    let shape = Shape {
                        types: types.clone(),
                        ranges: nr,
                        holder,
                        mark: None,
                    };
                    let mut marks = vec![None];
                    if bound.marks {
                        for item in shape.items() {
                            let kinds: &[Mark] = match item {
                                Item::Desc(_) => &[Mark::Zero, Mark::Top],
                                Item::Range(_) => {
                                    &[Mark::Zero, Mark::Top, Mark::MisStart, Mark::MisEnd]
                                }
                                Item::Reserve => &[Mark::Zero, Mark::MisStart, Mark::MisEnd],
                            };
                            marks.extend(kinds.iter().map(|&m| Some((item, m))));
                        }
                    }
                    for mark in marks {
                        out.push(Shape {
                            mark,
                            ..shape.clone()
                        });
                    }
                }
            }
        }
    }
    out
}

/// The smallest example of one signature in one era: the first by
/// (size, scenario), whatever order the scenarios were checked in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Minimal {
    pub scenario: Scenario,
    pub key: Key,
}

/// What orders examples: the size (descriptors plus ranges, then
/// reservations), then the map, the command line, the reservations.
pub type Key = (
    (usize, usize),
    Vec<(u32, u64, u64)>,
    String,
    Vec<(u64, u64)>,
);

/// The [`Key`] of a scenario.
pub fn key(sc: &Scenario) -> Key {
    let map = sc
        .input
        .map
        .iter()
        .map(|d| (d.ty, d.phys_addr, d.num_pages))
        .collect();
    (
        super::explore::size(sc),
        map,
        sc.input.cmdline.clone(),
        sc.input.reservations.clone(),
    )
}

/// What an order-type exploration found: per era, every signature with its
/// minimal example.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Certificate {
    pub order_types: u64,
    pub minimum: BTreeMap<(Era, Signature), Minimal>,
    /// What the order types' scenarios held and their boots called.
    pub reach: Reach,
}

impl Certificate {
    fn merge(&mut self, other: Certificate) {
        self.order_types += other.order_types;
        self.reach.merge(&other.reach);
        for (k, m) in other.minimum {
            self.offer(k, &m.scenario, &m.key);
        }
    }

    fn offer(&mut self, k: (Era, Signature), sc: &Scenario, key: &Key) {
        match self.minimum.get(&k) {
            Some(old) if old.key <= *key => {}
            _ => {
                let m = Minimal {
                    scenario: sc.clone(),
                    key: key.clone(),
                };
                self.minimum.insert(k, m);
            }
        }
    }
}

/// One unit of work: a shape and the block of points equal to 0.
struct Unit {
    shape: usize,
    zero: u32,
}

/// Calls `f` with every scenario of one unit.
fn each_in_unit(
    shape: &Shape,
    pts: &Points,
    zero: u32,
    cap: u64,
    f: &mut dyn FnMut(Scenario) -> bool,
) {
    each_order(pts, zero, cap, &mut |blocks| {
        let v = realise(blocks, zero, &pts.kinds);
        match build(shape, pts, &v) {
            Some(sc) => f(sc),
            None => true,
        }
    });
}

/// How many order types the bound holds, by enumerating them without
/// booting (for projections).
pub fn count(bound: &OrderBound) -> u64 {
    let mut n = 0u64;
    for_each_order_type(bound, |_| {
        n += 1;
        true
    });
    n
}

/// Calls `f` with every scenario of the bound, one thread, in order.
pub fn for_each_order_type(bound: &OrderBound, mut f: impl FnMut(Scenario) -> bool) {
    for shape in shapes(bound) {
        let pts = shape.points(bound.ordered);
        for zero in zero_blocks(&pts) {
            let mut go_on = true;
            each_in_unit(&shape, &pts, zero, bound.pages, &mut |sc| {
                go_on = f(sc);
                go_on
            });
            if !go_on {
                return;
            }
        }
    }
}

/// Checks every order type of `bound` in each of `eras` on `threads`
/// threads. The result does not depend on the number of threads: minima
/// are chosen by [`key`]. `progress(done, units)` is called as units
/// finish; returning false stops early.
pub fn explore_orders(
    bound: &OrderBound,
    eras: &[Era],
    threads: usize,
    progress: &(dyn Fn(u64, u64) -> bool + Sync),
) -> Certificate {
    let shapes = shapes(bound);
    let points: Vec<Points> = shapes.iter().map(|s| s.points(bound.ordered)).collect();
    let units: Vec<Unit> = points
        .iter()
        .enumerate()
        .flat_map(|(i, p)| {
            zero_blocks(p)
                .into_iter()
                .map(move |zero| Unit { shape: i, zero })
        })
        .collect();
    let next = AtomicUsize::new(0);
    let done = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let total = Mutex::new(Certificate::default());
    std::thread::scope(|s| {
        for _ in 0..threads.max(1) {
            s.spawn(|| {
                let mut engines: Vec<ModelEngine> = eras.iter().map(|&e| ModelEngine(e)).collect();
                let mut mine = Certificate::default();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= units.len() || stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let u = &units[i];
                    let shape = &shapes[u.shape];
                    each_in_unit(shape, &points[u.shape], u.zero, bound.pages, &mut |sc| {
                        mine.order_types += 1;
                        check_one(&sc, &mut engines, &mut mine);
                        true
                    });
                    let d = done.fetch_add(1, Ordering::Relaxed) + 1;
                    if !progress(d, units.len() as u64) {
                        stop.store(true, Ordering::Relaxed);
                    }
                }
                total.lock().expect("no thread panicked").merge(mine);
            });
        }
    });
    total.into_inner().expect("no thread panicked")
}

/// The certificate as text: the bound, then per era every signature found
/// with its minimal example, and the closing claim.
pub fn render(bound: &OrderBound, eras: &[Era], cert: &Certificate) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "order types: descs <= {}, ranges <= {}, reservation {}, marks {}{}",
        bound.descs,
        bound.ranges,
        if bound.reserve { "optional" } else { "none" },
        if bound.marks { "one" } else { "none" },
        if bound.pages > 0 {
            format!(", pages <= {}", bound.pages)
        } else {
            String::new()
        }
    );
    for &era in eras {
        let _ = writeln!(out, "\n{era}:");
        let mut any = false;
        for ((_, sig), m) in cert.minimum.iter().filter(|((e, _), _)| *e == era) {
            any = true;
            let (dr, res) = m.key.0;
            let _ = writeln!(
                out,
                "  {sig}: smallest {dr} descriptors + ranges, {res} reservations"
            );
            let mut sc = m.scenario.clone();
            sc.header.clear();
            for line in sc
                .to_text()
                .lines()
                .filter(|l| !l.starts_with("eras") && !l.starts_with("desc_size"))
            {
                let _ = writeln!(out, "      {line}");
            }
        }
        if !any {
            let _ = writeln!(out, "  no finding");
        }
        let _ = writeln!(
            out,
            "  no other finding in {} order types",
            cert.order_types
        );
    }
    out
}

/// Boots one scenario in every engine and offers its findings.
fn check_one(sc: &Scenario, engines: &mut [ModelEngine], into: &mut Certificate) {
    let mut k: Option<Key> = None;
    into.reach.scenario(&sc.input);
    for engine in engines.iter_mut() {
        let era = engine.0;
        let c = match check_on(engine, &sc.input, true) {
            Ok(Ok((o, c))) => {
                into.reach.boot(&o);
                c
            }
            Ok(Err(_)) => continue,
            Err(e) => unreachable!("the model engine fails on its input only: {e}"),
        };
        for f in c.counted() {
            let k = k.get_or_insert_with(|| key(sc));
            into.offer((era, f.signature()), sc, k);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::explore::{for_each_scenario, Bound};

    fn bound(descs: usize, ranges: usize, reserve: bool) -> OrderBound {
        OrderBound {
            descs,
            ranges,
            reserve,
            marks: false,
            ordered: false,
            pages: 0,
        }
    }

    /// Weak orders of two points a < b with the mark 0: {a=0 < b}, {0 < a
    /// < b}: 2. Of two such intervals: 13 weak orders of four points with
    /// a1 < b1, a2 < b2, each either with some point at 0 or not.
    #[test]
    fn counts_of_small_bounds() {
        // One descriptor of two types: 2 orders each.
        assert_eq!(count(&bound(1, 0, false)), 1 + 4);
        // The empty map; a Conventional descriptor at 0 or not (2); a
        // BootServicesData one (2), and with a reservation s <= vs < ve <= e:
        // s = vs or not, ve = e or not, the first block at 0 or not (8).
        assert_eq!(count(&bound(1, 0, true)), 1 + 2 + 2 + 8);
        // One range: 1 + 2.
        assert_eq!(count(&bound(0, 1, false)), 1 + 2);
        // Two ranges with non-decreasing starts, from 0 or not:
        // weak orders of a1 <= a2, a1 < b1, a2 < b2 (with mark 0).
        let two = count(&bound(0, 2, false)) - count(&bound(0, 1, false));
        let mut brute = 0;
        for a1 in 0..5u64 {
            for b1 in a1 + 1..6 {
                for a2 in a1..5 {
                    for b2 in a2 + 1..6 {
                        let vals = [a1, b1, a2, b2];
                        let mut d: Vec<u64> = vals.to_vec();
                        d.sort_unstable();
                        d.dedup();
                        // Compressed: realised by the smallest values.
                        let off = u64::from(d[0] != 0);
                        let ok = vals
                            .iter()
                            .all(|x| *x == d.iter().position(|y| y == x).unwrap() as u64 + off);
                        brute += u64::from(ok);
                    }
                }
            }
        }
        assert_eq!(two, brute);
    }

    /// A scenario reduced to its order type: its point values replaced by
    /// their ranks, 0 staying 0 (page-aligned scenarios only).
    fn compress(sc: &Scenario) -> Scenario {
        let ranges = super::super::explore::fake_ranges(sc);
        let mut vals: Vec<u64> = Vec::new();
        for d in &sc.input.map {
            vals.extend([d.phys_addr, d.phys_addr + d.num_pages * EFI_PAGE_SIZE]);
        }
        for r in &ranges {
            vals.extend([r.start, r.end + 1]);
        }
        for &(a, s) in &sc.input.reservations {
            vals.extend([a, a + s]);
        }
        vals.sort_unstable();
        vals.dedup();
        let off = u64::from(vals.first().is_some_and(|&v| v != 0));
        let r = |x: u64| (vals.binary_search(&x).unwrap() as u64 + off) * EFI_PAGE_SIZE;
        let map: Vec<MemoryDesc> = sc
            .input
            .map
            .iter()
            .map(|d| {
                let (s, e) = (r(d.phys_addr), r(d.phys_addr + d.num_pages * EFI_PAGE_SIZE));
                MemoryDesc::new(d.ty, s, (e - s) / EFI_PAGE_SIZE, d.attribute)
            })
            .collect();
        let ranges: Vec<MemRange> = ranges
            .iter()
            .map(|m| MemRange::new(r(m.start), r(m.end + 1) - 1, m.attribute))
            .collect();
        let res = sc
            .input
            .reservations
            .first()
            .map(|&(a, s)| (r(a), r(a + s) - r(a)));
        scenario(&map, &ranges, res)
    }

    type Minima = BTreeMap<(Era, Signature), Scenario>;

    fn minima(each: impl FnOnce(&mut dyn FnMut(Scenario)), eras: &[Era]) -> Minima {
        let mut engines: Vec<ModelEngine> = eras.iter().map(|&e| ModelEngine(e)).collect();
        let mut c = Certificate::default();
        each(&mut |sc| check_one(&sc, &mut engines, &mut c));
        c.minimum
            .into_iter()
            .map(|(k, m)| (k, m.scenario))
            .collect()
    }

    /// Page enumeration reduced to order types, keyed minima.
    fn page_minima(b: &Bound, eras: &[Era], keep: impl Fn(&Scenario) -> bool) -> Minima {
        minima(
            |f| {
                for_each_scenario(b, |sc, _| {
                    if keep(&sc) {
                        f(compress(&sc));
                    }
                    true
                })
            },
            eras,
        )
    }

    fn order_minima(b: &OrderBound, eras: &[Era]) -> Minima {
        minima(
            |f| {
                for_each_order_type(b, |sc| {
                    f(sc);
                    true
                })
            },
            eras,
        )
    }

    /// The soundness check: on bounds small enough for both, the page
    /// enumeration (disjoint maps in address order) and the order types of
    /// such maps give the same signatures in every era, with the same
    /// minimal examples.
    #[test]
    fn order_types_equal_page_enumeration() {
        let eras = Era::all();
        for (descs, ranges, pages) in [(1, 2, 5), (2, 1, 5), (2, 2, 4)] {
            let pb = Bound {
                descs,
                ranges,
                pages,
                reserve: true,
            };
            let ob = OrderBound {
                ordered: true,
                pages,
                ..bound(descs, ranges, true)
            };
            let page = page_minima(&pb, &eras, |_| true);
            let order = order_minima(&ob, &eras);
            assert!(!page.is_empty());
            assert_eq!(
                page.keys().collect::<Vec<_>>(),
                order.keys().collect::<Vec<_>>(),
                "{pb:?}"
            );
            assert_eq!(page, order, "{pb:?}");
        }
    }

    /// The same for maps in any order, overlapping: a page enumeration of
    /// every descriptor list (written here, small) against the order types.
    #[test]
    fn order_types_equal_page_enumeration_of_any_map() {
        let eras = Era::all();
        let pages = 4u64;
        let intervals: Vec<(u64, u64)> = (0..pages)
            .flat_map(|a| (a + 1..=pages).map(move |b| (a, b)))
            .collect();
        let types = [ty::CONVENTIONAL_MEMORY, ty::BOOT_SERVICES_DATA];
        let mut maps: Vec<Vec<MemoryDesc>> = vec![vec![]];
        for n in 1..=2 {
            let mut next = Vec::new();
            for m in maps.iter().filter(|m| m.len() == n - 1) {
                for &(a, b) in &intervals {
                    for t in types {
                        let mut m = m.clone();
                        m.push(MemoryDesc::new(t, a * EFI_PAGE_SIZE, b - a, 0xf));
                        next.push(m);
                    }
                }
            }
            maps.extend(next);
        }
        let page = minima(
            |f| {
                for map in &maps {
                    let mut res: Vec<Option<(u64, u64)>> = vec![None];
                    for (i, d) in map.iter().enumerate() {
                        if d.ty != ty::BOOT_SERVICES_DATA {
                            continue;
                        }
                        let first = d.phys_addr / EFI_PAGE_SIZE;
                        for a in first..first + d.num_pages {
                            for b in a + 1..=first + d.num_pages {
                                let (addr, size) = (a * EFI_PAGE_SIZE, (b - a) * EFI_PAGE_SIZE);
                                // Listed once, under the first holder.
                                let held_before = map[..i].iter().any(|e| {
                                    e.ty == ty::BOOT_SERVICES_DATA
                                        && e.phys_addr <= addr
                                        && addr + size <= e.phys_addr + e.num_pages * EFI_PAGE_SIZE
                                });
                                if !held_before {
                                    res.push(Some((addr, size)));
                                }
                            }
                        }
                    }
                    for r in res {
                        f(compress(&scenario(map, &[], r)));
                        for a in 0..pages {
                            for b in a + 1..=pages {
                                let range = MemRange::new(
                                    a * EFI_PAGE_SIZE,
                                    b * EFI_PAGE_SIZE - 1,
                                    RANGE_ATTRS[0],
                                );
                                f(compress(&scenario(map, &[range], r)));
                            }
                        }
                    }
                }
            },
            &eras,
        );
        let order = order_minima(
            &OrderBound {
                pages,
                ..bound(2, 1, true)
            },
            &eras,
        );
        assert_eq!(page, order);
    }

    /// One thread or two: the same certificate.
    #[test]
    fn threads_do_not_change_the_certificate() {
        let b = OrderBound {
            marks: true,
            ..bound(2, 1, true)
        };
        let eras = [Era::V5_5, Era::V6_12_Y];
        let one = explore_orders(&b, &eras, 1, &|_, _| true);
        let two = explore_orders(&b, &eras, 2, &|_, _| true);
        assert_eq!(one, two);
        assert_eq!(one.order_types, count(&b));
    }
}
