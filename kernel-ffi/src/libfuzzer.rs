// SPDX-License-Identifier: GPL-2.0-only
//! The diff_tree fuzz target's tree (feature `libfuzzer`): a kernel tree's
//! library, built with `kernel/build.sh --fuzz`, loaded into the fuzzer's
//! own process, its edge counters registered with libFuzzer as one more
//! module of inline 8-bit counters and libFuzzer's comparison hooks handed
//! to its coverage bridge (kernel/cov.c). libFuzzer is then guided by the
//! kernel code's branches and compares as well as by the model's.
//!
//! The library and its era come from the environment, as `efimap fuzz
//! diff_tree --tree DIR` sets them: `EFIMAP_TREE_LIB` (the library's path)
//! and `EFIMAP_TREE_ERA` (the model era to hold it against). Only a fuzz
//! build links libFuzzer, whose functions this module names.

use crate::{CovHooks, FfiEngine};
use efimap_core::Era;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard, OnceLock};

extern "C" {
    fn __sanitizer_cov_8bit_counters_init(start: *mut u8, stop: *mut u8);
    fn __sanitizer_cov_pcs_init(start: *const usize, stop: *const usize);
    fn __sanitizer_cov_trace_cmp1(a: u8, b: u8);
    fn __sanitizer_cov_trace_cmp2(a: u16, b: u16);
    fn __sanitizer_cov_trace_cmp4(a: u32, b: u32);
    fn __sanitizer_cov_trace_cmp8(a: u64, b: u64);
    fn __sanitizer_cov_trace_const_cmp1(a: u8, b: u8);
    fn __sanitizer_cov_trace_const_cmp2(a: u16, b: u16);
    fn __sanitizer_cov_trace_const_cmp4(a: u32, b: u32);
    fn __sanitizer_cov_trace_const_cmp8(a: u64, b: u64);
    fn __sanitizer_cov_trace_switch(v: u64, cases: *mut u64);
}

static TREE: OnceLock<Mutex<FfiEngine>> = OnceLock::new();

fn from_env() -> Result<FfiEngine, String> {
    let lib = std::env::var_os("EFIMAP_TREE_LIB")
        .map(PathBuf::from)
        .ok_or("EFIMAP_TREE_LIB: expected the path of a tree's libefimap-kernel.so built with kernel/build.sh --fuzz")?;
    let era: Era = std::env::var("EFIMAP_TREE_ERA")
        .map_err(|_| "EFIMAP_TREE_ERA: expected the era to hold the tree against".to_string())?
        .parse()
        .map_err(|e| format!("EFIMAP_TREE_ERA: {e}"))?;
    let name = format!("tree {} in the fuzzer", lib.display());
    let mut engine = FfiEngine::load_named(&lib, name, era).map_err(|e| e.to_string())?;
    // libFuzzer's own hooks: the bridge tail-calls them, so the caller's
    // address libFuzzer records is the kernel code's.
    let hooks = CovHooks {
        cmp1: Some(__sanitizer_cov_trace_cmp1),
        cmp2: Some(__sanitizer_cov_trace_cmp2),
        cmp4: Some(__sanitizer_cov_trace_cmp4),
        cmp8: Some(__sanitizer_cov_trace_cmp8),
        const_cmp1: Some(__sanitizer_cov_trace_const_cmp1),
        const_cmp2: Some(__sanitizer_cov_trace_const_cmp2),
        const_cmp4: Some(__sanitizer_cov_trace_const_cmp4),
        const_cmp8: Some(__sanitizer_cov_trace_const_cmp8),
        switch: Some(__sanitizer_cov_trace_switch),
    };
    let m = engine.coverage(&hooks).map_err(|e| e.to_string())?;
    // SAFETY: the counters and the PC table are the library's static
    // arrays, mapped for the life of the process (the library is never
    // unloaded), one PC entry a counter, as libFuzzer requires; it reads
    // and clears the counters around each input.
    unsafe {
        __sanitizer_cov_8bit_counters_init(m.counters, m.counters_end);
        __sanitizer_cov_pcs_init(m.pcs, m.pcs_end);
    }
    Ok(engine)
}

/// Loads the tree and registers its coverage, once; call it from the
/// target's `init` block, before libFuzzer counts its modules. Stops the
/// process with the reason if the environment does not name a fuzz build.
pub fn init() {
    TREE.get_or_init(|| match from_env() {
        Ok(e) => Mutex::new(e),
        Err(e) => {
            eprintln!("efimap diff_tree: {e}");
            std::process::exit(2)
        }
    });
}

/// The tree under test.
pub fn tree() -> MutexGuard<'static, FfiEngine> {
    init();
    TREE.get()
        .expect("initialized")
        .lock()
        .unwrap_or_else(|e| e.into_inner())
}
