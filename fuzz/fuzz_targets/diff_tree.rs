//! Does a kernel tree's own code do what the model of its era does? The
//! tree's library (kernel/build.sh --fuzz) runs in this process, its
//! branches and compares guiding libFuzzer with the model's; any
//! difference is a crash (`efimap fuzz diff_tree --tree DIR` sets it up).
#![no_main]

use efimap_core::search::fuzzing::differential;
use efimap_kernel_ffi::libfuzzer::{init, tree};
use libfuzzer_sys::fuzz_target;

fuzz_target!(init: init(), |data: &[u8]| differential(data, &mut *tree()));
