//! The efimap command's tests, one module a subject, built as one test
//! binary (each file was a binary of its own: BENCHMARKS.md, 20).
//! `cargo test -p efimap-cli --test all MODULE` runs one subject.

mod boot_kernel;
mod boot_log;
mod cli;
mod era_in_one_place;
mod fuzz_scale;
mod hunt_tree;
mod review;
mod run_svg;
mod tree_errors;
