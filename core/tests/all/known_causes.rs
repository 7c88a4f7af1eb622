//! Known bugs by cause (`efimap_core::judge::known`): each cause explains
//! the finding it makes on a case that shows it, and not the same
//! signature where that cause is absent; a new overrun in
//! efi_arch_mem_reserve on a well-formed map is a crash and an unexplained
//! hunt row although its signature is on the table.

use efimap_core::cases::scenario::Scenario;
use efimap_core::judge::findings::{check, Evidence, Finding};
use efimap_core::judge::known::{explain, unexplained, KnownBug, KNOWN_BUGS};
use efimap_core::judge::signature::Signature;
use efimap_core::model::boot::BootInput;
use efimap_core::model::desc::{attr, ty, MemoryDesc};
use efimap_core::model::e820::{E820Entry, E820Type};
use efimap_core::model::era::{EraDef, Features, OldMapFree};
use efimap_core::search::fuzzing::{boot_flow_finding, Config};
use efimap_core::search::hunt::{hunt, HuntConfig};
use efimap_core::{Era, Outcome};
use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

fn corpus(name: &str) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../corpus")
        .join(name);
    efimap_core::cases::corpus::load(&path).unwrap()
}

fn sig(s: &str) -> Signature {
    s.parse().unwrap()
}

/// The row of the table with this signature and cause name.
fn row(signature: &str, name: &str) -> &'static KnownBug {
    KNOWN_BUGS
        .iter()
        .find(|k| k.signature == sig(signature) && k.name == name)
        .unwrap_or_else(|| panic!("no row {signature} / {name}"))
}

/// Every instance of `signature` in `era`'s outcome on `input` (at least one).
fn instances(input: &BootInput, era: Era, signature: &str) -> (Outcome, Vec<Finding>) {
    let (o, c) = check(era, input).unwrap();
    let found: Vec<Finding> = c
        .all
        .into_iter()
        .filter(|f| f.signature() == sig(signature))
        .collect();
    assert!(!found.is_empty(), "{era} shows no {signature}");
    (o, found)
}

/// `row` explains every instance of its signature on `input` in `era`,
/// and it is the table's answer.
fn explained(row: &'static KnownBug, input: &BootInput, era: Era) {
    let (o, found) = instances(input, era, &row.signature.to_string());
    for f in &found {
        assert!((row.explains)(input, &o, f), "{}: {era}: {f:?}", row.name);
        assert_eq!(explain(input, &o, f), Some(row), "{era}: {f:?}");
    }
}

/// `row`'s cause does not hold for some instance of its signature on
/// `input` in `era`; the table's answer for it is `other` (another row, or
/// none).
fn not_by(row: &'static KnownBug, input: &BootInput, era: Era, other: Option<&'static KnownBug>) {
    let (o, found) = instances(input, era, &row.signature.to_string());
    let f = &found[0];
    assert!(!(row.explains)(input, &o, f), "{}: {era}: {f:?}", row.name);
    assert_eq!(explain(input, &o, f), other, "{era}: {f:?}");
}

/// A variant of `base` registered once under `name`.
fn variant(
    cell: &'static OnceLock<Era>,
    name: &'static str,
    features: impl FnOnce() -> Features,
) -> Era {
    *cell.get_or_init(|| {
        Era::register(EraDef {
            name,
            tree: "not a kernel: a test's variant",
            commits: &[],
            features: features(),
        })
        .unwrap()
    })
}

/// v6.10 with efi_arch_mem_reserve allocating one descriptor short.
fn one_short() -> Era {
    static E: OnceLock<Era> = OnceLock::new();
    variant(&E, "test-v6.10-reserve-one-short", || Features {
        reserve_one_short: true,
        ..Era::V6_10.features()
    })
}

/// A Boot Services Data descriptor, a Conventional one after it, and a
/// one-page reservation inside the first: a well-formed map.
fn well_formed() -> BootInput {
    BootInput {
        map: vec![
            MemoryDesc::new(ty::BOOT_SERVICES_DATA, 0x10_0000, 0x10, 0xf),
            MemoryDesc::new(ty::CONVENTIONAL_MEMORY, 0x20_0000, 0x100, 0xf),
        ],
        reservations: vec![(0x10_4000, 0x1000)],
        ..BootInput::default()
    }
}

#[test]
fn an_injected_overrun_on_a_well_formed_map_is_a_crash_though_its_signature_is_known() {
    let era = one_short();
    let input = well_formed();
    let overrun = sig("overrun/efi_arch_mem_reserve");
    // v6.10 itself: the reservation splits its descriptor in three, 2 + 2
    // descriptors counted and allocated, 4 written: nothing to find.
    let (_, c) = check(Era::V6_10, &input).unwrap();
    assert_eq!(c.all, vec![]);
    // One short: room for 3 (144 bytes), 4 written, 48 bytes past.
    let (o, found) = instances(&input, era, "overrun/efi_arch_mem_reserve");
    for f in &found {
        assert!(matches!(
            f.evidence,
            Evidence::Overrun {
                size: 144,
                bytes_past: 48,
                ..
            }
        ));
        assert_eq!(explain(&input, &o, f), None);
    }
    // The map installed with three of the four descriptors loses the
    // Conventional one: a coverage change no cause explains either.
    let (_, c) = check(era, &input).unwrap();
    let new: Vec<String> = unexplained(&input, &o, &c)
        .map(|f| f.signature().to_string())
        .collect();
    assert_eq!(
        new,
        [
            "overrun/efi_arch_mem_reserve",
            "coverage-changed/efi_arch_mem_reserve"
        ]
    );
    // The fuzz check with the known causes on: a crash, said to be new.
    let cfg = Config {
        eras: vec![era],
        fixed_code: true,
        ..Config::default()
    };
    let line = boot_flow_finding(&input, era, &cfg).expect("a crash");
    assert!(
        line.starts_with(
            "efimap finding: overrun/efi_arch_mem_reserve era=test-v6.10-reserve-one-short "
        ),
        "{line}"
    );
    assert!(
        line.ends_with(" (no known cause explains it: a candidate new bug)"),
        "{line}"
    );
    // The known overrun, two overlapping descriptors, is no crash in v6.10,
    // and in the variant, one descriptor shorter still, it is one again.
    let overlap = corpus("overlapping-descriptors-reserve-overrun.scn").input;
    let v6_10 = Config {
        eras: vec![Era::V6_10],
        ..cfg.clone()
    };
    assert_eq!(boot_flow_finding(&overlap, Era::V6_10, &v6_10), None);
    let plain = Config {
        fixed_code: false,
        ..v6_10
    };
    assert!(boot_flow_finding(&overlap, Era::V6_10, &plain)
        .unwrap()
        .starts_with("efimap finding: overrun/efi_arch_mem_reserve era=v6.10 "));
    let (o, found) = instances(&overlap, era, "overrun/efi_arch_mem_reserve");
    assert!(found.iter().all(|f| explain(&overlap, &o, f).is_none()));
    assert!(boot_flow_finding(&overlap, era, &cfg).is_some());
    // The hunt: the row is not known, and its reproducer is one no cause
    // explains.
    let hits = hunt(
        &HuntConfig {
            eras: vec![era],
            budget: Duration::from_secs(2),
            ..HuntConfig::default()
        },
        |_| true,
    )
    .hits;
    let hit = hits.iter().find(|h| h.signature == overrun).expect("found");
    assert!(!hit.known && hit.cause.is_none());
    assert!(hit.unexplained > 0 && hit.unexplained <= hit.seen);
    let (o, found) = instances(&hit.minimized.input, era, "overrun/efi_arch_mem_reserve");
    assert!(found
        .iter()
        .any(|f| explain(&hit.minimized.input, &o, f).is_none()));
}

#[test]
fn the_fixed_eras_hunt_rows_are_known_by_cause() {
    let hits = hunt(
        &HuntConfig {
            eras: vec![Era::V6_10],
            budget: Duration::from_secs(2),
            ..HuntConfig::default()
        },
        |_| true,
    )
    .hits;
    assert!(!hits.is_empty());
    for h in &hits {
        assert_eq!(h.unexplained, 0, "{}", h.signature);
        let cause = h.cause.unwrap_or_else(|| panic!("{}", h.signature));
        assert!(h.known && cause.signature == h.signature);
    }
}

#[test]
fn zero_size_efi_fake_mem_ranges() {
    let zero = row("empty-entry/efi_fake_memmap", "zero-size range");
    let misaligned = row("empty-entry/efi_fake_memmap", "misaligned range");
    let inside = corpus("zero-size-range-inside-empty-entry.scn").input;
    let unwritten = corpus("misaligned-range-uninitialized-install.scn").input;
    for era in [Era::V5_6, Era::V6_10, Era::V6_1_Y] {
        explained(zero, &inside, era);
        not_by(misaligned, &inside, era, Some(zero));
        explained(misaligned, &unwritten, era);
        not_by(zero, &unwritten, era, Some(misaligned));
    }
    // The buggy efi_fake_memmap's unwritten slots: neither cause.
    let dave = corpus("dave-young-two-inside-ranges.scn").input;
    not_by(zero, &dave, Era::V5_5, None);
    not_by(misaligned, &dave, Era::V5_5, None);
    // The sort case: v5.6 applies the zero-size range at 0x22000 first.
    explained(
        zero,
        &corpus("sort-equal-starts-v5.6-vs-v6.10.scn").input,
        Era::V5_6,
    );
    explained(
        row("uninitialized-install/efi_fake_memmap", "misaligned range"),
        &unwritten,
        Era::V6_10,
    );
    let wrap = row("spurious-attribute/efi_fake_memmap", "zero-size range at 0");
    let at_zero = corpus("zero-size-range-at-zero-spurious.scn").input;
    for era in [Era::V5_6, Era::V6_10, Era::V6_1_Y] {
        explained(wrap, &at_zero, era);
    }
}

#[test]
fn zero_size_reservations() {
    let empty = row("empty-entry/efi_arch_mem_reserve", "zero-size reservation");
    let wrap = row(
        "spurious-attribute/efi_arch_mem_reserve",
        "zero-size reservation at 0",
    );
    let inside = corpus("zero-size-reservation-inside-empty-entry.scn").input;
    let at_zero = corpus("zero-size-reservation-at-zero-spurious.scn").input;
    for era in [Era::V5_6, Era::V6_10, Era::V6_11, Era::V6_1_Y, Era::V6_12_Y] {
        explained(empty, &inside, era);
        explained(wrap, &at_zero, era);
    }
    // v5.4's buggy efi_fake_memmap leaves [0, 0x1fff] in one descriptor
    // where the ranges cut it: a reservation of both pages, which the
    // oracle refuses as spanning two regions, is marked RUNTIME.
    let stale = Scenario::parse(
        "map\n  BootServicesData 0x0 0x2 0x0\n\
         cmdline efi_fake_mem=0x1000@0x0:0x0,0x1000@0x2000:0x0\nreserve 0x0 0x2000\n",
    )
    .unwrap()
    .input;
    not_by(wrap, &stale, Era::V5_4, None);
}

#[test]
fn uncounted_splits_of_another_descriptor() {
    let cut = row("overrun/efi_arch_mem_reserve", "another descriptor cut");
    for (file, eras) in [
        (
            "overlapping-descriptors-reserve-overrun.scn",
            vec![Era::V5_6, Era::V6_10, Era::V6_11, Era::V6_1_Y, Era::V6_12_Y],
        ),
        (
            "boot-services-data-overlapped-by-one-page-reserve-overrun.scn",
            vec![Era::V5_6, Era::V6_10, Era::V6_12_Y, Era::V7_0_RC],
        ),
    ] {
        for era in eras {
            explained(cut, &corpus(file).input, era);
        }
    }
    // The same overlap one descriptor short: more past the buffer than the
    // uncounted splits.
    let overlap = corpus("overlapping-descriptors-reserve-overrun.scn").input;
    not_by(cut, &overlap, one_short(), None);
}

#[test]
fn leaked_maps() {
    let unmapped = row("leak/efi_arch_mem_reserve", "buffer not mapped");
    let runtime_reserve = row("leak/efi_arch_mem_reserve", "replaced by the runtime map");
    let runtime_fake = row("leak/efi_fake_memmap", "replaced by the runtime map");
    let regions = row("leak/efi_map_regions", "runtime map replaced");
    let kept = corpus("virtual-mode-page-zero-and-reservation-kept.scn").input;
    let fake = corpus("virtual-mode-fake-mem-map-leak.scn").input;
    for era in [Era::V6_10, Era::V6_11, Era::V6_1_Y, Era::V6_12_Y] {
        explained(runtime_reserve, &kept, era);
        not_by(unmapped, &kept, era, Some(runtime_reserve));
        explained(regions, &kept, era);
        explained(regions, &fake, era);
    }
    explained(regions, &kept, Era::V5_6);
    for era in [Era::V6_10, Era::V6_1_Y] {
        explained(runtime_fake, &fake, era);
    }
    // v5.5 never frees a replaced map: its leak is no known cause's.
    let single = corpus("single-8g-sp-clean.scn").input;
    not_by(runtime_fake, &single, Era::V5_5, None);
    // Nor is one in a v6.10 that frees nothing on install.
    static E: OnceLock<Era> = OnceLock::new();
    let never = variant(&E, "test-v6.10-never-free", || Features {
        old_map_free: OldMapFree::Never,
        ..Era::V6_10.features()
    });
    not_by(runtime_fake, &single, never, None);
    // 64 descriptors of 4096 bytes fill the 64 pages early_memremap maps;
    // the reservation's two more do not fit, and the buffer leaks (a map
    // the oracle does not judge: the leak counts nowhere).
    let mut map = vec![MemoryDesc::new(
        ty::BOOT_SERVICES_DATA,
        0x10_0000,
        0x10,
        0xf,
    )];
    map.extend(
        (0..63).map(|i| MemoryDesc::new(ty::CONVENTIONAL_MEMORY, 0x20_0000 + i * 0x1000, 1, 0xf)),
    );
    let big = BootInput {
        desc_size: 4096,
        map,
        reservations: vec![(0x10_4000, 0x1000)],
        ..BootInput::default()
    };
    for era in [Era::V5_6, Era::V6_10, Era::V6_12_Y] {
        explained(unmapped, &big, era);
        not_by(runtime_reserve, &big, era, Some(unmapped));
        let (_, c) = check(era, &big).unwrap();
        assert!(c.domain.is_err() && c.counted_all().next().is_none());
    }
}

#[test]
fn the_kexec_remap_frees_the_map_it_maps() {
    let b4 = row("use-after-free/efi_memmap_init_late", "kexec remap (B4)");
    explained(
        b4,
        &corpus("reserve-then-kexec-use-after-free.scn").input,
        Era::V5_6,
    );
}

#[test]
fn kept_memory_e820_calls_system_ram() {
    let refused = row("kexec-clobber/efi_arch_mem_reserve", "refused reservation");
    let code = corpus("reservation-in-boot-services-code-kexec-clobber.scn").input;
    for era in [Era::V5_6, Era::V6_10, Era::V6_11, Era::V6_1_Y, Era::V6_12_Y] {
        explained(refused, &code, era);
    }
    // v5.4 tells e820 nothing: the ESRT it accepted is no refused one.
    let esrt = corpus("esrt-in-boot-services-data-kexec-initrd-clobber.scn").input;
    not_by(refused, &esrt, Era::V5_4, None);
    // Nor in a v6.10 without af164898's e820 update.
    static E: OnceLock<Era> = OnceLock::new();
    let no_e820 = variant(&E, "test-v6.10-no-e820-update", || Features {
        reserve_updates_e820: false,
        ..Era::V6_10.features()
    });
    not_by(refused, &esrt, no_e820, None);

    let wrapping = row("kexec-clobber/e820__memory_setup", "unsanitizable e820");
    let invalid = corpus("wrapping-descriptor-e820-unsanitized-kexec-clobber.scn").input;
    for era in [Era::V5_6, Era::V6_10, Era::V6_12_Y] {
        explained(wrapping, &invalid, era);
    }
    // A boot loader's table that calls the runtime region RAM, sanitized
    // as it is: another cause, the boot loader's e820.
    let ram = BootInput {
        map: vec![
            MemoryDesc::new(ty::CONVENTIONAL_MEMORY, 0x10_0000, 0x100, 0xf),
            MemoryDesc::new(
                ty::RUNTIME_SERVICES_DATA,
                0x20_0000,
                0x10,
                attr::RUNTIME | 0xf,
            ),
        ],
        e820: Some(vec![
            E820Entry::new(0x1000, 0x9_f000, E820Type::RAM),
            E820Entry::new(0x10_0000, 0x20_0000, E820Type::RAM),
        ]),
        ..BootInput::default()
    };
    let loader = row("kexec-clobber/e820__memory_setup", "boot loader's e820");
    not_by(wrapping, &ram, Era::V6_10, Some(loader));
}

/// Every row of the table is among those above.
#[test]
fn every_row_is_tested() {
    let tested = [
        ("empty-entry/efi_fake_memmap", "zero-size range"),
        ("empty-entry/efi_fake_memmap", "misaligned range"),
        ("uninitialized-install/efi_fake_memmap", "misaligned range"),
        ("spurious-attribute/efi_fake_memmap", "zero-size range at 0"),
        ("empty-entry/efi_arch_mem_reserve", "zero-size reservation"),
        (
            "spurious-attribute/efi_arch_mem_reserve",
            "zero-size reservation at 0",
        ),
        ("overrun/efi_arch_mem_reserve", "another descriptor cut"),
        ("leak/efi_arch_mem_reserve", "buffer not mapped"),
        ("leak/efi_arch_mem_reserve", "replaced by the runtime map"),
        ("leak/efi_fake_memmap", "replaced by the runtime map"),
        ("leak/efi_map_regions", "runtime map replaced"),
        ("use-after-free/efi_memmap_init_late", "kexec remap (B4)"),
        ("kexec-clobber/efi_arch_mem_reserve", "refused reservation"),
        ("kexec-clobber/e820__memory_setup", "unsanitizable e820"),
        (
            "stale-duplicate/efi_arch_mem_reserve",
            "wrapping reservation",
        ),
        (
            "overread/efi_free_boot_services",
            "ranges_to_free 15 bytes short",
        ),
        ("kexec-clobber/e820__memory_setup", "boot loader's e820"),
        (
            "kexec-clobber/efi_arch_mem_reserve",
            "reservation over setup_data",
        ),
    ];
    assert_eq!(KNOWN_BUGS.len(), tested.len());
    for (s, name) in tested {
        row(s, name);
    }
}

/// A reservation that wraps past 2^64 passes efi_arch_mem_reserve's span
/// check: the stale duplicate it makes is explained by that cause, and the
/// same descriptor with a reservation that stays inside it shows nothing.
#[test]
fn a_wrapping_reservation() {
    let wrapping = row(
        "stale-duplicate/efi_arch_mem_reserve",
        "wrapping reservation",
    );
    let sc = corpus("reservation-wrapping-past-2-64-splits-the-address-space.scn");
    for era in [Era::V5_6, Era::V6_10, Era::V6_12_Y] {
        explained(wrapping, &sc.input, era);
    }
    let inside = BootInput {
        reservations: vec![(0xffff_ffff_ffff_e000, 0x1000)],
        ..sc.input.clone()
    };
    let (_, c) = check(Era::V6_12_Y, &inside).unwrap();
    assert!(c.all.is_empty(), "{:?}", c.all);
}

/// v7.0-rc's short array: the two-region case is explained by it; v6.12.y,
/// with 217c0a5c177a, reads nothing past its array.
#[test]
fn the_short_ranges_to_free_array() {
    let short = row(
        "overread/efi_free_boot_services",
        "ranges_to_free 15 bytes short",
    );
    let sc = corpus("two-boot-services-regions-sentinel-overread.scn");
    explained(short, &sc.input, Era::V7_0_RC);
    let (_, c) = check(Era::V6_12_Y, &sc.input).unwrap();
    assert!(c.all.is_empty(), "{:?}", c.all);
}

/// The boot loader's e820 that calls runtime data RAM: explained; the same
/// map with the stub's e820 (none given) keeps it reserved.
#[test]
fn the_boot_loaders_e820() {
    let loader = row("kexec-clobber/e820__memory_setup", "boot loader's e820");
    let input = BootInput {
        map: vec![
            MemoryDesc::new(ty::RUNTIME_SERVICES_DATA, 0x10_0000, 2, attr::RUNTIME | 0xf),
            MemoryDesc::new(ty::CONVENTIONAL_MEMORY, 0x20_0000, 0x100, 0xf),
        ],
        e820: Some(vec![E820Entry::new(0x10_0000, 0x20_0000, E820Type::RAM)]),
        ..BootInput::default()
    };
    explained(loader, &input, Era::V6_12_Y);
    let stub = BootInput {
        e820: None,
        ..input
    };
    let (_, c) = check(Era::V6_12_Y, &stub).unwrap();
    assert!(c.all.is_empty(), "{:?}", c.all);
}

/// A BGRT-style reservation over a setup_data node: the node's piece stays
/// RESERVED_KERN, which /proc/iomem calls System RAM: explained by that
/// cause; without the node the whole image is reserved in e820.
#[test]
fn a_reservation_over_setup_data() {
    let over = row(
        "kexec-clobber/efi_arch_mem_reserve",
        "reservation over setup_data",
    );
    let refused = row("kexec-clobber/efi_arch_mem_reserve", "refused reservation");
    let input = BootInput {
        map: vec![MemoryDesc::new(
            ty::BOOT_SERVICES_DATA,
            0x10_0000,
            0x40,
            0xf,
        )],
        setup_data: vec![(0x10_2000, 0x100)],
        bgrt: Some((0x10_1000, 0x4000)),
        ..BootInput::default()
    };
    explained(over, &input, Era::V6_12_Y);
    let (o, found) = instances(&input, Era::V6_12_Y, "kexec-clobber/efi_arch_mem_reserve");
    assert!(!(refused.explains)(&input, &o, &found[0]));
    let alone = BootInput {
        setup_data: vec![],
        ..input
    };
    let (_, c) = check(Era::V6_12_Y, &alone).unwrap();
    assert!(c.all.is_empty(), "{:?}", c.all);
}

/// A reservation after one that wrapped past 2^64: the wrapped entries are
/// other descriptors the second one's insert cuts, uncounted, and the
/// overrun is explained as that; the lookup of v6.3 on skips the entry
/// that overflows, the older lookup does not, and both overrun alike.
#[test]
fn a_reservation_after_a_wrapping_one() {
    let cut = row("overrun/efi_arch_mem_reserve", "another descriptor cut");
    let input = corpus("reservation-after-a-wrapping-one-overruns.scn").input;
    for era in [Era::V6_1_Y, Era::V6_12_Y] {
        explained(cut, &input, era);
    }
}
