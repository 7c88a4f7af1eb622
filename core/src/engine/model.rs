//! The model engine: the Rust model of one era ([`crate::model`]).

use super::{Engine, EngineError};
use crate::model::boot::{run_with, BootInput, Outcome};
use crate::model::era::Era;

/// The model of `era`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ModelEngine(pub Era);

impl Engine for ModelEngine {
    fn name(&self) -> String {
        format!("model {}", self.0)
    }

    fn era(&self) -> Era {
        self.0
    }

    fn boot(&mut self, input: &BootInput, quiet: bool) -> Result<Outcome, EngineError> {
        Ok(run_with(self.0, input, quiet)?)
    }

    fn fork(&self) -> Option<Box<dyn Engine + Send>> {
        Some(Box::new(*self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_model_era_passes_the_engine_smoke_test() {
        for era in Era::all() {
            super::super::smoke::smoke(&mut ModelEngine(era));
        }
    }
}
