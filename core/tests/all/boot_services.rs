//! The boot-services step of the 2026 eras and the eras before them, with
//! figures worked out from the code of Debian's 6.12.117 and 6.1.192
//! (arch/x86/platform/efi/quirks.c, efi.c, efi_64.c) and of a4b0bf6a40f3
//! as merged: what `efi_reserve_boot_services` keeps, what is freed and
//! in which order, the array `efi_unmap_boot_services` allocates, the map
//! left installed, and the line the deferred free prints.

use efimap_core::judge::findings::check;
use efimap_core::model::boot::{run, BootInput, LaterStep, Outcome};
use efimap_core::model::desc::{attr, ty, MemoryDesc};
use efimap_core::model::kernel::Freed;
use efimap_core::model::mem::{AllocKind, Fill};
use efimap_core::Era;

const WB: u64 = 0xf;

fn d(t: u32, phys: u64, pages: u64, a: u64) -> MemoryDesc {
    MemoryDesc::new(t, phys, pages, a)
}

/// Page 0 Boot Code (inside the first 64 KiB, which x86 reserves first),
/// low RAM, 1 MiB of Boot Data with an 8 KiB reservation in it (as ESRT's
/// or BGRT's), RAM, a runtime region, and 256 KiB of Boot Data.
fn machine(cmdline: &str) -> BootInput {
    BootInput {
        map: vec![
            d(ty::BOOT_SERVICES_CODE, 0, 1, WB),
            d(ty::CONVENTIONAL_MEMORY, 0x1000, 0x9f, WB),
            d(ty::BOOT_SERVICES_DATA, 0x10_0000, 0x100, WB),
            d(ty::CONVENTIONAL_MEMORY, 0x20_0000, 0x100, WB),
            d(
                ty::RUNTIME_SERVICES_DATA,
                0x30_0000,
                0x10,
                WB | attr::RUNTIME,
            ),
            d(ty::BOOT_SERVICES_DATA, 0x40_0000, 0x40, WB),
        ],
        fill: Fill::Zero,
        cmdline: cmdline.into(),
        reservations: vec![(0x10_4000, 0x2000)],
        later: vec![LaterStep::VirtualMode],
        ..BootInput::default()
    }
}

fn freed(o: &Outcome) -> Vec<(u64, u64, &'static str)> {
    o.freed
        .iter()
        .map(|&Freed { start, end, by }| (start, end, by))
        .collect()
}

fn ranges(o: &Outcome) -> Vec<(u64, u64, u32, u64)> {
    o.map
        .iter()
        .map(|m| (m.phys_addr, m.num_pages, m.ty, m.attribute))
        .collect()
}

fn info(o: &Outcome) -> Vec<&str> {
    o.texts(efimap_core::model::kernel::Level::Info)
        .into_iter()
        .filter(|t| t.contains("Freeing"))
        .collect()
}

/// The kept descriptors, in the runtime map's order: `efi_map_regions`
/// walks the boot map last to first on 64-bit.
fn kept_map() -> Vec<(u64, u64, u32, u64)> {
    vec![
        (
            0x30_0000,
            0x10,
            ty::RUNTIME_SERVICES_DATA,
            WB | attr::RUNTIME,
        ),
        (0x10_4000, 2, ty::BOOT_SERVICES_DATA, WB | attr::RUNTIME),
        (0, 1, ty::BOOT_SERVICES_CODE, WB | attr::RUNTIME),
    ]
}

/// The freeable regions, last to first as the walk meets them.
fn freeable(by: &'static str) -> Vec<(u64, u64, &'static str)> {
    vec![
        (0x40_0000, 0x44_0000, by),
        (0x10_6000, 0x20_0000, by),
        (0x10_0000, 0x10_4000, by),
    ]
}

#[test]
fn debian_6_12_defers_the_free_and_says_how_much() {
    let o = run(Era::V6_12_Y, &machine("")).unwrap();
    // Reserved already when efi_reserve_boot_services runs: page 0 (the
    // first 64 KiB) and the reservation's own descriptor.
    assert_eq!(o.kept, vec![(0, 0x1000), (0x10_4000, 0x2000)]);
    assert_eq!(freed(&o), freeable("free_reserved_area"));
    // 16 KiB + 1000 KiB + 256 KiB.
    assert_eq!(
        info(&o),
        vec!["efi: Freeing EFI boot services memory: 1272K"]
    );
    assert_eq!(ranges(&o), kept_map());
    // The records: 16 bytes for each of the runtime map's 6 entries and a
    // zero sentinel, zeroed, from kmalloc-128; freed by the initcall.
    let a = o
        .allocations
        .iter()
        .find(|a| a.by == "efi_unmap_boot_services")
        .expect("ranges_to_free");
    assert_eq!((a.size, a.kind), (112, AllocKind::Slab { object: 128 }));
    assert_eq!(a.freed_by, Some("efi_free_boot_services"));
    assert!(o.faults.is_empty(), "{:?}", o.faults);
    // What is left unfreed is the runtime map efi_map_regions built: the
    // rebuild installs a new map and the LATE-only old one is not freed.
    let (_, c) = check(Era::V6_12_Y, &machine("")).unwrap();
    let sigs: Vec<String> = c.signatures().iter().map(|s| s.to_string()).collect();
    assert_eq!(
        sigs,
        vec!["leak/efi_arch_mem_reserve", "leak/efi_map_regions"]
    );
}

#[test]
fn debian_6_1_is_the_same_step() {
    let (a, b) = (
        run(Era::V6_1_Y, &machine("")).unwrap(),
        run(Era::V6_12_Y, &machine("")).unwrap(),
    );
    assert_eq!(
        (freed(&a), ranges(&a), info(&a)),
        (freed(&b), ranges(&b), info(&b))
    );
}

#[test]
fn before_a4b0bf6a40f3_the_free_is_at_once_and_silent() {
    let o = run(Era::V6_10, &machine("")).unwrap();
    assert_eq!(freed(&o), freeable("memblock_free_late"));
    assert_eq!(info(&o), Vec::<&str>::new());
    assert_eq!(ranges(&o), kept_map());
    assert!(!o
        .allocations
        .iter()
        .any(|a| matches!(a.kind, AllocKind::Slab { .. })));
}

#[test]
fn efi_debug_keeps_every_region() {
    for era in [Era::V6_10, Era::V6_12_Y, Era::V7_0_RC] {
        let o = run(era, &machine("efi=debug")).unwrap();
        assert_eq!(freed(&o), vec![], "{era}");
        // The runtime map stays: every region it maps, last to first.
        assert_eq!(o.map.len(), 6, "{era}");
        assert_eq!(o.map[0].phys_addr, 0x40_0000);
        assert_eq!(o.map[5].phys_addr, 0);
    }
}

#[test]
fn as_merged_the_sentinel_read_runs_7_bytes_past_the_array() {
    // Two freeable regions above 1 MiB and nothing else: idx reaches
    // nr_map, and the sentinel's start is read at offset 32 of a 33-byte
    // array (16 * 2 + 1).
    let input = BootInput {
        map: vec![
            d(ty::BOOT_SERVICES_DATA, 0x10_0000, 0x100, WB),
            d(ty::BOOT_SERVICES_CODE, 0x20_0000, 0x100, WB),
        ],
        fill: Fill::Zero,
        later: vec![LaterStep::VirtualMode],
        ..BootInput::default()
    };
    let (o, c) = check(Era::V7_0_RC, &input).unwrap();
    let f = &c.findings[0];
    assert_eq!(f.signature().to_string(), "overread/efi_free_boot_services");
    assert_eq!(c.findings.len(), 1);
    let a = o
        .allocations
        .iter()
        .find(|a| a.by == "efi_unmap_boot_services")
        .unwrap();
    assert_eq!(a.size, 33);
    assert_eq!(
        f.evidence,
        efimap_core::judge::findings::Evidence::Overread {
            alloc: a.id,
            size: 33,
            bytes_past: 7,
            page_fault: false
        }
    );
    assert_eq!(
        info(&o),
        vec!["efi: Freeing EFI boot services memory: 2048K"]
    );
    // With 217c0a5c177a the array has its 16-byte sentinel.
    let (o, c) = check(Era::V6_12_Y, &input).unwrap();
    assert_eq!(c.findings, vec![]);
    let a = o
        .allocations
        .iter()
        .find(|a| a.by == "efi_unmap_boot_services")
        .unwrap();
    assert_eq!(a.size, 48);
}

#[test]
fn below_1m_nothing_is_freed_and_a_region_across_it_is_clipped() {
    let input = BootInput {
        map: vec![
            // Above the first 64 KiB, wholly below 1 MiB: dropped from the
            // new map, never freed.
            d(ty::BOOT_SERVICES_DATA, 0x8_0000, 0x10, WB),
            // Across 1 MiB: freed from 1 MiB on.
            d(ty::BOOT_SERVICES_DATA, 0xf_0000, 0x20, WB),
            d(
                ty::RUNTIME_SERVICES_CODE,
                0x30_0000,
                0x10,
                WB | attr::RUNTIME,
            ),
        ],
        fill: Fill::Zero,
        later: vec![LaterStep::VirtualMode],
        ..BootInput::default()
    };
    let o = run(Era::V6_12_Y, &input).unwrap();
    assert_eq!(
        freed(&o),
        vec![(0x10_0000, 0x11_0000, "free_reserved_area")]
    );
    assert_eq!(info(&o), vec!["efi: Freeing EFI boot services memory: 64K"]);
    assert_eq!(
        ranges(&o),
        vec![(
            0x30_0000,
            0x10,
            ty::RUNTIME_SERVICES_CODE,
            WB | attr::RUNTIME
        )]
    );
}

#[test]
fn the_runtime_map_gets_virtual_addresses_top_down() {
    // efi_map_region: efi_va starts at -4 GiB; a 2 MiB-aligned region is
    // placed at a 2 MiB boundary below the previous one.
    let input = BootInput {
        map: vec![
            d(
                ty::RUNTIME_SERVICES_CODE,
                0x20_0000,
                0x10,
                WB | attr::RUNTIME,
            ),
            d(
                ty::RUNTIME_SERVICES_DATA,
                0x40_0000,
                0x10,
                WB | attr::RUNTIME,
            ),
        ],
        fill: Fill::Zero,
        cmdline: "efi=debug".into(),
        later: vec![LaterStep::VirtualMode],
        ..BootInput::default()
    };
    let o = run(Era::V6_12_Y, &input).unwrap();
    let va: Vec<(u64, u64)> = o.map.iter().map(|m| (m.phys_addr, m.virt_addr)).collect();
    let top = 4u64.wrapping_neg() << 30;
    assert_eq!(
        va,
        vec![(0x40_0000, top - (2 << 20)), (0x20_0000, top - (4 << 20))]
    );
}

/// A zero-size range makes a 0-page Boot Data entry; virtual mode carries
/// it into the runtime map (with a virtual address) and the rebuild drops
/// it, freeing nothing: the entry is efi_fake_memmap's, not charged again.
/// From 75dde792 nothing frees the fake_mem map init_late replaced.
#[test]
fn an_empty_entry_carried_into_the_runtime_map_is_not_new() {
    let input = BootInput {
        map: vec![
            d(ty::BOOT_SERVICES_DATA, 0x1_0000_0000, 0x10_0000, WB),
            d(
                ty::RUNTIME_SERVICES_DATA,
                0x2_0000_0000,
                0x10,
                WB | attr::RUNTIME,
            ),
        ],
        fill: Fill::Zero,
        cmdline: "efi_fake_mem=0@5G:0x40000".into(),
        later: vec![LaterStep::VirtualMode],
        ..BootInput::default()
    };
    let sigs = |era| -> Vec<String> {
        let (_, c) = check(era, &input).unwrap();
        c.signatures().iter().map(|s| s.to_string()).collect()
    };
    assert_eq!(
        sigs(Era::V5_6),
        vec!["empty-entry/efi_fake_memmap", "leak/efi_map_regions"]
    );
    assert_eq!(
        sigs(Era::V6_10),
        vec![
            "empty-entry/efi_fake_memmap",
            "leak/efi_fake_memmap",
            "leak/efi_map_regions"
        ]
    );
    let o = run(Era::V6_10, &input).unwrap();
    assert_eq!(
        freed(&o),
        vec![
            (0x1_4000_0000, 0x2_0000_0000, "memblock_free_late"),
            (0x1_4000_0000, 0x1_4000_0000, "memblock_free_late"),
            (0x1_0000_0000, 0x1_4000_0000, "memblock_free_late"),
        ]
    );
}
