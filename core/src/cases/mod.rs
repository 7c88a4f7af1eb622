//! The forms of a case: the scenario text a developer writes
//! ([`scenario`]), the fuzz encoding ([`codec`]), boot logs ([`dmesg`]),
//! corpus files on disk ([`corpus`]), kernel patches ([`patch`]), the
//! initramfs of a real boot ([`initramfs`]), and what a case is turned into
//! ([`export`], [`report`], [`svg`]).

pub mod boot_log;
pub mod codec;
pub mod corpus;
pub mod dmesg;
pub mod export;
pub mod initramfs;
pub mod kasan;
pub mod patch;
pub mod report;
pub mod scenario;
pub mod svg;
