//! Every kernel function the model has, in one table: [`Func`].
//!
//! The functions a boot enters through [`crate::model::kernel::Kernel`]'s
//! scoped call are on the modelled call stack (they name who did what, and
//! a [`crate::judge::signature::Signature`] names one of them); the others
//! are helpers the model runs inside their callers (`efi_merge_regions`,
//! `realloc_pages`, ...), which only count. Either way each call is
//! counted, so that a search can say which of the kernel's functions it
//! reached and how often ([`Calls`]).

use crate::model::era::{BootServices, FakeMem, Features, SoftReserveE820};

/// The table: each entry the enum's variant and the kernel's name.
macro_rules! functions {
    ($($v:ident = $name:literal,)*) => {
        /// A kernel function the model has.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Func {
            $($v,)*
        }

        impl Func {
            /// Every one, in the table's order.
            pub const ALL: &'static [Func] = &[$(Func::$v,)*];

            /// The kernel's name for it.
            pub const fn name(self) -> &'static str {
                match self {
                    $(Func::$v => $name,)*
                }
            }
        }

        /// Every function the model names, as [`Func::ALL`] spells them.
        pub const FUNCTIONS: &[&str] = &[$($name,)*];
    };
}

functions! {
    StartKernel = "start_kernel",
    SetupArch = "setup_arch",
    ParseEarlyParam = "parse_early_param",
    SetupFakeMem = "setup_fake_mem",
    EfiMemblockX86ReserveRange = "efi_memblock_x86_reserve_range",
    EfiInit = "efi_init",
    EfiCleanMemmap = "efi_clean_memmap",
    EfiPrintMemmap = "efi_print_memmap",
    EfiFakeMemmap = "efi_fake_memmap",
    EfiFakeMemmapEarly = "efi_fake_memmap_early",
    EfiFakeRange = "efi_fake_range",
    EfiMemReserve = "efi_mem_reserve",
    EfiArchMemReserve = "efi_arch_mem_reserve",
    EfiMemDescLookup = "efi_mem_desc_lookup",
    EfiMemmapSplitCount = "efi_memmap_split_count",
    EfiMemmapInsert = "efi_memmap_insert",
    EfiMemmapAlloc = "efi_memmap_alloc",
    EfiMemmapFree = "__efi_memmap_free",
    EfiMemmapInitInner = "__efi_memmap_init",
    EfiMemmapInstall = "efi_memmap_install",
    EfiMemmapInitEarly = "efi_memmap_init_early",
    EfiMemmapInitLate = "efi_memmap_init_late",
    EfiMemmapUnmap = "efi_memmap_unmap",
    EarlyIoremap = "__early_ioremap",
    KexecEnterVirtualMode = "kexec_enter_virtual_mode",
    EfiEnterVirtualMode = "efi_enter_virtual_mode",
    EfiReserveBootServices = "efi_reserve_boot_services",
    EfiUnmapBootServices = "efi_unmap_boot_services",
    EfiFreeBootServices = "efi_free_boot_services",
    EfiRuntimeMapInit = "efi_runtime_map_init",
    EfiEnterVirtualModeInner = "__efi_enter_virtual_mode",
    EfiMapRegions = "efi_map_regions",
    DoInitcalls = "do_initcalls",
    E820MemorySetup = "e820__memory_setup",
    EfiRemoveE820Mmio = "efi_remove_e820_mmio",
    EfiBgrtInit = "efi_bgrt_init",
    // Helpers: counted, never on the call stack.
    ParseEfiCmdline = "parse_efi_cmdline",
    SetupNoefi = "setup_noefi",
    Sort = "sort",
    EfiMemmapEntryValid = "efi_memmap_entry_valid",
    EfiMergeRegions = "efi_merge_regions",
    ShouldMapRegion = "should_map_region",
    EfiMapRegion = "efi_map_region",
    ReallocPages = "realloc_pages",
    Memremap = "memremap",
}

/// How many functions [`Func::ALL`] has.
pub const COUNT: usize = Func::ALL.len();

impl Func {
    /// The entry spelled `name`.
    pub fn named(name: &str) -> Option<Func> {
        Func::ALL.iter().copied().find(|f| f.name() == name)
    }

    /// Whether the model's boot flow does not run it: `e820__memory_setup`
    /// is the judge's replay of the e820 table after the boot
    /// ([`crate::model::kexec`]), not a step of the modelled boot.
    pub const fn outside_the_boot(self) -> bool {
        matches!(self, Func::E820MemorySetup)
    }

    /// Whether a kernel with these features has the function at all.
    pub fn exists_in(self, f: &Features) -> bool {
        match self {
            Func::SetupFakeMem | Func::EfiFakeMemmap | Func::Sort => f.fake_mem != FakeMem::Removed,
            Func::EfiFakeRange => f.fake_mem == FakeMem::Fixed,
            Func::EfiFakeMemmapEarly => f.soft_reserve_e820 != SoftReserveE820::None,
            Func::EfiUnmapBootServices => matches!(f.boot_services, BootServices::Deferred { .. }),
            Func::EfiRemoveE820Mmio => f.remove_e820_mmio,
            _ => true,
        }
    }
}

/// Calls of each function in one boot (or, summed, in many).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Calls(pub [u32; COUNT]);

impl Default for Calls {
    fn default() -> Self {
        Calls([0; COUNT])
    }
}

impl Calls {
    /// One more call of `f`.
    #[inline]
    pub fn add(&mut self, f: Func) {
        let c = &mut self.0[f as usize];
        *c = c.saturating_add(1);
    }

    /// The calls of `f`.
    pub fn of(&self, f: Func) -> u32 {
        self.0[f as usize]
    }

    /// Whether nothing was counted (an engine that does not count).
    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|&c| c == 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_found_again() {
        for (i, f) in Func::ALL.iter().enumerate() {
            assert_eq!(*f as usize, i);
            assert_eq!(Func::named(f.name()), Some(*f));
            assert_eq!(FUNCTIONS[i], f.name());
        }
        assert_eq!(Func::named("efi_memmap_inser"), None);
    }

    /// The names in a C array `static const char *const NAME[] = { ... };`
    /// of `text`, in order.
    fn c_array<'a>(text: &'a str, name: &str) -> Vec<&'a str> {
        let start = text
            .find(&format!("*const {name}[] = {{"))
            .unwrap_or_else(|| panic!("kernel/shim.c has no {name}[]"));
        let body = &text[start..];
        let body = &body[body.find('{').unwrap() + 1..body.find("};").unwrap()];
        body.split(',')
            .map(|w| w.trim().trim_matches('"'))
            .filter(|w| !w.is_empty())
            .collect()
    }

    /// The tree engine's shim names the functions on the call stack and
    /// the memmap API in lists of its own (C cannot read the table): they
    /// are the table's, in its order, the helpers (from
    /// `parse_efi_cmdline` on, never on the stack) left out.
    #[test]
    fn the_shims_lists_are_the_tables() {
        let shim = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../kernel/shim.c"),
        )
        .unwrap();
        let helpers = Func::ParseEfiCmdline as usize;
        assert_eq!(c_array(&shim, "model_functions"), FUNCTIONS[..helpers]);
        assert_eq!(
            c_array(&shim, "memmap_api"),
            crate::model::kernel::MEMMAP_API
        );
    }
}
