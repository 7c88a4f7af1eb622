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
    assert_eq!(b.lines[..want.len()], want[..]);
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
    assert_eq!(b.lines[1..=21], want[..]);
}
