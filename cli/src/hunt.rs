//! `efimap hunt`: runs the core's hunt, shows progress (a bar on a
//! terminal, plain lines otherwise), writes the reproducers, prints the table.

use crate::{write_out, Failure};
use efimap_core::model::era::Era;
use efimap_core::search::explore::Bound;
use efimap_core::search::hunt::{hunt, reproducer, Group, HuntConfig, Phase, Progress};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A progress bar on a terminal, hidden otherwise.
pub fn bar(total: u64, what: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let b = ProgressBar::new(total);
    b.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    b.set_message(what.to_string());
    b
}

pub fn run(
    budget: u64,
    seed: Option<u64>,
    eras: Vec<Era>,
    out: &Path,
    bound: Bound,
) -> Result<(), Failure> {
    let seed = seed.unwrap_or_else(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() ^ u64::from(d.subsec_nanos()))
    });
    let cfg = HuntConfig {
        eras: if eras.is_empty() { Era::all() } else { eras },
        budget: Duration::from_secs(budget),
        seed,
        bound,
    };
    let names: Vec<&str> = cfg.eras.iter().map(|e| e.name()).collect();
    println!(
        "efimap hunt --seed {seed} --budget {budget}: eras {}, exhaustive bound {} descriptors, {} ranges, {} pages",
        names.join(","),
        bound.descs,
        bound.ranges,
        bound.pages
    );
    let tty = std::io::stderr().is_terminal();
    let spinner = if tty {
        ProgressBar::new_spinner()
    } else {
        ProgressBar::hidden()
    };
    let start = Instant::now();
    let mut last = Instant::now();
    let hits = hunt(&cfg, |p| {
        match &p {
            Progress::Found {
                signature,
                group,
                era,
            } => {
                let line = format!(
                    "  {:>6.2}s  new: {signature} in {era} ({group:?} eras)",
                    start.elapsed().as_secs_f64()
                );
                if tty {
                    spinner.println(line);
                } else {
                    println!("{line}");
                }
            }
            Progress::Checked {
                phase,
                checked,
                total,
                hits,
            } => {
                let msg = match total {
                    Some(t) => {
                        format!("{phase:?} search: {checked}/{t} scenarios, {hits} signatures")
                    }
                    None => format!("{phase:?} search: {checked} scenarios, {hits} signatures"),
                };
                if tty {
                    spinner.set_message(msg);
                    spinner.tick();
                } else if last.elapsed() > Duration::from_secs(5) {
                    println!("  {:>6.2}s  {msg}", start.elapsed().as_secs_f64());
                    last = Instant::now();
                }
            }
            Progress::Minimizing {
                index,
                of,
                signature,
            } => {
                let msg = format!("minimizing {}/{of}: {signature}", index + 1);
                if tty {
                    spinner.set_message(msg);
                    spinner.tick();
                } else {
                    println!("  {:>6.2}s  {msg}", start.elapsed().as_secs_f64());
                }
            }
        }
        true
    });
    spinner.finish_and_clear();
    let mut written = Vec::new();
    for h in &hits {
        let group = match h.group {
            Group::Buggy => "buggy",
            Group::Fixed => "fixed",
        };
        let file = out.join(format!(
            "{}-{group}.scn",
            h.signature.to_string().replace('/', "-")
        ));
        write_out(&file, reproducer(h, seed).to_text().as_bytes())?;
        written.push(file);
    }
    for (group, title) in [
        (
            Group::Buggy,
            "In the eras with the buggy efi_fake_memmap (v5.4, v5.5): the seed bugs",
        ),
        (
            Group::Fixed,
            "In the fixed eras (v5.6 and later): candidate new bugs",
        ),
    ] {
        println!();
        println!("{title}");
        println!(
            "  {:42} {:18} {:>8} {:>10} {:>5}  reproducer",
            "signature", "eras", "time", "scenarios", "size"
        );
        let mut any = false;
        for (h, file) in hits.iter().zip(&written).filter(|(h, _)| h.group == group) {
            any = true;
            let eras: Vec<&str> = h.eras.iter().map(|e| e.name()).collect();
            let phase = match h.phase {
                Phase::Exhaustive => "x",
                Phase::Random => "r",
            };
            println!(
                "  {:42} {:18} {:>7.3}s {:>9}{phase} {:>5}  {}{}",
                h.signature,
                eras.join(","),
                h.first_at.as_secs_f64(),
                h.first_after,
                format!("{}+{}", h.size.0, h.size.1),
                file.display(),
                if h.known {
                    "  (known in the fixed code)"
                } else {
                    ""
                }
            );
        }
        if !any {
            println!("  none");
        }
    }
    println!();
    println!("time: when first seen; scenarios: checked until then, in the exhaustive (x) or random (r) search;");
    println!("size: descriptors + ranges, then reservations, of the minimized reproducer.");
    println!("Reproduce one: efimap run FILE. Repeat this hunt: efimap hunt --seed {seed} --budget {budget}");
    Ok(())
}
