//! `efimap fuzz TARGET`: libFuzzer at scale on one target of `fuzz/`: fork
//! mode with N workers for a budget (crashes noted, not fatal), the new
//! inputs merged into the corpus, and the crash artifacts grouped by
//! efimap signature, the smallest of each written as a scenario file.
//! EFIMAP_ERAS, EFIMAP_KNOWN and EFIMAP_ONLY reach the workers and the
//! grouping alike, from the environment.

use crate::Failure;
use efimap_cli::FuzzArgs;
use efimap_core::search::fuzzing::Config;
use efimap_core::search::fuzzing::ENGINE_TARGETS;
use efimap_core::search::triage::{file_name, triage, triage_differential, Group, UNREPRODUCED};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The build flags every fuzz build of the project uses (CI, bench/fuzz.sh,
/// .clusterfuzzlite/build.sh): optimized without debug assertions, no
/// sanitizer, no compare tracing (BENCHMARKS.md, section 11).
pub const BUILD_FLAGS: [&str; 4] = ["-O", "-s", "none", "--no-trace-compares"];

/// The cargo-fuzz crate: `EFIMAP_FUZZ_DIR`, or the source tree's `fuzz/`.
/// Canonical, so that cargo sees the same package as a build from the
/// source tree's root and reuses its artifacts.
fn fuzz_dir() -> PathBuf {
    let dir = std::env::var_os("EFIMAP_FUZZ_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../fuzz")));
    std::fs::canonicalize(&dir).unwrap_or(dir)
}

/// The `[[bin]]` names of a cargo-fuzz manifest.
pub fn targets(manifest: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_bin = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_bin = line == "[[bin]]";
        } else if in_bin {
            if let Some(v) = line.strip_prefix("name") {
                let v = v.trim_start().trim_start_matches('=').trim();
                out.push(v.trim_matches('"').to_string());
            }
        }
    }
    out
}

/// `cargo +nightly fuzz` when a nightly toolchain is installed, else
/// `cargo fuzz` with RUSTC_BOOTSTRAP=1.
fn cargo_fuzz() -> Command {
    let nightly = Command::new("rustup")
        .args(["run", "nightly", "rustc", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    let mut cmd = Command::new("cargo");
    if nightly {
        cmd.arg("+nightly");
    } else {
        cmd.env("RUSTC_BOOTSTRAP", "1");
    }
    cmd.arg("fuzz");
    cmd
}

fn bad(what: &Path, e: std::io::Error) -> Failure {
    Failure::Input(format!("{}: {e}", what.display()))
}

/// Runs `cmd` with its output into `log`; whether it exited 0.
fn run_logged(mut cmd: Command, log: &Path) -> Result<bool, Failure> {
    let file = std::fs::File::create(log).map_err(|e| bad(log, e))?;
    let err = file.try_clone().map_err(|e| bad(log, e))?;
    let status = cmd
        .stdout(file)
        .stderr(err)
        .status()
        .map_err(|e| Failure::Input(format!("cannot run cargo fuzz: {e}")))?;
    Ok(status.success())
}

/// The executions and seconds of fork mode's last progress line
/// (`#N: cov: ... exec/s: R ... time: Ts ...`).
pub fn fork_progress(log: &str) -> Option<(u64, u64)> {
    let line = log
        .lines()
        .rev()
        .find(|l| l.starts_with('#') && l.contains(" exec/s: ") && l.contains(" time: "))?;
    let execs = line[1..].split(':').next()?.trim().parse().ok()?;
    let time = line.split(" time: ").nth(1)?;
    let secs = time.trim_start().split('s').next()?.parse().ok()?;
    Some((execs, secs))
}

pub fn run(a: &FuzzArgs) -> Result<(), Failure> {
    let dir = fuzz_dir();
    let manifest_path = dir.join("Cargo.toml");
    let manifest = std::fs::read_to_string(&manifest_path)
        .map_err(|e| Failure::Input(format!("{}: cannot read: {e}", manifest_path.display())))?;
    let names = targets(&manifest);
    if !names.contains(&a.target) {
        return Err(Failure::Input(format!(
            "{}: expected a fuzz target of {} ({}), found `{}`",
            a.target,
            manifest_path.display(),
            names.join(", "),
            a.target
        )));
    }
    if a.jobs == 0 {
        return Err(Failure::Input("--jobs: expected at least 1".into()));
    }
    let differential = ENGINE_TARGETS.contains(&a.target.as_str());
    // diff_tree's tree: its library built for the fuzzer, and its era.
    let tree = match (&a.tree, differential) {
        (Some(dir), true) => Some(fuzz_tree(dir, a.era)?),
        (None, true) => {
            return Err(Failure::Input(format!(
                "{}: expected --tree DIR, the kernel tree to run beside the model",
                a.target
            )))
        }
        (Some(_), false) => {
            return Err(Failure::Input(format!(
                "--tree: only {} runs a tree; {} runs the models",
                ENGINE_TARGETS.join(", "),
                a.target
            )))
        }
        (None, false) => None,
    };
    let has_cargo_fuzz = Command::new("cargo")
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_cargo_fuzz {
        return Err(Failure::Input(
            "cargo-fuzz is not installed: expected `cargo fuzz` (cargo install cargo-fuzz --locked)"
                .into(),
        ));
    }
    let corpus = a
        .corpus
        .clone()
        .unwrap_or_else(|| dir.join("corpus").join(&a.target));
    let artifacts = a.out.join("artifacts");
    let fresh = a.out.join("new-inputs");
    let _ = std::fs::remove_dir_all(&fresh);
    for d in [&corpus, &artifacts, &fresh] {
        std::fs::create_dir_all(d)
            .map_err(|e| Failure::Input(format!("{}: cannot create: {e}", d.display())))?;
    }
    // Scenario targets need up to codec::RANDOM_LEN bytes; the parsers more.
    let max_len = if a.target.starts_with("parse_") {
        "-max_len=512"
    } else {
        "-max_len=256"
    };
    let mut prefix = artifacts.clone().into_os_string();
    prefix.push("/");
    let fuzz_cmd = |corpora: [&Path; 2], extra: &[String]| {
        let mut cmd = cargo_fuzz();
        cmd.arg("run").arg("--fuzz-dir").arg(&dir).args(BUILD_FLAGS);
        cmd.arg(&a.target).args(corpora).arg("--");
        cmd.args(["-len_control=0", max_len]);
        let mut p = std::ffi::OsString::from("-artifact_prefix=");
        p.push(&prefix);
        cmd.arg(p).args(extra);
        if let Some(t) = &tree {
            cmd.env("EFIMAP_TREE_LIB", &t.library)
                .env("EFIMAP_TREE_ERA", t.era.name());
        }
        cmd
    };
    println!(
        "efimap fuzz: {} with {} workers for {} s, corpus {}",
        a.target,
        a.jobs,
        a.budget,
        corpus.display()
    );
    let log = a.out.join("fuzz.log");
    run_logged(
        fuzz_cmd(
            [&fresh, &corpus],
            &[
                format!("-fork={}", a.jobs),
                "-ignore_crashes=1".into(),
                format!("-max_total_time={}", a.budget),
            ],
        ),
        &log,
    )?;
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    match fork_progress(&text) {
        Some((execs, secs)) => println!(
            "{execs} executions in {secs} s: {} exec/s in all",
            execs / secs.max(1)
        ),
        None => {
            let tail: Vec<&str> = text.lines().rev().take(15).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            return Err(Failure::Input(format!(
                "cargo fuzz did not fuzz (its log: {}):\n{}",
                log.display(),
                tail.join("\n")
            )));
        }
    }
    let merge_log = a.out.join("merge.log");
    if !run_logged(
        fuzz_cmd([&corpus, &fresh], &["-merge=1".into()]),
        &merge_log,
    )? {
        return Err(Failure::Input(format!(
            "the merge into {} failed (its log: {})",
            corpus.display(),
            merge_log.display()
        )));
    }
    let kept = std::fs::read_dir(&corpus).map_or(0, |d| d.count());
    println!("corpus {}: {kept} inputs after the merge", corpus.display());
    print_corpus_reach(&a.target, &corpus, tree.as_ref())?;
    let found = crash_artifacts(&artifacts)?;
    let groups = match &tree {
        Some(t) => {
            let mut engine = crate::tree_engine(&t.dir, Some(t.era))?;
            triage_differential(&found, &mut engine)
        }
        None => triage(&a.target, &found, &Config::from_env()),
    };
    for g in &groups {
        crate::write_out(
            &a.out.join(file_name(&g.signature)),
            g.scenario.to_text().as_bytes(),
        )?;
    }
    print!("{}", table(&groups, &a.out));
    if groups.iter().any(|g| g.signature == UNREPRODUCED) {
        // What the fuzzer's own process saw, for a finding the plain
        // build does not show again.
        let said: std::collections::BTreeSet<&str> = text
            .lines()
            .filter_map(|l| l.find("efimap finding: ").map(|i| &l[i..]))
            .collect();
        for line in said.iter().take(5) {
            println!("{}: {line}", log.display());
        }
    }
    // A divergence between a tree and its model is a finding, as in
    // efimap diff.
    if tree.is_some() && !groups.is_empty() {
        return Err(Failure::Findings);
    }
    Ok(())
}

/// What the merged corpus of a scenario target reaches, printed: each
/// input as the target decodes it, booted in the configured eras' models
/// (EFIMAP_ERAS), or for diff_tree in its era's model, and then the calls
/// of the tree's own code; nothing for the parsers' targets.
fn print_corpus_reach(target: &str, corpus: &Path, tree: Option<&FuzzTree>) -> Result<(), Failure> {
    use efimap_core::engine::{Engine, ModelEngine};
    use efimap_core::search::reach::Reach;
    if !matches!(target, "boot_flow" | "fake_mem" | "naive" | "diff_tree") {
        return Ok(());
    }
    let mut inputs = Vec::new();
    for e in std::fs::read_dir(corpus).map_err(|e| bad(corpus, e))? {
        let p = e.map_err(|e| bad(corpus, e))?.path();
        let bytes = std::fs::read(&p).map_err(|e| bad(&p, e))?;
        inputs.push(efimap_core::search::triage::scenario_of(target, &bytes).input);
    }
    let failed = |e: efimap_core::engine::EngineError| Failure::Input(e.to_string());
    let mut models: Vec<ModelEngine> = match tree {
        Some(t) => vec![ModelEngine(t.era)],
        None => Config::from_env()
            .eras
            .into_iter()
            .map(ModelEngine)
            .collect(),
    };
    let mut engines: Vec<&mut dyn Engine> =
        models.iter_mut().map(|m| m as &mut dyn Engine).collect();
    print!(
        "{}",
        Reach::of(inputs.iter(), &mut engines)
            .map_err(failed)?
            .table()
    );
    if let Some(t) = tree {
        let mut process = crate::tree_engine(&t.dir, Some(t.era))?;
        let name = process.name();
        let reach = Reach::of(inputs.iter(), &mut [&mut process]).map_err(failed)?;
        println!("{name}, the calls of its boots:");
        print!("{}", reach.calls_table());
    }
    Ok(())
}

/// Builds fuzz target `name` as every run of the project builds it, so
/// that a timed run does not time the build.
pub fn build_target(name: &str) -> Result<(), Failure> {
    let mut cmd = cargo_fuzz();
    cmd.arg("build")
        .arg("--fuzz-dir")
        .arg(fuzz_dir())
        .args(BUILD_FLAGS)
        .arg(name);
    let status = cmd
        .status()
        .map_err(|e| Failure::Input(format!("cannot run cargo fuzz: {e}")))?;
    if status.success() {
        Ok(())
    } else {
        Err(Failure::Input(format!("cargo fuzz build {name} failed")))
    }
}

/// One run of the bug benchmark: `cargo fuzz run boot_flow` from an empty
/// corpus with libFuzzer seed `seed`, for at most `seconds`, crashing only
/// on `bug` (EFIMAP_ERAS its era, EFIMAP_ONLY its signature,
/// EFIMAP_WITHOUT the era without it). The wall time of the run when it
/// stopped on an input that shows the bug; `None` when it found nothing
/// in time.
pub fn time_to_bug(
    bug: &efimap_core::judge::history::Bug,
    seed: u64,
    seconds: u64,
) -> Result<Option<f64>, Failure> {
    let dir = fuzz_dir();
    let work = std::env::temp_dir().join(format!("efimap-bugs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    let empty = work.join("empty");
    std::fs::create_dir_all(&empty).map_err(|e| bad(&empty, e))?;
    let mut prefix = work.clone().into_os_string();
    prefix.push("/");
    let mut cmd = cargo_fuzz();
    cmd.arg("run").arg("--fuzz-dir").arg(&dir).args(BUILD_FLAGS);
    cmd.arg("boot_flow").arg(&empty).arg("--");
    cmd.args([
        format!("-seed={seed}"),
        "-len_control=0".into(),
        "-max_len=256".into(),
        format!("-max_total_time={seconds}"),
    ]);
    let mut p = std::ffi::OsString::from("-artifact_prefix=");
    p.push(&prefix);
    cmd.arg(p);
    cmd.env("EFIMAP_ERAS", bug.era.name())
        .env("EFIMAP_ONLY", bug.signature.to_string())
        .env("EFIMAP_WITHOUT", bug.without.map_or("", |e| e.name()))
        .env_remove("EFIMAP_KNOWN");
    let start = std::time::Instant::now();
    let crashed = !run_logged(cmd, &work.join("fuzz.log"))?;
    let secs = start.elapsed().as_secs_f64();
    let found = crashed
        && crash_artifacts(&work)?
            .iter()
            .any(|(_, bytes)| bug.shows(&efimap_core::cases::codec::decode(bytes)));
    let _ = std::fs::remove_dir_all(&work);
    Ok(found.then_some(secs))
}

/// diff_tree's tree: where it is, its library built for the fuzzer, and
/// the era it is held against.
struct FuzzTree {
    dir: PathBuf,
    library: PathBuf,
    era: efimap_core::Era,
}

fn fuzz_tree(dir: &Path, era: Option<efimap_core::Era>) -> Result<FuzzTree, Failure> {
    use efimap_core::engine::tree;
    let bad = |e: tree::TreeError| Failure::Input(e.to_string());
    let t = tree::Tree::open(dir).map_err(bad)?;
    let driver = tree::build_fuzz(&t, &crate::shim_dir(), &crate::cache_dir()).map_err(bad)?;
    Ok(FuzzTree {
        dir: dir.to_path_buf(),
        library: driver.with_file_name("libefimap-kernel.so"),
        era: era.unwrap_or_else(|| t.paired_era()),
    })
}

/// The crash artifacts of a folder (`crash-*`), by name, with their bytes.
pub fn crash_artifacts(dir: &Path) -> Result<Vec<(PathBuf, Vec<u8>)>, Failure> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| bad(dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("crash-"))
        })
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            std::fs::read(&p)
                .map(|b| (p.clone(), b))
                .map_err(|e| bad(&p, e))
        })
        .collect()
}

/// The table of signatures: eras, artifacts, the smallest, its scenario
/// file under `out`.
pub fn table(groups: &[Group], out: &Path) -> String {
    let head = ["signature", "eras", "artifacts", "smallest", "scenario"];
    let mut rows: Vec<[String; 5]> = vec![head.map(str::to_string)];
    for g in groups {
        let eras: Vec<&str> = g.eras.iter().map(|e| e.name()).collect();
        let name = g
            .smallest
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        rows.push([
            g.signature.clone(),
            if eras.is_empty() {
                "-".into()
            } else {
                eras.join(",")
            },
            g.artifacts.to_string(),
            format!("{name} ({} bytes)", g.smallest_len),
            out.join(file_name(&g.signature)).display().to_string(),
        ]);
    }
    let width: Vec<usize> = (0..5)
        .map(|i| rows.iter().map(|r| r[i].len()).max().unwrap_or(0))
        .collect();
    let mut text = String::new();
    if groups.is_empty() {
        text.push_str("no crash artifacts\n");
        return text;
    }
    for r in &rows {
        let line = format!(
            "{:w0$}  {:w1$}  {:>w2$}  {:w3$}  {}",
            r[0],
            r[1],
            r[2],
            r[3],
            r[4],
            w0 = width[0],
            w1 = width[1],
            w2 = width[2],
            w3 = width[3]
        );
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use efimap_core::cases::codec::encode;
    use efimap_core::cases::corpus;
    use efimap_core::Era;

    fn corpus_file(name: &str) -> efimap_core::cases::scenario::Scenario {
        corpus::load(&Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../corpus")).join(name))
            .unwrap()
    }

    #[test]
    fn the_manifest_names_every_target() {
        let manifest = include_str!("../../fuzz/Cargo.toml");
        // The core's test pins the list itself against the manifest.
        let known: std::collections::BTreeSet<String> = efimap_core::search::fuzzing::TARGETS
            .iter()
            .map(|(n, _)| n.to_string())
            .chain(efimap_core::search::fuzzing::ENGINE_TARGETS.map(String::from))
            .collect();
        let listed: std::collections::BTreeSet<String> = targets(manifest).into_iter().collect();
        assert_eq!(listed, known);
        assert_eq!(targets(manifest).len(), known.len());
    }

    #[test]
    fn fork_progress_reads_the_last_line() {
        let log = "INFO: -fork=2: fuzzing in separate process(s)\n\
                   #1234: cov: 10 ft: 20 corp: 3 exec/s: 100 oom/timeout/crash: 0/0/1 time: 4s job: 2 dft_time: 0\n\
                   #56789: cov: 11 ft: 21 corp: 4 exec/s: 3786 oom/timeout/crash: 0/0/2 time: 15s job: 6 dft_time: 0\n\
                   INFO: fuzzed for 15 seconds, wrapping up soon\n";
        assert_eq!(fork_progress(log), Some((56789, 15)));
        assert_eq!(fork_progress("nothing"), None);
    }

    /// Synthetic artifacts made with the project's encoder: two of the
    /// seed overrun case (one padded, so larger), one quiet boot, one
    /// whose bytes show nothing.
    #[test]
    fn artifacts_group_by_signature_with_the_smallest_of_each() {
        let dan = corpus_file("dan-williams-two-contiguous-sp.scn");
        let mut small = dan.clone();
        small.eras = vec![Era::V5_5];
        let small = encode(&small);
        let mut big = small.clone();
        big.extend_from_slice(&[0; 7]);
        let dir = std::env::temp_dir().join(format!("efimap-triage-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("crash-bbbb"), &big).unwrap();
        std::fs::write(dir.join("crash-aaaa"), &small).unwrap();
        std::fs::write(dir.join("crash-quiet"), []).unwrap();
        std::fs::write(dir.join("not-an-artifact"), &small).unwrap();
        let Ok(found) = crash_artifacts(&dir) else {
            panic!("cannot read {}", dir.display())
        };
        assert_eq!(found.len(), 3);
        let cfg = Config {
            eras: vec![Era::V5_5, Era::V5_6],
            only: Some(
                [
                    efimap_core::judge::signature::Signature::parse("overrun/efi_arch_mem_reserve")
                        .unwrap(),
                ]
                .into(),
            ),
            ..Config::default()
        };
        let groups = triage("boot_flow", &found, &cfg);
        let out = Path::new("fuzzed");
        // The raw forms: later step, fill, desc_size (3), map form and
        // count (4), 41 bytes a descriptor, words and one token's length,
        // a reservation count (3) and one (17), the extras (9), the header
        // lines (2 bytes and the text each) after their count, the eras.
        let header: usize = dan.header.iter().map(|h| 2 + h.len()).sum();
        let expected = 1
            + 1
            + 3
            + 4
            + 2 * 41
            + (2 + 2 + dan.input.cmdline.len())
            + (3 + 17)
            + 9
            + (1 + header)
            + 1;
        assert_eq!(small.len(), expected);
        assert_eq!(
            table(&groups, out),
            "signature                     eras  artifacts  smallest                 scenario\n\
             overrun/efi_arch_mem_reserve  v5.5          2  crash-aaaa (1387 bytes)  fuzzed/overrun-efi_arch_mem_reserve.scn\n\
             (does not reproduce)          -             1  crash-quiet (0 bytes)    fuzzed/unreproduced.scn\n"
        );
        // The scenario is the smallest artifact's, in the eras that show it.
        let sc = &groups[0].scenario;
        assert_eq!(sc.eras, [Era::V5_5]);
        assert_eq!(sc.input, dan.input);
        assert_eq!(
            sc.header[0],
            "overrun/efi_arch_mem_reserve: the smallest of 2 boot_flow artifacts (crash-aaaa, 1387 bytes)"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
