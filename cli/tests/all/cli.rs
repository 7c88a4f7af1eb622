//! The efimap command as a user meets it: exit codes, errors that name
//! file:line:column, nothing written on bad input, and the dmesg round trip.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn efimap(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_efimap"))
        .args(args)
        .output()
        .unwrap()
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("efimap-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn corpus(file: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../corpus")
        .join(file)
        .display()
        .to_string()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const BAD: &str = "# a case\nmap\n  Conventional 0x1000 0x1 0xf\nreserve 0x1000 zz\n";

#[test]
fn run_exits_1_on_findings_and_0_without() {
    let o = efimap(&["run", &corpus("dave-young-two-inside-ranges.scn")]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stdout).contains("lost-attribute/efi_fake_memmap"));
    let o = efimap(&[
        "run",
        "--eras",
        "v5.6,v6.10",
        &corpus("dave-young-two-inside-ranges.scn"),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn bad_scenarios_name_file_line_and_column_and_write_nothing() {
    let d = scratch("bad");
    let bad = d.join("bad.scn");
    std::fs::write(&bad, BAD).unwrap();
    let bad = bad.display().to_string();
    let out = d.join("out.scn").display().to_string();
    let want = format!("efimap: {bad}:4:16: expected a size, found `zz`");
    // A .scn file is never read as fuzz bytes, even by minimize.
    for args in [
        vec!["run", &bad],
        vec!["minimize", &bad, "-o", &out],
        vec!["export", &bad, "--as", "report", "-o", &out],
    ] {
        let o = efimap(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        // The message, then the line with a caret under the column.
        let err = stderr(&o);
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines[0], want, "{args:?}");
        assert_eq!(lines[1], "error: expected a size, found `zz`");
        assert_eq!(lines[2], format!("  ┌─ {bad}:4:16"));
        assert_eq!(lines[4], "4 │ reserve 0x1000 zz");
        assert_eq!(lines[5], "  │                ^");
        assert!(!Path::new(&out).exists(), "{args:?} wrote {out}");
    }
    // A folder with a bad file: replay and seeds stop before writing anything.
    let seeds = d.join("seeds");
    for args in [
        vec!["replay", d.to_str().unwrap()],
        vec!["seeds", d.to_str().unwrap(), "-o", seeds.to_str().unwrap()],
    ] {
        let o = efimap(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(
            stderr(&o).contains(":4:16: expected a size"),
            "{args:?}: {}",
            stderr(&o)
        );
    }
    assert!(!seeds.exists());
}

#[test]
fn bad_logs_and_arguments_exit_2() {
    let d = scratch("logs");
    let log = d.join("boot.log");
    let line = "[    0.000000] efi: mem00: [Boot Data          |   |  |  |  |  |  |  |  |   |WB|WT|WC|UC] range=[0x00000000bea00000-0x00000000beafffff] (1MiB)";
    std::fs::write(&log, format!("{line}\n")).unwrap();
    let out = d.join("x.scn");
    let o = efimap(&[
        "import-dmesg",
        log.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let col = line.find("MiB)").unwrap() + 1;
    assert_eq!(
        stderr(&o).trim(),
        format!("efimap: {}:1:{col}: expected `MB)`", log.display())
    );
    assert!(!out.exists());
    for args in [
        vec!["hunt", "--eras", "v5.7"],
        vec!["explore", "--pages", "many"],
        vec!["show", "/nonexistent/artifact"],
        vec!["export", &corpus("single-8g-sp-clean.scn"), "--as", "pdf"],
        vec!["import-dmesg", log.to_str().unwrap(), "--reserve", "0x1000"],
    ] {
        let o = efimap(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
    }
}

#[test]
fn a_v5_5_log_round_trips_through_import_and_export() {
    let lines = [
        "efi: mem00: [Boot Data          |   |  |  |  |  |  |  |  |   |WB|WT|WC|UC] range=[0x00000000bea00000-0x00000000beafffff] (1MB)",
        "efi: mem01: [Conventional Memory|   |  |  |  |  |  |  |  |   |WB|WT|WC|UC] range=[0x0000000100000000-0x000000015dffffff] (1504MB)",
        "efi: mem02: [Conventional Memory|   |  |SP|  |  |  |  |  |   |WB|WT|WC|UC] range=[0x000000015e000000-0x0000000170bfffff] (300MB)",
        "efi: mem03: [Runtime Data       |RUN|  |  |  |  |  |  |  |   |WB|WT|WC|UC] range=[0x0000000170c00000-0x0000000170c00fff] (0MB)",
    ];
    let d = scratch("roundtrip");
    let log = d.join("v5.5.log");
    let text: String = lines
        .iter()
        .enumerate()
        .map(|(i, l)| format!("[    0.{i:06}] {l}\n"))
        .collect();
    std::fs::write(&log, text).unwrap();
    let scn = d.join("imported.scn");
    let o = efimap(&[
        "import-dmesg",
        log.to_str().unwrap(),
        "-o",
        scn.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = efimap(&["export", scn.to_str().unwrap(), "--as", "dmesg"]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    let v55: Vec<&str> = out
        .lines()
        .skip_while(|l| *l != "# v5.5: before (the firmware's map)")
        .skip(1)
        .take_while(|l| !l.starts_with('#'))
        .collect();
    assert_eq!(v55, lines);
}

#[test]
fn show_and_minimize_a_crash_artifact() {
    let d = scratch("artifact");
    let artifact = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../core/tests/data/boot_flow-v5.5-overrun.crash");
    let scn = d.join("found.scn");
    // The artifact was made with the first encoding.
    let o = efimap(&[
        "show",
        artifact.to_str().unwrap(),
        "-o",
        scn.to_str().unwrap(),
        "--codec",
        "v1",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = std::fs::read_to_string(&scn).unwrap();
    assert!(text.contains("# expect v5.5: ") && text.contains("overrun/efi_arch_mem_reserve"));
    let min = d.join("min.scn");
    let o = efimap(&[
        "minimize",
        artifact.to_str().unwrap(),
        "-o",
        min.to_str().unwrap(),
        "--era",
        "v5.5",
        "--signature",
        "overrun/efi_arch_mem_reserve",
        "--codec",
        "v1",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = std::fs::read_to_string(&min).unwrap();
    assert!(
        text.starts_with("# overrun/efi_arch_mem_reserve in v5.5: minimized from"),
        "{text}"
    );
    assert!(text.contains("locally minimal"), "{text}");
}

/// The write-up in reports/ is what `export --as report` prints for its
/// case: a fresh export (verified on the corpus and the exhaustive bound
/// only) is the same text but for the verification figures and the
/// command line it names.
#[test]
fn the_report_in_reports_is_the_export_of_its_case() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let kept = std::fs::read_to_string(
        root.join("reports/efi-arch-mem-reserve-overlapping-descriptors-overrun.txt"),
    )
    .unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_efimap"))
        .current_dir(&root)
        .args([
            "export",
            "corpus/boot-services-data-overlapped-by-one-page-reserve-overrun.scn",
            "--as",
            "report",
            "--verify",
            "0",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let fresh = String::from_utf8(o.stdout).unwrap();
    // The paragraph after "Verification" and the last line differ.
    let strip = |t: &str| -> Vec<String> {
        let mut out = Vec::new();
        let mut skip = false;
        for l in t.lines() {
            if l.starts_with("Verification") {
                skip = true;
            } else if l.is_empty() {
                skip = false;
            }
            if !skip && !l.starts_with("efimap export ") {
                out.push(l.to_string());
            }
        }
        out
    };
    assert_eq!(strip(&fresh), strip(&kept));
    assert!(kept.starts_with(
        "Subject: [REPORT] x86/efi: efi_arch_mem_reserve() writes 48 bytes past its buffer"
    ));
    // The fresh verification: the corpus's three overrun cases (the files
    // whose headers expect it in v7.0-rc and not in v7.0-rc+fix), none
    // left, nothing else changed.
    let para: Vec<&str> = fresh
        .lines()
        .skip_while(|l| !l.starts_with("Verification"))
        .skip(1)
        .take_while(|l| !l.is_empty())
        .map(str::trim)
        .collect();
    let para = para.join(" ");
    assert!(
        para.contains("the exhaustive bound 4256, random 0). 3 are cases of overrun/efi_arch_mem_reserve in v7.0-rc; 0 of them still show it in v7.0-rc+fix.")
            && para.ends_with("differ in 0."),
        "{para}"
    );
}

/// Hostile bounds: explore says how big the bound is and refuses what it
/// cannot finish (exit 2, nothing allocated for it); hunt streams the
/// bound, so under a 1 GB address-space limit it ends normally.
#[test]
fn hostile_bounds_are_refused_or_streamed_within_memory() {
    let o = efimap(&[
        "explore", "--descs", "100", "--ranges", "100", "--pages", "100000",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains(
            "expected at most 1024 pages and 64 descriptors and ranges, found --pages 100000 --descs 100 --ranges 100"
        ),
        "{}",
        stderr(&o)
    );
    let o = efimap(&["explore", "--descs", "4", "--ranges", "3", "--pages", "16"]);
    assert_eq!(o.status.code(), Some(2));
    let out = String::from_utf8_lossy(&o.stdout);
    // More than the cap (the count itself is held to the enumeration in
    // core's explore tests).
    let n: u128 = out
        .strip_prefix("the bound holds ")
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .expect(&out);
    assert!(n > 10_000_000_000, "{out}");
    assert!(
        stderr(&o).contains("expected at most 10000000000"),
        "{}",
        stderr(&o)
    );

    let dir = scratch("hostile-hunt");
    let script = format!(
        "ulimit -v 1000000; exec '{}' hunt --budget 2 --seed 1 --descs 50 --ranges 50 --pages 1000 --out '{}'",
        env!("CARGO_BIN_EXE_efimap"),
        dir.display()
    );
    let o = Command::new("sh").args(["-c", &script]).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

/// import-dmesg: a flag out of bounds is named as the flag; a gap in the
/// numbering is read past, warned about on stderr with its line and kept
/// in the header; a map the log does not print is an error.
#[test]
fn import_names_flags_and_warns_with_lines() {
    let d = scratch("import-warn");
    let log = d.join("gap.log");
    let lines = [
        "[    0.000000] efi: mem00: [Boot Data   |   |  |  |  |  |  |  |  |  |   |WB|WT|WC|UC] range=[0x0000000000100000-0x00000000001fffff] (1MB)",
        "[    0.000000] efi: mem02: [Conventional|   |  |  |  |  |  |  |  |  |   |WB|WT|WC|UC] range=[0x0000000000300000-0x00000000003fffff] (1MB)",
    ];
    std::fs::write(&log, lines.join("\n")).unwrap();
    let o = efimap(&["import-dmesg", log.to_str().unwrap(), "--desc-size", "0"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o).trim(),
        "efimap: --desc-size: expected a stride from 40 to 4096, found 0"
    );
    let out = d.join("gap.scn");
    let o = efimap(&[
        "import-dmesg",
        log.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0));
    let warning = "mem01 is missing before this line: the map has a gap";
    assert_eq!(
        stderr(&o).trim(),
        format!("{}:2: warning: {warning}", log.display())
    );
    let sc = std::fs::read_to_string(&out).unwrap();
    assert!(
        sc.contains(&format!("# warning, line 2: {warning}\n")),
        "{sc}"
    );
    assert_eq!(
        sc.matches("\n  BootServicesData ").count() + sc.matches("\n  Conventional ").count(),
        2
    );
    let o = efimap(&["import-dmesg", log.to_str().unwrap(), "--map", "2"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o).trim(),
        format!(
            "efimap: {}: expected map 2 of the log, which prints 1 (lines 1-2)",
            log.display()
        )
    );
}

/// minimize reads fuzz bytes only from what is clearly an artifact: a
/// JSON file that is not a scenario and a `.scn` with a syntax error are
/// errors naming file, line and column; a `crash-` file is decoded.
#[test]
fn minimize_reads_fuzz_bytes_only_from_artifacts() {
    let d = scratch("min-inputs");
    let out = d.join("m.scn");
    // Writes `text` to `name`, minimizes it: exit 2 and its stderr.
    let refused = |name: &str, text: &str| -> String {
        let f = d.join(name);
        std::fs::write(&f, text).unwrap();
        let o = efimap(&["minimize", f.to_str().unwrap(), "-o", out.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2), "{name}");
        stderr(&o)
    };
    let err = refused("j1.json", "{\"not\": \"a scenario\"}\n");
    assert!(
        err.starts_with(&format!("efimap: {}:1:", d.join("j1.json").display())),
        "{err}"
    );
    let err = refused("bad.scn", BAD);
    assert!(
        err.contains("bad.scn:4:16: expected a size, found `zz`"),
        "{err}"
    );
    let err = refused("notes.txt", "just some words\n");
    assert!(err.contains("pass --artifact"), "{err}");
    assert!(!out.exists());
}

/// show: random bytes make a file of printable ASCII whose header carries
/// what each of its eras shows; replay then checks those expectations.
#[test]
fn shown_files_are_printable_and_carry_expectations() {
    let d = scratch("show");
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let bytes: Vec<u8> = (0..100_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    let art = d.join("crash-random");
    std::fs::write(&art, bytes).unwrap();
    let out = d.join("shown.scn");
    let o = efimap(&["show", art.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text
        .chars()
        .all(|c| c == '\n' || c == '\t' || (' '..='~').contains(&c)));
    let sc = efimap_core::cases::scenario::Scenario::parse(&text).unwrap();
    let expected = sc.expectations().unwrap();
    assert_eq!(expected.keys().copied().collect::<Vec<_>>(), sc.eras);
    let o = efimap(&["replay", d.to_str().unwrap()]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert!(!String::from_utf8_lossy(&o.stdout).contains("no expectation"));
}

/// A UTF-8 byte-order mark at the start of a scenario is not an error.
#[test]
fn a_byte_order_mark_is_skipped() {
    let d = scratch("bom");
    let f = d.join("bom.scn");
    std::fs::write(&f, "\u{feff}map\n  Conventional 0x1000 0x1 0xf\n").unwrap();
    let o = efimap(&["run", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

/// The small input defects: each a clear error, exit 2, nothing written.
#[test]
fn small_input_defects_are_clear_errors() {
    let d = scratch("small");
    // -o into a folder that is not there.
    let missing = d.join("no/such/dir/x.scn");
    let o = efimap(&[
        "show",
        &corpus("single-8g-sp-clean.scn"),
        "-o",
        missing.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains(&format!("no folder {}", d.join("no/such/dir").display())),
        "{}",
        stderr(&o)
    );
    assert!(!d.join("no").exists());
    // replay of an empty folder.
    let empty = d.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let o = efimap(&["replay", empty.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("found none: nothing replayed"),
        "{}",
        stderr(&o)
    );
    // Scenario text: an unknown era, an unindented line in the map, bytes
    // that are not UTF-8.
    let cases: [(&str, &[u8], String); 3] = [
        (
            "era.scn",
            b"eras v9.9\nmap\n",
            "era.scn:1:6: expected an era (v5.4, ".into(),
        ),
        (
            "flat.scn",
            b"map\n  Conventional 0x1000 0x1 0xf\nbogus 1\n",
            "flat.scn:3:1: expected a directive (eras, ".into(),
        ),
        (
            "bytes.scn",
            b"map\n  Conventional 0x1000 0x1 0xf\n# \xff\n",
            "bytes.scn:3:3: expected UTF-8 text, found the byte 0xff".into(),
        ),
    ];
    for (name, text, want) in cases {
        let f = d.join(name);
        std::fs::write(&f, text).unwrap();
        let o = efimap(&["run", f.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2), "{name}");
        assert!(stderr(&o).contains(&want), "{name}: {}", stderr(&o));
    }
    // seeds into a path that cannot be a folder names it.
    let file = d.join("plain");
    std::fs::write(&file, "x").unwrap();
    let o = efimap(&["seeds", &corpus(""), "-o", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains(&file.display().to_string()),
        "{}",
        stderr(&o)
    );
}

/// The JSON form: exported, then read back by run, replay and minimize.
#[test]
fn the_json_form_is_read_where_the_text_form_is() {
    let d = scratch("json");
    let json = d.join("dave.json");
    let o = efimap(&[
        "export",
        &corpus("dave-young-two-inside-ranges.scn"),
        "--as",
        "json",
        "-o",
        json.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = efimap(&["run", &corpus("dave-young-two-inside-ranges.scn")]);
    let from_json = efimap(&["run", json.to_str().unwrap()]);
    assert_eq!(from_json.stdout, text.stdout);
    assert_eq!(from_json.status.code(), text.status.code());
    let o = efimap(&["replay", d.to_str().unwrap()]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let out = d.join("m.scn");
    let o = efimap(&[
        "minimize",
        json.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

/// A JSON scenario that the text form's checks refuse is placed at the
/// JSON key the bad value is under, not at the printed text's line and
/// column (a one-line file once got `:18:11`), and neither a long line
/// nor a megabyte value is repeated on the terminal.
#[test]
fn a_json_scenarios_error_is_placed_at_its_key_and_kept_short() {
    let d = scratch("json-error");
    let json = d.join("dave.json");
    let o = efimap(&[
        "export",
        &corpus("dave-young-two-inside-ranges.scn"),
        "--as",
        "json",
        "-o",
        json.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    v["header"] = serde_json::json!(["h".repeat(10_000)]);
    v["cmdline"] = serde_json::json!("efi=debug\u{1}");
    let one_line = serde_json::to_string(&v).unwrap();
    let bad = d.join("one-line.json");
    std::fs::write(&bad, &one_line).unwrap();
    let o = efimap(&["run", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let col = one_line.find("\"cmdline\"").unwrap() + 1;
    let err = stderr(&o);
    assert!(
        err.starts_with(&format!(
            "efimap: {}:1:{col}: expected in \"cmdline\": printable text (no control, invisible or \
             replacement characters), found `'\\u{{1}}'`\n",
            bad.display()
        )),
        "{}",
        &err[..err.len().min(400)]
    );
    assert!(err.len() < 1000, "{} bytes of error", err.len());
    // A value serde refuses is cut in the message, not repeated whole.
    v["desc_size"] = serde_json::json!("x".repeat(1 << 20));
    std::fs::write(&bad, serde_json::to_string(&v).unwrap()).unwrap();
    let o = efimap(&["run", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).len() < 1000,
        "{} bytes of error",
        stderr(&o).len()
    );
}

/// The hunt's tables say how many fixed-era findings are new (none, on
/// the fixed code as it is) and mark the 2019 thread's four.
#[test]
fn the_hunt_says_what_is_new_and_marks_the_thread() {
    let d = scratch("hunt-tables");
    let o = efimap(&[
        "hunt",
        "--budget",
        "3",
        "--seed",
        "1",
        "--eras",
        "v5.5,v6.10",
        "--out",
        d.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.lines()
            .any(|l| l.starts_with("In the fixed eras (v5.6 and later): 0 new, ")),
        "{out}"
    );
    let marked: Vec<&str> = out
        .lines()
        .filter(|l| l.ends_with("(one of the 2019 thread's four)"))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(
        marked,
        vec![
            "empty-entry/efi_fake_memmap",
            "lost-attribute/efi_fake_memmap",
            "over-count/efi_fake_memmap",
            "overrun/efi_arch_mem_reserve"
        ]
    );
}

/// An output that is one of the command's inputs is refused before any
/// work, and the input is left as it was: `import-dmesg L -o L`, `show A
/// -o A`, `export S -o S`, `run S --svg S` and `minimize S -o S` each once
/// replaced their input with their output.
#[test]
fn an_output_that_is_its_input_is_refused_and_the_input_kept() {
    let d = scratch("output-is-input");
    let scn = d.join("case.scn");
    std::fs::copy(corpus("dave-young-two-inside-ranges.scn"), &scn).unwrap();
    let log = d.join("boot.log");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../core/tests/data/dmesg/03-qemu-ovmf-x86_64.txt"),
        &log,
    )
    .unwrap();
    let art = d.join("crash-1");
    std::fs::write(&art, [1u8, 2, 3, 4]).unwrap();
    let (s, l, a) = (
        scn.to_str().unwrap(),
        log.to_str().unwrap(),
        art.to_str().unwrap(),
    );
    // The same file by another name counts as the same.
    let other_name = format!(
        "{}/../{}/case.scn",
        d.display(),
        d.file_name().unwrap().to_str().unwrap()
    );
    for args in [
        vec!["import-dmesg", l, "-o", l],
        vec!["show", a, "-o", a],
        vec!["export", s, "--as", "report", "-o", s],
        vec!["export", s, "--as", "json", "-o", &other_name],
        vec!["run", s, "--svg", s],
        vec!["minimize", s, "-o", s],
    ] {
        let before = [&scn, &log, &art].map(|p| std::fs::read(p).unwrap());
        let o = efimap(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(
            stderr(&o).contains(": cannot write: it is also the input "),
            "{args:?}: {}",
            stderr(&o)
        );
        assert_eq!(
            [&scn, &log, &art].map(|p| std::fs::read(p).unwrap()),
            before,
            "{args:?}"
        );
    }
    std::fs::remove_dir_all(&d).unwrap();
}

/// `-o` replaces a regular file only: a symlink, a FIFO or a device at the
/// path is refused before any work and left as it was (a FIFO's reader
/// once hung; /dev/full once became a regular file).
#[test]
fn an_output_over_a_link_fifo_or_device_is_refused() {
    let d = scratch("output-kinds");
    let target = d.join("target.txt");
    std::fs::write(&target, "mine").unwrap();
    let link = d.join("link");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let fifo = d.join("fifo");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let scn = corpus("dave-young-two-inside-ranges.scn");
    for (out, kind) in [
        (link.to_str().unwrap(), "a symbolic link"),
        (fifo.to_str().unwrap(), "a FIFO"),
        ("/dev/null", "a device"),
    ] {
        let o = efimap(&["export", &scn, "--as", "cmdline", "-o", out]);
        assert_eq!(o.status.code(), Some(2), "{out}");
        assert_eq!(
            stderr(&o),
            format!(
                "efimap: {out}: cannot write: it is {kind}, not a regular file \
                 (efimap writes a new file or replaces a regular one)\n"
            )
        );
    }
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "mine");
    std::fs::remove_dir_all(&d).unwrap();
}

/// A flag that does nothing with the others given is an error, not a
/// silent no-op: `--verify` verifies a report's fix, and only a report's.
#[test]
fn export_verify_is_for_reports_only() {
    let scn = corpus("dave-young-two-inside-ranges.scn");
    let o = efimap(&["export", &scn, "--as", "kunit", "--verify", "5"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o),
        "efimap: --verify: expected with --as report only (it verifies a report's proposed fix)\n"
    );
    assert!(o.stdout.is_empty());
}

/// Numbers no run can use are refused by the flag, exit 2, before any
/// work: a budget past the clock's range once panicked adding it to the
/// time, 10,000 threads failed to spawn.
#[test]
fn flags_past_their_range_are_exit_2() {
    let scn = corpus("single-8g-sp-clean.scn");
    let huge = "18446744073709551615";
    for (args, flag) in [
        (vec!["hunt", "--budget", huge], "--budget <BUDGET>"),
        (
            vec!["minimize", &scn, "-o", "/tmp/never.scn", "--seconds", huge],
            "--seconds <SECONDS>",
        ),
        (
            vec!["diff", "--model", "v5.6", "--era", "v5.6", "--budget", huge],
            "--budget <BUDGET>",
        ),
        (
            vec!["diff", "--model", "v5.6", "--era", "v5.6", "--random", huge],
            "--random <RANDOM>",
        ),
        (vec!["explore", "--jobs", "10000"], "--jobs <JOBS>"),
        (vec!["hunt", "--jobs", "0"], "--jobs <JOBS>"),
    ] {
        let o = efimap(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(
            stderr(&o).starts_with("error: invalid value ") && stderr(&o).contains(flag),
            "{args:?}: {}",
            stderr(&o)
        );
        assert!(o.stdout.is_empty());
    }
}

/// Standard output on a full device is an error with exit 2, not a panic
/// (exit 101, "failed printing to stdout").
#[test]
fn a_full_standard_output_is_exit_2() {
    let o = Command::new(env!("CARGO_BIN_EXE_efimap"))
        .args(["export", &corpus("single-8g-sp-clean.scn"), "--as", "dmesg"])
        .stdout(std::fs::File::create("/dev/full").unwrap())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o),
        "efimap: cannot write to standard output: No space left on device (os error 28)\n"
    );
}

/// A reader that goes away (`efimap replay | head -1`) ends the run as a
/// Unix tool ends: quietly, exit 0, not a panic ("failed printing to
/// stdout", exit 101).
#[test]
fn a_reader_that_goes_away_ends_the_run_quietly() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_efimap"))
        .args(["replay", &corpus("")])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // the reader is gone before the first line
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stderr(&o), "");
}

/// A header line that starts as an expectation is one: `# Expect ...` or
/// `# expect ...` without its colon is an error at its line, never
/// "(no expectation)" and exit 0 (the README promises no silent miss).
/// `--corpus` that is not there is an error, not a corpus of none.
#[test]
fn a_misspelt_expectation_or_a_missing_corpus_is_an_error() {
    let d = scratch("expect");
    let body = "map\n  Conventional 0x0 0x100 0xf\n";
    for (head, col, why) in [
        (
            "# Expect v5.5: none\n",
            3,
            "expected `expect` in lower case, as an expectation line begins",
        ),
        (
            "# a case\n# expect v5.5 none\n",
            3,
            "expected `expect ERA...: SIGNATURE...` (or `: none`), found no colon",
        ),
    ] {
        let f = d.join("case.scn");
        std::fs::write(&f, format!("{head}{body}")).unwrap();
        let o = efimap(&["run", f.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2), "{head}");
        let line = head.lines().count();
        assert!(
            stderr(&o).starts_with(&format!(
                "efimap: {}:{line}:{col}: in an `expect` line: {why}\n",
                f.display()
            )),
            "{}",
            stderr(&o)
        );
    }
    let o = efimap(&[
        "diff",
        "--model",
        "v5.6",
        "--era",
        "v5.6",
        "--corpus",
        "/nonexistent",
        "--random",
        "1",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o),
        "efimap: --corpus /nonexistent: no such folder (give the corpus folder, or an empty folder to run none)\n"
    );
    std::fs::remove_dir_all(&d).unwrap();
}

/// Where a run's results go is checked before the run: `hunt -o` where no
/// folder can be made fails at once, not after the whole budget; `minimize
/// --era E` that E does not show says which era.
#[test]
fn an_output_folder_is_checked_first_and_errors_name_the_era() {
    let d = scratch("out-first");
    let file = d.join("a-file");
    std::fs::write(&file, "x").unwrap();
    let under = file.join("found");
    let started = std::time::Instant::now();
    let o = efimap(&["hunt", "--budget", "30", "-o", under.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "it hunted first"
    );
    assert_eq!(
        stderr(&o),
        format!(
            "efimap: -o {}: cannot write in it: Not a directory (os error 20)\n",
            under.display()
        )
    );
    let scn = corpus("single-8g-sp-clean.scn");
    let out = d.join("m.scn");
    let o = efimap(&[
        "minimize",
        &scn,
        "-o",
        out.to_str().unwrap(),
        "--era",
        "v6.12.y",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o),
        format!("efimap: {scn}: era v6.12.y does not show any finding\n")
    );
    assert!(!out.exists());
    std::fs::remove_dir_all(&d).unwrap();
}

/// An error in a long line shows a window around its column, not the line:
/// a scenario whose first line was a 20 MB comment once printed 16 MB.
#[test]
fn an_error_in_a_long_line_shows_a_window_of_it() {
    let d = scratch("long-line");
    let f = d.join("big.scn");
    std::fs::write(&f, format!("# {}\nmap\n", "x".repeat(1 << 20))).unwrap();
    let o = efimap(&["run", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    let want = format!(
        "efimap: {p}:1:16385: expected a header line of at most 16384 bytes, found `more`\n\
         error: expected a header line of at most 16384 bytes, found `more`\n  ┌─ {p}:1:16385\n  │\n\
         1 │ …{x}…\n  │ {caret}^\n",
        p = f.display(),
        x = "x".repeat(160),
        caret = " ".repeat(81)
    );
    assert_eq!(err, want);
    // A 5 MB command line (once 21 s of snippet on the terminal): the
    // same window, at once.
    let f = d.join("cmdline.scn");
    std::fs::write(
        &f,
        format!("map\ncmdline {}\n", "efi=debug ".repeat(500_000)),
    )
    .unwrap();
    let o = efimap(&["run", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.starts_with(&format!(
            "efimap: {}:2:1: expected a command line of at most 4096 bytes and 255 words, found `more`\n",
            f.display()
        )),
        "{}",
        &err[..err.len().min(400)]
    );
    assert!(err.len() < 1000, "{} bytes of error", err.len());
    std::fs::remove_dir_all(&d).unwrap();
}

/// `import-dmesg` keeps what the log says the kernel had: its release
/// as a header line and its `Command line:` as the scenario's (the
/// log's efi_fake_mem= is an input); --cmdline still says otherwise.
#[test]
fn import_keeps_the_logs_kernel_and_command_line() {
    let d = scratch("import-cmdline");
    let fixture = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../core/tests/data/dmesg/03-qemu-ovmf-x86_64.txt"),
    )
    .unwrap();
    let log = d.join("boot.log");
    std::fs::write(
        &log,
        format!(
            "[    0.000000] Linux version 6.1.0-99-amd64 (debian-kernel@lists.debian.org) #1 SMP\n\
             [    0.000000] Command line: BOOT_IMAGE=/vmlinuz efi_fake_mem=4G@9G:0x40000 efi=debug\n{fixture}"
        ),
    )
    .unwrap();
    let out = d.join("case.scn");
    let o = efimap(&[
        "import-dmesg",
        log.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        text.contains("\n# Linux 6.1.0-99-amd64 (line 1 of the log)\n"),
        "{text}"
    );
    assert!(
        text.contains("\n# command line from line 2 of the log\n"),
        "{text}"
    );
    assert!(
        text.contains("\ncmdline BOOT_IMAGE=/vmlinuz efi_fake_mem=4G@9G:0x40000 efi=debug\n"),
        "{text}"
    );
    let o = efimap(&[
        "import-dmesg",
        log.to_str().unwrap(),
        "--cmdline",
        "efi=debug",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        text.contains("\ncmdline efi=debug\n") && !text.contains("command line from line"),
        "{text}"
    );
    std::fs::remove_dir_all(&d).unwrap();
}

/// The commands whose default corpus is `corpus` find the one efimap was
/// built with from any folder: run elsewhere, `efimap replay` replays
/// exactly what it replays given the source tree's folder (a relative
/// default once failed outside the source tree).
#[test]
fn the_default_corpus_is_found_from_any_folder() {
    let d = scratch("elsewhere");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_efimap"))
            .current_dir(&d)
            .args(args)
            .output()
            .unwrap()
    };
    let given = run(&["replay", &corpus("")]);
    let default = run(&["replay"]);
    assert_eq!(default.status.code(), Some(0), "{}", stderr(&default));
    assert_eq!(default.stdout, given.stdout);
    assert!(String::from_utf8_lossy(&default.stdout).ends_with(" 0 mismatched\n"));
}
