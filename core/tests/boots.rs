//! Real boots replayed without QEMU: the serial logs in `corpus/boots/`
//! (Debian's 6.1 and 6.12 kernels under OVMF, QEMU's q35 and pc machines,
//! 512 MiB, 2 GiB and 6 GiB, booted with `efi=debug`, and once each
//! without it) held against the model's prediction of them.

use efimap_core::cases::boot_log::{self, BootLog, Section};
use efimap_core::cases::dmesg::import_map;
use efimap_core::model::boot::run;
use efimap_core::Era;
use std::path::Path;

fn log(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../corpus/boots")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

const SIZES: [u32; 3] = [512, 2048, 6144];

/// On q35 every line of both maps is predicted: the firmware map printed
/// back, and the runtime map with its RUNTIME tags (page zero, inside the
/// 64 KiB reserved before the EFI code runs; the Boot Data region holding
/// the memory attributes table, which `efi_memattr_init` reserved; on q35
/// the BGRT image lies in that region too, so its split merges back).
#[test]
fn every_q35_boot_is_predicted_exactly() {
    for (series, era) in [("6.1", Era::V6_1_Y), ("6.12", Era::V6_12_Y)] {
        for mem in SIZES {
            let name = format!("{series}-q35-{mem}.log");
            let text = log(&name);
            let (l, c) = boot_log::predict(&text).unwrap();
            assert_eq!(l.era(), era, "{name}");
            assert_eq!(c.divergences, vec![], "{name}");
            let firmware = import_map(&text, 1).unwrap().descs.len();
            let runtime = import_map(&text, 2).unwrap().descs.len();
            assert_eq!(
                c.compared,
                vec![
                    (Section::Firmware, firmware),
                    (Section::Runtime, runtime),
                    (Section::Freeing, 0)
                ],
                "{name}"
            );
            assert!(runtime > 100, "{name}: {runtime}");
        }
    }
}

/// The second boot, without `efi=debug`, frees the boot-services regions
/// and prints their size; the model, on the first boot's map, prints the
/// same figure.
#[test]
fn the_boot_services_freed_are_predicted() {
    for (series, figure) in [("6.1", "42772K"), ("6.12", "46528K")] {
        let first = BootLog::read(&log(&format!("{series}-q35-2048.log"))).unwrap();
        let second = first
            .second(&log(&format!("{series}-q35-2048-nodebug.log")))
            .unwrap();
        let line = second.freed.clone().expect("the freeing line");
        assert_eq!(
            line.text,
            format!("efi: Freeing EFI boot services memory: {figure}")
        );
        let sc = second.scenario();
        let o = run(first.era(), &sc.input).unwrap();
        let c = boot_log::compare(&second, &sc.input, &o);
        assert_eq!(
            c.compared,
            vec![
                (Section::Firmware, 0),
                (Section::Runtime, 0),
                (Section::Freeing, 1)
            ]
        );
        assert_eq!(c.divergences, vec![], "{series}");
    }
}

/// On pc the BGRT image lies in another Boot Data region than the memory
/// attributes table, and its `efi_mem_reserve`, which the log does not
/// show, splits that region: the only divergence is the image's 9 pages,
/// tagged RUNTIME, printed before the rest of the region they were cut
/// from.
#[test]
fn on_pc_the_only_divergence_is_the_unread_bgrt_reservation() {
    for series in ["6.1", "6.12"] {
        for mem in SIZES {
            let name = format!("{series}-pc-{mem}.log");
            let (_, c) = boot_log::predict(&log(&name)).unwrap();
            let [changed, added] = &c.divergences[..] else {
                panic!("{name}: {:?}", c.divergences);
            };
            assert_eq!(
                (changed.section, added.section),
                (Section::Runtime, Section::Runtime)
            );
            let region = |t: &str| -> (String, u64, u64) {
                let kind = t[t.find('[').unwrap() + 1..t.find('|').unwrap()]
                    .trim()
                    .to_string();
                let r = &t[t.find("range=[0x").unwrap() + 9..];
                let start = u64::from_str_radix(&r[..16], 16).unwrap();
                let end = u64::from_str_radix(&r[19..35], 16).unwrap();
                (kind, start, end + 1)
            };
            let printed = region(&changed.printed.as_ref().unwrap().text);
            let predicted = region(changed.predicted.as_ref().unwrap());
            let image = added.printed.as_ref().unwrap();
            assert!(added.predicted.is_none(), "{name}");
            assert!(
                image.text.contains("[Boot Data   |RUN|"),
                "{name}: {}",
                image.text
            );
            let image = region(&image.text);
            assert_eq!(printed.0, "Boot Data");
            assert_eq!(
                predicted,
                ("Boot Data".into(), image.1, printed.2),
                "{name}"
            );
            assert_eq!(image.2, printed.1, "{name}");
            assert_eq!(image.2 - image.1, 9 * 4096, "{name}");
        }
    }
}

/// A model without `efi_memattr_init`'s reservation (the scenario without
/// its memblock region) is caught: the Boot Data region holding the
/// table, [0x7d970000-0x7d9bafff] in this boot, is printed RUNTIME and
/// predicted without it, and that is the only divergence.
#[test]
fn a_model_without_the_memattr_reservation_is_caught() {
    let text = log("6.12-q35-2048.log");
    let l = BootLog::read(&text).unwrap();
    assert_eq!(l.memattr, Some((0x7d97_9518, 22)));
    let mut sc = l.scenario();
    assert_eq!(sc.input.memblock, vec![(0x7d97_9518, 16 + 22 * 48)]);
    sc.input.memblock.clear();
    let o = run(l.era(), &sc.input).unwrap();
    let c = boot_log::compare(&l, &sc.input, &o);
    let [d] = &c.divergences[..] else {
        panic!("{:?}", c.divergences);
    };
    let range = "range=[0x000000007d970000-0x000000007d9bafff] (0MB)";
    let printed = d.printed.as_ref().unwrap();
    assert_eq!(
        printed.text,
        format!(
            "efi: mem104: [Boot Data   |RUN|  |  |  |  |  |  |  |  |  |   |WB|WT|WC|UC] {range}"
        )
    );
    assert_eq!(
        d.predicted.as_deref(),
        Some(format!("efi: mem104: [Boot Data   |   |  |  |  |  |  |  |  |  |  |   |WB|WT|WC|UC] {range}").as_str())
    );
}

/// The predicted boot written as a scenario reads back the same, its
/// memblock region included.
#[test]
fn the_scenario_of_a_boot_reads_back() {
    let l = BootLog::read(&log("6.1-q35-512.log")).unwrap();
    let sc = l.scenario();
    let text = sc.to_text();
    assert!(
        text.contains(&format!(
            "memblock {:#x} {:#x}\n",
            l.memattr.unwrap().0,
            16 + l.memattr.unwrap().1 * 48
        )),
        "{text}"
    );
    assert_eq!(
        efimap_core::cases::scenario::Scenario::parse(&text).unwrap(),
        sc
    );
}
