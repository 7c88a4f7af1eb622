//! The boot-flow runner: one firmware map, one command line, some
//! reservations and later steps, through one era's sequence of calls.
//!
//! The sequence is x86 `setup_arch` and what follows it, as in v5.5 .. v6.11:
//! 1. `parse_early_param`: `efi_fake_mem=` (`setup_fake_mem`), `efi=`,
//!    `noefi`;
//! 2. `efi_memblock_x86_reserve_range`: `efi_memmap_init_early` on the
//!    firmware's map, then `efi_fake_memmap_early`;
//! 3. `efi_init`: `efi_clean_memmap`, and `efi_print_memmap` with efi=debug
//!    (with the runtime disabled: `efi_memmap_unmap` instead);
//! 4. `efi_fake_memmap` (it returns at once without the map);
//! 5. the reservations, in order, if the map is there (each an
//!    `efi_mem_reserve` as `efi_esrt_init` makes it; ESRT's own checks are
//!    not modelled); then `efi_reserve_boot_services`; then the BGRT
//!    image's `efi_mem_reserve` (`efi_bgrt_init`, from `acpi_boot_init`);
//! 6. `mm_init`: from here on `efi_memmap_alloc` uses the page allocator;
//! 7. the later step, one of: a kexec-style `kexec_enter_virtual_mode`,
//!    or `efi_enter_virtual_mode` with the boot-services step;
//! 8. the initcalls: the deferred `efi_free_boot_services` (a4b0bf6a40f3);
//! 9. `efi_runtime_map_init`, which walks the map to publish it in sysfs.

use crate::model::cmdline::{kernel_params, parameq};
use crate::model::desc::{
    MemRange, MemoryDesc, DEFAULT_DESC_SIZE, DESC_LEN, EFI_MEMORY_DESCRIPTOR_VERSION,
};
use crate::model::e820::E820Entry;
use crate::model::era::{BootServices, Era, FakeMem};
use crate::model::func::Func;
use crate::model::kernel::{
    printk_record, E820Update, EfiMemoryMap, Event, EventKind, InsertCall, Install, Kernel, Level,
    MemoryMapData,
};
use crate::model::kexec::KexecFile;
use crate::model::mem::{AllocId, AllocKind, Fault, FaultKind, Fill};

/// What happens after `mm_init`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LaterStep {
    /// `kexec_enter_virtual_mode`: `efi_memmap_unmap()`, then
    /// `efi_memmap_init_late(phys_map, desc_size * nr_map)` of the same map.
    #[serde(rename = "kexec")]
    KexecInitLate,
    /// `efi_enter_virtual_mode` on a first boot: the runtime's own map
    /// installed late, then the boot-services memory given back in the
    /// era's way (the deferred free runs with the initcalls).
    #[serde(rename = "virtual-mode")]
    VirtualMode,
}

impl LaterStep {
    /// The scenario directive.
    pub const fn directive(self) -> &'static str {
        match self {
            LaterStep::KexecInitLate => "kexec",
            LaterStep::VirtualMode => "virtual-mode",
        }
    }
}

/// The inputs of one boot.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct BootInput {
    /// The stride; at least 40.
    pub desc_size: u64,
    /// The firmware's map, in its order.
    pub map: Vec<MemoryDesc>,
    pub fill: Fill,
    /// The kernel command line, e.g. `efi_fake_mem=4G@9G:0x40000 efi=debug`.
    pub cmdline: String,
    /// `efi_mem_reserve(addr, size)` calls, in order.
    pub reservations: Vec<(u64, u64)>,
    pub later: Vec<LaterStep>,
    /// The boot loader's e820 table (the `BIOS-e820:` lines of a log), if
    /// the case gives one; otherwise the EFI stub's `setup_e820` of `map`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e820: Option<Vec<E820Entry>>,
    /// setup_data nodes, `(start, size)` with the header, that
    /// `e820__reserve_setup_data` keeps.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub setup_data: Vec<(u64, u64)>,
    /// A `kexec_file_load` of the next kernel after this boot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kexec_file: Option<KexecFile>,
    /// What memblock holds reserved, `(start, size)`, besides the first
    /// 64 KiB, before `efi_reserve_boot_services` asks: the memory
    /// attributes table that `efi_memattr_init` reserves (16 bytes of
    /// header and `num_entries * desc_size`), a TPM event log, ... A
    /// boot-services region that any of it touches is tagged RUNTIME and
    /// kept.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub memblock: Vec<(u64, u64)>,
    /// The ACPI BGRT image, `(image_address, size)`: `efi_bgrt_init`'s
    /// `efi_mem_reserve` of it, made in `acpi_boot_init`, after
    /// `efi_reserve_boot_services` (where [`Self::reservations`] come
    /// before it, as `efi_esrt_init`'s does).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bgrt: Option<(u64, u64)>,
}

impl Default for BootInput {
    fn default() -> Self {
        BootInput {
            desc_size: DEFAULT_DESC_SIZE,
            map: Vec::new(),
            fill: Fill::default(),
            cmdline: String::new(),
            reservations: Vec::new(),
            later: Vec::new(),
            e820: None,
            setup_data: Vec::new(),
            kexec_file: None,
            memblock: Vec::new(),
            bgrt: None,
        }
    }
}

impl BootInput {
    /// Every `efi_mem_reserve` of the boot, in order: the reservations,
    /// then the BGRT image's. A stage's `reservations` counts into it.
    pub fn reserve_calls(&self) -> Vec<(u64, u64)> {
        self.reservations.iter().copied().chain(self.bgrt).collect()
    }
}

/// An input the runner does not model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InputError {
    /// `desc_size` below `sizeof(efi_memory_desc_t)` or above 4096.
    DescSize(u64),
    /// More descriptors than the runner simulates.
    TooManyDescriptors(usize),
    /// More reservations or later steps than the runner simulates.
    TooManySteps(usize),
}

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InputError::DescSize(d) => write!(f, "desc_size {d} is outside 40..=4096"),
            InputError::TooManyDescriptors(n) => {
                write!(f, "{n} descriptors: at most {MAX_FIRMWARE_DESCS} are simulated")
            }
            InputError::TooManySteps(n) => write!(
                f,
                "{n} reservations and later steps: at most {MAX_RESERVATIONS} and {MAX_LATER} are simulated"
            ),
        }
    }
}

impl std::error::Error for InputError {}

/// The largest firmware map the runner accepts.
pub const MAX_FIRMWARE_DESCS: usize = 4096;
/// The most reservations the runner accepts.
pub const MAX_RESERVATIONS: usize = 64;
/// The most later steps the runner accepts: one kexec.
pub const MAX_LATER: usize = 1;

/// Vendor byte of firmware descriptor `i`: the bytes past 40 all carry it,
/// so a split part shows which firmware descriptor it was copied from.
pub fn vendor_byte(i: usize) -> u8 {
    0x80 | (i as u8 & 0x7f)
}

/// The firmware's map as bytes: each descriptor, then its vendor bytes.
pub fn firmware_bytes(map: &[MemoryDesc], desc_size: u64) -> Vec<u8> {
    let ds = desc_size as usize;
    let mut out = vec![0u8; map.len() * ds];
    for (i, (md, chunk)) in map.iter().zip(out.chunks_mut(ds)).enumerate() {
        chunk[..DESC_LEN].copy_from_slice(&md.to_bytes());
        chunk[DESC_LEN..].fill(vendor_byte(i));
    }
    out
}

/// What one allocation was, for reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AllocInfo {
    pub id: AllocId,
    pub kind: AllocKind,
    pub phys: u64,
    pub size: u64,
    /// The function that asked for it (`efi_memmap_alloc`'s caller).
    pub by: &'static str,
    /// The function that freed it (`__efi_memmap_free`'s caller).
    pub freed_by: Option<&'static str>,
}

/// Everything one boot did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub era: Era,
    /// `efi.memmap` at the end.
    pub memmap: EfiMemoryMap,
    /// The installed map's bytes, `nr_map * desc_size` from `phys_map`.
    pub map_bytes: Vec<u8>,
    /// The same, decoded.
    pub map: Vec<MemoryDesc>,
    /// `efi_fake_mems[]` after parsing and sorting.
    pub fake_mems: Vec<MemRange>,
    pub events: Vec<Event>,
    pub faults: Vec<Fault>,
    pub allocations: Vec<AllocInfo>,
    /// Allocations never freed and not holding the installed map.
    pub leaks: Vec<AllocId>,
    pub e820: Vec<E820Update>,
    pub inserts: Vec<InsertCall>,
    /// Every map that became `efi.memmap`, in order.
    pub installs: Vec<Install>,
    /// How far the boot got: the ranges and reservations it applied or tried.
    pub stage: crate::model::kernel::Stage,
    /// Boot-services memory given back, in order.
    pub freed: Vec<crate::model::kernel::Freed>,
    /// What `efi_reserve_boot_services` kept, `(start, size)`.
    pub kept: Vec<(u64, u64)>,
    /// The installed map as setup_arch left it (before the later step), if
    /// one was mapped.
    pub boot_map: Option<Vec<MemoryDesc>>,
    /// How often the boot called each kernel function; all zero from an
    /// engine that does not count.
    pub calls: crate::model::func::Calls,
    /// What e820 went through in the boot ([`Outcome::e820_boot`]),
    /// computed the first time it is asked for.
    pub e820_pass: E820Pass,
}

/// The e820 pass of one boot, computed once, when first asked for, and
/// kept with its outcome: the judge, the report and the boot-log
/// comparison all read it, and a search's quiet boots that none of them
/// reads never compute it. A function of the outcome's other fields and
/// its input, so two outcomes are equal whether or not it has been
/// computed.
#[derive(Clone, Debug, Default)]
pub struct E820Pass(std::sync::OnceLock<crate::model::kexec::E820Boot>);

impl PartialEq for E820Pass {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for E820Pass {}

impl Outcome {
    /// What e820 went through in the boot: [`crate::model::kexec::e820_boot`]
    /// of `input`, the input this outcome is the boot of, and the boot's
    /// e820 requests; computed once.
    pub fn e820_boot(&self, input: &BootInput) -> &crate::model::kexec::E820Boot {
        self.e820_pass.0.get_or_init(|| {
            crate::model::kexec::e820_boot(
                self.era,
                &input.map,
                input.e820.as_deref(),
                &input.setup_data,
                &input.cmdline,
                &self.e820,
            )
        })
    }

    /// Bytes written past the end of allocation `id`: the furthest
    /// out-of-bounds write, measured from the end.
    pub fn bytes_written_past(&self, id: AllocId) -> u64 {
        let size = self.allocations.get(id).map_or(0, |a| a.size);
        self.faults
            .iter()
            .filter(|f| f.alloc == id && f.access == crate::model::mem::Access::Write)
            .filter(|f| matches!(f.kind, FaultKind::OutOfBounds { .. }))
            .map(|f| f.offset + f.len - size)
            .max()
            .unwrap_or(0)
    }

    /// The events at `level`, as text.
    pub fn texts(&self, level: Level) -> Vec<&str> {
        self.events
            .iter()
            .filter(|e| e.level == level)
            .map(|e| e.text.as_str())
            .collect()
    }
}

/// Whether the runner takes `input`: the same checks for every engine.
pub fn check_input(input: &BootInput) -> Result<(), InputError> {
    if !(DESC_LEN as u64..=4096).contains(&input.desc_size) {
        return Err(InputError::DescSize(input.desc_size));
    }
    if input.map.len() > MAX_FIRMWARE_DESCS {
        return Err(InputError::TooManyDescriptors(input.map.len()));
    }
    if input.reservations.len() > MAX_RESERVATIONS || input.later.len() > MAX_LATER {
        return Err(InputError::TooManySteps(
            input.reservations.len() + input.later.len(),
        ));
    }
    Ok(())
}

/// Runs one boot of `era` on `input`.
pub fn run(era: Era, input: &BootInput) -> Result<Outcome, InputError> {
    run_with(era, input, false)
}

/// [`run`], leaving out KERN_INFO and KERN_DEBUG text if `quiet` (see
/// [`Kernel::quiet`]): what fuzzing and searching use.
pub fn run_with(era: Era, input: &BootInput, quiet: bool) -> Result<Outcome, InputError> {
    check_input(input)?;
    // The thread's kernel from its last boot, reset: its buffers are
    // reused rather than allocated again.
    let spare = SPARE.with(|s| s.borrow_mut().take());
    let mut k = match spare {
        Some(mut k) => {
            k.reset(era, input.fill);
            k
        }
        None => Kernel::new(era, input.fill),
    };
    k.quiet = quiet;
    let o = boot(&mut k, input);
    SPARE.with(|s| *s.borrow_mut() = Some(k));
    Ok(o)
}

thread_local! {
    static SPARE: std::cell::RefCell<Option<Kernel>> = const { std::cell::RefCell::new(None) };
}

/// The boot itself, on a kernel fresh from [`Kernel::new`] or
/// [`Kernel::reset`].
fn boot(k: &mut Kernel, input: &BootInput) -> Outcome {
    k.reserved.extend_from_slice(&input.memblock);
    // 1. parse_early_param
    k.phase(Func::ParseEarlyParam);
    let unknown = k.parse_early_param(&input.cmdline);

    // 2.
    k.efi_memblock_x86_reserve_range(&input.map, input.desc_size);

    // 3. efi_init: with the runtime disabled the map is unmapped, not cleaned.
    k.phase(Func::EfiInit);
    if k.runtime_disabled {
        k.efi_memmap_unmap();
    } else {
        k.efi_clean_memmap();
        if k.f.remove_e820_mmio {
            k.efi_remove_e820_mmio();
        }
        if k.efi_debug {
            k.efi_print_memmap();
        }
    }

    // 4, 5. setup_arch
    k.phase(Func::SetupArch);
    // setup_arch calls it on every EFI boot (it looks for the map itself);
    // from v6.11 there is none.
    if k.f.fake_mem != FakeMem::Removed {
        k.efi_fake_memmap();
        if k.memmap_enabled {
            k.stage.ranges = k.fake_mems.len();
        }
    }
    // ESRT and BGRT look for the map first.
    if k.memmap_enabled {
        for (j, &(addr, size)) in input.reservations.iter().enumerate() {
            k.stage.reservations = j + 1;
            k.efi_mem_reserve(addr, size);
        }
    }
    k.efi_reserve_boot_services();
    if let (Some((addr, size)), true) = (input.bgrt, k.memmap_enabled) {
        k.phase(Func::EfiBgrtInit);
        k.stage.reservations = input.reservations.len() + 1;
        k.efi_mem_reserve(addr, size);
    }
    k.phase(Func::StartKernel);
    if let Some(text) = unknown {
        k.log(Level::Notice, text);
    }

    // 6. mm_init
    k.slab_available = true;
    let boot_map = k.memmap.map.is_some().then(|| k.installed_descs());

    // 7. later steps (efi_enter_virtual_mode needs the runtime)
    let runtime = k.memmap_enabled && !k.runtime_disabled;
    for step in input.later.iter().filter(|_| runtime) {
        match step {
            LaterStep::KexecInitLate => kexec_enter_virtual_mode(k),
            LaterStep::VirtualMode => k.efi_enter_virtual_mode(),
        }
    }

    // 8. the initcalls
    k.phase(Func::DoInitcalls);
    if matches!(k.f.boot_services, BootServices::Deferred { .. }) {
        k.efi_free_boot_services();
    }

    // 9. efi_runtime_map_init
    k.phase(Func::EfiRuntimeMapInit);
    if let Some(map) = k.memmap.map {
        for o in k.for_each_desc() {
            k.read_desc(map, o);
        }
    }

    finish(k, boot_map)
}

impl Kernel {
    /// `parse_early_param()` over the early parameters the EFI code has:
    /// `efi_fake_mem=` (until v6.11), `efi=` (debug, noruntime, runtime,
    /// nosoftreserve) and `noefi`. A handler's failure prints
    /// `Malformed early option`. Returns the notice `start_kernel` prints
    /// about parameters it passes to init, as far as this model knows them:
    /// `efi_fake_mem` once it is gone.
    pub fn parse_early_param(&mut self, cmdline: &str) -> Option<String> {
        let (mut argv, mut envp): (Vec<String>, Vec<String>) = (Vec::new(), Vec::new());
        for p in kernel_params(cmdline) {
            let val = p.val.as_deref();
            if parameq(&p.name, "efi_fake_mem") {
                if self.f.fake_mem != FakeMem::Removed {
                    if self.setup_fake_mem(val).is_err() {
                        self.log_kind(
                            Level::Warn,
                            format!("Malformed early option '{}'", p.name),
                            EventKind::OptionRejected {
                                param: "efi_fake_mem",
                            },
                        );
                    }
                } else if let Some(v) = val {
                    // init's environment: a later `name=` replaces the earlier.
                    let entry = format!("{}={v}", p.name);
                    let prefix = format!("{}=", p.name);
                    match envp.iter_mut().find(|e| e.starts_with(&prefix)) {
                        Some(e) => *e = entry,
                        None => envp.push(entry),
                    }
                } else {
                    argv.push(p.name.clone());
                }
            } else if parameq(&p.name, "efi") {
                self.count(Func::ParseEfiCmdline);
                // x86's own efi= handler (efi=old_map) runs first until v5.6.
                let handlers = 1 + usize::from(self.f.x86_efi_old_map_param);
                for _ in 0..handlers {
                    if val.is_none() {
                        self.log(Level::Warn, "efi: need at least one option".into());
                        self.log_kind(
                            Level::Warn,
                            format!("Malformed early option '{}'", p.name),
                            EventKind::OptionRejected { param: "efi" },
                        );
                    }
                }
                // parse_efi_cmdline asks parse_option_str for each option
                // it knows, in its own order, whatever order the word
                // gives them in: `efi=runtime,noruntime` leaves the
                // runtime on.
                let opts: Vec<&str> = val.unwrap_or("").split(',').collect();
                if opts.contains(&"debug") {
                    self.efi_debug = true;
                }
                if opts.contains(&"noruntime") {
                    self.runtime_disabled = true;
                }
                if self.f.efi_runtime_option && opts.contains(&"runtime") {
                    self.runtime_disabled = false;
                }
                if opts.contains(&"nosoftreserve") {
                    self.soft_reserve = false;
                }
            } else if parameq(&p.name, "noefi") {
                self.count(Func::SetupNoefi);
                self.runtime_disabled = true;
            }
        }
        let unknown: Vec<String> = argv.into_iter().chain(envp).collect();
        (self.f.unknown_params_notice && !unknown.is_empty()).then(|| {
            let text = format!(
                "Unknown kernel command line parameters \"{}\", will be passed to user space.",
                unknown.join(" ")
            );
            printk_record(text, 2, self.f.printk_record_max)
        })
    }

    /// `efi_memblock_x86_reserve_range()`: the boot loader's map (`map`,
    /// with vendor bytes, at stride `desc_size`) becomes `efi.memmap` by
    /// `efi_memmap_init_early`; then `efi_fake_memmap_early`.
    pub fn efi_memblock_x86_reserve_range(&mut self, map: &[MemoryDesc], desc_size: u64) {
        self.call(Func::EfiMemblockX86ReserveRange, |k| {
            let bytes = firmware_bytes(map, desc_size);
            let fw = k.mem.place_firmware(&bytes);
            let data = MemoryMapData {
                phys_map: k.mem.allocations[fw].phys,
                size: bytes.len() as u64,
                desc_version: EFI_MEMORY_DESCRIPTOR_VERSION,
                desc_size,
                flags: 0,
            };
            if k.efi_memmap_init_early(&data).is_ok() {
                k.efi_fake_memmap_early();
            }
        })
    }
}

/// The part of `kexec_enter_virtual_mode` that touches the map: unmap, then
/// remap the same physical map late.
fn kexec_enter_virtual_mode(k: &mut Kernel) {
    k.call(Func::KexecEnterVirtualMode, |k| {
        k.efi_memmap_unmap();
        let (phys, size) = (
            k.memmap.phys_map,
            k.memmap.desc_size.wrapping_mul(k.memmap.nr_map),
        );
        if k.efi_memmap_init_late(phys, size).is_err() {
            k.log(
                Level::Err,
                "efi: Failed to remap late EFI memory map".into(),
            );
        }
    })
}

/// The allocations a boot leaked: never freed, not the firmware's, not the
/// block holding the installed map (`installed`).
pub fn leaks(allocations: &[AllocInfo], installed: Option<AllocId>) -> Vec<AllocId> {
    allocations
        .iter()
        .filter(|a| {
            a.kind != AllocKind::Firmware && a.freed_by.is_none() && Some(a.id) != installed
        })
        .map(|a| a.id)
        .collect()
}

fn finish(k: &mut Kernel, boot_map: Option<Vec<MemoryDesc>>) -> Outcome {
    use std::mem::take;
    let map_bytes = k.installed_bytes();
    let map = k.installed_descs();
    let installed = k.mem.find(k.memmap.phys_map);
    let allocations: Vec<AllocInfo> = k
        .mem
        .allocations
        .iter()
        .enumerate()
        .map(|(id, a)| AllocInfo {
            id,
            kind: a.kind,
            phys: a.phys,
            size: a.size,
            by: a.by,
            freed_by: a.freed_by,
        })
        .collect();
    let leaks = leaks(&allocations, installed);
    Outcome {
        era: k.era,
        memmap: k.memmap,
        map_bytes,
        map,
        fake_mems: take(&mut k.fake_mems),
        events: take(&mut k.events),
        faults: take(&mut k.mem.faults),
        allocations,
        leaks,
        e820: take(&mut k.e820),
        inserts: take(&mut k.inserts),
        installs: take(&mut k.installs),
        stage: take(&mut k.stage),
        freed: take(&mut k.freed),
        kept: take(&mut k.kept),
        boot_map,
        calls: k.calls,
        e820_pass: E820Pass::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::desc::{attr, ty};

    /// A boot on the thread's reused kernel gives what a boot on a fresh
    /// thread (a kernel from `Kernel::new`) gives, whatever ran before it:
    /// here a boot of another era with another fill, a different map and
    /// a reservation the first input lacks.
    #[test]
    fn a_reused_kernel_boots_as_a_new_one() {
        let first = BootInput {
            // Page zero, which the reservation of the first 64 KiB keeps.
            map: vec![
                MemoryDesc::new(ty::BOOT_SERVICES_CODE, 0, 1, attr::WB),
                MemoryDesc::new(ty::BOOT_SERVICES_DATA, 0x10_0000, 0x10, attr::WB),
            ],
            cmdline: "efi_fake_mem=0x2000@0x104000:0x40000,0x2000@0x106000:0x40000".into(),
            ..BootInput::default()
        };
        let other = BootInput {
            map: (0..8)
                .map(|i| MemoryDesc::new(ty::BOOT_SERVICES_DATA, 0x20_0000 * (i + 1), 4, attr::UC))
                .collect(),
            fill: Fill::Pattern(0xa5),
            cmdline: "efi=debug".into(),
            reservations: vec![(0x20_1000, 0x1000)],
            ..BootInput::default()
        };
        let fresh = std::thread::spawn({
            let first = first.clone();
            move || run(Era::V5_5, &first).unwrap()
        })
        .join()
        .unwrap();
        assert_eq!(fresh.kept, vec![(0, 0x1000)]);
        run(Era::V6_12_Y, &other).unwrap();
        assert_eq!(run(Era::V5_5, &first).unwrap(), fresh);
        assert_eq!(
            run_with(Era::V5_5, &first, true).unwrap().faults,
            fresh.faults
        );
    }
}
