//! The functions around insert: alloc and its flags, init_late's WARNs,
//! lookup, efi_clean_memmap, and the misaligned-range path of the fixed
//! efi_fake_memmap (a misaligned range: insert refuses it, the caller
//! installs the unwritten buffer).

use efimap_core::model::boot::{run, BootInput};
use efimap_core::model::desc::{attr, ty, MemoryDesc};
use efimap_core::model::kernel::{
    Errno, Kernel, Level, MemoryMapData, EFI_MEMMAP_LATE, EFI_MEMMAP_MEMBLOCK, EFI_MEMMAP_SLAB,
};
use efimap_core::model::mem::{AllocKind, Fill};
use efimap_core::Era;

const G: u64 = 1 << 30;

fn warnings(k: &Kernel) -> Vec<&str> {
    k.events
        .iter()
        .filter(|e| e.level == Level::Warning)
        .map(|e| e.text.as_str())
        .collect()
}

fn booted(era: Era, map: &[MemoryDesc]) -> Kernel {
    let mut k = Kernel::new(era, Fill::Zero);
    k.efi_memblock_x86_reserve_range(map, 48);
    k
}

fn small_map() -> Vec<MemoryDesc> {
    vec![
        MemoryDesc::new(ty::BOOT_SERVICES_DATA, 0xbea0_0000, 0x100, 0xf),
        MemoryDesc::new(ty::CONVENTIONAL_MEMORY, 4 * G, G >> 12, 0xf),
    ]
}

#[test]
fn alloc_picks_memblock_then_pages_and_records_it_from_v5_6() {
    let mut k = booted(Era::V5_6, &small_map());
    let mut data = MemoryMapData::default();
    k.efi_memmap_alloc(3, &mut data).unwrap();
    assert_eq!(
        (data.size, data.desc_size, data.flags),
        (144, 48, EFI_MEMMAP_MEMBLOCK)
    );
    // A used data block: WARN, and it is overwritten anyway.
    k.efi_memmap_alloc(3, &mut data).unwrap();
    assert_eq!(
        warnings(&k),
        vec!["WARNING: CPU: 0 PID: 0 at drivers/firmware/efi/memmap.c efi_memmap_alloc"]
    );
    k.slab_available = true;
    let mut data = MemoryMapData::default();
    k.efi_memmap_alloc(100, &mut data).unwrap();
    assert_eq!(data.flags, EFI_MEMMAP_SLAB);
    let a = k.mem.allocations.last().unwrap();
    assert_eq!(
        a.kind,
        AllocKind::Pages { order: 1 },
        "4800 bytes: two pages"
    );
    assert_eq!(a.phys % (2 * 4096), 0);

    // v5.5 has no flags and no WARN.
    let mut k = booted(Era::V5_5, &small_map());
    let mut data = MemoryMapData::default();
    k.efi_memmap_alloc(3, &mut data).unwrap();
    k.efi_memmap_alloc(3, &mut data).unwrap();
    assert_eq!(data.flags, 0);
    assert!(warnings(&k).is_empty());
}

#[test]
fn init_late_warns_but_goes_on() {
    let mut k = booted(Era::V5_6, &small_map());
    let (phys, size) = (k.memmap.phys_map, 2 * 48);
    // Still mapped: one WARN.
    assert_eq!(k.efi_memmap_init_late(phys, size), Ok(()));
    assert_eq!(k.memmap.flags, EFI_MEMMAP_LATE);
    // Still mapped and already late: two more.
    assert_eq!(k.efi_memmap_init_late(phys, size), Ok(()));
    assert_eq!(warnings(&k).len(), 3);
    assert!(warnings(&k)
        .iter()
        .all(|w| w.ends_with("efi_memmap_init_late")));
    assert_eq!(k.memmap.nr_map, 2);
}

#[test]
fn lookup_takes_the_first_match_and_never_an_empty_entry() {
    let map = vec![
        MemoryDesc::default(),
        MemoryDesc::new(ty::CONVENTIONAL_MEMORY, 0xbe00_0000, 0x1000, 0xf),
        MemoryDesc::new(ty::BOOT_SERVICES_DATA, 0xbea0_0000, 0x100, 0xf),
        MemoryDesc::new(ty::CONVENTIONAL_MEMORY, 0xffff_ffff_ffff_f000, 1, 0),
    ];
    let mut k = booted(Era::V5_6, &map);
    assert_eq!(
        k.efi_mem_desc_lookup(0xbea0_6000),
        Ok(map[1]),
        "overlap: first wins"
    );
    assert_eq!(k.efi_mem_desc_lookup(0xbeb0_0000), Ok(map[1]));
    assert_eq!(
        k.efi_mem_desc_lookup(0),
        Err(Errno::ENOENT),
        "empty entry never matches"
    );
    assert_eq!(
        k.efi_mem_desc_lookup(u64::MAX),
        Err(Errno::ENOENT),
        "end wraps to 0"
    );
    // From ab03e91e60ce bogus entries are skipped: a misaligned first match
    // no longer hides the next one.
    let odd = vec![
        MemoryDesc::new(ty::CONVENTIONAL_MEMORY, 0xbe00_0800, 0x1000, 0xf),
        MemoryDesc::new(ty::BOOT_SERVICES_DATA, 0xbea0_0000, 0x100, 0xf),
    ];
    assert_eq!(
        booted(Era::V5_6, &odd).efi_mem_desc_lookup(0xbea0_6000),
        Ok(odd[0])
    );
    assert_eq!(
        booted(Era::V6_10, &odd).efi_mem_desc_lookup(0xbea0_6000),
        Ok(odd[1])
    );
    k.efi_memmap_unmap();
    assert_eq!(k.efi_mem_desc_lookup(0xbea0_6000), Err(Errno::EINVAL));
    assert_eq!(k.efi_mem_desc_lookup(0xbea0_6000), Err(Errno::EINVAL));
    let errs: Vec<&str> = k.events.iter().map(|e| e.text.as_str()).collect();
    assert_eq!(
        errs,
        vec!["efi: EFI_MEMMAP is not enabled."],
        "printed once"
    );
}

#[test]
fn clean_memmap_removes_empty_and_overflowing_entries() {
    let good = MemoryDesc::new(ty::BOOT_SERVICES_DATA, 0xbea0_0000, 0x100, 0xf);
    let map = vec![
        good,
        MemoryDesc::new(ty::CONVENTIONAL_MEMORY, 0x5000, 0, 0xf),
        MemoryDesc::new(ty::CONVENTIONAL_MEMORY, 0xffff_ffff_ffff_f000, 1, 0xf),
        MemoryDesc::new(ty::CONVENTIONAL_MEMORY, 0x1000, 1 << 52, 0xf),
    ];
    for era in [Era::V5_5, Era::V5_6, Era::V6_10] {
        let mut k = booted(era, &map);
        k.efi_clean_memmap();
        let texts: Vec<&str> = k.events.iter().map(|e| e.text.as_str()).collect();
        let conv = if era < Era::V6_10 {
            "[Conventional Memory|   |  |  |  |  |  |  |  |   |WB|WT|WC|UC]"
        } else {
            "[Conventional|   |  |  |  |  |  |  |  |  |   |WB|WT|WC|UC]"
        };
        assert_eq!(
            texts,
            vec![
                "efi: [Firmware Bug]: Invalid EFI memory map entries:".to_string(),
                format!(
                    "efi: mem01: {conv} range=[0x0000000000005000-0x0000000000000000] (invalid)"
                ),
                format!(
                    "efi: mem02: {conv} range=[0xfffffffffffff000-0xffffffffffffffff] (invalid)"
                ),
                format!(
                    "efi: mem03: {conv} range=[0x0000000000001000-0x10000000000000fff] (invalid)"
                ),
                "efi: Removing 3 invalid memory map entries.".to_string(),
            ],
            "{era}"
        );
        assert_eq!(k.memmap.nr_map, 1);
        assert_eq!(k.installed_descs(), vec![good]);
        // The same firmware buffer, reinstalled; nothing freed.
        assert!(k.mem.allocations.iter().all(|a| a.is_live()));
    }
}

/// Spec 7.1: a misaligned range in the fixed code installs a buffer that
/// insert never wrote: here, on a fresh (zeroed) VM, three empty entries.
#[test]
fn misaligned_range_installs_the_unwritten_buffer() {
    let input = BootInput {
        map: small_map(),
        fill: Fill::Zero,
        cmdline: "efi_fake_mem=1000@4G:0x1".into(),
        reservations: vec![(0xbea0_6000, 0x27000)],
        ..BootInput::default()
    };
    let o = run(Era::V5_6, &input).unwrap();
    assert_eq!(
        o.texts(Level::Warning),
        vec!["WARNING: CPU: 0 PID: 0 at drivers/firmware/efi/memmap.c efi_memmap_insert"]
    );
    // Counted one split (head covered), installed 2 + 1 descriptors of fill.
    assert_eq!(o.memmap.nr_map, 3);
    assert_eq!(o.map, vec![MemoryDesc::default(); 3]);
    // The reservation then finds nothing.
    assert_eq!(
        o.texts(Level::Err),
        vec!["efi: Failed to lookup EFI memory descriptor for 0x00000000bea06000"]
    );
    // With a pattern fill the installed map is that pattern.
    let o = run(
        Era::V5_6,
        &BootInput {
            fill: Fill::Pattern(0xa5),
            ..input
        },
    )
    .unwrap();
    assert_eq!(o.map_bytes, vec![0xa5; 3 * 48]);
    assert_eq!(o.map[0].phys_addr, 0xa5a5_a5a5_a5a5_a5a5);
    assert_eq!(o.map[0].attribute & attr::RUNTIME, attr::RUNTIME);
}
