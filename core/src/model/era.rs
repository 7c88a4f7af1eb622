//! Kernel eras: each a short list of differences from the one before.
//!
//! The functions in [`crate::model::memmap`], [`crate::model::fake_mem`], [`crate::model::quirks`]
//! and [`crate::model::efi`] are written once; where the kernel changed, they
//! consult the era's [`Features`]. [`Era::features`] builds each era's
//! features from the previous era's, so the table below reads as the
//! history of the code.

use std::fmt;
use std::str::FromStr;

/// A kernel release whose EFI memory-map code efimap models.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum Era {
    /// v5.4 (E1): `drivers/firmware/efi/memmap.c` with the bool `late`;
    /// buggy `efi_fake_memmap` (since 0f96a99dab36); `efi_arch_mem_reserve`
    /// returns early for RUNTIME descriptors (quirks.c as at 704f63ef);
    /// no EFI_MEMORY_SP column in the printer.
    #[serde(rename = "v5.4")]
    V5_4,
    /// v5.5 (E1b): fe3e5e65c06e enumerates EFI_MEMORY_SP (printer column),
    /// 199c84717612 adds `efi_fake_memmap_early`, and the seed commit
    /// af164898482817a1d487964b68f3c21bae7a1beb removes the RUNTIME early
    /// return and adds the e820 update. The crash era.
    #[serde(rename = "v5.5")]
    V5_5,
    /// v5.6 (E2): Dan Williams' series, 1db91035d01a (flags, data block),
    /// f0ef6523475f (old map freed inside `__efi_memmap_init`: bug B4),
    /// 484a418d0754 (per-range `efi_fake_range`), with 59365cadfbcd
    /// (efi_clean_memmap size).
    #[serde(rename = "v5.6")]
    V5_6,
    /// v6.10 (E4): 6277e374 (short names, CC column), the move of the
    /// manipulation code to arch/x86 (fdc6d38d, 4059ba65, d85e3e34), the
    /// lookup that skips bogus entries (ab03e91e60ce), Kuan-Wei Chiu's
    /// lib/sort.c changes (v6.9), and 75dde792d6f6 (old map freed only after
    /// a successful install).
    #[serde(rename = "v6.10")]
    V6_10,
    /// v6.11 (E5): 37aee82c213d removes `efi_fake_mem`; the option becomes an
    /// unknown parameter passed to init.
    #[serde(rename = "v6.11")]
    V6_11,
}

/// How `efi_fake_memmap` behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FakeMem {
    /// Counts every range against the original map, inserts every range from
    /// the original map into one buffer (spec 4.2).
    Buggy,
    /// `efi_fake_range` per range, each on the map the previous one made
    /// (484a418d, spec 4.3).
    Fixed,
    /// No `efi_fake_mem` at all (37aee82c).
    Removed,
}

/// When a replaced, dynamically allocated map is freed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OldMapFree {
    /// Never: every replaced map leaks (before f0ef6523).
    Never,
    /// In `__efi_memmap_init`, also on the init_late path (f0ef6523 .. v6.9, bug B4).
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
    /// `efi_memory_map.flags` and the `efi_memory_map_data` API of
    /// 1db91035; before it, the bool `late` and `efi_memmap_alloc(n) -> phys`.
    pub memmap_flags: bool,
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
}

impl Era {
    pub const ALL: [Era; 5] = [Era::V5_4, Era::V5_5, Era::V5_6, Era::V6_10, Era::V6_11];

    /// This era's features, as differences from the previous era's.
    pub const fn features(self) -> Features {
        match self {
            Era::V5_4 => Features {
                reserve_skips_runtime: true,
                reserve_updates_e820: false,
                memmap_flags: false,
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
            },
            Era::V5_5 => Features {
                reserve_skips_runtime: false,
                reserve_updates_e820: true,
                soft_reserve_e820: SoftReserveE820::Update,
                printer: PrinterFormat::Long13Sp,
                ..Era::V5_4.features()
            },
            Era::V5_6 => Features {
                memmap_flags: true,
                old_map_free: OldMapFree::InInit,
                fake_mem: FakeMem::Fixed,
                x86_efi_old_map_param: false,
                ..Era::V5_5.features()
            },
            Era::V6_10 => Features {
                old_map_free: OldMapFree::AfterInstall,
                soft_reserve_e820: SoftReserveE820::RemoveAdd,
                sort: SortVariant::DoublePop,
                printer: PrinterFormat::Short14Cc,
                x86_memmap: true,
                lookup_skips_bogus: true,
                efi_runtime_option: true,
                unknown_params_notice: true,
                ..Era::V5_6.features()
            },
            Era::V6_11 => Features {
                fake_mem: FakeMem::Removed,
                soft_reserve_e820: SoftReserveE820::None,
                ..Era::V6_10.features()
            },
        }
    }

    pub const fn name(self) -> &'static str {
        match self {
            Era::V5_4 => "v5.4",
            Era::V5_5 => "v5.5",
            Era::V5_6 => "v5.6",
            Era::V6_10 => "v6.10",
            Era::V6_11 => "v6.11",
        }
    }
}

impl fmt::Display for Era {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An era name that is not one of [`Era::ALL`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownEra(pub String);

impl fmt::Display for UnknownEra {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown era `{}`: expected one of v5.4, v5.5, v5.6, v6.10, v6.11",
            self.0
        )
    }
}

impl std::error::Error for UnknownEra {}

impl FromStr for Era {
    type Err = UnknownEra;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Era::ALL
            .into_iter()
            .find(|e| e.name() == s || e.name()[1..] == *s)
            .ok_or_else(|| UnknownEra(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for e in Era::ALL {
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
