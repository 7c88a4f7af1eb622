// SPDX-License-Identifier: GPL-2.0-only
//! The one place a command's `--eras` and `--tree`/`--tree-era` become
//! engines: the models of the eras, or a kernel tree's own code alone,
//! paired with an era. The searches then run whatever engines they are
//! given; "on a tree" is a choice made here, not a branch in each command.

use crate::{cache_dir, shim_dir, Failure};
use efimap_cli::TreeArg;
use efimap_core::engine::tree::{self, TreeEngine};
use efimap_core::engine::{Engine, ModelEngine};
use efimap_core::Era;
use std::path::{Path, PathBuf};

/// The engines a command runs.
pub struct Chosen {
    pub engines: Vec<Box<dyn Engine>>,
    /// The tree they are, if they are a tree's (its folder).
    pub tree: Option<PathBuf>,
}

impl Chosen {
    /// The era each engine should behave as, in order.
    pub fn eras(&self) -> Vec<Era> {
        self.engines.iter().map(|e| e.era()).collect()
    }

    /// The engines, borrowed as the searches take them.
    pub fn as_mut(&mut self) -> Vec<&mut dyn Engine> {
        self.engines
            .iter_mut()
            .map(|e| e.as_mut() as &mut dyn Engine)
            .collect()
    }

    /// What they are, for a heading: `eras v5.5,v6.10`, or the tree's
    /// engine by name and the era it is held to.
    pub fn what(&self) -> String {
        match &self.tree {
            Some(_) => self
                .engines
                .iter()
                .map(|e| format!("{} as {}", e.name(), e.era()))
                .collect(),
            None => {
                let names: Vec<&str> = self.eras().iter().map(|e| e.name()).collect();
                format!("eras {}", names.join(","))
            }
        }
    }

    /// The flags that choose them again, for a printed command line.
    pub fn again(&self) -> String {
        self.tree
            .as_ref()
            .map(|dir| format!(" --tree {}", dir.display()))
            .unwrap_or_default()
    }
}

/// The models of `eras` (every era when none is named), or, with
/// `--tree`, the tree's own code alone, paired with the era its code
/// matches or `--tree-era`.
pub fn choose(eras: Vec<Era>, tree: &TreeArg) -> Result<Chosen, Failure> {
    match &tree.tree {
        Some(dir) => Ok(Chosen {
            engines: vec![Box::new(tree_engine(dir, tree.tree_era)?)],
            tree: Some(dir.clone()),
        }),
        None => {
            let eras = if eras.is_empty() { Era::all() } else { eras };
            Ok(Chosen {
                engines: eras
                    .into_iter()
                    .map(|e| Box::new(ModelEngine(e)) as Box<dyn Engine>)
                    .collect(),
                tree: None,
            })
        }
    }
}

/// Opens, builds (or finds cached) and starts the engine of the tree `dir`.
pub fn tree_engine(dir: &Path, era: Option<Era>) -> Result<TreeEngine, Failure> {
    let bad = |e: tree::TreeError| Failure::Input(e.to_string());
    let t = tree::Tree::open(dir).map_err(bad)?;
    let driver = tree::build(&t, &shim_dir(), &cache_dir()).map_err(bad)?;
    TreeEngine::start(&driver, &t, era.unwrap_or_else(|| t.paired_era())).map_err(bad)
}
