//! `efimap boot --log FILE`: a real boot's serial log held against the
//! model's prediction of it (`efimap_core::cases::boot_log`).

use crate::Failure;
use efimap_core::cases::boot_log::{self, BootLog, Comparison};
use efimap_core::cases::corpus::write_atomic;
use efimap_core::cases::dmesg::ImportError;
use efimap_core::cases::scenario::Scenario;
use efimap_core::model::boot::run;
use std::path::{Path, PathBuf};

/// An error at a line of log `path` (line 0: about the whole log).
pub fn at(path: &Path) -> impl Fn(ImportError) -> Failure + '_ {
    move |e| {
        if e.line == 0 {
            Failure::Input(format!("{}: expected {}", path.display(), e.expected))
        } else {
            Failure::Input(format!(
                "{}:{}:{}: expected {}",
                path.display(),
                e.line,
                e.col,
                e.expected
            ))
        }
    }
}

fn read(path: &Path) -> Result<String, Failure> {
    let bytes = std::fs::read(path)
        .map_err(|e| Failure::Input(format!("{}: cannot read: {e}", path.display())))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Prints the divergences of one comparison; returns their count.
fn show(path: &Path, c: &Comparison) -> usize {
    for (section, n) in &c.compared {
        let bad = c
            .divergences
            .iter()
            .filter(|d| d.section == *section)
            .count();
        println!(
            "  {:<20} {n:>4} lines, {:>4} equal, {bad} diverge",
            section.name(),
            n - bad
        );
    }
    for d in &c.divergences {
        println!("  divergence in the {}:", d.section.name());
        match &d.printed {
            Some(p) => println!("    printed   {}:{}: {}", path.display(), p.line, p.text),
            None => println!("    printed   (nothing)"),
        }
        match &d.predicted {
            Some(q) => println!("    predicted {q}"),
            None => println!("    predicted (nothing)"),
        }
    }
    c.divergences.len()
}

/// Writes `sc` into `out` as `name` (a corpus file of the divergence).
fn write_case(out: &Path, name: &str, sc: &Scenario) -> Result<PathBuf, Failure> {
    if !out.is_dir() {
        return Err(Failure::Input(format!(
            "-o {}: expected an existing folder",
            out.display()
        )));
    }
    let path = out.join(name);
    write_atomic(&path, sc.to_text().as_bytes())
        .map_err(|e| Failure::Input(format!("{}: cannot write: {e}", path.display())))?;
    Ok(path)
}

/// Prints the KASAN reports of a log (a kernel built with KASAN) as
/// findings; returns their count.
fn kasan_findings(path: &Path, text: &str) -> usize {
    let reports = efimap_core::cases::kasan::reports(text);
    for r in &reports {
        let name = r
            .signature
            .map_or_else(|| "(no signature)".to_string(), |s| s.to_string());
        let access = r.access.map_or_else(String::new, |(how, size, addr)| {
            format!(", {how:?} of size {size} at {addr:#x}")
        });
        println!(
            "  finding {name}: KASAN {} in {} at {}:{}{access}",
            r.kind,
            r.function,
            path.display(),
            r.line
        );
    }
    reports.len()
}

/// Compares `log` (a boot with `efi=debug`) and, if given, `second` (a
/// boot of the same machine without it) with the model.
pub fn replay(log: &Path, second: Option<&Path>, out: Option<&Path>) -> Result<(), Failure> {
    let text = read(log)?;
    let first = BootLog::read(&text).map_err(at(log))?;
    let sc = first.scenario();
    let outcome = run(first.era(), &sc.input).map_err(|e| Failure::Input(e.to_string()))?;
    println!(
        "{}: Linux {}, paired with era {}; command line: {}",
        log.display(),
        first.release,
        first.era(),
        first.cmdline
    );
    let c = boot_log::compare(&first, &sc.input, &outcome);
    let mut lines: usize = c.compared.iter().map(|(_, n)| n).sum();
    let mut divergences = show(log, &c);
    for t in boot_log::runtime_tags(&sc.input, &outcome) {
        println!(
            "  RUNTIME on {} [{:#x}-{:#x}] set by {}: {}",
            efimap_core::model::print::SHORT_NAMES[t.ty as usize],
            t.start,
            t.last,
            t.set_by,
            t.because
        );
    }
    let stem = |p: &Path| {
        p.file_stem()
            .map_or_else(|| "boot".to_string(), |s| s.to_string_lossy().into_owned())
    };
    if let (Some(out), false) = (out, c.divergences.is_empty()) {
        let path = write_case(out, &format!("boot-{}.scn", stem(log)), &sc)?;
        println!("  scenario: {}", path.display());
    }
    if let Some(second) = second {
        let text = read(second)?;
        let log2 = first.second(&text).map_err(at(second))?;
        let sc2 = log2.scenario();
        let o2 = run(first.era(), &sc2.input).map_err(|e| Failure::Input(e.to_string()))?;
        let c2 = boot_log::compare(&log2, &sc2.input, &o2);
        println!(
            "{}: a second boot, the first one's map; command line: {}",
            second.display(),
            sc2.input.cmdline
        );
        lines += c2.compared.iter().map(|(_, n)| n).sum::<usize>();
        divergences += show(second, &c2);
        if let (Some(out), false) = (out, c2.divergences.is_empty()) {
            let path = write_case(out, &format!("boot-{}.scn", stem(second)), &sc2)?;
            println!("  scenario: {}", path.display());
        }
    }
    let kasan = kasan_findings(log, &text);
    println!("{lines} lines compared, {divergences} divergences, {kasan} KASAN reports");
    if divergences == 0 && kasan == 0 {
        Ok(())
    } else {
        Err(Failure::Findings)
    }
}
