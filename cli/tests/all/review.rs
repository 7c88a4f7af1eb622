//! `efimap review` on Debian's 6.12 tree, with three patches made at test
//! time: a file of the tree copied, edited as each test says, and turned
//! into a patch with `diff -u` (no kernel text is kept in the project).
//!
//! - a size patch: in `efi_arch_mem_reserve` (arch/x86/platform/efi/
//!   quirks.c), the line that adds `efi.memmap.nr_map` to `num_entries`
//!   deleted, so the new map is allocated for the split count alone;
//! - its revert, applied to the tree the size patch made;
//! - a comment: one comment line put before the line that assigns
//!   `num_entries` the split count in the same function.
//!
//! Each report is a snapshot (the output folder written as OUT, the
//! tree's sublevel as 6.12.N); the assertions pin what each must show.
//! The trees are the files `.ci/trees.sh DIR` extracts; set
//! `EFIMAP_TREES=DIR` to run these (CI does; without it they say so and
//! pass only outside CI).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const QUIRKS: &str = "arch/x86/platform/efi/quirks.c";

fn tree() -> Option<PathBuf> {
    let Some(dir) = std::env::var_os("EFIMAP_TREES") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must set EFIMAP_TREES (see .ci/trees.sh)"
        );
        eprintln!("EFIMAP_TREES is not set: the review tests do not run");
        return None;
    };
    Some(PathBuf::from(dir).join("6.12"))
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("efimap-review-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `diff -u a/FILE b/FILE` of `old` and `new`, written in `dir`.
fn make_patch(dir: &Path, file: &str, old: &str, new: &str) -> PathBuf {
    for (side, text) in [("a", old), ("b", new)] {
        let p = dir.join(side).join(file);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
    }
    let out = Command::new("diff")
        .arg("-u")
        .arg(format!("a/{file}"))
        .arg(format!("b/{file}"))
        .current_dir(dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "diff -u found no difference");
    // diff's timestamps would make every patch different.
    let text: String = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| match l.split_once('\t') {
            Some((head, _)) if l.starts_with("--- ") || l.starts_with("+++ ") => head.to_string(),
            _ => l.to_string(),
        })
        .map(|l| l + "\n")
        .collect();
    let p = dir.join("test.patch");
    std::fs::write(&p, text).unwrap();
    p
}

/// The body of `efi_arch_mem_reserve` in `text`, as line indexes.
fn in_mem_reserve(lines: &[&str]) -> std::ops::Range<usize> {
    let start = lines
        .iter()
        .position(|l| l.contains("efi_arch_mem_reserve(") && !l.ends_with(';'))
        .expect("efi_arch_mem_reserve is defined");
    let end = start
        + lines[start..]
            .iter()
            .position(|l| *l == "}")
            .expect("its closing brace");
    start..end
}

/// `text` without the first line of efi_arch_mem_reserve that adds to
/// num_entries the map's length.
fn size_edit(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let body = in_mem_reserve(&lines);
    let at = body
        .clone()
        .find(|&i| {
            let l = lines[i];
            l.contains("num_entries") && l.contains("+=") && l.contains("nr_map")
        })
        .expect("efi_arch_mem_reserve adds nr_map to num_entries");
    let mut out: Vec<&str> = lines.clone();
    out.remove(at);
    out.iter().map(|l| format!("{l}\n")).collect()
}

/// `text` with a comment line before efi_arch_mem_reserve's assignment
/// of the split count to num_entries.
fn comment_edit(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let body = in_mem_reserve(&lines);
    let at = body
        .clone()
        .find(|&i| {
            let l = lines[i].trim_start();
            l.starts_with("num_entries =") && l.contains("split_count")
        })
        .expect("efi_arch_mem_reserve counts the splits");
    let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    out.insert(
        at,
        "\t/* The new map holds the old one and its splits. */".into(),
    );
    out.iter().map(|l| format!("{l}\n")).collect()
}

/// Reviews `patch` from its own folder, so that the report names it as
/// `test.patch`.
fn review(patch: &Path, tree: &Path, out: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_efimap"))
        .current_dir(patch.parent().unwrap())
        .arg("review")
        .arg(patch.file_name().unwrap())
        .arg("--tree")
        .arg(tree)
        .args(["--random", "2000", "--corpus"])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus"))
        .arg("-o")
        .arg(out)
        .output()
        .unwrap()
}

/// [`review`], its exit code checked, and its [`report`].
fn reviewed(patch: &Path, tree: &Path, out: &Path, code: i32) -> String {
    let o = review(patch, tree, out);
    assert_eq!(
        o.status.code(),
        Some(code),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    report(&o, out)
}

/// The report with the output folder as OUT and the sublevel as N.
fn report(o: &Output, out: &Path) -> String {
    let text = String::from_utf8_lossy(&o.stdout).replace(&out.display().to_string(), "OUT");
    let mut r = String::new();
    for l in text.lines() {
        match l.strip_prefix("tree 6.12.") {
            Some(rest) => {
                let (_, tail) = rest.split_once(',').unwrap();
                r.push_str(&format!("tree 6.12.N,{tail}\n"));
            }
            None => {
                r.push_str(l);
                r.push('\n');
            }
        }
    }
    r
}

fn snapshot(name: &str, text: &str) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../../../snapshots/review");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_snapshot!(name, text));
}

/// The size patch adds the overrun of efi_arch_mem_reserve, minimized to
/// one two-page descriptor and a one-page reservation; its revert, on the
/// tree the patch made, fixes it on exactly as many scenarios.
#[test]
#[cfg_attr(
    not(efimap_trees),
    ignore = "needs the Debian kernel trees: EFIMAP_TREES=DIR, made by bash .ci/trees.sh DIR"
)]
fn a_broken_size_is_a_new_overrun_and_its_revert_fixes_it() {
    let Some(tree) = tree() else { return };
    let dir = scratch("size");
    let old = std::fs::read_to_string(tree.join(QUIRKS)).unwrap();
    let new = size_edit(&old);
    let patch = make_patch(&dir, QUIRKS, &old, &new);
    let out = dir.join("out");
    let text = reviewed(&patch, &tree, &out, 1);
    snapshot("review_size_patch", &text);
    // The overrun shows on many scenarios after the patch; on the one where
    // overlapping descriptors made the tree before overrun (known: another
    // descriptor cut), the patch's buffer of 0 bytes is never mapped, so
    // nothing is written: the row is a change, gained and lost.
    assert!(text.contains("CHANGED overrun/efi_arch_mem_reserve (memory safety): shows on "));
    assert!(text.lines().last().unwrap().starts_with(
        "verdict: the patch adds findings, memory safety first: overrun/efi_arch_mem_reserve"
    ));
    // The case is written, and shows the overrun on the tree after.
    let case = out.join("gained-overrun-efi_arch_mem_reserve.scn");
    let shown = Command::new(env!("CARGO_BIN_EXE_efimap"))
        .arg("run")
        .arg(&case)
        .arg("--tree")
        .arg(out.join("after"))
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&shown.stdout).contains("overrun/efi_arch_mem_reserve: "));
    // The size patch's scenarios went through the removed line.
    assert!(text.contains("efi_arch_mem_reserve: 1 of 1 lines with code ran"));

    // The revert, on a copy of the tree the patch made.
    let broken = dir.join("broken-tree");
    copy_tree(&out.join("after"), &broken);
    let rdir = scratch("revert");
    let revert = make_patch(&rdir, QUIRKS, &new, &old);
    let rout = rdir.join("out");
    let rtext = reviewed(&revert, &broken, &rout, 0);
    snapshot("review_size_revert", &rtext);
    assert!(rtext.contains("CHANGED overrun/efi_arch_mem_reserve (memory safety): shows on "));
    let gained = |t: &str, what: &str| -> String {
        let l = t
            .lines()
            .find(|l| l.contains("overrun/efi_arch_mem_reserve (memory safety)"))
            .unwrap();
        let at = l.find(what).unwrap() + what.len();
        l[at..].split_whitespace().next().unwrap().to_string()
    };
    // What the patch gained its revert loses, and the other way round.
    assert_eq!(gained(&text, "shows on "), gained(&rtext, "gone from "));
    assert_eq!(gained(&text, "gone from "), gained(&rtext, "shows on "));
    assert!(rtext.lines().last().unwrap().starts_with(
        "verdict: the patch fixes findings, memory safety first: overrun/efi_arch_mem_reserve"
    ));
}

/// A comment changes nothing, and gcov knows it is no code.
#[test]
#[cfg_attr(
    not(efimap_trees),
    ignore = "needs the Debian kernel trees: EFIMAP_TREES=DIR, made by bash .ci/trees.sh DIR"
)]
fn a_comment_changes_nothing() {
    let Some(tree) = tree() else { return };
    let dir = scratch("comment");
    let old = std::fs::read_to_string(tree.join(QUIRKS)).unwrap();
    let patch = make_patch(&dir, QUIRKS, &old, &comment_edit(&old));
    let out = dir.join("out");
    let text = reviewed(&patch, &tree, &out, 0);
    snapshot("review_comment_patch", &text);
    assert!(text.contains("outcomes changed on 0 scenarios"));
    assert!(text.contains("efi_arch_mem_reserve: no line with code"));
    assert!(text
        .lines()
        .last()
        .unwrap()
        .starts_with("verdict: no change: the patch changes no line with code"));
}

/// A hunk that does not apply: exit 2, the patch's line named, nothing
/// left in the output folder.
#[test]
#[cfg_attr(
    not(efimap_trees),
    ignore = "needs the Debian kernel trees: EFIMAP_TREES=DIR, made by bash .ci/trees.sh DIR"
)]
fn a_patch_that_does_not_apply_is_refused() {
    let Some(tree) = tree() else { return };
    let dir = scratch("reject");
    let old = std::fs::read_to_string(tree.join(QUIRKS)).unwrap();
    let new = size_edit(&old);
    // Made against the edited file, applied to the original: the context
    // it expects is not there.
    let patch = make_patch(&dir, QUIRKS, &new, &comment_edit(&new));
    let out = dir.join("out");
    let o = review(&patch, &tree, &out);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("test.patch:3:1: hunk #1 @@"), "{err}");
    assert!(
        err.contains(&format!("of {QUIRKS} does not apply: at line ")),
        "{err}"
    );
    assert!(!out.exists());
}

fn copy_tree(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let t = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&t).unwrap();
            copy_tree(&e.path(), &t);
        } else {
            std::fs::create_dir_all(to).unwrap();
            std::fs::copy(e.path(), &t).unwrap();
        }
    }
}

/// Without --tree, in a git tree: the files are read at the patch's
/// base-commit, not from the working tree (here edited so that the
/// patch would not apply to it).
#[test]
#[cfg_attr(
    not(efimap_trees),
    ignore = "needs the Debian kernel trees: EFIMAP_TREES=DIR, made by bash .ci/trees.sh DIR"
)]
fn without_tree_the_base_commit_of_a_git_tree_is_used() {
    let Some(tree) = tree() else { return };
    let dir = scratch("base");
    let repo = dir.join("linux");
    copy_tree(&tree, &repo);
    let git = |args: &[&str]| {
        let o = Command::new("git")
            .args([
                "-c",
                "user.name=efimap",
                "-c",
                "user.email=efimap@localhost",
            ])
            .args(args)
            .current_dir(&repo)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    };
    git(&["init", "-q"]);
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "base"]);
    let base = git(&["rev-parse", "HEAD"]);
    let old = std::fs::read_to_string(repo.join(QUIRKS)).unwrap();
    std::fs::write(repo.join(QUIRKS), size_edit(&old)).unwrap();
    let patch = make_patch(&dir, QUIRKS, &old, &comment_edit(&old));
    let mut text = std::fs::read_to_string(&patch).unwrap();
    text.push_str(&format!("\nbase-commit: {base}\n"));
    std::fs::write(&patch, text).unwrap();
    let out = dir.join("out");
    let no_corpus = dir.join("no-corpus");
    std::fs::create_dir_all(&no_corpus).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_efimap"))
        .current_dir(&repo)
        .arg("review")
        .arg(&patch)
        .args(["--random", "0", "--no-coverage", "--corpus"])
        .arg(&no_corpus)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("outcomes changed on 0 scenarios"));
    assert_eq!(
        std::fs::read_to_string(out.join("before").join(QUIRKS)).unwrap(),
        old
    );
}

/// Outside a kernel tree and without --tree: exit 2, saying what is
/// expected; a malformed patch: exit 2 at its line and column. Neither
/// needs a tree, and neither writes anything.
#[test]
fn no_tree_and_bad_patches_are_refused() {
    let dir = scratch("refused");
    let patch = dir.join("p.patch");
    std::fs::write(&patch, "--- a/f.c\n+++ b/f.c\n@@ -1,1 +1,1 @@\n-x\n+y\n").unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_efimap"))
            .current_dir(&dir)
            .arg("review")
            .args(args)
            .output()
            .unwrap()
    };
    let o = run(&["p.patch"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("review: expected --tree DIR: the current directory ("),
        "{err}"
    );
    assert!(err.contains(") is not a kernel tree"), "{err}");
    std::fs::write(&patch, "--- a/f.c\n+++ b/f.c\n@@ -1,2 +1,2 @@\n x\n*y\n").unwrap();
    let o = run(&["p.patch", "--tree", "."]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("p.patch:5:1: hunk @@ -1,2 +1,2 @@ (line 3): expected a line starting with ' ', '-' or '+', found `*y`"),
        "{err}"
    );
    assert!(!dir.join("efimap-review").exists());
}

/// A folder that looks like a kernel tree to `review` (its Makefile and
/// drivers/firmware/efi/), with one file the patches below touch.
fn fake_tree(d: &Path) -> PathBuf {
    let t = d.join("tree");
    std::fs::create_dir_all(t.join("drivers/firmware/efi")).unwrap();
    std::fs::write(t.join("Makefile"), "VERSION = 6\n").unwrap();
    std::fs::write(t.join("drivers/firmware/efi/f.c"), "a\nb\n").unwrap();
    t
}

fn efimap_review(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_efimap"))
        .arg("review")
        .args(args)
        .output()
        .unwrap()
}

const EDIT: &str =
    "--- a/drivers/firmware/efi/f.c\n+++ b/drivers/firmware/efi/f.c\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n";

/// A patch's path cannot lead out of the scratch tree: `+++ b/../../x`
/// with `--- /dev/null` once created the file outside; now the patch is
/// refused at that line and nothing is written anywhere.
#[test]
fn a_patch_cannot_write_outside_its_folder() {
    let d = scratch("outside");
    let tree = fake_tree(&d);
    let victim = d.join("victim.txt");
    let depth = "../".repeat(8);
    let evil = format!(
        "--- /dev/null\n+++ b/{depth}{}\n@@ -0,0 +1 @@\n+owned\n",
        victim.display().to_string().trim_start_matches('/')
    );
    let p = d.join("evil.patch");
    std::fs::write(&p, evil).unwrap();
    let out = d.join("out");
    let o = efimap_review(&[
        p.to_str().unwrap(),
        "--tree",
        tree.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.starts_with(&format!(
            "efimap: {}:2:5: expected a path inside the tree, found `b/../",
            p.display()
        )),
        "{err}"
    );
    assert!(!victim.exists());
    assert!(!out.exists());
    std::fs::remove_dir_all(&d).unwrap();
}

/// `-o` is a new or empty folder, or one a review made: a kernel tree
/// given as `-o` once got before/, after/ and .gcov-* written into it.
/// `--tree` that is not a kernel tree says so.
#[test]
fn a_review_writes_only_in_a_folder_of_its_own() {
    let d = scratch("own-folder");
    let tree = fake_tree(&d);
    let p = d.join("edit.patch");
    std::fs::write(&p, EDIT).unwrap();
    let t = tree.to_str().unwrap();
    let o = efimap_review(&[p.to_str().unwrap(), "--tree", t, "-o", t]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        format!(
            "efimap: -o {t}: a folder a review did not make (it has files and no .efimap-review): \
             give a new or empty folder, so that nothing of yours is replaced\n"
        )
    );
    let mut names: Vec<String> = std::fs::read_dir(&tree)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["Makefile", "drivers"]);

    let o = efimap_review(&[
        p.to_str().unwrap(),
        "--tree",
        "/nonexistent",
        "-o",
        "/nonexistent-out",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "efimap: --tree /nonexistent: not a kernel tree (expected its Makefile and drivers/firmware/efi/)\n"
    );
    std::fs::remove_dir_all(&d).unwrap();
}

/// A second review in the same `-o` while the first runs is refused with
/// the first's process, and touches nothing (two at once once both failed
/// with false blame and left half-filled folders); a lock whose process is
/// gone is taken over.
#[test]
fn a_review_folder_is_locked_against_a_second_review() {
    let d = scratch("locked");
    let tree = fake_tree(&d);
    let p = d.join("edit.patch");
    std::fs::write(&p, EDIT).unwrap();
    let out = d.join("out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join(".efimap-review"), "made by efimap review\n").unwrap();
    // This test's own process holds the lock, as a running review would.
    std::fs::write(
        out.join(".efimap-review.lock"),
        std::process::id().to_string(),
    )
    .unwrap();
    let args = [
        p.to_str().unwrap(),
        "--tree",
        tree.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ];
    let o = efimap_review(&args);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        format!(
            "efimap: -o {}: another review (process {}) is running in it; wait for it or give another folder\n",
            out.display(),
            std::process::id()
        )
    );
    assert!(!out.join("before").exists() && !out.join("after").exists());
    // A lock left by a process that is gone does not stop the next review
    // (which then fails on this tree's missing files, past the lock).
    std::fs::write(out.join(".efimap-review.lock"), "999999999").unwrap();
    let o = efimap_review(&args);
    assert!(
        !String::from_utf8_lossy(&o.stderr).contains("another review"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        !out.join(".efimap-review.lock").exists(),
        "the lock is let go at the end"
    );
    std::fs::remove_dir_all(&d).unwrap();
}
