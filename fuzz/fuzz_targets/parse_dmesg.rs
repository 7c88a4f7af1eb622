//! Does the dmesg map-line reader take any text without panicking?
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| efimap_core::search::fuzzing::parse_dmesg(data));
