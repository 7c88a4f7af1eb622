//! The dmesg form of a map: `efi_md_typeattr_format` and the line
//! `efi_print_memmap` prints (drivers/firmware/efi/efi.c and
//! arch/x86/platform/efi/efi.c; formats by era as read at fe3e5e65,
//! 6277e374 and ba69e0750b03).

use crate::model::desc::{attr, MemoryDesc};
use crate::model::era::PrinterFormat;

/// `memory_type_name[][20]` before 6277e374 (printed 19 wide).
pub const LONG_NAMES: [&str; 15] = [
    "Reserved",
    "Loader Code",
    "Loader Data",
    "Boot Code",
    "Boot Data",
    "Runtime Code",
    "Runtime Data",
    "Conventional Memory",
    "Unusable Memory",
    "ACPI Reclaim Memory",
    "ACPI Memory NVS",
    "Memory Mapped I/O",
    "MMIO Port Space",
    "PAL Code",
    "Persistent Memory",
];

/// `memory_type_name[][13]` from 6277e374 (printed 12 wide).
pub const SHORT_NAMES: [&str; 15] = [
    "Reserved",
    "Loader Code",
    "Loader Data",
    "Boot Code",
    "Boot Data",
    "Runtime Code",
    "Runtime Data",
    "Conventional",
    "Unusable",
    "ACPI Reclaim",
    "ACPI Mem NVS",
    "MMIO",
    "MMIO Port",
    "PAL Code",
    "Persistent",
];

/// `EFI_UNACCEPTED_MEMORY`.
pub const UNACCEPTED: u32 = 15;

/// `EFI_MEMORY_HOT_PLUGGABLE` (ba69e0750b03).
pub const ATTR_HOT_PLUGGABLE: u64 = 1 << 20;

/// One attribute column: its bit, label and width.
pub type Column = (u64, &'static str, usize);

const RUN: Column = (attr::RUNTIME, "RUN", 3);
const HP: Column = (ATTR_HOT_PLUGGABLE, "HP", 2);
const MR: Column = (attr::MORE_RELIABLE, "MR", 2);
const CC: Column = (attr::CPU_CRYPTO, "CC", 2);
const SP: Column = (attr::SP, "SP", 2);
const TAIL: [Column; 10] = [
    (attr::NV, "NV", 2),
    (attr::XP, "XP", 2),
    (attr::RP, "RP", 2),
    (attr::WP, "WP", 2),
    (attr::RO, "RO", 2),
    (attr::UCE, "UCE", 3),
    (attr::WB, "WB", 2),
    (attr::WT, "WT", 2),
    (attr::WC, "WC", 2),
    (attr::UC, "UC", 2),
];

impl PrinterFormat {
    /// The type names and the width they are padded to.
    pub const fn names(self) -> (&'static [&'static str], usize) {
        match self {
            PrinterFormat::Long12 | PrinterFormat::Long13Sp => (&LONG_NAMES, 19),
            PrinterFormat::Short14Cc | PrinterFormat::Short15Hp => (&SHORT_NAMES, 12),
        }
    }

    /// The columns in printed order.
    pub fn columns(self) -> Vec<Column> {
        let head: &[Column] = match self {
            PrinterFormat::Long12 => &[RUN, MR],
            PrinterFormat::Long13Sp => &[RUN, MR, SP],
            PrinterFormat::Short14Cc => &[RUN, MR, CC, SP],
            PrinterFormat::Short15Hp => &[RUN, HP, MR, CC, SP],
        };
        head.iter().chain(TAIL.iter()).copied().collect()
    }

    /// The attribute bits this printer knows; any other bit selects the
    /// `attr=0x...` form.
    pub fn known_mask(self) -> u64 {
        self.columns().iter().fold(0, |m, c| m | c.0)
    }
}

/// Appends `s` to `out` the way `snprintf(pos, size, ...)` would: at most
/// `size - 1` bytes. Returns the untruncated length (snprintf's result).
fn snprintf(out: &mut String, size: usize, s: &str) -> usize {
    let room = size.saturating_sub(1);
    out.push_str(&s[..s.len().min(room)]);
    s.len()
}

/// `efi_md_typeattr_format(buf, 64, md)`: `[Type  |RUN|..|UC]`, the
/// `[type=N` form for unnamed types, the `|attr=0x...]` form for unknown
/// bits, truncated to fit 64 bytes with the NUL.
pub fn efi_md_typeattr_format(md: &MemoryDesc, format: PrinterFormat) -> String {
    efi_md_typeattr_format_with(md, format, false)
}

/// [`efi_md_typeattr_format`] with `unaccepted`: type 15 is named
/// "Unaccepted" (v6.5 on; the era's `unaccepted_name`).
pub fn efi_md_typeattr_format_with(
    md: &MemoryDesc,
    format: PrinterFormat,
    unaccepted: bool,
) -> String {
    const BUF: usize = 64;
    let (names, width) = format.names();
    let name = match names.get(md.ty as usize) {
        Some(&name) => Some(name),
        None if unaccepted && md.ty == UNACCEPTED => Some("Unaccepted"),
        None => None,
    };
    let head = match name {
        Some(name) => format!("[{:<width$}", name),
        None => format!("[type={}", md.ty),
    };
    let mut out = String::with_capacity(BUF);
    let type_len = snprintf(&mut out, BUF, &head);
    if type_len >= BUF {
        return out;
    }
    let size = BUF - type_len;
    let a = md.attribute;
    let tail = if a & !format.known_mask() != 0 {
        format!("|attr=0x{:016x}]", a)
    } else {
        let mut t = String::new();
        for (bit, label, w) in format.columns() {
            let shown = if a & bit != 0 { label } else { "" };
            t.push('|');
            t.push_str(&format!("{:>w$}", shown));
        }
        t.push(']');
        t
    };
    snprintf(&mut out, size, &tail);
    out
}

/// The line `efi_print_memmap` prints for descriptor `i`, with the
/// `efi: ` prefix: `efi: mem00: [...] range=[0x...-0x...] (NMB)`.
pub fn memmap_line(i: usize, md: &MemoryDesc, format: PrinterFormat) -> String {
    memmap_line_with(i, md, format, false)
}

/// [`memmap_line`] with type 15 named "Unaccepted" if `unaccepted`.
pub fn memmap_line_with(
    i: usize,
    md: &MemoryDesc,
    format: PrinterFormat,
    unaccepted: bool,
) -> String {
    format!(
        "efi: mem{:02}: {} range=[0x{:016x}-0x{:016x}] ({}MB)",
        i,
        efi_md_typeattr_format_with(md, format, unaccepted),
        md.phys_addr,
        md.end(),
        md.num_pages >> (20 - crate::model::desc::EFI_PAGE_SHIFT)
    )
}

/// Every line `efi_print_memmap` would print for `descs`.
pub fn memmap_lines(descs: &[MemoryDesc], format: PrinterFormat) -> Vec<String> {
    descs
        .iter()
        .enumerate()
        .map(|(i, md)| memmap_line(i, md, format))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::desc::ty;

    const ALL_CACHE: u64 = attr::UC | attr::WC | attr::WT | attr::WB;

    #[test]
    fn type_15_is_named_from_v6_5() {
        let md = MemoryDesc::new(UNACCEPTED, 0x1000, 1, attr::WB);
        assert_eq!(
            efi_md_typeattr_format_with(&md, PrinterFormat::Short15Hp, true),
            "[Unaccepted  |   |  |  |  |  |  |  |  |  |  |   |WB|  |  |  ]"
        );
        assert!(
            efi_md_typeattr_format_with(&md, PrinterFormat::Short15Hp, false)
                .starts_with("[type=15|")
        );
    }

    #[test]
    fn a_v5_5_line_with_the_sp_column() {
        // Dave Young's dmesg, 2019-12-31.
        let md = MemoryDesc::new(
            ty::CONVENTIONAL_MEMORY,
            0x1_5e00_0000,
            0x12c00,
            attr::SP | ALL_CACHE,
        );
        assert_eq!(
            memmap_line(48, &md, PrinterFormat::Long13Sp),
            "efi: mem48: [Conventional Memory|   |  |SP|  |  |  |  |  |   |WB|WT|WC|UC] range=[0x000000015e000000-0x0000000170bfffff] (300MB)"
        );
    }

    #[test]
    fn empty_entry_prints_to_the_top() {
        let md = MemoryDesc::default();
        assert_eq!(
            memmap_line(4, &md, PrinterFormat::Long13Sp),
            "efi: mem04: [Reserved           |   |  |  |  |  |  |  |  |   |  |  |  |  ] range=[0x0000000000000000-0xffffffffffffffff] (0MB)"
        );
    }

    #[test]
    fn fallbacks() {
        let unnamed = MemoryDesc::new(15, 0x1000, 1, attr::WB);
        assert_eq!(
            efi_md_typeattr_format(&unnamed, PrinterFormat::Long13Sp),
            "[type=15|   |  |  |  |  |  |  |  |   |WB|  |  |  ]"
        );
        // SP is unknown to the v5.4 printer: the attr= form.
        let sp = MemoryDesc::new(ty::CONVENTIONAL_MEMORY, 0, 1, attr::SP | attr::WB);
        assert_eq!(
            efi_md_typeattr_format(&sp, PrinterFormat::Long12),
            "[Conventional Memory|attr=0x0000000000040008]"
        );
        assert_eq!(
            efi_md_typeattr_format(&sp, PrinterFormat::Long13Sp),
            "[Conventional Memory|   |  |SP|  |  |  |  |  |   |WB|  |  |  ]"
        );
        let odd = MemoryDesc::new(u32::MAX, 0, 1, 1 << 40);
        assert_eq!(
            efi_md_typeattr_format(&odd, PrinterFormat::Short14Cc),
            "[type=4294967295|attr=0x0000010000000000]"
        );
    }

    #[test]
    fn short_names_with_cc_and_hp() {
        let md = MemoryDesc::new(
            ty::RUNTIME_SERVICES_DATA,
            0,
            1,
            attr::RUNTIME | attr::CPU_CRYPTO | attr::UCE | ALL_CACHE,
        );
        assert_eq!(
            efi_md_typeattr_format(&md, PrinterFormat::Short14Cc),
            "[Runtime Data|RUN|  |CC|  |  |  |  |  |  |UCE|WB|WT|WC|UC]"
        );
        let hp = MemoryDesc::new(
            ty::CONVENTIONAL_MEMORY,
            0,
            1,
            ATTR_HOT_PLUGGABLE | attr::MORE_RELIABLE,
        );
        assert_eq!(
            efi_md_typeattr_format(&hp, PrinterFormat::Short15Hp),
            "[Conventional|   |HP|MR|  |  |  |  |  |  |  |   |  |  |  |  ]"
        );
        // CC is unknown before 6277e374.
        assert!(efi_md_typeattr_format(&md, PrinterFormat::Long13Sp)
            .contains("|attr=0x800000000008001f]"));
    }

    #[test]
    fn masks_by_era() {
        assert_eq!(PrinterFormat::Long12.known_mask(), 0x8000_0000_0003_f01f);
        assert_eq!(PrinterFormat::Long13Sp.known_mask(), 0x8000_0000_0007_f01f);
        assert_eq!(PrinterFormat::Short14Cc.known_mask(), 0x8000_0000_000f_f01f);
        assert_eq!(PrinterFormat::Short15Hp.known_mask(), 0x8000_0000_001f_f01f);
    }

    #[test]
    fn worst_case_fits_64_bytes() {
        let md = MemoryDesc::new(
            ty::ACPI_RECLAIM_MEMORY,
            0,
            0,
            PrinterFormat::Long13Sp.known_mask(),
        );
        let s = efi_md_typeattr_format(&md, PrinterFormat::Long13Sp);
        assert_eq!(s.len(), 62);
        assert!(s.ends_with("|UC]"));
        // The attr= form is 1 + W + 25 characters.
        let odd = MemoryDesc::new(ty::ACPI_RECLAIM_MEMORY, 0, 0, 1 << 40);
        assert_eq!(
            efi_md_typeattr_format(&odd, PrinterFormat::Long13Sp).len(),
            1 + 19 + 25
        );
    }
}
