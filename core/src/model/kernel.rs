//! The modelled kernel's state: `efi.memmap`, the EFI_MEMMAP bit, the
//! simulated memory, and the log of what it printed and asked for.

use crate::model::desc::{MemRange, MemoryDesc, DESC_LEN};
use crate::model::era::{Era, Features};
use crate::model::mem::{AllocId, Fill, SimMemory};
use std::fmt;

/// `EFI_MEMMAP_LATE`: the map was obtained with the late remapper. In v5.4
/// and v5.5 this is the bool `late`.
pub const EFI_MEMMAP_LATE: u32 = 1 << 0;
/// `EFI_MEMMAP_MEMBLOCK`: allocated from memblock by `efi_memmap_alloc`.
pub const EFI_MEMMAP_MEMBLOCK: u32 = 1 << 1;
/// `EFI_MEMMAP_SLAB`: allocated from the page allocator by `efi_memmap_alloc`.
pub const EFI_MEMMAP_SLAB: u32 = 1 << 2;

/// `NR_FIX_BTMAPS` on x86: the most pages one `early_memremap` maps.
pub const NR_FIX_BTMAPS: u64 = 64;

/// `EFI_VA_START`: the top of the runtime's virtual range (-4 GiB).
pub const EFI_VA_START: u64 = 4u64.wrapping_neg() << 30;

/// Boot-services memory given back to the page allocator, `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Freed {
    pub start: u64,
    pub end: u64,
    /// `memblock_free_late` (at once) or `free_reserved_area` (deferred).
    pub by: &'static str,
}

/// `SZ_64K`: the low memory x86 memblock-reserves first, page 0 with it.
pub const LOW_RESERVED: u64 = 64 << 10;

/// `CONFIG_EFI_MAX_FAKE_MEM`'s default.
pub const EFI_MAX_FAKEMEM: usize = 8;

/// The kernel's negative error codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Errno {
    ENOENT = 2,
    ENOMEM = 12,
    EINVAL = 22,
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "-{:?}", self)
    }
}

/// Where a map is mapped: a block of simulated memory and an offset in it.
/// `None` in [`EfiMemoryMap::map`] is the kernel's NULL.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MapPtr {
    pub alloc: AllocId,
    pub off: u64,
}

/// `struct efi_memory_map` (`efi.memmap`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct EfiMemoryMap {
    pub phys_map: u64,
    /// The mapping; `None` once `efi_memmap_unmap` ran.
    pub map: Option<MapPtr>,
    /// `map_end - map` in bytes; left stale by `efi_memmap_unmap`.
    pub map_len: u64,
    pub nr_map: u64,
    pub desc_version: u32,
    pub desc_size: u64,
    /// [`EFI_MEMMAP_LATE`] | [`EFI_MEMMAP_MEMBLOCK`] | [`EFI_MEMMAP_SLAB`].
    pub flags: u32,
}

/// `struct efi_memory_map_data`. v5.4 and v5.5 have no such block between
/// alloc and install; the model uses it there too, with only
/// [`EFI_MEMMAP_LATE`] meaningful in `flags` (see `efi_memmap_install`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct MemoryMapData {
    pub phys_map: u64,
    pub size: u64,
    pub desc_version: u32,
    pub desc_size: u64,
    pub flags: u32,
}

/// Log levels, as printk has them; `Warning` is a `WARN_ON` splat.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    Warning,
    Err,
    Warn,
    Notice,
    Info,
    Debug,
}

/// One thing the kernel printed, with the function that printed it. The
/// text is what dmesg shows (prefix included, trailing newline dropped);
/// `kind` says what it means, so that the judge reads types, never text.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Event {
    pub level: Level,
    pub func: &'static str,
    pub text: String,
    pub kind: EventKind,
}

/// What an [`Event`] means, where the judge needs to know.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// Text and nothing more.
    Print,
    /// A `WARN_ON` fired.
    Warn,
    /// `parse_early_param`: the handler of early option `param` failed
    /// (`Malformed early option '...'`).
    OptionRejected { param: &'static str },
    /// `early_memremap` refused a size of 0, a wrapping range or more than
    /// `NR_FIX_BTMAPS` pages (its WARN in `__early_ioremap`).
    EarlyMapRefused,
    /// `efi_arch_mem_reserve` refused the reservation at `addr` (as the
    /// caller passed it): its lookup found no Boot Services Data
    /// descriptor, or the range spans descriptors.
    ReserveRefused { addr: u64 },
}

pub use crate::model::func::{Calls, Func, FUNCTIONS};

/// The entry of [`FUNCTIONS`] spelled `name`.
pub fn function_named(name: &str) -> Option<&'static str> {
    Func::named(name).map(Func::name)
}

pub use crate::model::e820::{E820Op, E820Type, E820Update};

/// One call of `efi_memmap_insert`, as observed: on whose behalf, into
/// which buffer, the range, the old map it walked, what it copied, how
/// many descriptors it wrote, and how many the buffer holds.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct InsertCall {
    pub caller: &'static str,
    pub buf: AllocId,
    pub range: MemRange,
    /// `old_memmap->map_end - old_memmap->map`.
    pub map_len: u64,
    pub desc_size: u64,
    /// Each descriptor of the old map it copied, as it read it.
    pub copied: Vec<Copied>,
    pub written: u64,
    /// Descriptors the destination buffer has room for.
    pub room: u64,
}

/// A descriptor `efi_memmap_insert` copied: where in the old map, and the
/// start and page count it read from the copy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Copied {
    pub offset: u64,
    pub start: u64,
    pub pages: u64,
}

/// The memmap functions that act on behalf of a caller (helpers of
/// `efi_fake_memmap` included); see [`Kernel::culprit`].
pub const MEMMAP_API: [&str; 11] = [
    "efi_memmap_split_count",
    "efi_memmap_insert",
    "efi_memmap_alloc",
    "__efi_memmap_free",
    "__efi_memmap_init",
    "efi_memmap_install",
    "efi_memmap_init_early",
    "efi_memmap_init_late",
    "efi_memmap_unmap",
    "efi_fake_range",
    "efi_mem_desc_lookup",
];

/// How far a boot has got: how many `efi_fake_mem` ranges and how many
/// reservations have been applied. The oracle's expectation for a map
/// installed at this point is the firmware map with these applied.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Stage {
    pub ranges: usize,
    pub reservations: usize,
    /// `efi_reserve_boot_services` has run: the regions in
    /// [`Kernel::kept`] are RUNTIME now.
    pub boot_services_kept: bool,
}

/// How a map became `efi.memmap`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InstallKind {
    /// The boot loader's map, by `efi_memmap_init_early`.
    Firmware,
    /// A new map, by `efi_memmap_install`.
    New,
    /// The same map remapped, by `efi_memmap_init_late`.
    Remap,
    /// In virtual mode: the runtime's map (`__efi_enter_virtual_mode`) and
    /// what the boot-services code makes of it.
    Runtime,
}

/// A map that became `efi.memmap`, as it was when installed.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Install {
    pub kind: InstallKind,
    /// The code that installed it ([`Kernel::culprit`]).
    pub by: &'static str,
    pub stage: Stage,
    pub phys: u64,
    pub alloc: Option<AllocId>,
    pub descs: Vec<MemoryDesc>,
}

/// The state of one modelled boot.
#[derive(Clone, Debug)]
pub struct Kernel {
    pub era: Era,
    pub f: Features,
    pub mem: SimMemory,
    /// `efi.memmap`.
    pub memmap: EfiMemoryMap,
    /// The EFI_MEMMAP bit of `efi.flags`.
    pub memmap_enabled: bool,
    /// `slab_is_available()`.
    pub slab_available: bool,
    /// `efi=debug` (EFI_DBG).
    pub efi_debug: bool,
    /// Soft reservation enabled (CONFIG_EFI_SOFT_RESERVE and no `efi=nosoftreserve`).
    pub soft_reserve: bool,
    /// `efi=noruntime` or `noefi`.
    pub runtime_disabled: bool,
    /// Leave out what the kernel prints at KERN_INFO and KERN_DEBUG (the
    /// map listings, the e820 lines): no finding depends on them, and
    /// formatting them dominates the cost of a fuzzing run. The reads that
    /// printing makes still happen.
    pub quiet: bool,
    /// `efi_fake_mems[0..nr_fake_mem]`.
    pub fake_mems: Vec<MemRange>,
    pub max_fake_mem: usize,
    pub events: Vec<Event>,
    pub e820: Vec<E820Update>,
    pub inserts: Vec<InsertCall>,
    /// memblock reservations the map code knows of (`efi_mem_reserve`,
    /// `efi_reserve_boot_services`), `(start, size)`.
    pub reserved: Vec<(u64, u64)>,
    /// `ranges_to_free` (a4b0bf6a40f3): the slab array of records.
    pub ranges_to_free: Option<MapPtr>,
    /// Boot-services memory given back, in order.
    pub freed: Vec<Freed>,
    /// Boot-services regions `efi_reserve_boot_services` found reserved
    /// already and tagged RUNTIME, `(start, size)`.
    pub kept: Vec<(u64, u64)>,
    /// `efi_va`: the next runtime virtual address, top-down.
    pub efi_va: u64,
    /// Past `efi_memmap_init_late` of the runtime map: maps installed from
    /// here on hold the regions the runtime maps, not the boot map.
    pub virtual_mode: bool,
    /// The modelled call stack, innermost last: who did what.
    stack: Vec<&'static str>,
    /// How far the boot has got, for comparing installs with the oracle.
    pub stage: Stage,
    pub installs: Vec<Install>,
    /// How often each kernel function was called.
    pub calls: Calls,
    printed_once: Vec<&'static str>,
    scratch: Vec<u8>,
}

/// The text `vprintk_store` keeps of one message of `text` printed with
/// a level prefix of `prefix` bytes, when a record holds at most
/// `record_max` bytes ([`crate::model::era::Features::printk_record_max`]):
/// `vscnprintf` into the record writes the prefix, then the text, then
/// the newline, and stops one byte short of `record_max`; the prefix is
/// then taken off, and the newline if it was written. Cut by bytes, as
/// the kernel cuts (a character split at the end reads as U+FFFD).
pub(crate) fn printk_record(text: String, prefix: usize, record_max: usize) -> String {
    let keep = record_max.saturating_sub(1 + prefix);
    if text.len() <= keep {
        return text;
    }
    String::from_utf8_lossy(&text.as_bytes()[..keep]).into_owned()
}

impl Kernel {
    pub fn new(era: Era, fill: Fill) -> Self {
        let mut k = Kernel::bare(era, SimMemory::new(fill));
        k.start();
        k
    }

    /// The state before any code runs, with empty lists.
    fn bare(era: Era, mem: SimMemory) -> Self {
        Kernel {
            era,
            f: era.features(),
            mem,
            memmap: EfiMemoryMap::default(),
            memmap_enabled: false,
            slab_available: false,
            efi_debug: false,
            soft_reserve: true,
            runtime_disabled: false,
            quiet: false,
            fake_mems: Vec::new(),
            max_fake_mem: EFI_MAX_FAKEMEM,
            events: Vec::new(),
            e820: Vec::new(),
            inserts: Vec::new(),
            reserved: Vec::new(),
            ranges_to_free: None,
            freed: Vec::new(),
            kept: Vec::new(),
            efi_va: EFI_VA_START,
            virtual_mode: false,
            stack: Vec::new(),
            stage: Stage::default(),
            installs: Vec::new(),
            calls: Calls::default(),
            printed_once: Vec::new(),
            scratch: Vec::new(),
        }
    }

    /// What holds when the EFI code is first called.
    fn start(&mut self) {
        // The first 64 KiB, reserved before any EFI code runs
        // (`early_reserve_memory`; `trim_low_memory_range` before v5.13).
        self.reserved.push((0, LOW_RESERVED));
        self.stack.push(Func::SetupArch.name());
    }

    /// Makes this the state [`Kernel::new`] gives for `era` and `fill`,
    /// keeping the lists' and the memory's buffers: a search that boots
    /// again and again allocates them once.
    pub fn reset(&mut self, era: Era, fill: Fill) {
        let mut old = std::mem::replace(self, Kernel::bare(era, SimMemory::new(fill)));
        old.mem.reset(fill);
        self.mem = old.mem;
        fn reuse<T>(mut v: Vec<T>) -> Vec<T> {
            v.clear();
            v
        }
        self.fake_mems = reuse(old.fake_mems);
        self.events = reuse(old.events);
        self.e820 = reuse(old.e820);
        self.inserts = reuse(old.inserts);
        self.reserved = reuse(old.reserved);
        self.freed = reuse(old.freed);
        self.kept = reuse(old.kept);
        self.stack = reuse(old.stack);
        self.installs = reuse(old.installs);
        self.printed_once = reuse(old.printed_once);
        self.scratch = reuse(old.scratch);
        self.start();
    }

    /// Runs `body` as the kernel function `func`: on the modelled call
    /// stack while it runs, off it when it returns, however it returns.
    pub(crate) fn call<R>(&mut self, func: Func, body: impl FnOnce(&mut Self) -> R) -> R {
        self.calls.add(func);
        let func = func.name();
        self.stack.push(func);
        let depth = self.stack.len();
        let r = body(self);
        // A phase change inside a call would leave the stack short.
        debug_assert!(
            self.stack.len() == depth,
            "{func} unbalanced the call stack"
        );
        self.stack.truncate(depth - 1);
        r
    }

    /// Starts a new phase of the boot: the stack holds only `phase`.
    pub fn phase(&mut self, phase: Func) {
        self.calls.add(phase);
        self.stack.clear();
        self.stack.push(phase.name());
    }

    /// A call of the helper `f`, which runs inside its caller (it is not
    /// on the modelled call stack): counted only.
    #[inline]
    pub(crate) fn count(&mut self, f: Func) {
        self.calls.add(f);
    }

    /// The function running now.
    pub fn cur(&self) -> &'static str {
        self.stack.last().copied().unwrap_or("start_kernel")
    }

    /// The innermost caller that is not part of the memmap API itself: the
    /// code on whose behalf a buffer is allocated or a map installed
    /// (`efi_fake_memmap`, `efi_arch_mem_reserve`, `efi_clean_memmap`, ...).
    pub fn culprit(&self) -> &'static str {
        self.stack
            .iter()
            .rev()
            .copied()
            .find(|f| !MEMMAP_API.contains(f))
            .unwrap_or("start_kernel")
    }

    /// The outermost memmap API function on the stack: the call that
    /// decided to do what is being done (e.g. `efi_memmap_init_late` for a
    /// free inside `__efi_memmap_init`).
    pub fn api_entry(&self) -> &'static str {
        self.stack
            .iter()
            .copied()
            .find(|f| MEMMAP_API.contains(f))
            .unwrap_or_else(|| self.cur())
    }

    /// printk from the running function.
    pub(crate) fn log(&mut self, level: Level, text: String) {
        self.log_kind(level, text, EventKind::Print);
    }

    /// printk of something the judge needs to know about.
    pub(crate) fn log_kind(&mut self, level: Level, text: String, kind: EventKind) {
        let func = self.cur();
        self.events.push(Event {
            level,
            func,
            text,
            kind,
        });
    }

    /// `pr_*_once`: logs only the first time `key` is seen.
    pub(crate) fn log_once(&mut self, key: &'static str, level: Level, text: String) {
        if !self.printed_once.contains(&key) {
            self.printed_once.push(key);
            self.log(level, text);
        }
    }

    /// A `WARN_ON` that fired in the running function, defined in `file`.
    pub(crate) fn warn_on(&mut self, file: &'static str) {
        self.warn_in(file, self.cur());
    }

    /// A `WARN_ON` in `func` of `file`. The text is the first line of the
    /// kernel's splat without the line number and offsets, which differ
    /// from build to build: `WARNING: CPU: 0 PID: 0 at FILE FUNC`.
    pub(crate) fn warn_in(&mut self, file: &'static str, func: &'static str) {
        let text = format!("WARNING: CPU: 0 PID: 0 at {file} {func}");
        self.events.push(Event {
            level: Level::Warning,
            func,
            text,
            kind: EventKind::Warn,
        });
    }

    /// The file that holds the memmap manipulation functions in this era.
    pub(crate) fn memmap_file(&self) -> &'static str {
        if self.f.x86_memmap {
            "arch/x86/platform/efi/memmap.c"
        } else {
            "drivers/firmware/efi/memmap.c"
        }
    }

    pub(crate) fn rd64(&mut self, p: MapPtr, off: u64) -> u64 {
        self.mem
            .read_u64(p.alloc, p.off.wrapping_add(off), self.cur())
    }

    pub(crate) fn wr64(&mut self, p: MapPtr, off: u64, v: u64) {
        self.mem
            .write_u64(p.alloc, p.off.wrapping_add(off), v, self.cur())
    }

    pub(crate) fn rd32(&mut self, p: MapPtr, off: u64) -> u32 {
        let mut b = [0u8; 4];
        self.mem
            .read(p.alloc, p.off.wrapping_add(off), &mut b, self.cur());
        u32::from_le_bytes(b)
    }

    pub(crate) fn wr32(&mut self, p: MapPtr, off: u64, v: u32) {
        self.mem.write(
            p.alloc,
            p.off.wrapping_add(off),
            &v.to_le_bytes(),
            self.cur(),
        );
    }

    /// Reads the 40 bytes of the descriptor at `off` past `p`.
    pub(crate) fn read_desc(&mut self, p: MapPtr, off: u64) -> MemoryDesc {
        let mut b = [0u8; DESC_LEN];
        self.mem
            .read(p.alloc, p.off.wrapping_add(off), &mut b, self.cur());
        MemoryDesc::from_bytes(&b)
    }

    /// `memcpy(dst + doff, src + soff, len)`.
    pub(crate) fn memcpy(&mut self, dst: MapPtr, doff: u64, src: MapPtr, soff: u64, len: u64) {
        let mut scratch = std::mem::take(&mut self.scratch);
        self.mem.copy(
            (dst.alloc, dst.off.wrapping_add(doff)),
            (src.alloc, src.off.wrapping_add(soff)),
            len,
            &mut scratch,
            self.cur(),
        );
        self.scratch = scratch;
    }

    /// The block holding `phys`, freed or not (the kernel cannot tell).
    /// `None` when no block of the simulation holds it: the model has no
    /// bytes to map there.
    fn block_at(&self, phys: u64) -> Option<MapPtr> {
        let id = self.mem.find(phys)?;
        Some(MapPtr {
            alloc: id,
            off: phys - self.mem.allocations[id].phys,
        })
    }

    /// `early_memremap(phys, size)` (mm/early_ioremap.c `__early_ioremap`):
    /// WARNs and fails for a size of 0, a range that wraps, or one that needs
    /// more than `NR_FIX_BTMAPS` (64 on x86) pages.
    pub fn early_memremap(&mut self, phys: u64, size: u64) -> Option<MapPtr> {
        self.count(Func::EarlyIoremap);
        let last = phys.wrapping_add(size).wrapping_sub(1);
        if size == 0 || last < phys || (last >> 12) - (phys >> 12) + 1 > NR_FIX_BTMAPS {
            self.warn_in("mm/early_ioremap.c", "__early_ioremap");
            if let Some(e) = self.events.last_mut() {
                e.kind = EventKind::EarlyMapRefused; // still a WARN, by its level
            }
            return None;
        }
        self.block_at(phys)
    }

    /// `memremap(phys, size, MEMREMAP_WB)`: RAM is in the direct map, so any
    /// size maps (up to what the model simulates).
    pub fn memremap(&mut self, phys: u64, size: u64) -> Option<MapPtr> {
        self.count(Func::Memremap);
        if size > crate::model::mem::MAX_MAP_BYTES {
            return None;
        }
        self.block_at(phys)
    }

    /// Offsets of the descriptors `for_each_efi_memory_desc` visits:
    /// `md = map; md && md + desc_size <= map_end; md += desc_size`.
    pub(crate) fn for_each_desc(&self) -> impl Iterator<Item = u64> {
        let ds = self.memmap.desc_size;
        let len = if self.memmap.map.is_some() && ds > 0 {
            self.memmap.map_len / ds
        } else {
            0
        };
        (0..len).map(move |i| i * ds)
    }

    /// The current map's descriptors as memory holds them, read without
    /// recording anything (for reports).
    pub fn installed_descs(&self) -> Vec<MemoryDesc> {
        let bytes = self.installed_bytes();
        let ds = self.memmap.desc_size.max(DESC_LEN as u64) as usize;
        bytes
            .chunks(ds)
            .filter(|c| c.len() >= DESC_LEN)
            .map(MemoryDesc::from_bytes)
            .collect()
    }

    /// The bytes of the current map (`nr_map * desc_size` from `phys_map`).
    pub fn installed_bytes(&self) -> Vec<u8> {
        let m = &self.memmap;
        let len = m.nr_map.wrapping_mul(m.desc_size);
        match self.mem.find(m.phys_map) {
            Some(id) if len <= crate::model::mem::MAX_MAP_BYTES => {
                let off = m.phys_map - self.mem.allocations[id].phys;
                self.mem.peek(id, off, len)
            }
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod printk_tests {
    use super::printk_record;

    /// The record limit as vprintk_store applies it: 1024 bytes less the
    /// 2-byte level prefix and the NUL (v6.3 on), 992 less the same
    /// before; a text that fits is kept whole.
    #[test]
    fn a_record_keeps_its_limit_less_the_prefix_and_the_nul() {
        let long = "x".repeat(2000);
        assert_eq!(printk_record(long.clone(), 2, 1024).len(), 1021);
        assert_eq!(printk_record(long.clone(), 2, 992).len(), 989);
        assert_eq!(printk_record(long, 0, 1024).len(), 1023);
        let fits = "y".repeat(1021);
        assert_eq!(printk_record(fits.clone(), 2, 1024), fits);
        // Cut inside a character: the bytes kept, the half as U+FFFD.
        let cut = printk_record(format!("{}é", "z".repeat(1020)), 2, 1024);
        assert_eq!(cut, format!("{}\u{fffd}", "z".repeat(1020)));
    }
}
