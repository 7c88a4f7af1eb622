//! Kernel eras: each a short list of differences from the one before, all
//! in one table, [`ERAS`].
//!
//! The kernel functions of [`crate::model`] are written once per shape the
//! kernel gave them; an era's [`Features`] say which body it uses where a
//! function changed shape, and hold the one-line differences. Adding an era
//! is adding one [`EraDef`] to [`ERAS`] (or, in a test, [`Era::register`]):
//! its name, the commits it carries, and its features written as the
//! previous era's with what changed. The names the command line and the
//! scenario text accept, the fuzz codec's era bits and the commit list of
//! the reports all come from that table.

use crate::model::e820::NoMerge;
use std::fmt;
use std::str::FromStr;
use std::sync::RwLock;

/// A commit an era carries beyond the era it is written against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Commit {
    /// The abbreviated id, 12 hex digits.
    pub id: &'static str,
    pub subject: &'static str,
}

/// Everything about one era, in one place.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EraDef {
    /// What the command line and scenarios call it: `v5.5`, `v6.12.y`, ...
    pub name: &'static str,
    /// The code it models, in a few words.
    pub tree: &'static str,
    /// The commits that make it differ from the era its features are
    /// written against, oldest first.
    pub commits: &'static [Commit],
    pub features: Features,
}

/// A kernel era: a handle on its [`EraDef`]. Eras order as [`ERAS`] lists
/// them, then the ones registered at run time, in registration order.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Era(u16);

/// How `efi_fake_memmap` behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FakeMem {
    /// Counts every range against the original map, inserts every range from
    /// the original map into one buffer (docs/kernel-notes.md, "The buggy
    /// efi_fake_memmap").
    Buggy,
    /// `efi_fake_range` per range, each on the map the previous one made
    /// (484a418d).
    Fixed,
    /// No `efi_fake_mem` at all (37aee82c).
    Removed,
}

/// When a replaced, dynamically allocated map is freed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OldMapFree {
    /// Never: every replaced map leaks (before f0ef6523).
    Never,
    /// In `__efi_memmap_init`, also on the init_late path (f0ef6523 .. v6.9: the init_late
    /// use-after-free of docs/kernel-notes.md).
    InInit,
    /// In `efi_memmap_install`, after the new map is installed (75dde792).
    AfterInstall,
}

/// How `efi_fake_memmap_early` marks EFI_MEMORY_SP ranges in e820.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SoftReserveE820 {
    /// No early pass (before 199c84717612).
    None,
    /// `e820__range_update(RAM -> SOFT_RESERVED)` (023265ed, v5.5).
    Update,
    /// `e820__range_remove` then `e820__range_add(SOFT_RESERVED)`, one e820
    /// resource per range (the later copies, e.g. 254a1420).
    RemoveAdd,
}

/// `lib/sort.c` as `setup_fake_mem` sorts with it: equal starts come out in
/// a different order in the two variants.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SortVariant {
    /// George Spelvin's bottom-up heapsort (v5.1 .. v6.8).
    BottomUp,
    /// Kuan-Wei Chiu's v6.9 changes: right child on ties, double pop.
    DoublePop,
}

/// The columns `efi_md_typeattr_format` prints, and its type-name width.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PrinterFormat {
    /// 19-wide names; RUN MR NV XP RP WP RO UCE WB WT WC UC.
    Long12,
    /// 19-wide names; SP after MR (fe3e5e65c06e, v5.5).
    Long13Sp,
    /// 12-wide names; CC before SP (6277e374).
    Short14Cc,
    /// 12-wide names; HP after RUN (ba69e0750b03, 2025; after every
    /// modelled era, kept for reading newer logs).
    Short15Hp,
}

/// What differs between eras.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Features {
    /// `efi_arch_mem_reserve` returns for RUNTIME descriptors (removed by af164898).
    pub reserve_skips_runtime: bool,
    /// `efi_arch_mem_reserve` marks the range reserved in e820 (af164898).
    pub reserve_updates_e820: bool,
    /// Which shape of `efi_memmap_alloc`, `__efi_memmap_init` and
    /// `efi_memmap_install` the era has: each shape is its own body.
    pub memmap_api: MemmapApi,
    pub old_map_free: OldMapFree,
    pub fake_mem: FakeMem,
    pub soft_reserve_e820: SoftReserveE820,
    pub sort: SortVariant,
    pub printer: PrinterFormat,
    /// split_count/insert/alloc/install live in arch/x86/platform/efi/memmap.c
    /// (fdc6d38d, v6.2) rather than drivers/firmware/efi/memmap.c.
    pub x86_memmap: bool,
    /// `efi_mem_desc_lookup` skips misaligned, empty and overflowing
    /// descriptors (ab03e91e60ce "efi: memmap: Disregard bogus entries
    /// instead of returning them", v6.3).
    pub lookup_skips_bogus: bool,
    /// x86's own `early_param("efi")` for `efi=old_map` (until v5.6): a bare
    /// `efi` is complained about twice.
    pub x86_efi_old_map_param: bool,
    /// `efi=runtime` re-enables the runtime (v5.15).
    pub efi_runtime_option: bool,
    /// The notice about unknown parameters passed to user space (v5.14).
    pub unknown_params_notice: bool,
    /// How many bytes `vprintk_store` reserves at most for one record, its
    /// level prefix (`KERN_NOTICE`, 2 bytes) and NUL included: the text
    /// kept is at most this less 3. `LOG_LINE_MAX`, 1024 less the 32 of
    /// `PREFIX_MAX` (`CONFIG_PRINTK_CALLER` off, as Debian builds it),
    /// until printk's buffer series moved the limits into
    /// kernel/printk/internal.h (v6.3, "printk: move size limit macros
    /// into internal.h"): `PRINTKRB_RECORD_MAX`, 1024. Only the unknown
    /// parameters notice, which quotes the command line, comes near it.
    pub printk_record_max: usize,
    /// How boot-services memory is given back.
    pub boot_services: BootServices,
    /// `memory_type_name[]` has "Unaccepted" for type 15 (v6.5).
    pub unaccepted_name: bool,
    /// e820 has `E820_TYPE_SOFT_RESERVED`: the EFI stub and
    /// `do_add_efi_memmap` give EFI_MEMORY_SP memory that type
    /// (262b45ae3ab4, v5.5).
    pub e820_soft_reserved: bool,
    /// Which types `e820__update_table` never merges.
    pub e820_nomerge: NoMerge,
    /// How `kexec_file_load` looks for room for a segment.
    pub kexec_walk: KexecWalk,
    /// `efi_init` removes EFI_MEMORY_MAPPED_IO descriptors of 256 KiB or
    /// more from e820 (`efi_remove_e820_mmio`, v6.2 [I]; in 6.12.118, not
    /// in 6.1.192 [V]).
    pub remove_e820_mmio: bool,
    /// `e820__reserve_setup_data` also marks each node in e820_table_kexec
    /// (a second `e820: update` line per node), until "x86/kexec: do not
    /// update E820 kexec table for setup_data" (2024 [M]; in 6.1.192, not
    /// in 6.12.118 [V]; taken as absent from v6.10 on [I]). The nodes of the EFI stub (SETUP_PCI) are not
    /// of the kinds it skipped.
    pub setup_data_kexec: bool,
    /// Not in any kernel: `efi_arch_mem_reserve` sizes its new map by the
    /// splits of every descriptor, as `efi_memmap_insert` makes them, not
    /// of the looked-up one alone (the fix the `v7.0-rc+fix` era proposes).
    pub reserve_counts_every_desc: bool,
    /// Not in any kernel: `efi_arch_mem_reserve` allocates one descriptor
    /// fewer than it counted, an injected bug that overruns on any map
    /// (for testing that a new overrun is told from the known one).
    pub reserve_one_short: bool,
}

/// How boot-services memory is given back after `SetVirtualAddressMap`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BootServices {
    /// One `efi_free_boot_services` in `__efi_enter_virtual_mode`: each
    /// region freed at once with `memblock_free_late`.
    FreeAtOnce,
    /// a4b0bf6a40f3: `efi_unmap_boot_services` records the regions, the
    /// `arch_initcall` `efi_free_boot_services` frees them.
    Deferred { ranges_size: RangesSize },
}

/// The size of `efi_unmap_boot_services`'s array of `nr_map` records and
/// a zero sentinel, 16 bytes each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RangesSize {
    /// `sizeof(*ranges_to_free) * efi.memmap.nr_map + 1`, as a4b0bf6a40f3
    /// merged it: the sentinel slot is 15 bytes short.
    AsMerged,
    /// `sizeof(*ranges_to_free) * (efi.memmap.nr_map + 1)` (217c0a5c177a).
    Fixed,
}

/// Which shape the memmap API has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MemmapApi {
    /// v4.9 .. v5.5: `efi_memory_map.late` is a bool; `efi_memmap_alloc(n)`
    /// returns a physical address; `efi_memmap_install(phys, n)`;
    /// `__efi_memmap_init(data, late)`.
    Late,
    /// 1db91035d01a on: `efi_memory_map.flags` (LATE, MEMBLOCK, SLAB), and
    /// an `efi_memory_map_data` passed from `efi_memmap_alloc(n, data)` to
    /// `efi_memmap_install(data)`.
    Flags,
}

const fn c(id: &'static str, subject: &'static str) -> Commit {
    Commit { id, subject }
}

const V5_4: Features = Features {
    reserve_skips_runtime: true,
    reserve_updates_e820: false,
    memmap_api: MemmapApi::Late,
    old_map_free: OldMapFree::Never,
    fake_mem: FakeMem::Buggy,
    soft_reserve_e820: SoftReserveE820::None,
    sort: SortVariant::BottomUp,
    printer: PrinterFormat::Long12,
    x86_memmap: false,
    lookup_skips_bogus: false,
    x86_efi_old_map_param: true,
    efi_runtime_option: false,
    unknown_params_notice: false,
    printk_record_max: 992,
    boot_services: BootServices::FreeAtOnce,
    unaccepted_name: false,
    e820_soft_reserved: false,
    e820_nomerge: NoMerge::Pram,
    kexec_walk: KexecWalk::Ascending,
    remove_e820_mmio: false,
    setup_data_kexec: true,
    reserve_counts_every_desc: false,
    reserve_one_short: false,
};

const V5_5: Features = Features {
    reserve_skips_runtime: false,
    reserve_updates_e820: true,
    e820_soft_reserved: true,
    soft_reserve_e820: SoftReserveE820::Update,
    printer: PrinterFormat::Long13Sp,
    ..V5_4
};

const V5_6: Features = Features {
    memmap_api: MemmapApi::Flags,
    old_map_free: OldMapFree::InInit,
    fake_mem: FakeMem::Fixed,
    x86_efi_old_map_param: false,
    ..V5_5
};

const V6_10: Features = Features {
    old_map_free: OldMapFree::AfterInstall,
    soft_reserve_e820: SoftReserveE820::RemoveAdd,
    sort: SortVariant::DoublePop,
    printer: PrinterFormat::Short14Cc,
    x86_memmap: true,
    lookup_skips_bogus: true,
    efi_runtime_option: true,
    unknown_params_notice: true,
    printk_record_max: 1024,
    unaccepted_name: true,
    e820_nomerge: NoMerge::PramAndSoftReserved,
    kexec_walk: KexecWalk::TopDown,
    remove_e820_mmio: true,
    setup_data_kexec: false,
    ..V5_6
};

const V6_11: Features = Features {
    fake_mem: FakeMem::Removed,
    soft_reserve_e820: SoftReserveE820::None,
    ..V6_10
};

/// Debian's 6.1.192: v6.1 (between v5.6 and v6.10) with the stable
/// backports it carries. Against v6.10: no bogus-entry skip in the lookup,
/// lib/sort.c before v6.9, no "Unaccepted" name; the HP column and the
/// deferred boot-services free backported; no `efi_remove_e820_mmio`,
/// setup_data still marked in the kexec table, and printk's records of
/// before v6.3.
const V6_1_Y: Features = Features {
    sort: SortVariant::BottomUp,
    lookup_skips_bogus: false,
    unaccepted_name: false,
    printer: PrinterFormat::Short15Hp,
    boot_services: BootServices::Deferred {
        ranges_size: RangesSize::Fixed,
    },
    kexec_walk: KexecWalk::Ascending,
    remove_e820_mmio: false,
    setup_data_kexec: true,
    printk_record_max: 992,
    ..V6_10
};

/// Debian's 6.12.117: v6.11 with the HP column and the deferred
/// boot-services free (with its size fix) backported.
const V6_12_Y: Features = Features {
    printer: PrinterFormat::Short15Hp,
    boot_services: BootServices::Deferred {
        ranges_size: RangesSize::Fixed,
    },
    ..V6_11
};

/// Mainline in the v7.0 merge window: a4b0bf6a40f3 as merged, before
/// 217c0a5c177a fixed its array size.
const V7_0_RC: Features = Features {
    boot_services: BootServices::Deferred {
        ranges_size: RangesSize::AsMerged,
    },
    ..V6_12_Y
};

/// The proposed fix of the overlapping-descriptor overrun: v7.0-rc, with
/// `efi_arch_mem_reserve` counting the splits of every descriptor.
const V7_0_RC_FIX: Features = Features {
    reserve_counts_every_desc: true,
    ..V7_0_RC
};

/// How `kexec_file_load` (kernel/kexec_file.c) walks System RAM for a
/// segment, each segment top-down inside the range it picks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KexecWalk {
    /// Until v6.7: the ranges in ascending order (`walk_system_ram_res`),
    /// the first that fits wins; the first candidate is `end - memsz`,
    /// one byte low, so an aligned block ends one alignment unit below
    /// the top.
    Ascending,
    /// b3ba234171cd "kexec_file: load kernel at top of system RAM if
    /// required" and 18d565ea95fe "kexec_file: fix incorrect temp_start
    /// value in locate_mem_hole_top_down()" (v6.8): the ranges in
    /// descending order, the first candidate `end - memsz + 1`.
    TopDown,
}

/// The HP column (backported to 6.1.129 and 6.12.16).
const HP_COLUMN: Commit = c(
    "ba69e0750b03",
    "efi: Avoid cold plugged memory for placing the kernel (HP column)",
);
/// The deferred boot-services free (backported to 6.1.167 and 6.12.77).
const DEFERRED_FREE: Commit = c(
    "a4b0bf6a40f3",
    "x86/efi: defer freeing of boot services memory",
);
/// Its size fix (backported to 6.1.168 and 6.12.80).
const RANGES_SIZE_FIX: Commit = c(
    "217c0a5c177a",
    "x86/efi: efi_unmap_boot_services: fix calculation of ranges_to_free size",
);

/// The eras, each against the one before it.
pub static ERAS: &[EraDef] = &[
    EraDef {
        name: "v5.4",
        tree: "mainline v5.4: drivers/firmware/efi/memmap.c with the bool `late`, \
               quirks.c as at 704f63ef",
        commits: &[
            c("0f96a99dab36", "efi: Add 'efi_fake_mem' boot option"),
            c(
                "816e76129ed5",
                "efi: Allow drivers to reserve boot services forever",
            ),
        ],
        features: V5_4,
    },
    EraDef {
        name: "v5.5",
        tree: "mainline v5.5: EFI_MEMORY_SP, and the seed commit: the crash era",
        commits: &[
            c("fe3e5e65c06e", "efi: Enumerate EFI_MEMORY_SP"),
            c(
                "199c84717612",
                "x86/efi: Add efi_fake_mem support for EFI_MEMORY_SP",
            ),
            c(
                "af1648984828",
                "x86/efi: Update e820 with reserved EFI boot services data to fix kexec breakage",
            ),
        ],
        features: V5_5,
    },
    EraDef {
        name: "v5.6",
        tree: "mainline v5.6: Dan Williams' fix series",
        commits: &[
            c(
                "1db91035d01a",
                "efi: Add tracking for dynamically allocated memmaps",
            ),
            c("f0ef6523475f", "efi: Fix efi_memmap_alloc() leaks"),
            c(
                "484a418d0754",
                "efi: Fix handling of multiple efi_fake_mem= entries",
            ),
            c(
                "59365cadfbcd",
                "efi/x86: Fix boot regression on systems with invalid memmap entries",
            ),
        ],
        features: V5_6,
    },
    EraDef {
        name: "v6.10",
        tree: "mainline v6.10: the memmap code in arch/x86, the old map freed after install",
        commits: &[
            c(
                "6277e374b0b0",
                "efi: Print CPU_CRYPTO attribute (short type names, CC column)",
            ),
            c(
                "fdc6d38d64a2",
                "efi: memmap: Move manipulation routines into x86 arch tree",
            ),
            c(
                "ab03e91e60ce",
                "efi: memmap: Disregard bogus entries instead of returning them",
            ),
            c(
                "75dde792d6f6",
                "efi/x86: Free EFI memory map only when installing a new one.",
            ),
        ],
        features: V6_10,
    },
    EraDef {
        name: "v6.11",
        tree: "mainline v6.11: efi_fake_mem removed",
        commits: &[c(
            "37aee82c213d",
            "x86/efi: Drop support for fake EFI memory maps",
        )],
        features: V6_11,
    },
    EraDef {
        name: "v6.1.y",
        tree: "Debian linux-source-6.1 (6.1.192): v6.1 with the stable backports",
        commits: &[
            c(
                "fdc6d38d64a2",
                "efi: memmap: Move manipulation routines into x86 arch tree",
            ),
            c(
                "75dde792d6f6",
                "efi/x86: Free EFI memory map only when installing a new one.",
            ),
            HP_COLUMN,
            DEFERRED_FREE,
            RANGES_SIZE_FIX,
        ],
        features: V6_1_Y,
    },
    EraDef {
        name: "v6.12.y",
        tree: "Debian linux-source-6.12 (6.12.117)",
        commits: &[HP_COLUMN, DEFERRED_FREE, RANGES_SIZE_FIX],
        features: V6_12_Y,
    },
    EraDef {
        name: "v7.0-rc",
        tree: "mainline with a4b0bf6a40f3 as merged (2026-02), before 217c0a5c177a",
        commits: &[c(
            "a4b0bf6a40f3",
            "x86/efi: defer freeing of boot services memory",
        )],
        features: V7_0_RC,
    },
    EraDef {
        name: "v7.0-rc+fix",
        tree: "not a kernel: v7.0-rc with the proposed fix of the overlapping-descriptor \
               overrun (efi_arch_mem_reserve counts the splits of every descriptor)",
        commits: &[],
        features: V7_0_RC_FIX,
    },
];

/// The eras [`Era::register`] added, after [`ERAS`].
static REGISTERED: RwLock<Vec<&'static EraDef>> = RwLock::new(Vec::new());

impl Era {
    pub const V5_4: Era = Era(0);
    pub const V5_5: Era = Era(1);
    pub const V5_6: Era = Era(2);
    pub const V6_10: Era = Era(3);
    pub const V6_11: Era = Era(4);
    pub const V6_1_Y: Era = Era(5);
    pub const V6_12_Y: Era = Era(6);
    pub const V7_0_RC: Era = Era(7);
    pub const V7_0_RC_FIX: Era = Era(8);

    /// Every modelled era, [`ERAS`]: what a run takes when it names none.
    /// A registered era joins no such default (a test's variant once
    /// showed up in another test's explored examples, both running in one
    /// process); it is known by its name ([`Era::known`]).
    pub fn all() -> Vec<Era> {
        (0..ERAS.len() as u16).map(Era).collect()
    }

    /// Every era a name or a fuzz codec bit may give: [`ERAS`], then the
    /// registered ones.
    pub fn known() -> Vec<Era> {
        let n = ERAS.len() + REGISTERED.read().map_or(0, |r| r.len());
        (0..n as u16).map(Era).collect()
    }

    /// Adds an era after every other (for tests and experiments: a
    /// variant is one definition). Its name must be new.
    pub fn register(def: EraDef) -> Result<Era, DuplicateEra> {
        let mut reg = REGISTERED.write().unwrap_or_else(|e| e.into_inner());
        if ERAS
            .iter()
            .chain(reg.iter().copied())
            .any(|d| d.name == def.name)
        {
            return Err(DuplicateEra(def.name));
        }
        reg.push(Box::leak(Box::new(def)));
        Ok(Era((ERAS.len() + reg.len() - 1) as u16))
    }

    /// Its definition.
    pub fn def(self) -> &'static EraDef {
        let i = usize::from(self.0);
        ERAS.get(i)
            .unwrap_or_else(|| REGISTERED.read().unwrap_or_else(|e| e.into_inner())[i - ERAS.len()])
    }

    /// Its position in [`Era::known`]: the fuzz codec's bit for it.
    pub fn index(self) -> usize {
        usize::from(self.0)
    }

    /// Whether it models a proposed change rather than a kernel.
    pub fn is_proposed(self) -> bool {
        self.features().reserve_counts_every_desc
    }

    /// This era's features.
    pub fn features(self) -> Features {
        self.def().features
    }

    pub fn name(self) -> &'static str {
        self.def().name
    }
}

impl fmt::Debug for Era {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Display for Era {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl serde::Serialize for Era {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> serde::Deserialize<'de> for Era {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// An era name that is not one of [`Era::known`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownEra(pub String);

impl fmt::Display for UnknownEra {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = Era::known().into_iter().map(Era::name).collect();
        write!(
            f,
            "unknown era `{}`: the eras are {}",
            self.0,
            names.join(", ")
        )
    }
}

impl std::error::Error for UnknownEra {}

/// [`Era::register`] of a name already taken.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DuplicateEra(pub &'static str);

impl fmt::Display for DuplicateEra {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an era named `{}` exists already", self.0)
    }
}

impl std::error::Error for DuplicateEra {}

impl FromStr for Era {
    type Err = UnknownEra;
    /// `v6.10` or `6.10`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Era::known()
            .into_iter()
            .find(|e| e.name() == s || e.name().strip_prefix('v') == Some(s))
            .ok_or_else(|| UnknownEra(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for e in Era::all() {
            assert_eq!(e.name().parse::<Era>(), Ok(e));
        }
        assert_eq!("6.10".parse::<Era>(), Ok(Era::V6_10));
        assert!("v5.7".parse::<Era>().is_err());
    }

    #[test]
    fn each_era_changes_what_its_commits_changed() {
        let (a, b) = (Era::V5_4.features(), Era::V5_5.features());
        assert!(a.reserve_skips_runtime && !b.reserve_skips_runtime);
        assert!(!a.reserve_updates_e820 && b.reserve_updates_e820);
        assert_eq!(b.fake_mem, FakeMem::Buggy);
        let c = Era::V5_6.features();
        assert_eq!(
            (c.fake_mem, c.old_map_free),
            (FakeMem::Fixed, OldMapFree::InInit)
        );
        let d = Era::V6_10.features();
        assert_eq!(d.old_map_free, OldMapFree::AfterInstall);
        assert_eq!(d.sort, SortVariant::DoublePop);
        assert_eq!(Era::V6_11.features().fake_mem, FakeMem::Removed);
    }
}
