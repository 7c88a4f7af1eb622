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

use super::{Engine, EngineError};
use crate::model::boot::{leaks, AllocInfo, BootInput, Outcome};
use crate::model::desc::{MemRange, MemoryDesc, DESC_LEN};
use crate::model::era::Era;
use crate::model::kernel::{
    Copied, E820Op, E820Type, E820Update, EfiMemoryMap, Event, EventKind, Freed, InsertCall,
    Install, InstallKind, Level, MapPtr, Stage,
};
use crate::model::mem::{Access, AllocKind, Fault, FaultKind, Fill};
use std::collections::HashSet;
use std::fmt;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Mutex;

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

/// The real code of one tree, through its driver process.
pub struct TreeEngine {
    era: Era,
    name: String,
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    /// The last [`STDERR_KEPT`] bytes the driver wrote to its standard
    /// error, read by a thread of their own: what it said before it died.
    stderr: std::sync::Arc<Mutex<Vec<u8>>>,
}

/// How much of the driver's standard error is kept for its death notice.
const STDERR_KEPT: usize = 4096;

impl TreeEngine {
    /// Starts `driver`, whose outcomes are labelled `era`.
    pub fn start(driver: &Path, tree: &Tree, era: Era) -> Result<TreeEngine, TreeError> {
        Self::spawn(&mut Command::new(driver), driver, tree, era)
    }

    fn spawn(
        command: &mut Command,
        driver: &Path,
        tree: &Tree,
        era: Era,
    ) -> Result<TreeEngine, TreeError> {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| TreeError::Spawn(format!("{}: {e}", driver.display())))?;
        let stdin = child.stdin.take().expect("piped");
        let stdout = BufReader::new(child.stdout.take().expect("piped"));
        let stderr = std::sync::Arc::new(Mutex::new(Vec::new()));
        let mut from = child.stderr.take().expect("piped");
        let kept = std::sync::Arc::clone(&stderr);
        std::thread::spawn(move || {
            use std::io::Read;
            let mut buf = [0u8; 1024];
            while let Ok(n @ 1..) = from.read(&mut buf) {
                let mut k = kept.lock().unwrap_or_else(|e| e.into_inner());
                k.extend_from_slice(&buf[..n]);
                let over = k.len().saturating_sub(STDERR_KEPT);
                k.drain(..over);
            }
        });
        Ok(TreeEngine {
            era,
            name: format!("tree {} ({})", tree.version_text(), tree.dir.display()),
            child,
            stdin,
            stdout,
            stderr,
        })
    }
}

impl TreeEngine {
    /// Starts the driver of a gcov build ([`build_gcov`]) so that it
    /// writes its counts into `counts`, not beside the build's objects:
    /// each run, and each of two runs at once, has its own. (gcov's
    /// `GCOV_PREFIX`, with `GCOV_PREFIX_STRIP` taking off the folders of
    /// the objects' path: the build folder's depth is the one they were
    /// compiled at.)
    pub fn start_counting(
        driver: &Path,
        tree: &Tree,
        era: Era,
        counts: &Path,
    ) -> Result<TreeEngine, TreeError> {
        let obj = driver
            .parent()
            .unwrap_or(Path::new("."))
            .join("obj")
            .canonicalize()
            .map_err(|e| TreeError::Spawn(format!("{}: no gcov build: {e}", driver.display())))?;
        let strip = obj
            .components()
            .filter(|c| matches!(c, std::path::Component::Normal(_)))
            .count();
        std::fs::create_dir_all(counts)
            .map_err(|e| TreeError::Spawn(format!("{}: {e}", counts.display())))?;
        let counts = counts
            .canonicalize()
            .map_err(|e| TreeError::Spawn(format!("{}: {e}", counts.display())))?;
        Self::spawn(
            Command::new(driver)
                .env("GCOV_PREFIX", counts)
                .env("GCOV_PREFIX_STRIP", strip.to_string()),
            driver,
            tree,
            era,
        )
    }
}

impl Drop for TreeEngine {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Engine for TreeEngine {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn era(&self) -> Era {
        self.era
    }

    fn boot(&mut self, input: &BootInput, quiet: bool) -> Result<Outcome, EngineError> {
        self.begin(input, quiet)?;
        self.finish(input)
    }

    /// Writes the request; the driver works on it while the caller does
    /// something else (another driver's boot).
    fn begin(&mut self, input: &BootInput, quiet: bool) -> Result<Option<Outcome>, EngineError> {
        crate::model::boot::check_input(input)?;
        let request = request(input, quiet);
        if let Err(e) = self
            .stdin
            .write_all(request.as_bytes())
            .and_then(|()| self.stdin.flush())
        {
            return Err(self.death(&format!("cannot write to it: {e}")));
        }
        Ok(None)
    }

    fn finish(&mut self, input: &BootInput) -> Result<Outcome, EngineError> {
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            let n = match self.stdout.read_line(&mut line) {
                Ok(n) => n,
                Err(e) => return Err(self.death(&format!("cannot read from it: {e}"))),
            };
            if n == 0 {
                return Err(self.death("it ended in the middle of a boot"));
            }
            let line = line.trim_end_matches('\n').to_string();
            if line == "end" {
                break;
            }
            lines.push(line);
        }
        parse_outcome(self.era, input, &lines).map_err(|e| died(format!("bad reply: {e}")))
    }
}

impl TreeEngine {
    /// The driver stopped answering: `what`, then how it ended (its exit
    /// status or signal, waited for a moment) and the last lines it wrote
    /// to standard error; where those name a failed map of its simulated
    /// memory, what a memory limit must allow.
    fn death(&mut self, what: &str) -> EngineError {
        use std::os::unix::process::ExitStatusExt;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
        let status = loop {
            match self.child.try_wait() {
                Ok(Some(s)) => break Some(s),
                Ok(None) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                _ => break None,
            }
        };
        let how = match status {
            Some(s) => match (s.code(), s.signal()) {
                (Some(c), _) => format!("it exited with status {c}"),
                (None, Some(sig)) => format!("it was killed by signal {sig}{}", signal_name(sig)),
                _ => "it ended".to_string(),
            },
            None => "it is still running".to_string(),
        };
        // Let the reader thread take the last of it.
        std::thread::sleep(std::time::Duration::from_millis(20));
        let said = {
            let k = self.stderr.lock().unwrap_or_else(|e| e.into_inner());
            String::from_utf8_lossy(&k).trim().to_string()
        };
        let tail: Vec<&str> = said.lines().rev().take(5).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        let mut text = format!("{what}: {how}");
        if !tail.is_empty() {
            text.push_str(&format!("; it said: {}", tail.join(" / ")));
        }
        if said.contains("mmap arena") {
            text.push_str(
                " (the driver reserves 64 GiB of address space, not memory, for the simulated \
                 physical memory: a limit on virtual memory such as ulimit -v must allow it)",
            );
        }
        died(text)
    }
}

/// ` (SIGSEGV)` and the like, for the signals a driver dies of.
fn signal_name(sig: i32) -> &'static str {
    match sig {
        4 => " (SIGILL)",
        6 => " (SIGABRT)",
        7 => " (SIGBUS)",
        8 => " (SIGFPE)",
        9 => " (SIGKILL)",
        11 => " (SIGSEGV)",
        13 => " (SIGPIPE)",
        15 => " (SIGTERM)",
        _ => "",
    }
}

fn died(e: String) -> EngineError {
    EngineError::Failed(format!("the kernel driver: {e}"))
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

/// The request for one boot (`kernel/PROTOCOL.md`).
pub fn request(input: &BootInput, quiet: bool) -> String {
    let mut s = String::from("boot\n");
    s.push_str(&format!("desc_size {}\n", input.desc_size));
    s.push_str(&match input.fill {
        Fill::Zero => "fill zero\n".to_string(),
        Fill::Stale => "fill stale\n".to_string(),
        Fill::Pattern(b) => format!("fill pattern {b:#x}\n"),
    });
    s.push_str(&format!("quiet {}\n", u8::from(quiet)));
    s.push_str(&format!("cmdline {}\n", input.cmdline));
    for d in &input.map {
        s.push_str(&format!(
            "desc {:#x} {:#x} {:#x} {:#x} {:#x} {:#x}\n",
            d.ty, d.pad, d.phys_addr, d.virt_addr, d.num_pages, d.attribute
        ));
    }
    for &(a, z) in &input.reservations {
        s.push_str(&format!("reserve {a:#x} {z:#x}\n"));
    }
    for &(a, z) in &input.memblock {
        s.push_str(&format!("memblock {a:#x} {z:#x}\n"));
    }
    if let Some((a, z)) = input.bgrt {
        s.push_str(&format!("bgrt {a:#x} {z:#x}\n"));
    }
    for step in &input.later {
        s.push_str(&format!("later {}\n", step.directive()));
    }
    s.push_str("go\n");
    s
}

/// A function name the driver printed, as the `&'static str` the outcome
/// types hold: one of the model's names, or the name kept for good.
fn intern(name: &str) -> &'static str {
    if let Some(f) = crate::model::kernel::function_named(name) {
        return f;
    }
    static NAMES: Mutex<Option<HashSet<&'static str>>> = Mutex::new(None);
    let mut names = NAMES.lock().unwrap_or_else(|e| e.into_inner());
    let set = names.get_or_insert_with(HashSet::new);
    if let Some(&n) = set.get(name) {
        return n;
    }
    let n: &'static str = Box::leak(name.to_string().into_boxed_str());
    set.insert(n);
    n
}

fn num(w: Option<&str>) -> Result<u64, String> {
    let w = w.ok_or("a field is missing")?;
    let v = match w.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16),
        None => w.parse(),
    };
    v.map_err(|_| format!("expected a number, found `{w}`"))
}

fn hex_bytes(w: Option<&str>) -> Result<Vec<u8>, String> {
    let w = w.unwrap_or("");
    if w == "-" {
        return Ok(Vec::new());
    }
    (0..w.len() / 2)
        .map(|i| u8::from_str_radix(&w[2 * i..2 * i + 2], 16).map_err(|_| "bad hex".to_string()))
        .collect()
}

fn descs(bytes: &[u8], desc_size: u64) -> Vec<MemoryDesc> {
    let ds = desc_size.max(DESC_LEN as u64) as usize;
    bytes
        .chunks(ds)
        .filter(|c| c.len() >= DESC_LEN)
        .map(MemoryDesc::from_bytes)
        .collect()
}

fn level(w: &str) -> Result<Level, String> {
    Ok(match w {
        "warning" => Level::Warning,
        "err" => Level::Err,
        "warn" => Level::Warn,
        "notice" => Level::Notice,
        "info" => Level::Info,
        "debug" => Level::Debug,
        _ => return Err(format!("unknown level `{w}`")),
    })
}

fn e820_type(w: Option<&str>) -> Result<E820Type, String> {
    Ok(match w {
        Some("usable") | Some("ram") => E820Type::RAM,
        Some("reserved") => E820Type::RESERVED,
        Some("soft-reserved") | Some("soft_reserved") => E820Type::SOFT_RESERVED,
        other => return Err(format!("unknown e820 type {other:?}")),
    })
}

/// The kinds of event the judge reads, recognised in the driver's text as
/// the model marks them.
fn kind_of(level: Level, func: &str, text: &str) -> EventKind {
    if func == "__early_ioremap" && level == Level::Warning {
        return EventKind::EarlyMapRefused;
    }
    if level == Level::Warning {
        return EventKind::Warn;
    }
    if func == "efi_arch_mem_reserve" && level == Level::Err {
        let addr = text
            .strip_prefix("efi: Failed to lookup EFI memory descriptor for 0x")
            .or_else(|| text.strip_prefix("efi: Region spans EFI memory descriptors, 0x"))
            .and_then(|hex| u64::from_str_radix(hex, 16).ok());
        if let Some(addr) = addr {
            return EventKind::ReserveRefused { addr };
        }
    }
    if let Some(name) = text
        .strip_prefix("Malformed early option '")
        .and_then(|r| r.strip_suffix('\''))
    {
        if crate::model::cmdline::parameq(name, "efi_fake_mem") {
            return EventKind::OptionRejected {
                param: "efi_fake_mem",
            };
        }
        if crate::model::cmdline::parameq(name, "efi") {
            return EventKind::OptionRejected { param: "efi" };
        }
    }
    EventKind::Print
}

/// Turns the driver's reply for `input` into an outcome.
pub fn parse_outcome(era: Era, input: &BootInput, lines: &[String]) -> Result<Outcome, String> {
    let mut o = Outcome {
        era,
        memmap: EfiMemoryMap::default(),
        map_bytes: Vec::new(),
        map: Vec::new(),
        fake_mems: Vec::new(),
        events: Vec::new(),
        faults: Vec::new(),
        allocations: Vec::new(),
        leaks: Vec::new(),
        e820: Vec::new(),
        inserts: Vec::new(),
        installs: Vec::new(),
        stage: Stage::default(),
        freed: Vec::new(),
        kept: Vec::new(),
        boot_map: None,
        calls: Default::default(),
    };
    let mut mapped = false;
    for line in lines {
        let (head, rest) = line.split_once(' ').unwrap_or((line, ""));
        let mut w = rest.split(' ');
        match head {
            "event" => {
                let lv = level(w.next().unwrap_or(""))?;
                let func = w.next().unwrap_or("");
                let text = rest.splitn(3, ' ').nth(2).unwrap_or("").to_string();
                let kind = kind_of(lv, func, &text);
                o.events.push(Event {
                    level: lv,
                    func: intern(func),
                    text,
                    kind,
                });
            }
            "e820" => {
                let op = w.next().unwrap_or("");
                let (start, size) = (num(w.next())?, num(w.next())?);
                let (from, to) = (w.next(), w.next());
                let by = intern(w.next().unwrap_or(""));
                let op = match op {
                    "update" => E820Op::Update {
                        from: e820_type(from)?,
                        to: e820_type(to)?,
                    },
                    "remove" => E820Op::Remove {
                        from: e820_type(from)?,
                    },
                    "add" => E820Op::Add { to: e820_type(to)? },
                    _ => return Err(format!("unknown e820 op `{op}`")),
                };
                o.e820.push(E820Update {
                    start,
                    size,
                    op,
                    by,
                });
            }
            "alloc" => {
                let id = num(w.next())? as usize;
                let kind = match w.next().unwrap_or("") {
                    "firmware" => AllocKind::Firmware,
                    "memblock" => AllocKind::Memblock,
                    k => match k.split_once(':') {
                        Some(("pages", n)) => AllocKind::Pages {
                            order: num(Some(n))? as u32,
                        },
                        Some(("slab", n)) => AllocKind::Slab {
                            object: num(Some(n))?,
                        },
                        _ => return Err(format!("unknown allocation kind `{k}`")),
                    },
                };
                let (phys, size) = (num(w.next())?, num(w.next())?);
                let by = intern(w.next().unwrap_or(""));
                let freed_by = match w.next() {
                    None | Some("-") => None,
                    Some(f) => Some(intern(f)),
                };
                if id != o.allocations.len() {
                    return Err(format!("allocation {id} out of order"));
                }
                o.allocations.push(AllocInfo {
                    id,
                    kind,
                    phys,
                    size,
                    by,
                    freed_by,
                });
            }
            "fault" => {
                let alloc = num(w.next())? as usize;
                let (offset, len) = (num(w.next())?, num(w.next())?);
                let access = match w.next() {
                    Some("r") => Access::Read,
                    Some("w") => Access::Write,
                    a => return Err(format!("unknown access {a:?}")),
                };
                let kind = match w.next() {
                    Some("oob") => FaultKind::OutOfBounds { page_fault: false },
                    Some("oob-pf") => FaultKind::OutOfBounds { page_fault: true },
                    Some("uaf") => FaultKind::UseAfterFree,
                    Some("double") => FaultKind::DoubleFree,
                    Some("bad") => FaultKind::BadFree,
                    k => return Err(format!("unknown fault kind {k:?}")),
                };
                let by = intern(w.next().unwrap_or(""));
                let accesses = num(w.next())?;
                o.faults.push(Fault {
                    alloc,
                    offset,
                    len,
                    access,
                    kind,
                    by,
                    accesses,
                });
            }
            "insert" => {
                let caller = intern(w.next().unwrap_or(""));
                let buf = num(w.next())? as usize;
                let range = MemRange::new(num(w.next())?, num(w.next())?, num(w.next())?);
                let (map_len, desc_size) = (num(w.next())?, num(w.next())?);
                let (written, room) = (num(w.next())?, num(w.next())?);
                let mut copied = Vec::new();
                for c in w
                    .next()
                    .unwrap_or("")
                    .split(',')
                    .filter(|c| !c.is_empty() && *c != "-")
                {
                    let mut p = c.split(':');
                    copied.push(Copied {
                        offset: num(p.next())?,
                        start: num(p.next())?,
                        pages: num(p.next())?,
                    });
                }
                o.inserts.push(InsertCall {
                    caller,
                    buf,
                    range,
                    map_len,
                    desc_size,
                    copied,
                    written,
                    room,
                });
            }
            "install" => {
                let kind = match w.next() {
                    Some("firmware") => InstallKind::Firmware,
                    Some("new") => InstallKind::New,
                    Some("remap") => InstallKind::Remap,
                    Some("runtime") => InstallKind::Runtime,
                    k => return Err(format!("unknown install kind {k:?}")),
                };
                let by = intern(w.next().unwrap_or(""));
                let stage = Stage {
                    ranges: num(w.next())? as usize,
                    reservations: num(w.next())? as usize,
                    boot_services_kept: num(w.next())? != 0,
                };
                let phys = num(w.next())?;
                let alloc = match w.next() {
                    Some("-") | None => None,
                    a => Some(num(a)? as usize),
                };
                let bytes = hex_bytes(w.next())?;
                o.installs.push(Install {
                    kind,
                    by,
                    stage,
                    phys,
                    alloc,
                    descs: descs(&bytes, input.desc_size),
                });
            }
            "freed" => {
                let (start, end) = (num(w.next())?, num(w.next())?);
                o.freed.push(Freed {
                    start,
                    end,
                    by: intern(w.next().unwrap_or("")),
                });
            }
            "kept" => o.kept.push((num(w.next())?, num(w.next())?)),
            "calls" => {
                let name = w.next().unwrap_or("");
                let n = num(w.next())?;
                // Functions the model does not have are not counted.
                if let Some(f) = crate::model::func::Func::named(name) {
                    let c = &mut o.calls.0[f as usize];
                    *c = c.saturating_add(u32::try_from(n).unwrap_or(u32::MAX));
                }
            }
            "memmap" => {
                o.memmap = EfiMemoryMap {
                    phys_map: num(w.next())?,
                    map: None,
                    map_len: num(w.next())?,
                    nr_map: num(w.next())?,
                    desc_version: num(w.next())? as u32,
                    desc_size: num(w.next())?,
                    flags: num(w.next())? as u32,
                };
                mapped = num(w.next())? != 0;
            }
            "fakemem" => {
                o.fake_mems.push(MemRange::new(
                    num(w.next())?,
                    num(w.next())?,
                    num(w.next())?,
                ));
            }
            "stage" => {
                o.stage = Stage {
                    ranges: num(w.next())? as usize,
                    reservations: num(w.next())? as usize,
                    boot_services_kept: num(w.next())? != 0,
                };
            }
            "mapbytes" => o.map_bytes = hex_bytes(w.next())?,
            "bootmap" => o.boot_map = Some(descs(&hex_bytes(w.next())?, input.desc_size)),
            "crash" => {
                let signal = w.next().unwrap_or("?").to_string();
                let func = intern(w.next().unwrap_or("?"));
                o.events.push(Event {
                    level: Level::Warning,
                    func,
                    text: format!("BUG: the kernel code crashed with {signal} in {func}"),
                    kind: EventKind::Warn,
                });
            }
            "" => {}
            other => return Err(format!("unknown record `{other}`")),
        }
    }
    o.map = descs(&o.map_bytes, o.memmap.desc_size);
    let installed = o
        .allocations
        .iter()
        .rposition(|a| o.memmap.phys_map >= a.phys && o.memmap.phys_map - a.phys < a.size.max(1));
    if mapped {
        if let Some(id) = installed {
            o.memmap.map = Some(MapPtr {
                alloc: id,
                off: o.memmap.phys_map - o.allocations[id].phys,
            });
        }
    }
    if o.boot_map.is_none() {
        o.boot_map = o
            .installs
            .iter()
            .rev()
            .find(|i| i.kind != InstallKind::Runtime && i.kind != InstallKind::Remap)
            .map(|i| i.descs.clone());
    }
    o.leaks = leaks(&o.allocations, installed);
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_parses_into_an_outcome() {
        let input = BootInput {
            map: vec![MemoryDesc::new(4, 0x10_0000, 0x10, 0xf)],
            ..BootInput::default()
        };
        let lines: Vec<String> = [
            "alloc 0 firmware 0x8000000 0x30 firmware -",
            "install firmware efi_memblock_x86_reserve_range 0 0 0 0x8000000 0 \
             0400000000000000000010000000000000000000000000001000000000000000\
             0f00000000000000808080808080808080",
            "event err efi_arch_mem_reserve efi: Failed to lookup EFI memory descriptor for 0x0000000000000000",
            "memmap 0x8000000 0x30 0x1 0x1 0x30 0x0 1",
            "mapbytes 0400000000000000000010000000000000000000000000001000000000000000\
             0f00000000000000",
            "stage 0 1 1",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let o = parse_outcome(Era::V6_12_Y, &input, &lines).unwrap();
        assert_eq!(o.map, input.map);
        assert_eq!(o.memmap.map, Some(MapPtr { alloc: 0, off: 0 }));
        assert_eq!(o.events[0].func, "efi_arch_mem_reserve");
        assert_eq!(o.events[0].kind, EventKind::ReserveRefused { addr: 0 });
        assert_eq!(o.installs[0].kind, InstallKind::Firmware);
        assert_eq!(o.leaks, Vec::<usize>::new());
        assert!(o.stage.boot_services_kept);
    }

    use crate::model::boot::LaterStep;

    #[test]
    fn the_request_names_every_input() {
        let input = BootInput {
            map: vec![MemoryDesc::new(7, 0x1000, 1, 0xf)],
            cmdline: "efi=debug".into(),
            reservations: vec![(0x1000, 0x10)],
            later: vec![LaterStep::VirtualMode],
            fill: Fill::Pattern(0xa5),
            ..BootInput::default()
        };
        assert_eq!(
            request(&input, true),
            "boot\ndesc_size 48\nfill pattern 0xa5\nquiet 1\ncmdline efi=debug\n\
             desc 0x7 0x0 0x1000 0x0 0x1 0xf\nreserve 0x1000 0x10\nlater virtual-mode\ngo\n"
        );
    }

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
