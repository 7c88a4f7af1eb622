//! Interval geometry over descriptor lists: where a map and the oracle's
//! regions disagree, which descriptors overlap, and the map a lookup sees.

use crate::judge::oracle::{normalize, Region};
use crate::judge::signature::Class;
use crate::model::desc::MemoryDesc;

/// A disagreement between the oracle and a map over `[start, end]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Discrepancy {
    pub class: Class,
    pub start: u64,
    pub end: u64,
    pub expected: Option<(u32, u64)>,
    pub actual: Option<(u32, u64)>,
}

/// Overlapping descriptors `(first, second, start, end)`: a sweep by
/// address, pairing each descriptor that starts below the furthest end so
/// far with the one that reached it. Finds at least one pair whenever any
/// two overlap, in O(n log n).
pub(crate) fn overlaps(descs: &[MemoryDesc]) -> Vec<(usize, usize, u64, u64)> {
    let mut spans: Vec<(u128, usize, u128)> = descs
        .iter()
        .enumerate()
        .filter_map(|(i, d)| d.span().map(|(s, e)| (s, i, e)))
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

/// Where the oracle's regions and the map's first-match view disagree.
pub(crate) fn compare(expected: &[Region], descs: &[MemoryDesc]) -> Vec<Discrepancy> {
    let spans: Vec<(u128, u128, u32, u64)> = descs
        .iter()
        .filter_map(|d| d.span().map(|(s, e)| (s, e, d.ty, d.attribute)))
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
