//! The first fuzz encoding of a [`Scenario`] (until December 2026): bytes
//! laid out field by field, `flags` (bits of eras 0..5, fill),
//! `desc_size`, descriptors, command line, reservations, later steps,
//! header lines, then the bits of eras 5 and later, 7 a byte, then whether
//! the later step is virtual mode. Kept so that artifacts and seeds made
//! with it still decode as they did (`efimap show --codec v1`); the
//! searches and fuzz targets draw with [`super::decode`].
//!
//! Every byte string decodes; bytes past the end read as zeros.

use super::Reader;
use crate::cases::scenario::{
    Scenario, MAX_CMDLINE, MAX_HEADER, MAX_HEADER_LINE, MAX_LATER, MAX_RESERVATIONS,
};
use crate::model::boot::{LaterStep, MAX_FIRMWARE_DESCS};
use crate::model::desc::{attr, ty, MemRange, MemoryDesc, DEFAULT_DESC_SIZE, EFI_PAGE_SIZE};
use crate::model::era::Era;
use crate::model::mem::Fill;

const TYPES: [u32; 8] = [
    ty::CONVENTIONAL_MEMORY,
    ty::BOOT_SERVICES_DATA,
    ty::CONVENTIONAL_MEMORY,
    ty::BOOT_SERVICES_CODE,
    ty::RUNTIME_SERVICES_DATA,
    ty::RESERVED,
    ty::LOADER_DATA,
    ty::ACPI_RECLAIM_MEMORY,
];
const DESC_ATTRS: [u64; 8] = [
    0xf,
    0xf,
    0x8,
    attr::RUNTIME | 0xf,
    0xf | attr::SP,
    0,
    0xf | attr::MORE_RELIABLE,
    0x1,
];
const RANGE_ATTRS: [u64; 6] = [
    attr::SP,
    attr::MORE_RELIABLE,
    attr::SP,
    attr::RUNTIME,
    attr::UC,
    attr::SP | attr::MORE_RELIABLE,
];
const DESC_SIZES: [u64; 4] = [DEFAULT_DESC_SIZE, 40, 56, 64];
/// Descriptors the short count form reaches (more take the long form).
const SHORT_DESCS: u8 = 32;
const RAW_DESC: u8 = 6;
const RAW_CMDLINE: u8 = 200;
const RAW_RESERVE: u8 = 3;
const LONG_COUNT: u8 = 255;
const MAX_RANGES: u8 = 9;

/// Decodes any bytes into a scenario, as the first encoding did.
pub fn decode(bytes: &[u8]) -> Scenario {
    let mut r = Reader::new(bytes);
    let mut sc = Scenario::default();

    let flags = r.u8();
    // Eras 0..5; the bits of the later eras come last (see `era_bits`).
    let low = u64::from(flags & 0x1f);
    sc.input.fill = match flags >> 6 {
        0 => Fill::Stale,
        2 => Fill::Pattern(r.u8()),
        _ => Fill::Zero,
    };
    let ds = r.u8();
    sc.input.desc_size = match ds {
        0..=3 => DESC_SIZES[ds as usize],
        4 => 40 + u64::from(r.u16()) % 4057,
        _ => DEFAULT_DESC_SIZE,
    };

    // The long forms never ask for more items than there are bytes left,
    // so that a few bytes cannot make a huge map.
    let n = match r.u8() {
        LONG_COUNT => (usize::from(r.u16()) % (MAX_FIRMWARE_DESCS + 1)).min(r.left()),
        b => usize::from(b % (SHORT_DESCS + 1)),
    };
    let mut cursor = 0u64;
    for _ in 0..n {
        let d = match r.u8() % 8 {
            0..=4 => {
                let gap = u64::from(r.u8() % 4);
                let pages = 1 + u64::from(r.u8() % 32);
                let t = TYPES[usize::from(r.u8() % 8)];
                let a = DESC_ATTRS[usize::from(r.u8() % 8)];
                let phys = cursor.wrapping_add(gap * EFI_PAGE_SIZE);
                cursor = phys.wrapping_add(pages * EFI_PAGE_SIZE);
                MemoryDesc::new(t, phys, pages, a)
            }
            5 => MemoryDesc::default(),
            RAW_DESC => super::map::raw_descriptor(&mut r),
            _ => match sc.input.map.len() {
                0 => MemoryDesc::default(),
                len => {
                    let mut d = sc.input.map[usize::from(r.u8()) % len];
                    d.phys_addr = d
                        .phys_addr
                        .wrapping_add(u64::from(r.u8() % 4) * EFI_PAGE_SIZE);
                    d.num_pages = 1 + u64::from(r.u8() % 8);
                    d
                }
            },
        };
        sc.input.map.push(d);
    }

    let mode = r.u8();
    sc.input.cmdline = if mode >= RAW_CMDLINE {
        let mut line = String::new();
        for _ in 0..r.u8() {
            let len = usize::from(r.u16()).min(r.left());
            let token: String = (0..len).map(|_| char::from(0x21 + r.u8() % 94)).collect();
            if token.is_empty() || line.len() + 1 + token.len() > MAX_CMDLINE {
                continue;
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(&token);
        }
        line
    } else {
        structured_cmdline(&mut r, &sc.input.map, mode % (MAX_RANGES + 1))
    };

    let count = match r.u8() {
        LONG_COUNT => (usize::from(r.u16()) % (MAX_RESERVATIONS + 1)).min(r.left()),
        b => usize::from(b % 5),
    };
    for _ in 0..count {
        let k = r.u8() % 4;
        let res = if k == RAW_RESERVE || sc.input.map.is_empty() {
            (r.u64(), r.u64())
        } else {
            let d = sc.input.map[usize::from(r.u8()) % sc.input.map.len()];
            let page = u64::from(r.u8()) % d.num_pages.max(1);
            let addr = d
                .phys_addr
                .wrapping_add(page * EFI_PAGE_SIZE + u64::from(r.u8() % 4) * 0x400);
            (addr, (1 + u64::from(r.u8() % 64)) * 0x400)
        };
        sc.input.reservations.push(res);
    }

    for _ in 0..r.u8() as usize % (MAX_LATER + 1) {
        sc.input.later.push(LaterStep::KexecInitLate);
    }

    let lines = usize::from(r.u8()).min(MAX_HEADER);
    for _ in 0..lines {
        if r.left() == 0 {
            break;
        }
        let len = usize::from(r.u16()).min(r.left()).min(MAX_HEADER_LINE);
        let raw: Vec<u8> = (0..len).map(|_| r.u8()).collect();
        let text = super::header_text(&raw);
        sc.header.push(text);
    }
    let mask = low | era_bits(&mut r) << 5;
    // The later step's kind, after the era bits: 1 is virtual mode.
    if r.u8() & 1 == 1 {
        sc.input.later = vec![LaterStep::VirtualMode];
    }
    let eras: Vec<Era> = Era::known()
        .into_iter()
        .filter(|e| e.index() < 64 && mask & (1 << e.index()) != 0)
        .collect();
    if !eras.is_empty() {
        sc.eras = eras;
    }
    sc
}

/// The bits of eras 5 and later, 7 a byte, after everything else: bytes
/// made before those eras existed (which end earlier, or hold nothing the
/// decoder reads there) keep their meaning.
fn era_bits(r: &mut Reader) -> u64 {
    let mut bits = 0u64;
    for shift in (0..59).step_by(7) {
        let b = r.u8();
        bits |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            break;
        }
    }
    bits
}

/// The decoder's structured command line: `efi_fake_mem=` ranges placed
/// relative to the map, then optionally `efi=debug` / `efi=nosoftreserve`.
fn structured_cmdline(r: &mut Reader, map: &[MemoryDesc], count: u8) -> String {
    let mut ranges: Vec<MemRange> = Vec::new();
    for _ in 0..count {
        let k = r.u8() % 8;
        let edge = |r: &mut Reader| -> u64 {
            let d = map
                .get(usize::from(r.u8()) % map.len().max(1))
                .copied()
                .unwrap_or_default();
            let e = r.u8();
            let base = if e & 1 == 0 {
                d.phys_addr
            } else {
                d.end().wrapping_add(1)
            };
            let delta = i64::from((e >> 1) % 5) - 2;
            base.wrapping_add_signed(delta * EFI_PAGE_SIZE as i64)
        };
        let prev = ranges.last().copied().unwrap_or_default();
        let (start, size) = match k {
            0..=3 => (edge(r), u64::from(r.u8() % 24) * EFI_PAGE_SIZE),
            4 => (
                prev.end.wrapping_add(1),
                (1 + u64::from(r.u8() % 16)) * EFI_PAGE_SIZE,
            ),
            5 => (prev.start, (1 + u64::from(r.u8() % 16)) * EFI_PAGE_SIZE),
            6 => (r.u64(), r.u64()),
            _ => (
                edge(r).wrapping_add(u64::from(r.u8()) * 0x10),
                u64::from(r.u8()) * 0x100,
            ),
        };
        let a = match r.u8() % 8 {
            i @ 0..=5 => RANGE_ATTRS[usize::from(i)],
            6 => r.u64(),
            _ => 0,
        };
        ranges.push(MemRange::from_size(start, size, a));
    }
    let mut words = Vec::new();
    let extra = r.u8();
    if extra & 1 != 0 {
        words.push("efi=debug".to_string());
    }
    if extra & 2 != 0 {
        words.push("efi=nosoftreserve".to_string());
    }
    crate::model::cmdline::join_cmdline(&ranges, &words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_bytes_are_an_empty_scenario() {
        assert_eq!(decode(&[]), Scenario::default());
    }

    #[test]
    fn structured_descriptors_pack_pages() {
        // Flags: all eras, zero fill; desc_size 48; two "next" descriptors:
        // (gap 0, 1 + 3 pages, TYPES[1], DESC_ATTRS[0]) and
        // (gap 1, 1 + 0 pages, TYPES[0], DESC_ATTRS[4]).
        let sc = decode(&[0x40, 0, 2, 0, 0, 3, 1, 0, 1, 1, 0, 0, 4]);
        assert_eq!(sc.input.fill, Fill::Zero);
        assert_eq!(sc.input.desc_size, 48);
        assert_eq!(
            sc.input.map,
            vec![
                MemoryDesc::new(ty::BOOT_SERVICES_DATA, 0, 4, 0xf),
                MemoryDesc::new(ty::CONVENTIONAL_MEMORY, 0x5000, 1, 0xf | attr::SP),
            ]
        );
    }
}
