//! The integration tests of efimap-core, one module a subject, built as
//! one test binary: each file under `tests/` was a binary of its own,
//! compiled and linked against the library separately, and a fresh
//! `cargo test` spent most of its time on that (BENCHMARKS.md, 20).
//! `cargo test -p efimap-core --test all MODULE` runs one subject.

mod artifacts;
mod boot_flow;
mod boot_services;
mod boots;
mod dmesg_import;
mod e820;
mod findings;
mod generator;
mod helpers;
mod insert;
mod is_it_fuzzing;
mod known_causes;
mod kunit_export;
mod minimize;
mod properties;
mod replay;
mod review;
mod seed_cases;
mod svg;
mod tree_engine;
