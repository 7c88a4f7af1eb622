// SPDX-License-Identifier: GPL-2.0-only
//! Issue 10's measurement: the same scenarios (every corpus file and every
//! scenario of the hunt's exhaustive bound) through a tree's code by the
//! driver process (TreeEngine) and by the shared library in this process
//! (FfiEngine), one boot per call as the searches make them and as one
//! batch, on Debian's 6.1 and 6.12 trees. Prints boots per second of each
//! and the ratios; the model's rate is the reference.
//!
//!     EFIMAP_TREES=target/trees cargo bench -p efimap-kernel-ffi --bench process_vs_ffi
//!
//! Every figure includes writing the requests and parsing the replies into
//! outcomes. `EFIMAP_BENCH_SECONDS` (default 2) is the time per figure.

use efimap_core::cases::corpus::{load, scenario_files};
use efimap_core::engine::tree::{build, parse_outcome, request, Tree, TreeEngine};
use efimap_core::engine::{Engine, ModelEngine};
use efimap_core::model::boot::check_input;
use efimap_core::search::explore::{for_each_scenario, Bound};
use efimap_core::{BootInput, Era, Outcome};
use efimap_kernel_ffi::{build_library, FfiEngine};
use std::hint::black_box;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Boots per second of `pass` (which boots all `n` inputs once), over
/// passes for at least `time` after one warm-up pass.
fn rate(n: usize, time: Duration, mut pass: impl FnMut()) -> f64 {
    pass();
    let start = Instant::now();
    let mut passes = 0u64;
    while passes == 0 || start.elapsed() < time {
        pass();
        passes += 1;
    }
    (passes * n as u64) as f64 / start.elapsed().as_secs_f64()
}

fn per_boot(e: &mut dyn Engine, inputs: &[BootInput], quiet: bool) {
    for i in inputs {
        black_box(e.boot(i, quiet).expect("a boot"));
    }
}

/// One reply text of many answers into outcomes, an answer per input.
fn parse_batch(era: Era, inputs: &[BootInput], text: &str) -> Vec<Outcome> {
    let mut out = Vec::with_capacity(inputs.len());
    let mut lines = Vec::new();
    for line in text.split_terminator('\n') {
        if line == "end" {
            let input = &inputs[out.len()];
            out.push(parse_outcome(era, input, &lines).expect("a reply"));
            lines.clear();
        } else {
            lines.push(line.to_string());
        }
    }
    assert_eq!(out.len(), inputs.len(), "an answer per scenario");
    out
}

fn batch_text(inputs: &[BootInput], quiet: bool) -> String {
    inputs.iter().map(|i| request(i, quiet)).collect()
}

/// The whole batch through one driver process: one stream in, one out.
fn process_batch(driver: &Path, text: &str) -> String {
    let mut child = Command::new(driver)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the driver starts");
    let mut stdin = child.stdin.take().expect("piped");
    let reply = std::thread::scope(|s| {
        s.spawn(move || stdin.write_all(text.as_bytes()).expect("the driver reads"));
        let mut reply = String::new();
        child
            .stdout
            .take()
            .expect("piped")
            .read_to_string(&mut reply)
            .expect("the driver answers");
        reply
    });
    child.wait().expect("the driver exits");
    reply
}

fn main() {
    let Some(trees) = std::env::var_os("EFIMAP_TREES") else {
        eprintln!("process_vs_ffi: set EFIMAP_TREES=DIR (the trees of .ci/trees.sh) to run it");
        return;
    };
    let time = Duration::from_secs_f64(
        std::env::var("EFIMAP_BENCH_SECONDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(2.0),
    );
    let mut inputs: Vec<BootInput> = scenario_files(&root().join("corpus"))
        .expect("the corpus")
        .iter()
        .map(|f| load(f).expect("a corpus file").input)
        .collect();
    let corpus = inputs.len();
    for_each_scenario(&Bound::HUNT, |sc, _| {
        inputs.push(sc.input);
        true
    });
    inputs.retain(|i| check_input(i).is_ok());
    println!(
        "{} scenarios: {corpus} corpus files and the {} of Bound::HUNT; boots/s, requests written and replies parsed",
        inputs.len(),
        inputs.len() - corpus
    );
    let n = inputs.len();
    for v in ["6.1", "6.12"] {
        let tree = Tree::open(&PathBuf::from(&trees).join(v)).expect("a tree");
        let (shims, cache) = (root().join("kernel"), root().join("target/kernel-builds"));
        let driver = build(&tree, &shims, &cache).expect("the tree builds");
        let lib = build_library(&tree, &shims, &cache).expect("the tree builds");
        let era = tree.paired_era();
        let mut process = TreeEngine::start(&driver, &tree, era).expect("the driver starts");
        let mut ffi = FfiEngine::load(&lib, &tree, era).expect("the library loads");
        println!("\ntree {} (paired with {era})", tree.version_text());
        println!(
            "  {:<6} {:>12} {:>12} {:>7}   {:>12} {:>12} {:>7}   {:>10}",
            "", "process", "in-process", "ratio", "process", "in-process", "ratio", "model"
        );
        println!(
            "  {:<6} {:>12} {:>12} {:>7}   {:>12} {:>12} {:>7}",
            "", "per boot", "per boot", "", "one batch", "one batch", ""
        );
        for quiet in [true, false] {
            let p1 = rate(n, time, || per_boot(&mut process, &inputs, quiet));
            let f1 = rate(n, time, || per_boot(&mut ffi, &inputs, quiet));
            let text = batch_text(&inputs, quiet);
            let pb = rate(n, time, || {
                let reply = process_batch(&driver, &batch_text(&inputs, quiet));
                black_box(parse_batch(era, &inputs, &reply));
            });
            let fb = rate(n, time, || {
                let reply = ffi.run_text(&batch_text(&inputs, quiet)).expect("a batch");
                black_box(parse_batch(era, &inputs, &reply));
            });
            // The two transports answer the batch alike.
            assert!(ffi.run_text(&text).unwrap() == process_batch(&driver, &text));
            let m = rate(n, time, || per_boot(&mut ModelEngine(era), &inputs, quiet));
            println!(
                "  {:<6} {p1:>12.0} {f1:>12.0} {:>6.2}x   {pb:>12.0} {fb:>12.0} {:>6.2}x   {m:>10.0}",
                if quiet { "quiet" } else { "loud" },
                f1 / p1,
                fb / pb,
            );
        }
    }
}
