//! The cases of the seed thread, through the boot-flow runner, with the
//! figures the thread and the kernel source give.

use efimap_core::model::boot::{run, BootInput, LaterStep, Outcome};
use efimap_core::model::desc::{attr, ty, MemoryDesc};
use efimap_core::model::kernel::{Level, EFI_MEMMAP_LATE};
use efimap_core::model::mem::{Access, AllocKind, Fault, FaultKind, Fill};
use efimap_core::model::print::memmap_lines;
use efimap_core::Era;

const G: u64 = 1 << 30;
const M: u64 = 1 << 20;
const CACHE: u64 = attr::UC | attr::WC | attr::WT | attr::WB; // 0xf

/// Dan Williams' map (the seed thread): BootServicesData at 0xbea00000, 0x100
/// pages; Conventional [4G, 18G).
fn dan_map(bsd_attr: u64) -> Vec<MemoryDesc> {
    vec![
        MemoryDesc::new(ty::BOOT_SERVICES_DATA, 0xbea0_0000, 0x100, bsd_attr),
        MemoryDesc::new(ty::CONVENTIONAL_MEMORY, 4 * G, (14 * G) >> 12, CACHE),
    ]
}

fn dan(cmdline: &str, bsd_attr: u64) -> BootInput {
    BootInput {
        desc_size: 48,
        map: dan_map(bsd_attr),
        fill: Fill::Zero,
        cmdline: cmdline.into(),
        reservations: vec![(0xbea0_6000, 0x27000)], // BGRT-like
        ..BootInput::default()
    }
}

const TWO_RANGES: &str = "efi_fake_mem=4G@9G:0x40000,4G@13G:0x40000";
const ONE_RANGE: &str = "efi_fake_mem=8G@9G:0x40000";

fn ok(era: Era, input: &BootInput) -> Outcome {
    run(era, input).expect("modelled input")
}

/// The lines efi_fake_memmap printed (the map it installed).
fn fake_mem_print(o: &Outcome) -> Vec<&str> {
    o.events
        .iter()
        .filter(|e| e.func == "efi_print_memmap")
        .map(|e| e.text.as_str())
        .collect()
}

fn bsd(phys: u64, pages: u64, a: u64) -> MemoryDesc {
    MemoryDesc::new(ty::BOOT_SERVICES_DATA, phys, pages, a)
}

fn conv(start: u64, end_excl: u64, a: u64) -> MemoryDesc {
    MemoryDesc::new(ty::CONVENTIONAL_MEMORY, start, (end_excl - start) >> 12, a)
}

/// The BGRT split of the BootServicesData descriptor: 6 pages, 0x27 pages
/// RUNTIME, 0xd3 pages.
fn bgrt_split() -> Vec<MemoryDesc> {
    vec![
        bsd(0xbea0_0000, 6, CACHE),
        bsd(0xbea0_6000, 0x27, CACHE | attr::RUNTIME),
        bsd(0xbea2_d000, 0xd3, CACHE),
    ]
}

fn reserve_alloc(o: &Outcome) -> usize {
    let a = o
        .allocations
        .iter()
        .rfind(|a| a.by == "efi_arch_mem_reserve")
        .expect("efi_arch_mem_reserve allocated");
    a.id
}

#[test]
fn dan_williams_v5_5_overruns_the_reservation_buffer() {
    let o = ok(Era::V5_5, &dan(TWO_RANGES, CACHE));
    let sp = CACHE | attr::SP;
    // After efi_fake_memmap: 6 entries, only the second range applied, two empty.
    let after_fake = vec![
        bsd(0xbea0_0000, 0x100, CACHE),
        conv(4 * G, 13 * G, CACHE),
        conv(13 * G, 17 * G, sp),
        conv(17 * G, 18 * G, CACHE),
        MemoryDesc::default(),
        MemoryDesc::default(),
    ];
    assert_eq!(
        fake_mem_print(&o),
        memmap_lines(&after_fake, o.era.features().printer)
    );
    assert_eq!(
        fake_mem_print(&o)[4],
        "efi: mem04: [Reserved           |   |  |  |  |  |  |  |  |   |  |  |  |  ] range=[0x0000000000000000-0xffffffffffffffff] (0MB)"
    );

    // The reservation counts 2 splits (its own descriptor) + 6 = 8, insert writes 12.
    let call = o.inserts.last().unwrap();
    assert_eq!(
        (call.caller, call.room, call.copied.len(), call.written),
        ("efi_arch_mem_reserve", 8, 6, 12)
    );
    let id = reserve_alloc(&o);
    assert_eq!(o.allocations[id].size, 8 * 48);
    assert_eq!(o.allocations[id].kind, AllocKind::Memblock);
    assert_eq!(o.bytes_written_past(id), 192);
    // The model's memblock ends the 384-byte buffer at a page boundary
    // (where a top-down allocation ends depends on what was allocated
    // before it; this is the model's placement): early_memremap maps that
    // one page, so every byte past it hits an unmapped page, the page fault
    // of the seed thread's trace.
    assert_eq!(o.allocations[id].phys % 4096, 4096 - 384);
    let writes: Vec<&Fault> = o
        .faults
        .iter()
        .filter(|f| f.access == Access::Write)
        .collect();
    assert_eq!(writes.len(), 1);
    assert_eq!(
        (
            writes[0].alloc,
            writes[0].offset,
            writes[0].len,
            writes[0].kind,
            writes[0].by
        ),
        (
            id,
            384,
            192,
            FaultKind::OutOfBounds { page_fault: true },
            "efi_memmap_insert"
        )
    );

    // Installed: the first 8 of the 12 written descriptors.
    assert_eq!(o.memmap.nr_map, 8);
    let mut want = bgrt_split();
    want.extend([
        conv(4 * G, 13 * G, CACHE),
        conv(13 * G, 17 * G, sp),
        conv(17 * G, 18 * G, CACHE),
        // The first empty entry's three-way split, first two parts.
        MemoryDesc::new(0, 0, 0xbea06, 0),
        MemoryDesc::new(0, 0xbea0_6000, 0x27, CACHE | attr::RUNTIME),
    ]);
    assert_eq!(o.map, want);
    // e820: efi_fake_memmap_early soft-reserves both SP ranges, then the
    // reservation asks for its rounded range.
    assert_eq!(
        o.texts(Level::Debug),
        vec![
            "e820: update [mem 0x240000000-0x33fffffff] usable ==> soft reserved",
            "e820: update [mem 0x340000000-0x43fffffff] usable ==> soft reserved",
            "e820: update [mem 0xbea06000-0xbea2cfff] usable ==> reserved",
        ]
    );
    // The replaced fake_mem map (6 x 48 bytes) is never freed.
    assert_eq!(o.leaks.len(), 1);
    assert_eq!(o.allocations[o.leaks[0]].size, 288);
}

#[test]
fn dan_williams_fixed_eras_apply_both_ranges_without_overrun() {
    // Debian's 6.1 has the fixed efi_fake_memmap too.
    for era in [Era::V5_6, Era::V6_10, Era::V6_1_Y] {
        let o = ok(era, &dan(TWO_RANGES, CACHE));
        let sp = CACHE | attr::SP;
        let mut want = bgrt_split();
        want.extend([
            conv(4 * G, 9 * G, CACHE),
            conv(9 * G, 13 * G, sp),
            conv(13 * G, 17 * G, sp),
            conv(17 * G, 18 * G, CACHE),
        ]);
        assert_eq!(o.memmap.nr_map, 7, "{era}");
        assert_eq!(o.map, want, "{era}");
        assert_eq!(o.faults, vec![], "{era}");
        assert_eq!(
            o.leaks,
            Vec::<usize>::new(),
            "{era}: every replaced map freed"
        );
        assert!(o.inserts.iter().all(|c| c.written == c.room), "{era}");
    }
}

#[test]
fn single_range_is_clean_in_every_fake_mem_era() {
    for era in [Era::V5_4, Era::V5_5, Era::V5_6, Era::V6_10, Era::V6_1_Y] {
        let o = ok(era, &dan(ONE_RANGE, CACHE));
        let mut want = bgrt_split();
        want.extend([
            conv(4 * G, 9 * G, CACHE),
            conv(9 * G, 17 * G, CACHE | attr::SP),
            conv(17 * G, 18 * G, CACHE),
        ]);
        assert_eq!(o.memmap.nr_map, 6, "{era}");
        assert_eq!(o.map, want, "{era}");
        assert_eq!(o.faults, vec![], "{era}");
    }
    // v5.5 still leaks the replaced fake_mem map (fixed by f0ef6523).
    assert_eq!(ok(Era::V5_5, &dan(ONE_RANGE, CACHE)).leaks.len(), 1);
    assert_eq!(ok(Era::V5_6, &dan(ONE_RANGE, CACHE)).leaks.len(), 0);
}

#[test]
fn v6_11_ignores_efi_fake_mem() {
    // So do Debian's 6.12 and the 2026 mainline, which came after it.
    for (era, cmdline) in [Era::V6_11, Era::V6_12_Y, Era::V7_0_RC]
        .into_iter()
        .flat_map(|e| [(e, TWO_RANGES), (e, ONE_RANGE)])
    {
        let o = ok(era, &dan(cmdline, CACHE));
        let mut want = bgrt_split();
        want.push(conv(4 * G, 18 * G, CACHE));
        assert_eq!(o.memmap.nr_map, 4);
        assert_eq!(o.map, want);
        assert_eq!(o.faults, vec![]);
        assert_eq!(
            o.texts(Level::Notice),
            vec![format!(
                "Unknown kernel command line parameters \"{cmdline}\", will be passed to user space."
            )]
        );
        assert!(o.fake_mems.is_empty());
    }
}

#[test]
fn v5_4_overruns_alike_unless_the_descriptor_is_runtime() {
    let o = ok(Era::V5_4, &dan(TWO_RANGES, CACHE));
    let id = reserve_alloc(&o);
    assert_eq!(o.bytes_written_past(id), 192);
    assert_eq!(o.memmap.nr_map, 8);
    assert!(o.e820.is_empty(), "no e820 update before af164898");
    // With RUNTIME on the BootServicesData descriptor the early return skips
    // everything: the map is still fake_mem's six entries, two of them empty.
    let o = ok(Era::V5_4, &dan(TWO_RANGES, CACHE | attr::RUNTIME));
    assert_eq!(o.faults, vec![]);
    assert_eq!(o.memmap.nr_map, 6);
    assert_eq!(o.map[4], MemoryDesc::default());
    assert!(o.allocations.iter().all(|a| a.by != "efi_arch_mem_reserve"));
    // v5.5 on the same map goes through and overruns.
    let o = ok(Era::V5_5, &dan(TWO_RANGES, CACHE | attr::RUNTIME));
    assert_eq!(o.bytes_written_past(reserve_alloc(&o)), 192);
}

/// Spec 4.2's worked example, Dave Young's dmesg of 2019-12-31.
fn dave(era: Era) -> Outcome {
    let input = BootInput {
        desc_size: 48,
        map: vec![
            MemoryDesc::new(ty::BOOT_SERVICES_DATA, 0xbea0_0000, 0x100, CACHE),
            MemoryDesc::new(ty::CONVENTIONAL_MEMORY, 4 * G, G >> 10, CACHE),
        ],
        fill: Fill::Zero,
        cmdline: "efi_fake_mem=200M@5G:0x40000,300M@5600M:0x40000".into(),
        ..BootInput::default()
    };
    ok(era, &input)
}

#[test]
fn dave_young_v5_5_keeps_only_the_second_range() {
    let o = dave(Era::V5_5);
    let lines = [
        "efi: mem00: [Boot Data          |   |  |  |  |  |  |  |  |   |WB|WT|WC|UC] range=[0x00000000bea00000-0x00000000beafffff] (1MB)",
        "efi: mem01: [Conventional Memory|   |  |  |  |  |  |  |  |   |WB|WT|WC|UC] range=[0x0000000100000000-0x000000015dffffff] (1504MB)",
        "efi: mem02: [Conventional Memory|   |  |SP|  |  |  |  |  |   |WB|WT|WC|UC] range=[0x000000015e000000-0x0000000170bfffff] (300MB)",
        "efi: mem03: [Conventional Memory|   |  |  |  |  |  |  |  |   |WB|WT|WC|UC] range=[0x0000000170c00000-0x00000001ffffffff] (2292MB)",
        "efi: mem04: [Reserved           |   |  |  |  |  |  |  |  |   |  |  |  |  ] range=[0x0000000000000000-0xffffffffffffffff] (0MB)",
        "efi: mem05: [Reserved           |   |  |  |  |  |  |  |  |   |  |  |  |  ] range=[0x0000000000000000-0xffffffffffffffff] (0MB)",
    ];
    assert_eq!(fake_mem_print(&o), lines);
    assert_eq!(
        o.texts(Level::Info)[..2],
        [
            "efi_fake_mem: add attr=0x0000000000040000 to [mem 0x0000000140000000-0x000000014c7fffff]",
            "efi_fake_mem: add attr=0x0000000000040000 to [mem 0x000000015e000000-0x0000000170bfffff]",
        ]
    );
    // Both inserts wrote four descriptors into the six-slot buffer.
    let counts: Vec<(u64, u64)> = o.inserts.iter().map(|c| (c.room, c.written)).collect();
    assert_eq!(counts, vec![(6, 4), (6, 4)]);
}

#[test]
fn dave_young_v5_6_applies_both_ranges() {
    for era in [Era::V5_6, Era::V6_1_Y] {
        let o = dave(era);
        let sp = CACHE | attr::SP;
        let want = vec![
            bsd(0xbea0_0000, 0x100, CACHE),
            conv(4 * G, 5 * G, CACHE),
            conv(5 * G, 5 * G + 200 * M, sp),
            conv(5 * G + 200 * M, 5600 * M, CACHE),
            conv(5600 * M, 5900 * M, sp),
            conv(5900 * M, 8 * G, CACHE),
        ];
        assert_eq!(o.map, want);
        assert_eq!(
            fake_mem_print(&o),
            memmap_lines(&want, o.era.features().printer)
        );
        assert!(o.map.iter().all(|d| d.num_pages > 0), "no empty entries");
    }
}

#[test]
fn split_parts_carry_their_origins_vendor_bytes() {
    let o = ok(Era::V5_6, &dan(TWO_RANGES, CACHE));
    // Parts 0..3 come from firmware descriptor 0, the rest from descriptor 1.
    for (i, chunk) in o.map_bytes.chunks(48).enumerate() {
        let origin = if i < 3 { 0 } else { 1 };
        assert_eq!(
            chunk[40..],
            [efimap_core::model::boot::vendor_byte(origin); 8],
            "descriptor {i}"
        );
    }
}

/// The init_late use-after-free: a reservation installs a memblock map; kexec's init_late of the same
/// map frees it in f0ef6523 .. v6.9, and every later read is a use-after-free.
#[test]
fn b4_kexec_init_late_use_after_free() {
    let input = BootInput {
        later: vec![LaterStep::KexecInitLate],
        ..dan("", CACHE)
    };
    let o = ok(Era::V5_6, &input);
    let id = reserve_alloc(&o);
    assert_eq!(o.allocations[id].freed_by, Some("efi_memmap_init_late"));
    assert_eq!(
        o.memmap.phys_map, o.allocations[id].phys,
        "the freed block is the map"
    );
    assert_eq!(o.memmap.flags, EFI_MEMMAP_LATE);
    let uaf: Vec<&Fault> = o
        .faults
        .iter()
        .filter(|f| f.kind == FaultKind::UseAfterFree)
        .collect();
    assert_eq!(uaf.len(), 1);
    assert_eq!(
        (
            uaf[0].alloc,
            uaf[0].access,
            uaf[0].by,
            uaf[0].offset,
            uaf[0].len,
            uaf[0].accesses
        ),
        (id, Access::Read, "efi_runtime_map_init", 0, 3 * 48 + 40, 4)
    );

    // 75dde792 is in v6.10 and in both Debian trees.
    for era in [Era::V6_10, Era::V6_1_Y, Era::V6_12_Y, Era::V7_0_RC] {
        let o = ok(era, &input);
        assert_eq!(o.faults, vec![], "{era}");
        let id = reserve_alloc(&o);
        assert_eq!(o.allocations[id].freed_by, None, "{era}");
        assert_eq!(o.memmap.phys_map, o.allocations[id].phys, "{era}");
        // The firmware map it replaced carried no MEMBLOCK/SLAB flag: nothing freed, nothing leaked.
        assert_eq!(o.leaks, Vec::<usize>::new(), "{era}");
    }
}

#[test]
fn same_inputs_same_outcome() {
    let mut input = dan(TWO_RANGES, CACHE);
    input.later.push(LaterStep::KexecInitLate);
    for era in Era::all() {
        for fill in [Fill::Zero, Fill::Pattern(0xa5), Fill::Stale] {
            input.fill = fill;
            assert_eq!(run(era, &input), run(era, &input), "{era} {fill:?}");
        }
    }
}
