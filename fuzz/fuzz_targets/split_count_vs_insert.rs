//! For arbitrary descriptors and a range, in every era, does efi_memmap_insert
//! write exactly 1 + efi_memmap_split_count per descriptor (or WARN and write
//! nothing)?
#![no_main]

use efimap_core::search::fuzzing::{split_count_vs_insert, Config};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| split_count_vs_insert(data, Config::global()));
