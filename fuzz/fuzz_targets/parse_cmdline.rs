//! Do the command-line splitter and setup_fake_mem take any bytes without panicking?
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| efimap_core::search::fuzzing::parse_cmdline(data));
