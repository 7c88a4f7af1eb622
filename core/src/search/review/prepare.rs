//! The two scratch trees of a review: the files the engine builds from
//! and the files the patch touches, copied from a tree (or read at a
//! commit), the series applied to one of them.

use crate::cases::patch::{apply, confined, FilePatch, Series};
use crate::engine::tree::{Tree, TreeError};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Why the trees could not be made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PrepareError {
    /// A file of the tree could not be read or a scratch file written.
    Io(String),
    /// A hunk does not apply: the patch's line, and what is wrong.
    Rejected {
        line: usize,
        message: String,
    },
    Tree(TreeError),
}

impl std::fmt::Display for PrepareError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PrepareError::Io(m) | PrepareError::Rejected { message: m, .. } => f.write_str(m),
            PrepareError::Tree(e) => e.fmt(f),
        }
    }
}

/// The two scratch trees of a review.
#[derive(Clone, Debug)]
pub struct Prepared {
    pub before: Tree,
    pub after: Tree,
    /// The paths the patch touches that the engine builds from.
    pub built: Vec<String>,
    /// The paths it touches that the engine does not read.
    pub other: Vec<String>,
}

/// Makes `scratch/before` and `scratch/after`: the files the engine
/// builds from and the files the series touches, read with `read` (from
/// a tree folder or a commit), then the series applied to `after`,
/// patch by patch. The series' paths are resolved against the tree
/// first ([`Series::resolve`]).
pub fn prepare(
    series: &mut Series,
    read: &dyn Fn(&str) -> Option<Vec<u8>>,
    scratch: &Path,
) -> Result<Prepared, PrepareError> {
    series
        .resolve(|p| read(p).is_some())
        .map_err(|m| PrepareError::Rejected {
            line: 0,
            message: m,
        })?;
    let engine_files = crate::engine::tree::engine_files();
    let touched = series.paths();
    let io = |what: &Path, e: std::io::Error| PrepareError::Io(format!("{}: {e}", what.display()));
    let mut files: Vec<String> = vec!["Makefile".into()];
    files.extend(engine_files.iter().map(|s| s.to_string()));
    files.extend(touched.iter().cloned());
    // Made aside and moved into place whole, so that a patch that does
    // not apply leaves nothing behind.
    let tmp = scratch.join(".preparing");
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(|e| io(&tmp, e))?;
    }
    let made = (|| {
        let dirs = [tmp.join("before"), tmp.join("after")];
        fill(&files, read, &dirs)?;
        for p in &series.patches {
            for fp in &p.files {
                apply_file(fp, &dirs[1], &p.subject)?;
            }
        }
        Ok(())
    })();
    if let Err(e) = made {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    let dirs = [scratch.join("before"), scratch.join("after")];
    for (d, side) in dirs.iter().zip(["before", "after"]) {
        if d.exists() {
            std::fs::remove_dir_all(d).map_err(|e| io(d, e))?;
        }
        let from = tmp.join(side);
        std::fs::rename(&from, d).map_err(|e| io(d, e))?;
    }
    let _ = std::fs::remove_dir(&tmp);
    let before = Tree::open(&dirs[0]).map_err(PrepareError::Tree)?;
    let after = Tree::open(&dirs[1]).map_err(PrepareError::Tree)?;
    let (built, other) = touched
        .into_iter()
        .partition(|p| engine_files.contains(&p.as_str()));
    Ok(Prepared {
        before,
        after,
        built,
        other,
    })
}

/// `dir` joined with `rel`, a path the series or the engine names: only
/// below `dir`. The series' parser refuses what is not; this holds it
/// again where the files are written.
fn inside(dir: &Path, rel: &str) -> Result<PathBuf, PrepareError> {
    if confined(rel) {
        Ok(dir.join(rel))
    } else {
        Err(PrepareError::Io(format!(
            "{rel}: not a path inside the scratch tree {}",
            dir.display()
        )))
    }
}

/// Copies `files` (those `read` has) into each of `dirs`.
fn fill(
    files: &[String],
    read: &dyn Fn(&str) -> Option<Vec<u8>>,
    dirs: &[PathBuf],
) -> Result<(), PrepareError> {
    let io = |what: &Path, e: std::io::Error| PrepareError::Io(format!("{}: {e}", what.display()));
    let mut seen = BTreeSet::new();
    for f in files {
        if !seen.insert(f.clone()) {
            continue;
        }
        let Some(bytes) = read(f) else { continue };
        for d in dirs {
            let p = inside(d, f)?;
            if let Some(parent) = p.parent() {
                std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
            }
            std::fs::write(&p, &bytes).map_err(|e| io(&p, e))?;
        }
    }
    Ok(())
}

/// Applies one file's hunks in the scratch tree `dir`.
fn apply_file(fp: &FilePatch, dir: &Path, subject: &str) -> Result<(), PrepareError> {
    let io = |what: &Path, e: std::io::Error| PrepareError::Io(format!("{}: {e}", what.display()));
    let old: Option<PathBuf> = fp.old.as_deref().map(|p| inside(dir, p)).transpose()?;
    let text = match &old {
        Some(p) => Some(std::fs::read_to_string(p).map_err(|e| io(p, e))?),
        None => None,
    };
    let new = apply(fp, text.as_deref()).map_err(|r| {
        let found = r
            .found
            .as_deref()
            .map_or("the end of the file".to_string(), |f| format!("`{f}`"));
        PrepareError::Rejected {
            line: r.line,
            message: format!(
                "{}hunk #{} {} of {} does not apply: at line {} the tree has {found}, the hunk expects `{}`",
                if subject.is_empty() { String::new() } else { format!("{subject}: ") },
                r.hunk,
                r.header,
                fp.path(),
                r.at,
                r.expected
            ),
        }
    })?;
    if let Some(p) = &old {
        if fp.new.as_ref() != fp.old.as_ref() {
            std::fs::remove_file(p).map_err(|e| io(p, e))?;
        }
    }
    if let (Some(text), Some(path)) = (new, &fp.new) {
        let p = inside(dir, path)?;
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
        }
        std::fs::write(&p, text).map_err(|e| io(&p, e))?;
    }
    Ok(())
}
