//! The baseline: boot_flow's question on raw bytes read as u64 fields with
//! no structure, to measure what the structure-aware decoder buys.
#![no_main]

use efimap_core::search::fuzzing::{naive, Config};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| naive(data, Config::global()));
