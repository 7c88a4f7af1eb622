//! `efimap fuzz` and the ClusterFuzzLite build. The refusals run
//! everywhere; the runs need cargo-fuzz and a toolchain for it, and the
//! fuzz build, so they are ignored by default and run from .ci/run after
//! its fuzz build: `cargo test -p efimap-cli --test fuzz_scale -- --ignored`.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("efimap-fuzz-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn an_unknown_target_is_refused_with_the_targets_named() {
    let o = Command::new(env!("CARGO_BIN_EXE_efimap"))
        .args(["fuzz", "boot-flow", "--budget", "1"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.starts_with("efimap: boot-flow: expected a fuzz target of ")
            && err.ends_with(
                "(split_count_vs_insert, fake_mem, boot_flow, parse_cmdline, parse_scenario, parse_dmesg, naive, empty, diff_tree, parse_patch), found `boot-flow`\n"
            ),
        "{err}"
    );
}

#[test]
fn without_cargo_fuzz_it_says_so() {
    let out = scratch("no-cargo");
    let o = Command::new(env!("CARGO_BIN_EXE_efimap"))
        .args(["fuzz", "boot_flow", "-o"])
        .arg(&out)
        .env("PATH", &out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "efimap: cargo-fuzz is not installed: expected `cargo fuzz` (cargo install cargo-fuzz --locked)\n"
    );
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
#[ignore = "needs cargo-fuzz and the fuzz build; run from .ci/run"]
fn two_workers_find_the_seed_overrun_from_nothing() {
    let dir = scratch("e2e");
    let corpus = dir.join("corpus");
    let out = dir.join("out");
    let o = Command::new(env!("CARGO_BIN_EXE_efimap"))
        .args([
            "fuzz",
            "boot_flow",
            "--jobs",
            "2",
            "--budget",
            "15",
            "--corpus",
        ])
        .arg(&corpus)
        .arg("-o")
        .arg(&out)
        .env("EFIMAP_ERAS", "v5.5")
        .env("EFIMAP_ONLY", "overrun/efi_arch_mem_reserve")
        .env_remove("EFIMAP_KNOWN")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let row = text
        .lines()
        .find(|l| l.starts_with("overrun/efi_arch_mem_reserve  v5.5  "))
        .unwrap_or_else(|| panic!("no overrun row in:\n{text}"));
    let scenario = out.join("overrun-efi_arch_mem_reserve.scn");
    assert!(row.ends_with(&scenario.display().to_string()), "{row}");
    // The file is a scenario that shows the overrun in v5.5.
    let run = Command::new(env!("CARGO_BIN_EXE_efimap"))
        .args(["run", "--eras", "v5.5"])
        .arg(&scenario)
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&run.stdout).contains("overrun/efi_arch_mem_reserve"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
#[ignore = "needs cargo-fuzz and the fuzz build; run from .ci/run"]
fn the_clusterfuzzlite_build_makes_every_target() {
    let out = scratch("cflite");
    let o = Command::new("bash")
        .arg(root().join(".clusterfuzzlite/build.sh"))
        .env("OUT", &out)
        .env_remove("SRC")
        .env_remove("SANITIZER")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let manifest = std::fs::read_to_string(root().join("fuzz/Cargo.toml")).unwrap();
    let bins: Vec<&str> = manifest
        .split("[[bin]]")
        .skip(1)
        .filter_map(|b| b.lines().find_map(|l| l.strip_prefix("name = \"")))
        .filter_map(|n| n.strip_suffix('"'))
        .collect();
    assert_eq!(bins.len(), 10);
    for b in &bins {
        // diff_tree needs a kernel tree, which the image has not.
        assert_eq!(out.join(b).is_file(), *b != "diff_tree", "{b} in $OUT");
    }
    // One benign input: a quiet boot in a fixed era.
    let input = out.join("quiet-input");
    std::fs::write(&input, []).unwrap();
    let run = Command::new(out.join("boot_flow"))
        .arg("-runs=1")
        .arg(&input)
        .env("EFIMAP_ERAS", "v6.12.y")
        .env("EFIMAP_KNOWN", "fixed-code")
        .output()
        .unwrap();
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(String::from_utf8_lossy(&run.stderr).contains("Executed "));
    let _ = std::fs::remove_dir_all(&out);
}
