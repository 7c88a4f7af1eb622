//! The real kernel: a kernel tree's EFI memory-map files, built in
//! userspace against the project's shims (`kernel/`, with `kernel/build.sh`)
//! into a driver program, run as a second [`Engine`].
//!
//! The driver speaks a batched line protocol on its standard input and
//! output (`kernel/PROTOCOL.md`): one scenario in, one outcome out, many
//! per process, so that core stays free of unsafe code and a crash of the
//! kernel code is the driver's to report, never efimap's. The outcome has
//! the model's shape ([`Outcome`]): the same judge runs on both.
//!
//! The in-process alternative, the same objects as a shared library
//! driven with the same [`request`] text and [`parse_outcome`], is
//! `FfiEngine` in the `efimap-kernel-ffi` crate.
//!
//! Three parts: this file, the tree and its build (the files it reads,
//! the build cache, the era it is paired with); [`protocol`], the request
//! and the reply's records, one function a record, shared with
//! `efimap-kernel-ffi`; [`process`], the engine over a driver process.

mod process;
pub mod protocol;

pub use process::TreeEngine;
pub use protocol::{parse_outcome, request};

use crate::model::era::Era;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;
/// The files of a tree the engine reads (at least one of each group).
pub const TREE_FILES: &[&[&str]] = &[
    &[
        "arch/x86/platform/efi/memmap.c",
        "drivers/firmware/efi/memmap.c",
    ],
    &["arch/x86/platform/efi/quirks.c"],
    &["arch/x86/platform/efi/efi.c"],
    &["drivers/firmware/efi/efi.c"],
    &["lib/sort.c"],
    &["lib/cmdline.c"],
    &["include/linux/efi.h"],
];

/// Files the build also reads where a tree has them.
const OPTIONAL_FILES: &[&str] = &[
    "drivers/firmware/efi/fake_mem.c",
    "drivers/firmware/efi/x86_fake_mem.c",
    "drivers/firmware/efi/fake_mem.h",
    "arch/x86/platform/efi/efi_64.c",
    "arch/x86/include/asm/efi.h",
    "kernel/printk/printk.c",
];

/// Every file of a tree that `kernel/build.sh` may read, in the order the
/// build key hashes them: [`TREE_FILES`], then the optional ones.
pub fn engine_files() -> Vec<&'static str> {
    TREE_FILES
        .iter()
        .flat_map(|g| g.iter().copied())
        .chain(OPTIONAL_FILES.iter().copied())
        .collect()
}

/// What is wrong with a tree or its build.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TreeError {
    /// The tree lacks a file the engine needs, or its Makefile has no version.
    NotATree { dir: PathBuf, what: String },
    /// The build failed: the file and the first compiler message.
    Build { dir: PathBuf, message: String },
    /// The driver could not be started.
    Spawn(String),
}

impl fmt::Display for TreeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TreeError::NotATree { dir, what } => write!(f, "{}: {what}", dir.display()),
            TreeError::Build { dir, message } => {
                write!(f, "{}: the tree does not build: {message}", dir.display())
            }
            TreeError::Spawn(e) => write!(f, "cannot start the kernel driver: {e}"),
        }
    }
}

impl std::error::Error for TreeError {}

/// A kernel tree on disk and its version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tree {
    pub dir: PathBuf,
    /// VERSION, PATCHLEVEL, SUBLEVEL of its Makefile.
    pub version: (u32, u32, u32),
}

impl Tree {
    /// Opens `dir`: its Makefile's version and the files the engine reads.
    pub fn open(dir: &Path) -> Result<Tree, TreeError> {
        let not = |what: String| TreeError::NotATree {
            dir: dir.to_path_buf(),
            what,
        };
        let makefile = std::fs::read_to_string(dir.join("Makefile"))
            .map_err(|e| not(format!("no Makefile ({e}): not a kernel tree")))?;
        let field = |name: &str| {
            makefile.lines().find_map(|l| {
                let (k, v) = l.split_once('=')?;
                (k.trim() == name).then(|| v.trim().parse::<u32>().ok())?
            })
        };
        let version = match (field("VERSION"), field("PATCHLEVEL"), field("SUBLEVEL")) {
            (Some(a), Some(b), Some(c)) => (a, b, c),
            _ => {
                return Err(not(
                    "Makefile: expected VERSION, PATCHLEVEL and SUBLEVEL lines".into(),
                ))
            }
        };
        for group in TREE_FILES {
            if !group.iter().any(|f| dir.join(f).is_file()) {
                return Err(not(format!("expected {}, found none", group.join(" or "))));
            }
        }
        Ok(Tree {
            dir: dir.to_path_buf(),
            version,
        })
    }

    /// `6.12.117`.
    pub fn version_text(&self) -> String {
        let (a, b, c) = self.version;
        format!("{a}.{b}.{c}")
    }

    /// The model era this tree's code should equal.
    pub fn paired_era(&self) -> Era {
        paired_era(self.version)
    }

    /// A key for the build cache: the tree's files the build reads and the
    /// shims, hashed.
    pub fn build_key(&self, shims: &Path) -> std::io::Result<String> {
        let mut files: Vec<PathBuf> = engine_files()
            .into_iter()
            .map(|f| self.dir.join(f))
            .filter(|p| p.is_file())
            .collect();
        let mut shim_files: Vec<PathBuf> = walk(shims)?;
        shim_files.sort();
        files.extend(shim_files);
        let mut h = Fnv::default();
        for f in &files {
            h.write(
                f.strip_prefix(&self.dir)
                    .unwrap_or(f)
                    .to_string_lossy()
                    .as_bytes(),
            );
            h.write(&std::fs::read(f)?);
        }
        Ok(format!("{}-{:016x}", self.version_text(), h.0))
    }
}

fn walk(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir)? {
        let p = e?.path();
        if p.is_dir() {
            out.extend(walk(&p)?);
        } else {
            out.push(p);
        }
    }
    Ok(out)
}

/// FNV-1a, 64-bit: a hash that is the same on every machine and Rust.
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// Builds `tree` with the shims in `shims` (`kernel/`), into `cache`,
/// unless a build with the same key is there. Returns the driver's path.
pub fn build(tree: &Tree, shims: &Path, cache: &Path) -> Result<PathBuf, TreeError> {
    build_as(tree, shims, cache, Flavor::Plain)
}

/// [`build`] with the kernel files compiled for gcov (`build.sh --gcov`):
/// started with [`TreeEngine::start_counting`], the driver writes its
/// line counts when it ends ([`crate::engine::coverage`] reads them).
pub fn build_gcov(tree: &Tree, shims: &Path, cache: &Path) -> Result<PathBuf, TreeError> {
    build_as(tree, shims, cache, Flavor::Gcov)
}

/// [`build`] with the kernel files compiled for a fuzzer's coverage
/// (`build.sh --fuzz`): edges and comparisons, for the diff_tree fuzz
/// target that loads the build's library (`kernel/cov.c`).
pub fn build_fuzz(tree: &Tree, shims: &Path, cache: &Path) -> Result<PathBuf, TreeError> {
    build_as(tree, shims, cache, Flavor::Fuzz)
}

/// How the kernel files are compiled: as the engine runs them, for gcov,
/// or for a fuzzer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flavor {
    Plain,
    Gcov,
    Fuzz,
}

fn build_as(tree: &Tree, shims: &Path, cache: &Path, flavor: Flavor) -> Result<PathBuf, TreeError> {
    let key = tree.build_key(shims).map_err(|e| TreeError::Build {
        dir: tree.dir.clone(),
        message: format!("cannot read the sources: {e}"),
    })?;
    let (suffix, flag) = match flavor {
        Flavor::Plain => ("", None),
        Flavor::Gcov => ("-gcov", Some("--gcov")),
        Flavor::Fuzz => ("-fuzz", Some("--fuzz")),
    };
    let out = cache.join(format!("{key}{suffix}"));
    let driver = out.join("efimap-kernel-driver");
    if driver.is_file() {
        return Ok(driver);
    }
    // One scratch folder per build, even for threads of one process.
    static BUILDS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = BUILDS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = cache.join(format!(".building-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| TreeError::Build {
        dir: tree.dir.clone(),
        message: format!("cannot create {}: {e}", tmp.display()),
    })?;
    let run = Command::new("bash")
        .arg(shims.join("build.sh"))
        .arg(&tree.dir)
        .arg(&tmp)
        .args(flag)
        .output()
        .map_err(|e| TreeError::Build {
            dir: tree.dir.clone(),
            message: format!("cannot run bash {}/build.sh: {e}", shims.display()),
        })?;
    if !run.status.success() || !tmp.join("efimap-kernel-driver").is_file() {
        let text = String::from_utf8_lossy(&run.stderr);
        let first = text
            .lines()
            .find(|l| l.contains("error"))
            .or_else(|| text.lines().find(|l| !l.trim().is_empty()))
            .unwrap_or("the build printed nothing");
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(TreeError::Build {
            dir: tree.dir.clone(),
            message: first.to_string(),
        });
    }
    if let Err(e) = std::fs::rename(&tmp, &out) {
        let _ = std::fs::remove_dir_all(&tmp);
        // Another build of the same sources may have got there first.
        if !driver.is_file() {
            return Err(TreeError::Build {
                dir: tree.dir.clone(),
                message: format!("cannot move the build to {}: {e}", out.display()),
            });
        }
    }
    Ok(driver)
}

/// The model era whose code a kernel of `version` (major, minor, sublevel)
/// should have.
pub fn paired_era(version: (u32, u32, u32)) -> Era {
    match version {
        (5, 4, _) => Era::V5_4,
        (5, 5, _) => Era::V5_5,
        (6, 1, _) => Era::V6_1_Y,
        (5, _, _) | (6, 0..=9, _) => Era::V5_6,
        (6, 10, _) => Era::V6_10,
        (6, 11, _) => Era::V6_11,
        (6, _, _) => Era::V6_12_Y,
        _ => Era::V7_0_RC,
    }
}

/// Why [`paired_era`]'s era is only a guess for `version`, when it is
/// one: a release older than every modelled era or newer than the newest
/// stands for code no era was written from.
pub fn pairing_caveat(version: (u32, u32, u32)) -> Option<String> {
    let (major, minor, sub) = version;
    let era = paired_era(version);
    if version < (5, 4, 0) {
        Some(format!(
            "Linux {major}.{minor}.{sub} is older than every modelled era (the oldest is v5.4): \
             held against {era}, the nearest, its divergences may be the release's, not the model's"
        ))
    } else if version >= (7, 1, 0) {
        Some(format!(
            "Linux {major}.{minor}.{sub} is newer than every modelled era (the newest is v7.0-rc): \
             held against {era}, the nearest, its divergences may be the release's, not the model's"
        ))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_pair_with_eras() {
        let t = |v| Tree {
            dir: PathBuf::new(),
            version: v,
        };
        assert_eq!(t((6, 1, 192)).paired_era(), Era::V6_1_Y);
        assert_eq!(t((6, 12, 117)).paired_era(), Era::V6_12_Y);
        assert_eq!(t((5, 5, 0)).paired_era(), Era::V5_5);
        assert_eq!(t((6, 10, 3)).paired_era(), Era::V6_10);
    }
}
