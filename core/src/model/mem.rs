//! Simulated physical memory: the KASAN of the model.
//!
//! Every buffer the modelled kernel touches is an [`Allocation`] at a
//! simulated physical address, and every access names the allocation it
//! goes through. An access past the end is recorded as a [`Fault`] and
//! classified by what the kernel's mapping of the buffer covers:
//! `early_memremap` maps whole pages, so bytes past the end but inside the
//! buffer's last page are *silent corruption*, and bytes beyond it fall in
//! an unmapped fixmap page: a *page fault* (the kernel would oops). Either
//! way the bytes land in a shadow of the block and the model carries on as
//! if the page had been there, so one run shows everything that follows the
//! first bad write. (In the kernel, silent bytes overwrite whatever lies
//! next to the buffer, often the previous map; the shadow keeps them apart
//! and the fault record says where they went.)
//!
//! Placement follows the two allocators the EFI code uses: memblock
//! (before the slab allocator is up) allocates top-down with
//! `SMP_CACHE_BYTES` alignment, so a buffer ends at the top of the range it
//! came from; the page allocator hands out naturally aligned blocks of
//! `2^order` pages, `order` the smallest that fits, all of whose pages are
//! mapped. The model leaves an unused page after each block so that blocks
//! never share a page: a modelling device that keeps faults attributable.
//!
//! Nothing is zeroed by the model: new memory is filled by the run's
//! [`Fill`] policy. Frees poison the block (any later access is a
//! use-after-free) and keep its bytes, so the `Stale` policy can hand them to
//! the next allocation. Allocations fail, as an out-of-memory kernel's
//! would, past [`MAX_TOTAL_BYTES`] or when memblock's range is used up.

use crate::model::desc::EFI_PAGE_SIZE;

/// `SMP_CACHE_BYTES` on x86-64: memblock's alignment for the EFI maps.
pub const SMP_CACHE_BYTES: u64 = 64;
/// Top of the simulated memblock range (allocations grow down from here).
pub const MEMBLOCK_TOP: u64 = 0x8000_0000;
/// Base of the simulated page-allocator range (blocks grow up from here).
pub const PAGES_BASE: u64 = 0x1_0000_0000_0000;
/// Where the boot loader left the firmware's memory map.
pub const FIRMWARE_MAP_PHYS: u64 = 0x0800_0000;
/// How far past a block's mapped pages the model keeps written bytes. An
/// insert writes at most three descriptors per descriptor it reads from a
/// map that early_memremap could map (at most 64 pages), so 1 MiB holds any
/// overrun the early code can make.
const SHADOW_BYTES: u64 = 1 << 20;
/// Bottom of the simulated memblock range: above the firmware's map.
pub const MEMBLOCK_FLOOR: u64 = 0x1000_0000;
/// The most bytes all allocations of one run may hold.
pub const MAX_TOTAL_BYTES: u64 = 256 << 20;
/// The largest single buffer the model simulates (64 MiB); a larger
/// `efi_memmap_alloc` fails as an allocation failure would.
pub const MAX_MAP_BYTES: u64 = 64 << 20;
/// Where slab objects are placed, each on pages of its own.
pub const SLAB_BASE: u64 = 0x2_0000_0000_0000;

/// Index of an allocation in [`SimMemory::allocations`].
pub type AllocId = usize;

/// Which allocator a block came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AllocKind {
    /// Memory the firmware and boot loader handed over (the original map).
    Firmware,
    /// `memblock_phys_alloc(size, SMP_CACHE_BYTES)`.
    Memblock,
    /// `alloc_pages(GFP_KERNEL, order)`.
    Pages { order: u32 },
    /// `kmalloc`/`kzalloc` from the cache of `object`-byte objects. As
    /// with KASAN, the bytes past the requested size are a red zone.
    Slab { object: u64 },
}

/// The kmalloc size classes (x86_64, SLUB, 4 KiB pages); larger requests
/// go to the page allocator in the kernel, a page-rounded object here.
pub const KMALLOC_SIZES: [u64; 13] = [
    8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192,
];

/// The kmalloc object size that holds `size` bytes.
pub fn kmalloc_size(size: u64) -> u64 {
    KMALLOC_SIZES
        .iter()
        .copied()
        .find(|&c| c >= size)
        .unwrap_or_else(|| size.div_ceil(EFI_PAGE_SIZE).max(1) * EFI_PAGE_SIZE)
}

/// What fresh memory contains: a property of the run, not of the kernel.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Fill {
    /// Every byte 0x00, as on a freshly booted VM.
    Zero,
    /// Every byte the given value.
    Pattern(u8),
    /// The bytes the most recently freed block held, position by position
    /// (0x00 where it had none, or when nothing was freed yet).
    #[default]
    Stale,
}

/// Read or write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Access {
    Read,
    Write,
}

/// What was wrong with an access or a free.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FaultKind {
    /// Past the end of the allocation. `page_fault` says whether the bytes
    /// lie beyond the pages the buffer's mapping covers (the kernel oopses)
    /// or inside them (silent corruption).
    OutOfBounds { page_fault: bool },
    /// The block had been freed.
    UseAfterFree,
    /// A free of a block that was already freed.
    DoubleFree,
    /// A free whose address or size does not match the allocation.
    BadFree,
}

/// Bad accesses of one kind by one function to one block: the span they
/// cover (from the first byte any of them touched to the last) and how many
/// there were.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Fault {
    pub alloc: AllocId,
    /// Byte offset from the allocation's start.
    pub offset: u64,
    pub len: u64,
    pub access: Access,
    pub kind: FaultKind,
    /// The modelled kernel function that did it.
    pub by: &'static str,
    /// How many accesses the record covers.
    pub accesses: u64,
}

/// One block of simulated memory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Allocation {
    pub kind: AllocKind,
    pub phys: u64,
    pub size: u64,
    pub by: &'static str,
    pub freed_by: Option<&'static str>,
    /// Bytes from `page_base`: the mapped pages, then any shadow written
    /// past them.
    bytes: Vec<u8>,
    page_base: u64,
    /// Bytes mapped from `phys` on: to the end of the last page (memblock)
    /// or of the block (page allocator).
    mapped: u64,
}

impl Allocation {
    /// The block's own bytes (`size` of them).
    pub fn contents(&self) -> &[u8] {
        let start = (self.phys - self.page_base) as usize;
        &self.bytes[start..start + self.size as usize]
    }

    /// Bytes mapped with the block: from its start to the end of its last page.
    pub fn mapped_len(&self) -> u64 {
        self.mapped
    }

    pub fn is_live(&self) -> bool {
        self.freed_by.is_none()
    }
}

/// How many block buffers a reset keeps, and the largest it keeps: enough
/// for the blocks of a boot of a few hundred descriptors, and a bound on
/// what a thread holds between boots.
const MAX_SPARE: usize = 32;
const MAX_SPARE_BYTES: usize = 64 << 10;

/// The simulated physical memory of one run.
#[derive(Clone, Debug)]
pub struct SimMemory {
    pub fill: Fill,
    pub allocations: Vec<Allocation>,
    pub faults: Vec<Fault>,
    memblock_top: u64,
    pages_next: u64,
    slab_next: u64,
    last_freed: Option<AllocId>,
    total: u64,
    /// Byte buffers of an earlier run's blocks, for the next run's: a
    /// search that boots again and again allocates them once.
    spare: Vec<Vec<u8>>,
}

fn page_floor(x: u64) -> u64 {
    x & !(EFI_PAGE_SIZE - 1)
}

fn page_ceil(x: u64) -> u64 {
    x.div_ceil(EFI_PAGE_SIZE) * EFI_PAGE_SIZE
}

/// `get_order(size)`: the smallest `k` with `PAGE_SIZE << k >= size`.
pub fn get_order(size: u64) -> u32 {
    let pages = size.div_ceil(EFI_PAGE_SIZE).max(1);
    pages.next_power_of_two().trailing_zeros()
}

impl SimMemory {
    pub fn new(fill: Fill) -> Self {
        let mut m = SimMemory {
            fill,
            allocations: Vec::new(),
            faults: Vec::new(),
            memblock_top: 0,
            pages_next: 0,
            slab_next: 0,
            last_freed: None,
            total: 0,
            spare: Vec::new(),
        };
        m.reset(fill);
        m
    }

    /// Empties the memory for a new run, as [`SimMemory::new`] leaves it,
    /// keeping the blocks' buffers for reuse.
    pub fn reset(&mut self, fill: Fill) {
        self.fill = fill;
        let spare = &mut self.spare;
        for a in self.allocations.drain(..) {
            if spare.len() < MAX_SPARE && a.bytes.capacity() <= MAX_SPARE_BYTES {
                spare.push(a.bytes);
            }
        }
        self.faults.clear();
        self.memblock_top = MEMBLOCK_TOP;
        self.pages_next = PAGES_BASE;
        self.slab_next = SLAB_BASE;
        self.last_freed = None;
        self.total = 0;
    }

    /// A buffer of `len` bytes of `b`, from the spares if there is one.
    fn filled(&mut self, len: usize, b: u8) -> Vec<u8> {
        match self.spare.pop() {
            Some(mut v) => {
                v.clear();
                v.resize(len, b);
                v
            }
            None => vec![b; len],
        }
    }

    /// Backing bytes for a new block whose first byte is `start` bytes into
    /// its first page.
    fn fresh_bytes(&mut self, start: usize, len: usize) -> Vec<u8> {
        match self.fill {
            Fill::Zero => self.filled(len, 0),
            Fill::Pattern(b) => self.filled(len, b),
            Fill::Stale => {
                let mut v = self.filled(len, 0);
                if let Some(prev) = self.last_freed.map(|id| &self.allocations[id]) {
                    let old = prev.contents();
                    let n = old.len().min(len - start);
                    v[start..start + n].copy_from_slice(&old[..n]);
                }
                v
            }
        }
    }

    fn push(&mut self, kind: AllocKind, phys: u64, size: u64, by: &'static str) -> AllocId {
        let page_base = page_floor(phys);
        let end = page_ceil(phys + size).max(page_base + EFI_PAGE_SIZE);
        let bytes = self.fresh_bytes((phys - page_base) as usize, (end - page_base) as usize);
        self.allocations.push(Allocation {
            kind,
            phys,
            size,
            by,
            freed_by: None,
            bytes,
            page_base,
            mapped: end - phys,
        });
        self.allocations.len() - 1
    }

    /// Places the firmware's map: its bytes exactly, at [`FIRMWARE_MAP_PHYS`].
    pub fn place_firmware(&mut self, bytes: &[u8]) -> AllocId {
        let id = self.push(
            AllocKind::Firmware,
            FIRMWARE_MAP_PHYS,
            bytes.len() as u64,
            "firmware",
        );
        let a = &mut self.allocations[id];
        let start = (a.phys - a.page_base) as usize;
        a.bytes[start..start + bytes.len()].copy_from_slice(bytes);
        id
    }

    /// Whether `bytes` more fit under [`MAX_TOTAL_BYTES`]; counts them if so.
    fn reserve_bytes(&mut self, bytes: u64) -> bool {
        match self.total.checked_add(bytes) {
            Some(t) if t <= MAX_TOTAL_BYTES => {
                self.total = t;
                true
            }
            _ => false,
        }
    }

    /// `memblock_phys_alloc(size, SMP_CACHE_BYTES)`: top-down, 64-byte
    /// aligned. `None` when it does not fit.
    pub fn memblock_alloc(&mut self, size: u64, by: &'static str) -> Option<(AllocId, u64)> {
        let phys = self.memblock_top.checked_sub(size)? & !(SMP_CACHE_BYTES - 1);
        if phys < MEMBLOCK_FLOOR + EFI_PAGE_SIZE || !self.reserve_bytes(size) {
            return None;
        }
        self.memblock_top = page_floor(phys) - EFI_PAGE_SIZE;
        Some((self.push(AllocKind::Memblock, phys, size, by), phys))
    }

    /// `alloc_pages(GFP_KERNEL, get_order(size))`: a naturally aligned
    /// block. `None` when it does not fit.
    pub fn page_alloc(&mut self, size: u64, by: &'static str) -> Option<(AllocId, u64)> {
        let order = get_order(size);
        let block = EFI_PAGE_SIZE << order;
        if !self.reserve_bytes(block) {
            return None;
        }
        let phys = self.pages_next.div_ceil(block) * block;
        self.pages_next = phys + block + EFI_PAGE_SIZE;
        let id = self.push(AllocKind::Pages { order }, phys, size, by);
        // The block's own slack pages are part of it (allocated, mapped).
        let fill = self.fresh_bytes(0, block as usize);
        let a = &mut self.allocations[id];
        let have = a.bytes.len();
        if have < block as usize {
            a.bytes.extend_from_slice(&fill[have..]);
        }
        a.mapped = block;
        if self.spare.len() < MAX_SPARE && fill.capacity() <= MAX_SPARE_BYTES {
            self.spare.push(fill);
        }
        Some((id, phys))
    }

    /// `kmalloc(size)`, or `kzalloc(size)` with `zeroed`: an object of the
    /// size class that holds `size`; only `size` bytes are the caller's.
    /// `None` for size 0 (`ZERO_SIZE_PTR`, which the model does not map)
    /// or when it does not fit.
    pub fn slab_alloc(
        &mut self,
        size: u64,
        zeroed: bool,
        by: &'static str,
    ) -> Option<(AllocId, u64)> {
        let object = kmalloc_size(size);
        if size == 0 || !self.reserve_bytes(object) {
            return None;
        }
        let phys = self.slab_next;
        self.slab_next = phys + object.div_ceil(EFI_PAGE_SIZE) * EFI_PAGE_SIZE + EFI_PAGE_SIZE;
        let id = self.push(AllocKind::Slab { object }, phys, size, by);
        if zeroed {
            let a = &mut self.allocations[id];
            let start = (a.phys - a.page_base) as usize;
            a.bytes[start..start + size as usize].fill(0);
        }
        Some((id, phys))
    }

    /// The live or freed block containing `phys`, newest first.
    pub fn find(&self, phys: u64) -> Option<AllocId> {
        self.allocations
            .iter()
            .rposition(|a| phys >= a.phys && phys - a.phys < a.size.max(1))
    }

    /// Frees the block at `phys`: `memblock_free` or `free_pages`. The block
    /// is poisoned, its bytes kept.
    pub fn free(&mut self, phys: u64, size: u64, by: &'static str) {
        let Some(id) = self.find(phys) else {
            self.record(Fault {
                alloc: usize::MAX,
                offset: phys,
                len: size,
                access: Access::Write,
                kind: FaultKind::BadFree,
                by,
                accesses: 1,
            });
            return;
        };
        let a = &self.allocations[id];
        let kind = if !a.is_live() {
            Some(FaultKind::DoubleFree)
        } else if a.phys != phys || !free_size_matches(a, size) {
            Some(FaultKind::BadFree)
        } else {
            None
        };
        if let Some(kind) = kind {
            let offset = phys - a.phys;
            self.record(Fault {
                alloc: id,
                offset,
                len: size,
                access: Access::Write,
                kind,
                by,
                accesses: 1,
            });
        }
        if self.allocations[id].is_live() {
            self.allocations[id].freed_by = Some(by);
            self.last_freed = Some(id);
        }
    }

    /// Adds `f` to the record of the same block, access, kind and function
    /// if there is one (the record grows to the hull of both), else appends it.
    fn record(&mut self, f: Fault) {
        let same = |g: &Fault| {
            g.alloc == f.alloc && g.access == f.access && g.kind == f.kind && g.by == f.by
        };
        match self.faults.iter_mut().find(|g| same(g)) {
            Some(g) => {
                let end = (g.offset + g.len).max(f.offset.saturating_add(f.len));
                g.offset = g.offset.min(f.offset);
                g.len = end - g.offset;
                g.accesses += 1;
            }
            None => self.faults.push(f),
        }
    }

    /// Records what is wrong with an access of `len` bytes at `offset`
    /// into block `id`.
    fn check(&mut self, id: AllocId, offset: u64, len: u64, access: Access, by: &'static str) {
        let a = &self.allocations[id];
        let (size, mapped, live) = (a.size, a.mapped_len(), a.is_live());
        if !live {
            self.record(Fault {
                alloc: id,
                offset,
                len,
                access,
                kind: FaultKind::UseAfterFree,
                by,
                accesses: 1,
            });
        }
        let end = offset.saturating_add(len);
        if end <= size {
            return;
        }
        let bad_from = offset.max(size);
        let silent_end = end.min(mapped);
        if silent_end > bad_from {
            self.record(Fault {
                alloc: id,
                offset: bad_from,
                len: silent_end - bad_from,
                access,
                kind: FaultKind::OutOfBounds { page_fault: false },
                by,
                accesses: 1,
            });
        }
        let pf_from = bad_from.max(mapped);
        if end > pf_from {
            self.record(Fault {
                alloc: id,
                offset: pf_from,
                len: end - pf_from,
                access,
                kind: FaultKind::OutOfBounds { page_fault: true },
                by,
                accesses: 1,
            });
        }
    }

    /// Index into block `id`'s backing bytes of `offset`, if it is within
    /// the shadow the model keeps past a block.
    fn index(&self, id: AllocId, offset: u64, len: usize) -> Option<usize> {
        let a = &self.allocations[id];
        let start = (a.phys - a.page_base).checked_add(offset)?;
        let end = start.checked_add(len as u64)?;
        (end <= a.mapped_len() + (a.phys - a.page_base) + SHADOW_BYTES).then_some(start as usize)
    }

    /// Reads `out.len()` bytes at `offset` into block `id`.
    pub fn read(&mut self, id: AllocId, offset: u64, out: &mut [u8], by: &'static str) {
        self.check(id, offset, out.len() as u64, Access::Read, by);
        out.fill(0);
        if let Some(start) = self.index(id, offset, out.len()) {
            let b = &self.allocations[id].bytes;
            let n = b.len().saturating_sub(start).min(out.len());
            out[..n].copy_from_slice(&b[start..start + n]);
        }
    }

    /// Writes `data` at `offset` into block `id`. Past the mapped pages the
    /// bytes go to a shadow, so the model goes on as if the page had been
    /// there; the fault is recorded all the same.
    pub fn write(&mut self, id: AllocId, offset: u64, data: &[u8], by: &'static str) {
        self.check(id, offset, data.len() as u64, Access::Write, by);
        if let Some(start) = self.index(id, offset, data.len()) {
            let b = &mut self.allocations[id].bytes;
            if b.len() < start + data.len() {
                b.resize(start + data.len(), 0);
            }
            b[start..start + data.len()].copy_from_slice(data);
        }
    }

    pub fn read_u64(&mut self, id: AllocId, offset: u64, by: &'static str) -> u64 {
        let mut b = [0u8; 8];
        self.read(id, offset, &mut b, by);
        u64::from_le_bytes(b)
    }

    pub fn write_u64(&mut self, id: AllocId, offset: u64, v: u64, by: &'static str) {
        self.write(id, offset, &v.to_le_bytes(), by);
    }

    /// `memcpy(dst, src, len)` between two blocks (or within one).
    pub fn copy(
        &mut self,
        dst: (AllocId, u64),
        src: (AllocId, u64),
        len: u64,
        scratch: &mut Vec<u8>,
        by: &'static str,
    ) {
        scratch.resize(len as usize, 0);
        self.read(src.0, src.1, scratch, by);
        self.write(dst.0, dst.1, scratch, by);
    }

    /// Bytes of block `id` from `offset`, without recording anything: for
    /// reporting what memory holds, not for the model's own accesses.
    pub fn peek(&self, id: AllocId, offset: u64, len: u64) -> Vec<u8> {
        let a = &self.allocations[id];
        let mut out = vec![0u8; len as usize];
        let start = a.phys - a.page_base + offset;
        let avail = (a.bytes.len() as u64).saturating_sub(start).min(len) as usize;
        if avail > 0 {
            out[..avail].copy_from_slice(&a.bytes[start as usize..start as usize + avail]);
        }
        out
    }
}

fn free_size_matches(a: &Allocation, size: u64) -> bool {
    match a.kind {
        AllocKind::Pages { order } => get_order(size) == order,
        // kfree takes no size.
        AllocKind::Slab { .. } => true,
        _ => size == a.size,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_is_smallest_power_of_two_page_count() {
        assert_eq!(get_order(1), 0);
        assert_eq!(get_order(4096), 0);
        assert_eq!(get_order(4097), 1);
        assert_eq!(get_order(3 * 4096), 2);
        assert_eq!(get_order(8 * 4096 + 1), 4);
    }

    #[test]
    fn memblock_is_top_down_aligned_with_a_guard_page() {
        let mut m = SimMemory::new(Fill::Zero);
        let (_, a) = m.memblock_alloc(288, "t").unwrap();
        assert_eq!(a, MEMBLOCK_TOP - 320);
        let (_, b) = m.memblock_alloc(384, "t").unwrap();
        // One guard page between a's page and the top of b's range.
        assert_eq!(b, MEMBLOCK_TOP - 2 * 4096 - 384);
    }

    #[test]
    fn overrun_in_the_last_page_is_silent_beyond_it_faults() {
        let mut m = SimMemory::new(Fill::Pattern(0xaa));
        let (id, phys) = m.memblock_alloc(336, "t").unwrap(); // 7 x 48: 48 bytes of slack
        assert_eq!(phys % 4096, 4096 - 384);
        m.write(id, 336, &[1u8; 96], "insert");
        assert_eq!(
            m.faults,
            vec![
                Fault {
                    alloc: id,
                    offset: 336,
                    len: 48,
                    access: Access::Write,
                    kind: FaultKind::OutOfBounds { page_fault: false },
                    by: "insert",
                    accesses: 1,
                },
                Fault {
                    alloc: id,
                    offset: 384,
                    len: 48,
                    access: Access::Write,
                    kind: FaultKind::OutOfBounds { page_fault: true },
                    by: "insert",
                    accesses: 1,
                },
            ]
        );
        // Both parts land (the second in the shadow) and read back.
        let mut back = [0u8; 96];
        m.read(id, 336, &mut back, "t");
        assert_eq!(back, [1u8; 96]);
    }

    #[test]
    fn contiguous_faults_merge() {
        let mut m = SimMemory::new(Fill::Zero);
        let (id, _) = m.memblock_alloc(384, "t").unwrap();
        for k in 0..4u64 {
            m.write(id, 384 + 48 * k, &[0u8; 48], "insert");
            m.write_u64(id, 384 + 48 * k + 32, 1, "insert");
        }
        // Four copies and four field writes, all past the only page: one record.
        assert_eq!(m.faults.len(), 1, "{:?}", m.faults);
        assert_eq!(
            (m.faults[0].offset, m.faults[0].len, m.faults[0].accesses),
            (384, 192, 8)
        );
    }

    #[test]
    fn free_poisons_and_stale_fill_reuses_bytes() {
        let mut m = SimMemory::new(Fill::Stale);
        let (a, pa) = m.memblock_alloc(64, "t").unwrap();
        m.write(a, 0, &[7u8; 64], "t");
        m.free(pa, 64, "free");
        m.read_u64(a, 0, "late");
        assert_eq!(m.faults[0].kind, FaultKind::UseAfterFree);
        assert_eq!(m.faults[0].by, "late");
        let (b, _) = m.memblock_alloc(64, "t").unwrap();
        // Byte i of the new block is byte i of the last freed one.
        assert_eq!(m.peek(b, 0, 64), vec![7u8; 64]);
        m.free(pa, 64, "again");
        assert_eq!(m.faults.last().unwrap().kind, FaultKind::DoubleFree);
    }

    #[test]
    fn allocations_fail_instead_of_overflowing() {
        let mut m = SimMemory::new(Fill::Zero);
        assert!(
            m.memblock_alloc(MEMBLOCK_TOP, "t").is_none(),
            "below the floor"
        );
        assert!(m.memblock_alloc(u64::MAX, "t").is_none());
        let mut n = 0;
        while m.memblock_alloc(64 << 20, "t").is_some() {
            n += 1;
        }
        assert_eq!(n, 4, "256 MiB in all");
        assert!(m.page_alloc(4096, "t").is_none());
    }

    #[test]
    fn page_blocks_are_naturally_aligned() {
        let mut m = SimMemory::new(Fill::Zero);
        let (_, a) = m.page_alloc(100, "t").unwrap();
        assert_eq!(a, PAGES_BASE);
        let (id, b) = m.page_alloc(3 * 4096, "t").unwrap();
        assert_eq!(b % (4 * 4096), 0);
        assert!(b > a);
        assert_eq!(m.allocations[id].kind, AllocKind::Pages { order: 2 });
        // The whole block is mapped: slack up to 4 pages is silent.
        assert_eq!(m.allocations[id].mapped_len(), 4 * 4096);
    }
}
