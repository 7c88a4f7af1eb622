//! The firmware map's part of the grammar: descriptor by descriptor, or a
//! firmware-like map made from a seed.

use super::{Choice, Reader, Writer};
use crate::model::boot::MAX_FIRMWARE_DESCS;
use crate::model::desc::{attr, ty, MemoryDesc, EFI_PAGE_SIZE};

/// `EFI_MEMORY_HOT_PLUGGABLE` (the HP column, ba69e0750b03).
pub const HOT_PLUGGABLE: u64 = 1 << 20;

/// How the map is given: descriptor by descriptor, or firmware-like.
pub const MAP_FORM: Choice<2> = Choice::new([208, 48]);
/// How many descriptors: 0, 1, 2, 3, 4..=8, 9..=32, or a 16-bit count (the
/// raw form, never more than the bytes left).
pub const COUNT: Choice<7> = Choice::new([8, 64, 56, 40, 48, 32, 8]);
const COUNT_LONG: usize = 6;
/// A firmware-like map's size: 8..=31, 32..=59, 60..=70 (around the 64
/// pages `early_memremap` maps when `desc_size` is 4096), 71..=90.
pub const FIRMWARE_COUNT: Choice<4> = Choice::new([100, 56, 76, 24]);

/// Where a descriptor goes: after the last (with a gap), around 1 MiB,
/// overlapping an earlier one, just below an earlier one (out of order),
/// high (4 GiB, 2^40, ending at or wrapping past 2^64), the empty (0, 0)
/// entry, misaligned, without pages, with 2^52 pages or more, a copy of
/// an earlier one, or every field raw.
pub const DESC_FORM: Choice<11> = Choice::new([134, 20, 20, 12, 16, 10, 12, 8, 6, 10, 8]);
const DESC_RAW: usize = 10;
/// The gap before a packed descriptor: none, a page, 2..=16 pages, up to
/// the next MiB.
pub const GAP: Choice<4> = Choice::new([160, 48, 32, 16]);
/// Page counts: 1, 2..=4, 5..=32, 33..=256, 257..=16384, up to 2^20, up to
/// 2^28.
pub const PAGES: Choice<7> = Choice::new([40, 40, 60, 48, 36, 24, 8]);
/// Memory types: each of 0..=15 (Conventional at 0, the commonest), a
/// type past 15, an OEM type (0x7000_0000..) and an OS type (0x8000_0000..).
pub const TYPE: Choice<19> = Choice::new([
    54, 40, 28, 18, 14, 6, 10, 14, 8, 8, 12, 6, 6, 4, 8, 6, 4, 5, 5,
]);
const TYPES: [u32; 16] = [
    ty::CONVENTIONAL_MEMORY,
    ty::BOOT_SERVICES_DATA,
    ty::BOOT_SERVICES_CODE,
    ty::RUNTIME_SERVICES_DATA,
    ty::RUNTIME_SERVICES_CODE,
    ty::LOADER_CODE,
    ty::LOADER_DATA,
    ty::RESERVED,
    ty::ACPI_RECLAIM_MEMORY,
    ty::ACPI_MEMORY_NVS,
    ty::MEMORY_MAPPED_IO,
    ty::MEMORY_MAPPED_IO_PORT_SPACE,
    ty::UNUSABLE_MEMORY,
    ty::PAL_CODE,
    ty::PERSISTENT_MEMORY,
    15, // EFI_UNACCEPTED_MEMORY
];
/// The cacheability bits: UC|WC|WT|WB, WB, UC, none, WC|WT|WB, any of the
/// five low bits.
pub const ATTR_BASE: Choice<6> = Choice::new([150, 30, 30, 22, 8, 16]);
/// The other bits: what the type usually has (RUNTIME for runtime code
/// and data, MMIO and PAL code), none, RUNTIME, SP, MR, RO, XP, RP, WP, NV,
/// UCE, CC, HP, XP|RO (the memory attributes table's), RUNTIME|MR, a bit no
/// kernel names, or every bit raw.
pub const ATTR_EXTRA: Choice<17> =
    Choice::new([124, 24, 24, 14, 12, 6, 6, 4, 4, 4, 4, 4, 4, 4, 4, 8, 6]);
const EXTRA_BITS: [u64; 14] = [
    0,
    attr::RUNTIME,
    attr::SP,
    attr::MORE_RELIABLE,
    attr::RO,
    attr::XP,
    attr::RP,
    attr::WP,
    attr::NV,
    attr::UCE,
    attr::CPU_CRYPTO,
    HOT_PLUGGABLE,
    attr::XP | attr::RO,
    attr::RUNTIME | attr::MORE_RELIABLE,
];

/// Whether firmware gives type `t` the RUNTIME bit as a rule.
pub fn runtime_type(t: u32) -> bool {
    matches!(
        t,
        ty::RUNTIME_SERVICES_CODE
            | ty::RUNTIME_SERVICES_DATA
            | ty::MEMORY_MAPPED_IO
            | ty::MEMORY_MAPPED_IO_PORT_SPACE
            | ty::PAL_CODE
    )
}

/// The map.
pub fn decode(r: &mut Reader) -> Vec<MemoryDesc> {
    if r.pick(&MAP_FORM) == 1 {
        let n = match r.pick(&FIRMWARE_COUNT) {
            0 => 8 + usize::from(r.u8()) % 24,
            1 => 32 + usize::from(r.u8()) % 28,
            2 => 60 + usize::from(r.u8()) % 11,
            _ => 71 + usize::from(r.u8()) % 20,
        };
        return firmware_like(n, r.u32());
    }
    let n = match r.pick(&COUNT) {
        i @ 0..=3 => i,
        4 => 4 + usize::from(r.u8()) % 5,
        5 => 9 + usize::from(r.u8()) % 24,
        _ => (usize::from(r.u16()) % (MAX_FIRMWARE_DESCS + 1)).min(r.left()),
    };
    let mut map = Vec::with_capacity(n);
    let mut cursor = 0u64;
    for _ in 0..n {
        let d = descriptor(r, &map, &mut cursor);
        map.push(d);
    }
    map
}

fn pages(r: &mut Reader) -> u64 {
    match r.pick(&PAGES) {
        0 => 1,
        1 => 2 + u64::from(r.u8()) % 3,
        2 => 5 + u64::from(r.u8()) % 28,
        3 => 33 + u64::from(r.u8()) % 224,
        4 => 257 + u64::from(r.u16()) % 16128,
        5 => 1 + u64::from(r.u16()) * 16,
        _ => (1 + u64::from(r.u16())) << 12,
    }
}

fn mem_type(r: &mut Reader) -> u32 {
    match r.pick(&TYPE) {
        i @ 0..=15 => TYPES[i],
        16 => 16 + u32::from(r.u8()),
        17 => 0x7000_0000 + u32::from(r.u8()),
        _ => 0x8000_0000 + u32::from(r.u8()),
    }
}

fn attribute(r: &mut Reader, t: u32) -> u64 {
    let base = match r.pick(&ATTR_BASE) {
        0 => 0xf,
        1 => attr::WB,
        2 => attr::UC,
        3 => 0,
        4 => 0xe,
        _ => u64::from(r.u8()) & 0x1f,
    };
    let extra = match r.pick(&ATTR_EXTRA) {
        0 if runtime_type(t) => attr::RUNTIME,
        0 => 0,
        i @ 1..=14 => EXTRA_BITS[i - 1],
        // A bit no kernel names: 21..=62.
        15 => 1 << (21 + u64::from(r.u8()) % 42),
        _ => return r.u64(),
    };
    base | extra
}

/// An earlier descriptor, or the empty one when there is none.
fn earlier(r: &mut Reader, map: &[MemoryDesc]) -> MemoryDesc {
    let i = usize::from(r.u8());
    map.get(i % map.len().max(1)).copied().unwrap_or_default()
}

/// Starts around 1 MiB: page 0, the last page of base memory, the legacy
/// hole, 1 MiB and the page after it.
const LOW_STARTS: [u64; 8] = [
    0, 0x1000, 0x9f000, 0xa0000, 0xf0000, 0xff000, 0x10_0000, 0x10_1000,
];
/// High starts: 4 GiB, 4 GiB less a page, 2^40, 2^52 pages' worth of
/// bytes less a page, and (by page count) ending at 2^64.
const HIGH_STARTS: [u64; 4] = [1 << 32, (1 << 32) - 0x1000, 1 << 40, 0xffff_ffff_ffff_f000];

fn descriptor(r: &mut Reader, map: &[MemoryDesc], cursor: &mut u64) -> MemoryDesc {
    let packed = |r: &mut Reader, cursor: &mut u64, pages: u64| {
        let gap = match r.pick(&GAP) {
            0 => 0,
            1 => EFI_PAGE_SIZE,
            2 => (2 + u64::from(r.u8()) % 15) * EFI_PAGE_SIZE,
            _ => (cursor.wrapping_add(1 << 20) & !((1 << 20) - 1)).wrapping_sub(*cursor),
        };
        let phys = cursor.wrapping_add(gap);
        *cursor = phys.wrapping_add(pages.wrapping_mul(EFI_PAGE_SIZE));
        phys
    };
    let d = match r.pick(&DESC_FORM) {
        0 => {
            let n = pages(r);
            let phys = packed(r, cursor, n);
            let t = mem_type(r);
            MemoryDesc::new(t, phys, n, attribute(r, t))
        }
        1 => {
            let phys = LOW_STARTS[usize::from(r.u8()) % LOW_STARTS.len()];
            let n = pages(r);
            let t = mem_type(r);
            let end = phys.wrapping_add(n.wrapping_mul(EFI_PAGE_SIZE));
            *cursor = (*cursor).max(end);
            MemoryDesc::new(t, phys, n, attribute(r, t))
        }
        2 => {
            let e = earlier(r, map);
            let into = u64::from(r.u8()) % e.num_pages.clamp(1, 256);
            let n = pages(r);
            let t = mem_type(r);
            MemoryDesc::new(
                t,
                e.phys_addr.wrapping_add(into * EFI_PAGE_SIZE),
                n,
                attribute(r, t),
            )
        }
        3 => {
            let e = earlier(r, map);
            let n = pages(r);
            let t = mem_type(r);
            let phys = e.phys_addr.wrapping_sub(n.wrapping_mul(EFI_PAGE_SIZE));
            MemoryDesc::new(t, phys, n, attribute(r, t))
        }
        4 => {
            let k = usize::from(r.u8()) % (HIGH_STARTS.len() + 1);
            let n = pages(r);
            let t = mem_type(r);
            let phys = match HIGH_STARTS.get(k) {
                Some(&s) => s,
                // Ends exactly at 2^64.
                None => n.wrapping_mul(EFI_PAGE_SIZE).wrapping_neg(),
            };
            MemoryDesc::new(t, phys, n, attribute(r, t))
        }
        5 => MemoryDesc::default(),
        6 => {
            let n = pages(r);
            let phys = packed(r, cursor, n);
            let skew = 1 + u64::from(r.u16()) % (EFI_PAGE_SIZE - 1);
            let t = mem_type(r);
            MemoryDesc::new(t, phys.wrapping_add(skew), n, attribute(r, t))
        }
        7 => {
            let phys = packed(r, cursor, 0);
            let t = mem_type(r);
            MemoryDesc::new(t, phys, 0, attribute(r, t))
        }
        8 => {
            let phys = packed(r, cursor, 0);
            let n = match r.u8() % 4 {
                0 => 1 << 52,
                1 => (1 << 52) - 1,
                2 => u64::MAX >> 12,
                _ => u64::MAX,
            };
            let t = mem_type(r);
            MemoryDesc::new(t, phys, n, attribute(r, t))
        }
        9 => {
            let mut e = earlier(r, map);
            if r.u8() & 1 == 1 {
                e.ty = mem_type(r);
                e.attribute = attribute(r, e.ty);
            }
            e
        }
        _ => raw_descriptor(r),
    };
    d
}

/// Every field of a descriptor, as the raw forms give them.
pub fn raw_descriptor(r: &mut Reader) -> MemoryDesc {
    MemoryDesc {
        ty: r.u32(),
        pad: r.u32(),
        phys_addr: r.u64(),
        virt_addr: r.u64(),
        num_pages: r.u64(),
        attribute: r.u64(),
    }
}

/// The raw forms of `map`.
pub fn encode(w: &mut Writer, map: &[MemoryDesc]) {
    w.pick(&MAP_FORM, 0);
    w.pick(&COUNT, COUNT_LONG);
    w.u16(map.len() as u16);
    for d in map {
        w.pick(&DESC_FORM, DESC_RAW);
        w.u32(d.ty);
        w.u32(d.pad);
        w.u64(d.phys_addr);
        w.u64(d.virt_addr);
        w.u64(d.num_pages);
        w.u64(d.attribute);
    }
}

/// SplitMix64, for the firmware-like maps: the same seed always gives the
/// same map.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// A map of `n` descriptors laid out as UEFI firmware lays one out, made
/// from `seed`: page 0 Boot Services Code, base memory up to 640 KiB, the
/// legacy hole, then from 1 MiB a run of RAM interleaved with boot-services
/// code and data, loader, runtime code and data, ACPI and reserved
/// regions (now and then a gap, a jump to the next MiB, or one past 4 GiB),
/// and MMIO below 4 GiB at the end. Runtime code, data and MMIO carry
/// RUNTIME; now and then a region carries SP, MR, XP or RO.
pub fn firmware_like(n: usize, seed: u32) -> Vec<MemoryDesc> {
    let mut g = SplitMix(u64::from(seed) << 32 | u64::from(seed.rotate_left(7)));
    let mut out: Vec<MemoryDesc> = Vec::with_capacity(n);
    let wb = 0xf;
    let push = |out: &mut Vec<MemoryDesc>, t: u32, phys: u64, pages: u64, a: u64| {
        if out.len() < n {
            out.push(MemoryDesc::new(t, phys, pages, a));
        }
    };
    push(&mut out, ty::BOOT_SERVICES_CODE, 0, 1, wb);
    push(&mut out, ty::CONVENTIONAL_MEMORY, 0x1000, 0x9f, wb);
    let mut phys = 0x10_0000u64;
    let mut above_4g = false;
    let mmio = 1 + (n as u64 / 16).min(4);
    while out.len() + (mmio as usize) < n {
        let t = match g.below(100) {
            0..=23 => ty::CONVENTIONAL_MEMORY,
            24..=47 => ty::BOOT_SERVICES_DATA,
            48..=61 => ty::BOOT_SERVICES_CODE,
            62..=69 => ty::RUNTIME_SERVICES_DATA,
            70..=75 => ty::RUNTIME_SERVICES_CODE,
            76..=79 => ty::LOADER_CODE,
            80..=84 => ty::LOADER_DATA,
            85..=88 => ty::ACPI_RECLAIM_MEMORY,
            89..=92 => ty::ACPI_MEMORY_NVS,
            93..=96 => ty::RESERVED,
            97 => ty::PERSISTENT_MEMORY,
            98 => 15,
            _ => ty::UNUSABLE_MEMORY,
        };
        let pages = match g.below(10) {
            0..=5 => 1 + g.below(32),
            6..=8 => 32 + g.below(0x800),
            _ => 0x800 + g.below(0x40000),
        };
        let mut a = if runtime_type(t) {
            attr::RUNTIME | wb
        } else {
            wb
        };
        match g.below(40) {
            0 => a |= attr::SP,
            1 => a |= attr::MORE_RELIABLE,
            2 => a |= attr::XP,
            3 => a |= attr::RO,
            4 if t == ty::BOOT_SERVICES_DATA => a |= attr::RUNTIME,
            _ => {}
        }
        match g.below(24) {
            0 => phys += EFI_PAGE_SIZE * (1 + g.below(16)),
            1 => phys = (phys + (1 << 20)) & !((1 << 20) - 1),
            2 if !above_4g => {
                above_4g = true;
                phys = phys.max(1 << 32);
            }
            _ => {}
        }
        push(&mut out, t, phys, pages, a);
        phys = phys.wrapping_add(pages * EFI_PAGE_SIZE);
    }
    // MMIO below 4 GiB, firmware's flash last.
    for i in 0..mmio {
        let (t, at) = if i + 1 == mmio {
            (ty::MEMORY_MAPPED_IO, 0xffc0_0000)
        } else {
            (ty::MEMORY_MAPPED_IO, 0xfec0_0000 + i * 0x10_0000)
        };
        push(
            &mut out,
            t,
            at,
            0x40 * (1 + g.below(4)),
            attr::RUNTIME | attr::UC,
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_firmware_like_map_has_its_size_and_the_shape_of_one() {
        for n in [8, 64, 90] {
            let m = firmware_like(n, 7);
            assert_eq!(m.len(), n);
            assert_eq!(m[0], MemoryDesc::new(ty::BOOT_SERVICES_CODE, 0, 1, 0xf));
            let last = m[n - 1];
            assert_eq!(
                (last.ty, last.phys_addr, last.attribute),
                (ty::MEMORY_MAPPED_IO, 0xffc0_0000, attr::RUNTIME | attr::UC)
            );
            assert_eq!(firmware_like(n, 7), m, "the same seed, the same map");
        }
        assert_ne!(firmware_like(32, 1), firmware_like(32, 2));
    }

    /// A packed descriptor: zero gap, 1 + 3 pages, Boot Services Data (the
    /// type table's second entry), the usual cacheability, no other bits;
    /// then one a page further on, Conventional, with SP.
    #[test]
    fn packed_descriptors_follow_each_other() {
        let bytes = [
            0, // descriptor form: packed
            PAGES.first_byte(1),
            2, // 2 + 2 % 3 = 4 pages
            0, // no gap
            TYPE.first_byte(1),
            0, // UC|WC|WT|WB
            0, // the type's usual bits: none
            0,
            0, // 1 page
            GAP.first_byte(1),
            0, // Conventional
            0,
            ATTR_EXTRA.first_byte(3), // SP
        ];
        let mut r = Reader::new(&bytes);
        let (mut cursor, mut map) = (0, vec![]);
        map.push(descriptor(&mut r, &map, &mut cursor));
        map.push(descriptor(&mut r, &map, &mut cursor));
        assert_eq!(
            map,
            vec![
                MemoryDesc::new(ty::BOOT_SERVICES_DATA, 0, 4, 0xf),
                MemoryDesc::new(ty::CONVENTIONAL_MEMORY, 0x5000, 1, 0xf | attr::SP),
            ]
        );
    }
}
