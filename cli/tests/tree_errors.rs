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
