// SPDX-License-Identifier: GPL-2.0-only
//! A crash of the kernel code inside the host process: the driver's
//! self-test fault (`EFIMAP_TEST_CRASH`, a write to address 8 at the end of
//! the boot) ends that boot with a crash record, the next boots run, and
//! the host's own signal handlers are back after every call. One test in
//! this binary, as it sets an environment variable the library reads.
//!
//! Run with `EFIMAP_TREES=DIR`, as the other kernel-tree tests.

use efimap_core::engine::tree::Tree;
use efimap_core::engine::Engine;
use efimap_core::model::boot::Outcome;
use efimap_core::model::kernel::Level;
use efimap_core::BootInput;
use efimap_kernel_ffi::{build_library, FfiEngine};
use std::path::{Path, PathBuf};

/// The signals this process catches, from /proc/self/status.
fn caught() -> String {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("SigCgt:").map(|m| m.trim().to_string()))
        .unwrap()
}

fn crashed(o: &Outcome) -> bool {
    o.events.iter().any(|e| {
        e.level == Level::Warning && e.text.contains("the kernel code crashed with SIGSEGV")
    })
}

#[test]
#[cfg_attr(
    not(efimap_trees),
    ignore = "needs the Debian kernel trees: EFIMAP_TREES=DIR, made by bash .ci/trees.sh DIR"
)]
fn a_crash_in_process_ends_the_boot_and_not_the_host() {
    let Some(dir) = std::env::var_os("EFIMAP_TREES") else {
        assert!(std::env::var_os("CI").is_none(), "CI must set EFIMAP_TREES");
        return;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let tree = Tree::open(&PathBuf::from(dir).join("6.12")).unwrap();
    let lib = build_library(
        &tree,
        &root.join("kernel"),
        &root.join("target/kernel-builds"),
    )
    .unwrap();
    let mut e = FfiEngine::load(&lib, &tree, tree.paired_era()).unwrap();
    let input = BootInput {
        map: vec![efimap_core::MemoryDesc::new(7, 0x10_0000, 0x100, 0xf)],
        ..BootInput::default()
    };
    let before = caught();
    let clean = e.boot(&input, true).unwrap();
    assert!(!crashed(&clean));
    assert_eq!(caught(), before, "the handlers are put back");

    std::env::set_var("EFIMAP_TEST_CRASH", "1");
    for _ in 0..3 {
        let o = e.boot(&input, true).unwrap();
        assert!(crashed(&o), "{:?}", o.events);
        // Everything before the fault is still reported.
        assert_eq!(o.map, clean.map);
        assert_eq!(caught(), before, "the handlers are put back");
    }
    std::env::remove_var("EFIMAP_TEST_CRASH");
    assert_eq!(e.boot(&input, true).unwrap(), clean);
}
