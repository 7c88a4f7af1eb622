//! The e820 table against two real boot logs: the importer reads the
//! `BIOS-e820:` and `reserve setup_data:` tables, the model prints them
//! back byte for byte, and on the QEMU/OVMF boot (5.6) the EFI stub's
//! `setup_e820` of the imported EFI map is the table the real stub gave.

use efimap_core::cases::dmesg::{import, import_e820};
use efimap_core::model::e820::{setup_e820, E820Entry, E820Type};
use efimap_core::model::kexec::e820_boot;
use efimap_core::Era;

fn fixture(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/dmesg")
        .join(name);
    std::fs::read_to_string(path).unwrap()
}

/// The log's lines from `first` that contain one of `marks`, without the
/// timestamp, as long as they follow each other.
fn printed(log: &str, marks: &[&str]) -> Vec<String> {
    log.lines()
        .skip_while(|l| !marks.iter().any(|m| l.contains(m)))
        .take_while(|l| marks.iter().any(|m| l.contains(m)))
        .map(|l| l.split_once("] ").map_or(l, |(_, r)| r).to_string())
        .collect()
}

#[test]
fn qemu_ovmf_tables_print_back_byte_for_byte() {
    let log = fixture("03-qemu-ovmf-x86_64.txt");
    let e = import_e820(&log).unwrap();
    assert_eq!(e.bios.len(), 18);
    assert_eq!(
        e.bios[5],
        E820Entry::new(0x90_0000, 0xbe93_4000 - 0x90_0000, E820Type::RAM)
    );
    assert_eq!(e.bios[12].ty, E820Type::ACPI);
    // The two RESERVED_KERN pieces of the extended table: the nodes.
    assert_eq!(
        e.setup_data,
        vec![
            (0xbe58_7010, 0xbe5c_1a50 - 0xbe58_7010),
            (0xbe5e_8010, 0xbe5f_1850 - 0xbe5e_8010)
        ]
    );
    let map = import(&log).unwrap().descs;
    let b = e820_boot(Era::V5_6, &map, Some(&e.bios), &e.setup_data, "", &[]);
    let want = printed(
        &log,
        &[
            "BIOS-provided physical RAM map:",
            "BIOS-e820: ",
            "extended physical RAM map:",
            "reserve setup_data: ",
        ],
    );
    assert_eq!(want.len(), 1 + 18 + 1 + 22);
    // The log has no KERN_DEBUG lines: the model's `e820: update` line of
    // each node (two in 5.6, which marks the kexec table too) is not in it.
    let (debug, info): (Vec<&String>, Vec<&String>) =
        b.early.iter().partition(|l| l.starts_with("e820: "));
    assert_eq!(info, want.iter().collect::<Vec<_>>());
    assert_eq!(
        debug,
        [
            "e820: update [mem 0xbe587010-0xbe5c1a4f] usable ==> usable",
            "e820: update [mem 0xbe587010-0xbe5c1a4f] usable ==> usable",
            "e820: update [mem 0xbe5e8010-0xbe5f184f] usable ==> usable",
            "e820: update [mem 0xbe5e8010-0xbe5f184f] usable ==> usable",
        ]
    );
}

#[test]
fn the_stub_gives_the_table_the_real_stub_gave() {
    let log = fixture("03-qemu-ovmf-x86_64.txt");
    let map = import(&log).unwrap().descs;
    let bios = import_e820(&log).unwrap().bios;
    let mut stub = setup_e820(&map, true);
    stub.update_table(Era::V5_6.features().e820_nomerge);
    assert_eq!(stub.entries, bios);
}

/// The 3.16 log: its `type 20` entry (a type e820.c has no name for) and
/// the rest print back as they were.
#[test]
fn clevo_table_prints_back_with_its_unnamed_type() {
    let log = fixture("05-clevo-p65xsg-a.txt");
    let e = import_e820(&log).unwrap();
    assert_eq!(e.bios.len(), 21);
    assert_eq!(
        e.bios[11],
        E820Entry::new(0x92fa_f000, 0x5_0000, E820Type(20))
    );
    assert!(e.setup_data.is_empty());
    let map = import(&log).unwrap().descs;
    let b = e820_boot(Era::V5_4, &map, Some(&e.bios), &[], "", &[]);
    let want = printed(&log, &["BIOS-e820: "]);
    assert_eq!(want.len(), 21);
    assert_eq!(b.lines().cloned().collect::<Vec<_>>()[1..=21], want[..]);
}

fn corpus(name: &str) -> efimap_core::cases::scenario::Scenario {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../corpus")
        .join(name);
    efimap_core::cases::corpus::load(&path).unwrap()
}

fn placed(era: Era, sc: &efimap_core::cases::scenario::Scenario) -> Vec<(&'static str, u64, u64)> {
    use efimap_core::model::kexec::kexec_file_load;
    let o = efimap_core::model::boot::run(era, &sc.input).unwrap();
    let i = &sc.input;
    let b = e820_boot(
        era,
        &i.map,
        i.e820.as_deref(),
        &i.setup_data,
        &i.cmdline,
        &o.e820,
    );
    kexec_file_load(era.features().kexec_walk, &b.table, &i.kexec_file.unwrap())
        .unwrap()
        .iter()
        .map(|s| (s.name, s.start, s.end))
        .collect()
}

/// Michael Weiser's case on the QEMU/OVMF machine. v5.4: the walk is
/// ascending, the first System RAM range that holds 16M is
/// [0x900000-0xbe58700f] (up to the first setup_data node); the kernel goes
/// to 0xbe58700f - 16M rounded down to 2M, 0xbd400000, and the initramfs
/// below it, ending at 0xbd400000: [0xb9400000, 0xbd400000), over the ESRT
/// page 0xbbf79000. v5.5 marks that page reserved, which ends the range at
/// 0xbbf78fff: the kernel at 0xbae00000, the initramfs at 0xb6e00000.
#[test]
fn the_esrt_is_under_the_initramfs_in_v5_4_only() {
    let sc = corpus("esrt-in-boot-services-data-kexec-initrd-clobber.scn");
    assert_eq!(
        placed(Era::V5_4, &sc)[2..],
        [
            ("kernel", 0xbd40_0000, 0xbe40_0000),
            ("initrd", 0xb940_0000, 0xbd40_0000)
        ]
    );
    assert_eq!(
        placed(Era::V5_5, &sc)[2..],
        [
            ("kernel", 0xbae0_0000, 0xbbe0_0000),
            ("initrd", 0xb6e0_0000, 0xbae0_0000)
        ]
    );
    let (_, c) = efimap_core::judge::findings::check(Era::V5_4, &sc.input).unwrap();
    let f = &c.findings[0];
    assert_eq!(
        f.signature().to_string(),
        "kexec-clobber/efi_arch_mem_reserve"
    );
    assert_eq!(
        f.evidence,
        efimap_core::judge::findings::Evidence::KexecClobber {
            start: 0xbbf7_9018,
            end: 0xbbf7_9050,
            usable: vec![(0xbbf7_9018, 0xbbf7_9050)],
            landed: vec![efimap_core::model::kexec::Segment {
                name: "initrd",
                start: 0xb940_0000,
                end: 0xbd40_0000
            }],
        }
    );
}

/// Overlapping firmware descriptors: the sanitized table, and the
/// placements around the ACPI NVS hole (worked out in the file's header).
#[test]
fn overlapping_firmware_entries_are_sanitized_by_type() {
    let sc = corpus("overlapping-firmware-entries-e820-sanitized.scn");
    let i = &sc.input;
    let b = e820_boot(Era::V6_12_Y, &i.map, None, &[], "", &[]);
    assert_eq!(
        b.bios.entries,
        vec![
            E820Entry::new(0x10_0000, 0x3f0_0000, E820Type::RAM),
            E820Entry::new(0x400_0000, 0x10_0000, E820Type::NVS),
            E820Entry::new(0x410_0000, 0xaf0_0000, E820Type::RAM),
            E820Entry::new(0xf00_0000, 0x200_0000, E820Type::RESERVED),
        ]
    );
    assert_eq!(
        placed(Era::V5_4, &sc)[2..],
        [
            ("kernel", 0x2e0_0000, 0x3e0_0000),
            ("initrd", 0x0aff_f000, 0x0eff_f000)
        ]
    );
    assert_eq!(
        placed(Era::V6_12_Y, &sc)[2..],
        [
            ("kernel", 0xde0_0000, 0xee0_0000),
            ("initrd", 0x9e0_0000, 0xde0_0000)
        ]
    );
}

/// `efi_remove_e820_mmio` (6.12; not in 6.1): an MMIO descriptor of 256
/// KiB or more is removed from e820 as reserved, a smaller one only
/// named, each with its index in the map; the BIOS-e820 table the stub
/// made keeps both, the table after setup_arch loses the large one.
#[test]
fn efi_init_removes_large_mmio_from_e820() {
    use efimap_core::model::boot::{run, BootInput};
    use efimap_core::model::desc::{attr, ty, MemoryDesc};
    let input = BootInput {
        map: vec![
            MemoryDesc::new(ty::CONVENTIONAL_MEMORY, 0x10_0000, 0x100, attr::WB),
            MemoryDesc::new(
                ty::MEMORY_MAPPED_IO,
                0xffc0_0000,
                0x400,
                attr::UC | attr::RUNTIME,
            ),
            MemoryDesc::new(
                ty::MEMORY_MAPPED_IO,
                0xfed0_0000,
                0x3f,
                attr::UC | attr::RUNTIME,
            ),
        ],
        ..BootInput::default()
    };
    let o = run(Era::V6_12_Y, &input).unwrap();
    let lines: Vec<&str> = o
        .events
        .iter()
        .filter(|e| e.func == "efi_remove_e820_mmio")
        .map(|e| e.text.as_str())
        .collect();
    assert_eq!(
        lines,
        [
            "efi: Remove mem01: MMIO range=[0xffc00000-0xffffffff] (4MB) from e820 map",
            "e820: remove [mem 0xffc00000-0xffffffff] reserved",
            "efi: Not removing mem02: MMIO range=[0xfed00000-0xfed3efff] (252KB) from e820 map",
        ]
    );
    let e = o.e820_boot(&input);
    assert_eq!(e.bios.entries.len(), 3);
    assert_eq!(
        e.table.entries.last(),
        Some(&E820Entry::new(0xfed0_0000, 0x3f000, E820Type::RESERVED))
    );
    let o = run(Era::V6_1_Y, &input).unwrap();
    assert!(o.events.iter().all(|e| e.func != "efi_remove_e820_mmio"));
    assert_eq!(o.e820_boot(&input).table.entries.len(), 3);
}
