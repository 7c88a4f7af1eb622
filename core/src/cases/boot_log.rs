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
//! Not read yet: `efi_mem_reserve` calls of ACPI's BGRT image (its
//! address and size are not printed), ESRT and MOKvar, which split a Boot
//! Services Data descriptor; where one falls outside the region holding
//! the memory attributes table, the comparison shows it.

use crate::cases::dmesg::{import_map, ImportError};
use crate::cases::scenario::Scenario;
use crate::engine::tree::paired_era;
use crate::model::boot::{BootInput, LaterStep, Outcome};
use crate::model::desc::MemoryDesc;
use crate::model::era::Era;
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
fn message(line: &str) -> &str {
    let line = line.trim_end_matches('\r');
    match line.find("] ") {
        Some(at) if line[..at].contains('[') => &line[at + 2..],
        _ => line,
    }
}

/// The lines of `text` from `from` to `to` (1-based, inclusive) from
/// their `efi: ` on.
fn printed(text: &str, (from, to): (usize, usize)) -> Vec<Printed> {
    text.lines()
        .enumerate()
        .skip(from - 1)
        .take(to + 1 - from)
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
    const AT: &str = "Command line: ";
    text.lines().find_map(|l| {
        l.find(AT)
            .map(|at| l[at + AT.len()..].trim_end_matches('\r'))
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
        let (n, rest) = find("Linux version ")
            .ok_or_else(|| error(0, "a `Linux version` line: a kernel's boot log"))?;
        let release = rest.split(' ').next().unwrap_or("").to_string();
        let version = parse_version(&release).ok_or_else(|| {
            error(
                n,
                "a release of the form MAJOR.MINOR.SUBLEVEL after `Linux version`",
            )
        })?;
        let cmdline = command_line(text).unwrap_or_default().to_string();
        let firmware = import_map(text, 1)?;
        let runtime_at = find("EFI runtime memory map:").map(|(n, _)| n);
        let runtime_lines = match (runtime_at, firmware.maps) {
            (Some(_), maps) if maps >= 2 => printed(text, import_map(text, 2)?.lines),
            _ => Vec::new(),
        };
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
        Ok(BootLog {
            release,
            version,
            cmdline,
            firmware_lines: printed(text, firmware.lines),
            firmware: firmware.descs,
            runtime_lines,
            memattr,
            freed: freed_line(text),
        })
    }

    /// The freeing line of a second boot of the same machine, without
    /// `efi=debug`: the log of that boot prints no map, so the first
    /// boot's map stands for it. Returns the scenario of the second boot
    /// and its printed line.
    pub fn second(&self, text: &str) -> Result<(Scenario, Option<Printed>), ImportError> {
        let cmdline = command_line(text)
            .ok_or_else(|| error(0, "a `Command line:` line: a kernel's boot log"))?;
        let mut sc = self.scenario();
        sc.input.cmdline = cmdline.to_string();
        sc.header = vec![format!(
            "predicts a second boot of Linux {} (era {}) on the same machine: {}",
            self.release,
            self.era(),
            cmdline
        )];
        Ok((sc, freed_line(text)))
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
                cmdline: self.cmdline.clone(),
                later: vec![LaterStep::VirtualMode],
                memblock,
                ..BootInput::default()
            },
        }
    }
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
}

impl Section {
    pub fn name(self) -> &'static str {
        match self {
            Section::Firmware => "firmware map",
            Section::Runtime => "runtime map",
            Section::Freeing => "boot services freed",
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

/// A map line without its `efi: memNN: ` start.
fn unnumbered(text: &str) -> &str {
    text.strip_prefix("efi: mem")
        .map(|t| t.trim_start_matches(|c: char| c.is_ascii_digit()))
        .and_then(|t| t.strip_prefix(": "))
        .unwrap_or(text)
}

/// Holds the model's boot of `log.scenario()` (`outcome`) against the log,
/// line by line in each section: the firmware map and the runtime map as
/// printed, and the freeing line (none under `efi=debug`).
pub fn compare(log: &BootLog, outcome: &Outcome) -> Comparison {
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
    c
}

/// Holds the model's boot of a second boot's scenario (`outcome`, from
/// [`BootLog::second`]) against that boot's freeing line.
pub fn compare_second(line: Option<&Printed>, outcome: &Outcome) -> Comparison {
    let (_, _, freed) = predicted(outcome);
    let mut c = Comparison {
        era: outcome.era,
        compared: Vec::new(),
        divergences: Vec::new(),
    };
    let printed: Vec<Printed> = line.into_iter().cloned().collect();
    compare_section(Section::Freeing, &printed, &freed, &mut c);
    c
}

/// Reads `text`, boots the model on its scenario and compares.
pub fn predict(text: &str) -> Result<(BootLog, Comparison), ImportError> {
    let log = BootLog::read(text)?;
    let sc = log.scenario();
    let outcome = crate::model::boot::run(log.era(), &sc.input)
        .map_err(|e| error(0, &format!("a map the model takes ({e})")))?;
    let c = compare(&log, &outcome);
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
}
