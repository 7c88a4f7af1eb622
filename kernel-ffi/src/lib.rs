// SPDX-License-Identifier: GPL-2.0-only
//! A kernel tree's EFI memory-map code run inside the calling process: the
//! in-process alternative to [`TreeEngine`](efimap_core::engine::TreeEngine)'s
//! driver process.
//!
//! `kernel/build.sh` links the objects of the driver a second time as
//! `libefimap-kernel.so`, whose entry point `efimap_driver_run` takes the
//! same protocol text the driver reads on its standard input
//! (`kernel/PROTOCOL.md`) and hands back what the driver would have written
//! on its standard output. [`FfiEngine`] loads that library and talks to it
//! with core's own request writer ([`request`]) and reply parser
//! ([`parse_outcome`]), so both engines give the same [`Outcome`] for the
//! same input; only the transport differs (a function call and two
//! buffers instead of two pipes and a second process).
//!
//! This is the only crate of the workspace with unsafe code: the library
//! call and the reading of the buffer it returns.
//!
//! # One library call at a time
//!
//! The kernel files and the shim keep their state in globals (`efi`, the
//! simulated memory, the call stack), and a call installs process-wide
//! crash handlers for its duration. Every call of every [`FfiEngine`] in
//! the process therefore goes through one lock: engines may live on any
//! threads, but they take turns, so one engine per process is the useful
//! number. A library once loaded stays loaded until the process exits
//! (unloading it would also drop the shim's memory arena).
//!
//! # What a crash costs
//!
//! A fault of the kernel code during a boot ends that boot with a `crash`
//! record, as in the driver process (the handler jumps back to the start
//! of the boot). The kernel code runs in the host's address space, though:
//! a stray write that the shim's guard pages do not catch would corrupt
//! the host rather than a child process, which is what the driver process
//! protects against.

use efimap_core::engine::tree::{build, parse_outcome, request, Tree, TreeError};
use efimap_core::engine::{Engine, EngineError};
use efimap_core::model::boot::{check_input, BootInput, Outcome};
use efimap_core::Era;
use std::ffi::{c_char, c_int};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

#[cfg(feature = "libfuzzer")]
pub mod libfuzzer;

/// The library's file name in a build folder, beside `efimap-kernel-driver`.
pub const LIBRARY: &str = "libefimap-kernel.so";

/// `int efimap_driver_run(const char *in, size_t len, char **out, size_t *out_len)`
type RunFn = unsafe extern "C" fn(*const c_char, usize, *mut *mut c_char, *mut usize) -> c_int;
/// `void efimap_driver_free(char *out)`
type FreeFn = unsafe extern "C" fn(*mut c_char);
/// `int efimap_cov_setup(const struct efimap_cov_hooks *, struct efimap_cov_module *)`
type CovSetupFn = unsafe extern "C" fn(*const CovHooks, *mut CovModule) -> c_int;

/// `struct efimap_cov_module` (kernel/cov.c): the library's edge counters
/// and their table of PCs (two words an entry), as libFuzzer registers a
/// module: `[counters, counters_end)`, `[pcs, pcs_end)`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct CovModule {
    pub counters: *mut u8,
    pub counters_end: *mut u8,
    pub pcs: *const usize,
    pub pcs_end: *const usize,
}

/// `struct efimap_cov_hooks` (kernel/cov.c): the comparison hooks a fuzzer
/// gives the kernel files' coverage bridge; `None` where it has none.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct CovHooks {
    pub cmp1: Option<unsafe extern "C" fn(u8, u8)>,
    pub cmp2: Option<unsafe extern "C" fn(u16, u16)>,
    pub cmp4: Option<unsafe extern "C" fn(u32, u32)>,
    pub cmp8: Option<unsafe extern "C" fn(u64, u64)>,
    pub const_cmp1: Option<unsafe extern "C" fn(u8, u8)>,
    pub const_cmp2: Option<unsafe extern "C" fn(u16, u16)>,
    pub const_cmp4: Option<unsafe extern "C" fn(u32, u32)>,
    pub const_cmp8: Option<unsafe extern "C" fn(u64, u64)>,
    pub switch: Option<unsafe extern "C" fn(u64, *mut u64)>,
}

/// Taken around every library call, of every engine (see the crate docs).
static CALLS: Mutex<()> = Mutex::new(());

/// Why a library could not be loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadError(pub String);

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot load the kernel library: {}", self.0)
    }
}

impl std::error::Error for LoadError {}

/// Builds `tree` as [`build`] does (the same cache and key) and returns the
/// path of its shared library.
pub fn build_library(tree: &Tree, shims: &Path, cache: &Path) -> Result<PathBuf, TreeError> {
    let driver = build(tree, shims, cache)?;
    let lib = driver.with_file_name(LIBRARY);
    if lib.is_file() {
        Ok(lib)
    } else {
        Err(TreeError::Build {
            dir: tree.dir.clone(),
            message: format!("the build made no {}", lib.display()),
        })
    }
}

/// The two entry points of one loaded library.
#[derive(Clone, Copy)]
struct Entry {
    run: RunFn,
    free: FreeFn,
    cov_setup: CovSetupFn,
}

/// The real code of one tree, through its shared library, in this process.
pub struct FfiEngine {
    era: Era,
    name: String,
    entry: Entry,
}

impl FfiEngine {
    /// Loads `library` (built by [`build_library`]), whose outcomes are
    /// labelled `era`.
    pub fn load(library: &Path, tree: &Tree, era: Era) -> Result<FfiEngine, LoadError> {
        let name = format!(
            "tree {} in process ({})",
            tree.version_text(),
            tree.dir.display()
        );
        Self::load_named(library, name, era)
    }

    /// [`FfiEngine::load`] of a library by its path alone, named `name`.
    pub fn load_named(library: &Path, name: String, era: Era) -> Result<FfiEngine, LoadError> {
        let fail = |e: libloading::Error| LoadError(format!("{}: {e}", library.display()));
        // SAFETY: the library is one kernel/build.sh linked: it has no
        // constructors beyond the compiler's instrumentation set-up, which
        // the shim implements as empty functions.
        let lib = unsafe { libloading::Library::new(library) }.map_err(fail)?;
        // The library is never unloaded: the function pointers below stay
        // valid for the life of the process.
        let lib: &'static libloading::Library = Box::leak(Box::new(lib));
        // SAFETY: driver.c defines both symbols with exactly these C
        // signatures.
        let entry = unsafe {
            Entry {
                run: *lib.get::<RunFn>(b"efimap_driver_run\0").map_err(fail)?,
                free: *lib.get::<FreeFn>(b"efimap_driver_free\0").map_err(fail)?,
                cov_setup: *lib.get::<CovSetupFn>(b"efimap_cov_setup\0").map_err(fail)?,
            }
        };
        Ok(FfiEngine { era, name, entry })
    }

    /// Gives the library's coverage bridge (kernel/cov.c) the comparison
    /// hooks and returns its edge counters and their PC table, for a
    /// fuzzer to register; an error when the library was not built with
    /// `kernel/build.sh --fuzz` (its counters would never move).
    pub fn coverage(&mut self, hooks: &CovHooks) -> Result<CovModule, LoadError> {
        let mut m = CovModule {
            counters: std::ptr::null_mut(),
            counters_end: std::ptr::null_mut(),
            pcs: std::ptr::null(),
            pcs_end: std::ptr::null(),
        };
        let _turn = CALLS.lock().unwrap_or_else(|e| e.into_inner());
        // SAFETY: efimap_cov_setup copies `hooks` (a valid struct laid out
        // as kernel/cov.c declares it, whose functions are functions of
        // this process with the C signatures given) and fills `m` with
        // pointers into its static arrays; CALLS keeps any other call into
        // a loaded library from overlapping it.
        let built = unsafe { (self.entry.cov_setup)(hooks, &mut m) };
        if built == 1 {
            Ok(m)
        } else {
            Err(LoadError(
                "the library was not built for a fuzzer (kernel/build.sh --fuzz)".into(),
            ))
        }
    }

    /// Runs protocol text (any number of scenarios) and returns the text the
    /// driver process would have written for it: the batched form of
    /// [`Engine::boot`].
    pub fn run_text(&mut self, text: &str) -> Result<String, EngineError> {
        let failed = |e: String| EngineError::Failed(format!("the kernel library: {e}"));
        let mut out: *mut c_char = std::ptr::null_mut();
        let mut len = 0usize;
        let bytes = {
            let _turn = CALLS.lock().unwrap_or_else(|e| e.into_inner());
            // SAFETY: `text` is valid for `text.len()` bytes during the call,
            // which only reads it; `out` and `len` are valid places for the
            // library to store its buffer and length; CALLS keeps any other
            // call of any loaded library from overlapping this one.
            let rc =
                unsafe { (self.entry.run)(text.as_ptr().cast(), text.len(), &mut out, &mut len) };
            if rc != 0 || out.is_null() {
                return Err(failed(format!(
                    "efimap_driver_run failed: {}",
                    std::io::Error::last_os_error()
                )));
            }
            // SAFETY: on success `out` holds `len` initialised bytes that the
            // library allocated and does not touch again until they are
            // given back to it just below.
            let bytes = unsafe { std::slice::from_raw_parts(out.cast::<u8>(), len) }.to_vec();
            // SAFETY: `out` came from this library's efimap_driver_run and is
            // freed once.
            unsafe { (self.entry.free)(out) };
            bytes
        };
        String::from_utf8(bytes).map_err(|_| failed("its reply is not UTF-8".into()))
    }
}

impl Engine for FfiEngine {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn era(&self) -> Era {
        self.era
    }

    fn boot(&mut self, input: &BootInput, quiet: bool) -> Result<Outcome, EngineError> {
        check_input(input)?;
        let reply = self.run_text(&request(input, quiet))?;
        let died = |e: String| EngineError::Failed(format!("the kernel library: {e}"));
        let mut lines = Vec::new();
        let mut ended = false;
        // Lines end at '\n' only, as TreeEngine reads them.
        for line in reply.split_terminator('\n') {
            if line == "end" {
                ended = true;
                break;
            }
            lines.push(line.to_string());
        }
        if !ended {
            return Err(died("its reply has no `end`".into()));
        }
        parse_outcome(self.era, input, &lines).map_err(|e| died(format!("bad reply: {e}")))
    }
}
