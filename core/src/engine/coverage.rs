//! Which lines of a tree's files its driver ran: the line counts of a
//! gcov build ([`crate::engine::tree::build_gcov`]) that its drivers
//! wrote into a folder of the run's own, read with gcc's `gcov
//! --json-format --stdout` once every driver of the build has ended (each
//! holds the build's `gcov.lock` shared until its counts are written, see
//! `kernel/build.sh`).

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// One source file's counts: each line with code and how often it ran,
/// and each function's name and first and last line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileCounts {
    pub lines: BTreeMap<usize, u64>,
    pub functions: Vec<(String, usize, usize)>,
}

impl FileCounts {
    /// The function whose lines hold `line`, if any.
    pub fn function_at(&self, line: usize) -> Option<&str> {
        self.functions
            .iter()
            .filter(|(_, a, b)| (*a..=*b).contains(&line))
            .min_by_key(|(_, a, b)| b - a)
            .map(|(n, _, _)| n.as_str())
    }
}

/// Every source file of a build, by the path gcov names it with.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LineCounts {
    pub files: BTreeMap<String, FileCounts>,
}

impl LineCounts {
    /// The counts of the tree file `rel` (`arch/x86/platform/efi/quirks.c`):
    /// gcov names a whole file by the path it was compiled from and an
    /// extracted function by its `#line` path, relative to the tree.
    pub fn file(&self, rel: &str) -> Option<&FileCounts> {
        self.files
            .iter()
            .find(|(name, _)| *name == rel || name.ends_with(&format!("/{rel}")))
            .map(|(_, c)| c)
    }

    /// Adds one `gcov --json-format` document (one object file's).
    pub fn add_json(&mut self, doc: &str) -> Result<(), String> {
        let v: Value = serde_json::from_str(doc).map_err(|e| format!("gcov's JSON: {e}"))?;
        let files = v["files"]
            .as_array()
            .ok_or("gcov's JSON: expected a \"files\" array")?;
        for f in files {
            let Some(name) = f["file"].as_str() else {
                continue;
            };
            let counts = self.files.entry(name.to_string()).or_default();
            for l in f["lines"].as_array().into_iter().flatten() {
                let (Some(n), Some(c)) = (l["line_number"].as_u64(), l["count"].as_u64()) else {
                    continue;
                };
                *counts.lines.entry(n as usize).or_default() += c;
            }
            for func in f["functions"].as_array().into_iter().flatten() {
                let name = func["demangled_name"]
                    .as_str()
                    .or(func["name"].as_str())
                    .unwrap_or("?")
                    .to_string();
                let (Some(a), Some(b)) = (func["start_line"].as_u64(), func["end_line"].as_u64())
                else {
                    continue;
                };
                let entry = (name, a as usize, b as usize);
                if !counts.functions.contains(&entry) {
                    counts.functions.push(entry);
                }
            }
        }
        Ok(())
    }
}

/// Waits until every driver of the gcov build in `build` (the folder of
/// its driver) has written its counts, then reads the counts they wrote
/// into `counts` ([`crate::engine::tree::TreeEngine::start_counting`]):
/// each `.gcda` there with its object's `.gcno` from the build.
pub fn read(build: &Path, counts: &Path) -> Result<LineCounts, String> {
    let lock = build.join("gcov.lock");
    if lock.exists() {
        Command::new("flock")
            .arg("-x")
            .arg(&lock)
            .arg("true")
            .status()
            .map_err(|e| format!("cannot run flock(1) on {}: {e}", lock.display()))?;
    }
    let obj = build.join("obj");
    let mut names: Vec<String> = std::fs::read_dir(counts)
        .map_err(|e| format!("{}: {e}", counts.display()))?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|n| n.strip_suffix(".gcda").map(str::to_string))
        .filter(|n| n.starts_with("k_"))
        .collect();
    names.sort();
    let mut out = LineCounts::default();
    for n in names {
        let gcno = format!("{n}.gcno");
        std::fs::copy(obj.join(&gcno), counts.join(&gcno))
            .map_err(|e| format!("{}: {e}", obj.join(&gcno).display()))?;
        let run = Command::new("gcov")
            .arg("--json-format")
            .arg("--stdout")
            .arg(format!("{n}.o"))
            .current_dir(counts)
            .output()
            .map_err(|e| format!("cannot run gcov (gcc's): {e}"))?;
        if !run.status.success() {
            return Err(format!(
                "gcov {n}.o in {}: {}",
                counts.display(),
                String::from_utf8_lossy(&run.stderr).trim()
            ));
        }
        for doc in String::from_utf8_lossy(&run.stdout).lines() {
            if !doc.trim().is_empty() {
                out.add_json(doc)?;
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// gcov 12's intermediate format, two functions of one file; lines of
    /// the same number from two objects add up.
    #[test]
    fn counts_from_gcov_json() {
        let doc = r#"{"format_version":"1","gcc_version":"12.2.0","files":[{"file":"arch/x86/platform/efi/quirks.c","functions":[{"name":"efi_arch_mem_reserve","demangled_name":"efi_arch_mem_reserve","start_line":250,"start_column":1,"end_line":300,"end_column":1,"blocks":9,"blocks_executed":9,"execution_count":3},{"name":"inner","demangled_name":"inner","start_line":260,"start_column":1,"end_line":270,"end_column":1,"blocks":1,"blocks_executed":0,"execution_count":0}],"lines":[{"line_number":281,"function_name":"efi_arch_mem_reserve","count":3,"unexecuted_block":false,"branches":[]},{"line_number":265,"function_name":"inner","count":0,"unexecuted_block":true,"branches":[]}]}]}"#;
        let mut c = LineCounts::default();
        c.add_json(doc).unwrap();
        c.add_json(doc).unwrap();
        let f = c.file("arch/x86/platform/efi/quirks.c").unwrap();
        assert_eq!(f.lines.get(&281), Some(&6));
        assert_eq!(f.lines.get(&265), Some(&0));
        assert_eq!(f.lines.get(&282), None);
        assert_eq!(f.function_at(281), Some("efi_arch_mem_reserve"));
        assert_eq!(f.function_at(265), Some("inner"));
        assert_eq!(f.function_at(10), None);
        assert_eq!(f.functions.len(), 2);
        assert_eq!(c.file("platform/efi/quirks.c"), Some(f));
        assert_eq!(c.file("efi/memmap.c"), None);
        assert!(LineCounts::default().add_json("{}").is_err());
    }
}
