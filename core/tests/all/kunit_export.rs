// SPDX-License-Identifier: GPL-2.0-only
//! `export --as kunit`, checked: the exported KUnit case is compiled with
//! `kernel/build.sh TREE OUT --kunit case.c` against the project's KUnit
//! shim (`kernel/include/kunit/test.h`, `kernel/kunit.c`) and a kernel
//! tree's own `efi_memmap_split_count()` and `efi_memmap_insert()`, run,
//! and its KTAP output held line for line: the seed case passes on the real
//! 6.1 and 6.12, fails on a 6.12 whose split count leaves out a descriptor,
//! and the overlapping-descriptor case fails on the real 6.12, whose insert
//! writes past the buffer sized as efi_arch_mem_reserve sizes it.
//!
//! The trees are the files `.ci/trees.sh DIR` extracts; set
//! `EFIMAP_TREES=DIR` to run these (CI does; without it they say so and
//! pass only outside CI).

use efimap_core::cases::corpus::load;
use efimap_core::cases::export::kunit;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The folder of the trees, or `None` when none is given.
fn trees() -> Option<PathBuf> {
    let Some(dir) = std::env::var_os("EFIMAP_TREES") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must set EFIMAP_TREES (see .ci/trees.sh)"
        );
        eprintln!("EFIMAP_TREES is not set: the KUnit export tests do not run");
        return None;
    };
    Some(PathBuf::from(dir))
}

/// A fresh scratch folder for one test.
fn scratch(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("efimap-kunit-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// What one exported case did on one tree.
struct Run {
    /// The exported C text.
    c: String,
    /// The runner's exit status.
    code: i32,
    /// Its KTAP output.
    ktap: String,
}

/// Exports corpus file `scn` as `work/case.c`, builds it against `tree`
/// into `work/out` and runs `work/out/efimap-kunit`.
fn run(tree: &Path, scn: &str, work: &Path) -> Run {
    let path = root().join("corpus").join(scn);
    let sc = load(&path).unwrap();
    let name = path.file_stem().unwrap().to_string_lossy().into_owned();
    let c = kunit(&sc, &name);
    let case = work.join("case.c");
    std::fs::write(&case, &c).unwrap();
    let out = work.join("out");
    let build = Command::new("bash")
        .arg(root().join("kernel/build.sh"))
        .arg(tree)
        .arg(&out)
        .arg("--kunit")
        .arg(&case)
        .output()
        .unwrap();
    assert!(
        build.status.success(),
        "build.sh on {}: {}",
        tree.display(),
        String::from_utf8_lossy(&build.stderr)
    );
    let r = Command::new(out.join("efimap-kunit")).output().unwrap();
    Run {
        c,
        code: r.status.code().expect("the runner exits"),
        ktap: String::from_utf8(r.stdout).unwrap(),
    }
}

/// The runner's whole output for one suite of one case: `diag` are the
/// case's `# ` lines (without the indent), `pass` its result.
fn ktap(ident: &str, diag: &[String], pass: bool) -> String {
    let (ok, p, f) = if pass { ("ok", 1, 0) } else { ("not ok", 0, 1) };
    let suite = format!("efimap_{ident}");
    let mut s =
        format!("KTAP version 1\n1..1\n    KTAP version 1\n    # Subtest: {suite}\n    1..1\n");
    for d in diag {
        s.push_str(&format!("    # {d}\n"));
    }
    s.push_str(&format!(
        "    {ok} 1 {ident}\n# {suite}: pass:{p} fail:{f} skip:0 total:1\n{ok} 1 {suite}\n# Totals: pass:{p} fail:{f} skip:0 total:1\n"
    ));
    s
}

/// The line of the exported text where the guard is asserted (1-based), as
/// the runner reports it (`case.c:LINE`).
fn guard_line(c: &str) -> usize {
    let check = "KUNIT_ASSERT_EQ_MSG(test, guard[i], EFIMAP_GUARD,";
    assert_eq!(c.matches(check).count(), 1, "one guard check");
    1 + c.lines().position(|l| l.contains(check)).unwrap()
}

/// The guard assertion's report: the first guard byte held `byte` after
/// an insert into room for `room` descriptors.
fn guard_failed(ident: &str, line: usize, byte: u8, room: usize) -> Vec<String> {
    vec![
        format!("{ident}: ASSERTION FAILED at case.c:{line}"),
        "Expected guard[i] == EFIMAP_GUARD, but".to_string(),
        format!("    guard[i] == {byte} ({byte:#x})"),
        "    EFIMAP_GUARD == 165 (0xa5)".to_string(),
        format!("efi_memmap_insert() wrote past its {room} descriptors"),
    ]
}

const SEED: &str = "dan-williams-two-contiguous-sp.scn";
const SEED_IDENT: &str = "dan_williams_two_contiguous_sp";

/// The fixed code splits the Conventional descriptor around each SP range
/// with room counted for every piece: no guard is touched, nothing is
/// written past a buffer, and the map is the fixed kernel's seven
/// descriptors, on both trees.
#[test]
#[cfg_attr(
    not(efimap_trees),
    ignore = "needs the Debian kernel trees: EFIMAP_TREES=DIR, made by bash .ci/trees.sh DIR"
)]
fn the_seed_case_passes_on_the_real_6_1_and_6_12() {
    let Some(dir) = trees() else { return };
    let runs: Vec<(String, Run)> = std::thread::scope(|s| {
        let handles: Vec<_> = ["6.1", "6.12"]
            .into_iter()
            .map(|v| {
                let tree = dir.join(v);
                s.spawn(move || {
                    let work = scratch(&format!("seed-{v}"));
                    let r = run(&tree, SEED, &work);
                    let _ = std::fs::remove_dir_all(&work);
                    (v.to_string(), r)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (v, r) in runs {
        assert_eq!(r.ktap, ktap(SEED_IDENT, &[], true), "{v}");
        assert_eq!(r.code, 0, "{v}");
    }
}

/// A copy of the 6.12 tree whose efi_memmap_split_count counts a split in
/// three (a range strictly inside a descriptor) as a split in two: its
/// `count += 2;` made `count += 1;`. The first efi_fake_mem range, 9G..13G
/// inside the Conventional 4G..18G, then gets a buffer of 2 + 1
/// descriptors; the real insert writes four (Boot Services Data, and the
/// Conventional head, SP middle and Conventional tail), so the tail (type
/// 7) lands on the guard descriptor, inside the buffer's block: the guard
/// assertion fails there, naming efi_memmap_insert, and no byte is written
/// past the block (no fault line).
#[test]
#[cfg_attr(
    not(efimap_trees),
    ignore = "needs the Debian kernel trees: EFIMAP_TREES=DIR, made by bash .ci/trees.sh DIR"
)]
fn the_seed_case_fails_on_6_12_with_a_split_in_three_counted_as_two() {
    let Some(dir) = trees() else { return };
    let work = scratch("mutant");
    let copy = work.join("tree");
    assert!(Command::new("cp")
        .arg("-r")
        .arg(dir.join("6.12"))
        .arg(&copy)
        .status()
        .unwrap()
        .success());
    let memmap = copy.join("arch/x86/platform/efi/memmap.c");
    let text = std::fs::read_to_string(&memmap).unwrap();
    let (from, to) = ("count += 2;", "count += 1;");
    assert_eq!(text.matches(from).count(), 1, "the edit applies once");
    std::fs::write(&memmap, text.replacen(from, to, 1)).unwrap();

    let r = run(&copy, SEED, &work);
    let _ = std::fs::remove_dir_all(&work);
    let line = guard_line(&r.c);
    assert_eq!(
        r.ktap,
        ktap(SEED_IDENT, &guard_failed(SEED_IDENT, line, 7, 3), false)
    );
    assert_eq!(r.code, 1);
}

/// The real 6.12 on overlapping descriptors: efi_arch_mem_reserve counts
/// the splits of the looked-up Boot Services Data descriptor only (2 + 2
/// descriptors), but the insert splits the overlapping Conventional one
/// too and writes six. The fifth (the Conventional middle, type 7) lands
/// on the guard, the sixth in the 48 bytes past the 240-byte buffer (four
/// descriptors and the guard): the guard assertion fails, and the shim's
/// fault names efi_memmap_insert, the buffer and the bytes.
#[test]
#[cfg_attr(
    not(efimap_trees),
    ignore = "needs the Debian kernel trees: EFIMAP_TREES=DIR, made by bash .ci/trees.sh DIR"
)]
fn the_overlap_fails_on_the_real_6_12_with_a_write_past_the_buffer() {
    let Some(dir) = trees() else { return };
    let work = scratch("overlap");
    let r = run(
        &dir.join("6.12"),
        "overlapping-descriptors-reserve-overrun.scn",
        &work,
    );
    let _ = std::fs::remove_dir_all(&work);
    let ident = "overlapping_descriptors_reserve_overrun";
    let mut diag = guard_failed(ident, guard_line(&r.c), 7, 4);
    // Buffer 1 is the firmware map's copy (2 + 1 descriptors), buffer 2
    // the reservation's.
    diag.push(format!(
        "{ident}: FAULT: efi_memmap_insert wrote 48 bytes past the end of kunit_kzalloc buffer 2 (240 bytes), at offset 0xf0"
    ));
    assert_eq!(r.ktap, ktap(ident, &diag, false));
    assert_eq!(r.code, 1);
}
