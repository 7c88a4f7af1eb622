//! The dmesg importer on three real boot logs and on logs written from the
//! kernel's format strings in every format the kernel has printed, and the round trip through
//! the printer.

use efimap_core::cases::dmesg::import;
use efimap_core::model::desc::{attr, ty, MemoryDesc};
use efimap_core::model::era::PrinterFormat;
use efimap_core::model::print::memmap_lines;

fn fixture(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/dmesg")
        .join(name);
    std::fs::read_to_string(path).unwrap()
}

const CACHE: u64 = 0xf;

#[test]
fn qemu_ovmf_v5_6() {
    let m = import(&fixture("03-qemu-ovmf-x86_64.txt")).unwrap();
    assert_eq!(m.descs.len(), 46);
    assert_eq!(m.form, "x86 bracketed");
    assert_eq!(
        m.descs[0],
        MemoryDesc::new(ty::BOOT_SERVICES_CODE, 0, 1, CACHE)
    );
    assert_eq!(
        m.descs[8],
        MemoryDesc::new(
            ty::CONVENTIONAL_MEMORY,
            0x33e_6000,
            (0xb9d8_e000 - 0x33e_6000) >> 12,
            CACHE
        )
    );
    assert_eq!(
        m.descs[45],
        MemoryDesc::new(
            ty::MEMORY_MAPPED_IO,
            0xffc0_0000,
            0x400,
            attr::RUNTIME | attr::UC
        )
    );
}

#[test]
fn clevo_v3_16_old_format() {
    let m = import(&fixture("05-clevo-p65xsg-a.txt")).unwrap();
    assert_eq!(m.descs.len(), 40);
    assert_eq!(m.form, "x86 type=/attr= (before v4.1)");
    // The end of this form is exclusive.
    assert_eq!(m.descs[0], MemoryDesc::new(7, 0, 0x58, 0xf));
    assert_eq!(m.descs[1], MemoryDesc::new(0, 0x58000, 1, 0xf));
}

#[test]
fn arm64_qemu_virt() {
    let m = import(&fixture("13-arm64-qemu-virt-uboot-efi.txt")).unwrap();
    assert_eq!(m.form, "arm64");
    assert_eq!(
        m.descs[0],
        MemoryDesc::new(ty::CONVENTIONAL_MEMORY, 0x4000_0000, 0x7dfd, attr::WB)
    );
    assert_eq!(
        m.descs[3],
        MemoryDesc::new(
            ty::RUNTIME_SERVICES_DATA,
            0xffff_e000,
            1,
            attr::RUNTIME | attr::WB
        )
    );
    assert_eq!(m.lines.0, 3);
}

/// Dave Young's v5.5 lines (from the seed thread), with timestamps, two ways of syslog
/// prefix, and a second map printed later (the first is taken).
const V5_5: [&str; 3] = [
    "efi: mem00: [Boot Data          |   |  |  |  |  |  |  |  |   |WB|WT|WC|UC] range=[0x00000000bea00000-0x00000000beafffff] (1MB)",
    "efi: mem01: [Conventional Memory|   |  |SP|  |  |  |  |  |   |WB|WT|WC|UC] range=[0x000000015e000000-0x0000000170bfffff] (300MB)",
    "efi: mem02: [Reserved           |   |  |  |  |  |  |  |  |   |  |  |  |  ] range=[0x0000000000000000-0xffffffffffffffff] (0MB)",
];

#[test]
fn v5_5_round_trips_through_the_printer() {
    let log = format!(
        "[    0.000000] efi: EFI v2.70 by EDK II\n[    0.000000] {}\nNov 26 07:00:00 host kernel: [    0.000000] {}\n<6>[    0.000000] {}\n[    0.000000] efi: mem00: [Boot Data          |   |  |  |  |  |  |  |  |   |WB|WT|WC|UC] range=[0x0000000000000000-0x0000000000000fff] (0MB)\n",
        V5_5[0], V5_5[1], V5_5[2]
    );
    let m = import(&log).unwrap();
    assert_eq!(m.descs.len(), 3);
    assert_eq!(
        m.descs[2],
        MemoryDesc::default(),
        "the empty entry reads back empty"
    );
    assert_eq!(memmap_lines(&m.descs, PrinterFormat::Long13Sp), V5_5);
}

#[test]
fn every_printed_format() {
    let cases = [
        // pre-v5.5: 12 columns, 19-wide names, exclusive end
        ("efi: mem00: [Conventional Memory|   |  |  |  |  |  |  |   |WB|WT|WC|UC] range=[0x0000000000000000-0x000000000009f000) (0MB)",
         MemoryDesc::new(7, 0, 0x9f, CACHE)),
        // 12-wide names with CC (6277e374)
        ("efi: mem07: [Runtime Data|RUN|  |CC|  |  |  |  |  |  |   |WB|WT|WC|UC] range=[0x0000000000100000-0x0000000000100fff] (0MB)",
         MemoryDesc::new(6, 0x10_0000, 1, attr::RUNTIME | attr::CPU_CRYPTO | CACHE)),
        // the newest, with HP (ba69e0750b03)
        ("efi: mem08: [Conventional|   |HP|  |  |  |  |  |  |  |  |   |WB|  |  |  ] range=[0x0000000100000000-0x00000001ffffffff] (4096MB)",
         MemoryDesc::new(7, 0x1_0000_0000, 0x10_0000, efimap_core::model::print::ATTR_HOT_PLUGGABLE | attr::WB)),
        // attr= and type= fallbacks
        ("efi: mem09: [type=15|attr=0x0000010000000008] range=[0x0000000000200000-0x0000000000200fff] (0MB)",
         MemoryDesc::new(15, 0x20_0000, 1, (1 << 40) | attr::WB)),
        // the oldest form, upper-case prefix
        ("EFI: mem00: type=3, attr=0x8000000000000000, range=[0x0000000000001000-0x0000000000003000) (0MB)",
         MemoryDesc::new(3, 0x1000, 2, attr::RUNTIME)),
    ];
    for (line, want) in cases {
        let log = format!(
            "[    1.234567] {}\n",
            line.replace("mem07", "mem00")
                .replace("mem08", "mem00")
                .replace("mem09", "mem00")
        );
        assert_eq!(import(&log).unwrap().descs, vec![want], "{line}");
    }
    // arm64, v3.x: nine columns and the trailing star
    let arm = "efi: Processing EFI memory map:\nefi:   0x000000000000-0x000000000fff [Runtime Data       |RUN|  |  |  |   |WB|WT|WC|UC]*\n";
    assert_eq!(
        import(arm).unwrap().descs,
        vec![MemoryDesc::new(6, 0, 1, attr::RUNTIME | CACHE)]
    );
}

#[test]
fn malformed_lines_and_missing_maps_are_errors() {
    let log = "[    0.000000] efi: mem00: [Kitchen Sink       |   |  |  |  |  |  |  |  |   |WB|WT|WC|UC] range=[0x0-0xfff] (0MB)\n";
    let e = import(log).unwrap_err();
    assert_eq!((e.line, e.col), (1, log.find("Kitchen").unwrap() + 1));
    assert_eq!(e.expected, "a memory type name or `type=N`");
    let log = "x\n[    0.000000] efi: mem00: [Boot Data          |   |  |  |  |  |  |  |  |   |WB|WT|WC|UC] range=[0x00000000bea00000-0x00000000beafffff] (1MB\n";
    let e = import(log).unwrap_err();
    assert_eq!(e.line, 2);
    assert_eq!(e.expected, "`MB)`");
    let e = import("hello\nworld\n").unwrap_err();
    assert_eq!(e.line, 0);
    assert!(e.expected.contains("efi=debug"));
}

#[test]
fn the_invalid_entries_clean_memmap_lists_are_skipped() {
    let log = "[    0.000000] efi: [Firmware Bug]: Invalid EFI memory map entries:\n\
[    0.000000] efi: mem00: [Reserved           |   |  |  |  |  |  |  |  |   |  |  |  |  ] range=[0x0000000000000000-0xffffffffffffffff] (invalid)\n\
[    0.000000] efi: Removing 1 invalid memory map entries.\n\
[    0.000000] efi: mem00: [Conventional Memory|   |  |  |  |  |  |  |  |   |WB|WT|WC|UC] range=[0x0000000000000000-0x000000000009ffff] (0MB)\n";
    assert_eq!(
        import(log).unwrap().descs,
        vec![MemoryDesc::new(7, 0, 0xa0, CACHE)]
    );
}

/// The real logs import without a warning.
#[test]
fn real_logs_give_no_warning() {
    for f in [
        "03-qemu-ovmf-x86_64.txt",
        "05-clevo-p65xsg-a.txt",
        "13-arm64-qemu-virt-uboot-efi.txt",
    ] {
        let m = import(&fixture(f)).unwrap();
        assert_eq!(m.warnings, vec![], "{f}");
        assert_eq!((m.map, m.maps), (1, 1), "{f}");
    }
}

/// Nothing is dropped silently: a missing line, a repeated one, a map
/// starting above mem00, a wrong `(NMB)` and a second map are each read
/// whole and warned about with their line.
#[test]
fn gaps_repeats_and_second_maps_are_read_and_warned_about() {
    use efimap_core::cases::dmesg::import_map;
    let log = fixture("03-qemu-ovmf-x86_64.txt");
    let lines: Vec<&str> = log.lines().collect();
    let at = |k: &str| lines.iter().position(|l| l.contains(k)).unwrap();
    let (l07, l06) = (at("efi: mem07:"), at("efi: mem06:"));

    let gap: String = lines
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != l07)
        .map(|(_, l)| format!("{l}\n"))
        .collect();
    let m = import(&gap).unwrap();
    assert_eq!(m.descs.len(), 45);
    assert_eq!(
        m.warnings,
        vec![(
            l07 + 1,
            "mem07 is missing before this line: the map has a gap".to_string()
        )]
    );

    let mut dup: Vec<&str> = lines.clone();
    dup.insert(l06 + 1, lines[l06]);
    let m = import(&dup.join("\n")).unwrap();
    assert_eq!(m.descs.len(), 47);
    assert_eq!(
        m.warnings,
        vec![(
            l06 + 2,
            format!("mem06 again (first on line {}): both are imported", l06 + 1)
        )]
    );

    // A fragment from mem40 on.
    let l40 = at("efi: mem40:");
    let frag: String = lines[l40..].iter().map(|l| format!("{l}\n")).collect();
    let m = import(&frag).unwrap();
    assert_eq!(m.descs.len(), 6);
    assert_eq!(
        m.warnings,
        vec![(
            1,
            "the map starts at mem40: the lines before it are not in the log".to_string()
        )]
    );

    // The same map printed twice: two maps, the second chosen by --map.
    let twice = format!("{log}{log}");
    let first = import(&twice).unwrap();
    assert_eq!((first.map, first.maps, first.descs.len()), (1, 2, 46));
    assert!(first.warnings[0]
        .1
        .starts_with("the log prints 2 maps; this is map 1"));
    let second = import_map(&twice, 2).unwrap();
    assert_eq!(second.descs, first.descs);
    assert_eq!(second.lines.0, first.lines.0 + lines.len());
    assert!(import_map(&twice, 3)
        .unwrap_err()
        .expected
        .starts_with("map 3 of the log, which prints 2"));

    // Two forms mixed: both lines read, the second warned about.
    let mixed = "efi: mem00: [Conventional|   |  |  |  |  |  |  |  |  |   |WB|WT|WC|UC] range=[0x0000000000100000-0x00000000002fffff] (2MB)\nefi: mem01: type=7, attr=0xf, range=[0x0000000000300000-0x0000000000400000) (1MB)\n";
    let m = import(mixed).unwrap();
    assert_eq!(m.descs.len(), 2);
    assert_eq!(
        m.warnings,
        vec![(2, "this line is in the x86 type=/attr= (before v4.1) form, the map's first (line 1) in the x86 bracketed".to_string())]
    );

    // A wrong size column.
    let bad = "efi: mem00: [Conventional|   |  |  |  |  |  |  |  |  |   |WB|WT|WC|UC] range=[0x0000000000100000-0x00000000002fffff] (5MB)\n";
    let m = import(bad).unwrap();
    assert_eq!(
        m.warnings,
        vec![(1, "the line says 5MB, its range holds 2MB".to_string())]
    );
}
