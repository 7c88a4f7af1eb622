//! The reference oracle: what the map *means* after a sequence of
//! operations, written from the semantics and owing nothing to the kernel's
//! code.
//!
//! The map is a set of regions (address intervals with a type and
//! attributes). Regions are cut where an operation's edges fall inside
//! them, because the kernel's later lookups act on one descriptor at a time
//! and so see those cuts; comparisons use [`Oracle::normalized`], which
//! merges neighbours that agree.
//!
//! - The firmware map: the descriptors `efi_clean_memmap` keeps (it drops
//!   descriptors with no pages and those whose last page index reaches
//!   2^52). Misaligned or overlapping descriptors are outside the domain:
//!   the kernel gives them no meaning.
//! - An `efi_fake_mem` range ORs its attribute into exactly the bytes it
//!   covers. A range that is not page-aligned (the kernel WARNs and skips
//!   it) or whose end wrapped is outside the domain; a zero-size range
//!   covers nothing (its edge still cuts the region it falls in).
//! - A reservation `(addr, size)` marks `[round_down(addr), round_up(addr +
//!   size))` RUNTIME, if `addr` lies in a BootServicesData region that also
//!   holds `addr + size - 1`; otherwise nothing changes (the kernel refuses
//!   it with a message). A reservation whose end wraps is outside the domain.

use crate::model::desc::{
    attr, ty, MemRange, MemoryDesc, EFI_PAGES_MAX, EFI_PAGE_SHIFT, EFI_PAGE_SIZE,
};
use std::fmt;

/// An address interval with a meaning. `end` is inclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Region {
    pub start: u64,
    pub end: u64,
    pub ty: u32,
    pub attr: u64,
}

/// Why the oracle will not say what an input means.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct OutsideDomain(pub String);

impl fmt::Display for OutsideDomain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "outside the modelled domain: {}", self.0)
    }
}

/// The expected map, as regions sorted by address, never overlapping.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct Oracle {
    regions: Vec<Region>,
}

/// Whether `efi_clean_memmap` keeps `md`: some pages, and a last page index
/// below 2^52.
pub fn firmware_entry_valid(md: &MemoryDesc) -> bool {
    md.num_pages != 0
        && md.num_pages <= EFI_PAGES_MAX
        && EFI_PAGES_MAX - md.num_pages >= md.phys_addr >> EFI_PAGE_SHIFT
}

impl Oracle {
    /// The meaning of a firmware map.
    pub fn from_firmware(map: &[MemoryDesc]) -> Result<Oracle, OutsideDomain> {
        let mut regions = Vec::new();
        for (i, md) in map.iter().enumerate() {
            if !firmware_entry_valid(md) {
                continue;
            }
            if md.phys_addr % EFI_PAGE_SIZE != 0 {
                return Err(OutsideDomain(format!(
                    "firmware descriptor {i} is not page-aligned"
                )));
            }
            // Valid: the last byte is below 2^64, so this does not wrap.
            let end = md.phys_addr + md.byte_len() - 1;
            regions.push(Region {
                start: md.phys_addr,
                end,
                ty: md.ty,
                attr: md.attribute,
            });
        }
        regions.sort_by_key(|r| r.start);
        if let Some(w) = regions.windows(2).find(|w| w[1].start <= w[0].end) {
            return Err(OutsideDomain(format!(
                "firmware descriptors overlap at {:#x}",
                w[1].start
            )));
        }
        Ok(Oracle { regions })
    }

    /// Whether `r` is in the domain of [`Oracle::apply_range`].
    pub fn check_range(r: &MemRange) -> Result<(), OutsideDomain> {
        let zero_size = r.end.wrapping_add(1) == r.start;
        if r.start % EFI_PAGE_SIZE != 0 || r.end.wrapping_add(1) % EFI_PAGE_SIZE != 0 {
            Err(OutsideDomain(format!(
                "efi_fake_mem range [{:#x}-{:#x}] is not page-aligned",
                r.start, r.end
            )))
        } else if r.end < r.start && !zero_size {
            Err(OutsideDomain(format!(
                "efi_fake_mem range at {:#x} wraps past 2^64",
                r.start
            )))
        } else {
            Ok(())
        }
    }

    /// Cuts the region holding `at` so that a region starts at `at`.
    fn cut(&mut self, at: u64) {
        if let Some(i) = self
            .regions
            .iter()
            .position(|g| g.start < at && at <= g.end)
        {
            let g = self.regions[i];
            self.regions[i].end = at - 1;
            self.regions.insert(i + 1, Region { start: at, ..g });
        }
    }

    /// ORs `attr` into `[start, end]`, cutting regions at its edges.
    fn or_into(&mut self, start: u64, end: u64, attr: u64) {
        self.cut(start);
        if let Some(after) = end.checked_add(1) {
            self.cut(after);
        }
        for g in &mut self.regions {
            if g.start >= start && g.end <= end {
                g.attr |= attr;
            }
        }
    }

    /// An `efi_fake_mem` range.
    pub fn apply_range(&mut self, r: &MemRange) -> Result<(), OutsideDomain> {
        Oracle::check_range(r)?;
        // A zero-size range is [start, start - 1]: at 0 that wraps to the
        // whole space, which it does not mean. It covers no byte, but its
        // edge still cuts the region it falls in, as any range's edges do.
        let zero_size = r.end.wrapping_add(1) == r.start;
        if zero_size {
            self.cut(r.start);
        } else if r.end >= r.start {
            self.or_into(r.start, r.end, r.attribute);
        }
        Ok(())
    }

    /// A boot-services region `efi_reserve_boot_services` found reserved
    /// already: RUNTIME from then on, so that it is never freed.
    pub fn keep(&mut self, start: u64, size: u64) {
        if let Some(last) = start.checked_add(size).and_then(|e| e.checked_sub(1)) {
            if size > 0 {
                self.or_into(start, last, attr::RUNTIME);
            }
        }
    }

    /// An `efi_mem_reserve(addr, size)`.
    pub fn reserve(&mut self, addr: u64, size: u64) -> Result<(), OutsideDomain> {
        let Some(last) = addr.checked_add(size) else {
            return Err(OutsideDomain(format!(
                "reservation at {addr:#x} wraps past 2^64"
            )));
        };
        let Some(g) = self
            .regions
            .iter()
            .find(|g| g.start <= addr && addr <= g.end)
        else {
            return Ok(()); // nothing there: refused
        };
        if g.ty != ty::BOOT_SERVICES_DATA || last > g.end + 1 {
            return Ok(()); // not boot services data, or spans regions: refused
        }
        let start = addr & !(EFI_PAGE_SIZE - 1);
        let end_excl = last.div_ceil(EFI_PAGE_SIZE) * EFI_PAGE_SIZE;
        if end_excl > start {
            self.or_into(start, end_excl - 1, attr::RUNTIME);
        } else {
            self.cut(start); // a zero-size range: no byte, but an edge
        }
        Ok(())
    }

    /// The regions, with their cuts.
    pub fn regions(&self) -> &[Region] {
        &self.regions
    }

    /// Maximal intervals: neighbours with the same type and attributes merged.
    pub fn normalized(&self) -> Vec<Region> {
        normalize(self.regions.iter().copied())
    }

    /// The meaning of `map` after the first `ranges` of `fake` and the
    /// first `reservations` of `reserve`.
    pub fn expect(
        map: &[MemoryDesc],
        fake: &[MemRange],
        reserve: &[(u64, u64)],
    ) -> Result<Oracle, OutsideDomain> {
        let mut o = Oracle::from_firmware(map)?;
        for r in fake {
            o.apply_range(r)?;
        }
        for &(a, s) in reserve {
            o.reserve(a, s)?;
        }
        Ok(o)
    }
}

/// Merges touching intervals that agree; input sorted and disjoint.
pub fn normalize(regions: impl IntoIterator<Item = Region>) -> Vec<Region> {
    let mut out: Vec<Region> = Vec::new();
    for g in regions {
        match out.last_mut() {
            Some(p)
                if p.end.checked_add(1) == Some(g.start) && p.ty == g.ty && p.attr == g.attr =>
            {
                p.end = g.end
            }
            _ => out.push(g),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const G: u64 = 1 << 30;
    const SP: u64 = attr::SP;

    fn conv(start: u64, end_excl: u64) -> MemoryDesc {
        MemoryDesc::new(
            ty::CONVENTIONAL_MEMORY,
            start,
            (end_excl - start) >> 12,
            0xf,
        )
    }

    fn reg(start: u64, end_excl: u64, ty: u32, attr: u64) -> Region {
        Region {
            start,
            end: end_excl - 1,
            ty,
            attr,
        }
    }

    const C: u32 = ty::CONVENTIONAL_MEMORY;

    fn after(map: &[MemoryDesc], ranges: &[(u64, u64, u64)]) -> Vec<Region> {
        let fake: Vec<MemRange> = ranges
            .iter()
            .map(|&(s, l, a)| MemRange::from_size(s, l, a))
            .collect();
        Oracle::expect(map, &fake, &[]).unwrap().normalized()
    }

    #[test]
    fn full_head_inside_tail() {
        let m = [conv(4 * G, 8 * G)];
        assert_eq!(
            after(&m, &[(4 * G, 4 * G, SP)]),
            vec![reg(4 * G, 8 * G, C, 0xf | SP)],
            "full"
        );
        assert_eq!(
            after(&m, &[(4 * G, G, SP)]),
            vec![reg(4 * G, 5 * G, C, 0xf | SP), reg(5 * G, 8 * G, C, 0xf)],
            "head"
        );
        assert_eq!(
            after(&m, &[(5 * G, G, SP)]),
            vec![
                reg(4 * G, 5 * G, C, 0xf),
                reg(5 * G, 6 * G, C, 0xf | SP),
                reg(6 * G, 8 * G, C, 0xf)
            ],
            "inside"
        );
        assert_eq!(
            after(&m, &[(7 * G, 4 * G, SP)]),
            vec![reg(4 * G, 7 * G, C, 0xf), reg(7 * G, 8 * G, C, 0xf | SP)],
            "tail, past the end: nothing appears above 8G"
        );
    }

    #[test]
    fn spanning_overlapping_adjacent() {
        let bsd = MemoryDesc::new(ty::BOOT_SERVICES_DATA, 3 * G, G >> 12, 0xf);
        let m = [bsd, conv(4 * G, 6 * G), conv(6 * G, 8 * G)];
        assert_eq!(
            after(&m, &[(3 * G + G / 2, 4 * G, SP)]),
            vec![
                reg(3 * G, 3 * G + G / 2, ty::BOOT_SERVICES_DATA, 0xf),
                reg(3 * G + G / 2, 4 * G, ty::BOOT_SERVICES_DATA, 0xf | SP),
                reg(4 * G, 7 * G + G / 2, C, 0xf | SP),
                reg(7 * G + G / 2, 8 * G, C, 0xf),
            ],
            "spanning three descriptors; the two conventional ones merge"
        );
        let mr = attr::MORE_RELIABLE;
        assert_eq!(
            after(&m[1..], &[(4 * G, 2 * G, SP), (5 * G, 2 * G, mr)]),
            vec![
                reg(4 * G, 5 * G, C, 0xf | SP),
                reg(5 * G, 6 * G, C, 0xf | SP | mr),
                reg(6 * G, 7 * G, C, 0xf | mr),
                reg(7 * G, 8 * G, C, 0xf),
            ],
            "overlapping ranges OR"
        );
        assert_eq!(
            after(&m[1..], &[(5 * G, G, SP), (6 * G, G, SP)]),
            vec![
                reg(4 * G, 5 * G, C, 0xf),
                reg(5 * G, 7 * G, C, 0xf | SP),
                reg(7 * G, 8 * G, C, 0xf)
            ],
            "adjacent ranges, across a descriptor edge"
        );
    }

    #[test]
    fn clean_memmap_rules_and_domain() {
        let m = [
            MemoryDesc::default(),
            conv(4 * G, 5 * G),
            MemoryDesc::new(7, 0xffff_ffff_ffff_f000, 1, 0),
        ];
        assert_eq!(
            after(&m, &[]),
            vec![reg(4 * G, 5 * G, C, 0xf)],
            "empty and top-reaching dropped"
        );
        assert!(Oracle::from_firmware(&[conv(4 * G, 6 * G), conv(5 * G, 7 * G)]).is_err());
        assert!(Oracle::from_firmware(&[MemoryDesc::new(7, 0x1001, 1, 0)]).is_err());
        let mut o = Oracle::from_firmware(&[conv(4 * G, 5 * G)]).unwrap();
        assert!(
            o.apply_range(&MemRange::from_size(4 * G, 1000, SP))
                .is_err(),
            "misaligned end"
        );
        assert!(
            o.apply_range(&MemRange::from_size(4 * G + 1, G, SP))
                .is_err(),
            "misaligned start"
        );
        assert!(
            o.apply_range(&MemRange::from_size(4 * G, 0, SP)).is_ok(),
            "zero size"
        );
        assert_eq!(o.normalized(), vec![reg(4 * G, 5 * G, C, 0xf)]);
        assert!(
            o.apply_range(&MemRange::from_size(8 * G, 0u64.wrapping_sub(4 * G), SP))
                .is_err(),
            "wraps"
        );
        assert!(
            o.apply_range(&MemRange::new(4 * G, u64::MAX, SP)).is_ok(),
            "to the top"
        );
        assert_eq!(o.normalized(), vec![reg(4 * G, 5 * G, C, 0xf | SP)]);
    }

    #[test]
    fn reservations() {
        let bsd = MemoryDesc::new(ty::BOOT_SERVICES_DATA, 0xbea0_0000, 0x100, 0xf);
        let bd = ty::BOOT_SERVICES_DATA;
        let run = |res: &[(u64, u64)]| {
            Oracle::expect(&[bsd, conv(4 * G, 5 * G)], &[], res)
                .unwrap()
                .normalized()
        };
        assert_eq!(
            run(&[(0xbea0_6123, 0x27000)]),
            vec![
                reg(0xbea0_0000, 0xbea0_6000, bd, 0xf),
                reg(0xbea0_6000, 0xbea2_e000, bd, 0xf | attr::RUNTIME),
                reg(0xbea2_e000, 0xbeb0_0000, bd, 0xf),
                reg(4 * G, 5 * G, C, 0xf),
            ],
            "rounded outward"
        );
        let untouched = vec![
            reg(0xbea0_0000, 0xbeb0_0000, bd, 0xf),
            reg(4 * G, 5 * G, C, 0xf),
        ];
        assert_eq!(run(&[(0xbeaf_f000, 0x2000)]), untouched, "spans: refused");
        assert_eq!(
            run(&[(4 * G, 0x1000)]),
            untouched,
            "not boot services data: refused"
        );
        assert_eq!(
            run(&[(0x1000, 0x1000)]),
            untouched,
            "nothing there: refused"
        );
        assert_eq!(run(&[(0xbea0_0000, 0)]), untouched, "zero size");
        // A zero-size range cuts its region: a reservation across the cut spans.
        let cut = Oracle::expect(
            &[bsd],
            &[MemRange::from_size(0xbea0_2000, 0, 1)],
            &[(0xbea0_0000, 0x2800)],
        )
        .unwrap();
        assert_eq!(
            cut.normalized(),
            vec![reg(0xbea0_0000, 0xbeb0_0000, bd, 0xf)]
        );
        assert!(Oracle::expect(&[bsd], &[], &[(u64::MAX, 2)]).is_err());
    }
}
