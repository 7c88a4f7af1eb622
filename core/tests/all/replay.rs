//! The regression suite: every scenario under corpus/ must show exactly the
//! signatures its header expects, and its whole outcome must equal the
//! reviewed snapshot under snapshots/ (`cargo insta review` to accept a
//! change; CI runs with INSTA_UPDATE=no, so an unreviewed change fails).

use efimap_core::cases::report::scenario_report;
use efimap_core::cases::scenario::Scenario;
use efimap_core::judge::findings::check;
use std::path::{Path, PathBuf};

fn corpus() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("corpus/")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "scn"))
        .collect();
    files.sort();
    files
}

fn load(path: &Path) -> Scenario {
    let text = std::fs::read_to_string(path).unwrap();
    Scenario::parse(&text).unwrap_or_else(|e| panic!("{}:{e}", path.display()))
}

#[test]
fn every_corpus_file_shows_what_its_header_expects() {
    let files = corpus();
    assert!(files.len() >= 9, "the corpus is there");
    let mut wrong = Vec::new();
    for path in &files {
        let sc = load(path);
        let expect = sc.expectations().expect("the header's expect lines parse");
        assert!(
            !expect.is_empty(),
            "{} states no expectation",
            path.display()
        );
        for (era, want) in expect {
            let (_, c) = check(era, &sc.input).unwrap();
            if c.signatures() != want {
                wrong.push(format!(
                    "{} {era}: expected {want:?}, got {:?}",
                    path.display(),
                    c.signatures()
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn every_corpus_file_matches_its_snapshot() {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../../../snapshots");
    settings.set_prepend_module_to_snapshot(false);
    let files = corpus();
    assert!(!files.is_empty());
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        settings.set_input_file(&path);
        settings.bind(|| {
            insta::assert_snapshot!(
                format!("every_corpus_file_matches_its_snapshot@{name}"),
                scenario_report(&load(&path))
            );
        });
    }
}

/// No snapshot outlives its corpus file (insta's `--unreferenced=reject`).
/// Subfolders hold other tests' snapshots (`review/`: efimap review's).
#[test]
fn every_snapshot_has_its_corpus_file() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../snapshots");
    let names: Vec<String> = corpus()
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            continue;
        }
        let snap = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = snap.strip_prefix("every_corpus_file_matches_its_snapshot@") else {
            panic!("snapshots/{snap} belongs to no test");
        };
        let file = rest.trim_end_matches(".snap").trim_end_matches(".new");
        assert!(
            names.iter().any(|n| n == file),
            "snapshots/{snap}: no corpus/{file}"
        );
        assert!(
            !snap.ends_with(".new"),
            "snapshots/{snap}: an unreviewed snapshot"
        );
    }
}
