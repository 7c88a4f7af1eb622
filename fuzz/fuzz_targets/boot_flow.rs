//! Does a whole boot (firmware map, command line, reservations, kexec) go
//! without a memory fault or an oracle divergence?
#![no_main]

use efimap_core::search::fuzzing::{boot_flow, Config};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| boot_flow(data, Config::global()));
