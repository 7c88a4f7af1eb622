//! A tree that is not one, or lacks a file the engine needs, is a clear
//! error with exit code 2 and nothing written.

use std::path::PathBuf;
use std::process::Command;

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("efimap-tree-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn diff(tree: &std::path::Path, out: &std::path::Path) -> (Option<i32>, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_efimap"))
        .args([
            "diff",
            "--tree",
            tree.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn not_a_tree_and_a_tree_without_the_files() {
    let d = scratch("bad");
    let out = d.join("out");
    let (code, err) = diff(&d, &out);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("no Makefile") && err.contains("not a kernel tree"),
        "{err}"
    );

    std::fs::write(
        d.join("Makefile"),
        "VERSION = 6\nPATCHLEVEL = 12\nSUBLEVEL = 117\n",
    )
    .unwrap();
    let (code, err) = diff(&d, &out);
    assert_eq!(code, Some(2));
    assert!(
        err.contains(
            "expected arch/x86/platform/efi/memmap.c or drivers/firmware/efi/memmap.c, found none"
        ),
        "{err}"
    );

    std::fs::write(d.join("Makefile"), "VERSION = 6\n").unwrap();
    let (code, err) = diff(&d, &out);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("expected VERSION, PATCHLEVEL and SUBLEVEL"),
        "{err}"
    );
    assert!(!out.exists(), "nothing written");
}

/// `minimize --tree` keeps the signature on the tree's own code: the
/// overlapping-descriptor case, already minimal, stays two descriptors and
/// one reservation, and the file says which tree kept it.
#[test]
#[cfg_attr(
    not(efimap_trees),
    ignore = "needs the Debian kernel trees: EFIMAP_TREES=DIR, made by bash .ci/trees.sh DIR"
)]
fn minimize_on_a_tree_keeps_the_real_codes_signature() {
    let Some(trees) = std::env::var_os("EFIMAP_TREES") else {
        assert!(std::env::var_os("CI").is_none(), "CI must set EFIMAP_TREES");
        return;
    };
    let d = scratch("min");
    let out = d.join("min.scn");
    let case = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../corpus/overlapping-descriptors-reserve-overrun.scn"
    );
    let tree = PathBuf::from(trees).join("6.12");
    let o = Command::new(env!("CARGO_BIN_EXE_efimap"))
        .args([
            "minimize",
            case,
            "-o",
            out.to_str().unwrap(),
            "--tree",
            tree.to_str().unwrap(),
            "--seconds",
            "20",
        ])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        text.starts_with("# overrun/efi_arch_mem_reserve on tree 6.12."),
        "{text}"
    );
    assert!(text.contains("\nreserve 0x0 0x1000\n"), "{text}");
    assert_eq!(
        text.lines().filter(|l| l.starts_with("  ")).count(),
        2,
        "{text}"
    );
}

/// A tree whose quirks.c does not compile: exit 2, the file and the first
/// compiler message, nothing written.
#[test]
#[cfg_attr(
    not(efimap_trees),
    ignore = "needs the Debian kernel trees: EFIMAP_TREES=DIR, made by bash .ci/trees.sh DIR"
)]
fn a_tree_that_does_not_compile() {
    let Some(trees) = std::env::var_os("EFIMAP_TREES") else {
        assert!(std::env::var_os("CI").is_none(), "CI must set EFIMAP_TREES");
        return;
    };
    let d = scratch("broken");
    let copy = d.join("tree");
    assert!(Command::new("cp")
        .args([
            "-r",
            PathBuf::from(trees).join("6.12").to_str().unwrap(),
            copy.to_str().unwrap()
        ])
        .status()
        .unwrap()
        .success());
    let quirks = copy.join("arch/x86/platform/efi/quirks.c");
    let text = std::fs::read_to_string(&quirks).unwrap();
    let from = "num_entries += efi.memmap.nr_map;";
    assert_eq!(text.matches(from).count(), 1);
    std::fs::write(
        &quirks,
        text.replacen(from, "num_entries += efi.memmap.nr_map", 1),
    )
    .unwrap();
    let out = d.join("out");
    let (code, err) = diff(&copy, &out);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("the tree does not build")
            && err.contains("quirks.c")
            && err.contains("error"),
        "{err}"
    );
    assert!(!out.exists());
}
