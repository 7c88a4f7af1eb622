//! Crash artifacts of a fuzzing run, grouped by what they show: each
//! artifact's bytes decoded into the scenario its target ran, that
//! scenario run in every configured era and classified, and the findings
//! the config counts taken as its signatures. One group per signature,
//! with the eras that show it, how many artifacts do, and the smallest.
//!
//! The targets whose question is no single boot (the divergence of
//! `fake_mem`, `split_count_vs_insert`, the parsers) are asked directly:
//! their check runs on the bytes and the signature is read from the
//! `efimap finding:` line it stops with.

use crate::cases::codec::decode;
use crate::cases::scenario::Scenario;
use crate::judge::findings::check_quiet;
use crate::model::era::Era;
use crate::search::fuzzing::{self, Config};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// The key of an artifact that no configured era reproduces.
pub const UNREPRODUCED: &str = "(does not reproduce)";

/// One signature's artifacts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    /// `class/function`, or the first word of the finding line for a
    /// target with its own findings (`roundtrip/scenario_parse`), or
    /// [`UNREPRODUCED`].
    pub signature: String,
    /// The eras that show it, in era order.
    pub eras: Vec<Era>,
    /// How many artifacts show it.
    pub artifacts: usize,
    /// The smallest of them (fewest bytes, then first by name).
    pub smallest: PathBuf,
    pub smallest_len: usize,
    /// The smallest one's scenario, its eras those that show the signature.
    pub scenario: Scenario,
}

/// The scenario `target` runs on `bytes`: the codec's (as `efimap show`
/// decodes an artifact), less what `fake_mem` leaves out; the naive
/// target's own decoding.
pub fn scenario_of(target: &str, bytes: &[u8]) -> Scenario {
    match target {
        "naive" => fuzzing::naive_scenario(bytes),
        "fake_mem" => {
            let mut sc = decode(bytes);
            sc.input.reservations.clear();
            sc.input.later.clear();
            sc
        }
        _ => decode(bytes),
    }
}

/// The signatures `bytes` shows under `cfg` as `target` runs them, each
/// with the eras that show it.
pub fn signatures_of(target: &str, bytes: &[u8], cfg: &Config) -> BTreeMap<String, Vec<Era>> {
    let mut out: BTreeMap<String, Vec<Era>> = BTreeMap::new();
    if matches!(target, "boot_flow" | "naive" | "fake_mem") {
        let input = scenario_of(target, bytes).input;
        for &era in &cfg.eras {
            let Ok((o, c)) = check_quiet(era, &input) else {
                continue;
            };
            let shown: BTreeSet<String> = c
                .counted_all()
                .filter(|f| cfg.crashes(&input, &o, f))
                .map(|f| f.signature().to_string())
                .collect();
            for s in shown {
                out.entry(s).or_default().push(era);
            }
        }
    }
    if out.is_empty() {
        if let Some((sig, eras)) =
            fuzzing::target(target).and_then(|check| stop_line(check, bytes, cfg))
        {
            out.insert(sig, eras);
        }
    }
    out
}

/// Runs `check` on `bytes`; the signature and eras of the finding line it
/// stops with, if it stops.
fn stop_line(check: fuzzing::Check, bytes: &[u8], cfg: &Config) -> Option<(String, Vec<Era>)> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let r = std::panic::catch_unwind(|| check(bytes, cfg));
    std::panic::set_hook(hook);
    let payload = r.err()?;
    let text = payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default();
    let rest = text.strip_prefix("efimap finding: ")?;
    let mut words = rest.split_whitespace();
    let sig = words.next()?.to_string();
    let eras = words
        .next()
        .and_then(|w| w.strip_prefix("era="))
        .map(|list| list.split(',').filter_map(|e| e.parse().ok()).collect())
        .unwrap_or_default();
    Some((sig, eras))
}

/// Groups `artifacts` (path and bytes) of `target` by signature under
/// `cfg`: one group per signature, in signature order, the artifacts no
/// era reproduces last.
pub fn triage(target: &str, artifacts: &[(PathBuf, Vec<u8>)], cfg: &Config) -> Vec<Group> {
    group(target, artifacts, |bytes| signatures_of(target, bytes, cfg))
}

/// Groups the artifacts of the `diff_tree` target by the divergence each
/// shows between the model of `engine`'s era and `engine` (a kernel
/// tree's own code).
pub fn triage_differential(
    artifacts: &[(PathBuf, Vec<u8>)],
    engine: &mut dyn crate::engine::Engine,
) -> Vec<Group> {
    group("diff_tree", artifacts, |bytes| {
        let input = decode(bytes).input;
        let line = fuzzing::differential_finding(&input, engine);
        let sig = line.as_deref().and_then(|l| {
            l.strip_prefix("efimap finding: ")?
                .split_whitespace()
                .next()
        });
        sig.map(|s| (s.to_string(), vec![engine.era()]))
            .into_iter()
            .collect()
    })
}

/// One group per signature `shown` gives an artifact's bytes, in
/// signature order, the artifacts that show none last.
fn group(
    target: &str,
    artifacts: &[(PathBuf, Vec<u8>)],
    mut shown_by: impl FnMut(&[u8]) -> BTreeMap<String, Vec<Era>>,
) -> Vec<Group> {
    let mut groups: BTreeMap<String, Group> = BTreeMap::new();
    for (path, bytes) in artifacts {
        let mut shown = shown_by(bytes);
        if shown.is_empty() {
            shown.insert(UNREPRODUCED.to_string(), Vec::new());
        }
        for (sig, eras) in shown {
            let g = groups.entry(sig.clone()).or_insert_with(|| Group {
                signature: sig,
                eras: Vec::new(),
                artifacts: 0,
                smallest: path.clone(),
                smallest_len: bytes.len(),
                scenario: Scenario::default(),
            });
            g.artifacts += 1;
            for e in eras {
                if !g.eras.contains(&e) {
                    g.eras.push(e);
                }
            }
            g.eras.sort();
            if (bytes.len(), path) < (g.smallest_len, &g.smallest) {
                g.smallest = path.clone();
                g.smallest_len = bytes.len();
            }
        }
    }
    let mut out: Vec<Group> = groups.into_values().collect();
    for g in &mut out {
        let bytes = &artifacts
            .iter()
            .find(|(p, _)| *p == g.smallest)
            .expect("the smallest is one of the artifacts")
            .1;
        let mut sc = scenario_of(target, bytes);
        if !g.eras.is_empty() {
            sc.eras = g.eras.clone();
        }
        let name = g
            .smallest
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        sc.header = vec![format!(
            "{}: the smallest of {} {target} artifacts ({name}, {} bytes)",
            g.signature, g.artifacts, g.smallest_len
        )];
        sc.header.extend(crate::cases::corpus::expect_lines(&sc));
        g.scenario = sc;
    }
    out.sort_by_key(|g| g.signature == UNREPRODUCED);
    out
}

/// The scenario file name of a signature: `class-function.scn`.
pub fn file_name(signature: &str) -> String {
    if signature == UNREPRODUCED {
        return "unreproduced.scn".to_string();
    }
    let safe: String = signature
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("{safe}.scn")
}
