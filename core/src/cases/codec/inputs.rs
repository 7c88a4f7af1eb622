//! The rest of the grammar: `efi_mem_reserve` calls shaped as their
//! callers make them, and the inputs besides the map and the command line
//! (`memblock`, `bgrt`, `e820`, `setup_data`, `kexec_file`).

use super::{Choice, Reader, Writer};
use crate::cases::scenario::{MAX_E820, MAX_SETUP_DATA};
use crate::model::boot::{BootInput, MAX_RESERVATIONS};
use crate::model::desc::{ty, MemoryDesc, EFI_PAGE_SIZE};
use crate::model::e820::{E820Entry, E820Type};
use crate::model::kexec::KexecFile;

/// How many reservations: 0, 1, 2, 3..=8, or a 16-bit count (the raw
/// form, never more than the bytes left).
pub const RESERVATIONS: Choice<5> = Choice::new([80, 96, 40, 32, 8]);
const RESERVATIONS_LONG: usize = 4;
/// A reservation's shape: the BGRT image (`efi_bgrt_init`: pages of boot
/// services data), the ESRT (`efi_esrt_init`: a 16-byte header and 40
/// bytes an entry, in runtime or boot-services data), the MOKvar table
/// (`efi_mokvar_table_init`), size 0, spanning two descriptors, at a
/// descriptor's first or last byte or page, outside the map, a whole
/// descriptor, or raw.
pub const RESERVATION: Choice<9> = Choice::new([84, 40, 24, 24, 24, 24, 12, 16, 8]);
const RESERVATION_RAW: usize = 8;
/// Whether the inputs besides map, command line and reservations come:
/// none, some (a second byte says which), or every list raw (the raw form).
pub const EXTRAS: Choice<3> = Choice::new([96, 152, 8]);
const EXTRAS_RAW: usize = 2;
const EXTRA_MEMBLOCK: u8 = 1;
const EXTRA_BGRT: u8 = 2;
const EXTRA_E820: u8 = 4;
const EXTRA_SETUP_DATA: u8 = 8;
const EXTRA_KEXEC_FILE: u8 = 16;
/// A memblock region: inside a boot-services region (which
/// `efi_reserve_boot_services` then keeps), the memory attributes table
/// (16 bytes and 48 an entry, in boot-services data), around page 0,
/// any, inside runtime data.
pub const MEMBLOCK: Choice<5> = Choice::new([120, 48, 24, 16, 48]);
/// An e820 entry: a descriptor's range as RAM or as reserved (two
/// weights), any, base memory, the BIOS area.
pub const E820: Choice<5> = Choice::new([96, 48, 48, 32, 32]);
/// A setup_data node: in RAM, below 1 MiB, in boot-services data, any.
pub const SETUP_DATA: Choice<4> = Choice::new([128, 48, 48, 32]);
/// A `kexec_file_load`: Debian's default sizes, sizes from bytes, any.
pub const KEXEC_FILE: Choice<3> = Choice::new([120, 120, 16]);

/// A descriptor of `map`, one of type `prefer` if the byte says so and
/// there is one; a one-page descriptor at 1 MiB for an empty map.
fn desc_of(r: &mut Reader, map: &[MemoryDesc], prefer: &[u32]) -> MemoryDesc {
    let b = r.u8();
    let preferred: Vec<&MemoryDesc> = map.iter().filter(|d| prefer.contains(&d.ty)).collect();
    if b & 0x80 == 0 && !preferred.is_empty() {
        return *preferred[usize::from(b & 0x7f) % preferred.len()];
    }
    map.get(usize::from(b) % map.len().max(1))
        .copied()
        .unwrap_or(MemoryDesc::new(ty::BOOT_SERVICES_DATA, 0x10_0000, 1, 0xf))
}

/// A page of `d` (its pages capped at 256 for the choice).
fn page_in(r: &mut Reader, d: &MemoryDesc) -> u64 {
    d.phys_addr
        .wrapping_add(u64::from(r.u8()) % d.num_pages.clamp(1, 256) * EFI_PAGE_SIZE)
}

/// A BGRT image: pages of boot-services data, or a byte size (images are
/// not page-sized), at a page or a few bytes past one.
fn bgrt(r: &mut Reader, map: &[MemoryDesc]) -> (u64, u64) {
    let d = desc_of(r, map, &[ty::BOOT_SERVICES_DATA]);
    let at = page_in(r, &d);
    let b = r.u8();
    let size = if b & 1 == 0 {
        (1 + u64::from(b >> 1) % 40) * EFI_PAGE_SIZE
    } else {
        0x36 + u64::from(r.u16()) * 4
    };
    let skew = if r.u8() & 3 == 0 { 0x18 } else { 0 };
    (at.wrapping_add(skew), size)
}

fn reservation(r: &mut Reader, map: &[MemoryDesc]) -> (u64, u64) {
    match r.pick(&RESERVATION) {
        0 => bgrt(r, map),
        1 => {
            let d = desc_of(r, map, &[ty::RUNTIME_SERVICES_DATA, ty::BOOT_SERVICES_DATA]);
            let at = page_in(r, &d).wrapping_add(u64::from(r.u8()) * 0x18);
            (at, 16 + 40 * u64::from(r.u8() % 9))
        }
        2 => {
            let d = desc_of(
                r,
                map,
                &[
                    ty::BOOT_SERVICES_DATA,
                    ty::RUNTIME_SERVICES_DATA,
                    ty::LOADER_DATA,
                ],
            );
            let at = page_in(r, &d).wrapping_add(u64::from(r.u8()) * 8);
            (at, 0x40 + u64::from(r.u16()) % 0x4000)
        }
        3 => {
            let d = desc_of(r, map, &[ty::BOOT_SERVICES_DATA]);
            let at = match r.u8() % 4 {
                0 => d.phys_addr,
                1 => page_in(r, &d),
                2 => 0,
                _ => d.end().wrapping_add(1),
            };
            (at, 0)
        }
        4 => {
            // The last pages of one descriptor and the first of what
            // follows it.
            let d = desc_of(r, map, &[ty::BOOT_SERVICES_DATA]);
            let back = (1 + u64::from(r.u8()) % 3) * EFI_PAGE_SIZE;
            let over = (1 + u64::from(r.u8()) % 3) * EFI_PAGE_SIZE;
            (d.end().wrapping_add(1).wrapping_sub(back), back + over)
        }
        5 => {
            let d = desc_of(r, map, &[ty::BOOT_SERVICES_DATA]);
            match r.u8() % 4 {
                0 => (d.phys_addr, EFI_PAGE_SIZE),
                1 => (
                    d.end().wrapping_add(1).wrapping_sub(EFI_PAGE_SIZE),
                    EFI_PAGE_SIZE,
                ),
                2 => (d.end(), 1),
                _ => (d.phys_addr.wrapping_sub(1), 2),
            }
        }
        6 => {
            let top = map
                .iter()
                .map(|d| d.end().wrapping_add(1))
                .max()
                .unwrap_or(0);
            (
                top.wrapping_add(u64::from(r.u8()) * EFI_PAGE_SIZE),
                EFI_PAGE_SIZE,
            )
        }
        7 => {
            let d = desc_of(r, map, &[ty::BOOT_SERVICES_DATA]);
            (d.phys_addr, d.num_pages.wrapping_mul(EFI_PAGE_SIZE))
        }
        _ => (r.u64(), r.u64()),
    }
}

/// The `efi_mem_reserve` calls, in order.
pub fn reservations(r: &mut Reader, map: &[MemoryDesc]) -> Vec<(u64, u64)> {
    let n = match r.pick(&RESERVATIONS) {
        i @ 0..=2 => i,
        3 => 3 + usize::from(r.u8()) % 6,
        _ => (usize::from(r.u16()) % (MAX_RESERVATIONS + 1)).min(r.left()),
    };
    (0..n).map(|_| reservation(r, map)).collect()
}

/// The raw forms of `res`.
pub fn encode_reservations(w: &mut Writer, res: &[(u64, u64)]) {
    w.pick(&RESERVATIONS, RESERVATIONS_LONG);
    w.u16(res.len() as u16);
    for &(a, z) in res {
        w.pick(&RESERVATION, RESERVATION_RAW);
        w.u64(a);
        w.u64(z);
    }
}

fn memblock(r: &mut Reader, map: &[MemoryDesc]) -> (u64, u64) {
    match r.pick(&MEMBLOCK) {
        0 => {
            let d = desc_of(r, map, &[ty::BOOT_SERVICES_DATA, ty::BOOT_SERVICES_CODE]);
            (page_in(r, &d), EFI_PAGE_SIZE)
        }
        1 => {
            let d = desc_of(r, map, &[ty::BOOT_SERVICES_DATA]);
            (page_in(r, &d), 16 + 48 * (1 + u64::from(r.u8()) % 64))
        }
        2 => (u64::from(r.u8()) * EFI_PAGE_SIZE, EFI_PAGE_SIZE),
        3 => (r.u64(), r.u64()),
        _ => {
            let d = desc_of(r, map, &[ty::RUNTIME_SERVICES_DATA]);
            (page_in(r, &d), EFI_PAGE_SIZE)
        }
    }
}

/// An e820 type that prints and parses back as itself
/// (`E820_TYPE_RESERVED_KERN` prints as `usable`).
fn e820_type(t: u32) -> E820Type {
    if t == E820Type::RESERVED_KERN.0 {
        E820Type::RAM
    } else {
        E820Type(t)
    }
}

fn e820_entry(r: &mut Reader, map: &[MemoryDesc]) -> E820Entry {
    match r.pick(&E820) {
        0 | 1 => {
            let d = desc_of(r, map, &[ty::CONVENTIONAL_MEMORY]);
            let t = if r.u8() & 1 == 0 {
                E820Type::RAM
            } else {
                E820Type::RESERVED
            };
            E820Entry::new(d.phys_addr, d.num_pages.wrapping_mul(EFI_PAGE_SIZE), t)
        }
        2 => E820Entry::new(r.u64(), r.u64(), e820_type(r.u32())),
        3 => E820Entry::new(0, 0x9fc00, E820Type::RAM),
        _ => E820Entry::new(0xf0000, 0x10000, E820Type::RESERVED),
    }
}

fn setup_data(r: &mut Reader, map: &[MemoryDesc]) -> (u64, u64) {
    let size = 16 + u64::from(r.u8()) * 8;
    match r.pick(&SETUP_DATA) {
        0 => {
            let d = desc_of(r, map, &[ty::CONVENTIONAL_MEMORY]);
            (page_in(r, &d).wrapping_add(u64::from(r.u8()) * 0x10), size)
        }
        1 => (0x1000 + u64::from(r.u16()) % 0x9e000, size),
        2 => {
            let d = desc_of(r, map, &[ty::BOOT_SERVICES_DATA]);
            (page_in(r, &d), size)
        }
        _ => (r.u64(), r.u64()),
    }
}

fn kexec_file(r: &mut Reader) -> KexecFile {
    match r.pick(&KEXEC_FILE) {
        0 => KexecFile::default(),
        1 => KexecFile {
            purgatory: (1 + u64::from(r.u8() % 8)) * EFI_PAGE_SIZE,
            params: EFI_PAGE_SIZE,
            kernel: (1 + u64::from(r.u8() % 64)) << 20,
            kernel_align: 1 << (12 + r.u8() % 20),
            initrd: (1 + u64::from(r.u8())) << 20,
        },
        _ => KexecFile {
            purgatory: r.u64().max(1),
            params: r.u64().max(1),
            kernel: r.u64().max(1),
            kernel_align: 1 << (r.u8() % 64),
            initrd: r.u64().max(1),
        },
    }
}

/// `memblock`, `bgrt`, `e820`, `setup_data` and `kexec_file`, into `input`.
pub fn extras(r: &mut Reader, input: &mut BootInput) {
    let which = match r.pick(&EXTRAS) {
        0 => return,
        // One to all five, never none.
        1 => 1 + r.u8() % 31,
        _ => return raw_extras(r, input),
    };
    let map = &input.map;
    let count = |r: &mut Reader| 1 + usize::from(r.u8()) % 3;
    if which & EXTRA_MEMBLOCK != 0 {
        let n = count(r);
        input.memblock = (0..n).map(|_| memblock(r, map)).collect();
    }
    if which & EXTRA_BGRT != 0 {
        input.bgrt = Some(bgrt(r, map));
    }
    if which & EXTRA_E820 != 0 {
        let n = 1 + usize::from(r.u8()) % 8;
        input.e820 = Some((0..n).map(|_| e820_entry(r, map)).collect());
    }
    if which & EXTRA_SETUP_DATA != 0 {
        let n = count(r);
        input.setup_data = (0..n).map(|_| setup_data(r, map)).collect();
    }
    if which & EXTRA_KEXEC_FILE != 0 {
        input.kexec_file = Some(kexec_file(r));
    }
}

/// A 16-bit count, at most `most` and never more than the bytes left.
fn raw_count(r: &mut Reader, most: usize) -> usize {
    (usize::from(r.u16()) % (most + 1)).min(r.left())
}

fn raw_pair(r: &mut Reader) -> (u64, u64) {
    (r.u64(), r.u64())
}

/// Every extra raw: counted lists of raw values, a flag before `bgrt`
/// and `kexec_file`, and for `e820` a count one past the entries (0: no
/// table).
fn raw_extras(r: &mut Reader, input: &mut BootInput) {
    let n = raw_count(r, MAX_SETUP_DATA);
    input.memblock = (0..n).map(|_| raw_pair(r)).collect();
    if r.u8() & 1 == 1 {
        input.bgrt = Some(raw_pair(r));
    }
    let n = raw_count(r, MAX_E820 + 1);
    if n > 0 {
        input.e820 = Some(
            (1..n)
                .map(|_| E820Entry::new(r.u64(), r.u64(), e820_type(r.u32())))
                .collect(),
        );
    }
    let n = raw_count(r, MAX_SETUP_DATA);
    input.setup_data = (0..n).map(|_| raw_pair(r)).collect();
    if r.u8() & 1 == 1 {
        input.kexec_file = Some(KexecFile {
            purgatory: r.u64().max(1),
            params: r.u64().max(1),
            kernel: r.u64().max(1),
            kernel_align: 1 << (r.u8() % 64),
            initrd: r.u64().max(1),
        });
    }
}

/// The raw form of the extras of `input`.
pub fn encode_extras(w: &mut Writer, input: &BootInput) {
    w.pick(&EXTRAS, EXTRAS_RAW);
    let pair = |w: &mut Writer, (a, z): (u64, u64)| {
        w.u64(a);
        w.u64(z);
    };
    w.u16(input.memblock.len() as u16);
    for &p in &input.memblock {
        pair(w, p);
    }
    w.u8(u8::from(input.bgrt.is_some()));
    if let Some(p) = input.bgrt {
        pair(w, p);
    }
    match &input.e820 {
        Some(e) => {
            w.u16(e.len() as u16 + 1);
            for x in e {
                w.u64(x.addr);
                w.u64(x.size);
                w.u32(x.ty.0);
            }
        }
        None => w.u16(0),
    }
    w.u16(input.setup_data.len() as u16);
    for &p in &input.setup_data {
        pair(w, p);
    }
    w.u8(u8::from(input.kexec_file.is_some()));
    if let Some(k) = &input.kexec_file {
        w.u64(k.purgatory);
        w.u64(k.params);
        w.u64(k.kernel);
        w.u8(k.kernel_align.trailing_zeros() as u8);
        w.u64(k.initrd);
    }
}
