// SPDX-License-Identifier: GPL-2.0-only
//! The diff_tree fuzz target's check in this process, without libFuzzer:
//! each input of a corpus folder through the model of the tree's era and
//! through the tree's library (the fuzz build, `kernel/build.sh --fuzz`,
//! as the target loads it), compared; executions per second, to hold
//! against libFuzzer's exec/s on the same inputs (bench/diff_tree.sh).
//!
//!     EFIMAP_TREES=target/trees cargo bench -p efimap-kernel-ffi --bench diff_tree_rate
//!
//! `EFIMAP_DIFF_CORPUS` (default fuzz/corpus/diff_tree) is the folder,
//! `EFIMAP_BENCH_SECONDS` (default 5) the time per tree.

use efimap_core::engine::tree::{build_fuzz, Tree};
use efimap_core::search::fuzzing::differential;
use efimap_kernel_ffi::FfiEngine;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn main() {
    let Some(trees) = std::env::var_os("EFIMAP_TREES").map(PathBuf::from) else {
        eprintln!("diff_tree_rate: set EFIMAP_TREES to the folder of the trees (bash .ci/trees.sh target/trees)");
        return;
    };
    let corpus = std::env::var_os("EFIMAP_DIFF_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("fuzz/corpus/diff_tree"));
    let seconds: f64 = std::env::var("EFIMAP_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5.0);
    let mut inputs: Vec<Vec<u8>> = std::fs::read_dir(&corpus)
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e} (efimap seeds corpus -o fuzz/corpus)",
                corpus.display()
            )
        })
        .filter_map(|e| std::fs::read(e.ok()?.path()).ok())
        .collect();
    inputs.sort();
    println!(
        "diff_tree's check in process: {} inputs of {}, {seconds} s a tree",
        inputs.len(),
        corpus.display()
    );
    let cache = root().join("target/kernel-builds");
    for v in ["6.1", "6.12"] {
        let tree = Tree::open(&trees.join(v)).expect("a tree");
        let driver = build_fuzz(&tree, &root().join("kernel"), &cache).expect("a fuzz build");
        let lib = driver.with_file_name(efimap_kernel_ffi::LIBRARY);
        let mut engine = FfiEngine::load(&lib, &tree, tree.paired_era()).expect("the library");
        let start = Instant::now();
        let mut n = 0u64;
        while start.elapsed() < Duration::from_secs_f64(seconds) {
            for i in &inputs {
                differential(i, &mut engine);
                n += 1;
            }
        }
        println!(
            "  tree {}: {:.0} executions/s",
            tree.version_text(),
            n as f64 / start.elapsed().as_secs_f64()
        );
    }
}
