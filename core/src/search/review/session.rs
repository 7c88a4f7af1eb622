//! A whole review as `efimap review PATCH` runs it: where the tree's
//! files come from ([`Source`]), the `-o` folder held for the run
//! ([`ReviewFolder`]), the scratch trees, both builds (with gcov unless
//! told not to), the review of both engines, the changed lines' counts,
//! and the scenarios and the report written into the folder ([`run`]).
//! The command reads the arguments, shows the progress and prints.

use super::{prepare, review, touched, PrepareError, Review, ReviewConfig};
use crate::cases::corpus::{file_kind, write_atomic};
use crate::cases::patch::Series;
use crate::engine::coverage::{self, LineCounts};
use crate::engine::tree::{self, Tree, TreeEngine};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Where the tree's files come from: a folder, or a git tree at a commit.
pub enum Source {
    Dir(PathBuf),
    Git { repo: PathBuf, commit: String },
}

impl Source {
    /// The file `path` of the tree, if it has it.
    pub fn read(&self, path: &str) -> Option<Vec<u8>> {
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

    pub fn describe(&self) -> String {
        match self {
            Source::Dir(d) => d.display().to_string(),
            Source::Git { repo, commit } => format!("{} at {commit}", repo.display()),
        }
    }

    /// `tree`, or the current directory `cwd`: at the series'
    /// base-commit when it is a git tree that has that commit, else as
    /// it is. The error says what was expected.
    pub fn find(tree: Option<&Path>, cwd: &Path, series: &Series) -> Result<Source, String> {
        let is_tree =
            |t: &Path| t.join("Makefile").is_file() && t.join("drivers/firmware/efi").is_dir();
        if let Some(t) = tree {
            if !is_tree(t) {
                return Err(format!(
                    "--tree {}: not a kernel tree (expected its Makefile and drivers/firmware/efi/)",
                    t.display()
                ));
            }
            return Ok(Source::Dir(t.to_path_buf()));
        }
        let base = series.patches.iter().find_map(|p| p.base_commit.clone());
        if let Some(commit) = base {
            let has = Command::new("git")
                .arg("-C")
                .arg(cwd)
                .args(["cat-file", "-e", &format!("{commit}^{{commit}}")])
                .output()
                .is_ok_and(|o| o.status.success());
            if has {
                return Ok(Source::Git {
                    repo: cwd.to_path_buf(),
                    commit,
                });
            }
        }
        if is_tree(cwd) {
            return Ok(Source::Dir(cwd.to_path_buf()));
        }
        Err(format!(
            "review: expected --tree DIR: the current directory ({}) is not a kernel tree{}",
            cwd.display(),
            if series.patches.iter().any(|p| p.base_commit.is_some()) {
                ", nor a git tree with the patch's base-commit"
            } else {
                ""
            }
        ))
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
pub struct ReviewFolder {
    lock: PathBuf,
}

impl ReviewFolder {
    /// Claims `out`; the error says why not, after `-o OUT: `.
    pub fn claim(out: &Path) -> Result<ReviewFolder, String> {
        let fail = |what: String| format!("-o {}: {what}", out.display());
        if let Ok(m) = std::fs::symlink_metadata(out) {
            if !m.is_dir() {
                return Err(fail(format!(
                    "is {}, expected a folder for the review",
                    file_kind(&m.file_type())
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

/// How to run one review.
pub struct Session<'a> {
    /// The folder the review holds ([`ReviewFolder`]).
    pub out: &'a Path,
    /// Build with gcov and count the changed lines.
    pub gcov: bool,
    pub config: ReviewConfig,
    /// The shims and the build cache.
    pub shims: &'a Path,
    pub cache: &'a Path,
    /// The patch's name, for a patch without a subject.
    pub patch_name: String,
    /// Whether `out` did not exist before it was claimed: it is removed
    /// again when the series does not apply.
    pub fresh: bool,
}

/// Why a review did not run.
#[derive(Debug)]
pub enum SessionError {
    /// A line of the patch that cannot be applied here (1-based; 0: the
    /// whole series).
    Rejected { line: usize, message: String },
    /// Anything else, said whole.
    Other(String),
}

/// What a finished review gives besides its [`Review`].
pub struct Done {
    pub review: Review,
    pub builds: [Duration; 2],
    pub searched: Duration,
}

/// Runs the review of `series` on the files of `src`: the scratch trees
/// in `s.out`, both builds at once, both engines over the phases, the
/// changed lines' counts. `progress` hears what is being done.
pub fn run(
    series: &mut Series,
    src: &Source,
    s: &Session,
    progress: &dyn Fn(&str),
) -> Result<Done, SessionError> {
    let prepared = match prepare(series, &|p| src.read(p), s.out) {
        Ok(p) => p,
        Err(e) => {
            if s.fresh {
                let _ = std::fs::remove_dir_all(s.out);
            }
            return Err(match e {
                PrepareError::Rejected { line, message } => {
                    SessionError::Rejected { line, message }
                }
                PrepareError::Tree(e) => SessionError::Other(format!("{}: {e}", src.describe())),
                PrepareError::Io(m) => SessionError::Other(m),
            });
        }
    };
    let bad = |e: tree::TreeError| SessionError::Other(e.to_string());
    let build = |t: &Tree| -> Result<(PathBuf, Duration), tree::TreeError> {
        let start = Instant::now();
        let d = if s.gcov {
            tree::build_gcov(t, s.shims, s.cache)
        } else {
            tree::build(t, s.shims, s.cache)
        }?;
        Ok((d, start.elapsed()))
    };
    progress(&format!(
        "building the tree before and after the patch{}",
        if s.gcov { ", with gcov" } else { "" }
    ));
    // The two builds at once, one per core.
    let (before_built, after_built) = std::thread::scope(|sc| {
        let after = sc.spawn(|| build(&prepared.after));
        let before = build(&prepared.before);
        (before, after.join().expect("the build thread"))
    });
    let (before_driver, before_build) = before_built.map_err(bad)?;
    let (after_driver, after_build) = after_built.map_err(bad)?;
    // Each tree's counts go to a folder of this review's own.
    let counts = [s.out.join(".gcov-before"), s.out.join(".gcov-after")];
    for c in &counts {
        if c.exists() {
            std::fs::remove_dir_all(c)
                .map_err(|e| SessionError::Other(format!("{}: cannot remove: {e}", c.display())))?;
        }
    }
    let era = prepared.after.paired_era();
    let search = Instant::now();
    let start = |driver: &Path, t: &Tree, counts: &Path| {
        if s.gcov {
            TreeEngine::start_counting(driver, t, era, counts)
        } else {
            TreeEngine::start(driver, t, era)
        }
        .map_err(bad)
    };
    let mut before = start(&before_driver, &prepared.before, &counts[0])?;
    let mut after = start(&after_driver, &prepared.after, &counts[1])?;
    progress(&format!(
        "the corpus ({}), the exhaustive bound and at least {} random scenarios on both trees, \
         then the changes minimized",
        s.config.phases.corpus.len(),
        s.config.phases.random
    ));
    let run = review(&mut before, &mut after, &s.config)
        .map_err(|e| SessionError::Other(e.to_string()))?;
    drop((before, after));
    let searched = search.elapsed();
    let touched = if s.gcov {
        let dir_of = |d: &Path| d.parent().map(Path::to_path_buf).unwrap_or_default();
        let read_counts = |d: &Path, c: &Path| -> Result<LineCounts, SessionError> {
            coverage::read(&dir_of(d), c).map_err(SessionError::Other)
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
        Some(touched(&files, &cb, &ca))
    } else {
        None
    };
    let review = Review {
        subjects: series
            .patches
            .iter()
            .map(|p| {
                if p.subject.is_empty() {
                    s.patch_name.clone()
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
    Ok(Done {
        review,
        builds: [before_build, after_build],
        searched,
    })
}

impl Done {
    /// Writes the changed findings' scenarios and `report` (as `name`)
    /// into `out`, each replacing only a file of its own.
    pub fn write(&self, out: &Path, name: &str, report: &str) -> Result<(), String> {
        for f in self.review.case_files() {
            let path = out.join(&f.name);
            write_atomic(&path, self.review.scenario_of(&f).to_text().as_bytes())
                .map_err(|e| format!("{}: cannot write: {e}", path.display()))?;
        }
        let path = out.join(name);
        write_atomic(&path, report.as_bytes())
            .map_err(|e| format!("{}: cannot write: {e}", path.display()))
    }
}
