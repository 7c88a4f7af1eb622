//! A real boot's serial console log (x86_64 under OVMF, booted with
//! `efi=debug`), read for what the model can predict of it, and the
//! model's prediction held against it line by line.
//!
//! What the log gives the prediction: the kernel's release (paired with
//! its era), its command line, the firmware's map as `efi_init` first
//! prints it, and the memory attributes table (`MEMATTR=` of the
//! configuration tables line, and its entries as `efi_memattr_init`
//! lists them): `efi_memattr_init` reserves the table in memblock, 16
//! bytes of header and `num_entries * desc_size`, so the boot-services
//! region holding it is found reserved by `efi_reserve_boot_services` and
//! tagged RUNTIME whole. The table's own `desc_size` is not printed; the
//! map's is taken, which matters only for a table ending within a few
//! bytes of its region's end.
//!
//! What the prediction is held against: the firmware map printed back
//! (`efi_print_memmap` in `efi_init`) and the EFI runtime memory map that
//! `__efi_enter_virtual_mode` prints under `efi=debug`: which regions are
//! mapped, in which order (last to first), merged, with which attributes.
//!
//! With `ignore_loglevel`, the e820 lines are held against the model's
//! too: the `BIOS-e820:` table the EFI stub made of the map, each
//! setup_data node's update (the nodes' addresses are taken from these
//! lines: nothing else prints them), the `reserve setup_data:` table,
//! `efi_remove_e820_mmio`'s lines (6.12), `trim_bios_range`'s, the EFI
//! code's own updates and `e820__reserve_resources_late`'s RAM buffers.
//!
//! The project's init (`kernel/boot/init.c`, in the initramfs `efimap boot
//! --kernel` builds) prints what the console does not, as
//! `efimap-init: PATH: VALUE` lines: the ACPI BGRT table and its image's
//! size, whose `efi_mem_reserve` (`efi_bgrt_init`) is an input of the
//! prediction; `/sys/firmware/efi/runtime-map/` (the final `efi.memmap`,
//! virtual addresses included) and `/sys/firmware/memmap` (the firmware's
//! e820 table), which are held against the model's.
//!
//! Not read: ESRT and MOKvar (OVMF publishes neither).

use crate::cases::dmesg::{import_map, ImportError};
use crate::cases::scenario::Scenario;
use crate::engine::tree::paired_era;
use crate::model::boot::{BootInput, LaterStep, Outcome};
use crate::model::desc::MemoryDesc;
use crate::model::e820::E820Type;
use crate::model::era::Era;
use crate::model::kexec::E820_BEFORE_TRIM;
use crate::model::mem::Fill;

/// The stride OVMF's GetMemoryMap gives, which the log does not print.
pub const OVMF_DESC_SIZE: u64 = 48;

/// The header of the memory attributes table: version, num_entries,
/// desc_size, flags (`efi_memory_attributes_table_t`).
pub const MEMATTR_HEADER: u64 = 16;

/// One printed line: its 1-based number in the log and its text from
/// `efi: ` on, timestamp and console noise left out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Printed {
    pub line: usize,
    pub text: String,
}

/// What a boot log holds for the prediction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BootLog {
    /// `6.12.118+deb12-amd64`.
    pub release: String,
    /// (major, minor, sublevel) of the release.
    pub version: (u32, u32, u32),
    pub cmdline: String,
    /// The firmware's map, as first printed.
    pub firmware: Vec<MemoryDesc>,
    pub firmware_lines: Vec<Printed>,
    /// The runtime map `__efi_enter_virtual_mode` printed, if it did.
    pub runtime_lines: Vec<Printed>,
    /// The memory attributes table's address and how many entries
    /// `efi_memattr_init` listed.
    pub memattr: Option<(u64, u64)>,
    /// `efi: Freeing EFI boot services memory: NK`, if printed (a boot
    /// without `efi=debug`).
    pub freed: Option<Printed>,
    /// The e820 lines (see [`is_e820_line`]), if KERN_DEBUG reached the
    /// console (`ignore_loglevel`); else none.
    pub e820_lines: Vec<Printed>,
    /// The setup_data nodes, `(start, size)` in the order the list is
    /// walked, from their `e820: update` lines.
    pub setup_data: Vec<(u64, u64)>,
    /// What the project's init printed.
    pub init: Vec<InitLine>,
    /// The words of the `Unknown kernel command line parameters "..."`
    /// notice, if printed.
    pub unknown_params: Vec<String>,
}

/// The words the kernel's unknown-parameters notice names.
fn unknown_params(text: &str) -> Vec<String> {
    const AT: &str = "Unknown kernel command line parameters \"";
    text.lines()
        .find_map(|l| {
            let rest = &l[l.find(AT)? + AT.len()..];
            Some(
                rest[..rest.rfind('"')?]
                    .split_whitespace()
                    .map(str::to_string)
                    .collect(),
            )
        })
        .unwrap_or_default()
}

/// One `efimap-init: PATH: VALUE` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InitLine {
    pub line: usize,
    pub path: String,
    pub value: String,
}

/// The init's lines of `text`, in order.
fn init_lines(text: &str) -> Vec<InitLine> {
    const AT: &str = "efimap-init: ";
    text.lines()
        .enumerate()
        .filter_map(|(i, l)| {
            let rest = &l[l.find(AT)? + AT.len()..];
            let (path, value) = rest.trim_end_matches('\r').split_once(": ")?;
            Some(InitLine {
                line: i + 1,
                path: path.to_string(),
                value: before_kernel_message(value).to_string(),
            })
        })
        .collect()
}

/// `value` without a kernel message the console wrote into the middle of
/// the init's line (`0xf[    2.293740] tsc: Refined TSC ...`, seen under
/// TCG): the init's values never hold a `[` followed by a timestamp.
fn before_kernel_message(value: &str) -> &str {
    let stamp = |t: &str| {
        let Some((secs, _)) = t.split_once(']') else {
            return false;
        };
        let secs = secs.trim_start();
        let (a, b) = secs.split_once('.').unwrap_or(("", ""));
        !a.is_empty()
            && a.bytes().all(|c| c.is_ascii_digit())
            && !b.is_empty()
            && b.bytes().all(|c| c.is_ascii_digit())
    };
    value
        .match_indices('[')
        .find(|&(i, _)| stamp(&value[i + 1..]))
        .map_or(value, |(i, _)| &value[..i])
}

/// Whether a message (timestamp stripped) is one the e820 section holds:
/// e820.c's tables and `e820:` lines, and `efi_remove_e820_mmio`'s.
pub fn is_e820_line(m: &str) -> bool {
    [
        "BIOS-provided physical RAM map:",
        "BIOS-e820: ",
        "extended physical RAM map:",
        "reserve setup_data: ",
        "e820: ",
        "efi: Remove mem",
        "efi: Not removing mem",
        "Cannot find an available gap in the 32-bit address range",
        "PCI devices with unassigned 32-bit BARs may not work!",
    ]
    .iter()
    .any(|p| m.starts_with(p))
        || (m.starts_with("[mem ") && m.ends_with("] available for PCI devices"))
}

/// The log's e820 lines, if it printed any `e820: ` line (KERN_DEBUG
/// reached the console); else none, the tables alone being a part.
fn e820_lines(text: &str) -> Vec<Printed> {
    let lines: Vec<Printed> = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i, message(l)))
        .filter(|(_, m)| is_e820_line(m))
        .map(|(i, m)| Printed {
            line: i + 1,
            text: m.to_string(),
        })
        .collect();
    if lines.iter().any(|p| p.text.starts_with("e820: ")) {
        lines
    } else {
        Vec::new()
    }
}

/// An ACPI BGRT table's fields from its bytes: (version, status,
/// image_type, image_address), at offsets 36, 38, 39 and 40 after the
/// 36-byte table header.
fn bgrt_fields(hex: &str) -> Option<(u16, u8, u8, u64)> {
    let bytes: Vec<u8> = (0..hex.len() / 2)
        .map(|i| u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok())
        .collect::<Option<_>>()?;
    let b = bytes.get(36..48)?;
    let version = u16::from_le_bytes([b[0], b[1]]);
    let address = u64::from_le_bytes(b[4..12].try_into().ok()?);
    Some((version, b[2], b[3], address))
}

/// The line that holds `needle`, from `efi: ` on.
fn freed_line(text: &str) -> Option<Printed> {
    text.lines().enumerate().find_map(|(i, l)| {
        let m = message(l);
        m.find("efi: Freeing EFI boot services memory:")
            .map(|at| Printed {
                line: i + 1,
                text: m[at..].to_string(),
            })
    })
}

/// A line's text after its `[ seconds]` timestamp (and anything the
/// console printed before it on the same line).
pub(crate) fn message(line: &str) -> &str {
    let line = line.trim_end_matches('\r');
    match line.find("] ") {
        Some(at) if line[..at].contains('[') => &line[at + 2..],
        _ => line,
    }
}

/// A map's lines of `text` (1-based `numbers`, ascending) from their
/// `efi: ` on. Only the map's own: a line the console wrote between two
/// of them (noise on the serial line, another message) is not the
/// kernel's map and not held against the model.
fn printed(text: &str, numbers: &[usize]) -> Vec<Printed> {
    let mut wanted = numbers.iter().copied().peekable();
    text.lines()
        .enumerate()
        .filter(|&(i, _)| wanted.next_if_eq(&(i + 1)).is_some())
        .map(|(i, l)| {
            let m = message(l);
            Printed {
                line: i + 1,
                text: m[m.find("efi: ").unwrap_or(0)..].to_string(),
            }
        })
        .collect()
}

/// What the kernel's `Command line: ` line gives.
fn command_line(text: &str) -> Option<&str> {
    command_line_at(text).map(|(_, c)| c)
}

/// The kernel's `Command line: ` line of a log: its number (1-based) and
/// what it gives.
pub fn command_line_at(text: &str) -> Option<(usize, &str)> {
    const AT: &str = "Command line: ";
    text.lines().enumerate().find_map(|(i, l)| {
        l.find(AT)
            .map(|at| (i + 1, l[at + AT.len()..].trim_end_matches('\r')))
    })
}

/// The release a log's `Linux version` line names, with its line number
/// (1-based).
pub fn linux_release_at(text: &str) -> Option<(usize, &str)> {
    const AT: &str = "Linux version ";
    text.lines().enumerate().find_map(|(i, l)| {
        l.find(AT)
            .map(|at| (i + 1, l[at + AT.len()..].split(' ').next().unwrap_or("")))
    })
}

fn error(line: usize, expected: &str) -> ImportError {
    ImportError {
        line,
        col: 0,
        expected: expected.to_string(),
    }
}

impl BootLog {
    /// Reads a serial log. An error names the line (0 for the whole log)
    /// and what was expected.
    pub fn read(text: &str) -> Result<BootLog, ImportError> {
        let find = |needle: &str| {
            text.lines()
                .enumerate()
                .find_map(|(i, l)| l.find(needle).map(|at| (i + 1, &l[at + needle.len()..])))
        };
        let (n, release) = linux_release_at(text)
            .ok_or_else(|| error(0, "a `Linux version` line: a kernel's boot log"))?;
        let release = release.to_string();
        let version = parse_version(&release).ok_or_else(|| {
            error(
                n,
                "a release of the form MAJOR.MINOR.SUBLEVEL after `Linux version`",
            )
        })?;
        let cmdline = command_line(text).unwrap_or_default().to_string();
        let firmware = import_map(text, 1)?;
        // Every map printed before the runtime map's heading (the
        // firmware's, and one more per reprint, e.g. after efi_fake_mem)
        // is the firmware section; the first after it, the runtime map.
        let runtime_at = find("EFI runtime memory map:").map_or(usize::MAX, |(n, _)| n);
        let mut firmware_lines = printed(text, &firmware.numbers);
        let mut runtime_lines = Vec::new();
        for which in 2..=firmware.maps {
            let map = import_map(text, which)?;
            if map.lines.0 < runtime_at {
                firmware_lines.extend(printed(text, &map.numbers));
            } else {
                runtime_lines = printed(text, &map.numbers);
                break;
            }
        }
        // A boot goes on after it prints a map: a log whose last line is
        // a map's was cut there, and what it lacks is not the model's
        // divergence (a log cut inside the runtime map once counted 29).
        let last = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .last()
            .map_or(0, |(i, _)| i + 1);
        for (what, lines) in [("firmware", &firmware_lines), ("runtime", &runtime_lines)] {
            if lines.last().is_some_and(|p| p.line == last) {
                return Err(error(
                    last,
                    &format!(
                        "the boot to go on after the {what} map: the log ends inside it, at line \
                         {last} (it was cut; give the whole log)"
                    ),
                ));
            }
        }
        if runtime_at != usize::MAX && runtime_lines.is_empty() {
            return Err(error(
                runtime_at,
                "the runtime map's lines after its heading: the log has none (it was cut, \
                 or lines came between; give the whole log)",
            ));
        }
        let memattr = match find("MEMATTR=") {
            Some((n, rest)) => {
                let hex = rest.trim_start_matches("0x");
                let digits: String = hex.chars().take_while(char::is_ascii_hexdigit).collect();
                let addr = u64::from_str_radix(&digits, 16)
                    .map_err(|_| error(n, "a hexadecimal address after `MEMATTR=`"))?;
                let entries = text
                    .lines()
                    .skip_while(|l| !l.contains("Processing EFI Memory Attributes table:"))
                    .skip(1)
                    .take_while(|l| l.contains("efi: memattr: "))
                    .count() as u64;
                Some((addr, entries))
            }
            None => None,
        };
        let setup_data = crate::cases::dmesg::import_e820(text)?.setup_data;
        Ok(BootLog {
            release,
            version,
            cmdline,
            firmware_lines,
            firmware: firmware.descs,
            runtime_lines,
            memattr,
            freed: freed_line(text),
            e820_lines: e820_lines(text),
            setup_data,
            init: init_lines(text),
            unknown_params: unknown_params(text),
        })
    }

    /// The init's lines for `path`.
    pub fn init_values<'a>(&'a self, path: &'a str) -> impl Iterator<Item = &'a InitLine> + 'a {
        self.init.iter().filter(move |l| l.path == path)
    }

    /// The BGRT image `efi_bgrt_init` reserved, `(image_address, size)`:
    /// the table's address field, and the size of
    /// `/sys/firmware/acpi/bgrt/image`, which ACPI's bgrt driver publishes
    /// only when `efi_bgrt_init` took the image (`bgrt_image_size`, the
    /// size in its BMP header). A table `efi_bgrt_init` ignores gives none.
    pub fn bgrt(&self) -> Option<(u64, u64)> {
        let table = self.init_values("/sys/firmware/acpi/tables/BGRT").next()?;
        let (_, _, _, address) = bgrt_fields(table.value.strip_prefix("hex ")?)?;
        let image = self.init_values("/sys/firmware/acpi/bgrt/image").next()?;
        let size = image.value.strip_prefix("size ")?.parse().ok()?;
        Some((address, size))
    }

    /// `/sys/firmware/efi/runtime-map/N/*` as one line per entry, in N's
    /// order: `N: type=.. phys_addr=.. virt_addr=.. num_pages=..
    /// attribute=..` with the values as sysfs shows them; the line of
    /// each is that of its `type` file.
    pub fn runtime_sysfs(&self) -> Vec<Printed> {
        self.sysfs_entries(
            "/sys/firmware/efi/runtime-map/",
            &["type", "phys_addr", "virt_addr", "num_pages", "attribute"],
        )
    }

    /// The top-level lines of `/proc/iomem` that `e820__reserve_resources`
    /// inserted at once (see [`iomem_busy`]): System RAM, ACPI Tables,
    /// ACPI Non-volatile Storage, Unusable memory, and any e820 name below
    /// 1 MiB.
    pub fn iomem_e820(&self) -> Vec<Printed> {
        self.init_values("/proc/iomem")
            .filter(|l| !l.value.starts_with(' '))
            .filter(|l| {
                let Some((range, name)) = l.value.split_once(" : ") else {
                    return false;
                };
                let start = range
                    .split('-')
                    .next()
                    .and_then(|a| u64::from_str_radix(a, 16).ok());
                iomem_busy_name(name) || (start < Some(1 << 20) && is_e820_name(name))
            })
            .map(|l| Printed {
                line: l.line,
                text: l.value.clone(),
            })
            .collect()
    }

    /// `/sys/firmware/memmap/N/*` as `N: start=.. end=.. type=..`.
    pub fn memmap_sysfs(&self) -> Vec<Printed> {
        self.sysfs_entries("/sys/firmware/memmap/", &["start", "end", "type"])
    }

    fn sysfs_entries(&self, dir: &str, fields: &[&str]) -> Vec<Printed> {
        let mut entries: std::collections::BTreeMap<u64, (usize, Vec<String>)> =
            std::collections::BTreeMap::new();
        for l in &self.init {
            let Some((n, field)) = l.path.strip_prefix(dir).and_then(|r| r.split_once('/')) else {
                continue;
            };
            let (Ok(n), Some(k)) = (n.parse::<u64>(), fields.iter().position(|f| *f == field))
            else {
                continue;
            };
            let e = entries
                .entry(n)
                .or_insert_with(|| (l.line, vec![String::new(); fields.len()]));
            e.0 = e.0.min(l.line);
            e.1[k] = l.value.clone();
        }
        entries
            .into_iter()
            .map(|(n, (line, values))| Printed {
                line,
                text: sysfs_text(n, fields, &values),
            })
            .collect()
    }

    /// A second boot of the same machine, without `efi=debug`: its log
    /// prints no map, so the first boot's map (and memory attributes
    /// table) stands for it; its command line, setup_data nodes (if it
    /// printed them), init lines and freeing line are its own.
    pub fn second(&self, text: &str) -> Result<BootLog, ImportError> {
        // The second boot is of the same kernel: another release's
        // divergences would be blamed on the model.
        if let Some((n, release)) = linux_release_at(text) {
            if release != self.release {
                return Err(error(
                    n,
                    &format!(
                        "the first log's kernel, `Linux version {}` (this log is of {release}): \
                         --second takes a second boot of the same kernel",
                        self.release
                    ),
                ));
            }
        }
        let cmdline = command_line(text)
            .ok_or_else(|| error(0, "a `Command line:` line: a kernel's boot log"))?;
        let setup_data = crate::cases::dmesg::import_e820(text)?.setup_data;
        Ok(BootLog {
            cmdline: cmdline.to_string(),
            firmware_lines: Vec::new(),
            runtime_lines: Vec::new(),
            freed: freed_line(text),
            e820_lines: e820_lines(text),
            setup_data: if setup_data.is_empty() {
                self.setup_data.clone()
            } else {
                setup_data
            },
            init: init_lines(text),
            unknown_params: unknown_params(text),
            ..self.clone()
        })
    }

    /// The kernel's command line as the model takes it: without the
    /// `efi_fake_mem=` words the kernel itself did not know (its
    /// `Unknown kernel command line parameters` notice names them: it was
    /// built without `CONFIG_EFI_FAKE_MEMMAP`, as Debian's are).
    pub fn model_cmdline(&self) -> String {
        let unknown = &self.unknown_params;
        self.cmdline
            .split_whitespace()
            .filter(|w| !(w.starts_with("efi_fake_mem=") && unknown.iter().any(|u| u == w)))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The era the kernel is paired with.
    pub fn era(&self) -> Era {
        paired_era(self.version)
    }

    /// The scenario the model boots to predict this log: the firmware's
    /// map, the kernel's command line, the memory attributes table held
    /// in memblock, and virtual mode.
    pub fn scenario(&self) -> Scenario {
        let memblock = self
            .memattr
            .map(|(addr, n)| (addr, MEMATTR_HEADER + n * OVMF_DESC_SIZE))
            .into_iter()
            .collect();
        Scenario {
            header: vec![format!(
                "predicts the boot of Linux {} (era {})",
                self.release,
                self.era()
            )],
            eras: vec![self.era()],
            input: BootInput {
                desc_size: OVMF_DESC_SIZE,
                map: self.firmware.clone(),
                fill: Fill::Zero,
                cmdline: self.model_cmdline(),
                later: vec![LaterStep::VirtualMode],
                memblock,
                setup_data: self.setup_data.clone(),
                bgrt: self.bgrt(),
                ..BootInput::default()
            },
        }
    }
}

/// The e820 types `do_mark_busy` makes busy wherever they lie, so that
/// `e820__reserve_resources` inserts them at once, at the top of
/// `/proc/iomem` (reserved, soft reserved and persistent memory above 1
/// MiB wait for `e820__reserve_resources_late`, and may be nested or
/// grown there).
fn iomem_busy(ty: E820Type) -> bool {
    !matches!(
        ty,
        E820Type::RESERVED | E820Type::SOFT_RESERVED | E820Type::PRAM | E820Type::PMEM
    )
}

/// Whether `name` is what [`iomem_busy`] types are named.
fn iomem_busy_name(name: &str) -> bool {
    [
        "System RAM",
        "ACPI Tables",
        "ACPI Non-volatile Storage",
        "Unusable memory",
        "Unknown E820 type",
    ]
    .contains(&name)
}

/// Whether `name` is one `e820_type_to_string` gives.
fn is_e820_name(name: &str) -> bool {
    iomem_busy_name(name)
        || [
            "Reserved",
            "Soft Reserved",
            "Persistent Memory",
            "Persistent Memory (legacy)",
        ]
        .contains(&name)
}

/// The top level of `/proc/iomem` that `e820__reserve_resources` gives
/// `e820_table` at once: each entry [`iomem_busy`] or below 1 MiB, as
/// `%08llx-%08llx : NAME`.
pub fn predicted_iomem(input: &BootInput, o: &Outcome) -> Vec<String> {
    o.e820_boot(input)
        .table
        .entries
        .iter()
        .filter(|e| iomem_busy(e.ty) || e.addr < 1 << 20)
        .map(|e| {
            format!(
                "{:08x}-{:08x} : {}",
                e.addr,
                e.end().wrapping_sub(1),
                e.ty.resource_name()
            )
        })
        .collect()
}

/// One sysfs entry as a line: `N: field=value ...`.
fn sysfs_text(n: u64, fields: &[&str], values: &[String]) -> String {
    let mut t = format!("{n}:");
    for (f, v) in fields.iter().zip(values) {
        t.push_str(&format!(" {f}={v}"));
    }
    t
}

/// `6.12.118+deb12-amd64` as (6, 12, 118).
fn parse_version(release: &str) -> Option<(u32, u32, u32)> {
    let mut parts = release.splitn(3, '.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    let rest = parts.next().unwrap_or("0");
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    Some((major, minor, digits.parse().unwrap_or(0)))
}

/// Which printed map a line belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Section {
    /// `efi_print_memmap` in `efi_init`.
    Firmware,
    /// "EFI runtime memory map:" in `__efi_enter_virtual_mode`.
    Runtime,
    /// `efi_free_boot_services`' figure, in a boot without `efi=debug`.
    Freeing,
    /// e820.c's prints and `efi_remove_e820_mmio`'s.
    E820,
    /// `/sys/firmware/efi/runtime-map/`, as the init printed it.
    RuntimeSysfs,
    /// `/sys/firmware/memmap/`, as the init printed it.
    MemmapSysfs,
    /// The top level of `/proc/iomem` that e820 made busy.
    Iomem,
}

impl Section {
    pub fn name(self) -> &'static str {
        match self {
            Section::Firmware => "firmware map",
            Section::Runtime => "runtime map",
            Section::Freeing => "boot services freed",
            Section::E820 => "e820",
            Section::RuntimeSysfs => "runtime-map sysfs",
            Section::MemmapSysfs => "firmware memmap sysfs",
            Section::Iomem => "iomem (e820's)",
        }
    }
}

/// A line the model predicts and the kernel printed otherwise (either
/// side may be missing).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Divergence {
    pub section: Section,
    /// The kernel's line, with its number in the log.
    pub printed: Option<Printed>,
    pub predicted: Option<String>,
}

/// The comparison of one log with the model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comparison {
    pub era: Era,
    /// Lines compared, per section.
    pub compared: Vec<(Section, usize)>,
    pub divergences: Vec<Divergence>,
}

/// The model's printed maps in `outcome`: the firmware map's lines (those
/// before the runtime map's heading), the runtime map's, and the freeing
/// line.
fn predicted(outcome: &Outcome) -> (Vec<String>, Vec<String>, Vec<String>) {
    let mut firmware = Vec::new();
    let mut runtime = Vec::new();
    let freed = outcome
        .events
        .iter()
        .filter(|e| e.text.contains("Freeing EFI boot services memory:"))
        .map(|e| e.text.clone())
        .collect();
    let mut in_runtime = false;
    for e in &outcome.events {
        if e.text.contains("EFI runtime memory map:") {
            in_runtime = true;
        } else if e.func == "efi_print_memmap" {
            let text = e.text[e.text.find("efi: ").unwrap_or(0)..].to_string();
            if in_runtime {
                runtime.push(text);
            } else {
                firmware.push(text);
            }
        }
    }
    (firmware, runtime, freed)
}

/// Compares one section as a diff (Myers) of the lines without their
/// `memNN: ` index, so that a line missing on one side does not make
/// every later index differ: an equal line counts once, a line only one
/// side has is a divergence with the other side missing, and a changed
/// line is one divergence holding both.
fn compare_section(
    section: Section,
    printed: &[Printed],
    predicted: &[String],
    c: &mut Comparison,
) {
    use similar::{capture_diff_slices, Algorithm, DiffOp};
    let texts: Vec<&str> = printed.iter().map(|p| unnumbered(&p.text)).collect();
    let model: Vec<&str> = predicted.iter().map(|q| unnumbered(q)).collect();
    let mut lines = 0;
    for op in capture_diff_slices(Algorithm::Myers, &texts, &model) {
        let (old, new) = match op {
            DiffOp::Equal { len, .. } => {
                lines += len;
                continue;
            }
            DiffOp::Delete {
                old_index, old_len, ..
            } => (old_index..old_index + old_len, 0..0),
            DiffOp::Insert {
                new_index, new_len, ..
            } => (0..0, new_index..new_index + new_len),
            DiffOp::Replace {
                old_index,
                old_len,
                new_index,
                new_len,
            } => (
                old_index..old_index + old_len,
                new_index..new_index + new_len,
            ),
        };
        let n = old.len().max(new.len());
        lines += n;
        for i in 0..n {
            c.divergences.push(Divergence {
                section,
                printed: old.clone().nth(i).map(|j| printed[j].clone()),
                predicted: new.clone().nth(i).map(|j| predicted[j].clone()),
            });
        }
    }
    c.compared.push((section, lines));
}

/// A line without its index: a map line's `efi: memNN: ` start, a sysfs
/// entry's `N: `.
fn unnumbered(text: &str) -> &str {
    let rest = text.strip_prefix("efi: mem").unwrap_or(text);
    let after = rest.trim_start_matches(|c: char| c.is_ascii_digit());
    match after.strip_prefix(": ") {
        Some(t) if after.len() < rest.len() => t,
        _ => text,
    }
}

/// The e820 lines the model predicts for `input`'s boot `o`, in the
/// kernel's order: e820.c's before `efi_init`, the EFI code's before
/// `trim_bios_range` ([`E820_BEFORE_TRIM`]), `trim_bios_range`'s, the
/// EFI code's later ones (`efi_arch_mem_reserve`), the PCI gap
/// (`e820__setup_pci_gap`), and the RAM buffers of
/// `e820__reserve_resources_late`.
pub fn predicted_e820(input: &BootInput, o: &Outcome) -> Vec<String> {
    let e = o.e820_boot(input);
    let efi = |before: bool| {
        o.events
            .iter()
            .filter(move |ev| E820_BEFORE_TRIM.contains(&ev.func) == before)
            .filter(|ev| is_e820_line(&ev.text))
            .map(|ev| ev.text.clone())
    };
    e.early
        .iter()
        .cloned()
        .chain(efi(true))
        .chain(e.trim.iter().cloned())
        .chain(efi(false))
        .chain(e.pci_gap.iter().cloned())
        .chain(e.late.iter().cloned())
        .collect()
}

/// The final `efi.memmap` as `/sys/firmware/efi/runtime-map/` shows it
/// (`efi_runtime_map_init`: one entry per descriptor, `0x%x` and `0x%llx`).
pub fn predicted_runtime_sysfs(o: &Outcome) -> Vec<String> {
    let fields = ["type", "phys_addr", "virt_addr", "num_pages", "attribute"];
    o.map
        .iter()
        .enumerate()
        .map(|(n, d)| {
            let values = [
                format!("{:#x}", d.ty),
                format!("{:#x}", d.phys_addr),
                format!("{:#x}", d.virt_addr),
                format!("{:#x}", d.num_pages),
                format!("{:#x}", d.attribute),
            ];
            sysfs_text(n as u64, &fields, &values)
        })
        .collect()
}

/// The firmware's e820 table (`e820_table_firmware`, the table
/// `e820__memory_setup` made) as `/sys/firmware/memmap/` shows it:
/// `firmware_map_add_early` of each entry, its last byte as `end`.
pub fn predicted_memmap_sysfs(input: &BootInput, o: &Outcome) -> Vec<String> {
    let fields = ["start", "end", "type"];
    o.e820_boot(input)
        .bios
        .entries
        .iter()
        .enumerate()
        .map(|(n, e)| {
            let values = [
                format!("{:#x}", e.addr),
                format!("{:#x}", e.end().wrapping_sub(1)),
                E820Type::resource_name(e.ty).to_string(),
            ];
            sysfs_text(n as u64, &fields, &values)
        })
        .collect()
}

/// A RUNTIME tag of the runtime map on a boot-services region: the
/// kernel, not the firmware, set it, and which function did, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuntimeTag {
    /// The descriptor of the final map, `[start, last]`.
    pub start: u64,
    pub last: u64,
    pub ty: u32,
    /// `efi_reserve_boot_services` (the region was found reserved, and
    /// kept whole) or `efi_arch_mem_reserve` (a piece split out for an
    /// `efi_mem_reserve`).
    pub set_by: &'static str,
    pub because: String,
}

/// Whether `[a, a + n)` and `[b, b + m)` meet.
fn meets((a, n): (u64, u64), (b, m): (u64, u64)) -> bool {
    u128::from(a) < u128::from(b) + u128::from(m) && u128::from(b) < u128::from(a) + u128::from(n)
}

/// Which function set each RUNTIME tag of a boot-services descriptor in
/// the final map of `o` (the boot of `input`): a region
/// `efi_reserve_boot_services` kept because something held part of it
/// (the first 64 KiB, a memblock region of the input), or a piece
/// `efi_arch_mem_reserve` split out for the BGRT image or another
/// reservation.
pub fn runtime_tags(input: &BootInput, o: &Outcome) -> Vec<RuntimeTag> {
    use crate::model::desc::{attr, ty, EFI_PAGE_SHIFT};
    use crate::model::kernel::LOW_RESERVED;
    let mut held: Vec<((u64, u64), String)> = vec![(
        (0, LOW_RESERVED),
        "the first 64 KiB, reserved before the EFI code".into(),
    )];
    held.extend(input.memblock.iter().map(|&r| {
        (
            r,
            format!(
                "memblock held [{:#x}-{:#x}]",
                r.0,
                r.0.wrapping_add(r.1).wrapping_sub(1)
            ),
        )
    }));
    let mut reserved: Vec<((u64, u64), String)> = input
        .reservations
        .iter()
        .map(|&r| (r, format!("efi_mem_reserve({:#x}, {:#x})", r.0, r.1)))
        .collect();
    if let Some(r) = input.bgrt {
        reserved.push((
            r,
            format!(
                "efi_bgrt_init reserved the BGRT image at {:#x}, {} bytes",
                r.0, r.1
            ),
        ));
    }
    o.map
        .iter()
        .filter(|d| matches!(d.ty, ty::BOOT_SERVICES_CODE | ty::BOOT_SERVICES_DATA))
        .filter(|d| d.attribute & attr::RUNTIME != 0)
        .filter_map(|d| {
            let range = (d.phys_addr, d.num_pages.wrapping_shl(EFI_PAGE_SHIFT));
            // A piece inside a reservation's pages was split out for it.
            let within = |r: &&((u64, u64), String)| {
                let (a, n) = r.0;
                let first = a & !0xfff;
                let end = u128::from(a) + u128::from(n);
                u128::from(first) <= u128::from(range.0)
                    && u128::from(range.0) + u128::from(range.1) <= (end + 0xfff) & !0xfff
            };
            let (set_by, because) = match reserved.iter().find(within) {
                Some(why) => ("efi_arch_mem_reserve", why.1.clone()),
                None => {
                    if !o.kept.iter().any(|&k| meets(k, range)) {
                        return None;
                    }
                    let why = held
                        .iter()
                        .chain(&reserved)
                        .find(|(r, _)| meets(*r, range))?;
                    (
                        "efi_reserve_boot_services",
                        format!("found reserved: {}", why.1),
                    )
                }
            };
            Some(RuntimeTag {
                start: range.0,
                last: range.0.wrapping_add(range.1).wrapping_sub(1),
                ty: d.ty,
                set_by,
                because,
            })
        })
        .collect()
}

/// Holds the model's boot of `input` (`log.scenario()`'s; `outcome`)
/// against the log, line by line in each section: the firmware map and
/// the runtime map as printed, the freeing line (none under `efi=debug`),
/// the e820 lines (when KERN_DEBUG was on the console), and what the init
/// printed of sysfs (when it ran).
pub fn compare(log: &BootLog, input: &BootInput, outcome: &Outcome) -> Comparison {
    let (firmware, runtime, freed) = predicted(outcome);
    let mut c = Comparison {
        era: outcome.era,
        compared: Vec::new(),
        divergences: Vec::new(),
    };
    compare_section(Section::Firmware, &log.firmware_lines, &firmware, &mut c);
    compare_section(Section::Runtime, &log.runtime_lines, &runtime, &mut c);
    let printed: Vec<Printed> = log.freed.iter().cloned().collect();
    compare_section(Section::Freeing, &printed, &freed, &mut c);
    if !log.e820_lines.is_empty() {
        let e820 = predicted_e820(input, outcome);
        compare_section(Section::E820, &log.e820_lines, &e820, &mut c);
    }
    let runtime = log.runtime_sysfs();
    if !runtime.is_empty() {
        let model = predicted_runtime_sysfs(outcome);
        compare_section(Section::RuntimeSysfs, &runtime, &model, &mut c);
    }
    let memmap = log.memmap_sysfs();
    if !memmap.is_empty() {
        let model = predicted_memmap_sysfs(input, outcome);
        compare_section(Section::MemmapSysfs, &memmap, &model, &mut c);
    }
    let iomem = log.iomem_e820();
    if !iomem.is_empty() {
        let model = predicted_iomem(input, outcome);
        compare_section(Section::Iomem, &iomem, &model, &mut c);
    }
    c
}

/// Reads `text`, boots the model on its scenario and compares.
pub fn predict(text: &str) -> Result<(BootLog, Comparison), ImportError> {
    let log = BootLog::read(text)?;
    let sc = log.scenario();
    let outcome = crate::model::boot::run(log.era(), &sc.input)
        .map_err(|e| error(0, &format!("a map the model takes ({e})")))?;
    let c = compare(&log, &sc.input, &outcome);
    Ok((log, c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_lose_their_timestamps_and_console_noise() {
        assert_eq!(message("[    0.000000] efi: mem00: x\r"), "efi: mem00: x");
        assert_eq!(message("\x1b[2J[01;01H[    0.1] Linux"), "Linux");
        assert_eq!(message("no stamp"), "no stamp");
        assert_eq!(parse_version("6.12.118+deb12-amd64"), Some((6, 12, 118)));
        assert_eq!(parse_version("6.1.0-57-amd64"), Some((6, 1, 0)));
        assert_eq!(parse_version("linux"), None);
    }

    /// A BGRT table as ACPI lays it out: the 36-byte header, version 1,
    /// status 1, image type 0, the image's address; the init's lines of
    /// it, of the image's size, and of two runtime-map entries.
    #[test]
    fn the_init_gives_the_bgrt_image_and_the_sysfs_entries() {
        let mut table = b"BGRT".to_vec();
        table.extend_from_slice(&56u32.to_le_bytes());
        table.resize(36, 0);
        table.extend_from_slice(&[1, 0, 1, 0]);
        table.extend_from_slice(&0x7d97_0000u64.to_le_bytes());
        table.extend_from_slice(&[0; 8]);
        let hex: String = table.iter().map(|b| format!("{b:02x}")).collect();
        let text = format!(
            "[    2.5] efimap-init: begin\n\
             efimap-init: /sys/firmware/acpi/bgrt/image: size 36918\n\
             efimap-init: /sys/firmware/acpi/tables/BGRT: hex {hex}\n\
             efimap-init: /sys/firmware/efi/runtime-map/1/type: 0xb\n\
             efimap-init: /sys/firmware/efi/runtime-map/10/type: 0x5\n\
             efimap-init: /sys/firmware/efi/runtime-map/1/phys_addr: 0xffc00000\r\n\
             efimap-init: end\n"
        );
        let init = init_lines(&text);
        assert_eq!(
            before_kernel_message("0xf[    2.293740] tsc: Refined TSC clocksource calibration"),
            "0xf"
        );
        assert_eq!(before_kernel_message("hex 42475254[0]"), "hex 42475254[0]");
        assert_eq!(init.len(), 5);
        assert_eq!(
            init[0],
            InitLine {
                line: 2,
                path: "/sys/firmware/acpi/bgrt/image".into(),
                value: "size 36918".into()
            }
        );
        assert_eq!(bgrt_fields(&hex), Some((1, 1, 0, 0x7d97_0000)));
        let log = BootLog {
            release: String::new(),
            version: (6, 12, 0),
            cmdline: String::new(),
            firmware: Vec::new(),
            firmware_lines: Vec::new(),
            runtime_lines: Vec::new(),
            memattr: None,
            freed: None,
            e820_lines: Vec::new(),
            setup_data: Vec::new(),
            init,
            unknown_params: Vec::new(),
        };
        assert_eq!(log.bgrt(), Some((0x7d97_0000, 36918)));
        // A kernel without CONFIG_EFI_FAKE_MEMMAP names efi_fake_mem= as
        // unknown: the model does not take it; one with it does.
        let notice = "[    0.1] Unknown kernel command line parameters \"efi_fake_mem=1G@4G:0x40000 x=1\", will be passed to user space.";
        let mut log = log;
        log.cmdline = "console=ttyS0 efi_fake_mem=1G@4G:0x40000 efi=debug".into();
        assert_eq!(log.model_cmdline(), log.cmdline);
        log.unknown_params = unknown_params(notice);
        assert_eq!(log.unknown_params, ["efi_fake_mem=1G@4G:0x40000", "x=1"]);
        assert_eq!(log.model_cmdline(), "console=ttyS0 efi=debug");
        let entries = log.runtime_sysfs();
        assert_eq!(
            entries
                .iter()
                .map(|p| (p.line, p.text.as_str()))
                .collect::<Vec<_>>(),
            [
                (
                    4,
                    "1: type=0xb phys_addr=0xffc00000 virt_addr= num_pages= attribute="
                ),
                (
                    5,
                    "10: type=0x5 phys_addr= virt_addr= num_pages= attribute="
                )
            ]
        );
    }
}
