//! Real boots replayed without QEMU: the serial logs in `corpus/boots/`
//! (Debian's 6.1.192 and 6.12.118 under OVMF, QEMU's q35 and pc machines,
//! 512 MiB, 2 GiB and 6 GiB, booted by `efimap boot --kernel` with
//! `efi=debug ignore_loglevel nokaslr` and the project's init, and once
//! each without `efi=debug`) held against the model's prediction of them.

use efimap_core::cases::boot_log::{self, is_e820_line, BootLog, Comparison, Section};
use efimap_core::model::boot::run;
use efimap_core::Era;
use std::path::Path;

fn log(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../corpus/boots")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

const SERIES: [(&str, Era); 2] = [("6.1", Era::V6_1_Y), ("6.12", Era::V6_12_Y)];
const MACHINES: [&str; 2] = ["q35", "pc"];
const SIZES: [u32; 3] = [512, 2048, 6144];

fn compare(l: &BootLog) -> Comparison {
    let sc = l.scenario();
    let o = run(l.era(), &sc.input).unwrap();
    boot_log::compare(l, &sc.input, &o)
}

/// The top-level `/proc/iomem` lines of e820's busy types (System RAM,
/// ACPI), and any e820 name below 1 MiB, as the init printed them.
fn iomem_lines(text: &str) -> usize {
    text.lines()
        .filter_map(|l| l.split_once("efimap-init: /proc/iomem: ").map(|(_, v)| v))
        .filter(|v| !v.starts_with(' '))
        .filter(|v| {
            let (range, name) = v.split_once(" : ").unwrap();
            let low = u64::from_str_radix(range.split('-').next().unwrap(), 16).unwrap() < 1 << 20;
            ["System RAM", "ACPI Tables", "ACPI Non-volatile Storage"].contains(&name)
                || (low && name == "Reserved")
        })
        .count()
}

/// How many lines of each section the log printed: the maps' lines, the
/// e820 lines, the init's runtime-map and memmap entries (a directory
/// each), the e820 part of /proc/iomem. The comparison must have held
/// every one of them.
fn printed_counts(text: &str) -> Vec<(Section, usize)> {
    let message = |l: &str| l.split_once("] ").map_or(l, |(_, m)| m).to_string();
    let map_line = |l: &&str| {
        l.split_once("efi: mem")
            .is_some_and(|(_, r)| r.starts_with(|c: char| c.is_ascii_digit()))
    };
    let maps = text.lines().filter(map_line).count();
    let runtime_heading = text
        .lines()
        .position(|l| l.contains("EFI runtime memory map:"))
        .unwrap();
    let runtime = text.lines().skip(runtime_heading).filter(map_line).count();
    let entries = |dir: &str, field: &str| {
        text.lines()
            .filter(|l| {
                l.contains(&format!("efimap-init: {dir}")) && l.contains(&format!("/{field}: "))
            })
            .count()
    };
    vec![
        (Section::Firmware, maps - runtime),
        (Section::Runtime, runtime),
        (Section::Freeing, 0),
        (
            Section::E820,
            text.lines().filter(|l| is_e820_line(&message(l))).count(),
        ),
        (
            Section::RuntimeSysfs,
            entries("/sys/firmware/efi/runtime-map/", "type"),
        ),
        (
            Section::MemmapSysfs,
            entries("/sys/firmware/memmap/", "type"),
        ),
        (Section::Iomem, iomem_lines(text)),
    ]
}

/// Every boot, both kernels, both machines, three sizes: every line of
/// every section is predicted, and every printed line was compared.
#[test]
fn every_boot_is_predicted_exactly() {
    for (series, era) in SERIES {
        for machine in MACHINES {
            for mem in SIZES {
                let name = format!("{series}-{machine}-{mem}.log");
                let text = log(&name);
                let l = BootLog::read(&text).unwrap();
                assert_eq!(l.era(), era, "{name}");
                let c = compare(&l);
                assert_eq!(c.divergences, vec![], "{name}");
                assert_eq!(c.compared, printed_counts(&text), "{name}");
                assert!(c
                    .compared
                    .iter()
                    .all(|&(s, n)| n > 0 || s == Section::Freeing));
            }
        }
    }
}

/// The RUNTIME tags the kernel set on boot-services regions, each with
/// the function that set it. On pc, 6.12, 2 GiB: page zero and the Boot
/// Data region holding the memory attributes table (MEMATTR=0x7d999018,
/// 22 entries: [0x7d999018-0x7d999447] in memblock), kept whole by
/// efi_reserve_boot_services; the BGRT image's pages, split out by
/// efi_arch_mem_reserve (the init's table gives 0x7d8b4018, its image
/// 33694 bytes: pages 0x7d8b4000..0x7d8bcfff).
#[test]
fn each_runtime_tag_is_predicted_with_the_function_that_set_it() {
    let l = BootLog::read(&log("6.12-pc-2048.log")).unwrap();
    assert_eq!(l.memattr, Some((0x7d99_9018, 22)));
    assert_eq!(l.bgrt(), Some((0x7d8b_4018, 33694)));
    let sc = l.scenario();
    let o = run(l.era(), &sc.input).unwrap();
    let tags: Vec<(u64, u64, &str)> = boot_log::runtime_tags(&sc.input, &o)
        .iter()
        .map(|t| (t.start, t.last, t.set_by))
        .collect();
    assert_eq!(
        tags,
        [
            (0x7d99_9000, 0x7d9d_cfff, "efi_reserve_boot_services"),
            (0x7d8b_4000, 0x7d8b_cfff, "efi_arch_mem_reserve"),
            (0, 0xfff, "efi_reserve_boot_services"),
        ]
    );
    // Every boot: page zero and the attributes table's region are kept by
    // efi_reserve_boot_services; on pc the BGRT image's pages are split
    // out by efi_arch_mem_reserve, on q35 they lie in the table's region.
    for (series, _) in SERIES {
        for machine in MACHINES {
            for mem in SIZES {
                let name = format!("{series}-{machine}-{mem}.log");
                let l = BootLog::read(&log(&name)).unwrap();
                let sc = l.scenario();
                let o = run(l.era(), &sc.input).unwrap();
                let tags = boot_log::runtime_tags(&sc.input, &o);
                let by: Vec<&str> = tags.iter().map(|t| t.set_by).collect();
                let (addr, size) = l.bgrt().unwrap();
                let pages = (addr & !0xfff, ((addr + size + 0xfff) & !0xfff) - 1);
                // Whether the image shares the firmware's descriptor with
                // the attributes table.
                let (m, _) = l.memattr.unwrap();
                let holds = |a: u64| {
                    l.firmware
                        .iter()
                        .position(|d| d.phys_addr <= a && a < d.phys_addr + (d.num_pages << 12))
                };
                if holds(addr) == holds(m) {
                    assert_eq!(by, ["efi_reserve_boot_services"; 2], "{name}");
                    assert!(
                        tags.iter().any(|t| t.start <= pages.0
                            && pages.1 <= t.last
                            && t.start <= m
                            && m <= t.last),
                        "{name}"
                    );
                } else {
                    assert_eq!(by.len(), 3, "{name}");
                    let t = tags
                        .iter()
                        .find(|t| t.set_by == "efi_arch_mem_reserve")
                        .unwrap();
                    assert_eq!((t.start, t.last), pages, "{name}");
                }
                assert!(
                    tags.iter().any(|t| (t.start, t.last) == (0, 0xfff)),
                    "{name}"
                );
            }
        }
    }
}

/// The second boot, without `efi=debug`, frees the boot-services regions
/// and prints their size; the model, on the first boot's map, prints the
/// same figure, and every other section of that log (e820, the init's
/// sysfs after the free) is predicted too.
#[test]
fn the_boot_services_freed_are_predicted() {
    for (series, figure) in [("6.1", "43528K"), ("6.12", "47284K")] {
        let first = BootLog::read(&log(&format!("{series}-q35-2048.log"))).unwrap();
        let text = log(&format!("{series}-q35-2048-nodebug.log"));
        let second = first.second(&text).unwrap();
        assert_eq!(
            second.freed.as_ref().map(|p| p.text.as_str()),
            Some(format!("efi: Freeing EFI boot services memory: {figure}").as_str())
        );
        let c = compare(&second);
        assert_eq!(c.divergences, vec![], "{series}");
        let mut want = printed_counts_nodebug(&text);
        want.insert(2, (Section::Freeing, 1));
        assert_eq!(c.compared, want, "{series}");
    }
}

/// A boot without efi=debug prints no map: its sections are the init's
/// and the e820 lines.
fn printed_counts_nodebug(text: &str) -> Vec<(Section, usize)> {
    let message = |l: &str| l.split_once("] ").map_or(l, |(_, m)| m).to_string();
    let entries = |dir: &str| {
        text.lines()
            .filter(|l| l.contains(&format!("efimap-init: {dir}")) && l.contains("/type: "))
            .count()
    };
    vec![
        (Section::Firmware, 0),
        (Section::Runtime, 0),
        (
            Section::E820,
            text.lines().filter(|l| is_e820_line(&message(l))).count(),
        ),
        (
            Section::RuntimeSysfs,
            entries("/sys/firmware/efi/runtime-map/"),
        ),
        (Section::MemmapSysfs, entries("/sys/firmware/memmap/")),
        (Section::Iomem, iomem_lines(text)),
    ]
}

/// A model without `efi_memattr_init`'s reservation (the scenario without
/// its memblock region) is caught. The Boot Data region holding the table,
/// [0x7d8b5000-0x7d8fefff], is printed RUNTIME whole; the model, not
/// finding it reserved, frees it but for the BGRT image it also holds
/// (0x7d8b5018, 33694 bytes: 9 pages), which efi_arch_mem_reserve splits
/// out RUNTIME. One printed line against two predicted, in the runtime
/// map and in runtime-map sysfs, and nothing else.
#[test]
fn a_model_without_the_memattr_reservation_is_caught() {
    let l = BootLog::read(&log("6.12-q35-2048.log")).unwrap();
    assert_eq!(l.memattr, Some((0x7d8b_e518, 22)));
    assert_eq!(l.bgrt(), Some((0x7d8b_5018, 33694)));
    let mut sc = l.scenario();
    assert_eq!(sc.input.memblock, vec![(0x7d8b_e518, 16 + 22 * 48)]);
    sc.input.memblock.clear();
    let o = run(l.era(), &sc.input).unwrap();
    let c = boot_log::compare(&l, &sc.input, &o);
    let lines: Vec<(Section, Option<&str>, Option<&str>)> = c
        .divergences
        .iter()
        .map(|d| {
            (
                d.section,
                d.printed.as_ref().map(|p| p.text.as_str()),
                d.predicted.as_deref(),
            )
        })
        .collect();
    let data = |i: u32, run: &str, range: &str| {
        format!("efi: mem{i}: [Boot Data   |{run}|  |  |  |  |  |  |  |  |  |   |WB|WT|WC|UC] range=[{range}] (0MB)")
    };
    let whole = "0x000000007d8b5000-0x000000007d8fefff";
    let rest = "0x000000007d8be000-0x000000007d8fefff";
    let image = "0x000000007d8b5000-0x000000007d8bdfff";
    let entry = |i: u32, pa: u64, n: u64, a: u64| {
        format!(
            "{i}: type=0x4 phys_addr={pa:#x} virt_addr={:#x} num_pages={n:#x} attribute={a:#x}",
            pa.wrapping_add(0xffff_fffe_7fc0_0000)
        )
    };
    const RUN_WB: u64 = 0x8000_0000_0000_000f;
    assert_eq!(
        lines,
        [
            (
                Section::Runtime,
                Some(data(100, "RUN", whole).as_str()),
                Some(data(100, "   ", rest).as_str())
            ),
            (
                Section::Runtime,
                None,
                Some(data(101, "RUN", image).as_str())
            ),
            (
                Section::RuntimeSysfs,
                Some(entry(100, 0x7d8b_5000, 0x4a, RUN_WB).as_str()),
                Some(entry(100, 0x7d8b_e000, 0x41, 0xf).as_str())
            ),
            (
                Section::RuntimeSysfs,
                None,
                Some(entry(101, 0x7d8b_5000, 9, RUN_WB).as_str())
            ),
        ]
    );
}

/// A model that is not told of the BGRT image is caught on pc, where the
/// image lies in a Boot Data region of its own: the kernel split it into
/// pieces the model does not have (runtime map, runtime-map sysfs), and
/// marked the image's pages reserved in e820, so that e820 printed an
/// update and one more RAM buffer, and /proc/iomem showed System RAM
/// cut around the image.
#[test]
fn a_model_without_the_bgrt_reservation_is_caught() {
    let l = BootLog::read(&log("6.12-pc-2048.log")).unwrap();
    let mut sc = l.scenario();
    sc.input.bgrt = None;
    let o = run(l.era(), &sc.input).unwrap();
    let c = boot_log::compare(&l, &sc.input, &o);
    let e820: Vec<&str> = c
        .divergences
        .iter()
        .filter(|d| d.section == Section::E820)
        .map(|d| {
            assert_eq!(d.predicted, None);
            d.printed.as_ref().unwrap().text.as_str()
        })
        .collect();
    assert_eq!(
        e820,
        [
            "e820: update [mem 0x7d8b4000-0x7d8bcfff] usable ==> reserved",
            "e820: reserve RAM buffer [mem 0x7d8b4000-0x7fffffff]",
        ]
    );
    for s in [Section::Runtime, Section::RuntimeSysfs] {
        assert!(c.divergences.iter().any(|d| d.section == s), "{s:?}");
    }
    let iomem: Vec<(Option<&str>, Option<&str>)> = c
        .divergences
        .iter()
        .filter(|d| d.section == Section::Iomem)
        .map(|d| {
            (
                d.predicted.as_deref(),
                d.printed.as_ref().map(|l| l.text.as_str()),
            )
        })
        .collect();
    assert_eq!(
        iomem,
        [
            (
                Some("7d8afc58-7ea9ffff : System RAM"),
                Some("7d8afc58-7d8b3fff : System RAM")
            ),
            (None, Some("7d8bd000-7ea9ffff : System RAM")),
        ]
    );
    assert!(c.divergences.iter().all(|d| matches!(
        d.section,
        Section::E820 | Section::Runtime | Section::RuntimeSysfs | Section::Iomem
    )));
}

/// The 6.12 boot held against the 6.1 model: 6.1 has no
/// `efi_remove_e820_mmio` and marks setup_data in the kexec table too,
/// so e820 differs by exactly those lines, and by the PCI gap, which
/// the 4 MiB flash below 4 GiB bounds in 6.1's table; nothing else does.
#[test]
fn the_wrong_era_is_caught_in_the_e820_lines() {
    let l = BootLog::read(&log("6.12-q35-2048.log")).unwrap();
    let sc = l.scenario();
    let o = run(Era::V6_1_Y, &sc.input).unwrap();
    let c = boot_log::compare(&l, &sc.input, &o);
    let lines: Vec<(Option<&str>, Option<&str>)> = c
        .divergences
        .iter()
        .map(|d| {
            assert_eq!(d.section, Section::E820);
            (
                d.printed.as_ref().map(|p| p.text.as_str()),
                d.predicted.as_deref(),
            )
        })
        .collect();
    let (a, b) = (l.setup_data[0], l.setup_data[1]);
    let update = |(s, z): (u64, u64)| {
        format!(
            "e820: update [mem {s:#010x}-{:#010x}] usable ==> usable",
            s + z - 1
        )
    };
    assert_eq!(
        lines,
        [
            (None, Some(update(a).as_str())),
            (None, Some(update(b).as_str())),
            (
                Some("efi: Remove mem127: MMIO range=[0xffc00000-0xffffffff] (4MB) from e820 map"),
                None
            ),
            (
                Some("e820: remove [mem 0xffc00000-0xffffffff] reserved"),
                None
            ),
            (
                Some("[mem 0xc0000000-0xffffffff] available for PCI devices"),
                Some("[mem 0xc0000000-0xffbfffff] available for PCI devices")
            ),
        ]
    );
}

/// The predicted boot written as a scenario reads back the same, its
/// memblock region, setup_data nodes and BGRT image included.
#[test]
fn the_scenario_of_a_boot_reads_back() {
    let l = BootLog::read(&log("6.1-pc-512.log")).unwrap();
    let sc = l.scenario();
    let text = sc.to_text();
    let (m, n) = l.memattr.unwrap();
    let (b, z) = l.bgrt().unwrap();
    for want in [
        format!("memblock {m:#x} {:#x}\n", 16 + n * 48),
        format!("bgrt {b:#x} {z:#x}\n"),
        format!(
            "setup_data {:#x} {:#x}\n",
            l.setup_data[0].0, l.setup_data[0].1
        ),
    ] {
        assert!(text.contains(&want), "{want} in {text}");
    }
    assert_eq!(
        efimap_core::cases::scenario::Scenario::parse(&text).unwrap(),
        sc
    );
}
