//! `efimap run FILE --svg OUT.svg`: the SVG written whole, the run's text
//! and exit code as without the flag, and a path that cannot be written
//! refused with exit 2, named, and nothing printed.

use efimap_core::cases::corpus;
use efimap_core::cases::svg::scenario_svg;
use std::path::Path;
use std::process::{Command, Output};

fn efimap(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_efimap"))
        .args(args)
        .output()
        .unwrap()
}

fn case() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../corpus/dave-young-two-inside-ranges.scn")
        .display()
        .to_string()
}

#[test]
fn svg_is_written_and_the_run_is_unchanged() {
    let d = std::env::temp_dir().join(format!("efimap-cli-{}-svg", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    let out = d.join("maps.svg");
    let plain = efimap(&["run", &case()]);
    let with = efimap(&["run", &case(), "--svg", &out.display().to_string()]);
    // Dave Young's case has findings in v5.4 and v5.5: exit 1 either way.
    assert_eq!(plain.status.code(), Some(1));
    assert_eq!(with.status.code(), Some(1));
    assert_eq!(with.stdout, plain.stdout);
    let want = scenario_svg(&corpus::load(Path::new(&case())).unwrap());
    assert_eq!(std::fs::read_to_string(&out).unwrap(), want);
    // Only the file: no temporary left beside it.
    let names: Vec<String> = std::fs::read_dir(&d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["maps.svg"]);
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn an_unwritable_svg_path_is_exit_2_and_named() {
    // A path under a regular file, and a directory.
    let under_file = format!("{}/x.svg", case());
    let dir = std::env::temp_dir().display().to_string();
    for path in [under_file, dir] {
        let o = efimap(&["run", &case(), "--svg", &path]);
        assert_eq!(o.status.code(), Some(2), "{path}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.starts_with(&format!("efimap: {path}: cannot write: ")),
            "{err}"
        );
        assert!(o.stdout.is_empty());
    }
}
