//! `efi_memory_desc_t`: the 40-byte descriptor, its constants, and the
//! kernel's (wrapping) notion of where a descriptor ends.
//!
//! Layout (include/linux/efi.h, little-endian, natural alignment):
//! `type: u32 @0, pad: u32 @4, phys_addr: u64 @8, virt_addr: u64 @16,
//! num_pages: u64 @24, attribute: u64 @32`. Firmware hands the kernel a
//! separate stride, `desc_size`, which may be larger than 40; the bytes past
//! 40 are vendor bytes that travel with every copy the kernel makes.

/// EFI_PAGE_SHIFT.
pub const EFI_PAGE_SHIFT: u32 = 12;
/// EFI_PAGE_SIZE.
pub const EFI_PAGE_SIZE: u64 = 1 << EFI_PAGE_SHIFT;
/// EFI_PAGES_MAX: the most pages a 64-bit address space holds.
pub const EFI_PAGES_MAX: u64 = u64::MAX >> EFI_PAGE_SHIFT;
/// `sizeof(efi_memory_desc_t)`.
pub const DESC_LEN: usize = 40;
/// The stride EDK2-derived firmware uses: 40 rounded up to 8 plus 8.
pub const DEFAULT_DESC_SIZE: u64 = 48;
/// `EFI_MEMORY_DESCRIPTOR_VERSION`.
pub const EFI_MEMORY_DESCRIPTOR_VERSION: u32 = 1;

/// Memory types (include/linux/efi.h).
pub mod ty {
    pub const RESERVED: u32 = 0;
    pub const LOADER_CODE: u32 = 1;
    pub const LOADER_DATA: u32 = 2;
    pub const BOOT_SERVICES_CODE: u32 = 3;
    pub const BOOT_SERVICES_DATA: u32 = 4;
    pub const RUNTIME_SERVICES_CODE: u32 = 5;
    pub const RUNTIME_SERVICES_DATA: u32 = 6;
    pub const CONVENTIONAL_MEMORY: u32 = 7;
    pub const UNUSABLE_MEMORY: u32 = 8;
    pub const ACPI_RECLAIM_MEMORY: u32 = 9;
    pub const ACPI_MEMORY_NVS: u32 = 10;
    pub const MEMORY_MAPPED_IO: u32 = 11;
    pub const MEMORY_MAPPED_IO_PORT_SPACE: u32 = 12;
    pub const PAL_CODE: u32 = 13;
    pub const PERSISTENT_MEMORY: u32 = 14;
}

/// Attribute bits (include/linux/efi.h).
pub mod attr {
    pub const UC: u64 = 0x1;
    pub const WC: u64 = 0x2;
    pub const WT: u64 = 0x4;
    pub const WB: u64 = 0x8;
    pub const UCE: u64 = 0x10;
    pub const WP: u64 = 0x1000;
    pub const RP: u64 = 0x2000;
    pub const XP: u64 = 0x4000;
    pub const NV: u64 = 0x8000;
    pub const MORE_RELIABLE: u64 = 0x10000;
    pub const RO: u64 = 0x20000;
    /// EFI_MEMORY_SP, "specific purpose" (soft reserved); enumerated from v5.5.
    pub const SP: u64 = 0x40000;
    /// EFI_MEMORY_CPU_CRYPTO; printed from 6277e374.
    pub const CPU_CRYPTO: u64 = 0x80000;
    pub const RUNTIME: u64 = 1 << 63;
}

/// One `efi_memory_desc_t`, decoded. The vendor bytes past [`DESC_LEN`] are
/// not part of it; they live only in the simulated memory.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct MemoryDesc {
    pub ty: u32,
    pub pad: u32,
    pub phys_addr: u64,
    pub virt_addr: u64,
    pub num_pages: u64,
    pub attribute: u64,
}

/// Byte offsets of the fields, for the models' read-modify-write accesses.
pub mod off {
    pub const TYPE: u64 = 0;
    pub const PAD: u64 = 4;
    pub const PHYS_ADDR: u64 = 8;
    pub const VIRT_ADDR: u64 = 16;
    pub const NUM_PAGES: u64 = 24;
    pub const ATTRIBUTE: u64 = 32;
}

fn le_u32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn le_u64(b: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(w)
}

impl MemoryDesc {
    /// A descriptor with no pad and no virtual address.
    pub const fn new(ty: u32, phys_addr: u64, num_pages: u64, attribute: u64) -> Self {
        MemoryDesc {
            ty,
            pad: 0,
            phys_addr,
            virt_addr: 0,
            num_pages,
            attribute,
        }
    }

    /// Decodes the first 40 bytes of `b` (which must hold at least 40).
    pub fn from_bytes(b: &[u8]) -> Self {
        MemoryDesc {
            ty: le_u32(b, 0),
            pad: le_u32(b, 4),
            phys_addr: le_u64(b, 8),
            virt_addr: le_u64(b, 16),
            num_pages: le_u64(b, 24),
            attribute: le_u64(b, 32),
        }
    }

    /// The 40 bytes of this descriptor.
    pub fn to_bytes(&self) -> [u8; DESC_LEN] {
        let mut b = [0u8; DESC_LEN];
        b[0..4].copy_from_slice(&self.ty.to_le_bytes());
        b[4..8].copy_from_slice(&self.pad.to_le_bytes());
        b[8..16].copy_from_slice(&self.phys_addr.to_le_bytes());
        b[16..24].copy_from_slice(&self.virt_addr.to_le_bytes());
        b[24..32].copy_from_slice(&self.num_pages.to_le_bytes());
        b[32..40].copy_from_slice(&self.attribute.to_le_bytes());
        b
    }

    /// The region's byte length as the kernel computes it: `num_pages << 12`
    /// in u64, silently truncated when `num_pages >= 2^52`.
    pub const fn byte_len(&self) -> u64 {
        self.num_pages << EFI_PAGE_SHIFT
    }

    /// The inclusive end the kernel computes,
    /// `phys_addr + (num_pages << 12) - 1` mod 2^64. An empty descriptor
    /// (0, 0) ends at `u64::MAX`; `pages == 0` at `X > 0` ends at `X - 1`.
    pub const fn end(&self) -> u64 {
        self.phys_addr.wrapping_add(self.byte_len()).wrapping_sub(1)
    }

    /// The exclusive end `efi_mem_desc_lookup` compares against (wraps to 0
    /// for a region that reaches 2^64 exactly).
    pub const fn end_exclusive(&self) -> u64 {
        self.phys_addr.wrapping_add(self.byte_len())
    }

    /// The bytes it covers as the judge and the pictures see them:
    /// `[start, end)` in u128, clipped at 2^64 (no wrap); `None` when
    /// [`MemoryDesc::byte_len`] is 0.
    pub fn span(&self) -> Option<(u128, u128)> {
        let len = u128::from(self.byte_len());
        let s = u128::from(self.phys_addr);
        (len > 0).then(|| (s, (s + len).min(1 << 64)))
    }
}

/// `struct efi_mem_range`: an inclusive `struct range` plus an attribute.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct MemRange {
    pub start: u64,
    /// Inclusive.
    pub end: u64,
    pub attribute: u64,
}

impl MemRange {
    pub const fn new(start: u64, end: u64, attribute: u64) -> Self {
        MemRange {
            start,
            end,
            attribute,
        }
    }

    /// The range `efi_fake_mem=size@start:attr` records: end wraps.
    pub const fn from_size(start: u64, size: u64, attribute: u64) -> Self {
        MemRange::new(start, start.wrapping_add(size).wrapping_sub(1), attribute)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_little_endian_at_kernel_offsets() {
        let d = MemoryDesc {
            ty: 7,
            pad: 0x0102_0304,
            phys_addr: 0x1122_3344_5566_7788,
            virt_addr: 0x99,
            num_pages: 0x100,
            attribute: attr::RUNTIME | attr::WB,
        };
        let b = d.to_bytes();
        assert_eq!(&b[0..4], &[7, 0, 0, 0]);
        assert_eq!(&b[4..8], &[4, 3, 2, 1]);
        assert_eq!(&b[8..16], &[0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11]);
        assert_eq!(b[16], 0x99);
        assert_eq!(&b[24..26], &[0, 1]);
        assert_eq!(&b[32..40], &[8, 0, 0, 0, 0, 0, 0, 0x80]);
        assert_eq!(MemoryDesc::from_bytes(&b), d);
    }

    #[test]
    fn ends_wrap_as_in_c() {
        assert_eq!(MemoryDesc::new(0, 0, 0, 0).end(), u64::MAX);
        assert_eq!(MemoryDesc::new(0, 0x5000, 0, 0).end(), 0x4fff);
        assert_eq!(MemoryDesc::new(7, 0xbea0_0000, 0x100, 0).end(), 0xbeaf_ffff);
        // 2^52 pages truncate to a zero length.
        assert_eq!(MemoryDesc::new(7, 0x1000, 1 << 52, 0).byte_len(), 0);
        // A region reaching 2^64 exactly: inclusive end MAX, exclusive end 0.
        let top = MemoryDesc::new(7, 0xffff_ffff_ffff_f000, 1, 0);
        assert_eq!(top.end(), u64::MAX);
        assert_eq!(top.end_exclusive(), 0);
    }
}
