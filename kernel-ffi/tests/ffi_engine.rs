// SPDX-License-Identifier: GPL-2.0-only
//! The in-process engine against the driver process on Debian's 6.1 and
//! 6.12 trees: the shared engine smoke test, the same outcome for every
//! corpus file and for thousands of scenarios of the hunt's exhaustive
//! bound, and the same reply text byte for byte.
//!
//! As in core/tests/all/tree_engine.rs, set `EFIMAP_TREES=DIR` (the files
//! `.ci/trees.sh DIR` extracts) to run these; without it they say so and
//! pass only outside CI.

use efimap_core::cases::corpus::{load, scenario_files};
use efimap_core::engine::smoke::smoke;
use efimap_core::engine::tree::{build, request, Tree, TreeEngine};
use efimap_core::engine::Engine;
use efimap_core::model::boot::check_input;
use efimap_core::search::explore::{for_each_scenario, Bound};
use efimap_core::{BootInput, Era};
use efimap_kernel_ffi::{build_library, FfiEngine};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Tree `v` (`6.1`, `6.12`), or `None` when no trees are given.
fn tree(v: &str) -> Option<Tree> {
    let Some(dir) = std::env::var_os("EFIMAP_TREES") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must set EFIMAP_TREES (see .ci/trees.sh)"
        );
        eprintln!("EFIMAP_TREES is not set: the kernel-tree tests do not run");
        return None;
    };
    Some(Tree::open(&PathBuf::from(dir).join(v)).expect("a tree"))
}

fn cache() -> PathBuf {
    root().join("target/kernel-builds")
}

/// Both engines of tree `v`.
fn engines(v: &str) -> Option<(FfiEngine, TreeEngine)> {
    let t = tree(v)?;
    let lib = build_library(&t, &root().join("kernel"), &cache()).expect("the tree builds");
    let driver = build(&t, &root().join("kernel"), &cache()).expect("the tree builds");
    let ffi = FfiEngine::load(&lib, &t, t.paired_era()).expect("the library loads");
    let process = TreeEngine::start(&driver, &t, t.paired_era()).expect("the driver starts");
    Some((ffi, process))
}

fn corpus() -> Vec<BootInput> {
    scenario_files(&root().join("corpus"))
        .unwrap()
        .iter()
        .map(|f| load(f).unwrap().input)
        .collect()
}

#[test]
#[cfg_attr(
    not(efimap_trees),
    ignore = "needs the Debian kernel trees: EFIMAP_TREES=DIR, made by bash .ci/trees.sh DIR"
)]
fn both_trees_pass_the_engine_smoke_test_in_process() {
    for (v, era) in [("6.1", Era::V6_1_Y), ("6.12", Era::V6_12_Y)] {
        let Some((mut ffi, _)) = engines(v) else {
            return;
        };
        assert_eq!(ffi.era(), era);
        smoke(&mut ffi);
    }
}

/// Every corpus file on both trees, and the first 3000 scenarios of the
/// hunt's bound on 6.12, loud and quiet: the same outcome through either
/// transport.
#[test]
#[cfg_attr(
    not(efimap_trees),
    ignore = "needs the Debian kernel trees: EFIMAP_TREES=DIR, made by bash .ci/trees.sh DIR"
)]
fn the_library_and_the_driver_process_give_the_same_outcomes() {
    for v in ["6.1", "6.12"] {
        let Some((mut ffi, mut process)) = engines(v) else {
            return;
        };
        let mut inputs = corpus();
        assert!(inputs.len() >= 10, "the corpus files");
        if v == "6.12" {
            for_each_scenario(&Bound::HUNT, |sc, _| {
                inputs.push(sc.input);
                inputs.len() < 3000 + 12
            });
            assert!(inputs.len() > 3000, "{}", inputs.len());
        }
        for (i, input) in inputs.iter().enumerate() {
            for quiet in [false, true] {
                let a = ffi.boot(input, quiet);
                let b = process.boot(input, quiet);
                assert_eq!(a, b, "{v}: input {i} (quiet {quiet}): {input:?}");
            }
        }
    }
}

/// The text out of efimap_driver_run is the driver's standard output, byte
/// for byte, for one batch of many scenarios.
#[test]
#[cfg_attr(
    not(efimap_trees),
    ignore = "needs the Debian kernel trees: EFIMAP_TREES=DIR, made by bash .ci/trees.sh DIR"
)]
fn one_batch_gives_the_drivers_text() {
    let Some(t) = tree("6.12") else { return };
    let lib = build_library(&t, &root().join("kernel"), &cache()).unwrap();
    let driver = build(&t, &root().join("kernel"), &cache()).unwrap();
    let mut text =
        String::from("# a comment, then a directive the driver does not know\nnonsense 1\n");
    let valid: Vec<BootInput> = corpus()
        .into_iter()
        .filter(|i| check_input(i).is_ok())
        .collect();
    for input in &valid {
        text.push_str(&request(input, false));
        text.push_str(&request(input, true));
    }
    let mut ffi = FfiEngine::load(&lib, &t, t.paired_era()).unwrap();
    let in_process = ffi.run_text(&text).unwrap();

    let mut child = Command::new(&driver)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn({
        let text = text.clone();
        move || stdin.write_all(text.as_bytes()).unwrap()
    });
    let mut from_process = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut from_process)
        .unwrap();
    writer.join().unwrap();
    assert!(child.wait().unwrap().success());
    assert!(in_process.starts_with("error unknown directive nonsense\n"));
    assert_eq!(in_process.matches("\nend\n").count(), 2 * valid.len());
    assert!(in_process == from_process, "the texts differ");
    assert_eq!(ffi.run_text("").unwrap(), "");
}
