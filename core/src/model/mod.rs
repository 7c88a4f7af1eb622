//! The kernel model: one Rust function per kernel function, named after
//! it, on a simulated physical memory.
//!
//! - [`desc`]: `efi_memory_desc_t` and its constants;
//! - [`mem`]: simulated physical memory (allocators, red zones, faults);
//! - [`kernel`]: the modelled kernel's state (`efi.memmap`, the log, the
//!   typed events the judge reads);
//! - [`memmap`], [`fake_mem`], [`quirks`], [`efi`], [`boot_services`],
//!   [`virtual_mode`]: the kernel functions;
//! - [`e820`]: the x86 e820 table the EFI code changes, and its printer;
//! - [`kexec`]: e820 through `setup_arch`, and `kexec_file_load`'s placement;
//! - [`cmdline`]: `simple_strtoull`, `memparse` and lib/sort.c;
//! - [`print`]: `efi_md_typeattr_format` and the `efi: memNN:` line;
//! - [`func`]: every kernel function the model has, and its call counts;
//! - [`era`]: the eras, each a short list of differences, in one table;
//! - [`boot`]: the boot-flow runner and its [`boot::Outcome`].

pub mod boot;
pub mod boot_services;
pub mod cmdline;
pub mod desc;
pub mod e820;
pub mod efi;
pub mod era;
pub mod fake_mem;
pub mod func;
pub mod kernel;
pub mod kexec;
pub mod mem;
pub mod memmap;
pub mod print;
pub mod quirks;
pub mod virtual_mode;
