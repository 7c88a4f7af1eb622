//! Does a patch from a mailing list ever name a path outside the tree it
//! is applied in, or make the reader or the applier panic?
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| efimap_core::search::fuzzing::parse_patch(data));
