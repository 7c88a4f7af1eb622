//! Engines: implementations of the kernel's EFI memory-map code that a
//! case can be run on. Each one turns a [`BootInput`] into the same
//! [`Outcome`], so the oracle and every finding class judge them alike,
//! and any two can be compared (see [`crate::judge::verdict`]).
//!
//! One file per engine: [`model`], the Rust model of an era; [`tree`], a
//! kernel tree's own code built in userspace ([`coverage`]: the lines a
//! gcov build of it ran).

use crate::model::boot::{BootInput, InputError, Outcome};
use crate::model::era::Era;
use std::fmt;

pub mod coverage;
pub mod model;
pub mod tree;

pub use model::ModelEngine;
pub use tree::TreeEngine;

/// Why an engine gave no outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EngineError {
    /// An input no engine runs (the same for every engine).
    Input(InputError),
    /// The engine itself failed (a build, a driver that died): not a
    /// property of the input.
    Failed(String),
}

impl fmt::Display for EngineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EngineError::Input(e) => e.fmt(f),
            EngineError::Failed(e) => write!(f, "engine failed: {e}"),
        }
    }
}

impl std::error::Error for EngineError {}

impl From<InputError> for EngineError {
    fn from(e: InputError) -> Self {
        EngineError::Input(e)
    }
}

/// An implementation of the kernel's EFI memory-map code under test.
pub trait Engine {
    /// How reports name it: `model v6.10`, ...
    fn name(&self) -> String;
    /// The model era whose behaviour this engine should have.
    fn era(&self) -> Era;
    /// One boot of `input`. With `quiet`, the KERN_INFO and KERN_DEBUG text
    /// may be left out: no finding depends on it.
    fn boot(&mut self, input: &BootInput, quiet: bool) -> Result<Outcome, EngineError>;
    /// [`Engine::boot`] in two halves, so that engines in processes of
    /// their own boot at once: `begin` starts the boot and gives its
    /// outcome if it is already done (the default: it boots), or `None`,
    /// and then [`Engine::finish`] waits for it.
    fn begin(&mut self, input: &BootInput, quiet: bool) -> Result<Option<Outcome>, EngineError> {
        self.boot(input, quiet).map(Some)
    }
    /// The outcome of the boot [`Engine::begin`] left running.
    fn finish(&mut self, input: &BootInput) -> Result<Outcome, EngineError> {
        let _ = input;
        Err(EngineError::Failed("no boot was begun".into()))
    }
    /// A second engine with the same behaviour that another thread can
    /// run, if this one can be copied so (the models can; a kernel tree's
    /// driver process cannot). The searches split their work across
    /// threads only when every engine forks.
    fn fork(&self) -> Option<Box<dyn Engine + Send>> {
        None
    }
}

pub mod smoke {
    //! The smoke test every engine passes, through one helper (the model's
    //! eras in the unit tests, kernel trees in `core/tests/all/tree_engine.rs`).
    use super::*;
    use crate::model::desc::{attr, ty, MemoryDesc};

    /// A one-descriptor map with one `efi_fake_mem=` range inside it (in an
    /// era that has the option) and one BGRT-style reservation: the engine
    /// boots it, installs a map, and reports no fault.
    pub fn smoke(engine: &mut dyn Engine) {
        let input = BootInput {
            map: vec![
                MemoryDesc::new(ty::BOOT_SERVICES_DATA, 0x10_0000, 0x100, attr::WB),
                MemoryDesc::new(ty::CONVENTIONAL_MEMORY, 0x1_0000_0000, 0x4_0000, attr::WB),
            ],
            cmdline: "efi_fake_mem=256M@4G:0x40000".into(),
            reservations: vec![(0x10_4000, 0x2000)],
            ..BootInput::default()
        };
        let o = engine.boot(&input, false).expect("the smoke input runs");
        assert_eq!(o.era, engine.era(), "{}", engine.name());
        assert!(o.faults.is_empty(), "{}: {:?}", engine.name(), o.faults);
        assert!(!o.map.is_empty(), "{}: no map installed", engine.name());
        // The reservation split the Boot Services Data descriptor in three.
        let bs: Vec<_> = o
            .map
            .iter()
            .filter(|d| d.ty == ty::BOOT_SERVICES_DATA)
            .collect();
        assert_eq!(bs.len(), 3, "{}", engine.name());
        assert_eq!(bs[1].phys_addr, 0x10_4000);
        assert_eq!(bs[1].num_pages, 2);
        assert_eq!(bs[1].attribute, attr::WB | attr::RUNTIME);
    }
}
