//! The runner's edges: early_memremap's limits, an e820 range reaching the
//! top, the command line as the kernel splits it, `efi=` and `noefi`, and
//! the v6.11 notice.

use efimap_core::model::boot::{run, BootInput, LaterStep};
use efimap_core::model::desc::{ty, MemoryDesc};
use efimap_core::model::kernel::Level;
use efimap_core::model::mem::Fill;
use efimap_core::Era;

const G: u64 = 1 << 30;
const EARLY_WARN: &str = "WARNING: CPU: 0 PID: 0 at mm/early_ioremap.c __early_ioremap";

fn bsd() -> MemoryDesc {
    MemoryDesc::new(ty::BOOT_SERVICES_DATA, 0xbea0_0000, 0x100, 0xf)
}

fn base() -> BootInput {
    BootInput {
        map: vec![
            bsd(),
            MemoryDesc::new(ty::CONVENTIONAL_MEMORY, 4 * G, G >> 12, 0xf),
        ],
        fill: Fill::Zero,
        reservations: vec![(0xbea0_6000, 0x27000)],
        ..BootInput::default()
    }
}

#[test]
fn an_empty_firmware_map_cannot_be_mapped() {
    let o = run(
        Era::V5_6,
        &BootInput {
            map: vec![],
            ..base()
        },
    )
    .unwrap();
    assert_eq!(o.texts(Level::Warning), vec![EARLY_WARN]);
    assert_eq!(
        o.texts(Level::Err),
        vec!["efi: Could not map the memory map!"]
    );
    assert_eq!(o.memmap.map, None);
    assert!(o.inserts.is_empty(), "no reservation without EFI_MEMMAP");
}

#[test]
fn a_map_of_only_invalid_entries_is_cleaned_away() {
    let map = vec![MemoryDesc::new(ty::CONVENTIONAL_MEMORY, 0x5000, 0, 0xf)];
    let o = run(Era::V5_5, &BootInput { map, ..base() }).unwrap();
    let texts: Vec<&str> = o.events.iter().map(|e| e.text.as_str()).collect();
    assert_eq!(
        texts,
        vec![
            "efi: [Firmware Bug]: Invalid EFI memory map entries:",
            "efi: mem00: [Conventional Memory|   |  |  |  |  |  |  |  |   |WB|WT|WC|UC] range=[0x0000000000005000-0x0000000000000000] (invalid)",
            "efi: Removing 1 invalid memory map entries.",
            EARLY_WARN,
            "efi: Could not map the memory map!",
        ]
    );
}

#[test]
fn early_memremap_maps_at_most_64_pages() {
    // 64 descriptors of 4096 bytes: 64 pages, maps. The reservation's
    // buffer needs 66 descriptors: 66 pages, does not.
    let mut map: Vec<MemoryDesc> = (0..63)
        .map(|i| MemoryDesc::new(ty::CONVENTIONAL_MEMORY, (i + 1) * G, 1, 0xf))
        .collect();
    map.insert(0, bsd());
    let input = BootInput {
        desc_size: 4096,
        map,
        ..base()
    };
    let o = run(Era::V5_6, &input).unwrap();
    assert_eq!(o.memmap.nr_map, 64);
    assert_eq!(o.texts(Level::Warning), vec![EARLY_WARN]);
    assert_eq!(
        o.texts(Level::Err),
        vec!["efi: Failed to map new boot services memmap"]
    );
    // The buffer is leaked, as the kernel leaks it.
    assert_eq!(o.leaks.len(), 1);
    assert_eq!(o.allocations[o.leaks[0]].size, 66 * 4096);
    // One descriptor more and even the firmware's map does not map.
    let mut input = input;
    input
        .map
        .push(MemoryDesc::new(ty::CONVENTIONAL_MEMORY, 100 * G, 1, 0xf));
    let o = run(Era::V5_6, &input).unwrap();
    assert_eq!(
        o.texts(Level::Err),
        vec!["efi: Could not map the memory map!"]
    );
}

#[test]
fn e820_clamps_a_range_reaching_the_top() {
    // The span test wraps and passes; e820 clamps the size to 2^64 - start.
    let input = BootInput {
        reservations: vec![(0xbea0_6000, u64::MAX - 0x1000)],
        ..base()
    };
    let o = run(Era::V5_5, &input).unwrap();
    assert_eq!(
        o.texts(Level::Debug),
        vec!["e820: update [mem 0xbea06000-0xfffffffffffffffe] usable ==> reserved"]
    );
}

#[test]
fn the_command_line_as_the_kernel_splits_it() {
    // Quotes are stripped; '-' and '_' are alike; "--" ends the options.
    let input = BootInput {
        cmdline: "efi-fake-mem=\"4G@4G:0x40000\" -- efi_fake_mem=4K@4G:0x1".into(),
        reservations: vec![],
        ..base()
    };
    let o = run(Era::V5_6, &input).unwrap();
    assert_eq!(o.fake_mems.len(), 1);
    assert_eq!(o.fake_mems[0].attribute, 0x40000);
    assert!(o.texts(Level::Warn).is_empty());
}

#[test]
fn a_bare_efi_option_is_complained_about_per_handler() {
    let input = BootInput {
        cmdline: "efi".into(),
        ..base()
    };
    let pair = [
        "efi: need at least one option",
        "Malformed early option 'efi'",
    ];
    assert_eq!(
        run(Era::V5_5, &input).unwrap().texts(Level::Warn),
        [pair, pair].concat()
    );
    assert_eq!(run(Era::V5_6, &input).unwrap().texts(Level::Warn), pair);
}

#[test]
fn a_disabled_runtime_unmaps_the_map_in_efi_init() {
    for cmdline in ["noefi", "efi=noruntime", "efi=debug,noruntime"] {
        let input = BootInput {
            cmdline: format!("{cmdline} efi_fake_mem=1G@4G:0x40000"),
            later: vec![LaterStep::KexecInitLate],
            ..base()
        };
        let o = run(Era::V5_6, &input).unwrap();
        assert_eq!(o.memmap.map, None, "{cmdline}");
        assert!(
            o.inserts.is_empty(),
            "{cmdline}: no fake_mem, no reservation"
        );
        assert_eq!(o.installs.len(), 1, "{cmdline}: the firmware's map only");
    }
    // efi=runtime turns it back on from v5.15.
    let input = BootInput {
        cmdline: "efi=noruntime efi=runtime".into(),
        ..base()
    };
    assert_eq!(run(Era::V5_6, &input).unwrap().memmap.map, None);
    assert!(run(Era::V6_10, &input).unwrap().memmap.map.is_some());
}

#[test]
fn v6_11_passes_efi_fake_mem_to_init() {
    let input = BootInput {
        cmdline: "efi_fake_mem=4G@9G:0x40000 efi_fake_mem efi_fake_mem=8G@9G:0x40000".into(),
        ..base()
    };
    let o = run(Era::V6_11, &input).unwrap();
    // argv entries first; a later name= replaces the earlier in the environment.
    assert_eq!(
        o.texts(Level::Notice),
        vec!["Unknown kernel command line parameters \"efi_fake_mem efi_fake_mem=8G@9G:0x40000\", will be passed to user space."]
    );
}
