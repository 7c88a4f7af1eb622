//! `efimap hunt --tree` finds a bug put on purpose into a copy of a real
//! tree, from an empty start, and minimizes it. (On the tree as it is, the
//! exhaustive bound shows nothing: `exploring_the_real_code_finds_what_the_model_finds`
//! in core/tests/tree_engine.rs.)
//!
//! The trees are the files `.ci/trees.sh DIR` extracts; set
//! `EFIMAP_TREES=DIR` to run this (CI does; without it it says so and
//! passes only outside CI).

use efimap_core::cases::scenario::Scenario;
use efimap_core::model::desc::{ty, MemoryDesc};
use std::path::{Path, PathBuf};
use std::process::Command;

fn trees() -> Option<PathBuf> {
    let Some(dir) = std::env::var_os("EFIMAP_TREES") else {
        assert!(std::env::var_os("CI").is_none(), "CI must set EFIMAP_TREES");
        eprintln!("EFIMAP_TREES is not set: the kernel-tree tests do not run");
        return None;
    };
    Some(PathBuf::from(dir))
}

fn efimap(args: &[&str]) -> (Option<i32>, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_efimap"))
        .args(args)
        .output()
        .unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
    )
}

/// A copy of tree `src` with `from` replaced by `to`, once, in `file`.
fn mutant(src: &Path, file: &str, from: &str, to: &str) -> PathBuf {
    let copy = std::env::temp_dir().join(format!("efimap-hunt-mutant-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&copy);
    assert!(Command::new("cp")
        .args(["-r", src.to_str().unwrap(), copy.to_str().unwrap()])
        .status()
        .unwrap()
        .success());
    let path = copy.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.matches(from).count(), 1, "the edit applies once");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    copy
}

/// The table row of `signature` in a hunt's output.
fn row<'a>(stdout: &'a str, signature: &str) -> Option<&'a str> {
    stdout
        .lines()
        .find(|l| l.trim_start().starts_with(&format!("{signature} ")))
}

/// efi_arch_mem_reserve's buffer made one descriptor short
/// (`num_entries += efi.memmap.nr_map;` becomes `... nr_map - 1;` in
/// arch/x86/platform/efi/quirks.c of 6.12). One Boot Services Data
/// descriptor of two pages and a reservation of its first page is the
/// smallest case: split count 1, so 1 + 1 - 1 = 1 descriptor (48 bytes) is
/// allocated and efi_memmap_insert writes 2 (96 bytes), 48 past the end.
#[test]
#[cfg_attr(
    not(efimap_trees),
    ignore = "needs the Debian kernel trees: EFIMAP_TREES=DIR, made by bash .ci/trees.sh DIR"
)]
fn hunt_finds_a_broken_size_in_a_real_tree_and_minimizes_it() {
    let Some(trees) = trees() else { return };
    let copy = mutant(
        &trees.join("6.12"),
        "arch/x86/platform/efi/quirks.c",
        "num_entries += efi.memmap.nr_map;",
        "num_entries += efi.memmap.nr_map - 1;",
    );
    let out = copy.join("found");
    let (code, stdout) = efimap(&[
        "hunt",
        "--tree",
        copy.to_str().unwrap(),
        "--budget",
        "6",
        "--seed",
        "1",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{stdout}");
    assert!(stdout.contains("tree 6.12."), "{stdout}");
    let overrun = row(&stdout, "overrun/efi_arch_mem_reserve").expect(&stdout);
    // Found in the exhaustive phase, one descriptor + one reservation, and
    // the model of the paired era does not do it.
    assert!(overrun.contains("x   1+1"), "{overrun}");
    assert!(
        overrun.ends_with("(not in model v6.12.y: see efimap diff)"),
        "{overrun}"
    );

    let file = out.join("overrun-efi_arch_mem_reserve-fixed.scn");
    let sc = Scenario::parse(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(
        sc.header[0].split(" after ").next(),
        Some("overrun/efi_arch_mem_reserve: found by the exhaustive search")
    );
    assert!(sc.header[1].starts_with("Occurs in tree 6.12."));
    assert_eq!(
        sc.input.map,
        vec![MemoryDesc::new(ty::BOOT_SERVICES_DATA, 0, 2, 0)]
    );
    assert_eq!(sc.input.reservations, vec![(0, 0x1000)]);
    assert_eq!(sc.input.cmdline, "");

    // Run on the altered tree, the reproducer shows the bytes.
    let (code, stdout) = efimap(&[
        "run",
        "--eras",
        "v6.12.y",
        "--tree",
        copy.to_str().unwrap(),
        file.to_str().unwrap(),
    ]);
    let _ = std::fs::remove_dir_all(&copy);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains(
            "overrun/efi_arch_mem_reserve: efi_memmap_insert wrote 48 bytes past the \
             48-byte buffer efi_arch_mem_reserve allocated (page fault)"
        ),
        "{stdout}"
    );
}

/// `explore --tree` takes `--tree-era` as the other commands do (the era
/// the tree's engine is held to was once always the paired one) and
/// says which engine and era it explores.
#[test]
#[cfg_attr(
    not(efimap_trees),
    ignore = "needs the Debian kernel trees: EFIMAP_TREES=DIR, made by bash .ci/trees.sh DIR"
)]
fn explore_on_a_tree_takes_its_era() {
    let Some(trees) = trees() else { return };
    let tree = trees.join("6.12");
    let t = tree.to_str().unwrap();
    let (code, out) = efimap(&[
        "explore",
        "--tree",
        t,
        "--tree-era",
        "v6.1.y",
        "--descs",
        "1",
        "--ranges",
        "1",
        "--pages",
        "2",
    ]);
    assert_eq!(code, Some(0), "{out}");
    let heading = out
        .lines()
        .find(|l| l.starts_with("exploring "))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(heading.starts_with("exploring tree 6.12."), "{heading}");
    assert!(heading.ends_with(&format!(" ({t}) as v6.1.y")), "{heading}");
    let bound = efimap_core::search::explore::Bound {
        descs: 1,
        ranges: 1,
        pages: 2,
        reserve: true,
    };
    let n = efimap_core::search::explore::count(&bound).unwrap();
    assert!(
        out.contains(&format!(
            "\nchecked {n} scenarios (descs <= 1, ranges <= 1, pages 2, reservation optional)\n"
        )),
        "{out}"
    );
}
