//! `efimap review PATCH`: finds the tree, makes the scratch trees, builds
//! both (with gcov unless told not to), runs the review, writes the
//! scenarios and the report, and prints it. Exit 1 when the patch adds a
//! finding.

use crate::{cache_dir, load_corpus, shim_dir, Failure};
use efimap_cli::{ReviewArgs, ReviewForm};
use efimap_core::cases::corpus::{write_atomic, InputFileError};
use efimap_core::cases::patch::Series;
use efimap_core::engine::coverage::{self, LineCounts};
use efimap_core::engine::tree::{self, Tree, TreeEngine};
use efimap_core::search::diff::Phases;
use efimap_core::search::explore::Bound;
use efimap_core::search::review::{self, PrepareError, Review, ReviewConfig};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Where the tree's files come from: a folder, or a git tree at a commit.
enum Source {
    Dir(PathBuf),
    Git { repo: PathBuf, commit: String },
}

impl Source {
    fn read(&self, path: &str) -> Option<Vec<u8>> {
        match self {
            Source::Dir(d) => std::fs::read(d.join(path)).ok(),
            Source::Git { repo, commit } => {
                let out = Command::new("git")
                    .arg("-C")
                    .arg(repo)
                    .arg("show")
                    .arg(format!("{commit}:{path}"))
                    .output()
                    .ok()?;
                out.status.success().then_some(out.stdout)
            }
        }
    }

    fn describe(&self) -> String {
        match self {
            Source::Dir(d) => d.display().to_string(),
            Source::Git { repo, commit } => format!("{} at {commit}", repo.display()),
        }
    }
}

/// The file that marks a folder as a review's own, so that a review
/// writes (and replaces `before/` and `after/`) only in a folder it made.
const MARK: &str = ".efimap-review";

/// A review's `-o` folder, held for one run: a new or empty folder, or
/// one a review made (it holds [`MARK`]); never a folder of the user's
/// (a kernel tree given as `-o` once got `before/`, `after/` and
/// `.gcov-*` written into it). The lock file beside the mark, made with
/// `O_EXCL`, keeps a second review out until this one ends; a lock whose
/// process is gone is taken over.
struct ReviewFolder {
    lock: PathBuf,
}

impl ReviewFolder {
    fn claim(out: &Path) -> Result<ReviewFolder, Failure> {
        let fail = |what: String| Failure::Input(format!("-o {}: {what}", out.display()));
        if let Ok(m) = std::fs::symlink_metadata(out) {
            if !m.is_dir() {
                return Err(fail(format!(
                    "is {}, expected a folder for the review",
                    efimap_core::cases::corpus::file_kind(&m.file_type())
                )));
            }
            let empty = std::fs::read_dir(out)
                .map_err(|e| fail(format!("cannot read: {e}")))?
                .next()
                .is_none();
            if !empty && !out.join(MARK).is_file() {
                return Err(fail(format!(
                    "a folder a review did not make (it has files and no {MARK}): \
                     give a new or empty folder, so that nothing of yours is replaced"
                )));
            }
        }
        std::fs::create_dir_all(out).map_err(|e| fail(format!("cannot create: {e}")))?;
        let lock = out.join(".efimap-review.lock");
        let mine = std::process::id().to_string();
        for _ in 0..2 {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&lock)
            {
                Ok(mut f) => {
                    use std::io::Write;
                    f.write_all(mine.as_bytes())
                        .map_err(|e| fail(format!("cannot write its lock: {e}")))?;
                    std::fs::write(out.join(MARK), "made by efimap review\n")
                        .map_err(|e| fail(format!("cannot write {MARK}: {e}")))?;
                    return Ok(ReviewFolder { lock });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let holder = std::fs::read_to_string(&lock).unwrap_or_default();
                    let alive = holder
                        .trim()
                        .parse::<u32>()
                        .is_ok_and(|pid| Path::new(&format!("/proc/{pid}")).exists());
                    if alive {
                        return Err(fail(format!(
                            "another review (process {}) is running in it; wait for it or give another folder",
                            holder.trim()
                        )));
                    }
                    // Its review is gone: the lock is stale.
                    let _ = std::fs::remove_file(&lock);
                }
                Err(e) => return Err(fail(format!("cannot lock: {e}"))),
            }
        }
        Err(fail("cannot lock: its lock came back at once".into()))
    }
}

impl Drop for ReviewFolder {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.lock);
    }
}

/// `--tree`, or the current directory: at the series' base-commit when
/// it is a git tree that has that commit, else as it is.
fn source(a: &ReviewArgs, series: &Series) -> Result<Source, Failure> {
    if let Some(t) = &a.tree {
        if !(t.join("Makefile").is_file() && t.join("drivers/firmware/efi").is_dir()) {
            return Err(Failure::Input(format!(
                "--tree {}: not a kernel tree (expected its Makefile and drivers/firmware/efi/)",
                t.display()
            )));
        }
        return Ok(Source::Dir(t.clone()));
    }
    let cwd = std::env::current_dir()
        .map_err(|e| Failure::Input(format!("cannot read the current directory: {e}")))?;
    let base = series.patches.iter().find_map(|p| p.base_commit.clone());
    if let Some(commit) = base {
        let has = Command::new("git")
            .arg("-C")
            .arg(&cwd)
            .args(["cat-file", "-e", &format!("{commit}^{{commit}}")])
            .output()
            .is_ok_and(|o| o.status.success());
        if has {
            return Ok(Source::Git { repo: cwd, commit });
        }
    }
    if cwd.join("Makefile").is_file() && cwd.join("drivers/firmware/efi").is_dir() {
        return Ok(Source::Dir(cwd));
    }
    Err(Failure::Input(format!(
        "review: expected --tree DIR: the current directory ({}) is not a kernel tree{}",
        cwd.display(),
        if series.patches.iter().any(|p| p.base_commit.is_some()) {
            ", nor a git tree with the patch's base-commit"
        } else {
            ""
        }
    )))
}

pub fn run(a: &ReviewArgs) -> Result<(), Failure> {
    let started = Instant::now();
    let text = std::fs::read(&a.patch)
        .map_err(|e| Failure::Input(format!("{}: cannot read: {e}", a.patch.display())))?;
    let text = String::from_utf8_lossy(&text);
    let mut series = Series::parse(&a.patch, &text)?;
    let src = source(a, &series)?;
    let fresh = !a.out.exists();
    let _claim = ReviewFolder::claim(&a.out)?;
    let prepared = match review::prepare(&mut series, &|p| src.read(p), &a.out) {
        Ok(p) => p,
        Err(e) => {
            if fresh {
                let _ = std::fs::remove_dir_all(&a.out);
            }
            return Err(match e {
                PrepareError::Rejected { line, message } => Failure::from(InputFileError {
                    path: a.patch.clone(),
                    line,
                    col: usize::from(line > 0),
                    message,
                }),
                PrepareError::Tree(e) => Failure::Input(format!("{}: {e}", src.describe())),
                PrepareError::Io(m) => Failure::Input(m),
            });
        }
    };
    let bad = |e: tree::TreeError| Failure::Input(e.to_string());
    let gcov = !a.no_coverage;
    let build = |t: &Tree| -> Result<(PathBuf, Duration), tree::TreeError> {
        let start = Instant::now();
        let d = if gcov {
            tree::build_gcov(t, &shim_dir(), &cache_dir())
        } else {
            tree::build(t, &shim_dir(), &cache_dir())
        }?;
        Ok((d, start.elapsed()))
    };
    // The corpus is read before anything is built: a bad one fails at once.
    let corpus_files = load_corpus(&a.corpus)?;
    let spinner = crate::hunt::counter("efimap review");
    spinner.enable_steady_tick(Duration::from_millis(200));
    spinner.set_message(format!(
        "building the tree before and after the patch{}",
        if gcov { ", with gcov" } else { "" }
    ));
    // The two builds at once, one per core.
    let (before_built, after_built) = std::thread::scope(|s| {
        let after = s.spawn(|| build(&prepared.after));
        let before = build(&prepared.before);
        (before, after.join().expect("the build thread"))
    });
    let (before_driver, before_build) = before_built.map_err(bad)?;
    let (after_driver, after_build) = after_built.map_err(bad)?;
    let dir_of = |d: &Path| d.parent().map(Path::to_path_buf).unwrap_or_default();
    // Each tree's counts go to a folder of this review's own.
    let counts = [a.out.join(".gcov-before"), a.out.join(".gcov-after")];
    for c in &counts {
        if c.exists() {
            std::fs::remove_dir_all(c)
                .map_err(|e| Failure::Input(format!("{}: cannot remove: {e}", c.display())))?;
        }
    }
    let era = prepared.after.paired_era();
    let cfg = ReviewConfig {
        phases: Phases {
            corpus: corpus_files,
            bound: Bound::HUNT,
            random: a.random,
            budget: Duration::from_secs(a.budget),
            seed: a.seed,
        },
        minimize: Duration::from_secs(a.minimize),
    };
    let search = Instant::now();
    let run = {
        let start = |driver: &Path, t: &Tree, counts: &Path| {
            if gcov {
                TreeEngine::start_counting(driver, t, era, counts)
            } else {
                TreeEngine::start(driver, t, era)
            }
            .map_err(bad)
        };
        let mut before = start(&before_driver, &prepared.before, &counts[0])?;
        let mut after = start(&after_driver, &prepared.after, &counts[1])?;
        spinner.set_message(format!(
            "the corpus ({}), the exhaustive bound and at least {} random scenarios on both trees, \
             then the changes minimized",
            cfg.phases.corpus.len(),
            a.random
        ));
        review::review(&mut before, &mut after, &cfg).map_err(|e| Failure::Input(e.to_string()))?
    };
    spinner.finish_and_clear();
    let searched = search.elapsed();
    let touched = if gcov {
        let read_counts = |d: &Path, c: &Path| -> Result<LineCounts, Failure> {
            coverage::read(&dir_of(d), c).map_err(Failure::Input)
        };
        let cb = read_counts(&before_driver, &counts[0])?;
        let ca = read_counts(&after_driver, &counts[1])?;
        let read = |t: &Tree, p: &str| std::fs::read_to_string(t.dir.join(p)).unwrap_or_default();
        let files: Vec<(String, String, String)> = prepared
            .built
            .iter()
            .map(|p| {
                (
                    p.clone(),
                    read(&prepared.before, p),
                    read(&prepared.after, p),
                )
            })
            .collect();
        Some(review::touched(&files, &cb, &ca))
    } else {
        None
    };
    let r = Review {
        subjects: series
            .patches
            .iter()
            .map(|p| {
                if p.subject.is_empty() {
                    a.patch.display().to_string()
                } else {
                    p.subject.clone()
                }
            })
            .collect(),
        version: prepared.after.version_text(),
        era,
        built: prepared.built.clone(),
        other: prepared.other.clone(),
        run,
        touched,
    };
    let out = a.out.display().to_string();
    for f in r.case_files() {
        let path = a.out.join(&f.name);
        write_atomic(&path, r.scenario_of(&f).to_text().as_bytes())
            .map_err(|e| Failure::Input(format!("{}: cannot write: {e}", path.display())))?;
    }
    let report = match a.form {
        ReviewForm::Text => r.text(&out),
        ReviewForm::Mail => r.mail(&series),
    };
    let name = match a.form {
        ReviewForm::Text => "report.txt",
        ReviewForm::Mail => "report.mail",
    };
    let path = a.out.join(name);
    write_atomic(&path, report.as_bytes())
        .map_err(|e| Failure::Input(format!("{}: cannot write: {e}", path.display())))?;
    print!("{report}");
    // What the review reached, for the terminal (not the report or mail).
    let [before_reach, after_reach] = &r.run.reach;
    eprintln!();
    eprintln!("The tree before the patch:");
    eprint!("{}", before_reach.table());
    eprintln!("The tree after it, the calls of its boots:");
    eprint!("{}", after_reach.calls_table());
    eprintln!(
        "efimap review: {:.1} s (builds {:.1} s and {:.1} s{}, {} scenarios on both trees in {:.1} s)",
        started.elapsed().as_secs_f64(),
        before_build.as_secs_f64(),
        after_build.as_secs_f64(),
        if gcov { ", gcov" } else { "" },
        r.run.checked(),
        searched.as_secs_f64()
    );
    if r.adds_findings() {
        Err(Failure::Findings)
    } else {
        Ok(())
    }
}
