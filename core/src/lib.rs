//! efimap-core: byte-faithful models of the Linux kernel's EFI memory-map
//! code, era by era, on a simulated memory that records every overrun.
//!
//! - [`desc`]: `efi_memory_desc_t` and its constants;
//! - [`mem`]: simulated physical memory (allocators, red zones, faults);
//! - [`kernel`]: the modelled kernel's state (`efi.memmap`, the log);
//! - [`memmap`], [`fake_mem`], [`quirks`], [`efi`]: the kernel functions,
//!   each named after the one it models;
//! - [`cmdline`]: `simple_strtoull`, `memparse` and lib/sort.c;
//! - [`print`]: `efi_md_typeattr_format` and the `efi: memNN:` line;
//! - [`era`]: the eras and what differs between them;
//! - [`boot`]: the boot-flow runner and its [`boot::Outcome`];
//! - [`report`]: an outcome as plain text.
#![forbid(unsafe_code)]

pub mod bench;
pub mod boot;
pub mod cmdline;
pub mod codec;
pub mod corpus;
pub mod desc;
pub mod dmesg;
pub mod efi;
pub mod era;
pub mod explore;
pub mod export;
pub mod fake_mem;
pub mod findings;
pub mod fuzzing;
pub mod hunt;
pub mod kernel;
pub mod mem;
pub mod memmap;
pub mod minimize;
pub mod oracle;
pub mod print;
pub mod quirks;
pub mod report;
pub mod scenario;

pub use boot::{run, BootInput, LaterStep, Outcome};
pub use desc::{MemRange, MemoryDesc};
pub use era::Era;
pub use mem::Fill;

/// The largest single buffer the model simulates (64 MiB); a larger
/// `efi_memmap_alloc` fails as an allocation failure would.
pub const MAX_MAP_BYTES: u64 = 64 << 20;

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
