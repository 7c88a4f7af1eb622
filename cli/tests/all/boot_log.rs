//! `efimap boot --log`: a corpus boot replayed through the command, and
//! the same log with a KASAN report in it (as a kernel built with KASAN
//! prints one, mm/kasan/report.c), which is a finding: exit 1.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn corpus_log(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../corpus/boots")
        .join(name)
}

fn efimap(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_efimap"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn a_corpus_boot_replays_with_no_divergence() {
    let log = corpus_log("6.12-pc-2048.log");
    let o = efimap(&["boot", "--log", log.to_str().unwrap()]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("  RUNTIME on Boot Data [0x7d8b4000-0x7d8bcfff] set by efi_arch_mem_reserve: efi_bgrt_init reserved the BGRT image at 0x7d8b4018, 33694 bytes\n"), "{out}");
    assert!(
        out.ends_with("432 lines compared, 0 divergences, 0 KASAN reports\n"),
        "{out}"
    );
}

#[test]
fn a_kasan_report_in_the_log_is_a_finding() {
    let text = std::fs::read_to_string(corpus_log("6.12-pc-2048.log")).unwrap();
    let report = "\
[    1.500000] ==================================================================
[    1.500001] BUG: KASAN: slab-out-of-bounds in efi_free_boot_services+0x2c1/0x3a0
[    1.500002] Write of size 16 at addr ffff888004b2a7f0 by task swapper/0/1
[    1.500003] Call Trace:
[    1.500004]  <TASK>
[    1.500005]  dump_stack_lvl+0x5d/0x80
[    1.500006]  efi_free_boot_services+0x2c1/0x3a0
[    1.500007]  </TASK>
[    1.500008] ==================================================================
";
    let dir = std::env::temp_dir().join(format!("efimap-kasan-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("kasan.log");
    std::fs::write(&log, format!("{text}{report}")).unwrap();
    let o = efimap(&["boot", "--log", log.to_str().unwrap()]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    let line = text.lines().count() + 2;
    assert!(
        out.contains(&format!(
            "  finding overrun/efi_free_boot_services: KASAN slab-out-of-bounds in efi_free_boot_services at {}:{line}, Write of size 16 at 0xffff888004b2a7f0\n",
            log.display()
        )),
        "{out}"
    );
    assert!(
        out.ends_with("432 lines compared, 0 divergences, 1 KASAN reports\n"),
        "{out}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `--second` takes a second boot of the same kernel: a log of another
/// release is refused before any comparison (its divergences were once
/// blamed on the model), and a release past every era is paired with a
/// note saying so, not silently.
#[test]
fn a_second_log_of_another_kernel_is_refused_and_an_unknown_release_noted() {
    let first = corpus_log("6.1-pc-512.log");
    let other = corpus_log("6.12-pc-2048.log");
    let o = efimap(&[
        "boot",
        "--log",
        first.to_str().unwrap(),
        "--second",
        other.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        format!(
            "efimap: {}:2:0: expected the first log's kernel, `Linux version 6.1.0-57-amd64` \
             (this log is of 6.12.118+deb12-amd64): --second takes a second boot of the same kernel\n",
            other.display()
        )
    );
    let text = std::fs::read_to_string(&other)
        .unwrap()
        .replace("Linux version 6.12.118+deb12-amd64", "Linux version 99.99");
    let log = std::env::temp_dir().join(format!("efimap-boot-99-{}.log", std::process::id()));
    std::fs::write(&log, text).unwrap();
    let o = efimap(&["boot", "--log", log.to_str().unwrap()]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains(
            "\n  note: Linux 99.99.0 is newer than every modelled era (the newest is v7.0-rc): \
             held against v7.0-rc, the nearest, its divergences may be the release's, not the model's\n"
        ),
        "{out}"
    );
    std::fs::remove_file(&log).unwrap();
}

/// A log cut inside a map is said to be cut, exit 2, not counted as the
/// model's divergences (a log cut inside the runtime map once gave 29 and
/// exit 1).
#[test]
fn a_log_cut_inside_a_map_is_said_to_be_cut() {
    let whole = std::fs::read_to_string(corpus_log("6.12-pc-2048.log")).unwrap();
    let heading = whole
        .lines()
        .position(|l| l.contains("EFI runtime memory map:"))
        .unwrap();
    let d = std::env::temp_dir().join(format!("efimap-cut-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    for (keep, want) in [
        (
            heading + 21,
            format!(
                ":{}:0: expected the boot to go on after the runtime map: the log ends inside it, at line {} \
                 (it was cut; give the whole log)\n",
                heading + 21,
                heading + 21
            ),
        ),
        (
            heading + 1,
            format!(
                ":{}:0: expected the runtime map's lines after its heading: the log has none (it was cut, \
                 or lines came between; give the whole log)\n",
                heading + 1
            ),
        ),
    ] {
        let log = d.join(format!("cut-{keep}.log"));
        let text: Vec<&str> = whole.lines().take(keep).collect();
        std::fs::write(&log, text.join("\n") + "\n").unwrap();
        let o = efimap(&["boot", "--log", log.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2));
        assert!(o.stdout.is_empty());
        assert_eq!(
            String::from_utf8_lossy(&o.stderr),
            format!("efimap: {}{want}", log.display())
        );
    }
    std::fs::remove_dir_all(&d).unwrap();
}

/// A line the serial console wrote between two lines of a map (noise on
/// the line, another message) is not the kernel's map: the same log with
/// such lines inside the firmware and the runtime map compares exactly as
/// without them (they once counted as the model's divergences).
#[test]
fn serial_noise_inside_a_map_is_not_a_divergence() {
    let whole = std::fs::read_to_string(corpus_log("6.12-pc-2048.log")).unwrap();
    let lines: Vec<&str> = whole.lines().collect();
    let firmware = lines
        .iter()
        .position(|l| l.contains("efi: mem03: "))
        .unwrap();
    let heading = lines
        .iter()
        .position(|l| l.contains("EFI runtime memory map:"))
        .unwrap();
    let mut noisy = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        if i == firmware {
            noisy.push("\u{1b}[0m\u{fffd}\u{fffd}~~ serial noise ~~");
            noisy.push("[    0.012345] ACPI: Early table checksum verification disabled");
        }
        if i == heading + 4 {
            noisy.push("garbage on the line");
        }
        noisy.push(l);
    }
    let log = std::env::temp_dir().join(format!("efimap-noise-{}.log", std::process::id()));
    std::fs::write(&log, noisy.join("\n") + "\n").unwrap();
    let o = efimap(&["boot", "--log", log.to_str().unwrap()]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.ends_with("432 lines compared, 0 divergences, 0 KASAN reports\n"),
        "{out}"
    );
    std::fs::remove_file(&log).unwrap();
}
