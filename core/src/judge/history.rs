//! The bugs this code's history holds, in one table, [`BUGS`]: each the
//! era that has it, the era without it where there is one, the signature
//! it shows, and the commits. The bug benchmark (`efimap bench --bugs`)
//! measures how soon the searches find each; adding a bug is adding a row.
//!
//! A bug shows on a scenario when its era shows its signature there and,
//! where the table names an era without it, that era does not show it on
//! the same scenario: the difference is the bug, not another cause of the
//! same signature.

use crate::cases::scenario::Scenario;
use crate::judge::findings::check_quiet;
use crate::judge::signature::{Class, Signature};
use crate::model::era::{Commit, Era};

/// One bug of the history.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bug {
    /// A short name, for tables.
    pub name: &'static str,
    pub signature: Signature,
    /// An era that has it.
    pub era: Era,
    /// An era that does not (fixed, or from before it came in), if any.
    pub without: Option<Era>,
    /// The commit that brought it in, and the one that took it out.
    pub introduced: Option<Commit>,
    pub fixed: Option<Commit>,
    /// The corpus file that shows it.
    pub corpus: &'static str,
}

const fn sig(class: Class, function: &'static str) -> Signature {
    Signature::new(class, function)
}

const fn c(id: &'static str, subject: &'static str) -> Option<Commit> {
    Some(Commit { id, subject })
}

const FAKE_MEM_BORN: Option<Commit> = c("0f96a99dab36", "efi: Add 'efi_fake_mem' boot option");
const FAKE_MEM_FIX: Option<Commit> = c(
    "484a418d0754",
    "efi: Fix handling of multiple efi_fake_mem= entries",
);
const FREE_AFTER_INSTALL: Option<Commit> = c(
    "75dde792d6f6",
    "efi/x86: Free EFI memory map only when installing a new one.",
);

/// Every bug of the history, oldest first.
pub static BUGS: &[Bug] = &[
    Bug {
        name: "2019: every range counted against the original map",
        signature: sig(Class::OverCount, "efi_fake_memmap"),
        era: Era::V5_5,
        without: Some(Era::V5_6),
        introduced: FAKE_MEM_BORN,
        fixed: FAKE_MEM_FIX,
        corpus: "dave-young-two-inside-ranges.scn",
    },
    Bug {
        name: "2019: empty entries left in the map",
        signature: sig(Class::EmptyEntry, "efi_fake_memmap"),
        era: Era::V5_5,
        without: Some(Era::V5_6),
        introduced: FAKE_MEM_BORN,
        fixed: FAKE_MEM_FIX,
        corpus: "dave-young-two-inside-ranges.scn",
    },
    Bug {
        name: "2019: only the last range applied",
        signature: sig(Class::LostAttribute, "efi_fake_memmap"),
        era: Era::V5_5,
        without: Some(Era::V5_6),
        introduced: FAKE_MEM_BORN,
        fixed: FAKE_MEM_FIX,
        corpus: "dave-young-two-inside-ranges.scn",
    },
    Bug {
        name: "2019: the BGRT reservation writes past its map",
        signature: sig(Class::Overrun, "efi_arch_mem_reserve"),
        era: Era::V5_5,
        without: Some(Era::V5_6),
        introduced: c(
            "af1648984828",
            "x86/efi: Update e820 with reserved EFI boot services data to fix kexec breakage",
        ),
        fixed: FAKE_MEM_FIX,
        corpus: "dan-williams-two-contiguous-sp.scn",
    },
    Bug {
        name: "the replaced fake_mem map leaked",
        signature: sig(Class::Leak, "efi_fake_memmap"),
        era: Era::V5_5,
        without: Some(Era::V5_6),
        introduced: FAKE_MEM_BORN,
        fixed: c("f0ef6523475f", "efi: Fix efi_memmap_alloc() leaks"),
        corpus: "single-8g-sp-clean.scn",
    },
    Bug {
        name: "kexec clobbers a RUNTIME reservation e820 calls RAM",
        signature: sig(Class::KexecClobber, "efi_arch_mem_reserve"),
        era: Era::V5_4,
        without: Some(Era::V5_5),
        introduced: c(
            "816e76129ed5",
            "efi: Allow drivers to reserve boot services forever",
        ),
        fixed: c(
            "af1648984828",
            "x86/efi: Update e820 with reserved EFI boot services data to fix kexec breakage",
        ),
        corpus: "esrt-in-boot-services-data-kexec-initrd-clobber.scn",
    },
    Bug {
        name: "init_late frees the map it remaps (B4)",
        signature: sig(Class::UseAfterFree, "efi_memmap_init_late"),
        era: Era::V5_6,
        without: Some(Era::V6_10),
        introduced: c("f0ef6523475f", "efi: Fix efi_memmap_alloc() leaks"),
        fixed: FREE_AFTER_INSTALL,
        corpus: "reserve-then-kexec-use-after-free.scn",
    },
    Bug {
        name: "equal starts sorted the other way (lib/sort.c, v6.9)",
        signature: sig(Class::EmptyEntry, "efi_fake_memmap"),
        era: Era::V5_6,
        without: Some(Era::V6_10),
        introduced: None,
        fixed: None,
        corpus: "sort-equal-starts-v5.6-vs-v6.10.scn",
    },
    Bug {
        name: "75dde792 leaves the reservation's map when virtual mode replaces it",
        signature: sig(Class::Leak, "efi_arch_mem_reserve"),
        era: Era::V6_10,
        without: Some(Era::V5_6),
        introduced: FREE_AFTER_INSTALL,
        fixed: None,
        corpus: "virtual-mode-page-zero-and-reservation-kept.scn",
    },
    Bug {
        name: "75dde792 leaves the fake_mem map when virtual mode replaces it",
        signature: sig(Class::Leak, "efi_fake_memmap"),
        era: Era::V6_10,
        without: Some(Era::V5_6),
        introduced: FREE_AFTER_INSTALL,
        fixed: None,
        corpus: "virtual-mode-fake-mem-map-leak.scn",
    },
    Bug {
        name: "a misaligned range installs an unwritten map",
        signature: sig(Class::UninitializedInstall, "efi_fake_memmap"),
        era: Era::V6_10,
        without: None,
        introduced: FAKE_MEM_FIX,
        fixed: c(
            "37aee82c213d",
            "x86/efi: Drop support for fake EFI memory maps",
        ),
        corpus: "misaligned-range-uninitialized-install.scn",
    },
    Bug {
        name: "today: a reservation cutting another descriptor overruns",
        signature: sig(Class::Overrun, "efi_arch_mem_reserve"),
        era: Era::V6_12_Y,
        without: Some(Era::V7_0_RC_FIX),
        introduced: None,
        fixed: None,
        corpus: "overlapping-descriptors-reserve-overrun.scn",
    },
    Bug {
        name: "2026: ranges_to_free 15 bytes short",
        signature: sig(Class::Overread, "efi_free_boot_services"),
        era: Era::V7_0_RC,
        without: Some(Era::V6_12_Y),
        introduced: c(
            "a4b0bf6a40f3",
            "x86/efi: defer freeing of boot services memory",
        ),
        fixed: c(
            "217c0a5c177a",
            "x86/efi: efi_unmap_boot_services: fix calculation of ranges_to_free size",
        ),
        corpus: "two-boot-services-regions-sentinel-overread.scn",
    },
];

impl Bug {
    /// Whether `sc` shows this bug: its era shows the signature and the
    /// era without it, if named, does not.
    pub fn shows(&self, sc: &Scenario) -> bool {
        self.shown(|era| {
            check_quiet(era, &sc.input)
                .is_ok_and(|(_, c)| c.counted().any(|f| f.signature() == self.signature))
        })
    }

    /// [`Bug::shows`], given whether an era shows the signature (as a
    /// search counts findings).
    pub fn shown(&self, has: impl Fn(Era) -> bool) -> bool {
        has(self.era) && self.without.is_none_or(|w| !has(w))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each bug shows on the corpus file the table names.
    #[test]
    fn each_bug_shows_on_its_corpus_file() {
        let dir = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../corpus"));
        for bug in BUGS {
            let sc = crate::cases::corpus::load(&dir.join(bug.corpus)).unwrap();
            assert!(bug.shows(&sc), "{}: {}", bug.name, bug.corpus);
        }
    }
}
