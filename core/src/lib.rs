//! efimap-core: byte-faithful models of the Linux kernel's EFI memory-map
//! code, era by era, on a simulated memory that records every overrun; the
//! engines that run a case; the judge; the cases; the searches.
//!
//! - [`model`]: the kernel model, one function per kernel function;
//! - [`engine`]: the [`engine::Engine`] trait, one implementation a file;
//! - [`judge`]: the oracle and the findings;
//! - [`cases`]: scenario text, fuzz bytes, boot logs, corpus, exports;
//! - [`search`]: explore, hunt, minimize, and what the fuzz targets check;
//! - [`bench`]: in-process figures.
#![forbid(unsafe_code)]

pub mod bench;
pub mod cases;
pub mod engine;
pub mod judge;
pub mod model;
pub mod search;

pub use model::boot::{run, BootInput, LaterStep, Outcome};
pub use model::desc::{MemRange, MemoryDesc};
pub use model::era::Era;
pub use model::mem::Fill;

pub use model::mem::MAX_MAP_BYTES;

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
