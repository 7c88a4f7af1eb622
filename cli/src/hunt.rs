//! `efimap hunt`: runs the core's hunt, shows progress (a bar on a
//! terminal, plain lines otherwise), writes the reproducers, prints the table.

use crate::engines::Chosen;
use crate::{write_out, Failure};
use efimap_core::judge::findings::check_quiet;
use efimap_core::judge::known::listed;
use efimap_core::judge::signature::SEED_SIGNATURES;
use efimap_core::search::explore::Bound;
use efimap_core::search::hunt::{
    hunt_engines, reproducer, Group, Hit, HuntConfig, Phase, Progress,
};
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

/// A spinner with a running message on a terminal (phase, counts, time
/// since the start), hidden when standard error is not one.
pub fn counter(what: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let s = ProgressBar::new_spinner();
    s.set_style(
        ProgressStyle::with_template("{spinner} {prefix}: {msg} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    s.set_prefix(what.to_string());
    s
}

/// Hunts in the engines `chosen`: the models of some eras, or a kernel
/// tree's engine alone.
pub fn run(
    budget: u64,
    seed: Option<u64>,
    mut chosen: Chosen,
    out: &Path,
    bound: Bound,
    jobs: Option<usize>,
) -> Result<(), Failure> {
    crate::writable_folder("-o", out)?;
    let seed = seed.unwrap_or_else(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() ^ u64::from(d.subsec_nanos()))
    });
    let cfg = HuntConfig {
        eras: chosen.eras(),
        budget: Duration::from_secs(budget),
        seed,
        bound,
        jobs: jobs.map_or(HuntConfig::default().jobs, |j| j.max(1)),
        random_scenarios: None,
    };
    let what = chosen.what();
    let tree_name = chosen.tree.is_some().then(|| what.clone());
    let repeat_tree = chosen.again();
    let mut engines = chosen.as_mut();
    println!(
        "efimap hunt --seed {seed} --budget {budget}: {what}, exhaustive bound {} descriptors, {} ranges, {} pages",
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
    let hunted = hunt_engines(&cfg, &mut engines, |p| {
        match &p {
            Progress::Found {
                signature,
                group,
                era,
            } => {
                let line = format!(
                    "  {:>6.2}s  new in the {} eras: {signature} (first in {era})",
                    start.elapsed().as_secs_f64(),
                    match group {
                        Group::Buggy => "buggy",
                        Group::Fixed => "fixed",
                    }
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
    })
    .map_err(|e| Failure::Input(e.to_string()))?;
    spinner.finish_and_clear();
    let hits = &hunted.hits;
    let mut written = Vec::new();
    if !hits.is_empty() {
        std::fs::create_dir_all(out)
            .map_err(|e| Failure::Input(format!("{}: cannot create: {e}", out.display())))?;
    }
    for h in hits {
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
    let groups: Vec<Group> = cfg.eras.iter().map(|&e| Group::of(e)).collect();
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
        if !groups.contains(&group) {
            continue;
        }
        let rows: Vec<&Hit> = hits.iter().filter(|h| h.group == group).collect();
        let title = match (&tree_name, group) {
            (Some(name), _) => format!("In {name}"),
            (None, Group::Fixed) => {
                let known = rows.iter().filter(|h| h.known).count();
                format!(
                    "In the fixed eras (v5.6 and later): {} new, {known} known in the fixed code",
                    rows.len() - known
                )
            }
            (None, Group::Buggy) => title.to_string(),
        };
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
                remark(h, tree_name.is_some())
            );
        }
        if !any {
            println!("  none");
        }
    }
    println!();
    print!("{}", hunted.reach.table());
    println!();
    println!("time: when first seen; scenarios: checked until then, in the exhaustive (x) or random (r) search;");
    println!("size: descriptors + ranges, then reservations, of the minimized reproducer.");
    println!("Reproduce one: efimap run FILE. Repeat this hunt: efimap hunt --seed {seed} --budget {budget}{repeat_tree}");
    Ok(())
}

/// What the table says after a hit: the known cause that explains it (or
/// that its signature is known but some example has no known cause) and,
/// for a tree, whether the model of its era does it too (if not, the tree
/// and the model differ: `efimap diff` says where).
fn remark(h: &Hit, tree: bool) -> String {
    let mut model = String::new();
    if tree {
        for &era in &h.eras {
            let shows = check_quiet(era, &h.minimized.input)
                .is_ok_and(|(_, c)| c.signatures().contains(&h.signature));
            if !shows {
                model.push_str(&format!("  (not in model {era}: see efimap diff)"));
            }
        }
    }
    let mut r = match h.cause {
        Some(cause) if model.is_empty() => format!("  (known: {})", cause.name),
        None if h.group == Group::Fixed && listed(&h.signature) => format!(
            "  (signature known, but no known cause explains {} of {} examples)",
            h.unexplained, h.seen
        ),
        _ => String::new(),
    };
    r.push_str(&model);
    if h.group == Group::Buggy && SEED_SIGNATURES.contains(&h.signature) {
        r.push_str("  (one of the 2019 thread's four)");
    }
    r
}
