//! Does nothing: libFuzzer's own cost, to measure the harness's overhead.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    std::hint::black_box(data);
});
