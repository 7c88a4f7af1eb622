//! Known bugs by cause: what the fixed code is known to do
//! (docs/kernel-notes.md, "What the fixed code is known to do"), each a
//! signature and the cause that explains it, in one table, [`KNOWN_BUGS`].
//!
//! A cause is a predicate on the input, the outcome and one finding: it
//! holds when that finding is what the cause makes the fixed code do (a
//! zero-size range's 0-page entry at the range's address, an overrun of
//! exactly the descriptors efi_arch_mem_reserve did not count, ...). A
//! signature on the table says nothing by itself: a finding of a fixed era
//! that no cause explains is a candidate new bug, whatever its signature.
//! The table speaks of the fixed eras only (those without the buggy
//! `efi_fake_memmap`); in v5.4 and v5.5 nothing is explained.

use crate::judge::findings::{Classification, Evidence, Finding};
use crate::judge::signature::{Class, Signature};
use crate::model::boot::{BootInput, LaterStep, Outcome};
use crate::model::desc::{attr, MemoryDesc};
use crate::model::efi::bogus;
use crate::model::era::{Era, FakeMem, OldMapFree};
use crate::model::kernel::{EventKind, InsertCall, InstallKind};
use crate::model::mem::AllocId;
use crate::model::memmap::{efi_memmap_split_count, insert_range_aligned};
use crate::model::quirks::reserve_range;

/// One known bug: a signature and the cause that explains it.
#[derive(Clone, Copy, Debug)]
pub struct KnownBug {
    pub signature: Signature,
    /// The cause in a few words, for tables.
    pub name: &'static str,
    /// The cause, in a line.
    pub cause: &'static str,
    /// Where it is described: the section of the specification the tests
    /// cite (`spec 7.4`) and of docs/kernel-notes.md (`notes: known` being
    /// "What the fixed code is known to do").
    pub reference: &'static str,
    /// Whether this cause explains `finding` (one of the outcome's, of
    /// [`KnownBug::signature`]).
    pub explains: fn(&BootInput, &Outcome, &Finding) -> bool,
}

/// Two rows are the same row when signature and cause are.
impl PartialEq for KnownBug {
    fn eq(&self, other: &Self) -> bool {
        (self.signature, self.name) == (other.signature, other.name)
    }
}

impl Eq for KnownBug {}

const fn sig(class: Class, function: &'static str) -> Signature {
    Signature::new(class, function)
}

/// The cause both leaks of a map replaced in virtual mode share.
const REPLACED_BY_RUNTIME_MAP: &str = "from 75dde792 nothing frees the map it installed when \
                                       virtual mode installs the runtime's map with efi_memmap_init_late";

/// The cause of the wrapping reservation's findings.
const WRAPPING_RESERVATION: &str = "a reservation whose end passes 2^64: \
     efi_arch_mem_reserve's span check adds in u64 and lets it through, and \
     insert cuts the descriptor with a range that ends below its start";

/// Every known bug of the fixed code, by cause.
pub static KNOWN_BUGS: &[KnownBug] = &[
    KnownBug {
        signature: sig(Class::EmptyEntry, "efi_fake_memmap"),
        name: "zero-size range",
        cause: "a zero-size efi_fake_mem range [X, X - 1] inside a descriptor: \
                insert writes a 0-page entry at X",
        reference: "spec 7.4, notes: known",
        explains: zero_size_range_entry,
    },
    KnownBug {
        signature: sig(Class::EmptyEntry, "efi_fake_memmap"),
        name: "misaligned range",
        cause: "a misaligned efi_fake_mem range: insert refuses it and \
                efi_fake_range installs the buffer unwritten",
        reference: "spec 7.1, notes: known",
        explains: misaligned_range,
    },
    KnownBug {
        signature: sig(Class::UninitializedInstall, "efi_fake_memmap"),
        name: "misaligned range",
        cause: "a misaligned efi_fake_mem range: insert refuses it and \
                efi_fake_range installs the buffer unwritten",
        reference: "spec 7.1, notes: known",
        explains: misaligned_range,
    },
    KnownBug {
        signature: sig(Class::SpuriousAttribute, "efi_fake_memmap"),
        name: "zero-size range at 0",
        cause: "a zero-size efi_fake_mem range at 0 wraps to [0, 2^64 - 1]: \
                every descriptor gets its attribute",
        reference: "spec 7.4, notes: known",
        explains: zero_size_range_at_zero,
    },
    KnownBug {
        signature: sig(Class::EmptyEntry, "efi_arch_mem_reserve"),
        name: "zero-size reservation",
        cause: "a reservation whose page-rounded range is empty (size 0 at a \
                page boundary X): a 0-page entry at X",
        reference: "spec 7.4, notes: known",
        explains: zero_size_reservation_entry,
    },
    KnownBug {
        signature: sig(Class::SpuriousAttribute, "efi_arch_mem_reserve"),
        name: "zero-size reservation at 0",
        cause: "a reservation whose page-rounded range is empty at 0 (size 0 \
                at 0) wraps to [0, 2^64 - 1]: every descriptor gets RUNTIME",
        reference: "spec 7.4, notes: known",
        explains: zero_size_reservation_at_zero,
    },
    KnownBug {
        signature: sig(Class::Overrun, "efi_arch_mem_reserve"),
        name: "another descriptor cut",
        cause: "the reservation's range also cuts a descriptor other than the \
                one the lookup returned (an overlapping one, an empty entry at \
                0, a misaligned neighbour, descriptors a misaligned range left \
                unwritten): only the looked-up one's splits are counted",
        reference: "spec 3.7, 7.3, notes: known",
        explains: uncounted_splits,
    },
    KnownBug {
        signature: sig(Class::Leak, "efi_arch_mem_reserve"),
        name: "buffer not mapped",
        cause: "early_memremap refused the new buffer (more than 64 pages): \
                efi_arch_mem_reserve returns without freeing it",
        reference: "spec 7.14, notes: known",
        explains: unmapped_buffer,
    },
    KnownBug {
        signature: sig(Class::Leak, "efi_arch_mem_reserve"),
        name: "replaced by the runtime map",
        cause: REPLACED_BY_RUNTIME_MAP,
        reference: "spec 3.5, notes: known",
        explains: replaced_by_runtime_map,
    },
    KnownBug {
        signature: sig(Class::Leak, "efi_fake_memmap"),
        name: "replaced by the runtime map",
        cause: REPLACED_BY_RUNTIME_MAP,
        reference: "spec 3.5, notes: known",
        explains: replaced_by_runtime_map,
    },
    KnownBug {
        signature: sig(Class::Leak, "efi_map_regions"),
        name: "runtime map replaced",
        cause: "the runtime's map (flags LATE only) is not freed when the \
                boot-services code installs the map of what it keeps",
        reference: "notes: known",
        explains: runtime_map_replaced,
    },
    KnownBug {
        signature: sig(Class::UseAfterFree, "efi_memmap_init_late"),
        name: "kexec remap (B4)",
        cause: "the kexec remap (v5.6 .. v6.9): efi_memmap_init_late frees the \
                allocated map it is about to map again",
        reference: "spec 6.2 (B4); notes: The init_late use-after-free",
        explains: kexec_remap_frees,
    },
    KnownBug {
        signature: sig(Class::KexecClobber, "efi_arch_mem_reserve"),
        name: "refused reservation",
        cause: "a reservation efi_arch_mem_reserve refused (its own err line) \
                stays memblock-reserved and kept, but only success tells e820",
        reference: "notes: known",
        explains: refused_reservation,
    },
    KnownBug {
        signature: sig(Class::KexecClobber, "e820__memory_setup"),
        name: "unsanitizable e820",
        cause: "an e820 entry that runs past 2^64 (from a firmware descriptor \
                efi_clean_memmap drops only later) makes e820__update_table \
                refuse the table: RAM entries stay over runtime memory",
        reference: "notes: e820 and kexec",
        explains: wrapping_e820_entry,
    },
    KnownBug {
        signature: sig(Class::StaleDuplicate, "efi_arch_mem_reserve"),
        name: "wrapping reservation",
        cause: WRAPPING_RESERVATION,
        reference: "notes: known",
        explains: wrapping_reservation,
    },
    KnownBug {
        signature: sig(Class::Overread, "efi_free_boot_services"),
        name: "ranges_to_free 15 bytes short",
        cause: "a4b0bf6a40f3 as merged sizes efi_unmap_boot_services' array \
                16 * nr_map + 1 bytes: the initcall reads the sentinel past it \
                when every descriptor is a freeable region (217c0a5c177a fixes it)",
        reference: "notes: boot-services memory",
        explains: ranges_to_free_short,
    },
    KnownBug {
        signature: sig(Class::KexecClobber, "e820__memory_setup"),
        name: "boot loader's e820",
        cause: "the e820 table the boot loader passed calls EFI runtime memory RAM: \
                the kernel takes e820 as given (the EFI stub, which builds it from \
                the EFI map, never does this)",
        reference: "notes: known",
        explains: loader_e820_calls_it_ram,
    },
    KnownBug {
        signature: sig(Class::KexecClobber, "efi_arch_mem_reserve"),
        name: "reservation over setup_data",
        cause: "a reservation over a setup_data node: e820__reserve_setup_data made \
                the node RESERVED_KERN, which the update of RAM to reserved leaves \
                alone and /proc/iomem calls System RAM",
        reference: "notes: known",
        explains: reservation_over_setup_data,
    },
];

/// Whether the table speaks of `era`: the eras with the fixed (or no)
/// `efi_fake_memmap`.
pub fn speaks_of(era: Era) -> bool {
    era.features().fake_mem != FakeMem::Buggy
}

/// Whether some cause of the table has this signature.
pub fn listed(signature: &Signature) -> bool {
    KNOWN_BUGS.iter().any(|k| k.signature == *signature)
}

/// The known bug that explains `finding` of outcome `o` (of `input`), if
/// any; never one in an era the table does not speak of.
pub fn explain(input: &BootInput, o: &Outcome, finding: &Finding) -> Option<&'static KnownBug> {
    if !speaks_of(o.era) {
        return None;
    }
    let s = finding.signature();
    KNOWN_BUGS
        .iter()
        .find(|k| k.signature == s && (k.explains)(input, o, finding))
}

/// The counted findings of `c` (every instance, not one per signature)
/// that no known cause explains.
pub fn unexplained<'a>(
    input: &'a BootInput,
    o: &'a Outcome,
    c: &'a Classification,
) -> impl Iterator<Item = &'a Finding> {
    c.counted_all()
        .filter(move |f| explain(input, o, f).is_none())
}

/// Whether `r` is an efi_fake_mem range of size 0, `[X, X - 1]`.
fn zero_size(start: u64, end: u64) -> bool {
    end.wrapping_add(1) == start
}

fn zero_size_range_entry(_: &BootInput, o: &Outcome, f: &Finding) -> bool {
    let Evidence::Empty { desc, .. } = f.evidence else {
        return false;
    };
    o.fake_mems
        .iter()
        .any(|r| zero_size(r.start, r.end) && r.start == desc.phys_addr)
}

fn misaligned_range(_: &BootInput, o: &Outcome, _: &Finding) -> bool {
    o.inserts.iter().any(|c| {
        c.caller == "efi_fake_memmap"
            && !insert_range_aligned(&c.range)
            && c.written == 0
            && o.installs.iter().any(|i| i.alloc == Some(c.buf))
    })
}

/// The attribute bits a spurious-attribute finding is about.
fn gained(f: &Finding) -> Option<u64> {
    match f.evidence {
        Evidence::Attribute {
            expected, actual, ..
        } => Some(actual & !expected),
        _ => None,
    }
}

fn zero_size_range_at_zero(_: &BootInput, o: &Outcome, f: &Finding) -> bool {
    let Some(bits) = gained(f) else { return false };
    let wrapped = o
        .fake_mems
        .iter()
        .filter(|r| r.start == 0 && r.end == u64::MAX)
        .fold(0, |a, r| a | r.attribute);
    bits != 0 && bits & !wrapped == 0
}

fn zero_size_reservation_entry(input: &BootInput, _: &Outcome, f: &Finding) -> bool {
    let Evidence::Empty { desc, .. } = f.evidence else {
        return false;
    };
    input.reserve_calls().into_iter().any(|(a, z)| {
        let (start, end) = reserve_range(a, z);
        zero_size(start, end) && start == desc.phys_addr
    })
}

fn zero_size_reservation_at_zero(input: &BootInput, o: &Outcome, f: &Finding) -> bool {
    let Some(bits) = gained(f) else { return false };
    // The attribute is the looked-up descriptor's with RUNTIME: bits the
    // firmware or a range gave some descriptor.
    let possible = input
        .map
        .iter()
        .map(|d| d.attribute)
        .chain(o.fake_mems.iter().map(|r| r.attribute))
        .fold(attr::RUNTIME, |a, b| a | b);
    bits != 0
        && bits & !possible == 0
        && input
            .reserve_calls()
            .into_iter()
            .any(|(a, z)| reserve_range(a, z) == (0, u64::MAX))
}

/// The descriptor `efi_mem_desc_lookup(addr)` returns from what insert
/// copied: the first whole one holding `addr` (skipping bogus ones where
/// the era does).
fn looked_up(c: &InsertCall, addr: u64, skips_bogus: bool) -> Option<usize> {
    c.copied
        .iter()
        .take_while(|d| d.offset.wrapping_add(c.desc_size) <= c.map_len)
        .position(|d| {
            let md = MemoryDesc::new(0, d.start, d.pages, 0);
            !(skips_bogus && bogus(&md)) && addr >= md.phys_addr && addr < md.end_exclusive()
        })
}

/// Whether insert call `c` of efi_arch_mem_reserve for the reservation at
/// `addr` overran by exactly the splits of the descriptors other than the
/// looked-up one: the buffer holds the map plus the looked-up descriptor's
/// splits, insert wrote those plus the others'.
fn overran_by_uncounted_splits(c: &InsertCall, addr: u64, skips_bogus: bool) -> bool {
    let Some(md) = looked_up(c, addr, skips_bogus) else {
        return false;
    };
    let visited = c
        .copied
        .iter()
        .filter(|d| d.offset.wrapping_add(c.desc_size) <= c.map_len)
        .count() as u64;
    let split = |d: &crate::model::kernel::Copied| {
        efi_memmap_split_count(&MemoryDesc::new(0, d.start, d.pages, 0), &c.range)
    };
    let own = split(&c.copied[md]);
    let others: u64 = c
        .copied
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != md)
        .map(|(_, d)| split(d))
        .sum();
    others > 0
        && c.room == visited + own
        && c.written == c.copied.len() as u64 + own + others
        && c.written > c.room
}

fn uncounted_splits(input: &BootInput, o: &Outcome, f: &Finding) -> bool {
    let Evidence::Overrun {
        alloc,
        size,
        bytes_past,
        ..
    } = f.evidence
    else {
        return false;
    };
    let skips = o.era.features().lookup_skips_bogus;
    o.inserts
        .iter()
        .filter(|c| c.caller == "efi_arch_mem_reserve" && c.buf == alloc)
        .any(|c| {
            // All the bytes past the buffer are the uncounted descriptors.
            let past = c.written.wrapping_mul(c.desc_size).wrapping_sub(size);
            past == bytes_past
                && input.reserve_calls().into_iter().any(|(a, z)| {
                    reserve_range(a, z) == (c.range.start, c.range.end)
                        && overran_by_uncounted_splits(c, a, skips)
                })
        })
}

fn leaked(f: &Finding) -> Option<AllocId> {
    match f.evidence {
        Evidence::Leak { alloc, .. } => Some(alloc),
        _ => None,
    }
}

fn unmapped_buffer(_: &BootInput, o: &Outcome, f: &Finding) -> bool {
    let Some(id) = leaked(f) else { return false };
    // Allocated, then neither written nor installed: the mapping failed.
    o.events
        .iter()
        .any(|e| e.kind == EventKind::EarlyMapRefused)
        && !o.inserts.iter().any(|c| c.buf == id)
        && !o.installs.iter().any(|i| i.alloc == Some(id))
}

fn replaced_by_runtime_map(_: &BootInput, o: &Outcome, f: &Finding) -> bool {
    let Some(id) = leaked(f) else { return false };
    o.era.features().old_map_free == OldMapFree::AfterInstall
        && o.installs.windows(2).any(|w| {
            w[0].alloc == Some(id)
                && w[0].kind == InstallKind::New
                && w[1].kind == InstallKind::Runtime
        })
}

fn runtime_map_replaced(_: &BootInput, o: &Outcome, f: &Finding) -> bool {
    let Some(id) = leaked(f) else { return false };
    o.installs.windows(2).any(|w| {
        w[0].alloc == Some(id)
            && w[0].kind == InstallKind::Runtime
            && w[1].kind == InstallKind::Runtime
    })
}

fn kexec_remap_frees(input: &BootInput, o: &Outcome, f: &Finding) -> bool {
    let Evidence::Freed { alloc, .. } = f.evidence else {
        return false;
    };
    let installed = |kind: InstallKind| {
        o.installs
            .iter()
            .any(|i| i.alloc == Some(alloc) && i.kind == kind)
    };
    o.era.features().old_map_free == OldMapFree::InInit
        && input.later.contains(&LaterStep::KexecInitLate)
        && o.allocations.get(alloc).and_then(|a| a.freed_by) == Some("efi_memmap_init_late")
        && installed(InstallKind::New)
        && installed(InstallKind::Remap)
}

fn refused_reservation(input: &BootInput, o: &Outcome, f: &Finding) -> bool {
    let Evidence::KexecClobber { start, end, .. } = f.evidence else {
        return false;
    };
    input.reserve_calls().into_iter().any(|(a, z)| {
        a.max(start) < a.saturating_add(z).min(end)
            && o.events
                .iter()
                .any(|e| e.kind == EventKind::ReserveRefused { addr: a })
    })
}

fn wrapping_reservation(input: &BootInput, _: &Outcome, _: &Finding) -> bool {
    input.reserve_calls().into_iter().any(|(a, z)| {
        let (start, end) = reserve_range(a, z);
        end < start && !zero_size(start, end)
    })
}

fn ranges_to_free_short(_: &BootInput, o: &Outcome, f: &Finding) -> bool {
    let Evidence::Overread { alloc, .. } = f.evidence else {
        return false;
    };
    let short = o.era.features().boot_services
        == crate::model::era::BootServices::Deferred {
            ranges_size: crate::model::era::RangesSize::AsMerged,
        };
    short
        && o.allocations
            .get(alloc)
            .is_some_and(|a| a.by == "efi_unmap_boot_services")
}

/// Whether every piece of `usable` overlaps some `[start, start + size)`
/// of `regions`.
fn each_overlaps(usable: &[(u64, u64)], regions: impl Iterator<Item = (u64, u64)> + Clone) -> bool {
    !usable.is_empty()
        && usable.iter().all(|&(s, e)| {
            regions
                .clone()
                .any(|(a, z)| a.max(s) < a.saturating_add(z).min(e))
        })
}

fn loader_e820_calls_it_ram(input: &BootInput, _: &Outcome, f: &Finding) -> bool {
    let (Evidence::KexecClobber { ref usable, .. }, Some(table)) = (&f.evidence, &input.e820)
    else {
        return false;
    };
    let ram = table
        .iter()
        .filter(|e| e.ty.is_system_ram())
        .map(|e| (e.addr, e.size));
    each_overlaps(usable, ram)
}

fn reservation_over_setup_data(input: &BootInput, _: &Outcome, f: &Finding) -> bool {
    let Evidence::KexecClobber { ref usable, .. } = f.evidence else {
        return false;
    };
    each_overlaps(usable, input.setup_data.iter().copied())
}

fn wrapping_e820_entry(input: &BootInput, o: &Outcome, f: &Finding) -> bool {
    let Evidence::KexecClobber { ref usable, .. } = f.evidence else {
        return false;
    };
    let e = o.e820_boot(input);
    // A wrapping entry in the table e820__reserve_resources reads: no
    // sanitize since it came in has run, so entries overlap as added.
    !usable.is_empty() && e.table.entries.iter().any(|x| x.end() < x.addr)
}
