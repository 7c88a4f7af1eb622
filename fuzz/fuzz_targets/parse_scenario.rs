//! Does the scenario parser take any text, and print what it parses back to itself?
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| efimap_core::search::fuzzing::parse_scenario(data));
