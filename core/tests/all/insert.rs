//! efi_memmap_split_count and efi_memmap_insert on one installed map: the
//! rows of the condition table (docs/kernel-notes.md) with their part sizes, the wrap
//! cases, the misalignment WARN, and the count invariant.

use efimap_core::model::desc::{attr, ty, MemRange, MemoryDesc};
use efimap_core::model::kernel::{Kernel, Level, MemoryMapData};
use efimap_core::model::mem::Fill;
use efimap_core::model::memmap::efi_memmap_split_count;
use efimap_core::Era;

const G: u64 = 1 << 30;
const P: u64 = 4096;

/// Installs `map` early, inserts `r` into a buffer with room for
/// `nr_map + split counts` descriptors, and returns what insert wrote.
fn insert(era: Era, map: &[MemoryDesc], r: MemRange) -> (Kernel, Vec<MemoryDesc>, u64) {
    let mut k = Kernel::new(era, Fill::Pattern(0xee));
    k.efi_memblock_x86_reserve_range(map, 48);
    let n: u64 = map.len() as u64
        + map
            .iter()
            .map(|d| efi_memmap_split_count(d, &r))
            .sum::<u64>();
    let mut data = MemoryMapData::default();
    k.efi_memmap_alloc(n, &mut data).unwrap();
    let buf = k.early_memremap(data.phys_map, data.size).unwrap();
    let current = k.memmap;
    let written = k.efi_memmap_insert(&current, buf, &r);
    let bytes = k.mem.peek(buf.alloc, 0, written * 48);
    let out = bytes.chunks(48).map(MemoryDesc::from_bytes).collect();
    (k, out, written)
}

fn conv(phys: u64, pages: u64, a: u64) -> MemoryDesc {
    MemoryDesc::new(ty::CONVENTIONAL_MEMORY, phys, pages, a)
}

/// [4G, 8G) with WB; the range carries SP.
fn one(r: MemRange) -> Vec<MemoryDesc> {
    insert(Era::V5_6, &[conv(4 * G, G >> 10, attr::WB)], r).1
}

const WB: u64 = attr::WB;
const SPWB: u64 = attr::SP | attr::WB;
const PG: u64 = G >> 12; // pages per GiB

#[test]
fn untouched_full_head_inside_tail() {
    let r = |a: u64, b: u64| MemRange::new(a, b, attr::SP);
    assert_eq!(
        one(r(G, 2 * G - 1)),
        vec![conv(4 * G, 4 * PG, WB)],
        "disjoint"
    );
    assert_eq!(
        one(r(2 * G, 9 * G - 1)),
        vec![conv(4 * G, 4 * PG, SPWB)],
        "full"
    );
    assert_eq!(
        one(r(4 * G, 5 * G - 1)),
        vec![conv(4 * G, PG, SPWB), conv(5 * G, 3 * PG, WB)],
        "head"
    );
    assert_eq!(
        one(r(5 * G, 6 * G - 1)),
        vec![
            conv(4 * G, PG, WB),
            conv(5 * G, PG, SPWB),
            conv(6 * G, 2 * PG, WB)
        ],
        "inside"
    );
    assert_eq!(
        one(r(7 * G, 9 * G - 1)),
        vec![conv(4 * G, 3 * PG, WB), conv(7 * G, PG, SPWB)],
        "tail"
    );
}

#[test]
fn empty_entry_splits_in_three_and_reaches_the_top() {
    // Spec 7.2: [0, a), the range with the attribute, [b + 1, 2^64).
    let r = MemRange::new(0xbea0_6000, 0xbea2_cfff, attr::RUNTIME | 0xf);
    let (_, out, written) = insert(Era::V5_6, &[MemoryDesc::default()], r);
    assert_eq!(written, 3);
    assert_eq!(
        out,
        vec![
            MemoryDesc::new(0, 0, 0xbea06, 0),
            MemoryDesc::new(0, 0xbea0_6000, 0x27, attr::RUNTIME | 0xf),
            MemoryDesc::new(0, 0xbea2_d000, (u64::MAX - 0xbea2_cfff) >> 12, 0),
        ]
    );
}

#[test]
fn zero_size_range_makes_a_zero_page_middle() {
    // Spec 7.4: 0@5G inside [4G, 8G): a 0-page entry at 5G with the attribute.
    let out = one(MemRange::from_size(5 * G, 0, attr::SP));
    assert_eq!(
        out,
        vec![
            conv(4 * G, PG, WB),
            conv(5 * G, 0, SPWB),
            conv(5 * G, 3 * PG, WB)
        ]
    );
    // At a descriptor start nothing changes.
    assert_eq!(
        one(MemRange::from_size(4 * G, 0, attr::SP)),
        vec![conv(4 * G, 4 * PG, WB)]
    );
    // 0@0 is [0, 2^64 - 1]: every descriptor gets the attribute, no split.
    assert_eq!(
        one(MemRange::from_size(0, 0, attr::SP)),
        vec![conv(4 * G, 4 * PG, SPWB)]
    );
}

#[test]
fn range_ending_at_the_top_splits_the_descriptor_it_starts_in() {
    // Spec 7.6.
    let out = one(MemRange::new(6 * G, u64::MAX, attr::SP));
    assert_eq!(
        out,
        vec![conv(4 * G, 2 * PG, WB), conv(6 * G, 2 * PG, SPWB)]
    );
}

#[test]
fn huge_page_counts_truncate() {
    // Spec 7.7: 2^52 + 2 pages is 2 pages of length; the parts follow from that.
    let md = conv(4 * G, (1 << 52) + 2, WB);
    let (_, out, written) = insert(
        Era::V5_6,
        &[md],
        MemRange::new(4 * G, 4 * G + P - 1, attr::SP),
    );
    assert_eq!(written, 2);
    assert_eq!(out, vec![conv(4 * G, 1, SPWB), conv(4 * G + P, 1, WB)]);
}

#[test]
fn misaligned_range_warns_and_writes_nothing() {
    for (era, file) in [
        (Era::V5_5, "drivers/firmware/efi/memmap.c"),
        (Era::V6_10, "arch/x86/platform/efi/memmap.c"),
    ] {
        for r in [
            MemRange::from_size(4 * G, 1000, attr::SP), // end + 1 misaligned
            MemRange::from_size(4 * G + 1, 4 * G, attr::SP), // start misaligned
        ] {
            let (k, _, written) = insert(era, &[conv(4 * G, 4 * PG, WB)], r);
            assert_eq!(written, 0);
            let warns: Vec<&str> = k
                .events
                .iter()
                .filter(|e| e.level == Level::Warning)
                .map(|e| e.text.as_str())
                .collect();
            assert_eq!(
                warns,
                vec![format!(
                    "WARNING: CPU: 0 PID: 0 at {file} efi_memmap_insert"
                )]
            );
            // The buffer still holds the fill.
            let call = k.inserts.last().unwrap();
            assert_eq!((call.copied.len(), call.written), (0, 0));
            let a = k.mem.allocations.last().unwrap();
            assert!(a.contents().iter().all(|&b| b == 0xee));
        }
    }
}

/// Spec 3.2: when the alignment check passes, insert writes 1 + split_count
/// descriptors for every descriptor, degenerate ones included.
#[test]
fn count_invariant_over_degenerate_descriptors() {
    let starts = [0, P, 4 * P, 7 * P, u64::MAX - (P - 1), 1 << 63];
    let pages = [0, 1, 2, 3, 5, 1 << 52, (1 << 52) + 1, u64::MAX];
    let points = [
        0,
        P,
        2 * P,
        4 * P,
        5 * P,
        7 * P,
        8 * P,
        12 * P,
        u64::MAX - (P - 1),
        1 << 63,
    ];
    let mut checked = 0;
    for &s in &starts {
        for &n in &pages {
            let md = conv(s, n, WB);
            for &a in &points {
                for &len in &[0, P, 2 * P, 3 * P, a.wrapping_neg()] {
                    let r = MemRange::from_size(a, len, attr::SP);
                    let (_, _, written) = insert(Era::V5_6, &[md], r);
                    assert_eq!(written, 1 + efi_memmap_split_count(&md, &r), "{md:?} {r:?}");
                    checked += 1;
                }
            }
        }
    }
    assert_eq!(checked, 6 * 8 * 10 * 5);
}
