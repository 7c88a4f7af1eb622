//! Does efi_fake_memmap give the map the oracle expects, in every era, and do
//! the eras with the fixed efi_fake_memmap agree with each other?
#![no_main]

use efimap_core::search::fuzzing::{fake_mem, Config};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| fake_mem(data, Config::global()));
