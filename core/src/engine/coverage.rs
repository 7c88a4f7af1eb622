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
/// each line's branches (gcov's arcs out of its blocks) and how often each
/// was taken, and each function's name and first and last line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileCounts {
    pub lines: BTreeMap<usize, u64>,
    pub branches: BTreeMap<usize, Vec<u64>>,
    pub functions: Vec<(String, usize, usize)>,
}

/// One function's coverage: lines with code and branches, and how many
/// of each ran; the lines not reached and the lines with a branch never
/// taken.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FunctionCoverage {
    pub file: String,
    pub function: String,
    pub lines: usize,
    pub lines_hit: usize,
    pub branches: usize,
    pub branches_taken: usize,
    pub missed_lines: Vec<usize>,
    pub missed_branches: Vec<usize>,
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
                let taken: Vec<u64> = l["branches"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|b| b["count"].as_u64().unwrap_or(0))
                    .collect();
                if !taken.is_empty() {
                    let line = counts.branches.entry(n as usize).or_default();
                    line.resize(line.len().max(taken.len()), 0);
                    for (sum, t) in line.iter_mut().zip(taken) {
                        *sum += t;
                    }
                }
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

impl LineCounts {
    /// Every function of the files whose names `keep` accepts, with its
    /// line and branch coverage, by file and first line. A line belongs to
    /// the innermost function that spans it.
    pub fn per_function(&self, keep: impl Fn(&str) -> bool) -> Vec<FunctionCoverage> {
        let mut out: BTreeMap<(String, usize, String), FunctionCoverage> = BTreeMap::new();
        for (file, c) in self.files.iter().filter(|(f, _)| keep(f)) {
            for (&line, &count) in &c.lines {
                let Some(name) = c.function_at(line) else {
                    continue;
                };
                let start = c
                    .functions
                    .iter()
                    .find(|(n, a, b)| n == name && (*a..=*b).contains(&line))
                    .map_or(0, |f| f.1);
                let f = out
                    .entry((file.clone(), start, name.to_string()))
                    .or_insert_with(|| FunctionCoverage {
                        file: file.clone(),
                        function: name.to_string(),
                        ..FunctionCoverage::default()
                    });
                f.lines += 1;
                if count > 0 {
                    f.lines_hit += 1;
                } else {
                    f.missed_lines.push(line);
                }
                if let Some(b) = c.branches.get(&line) {
                    f.branches += b.len();
                    let taken = b.iter().filter(|&&t| t > 0).count();
                    f.branches_taken += taken;
                    if taken < b.len() {
                        f.missed_branches.push(line);
                    }
                }
            }
        }
        out.into_values().collect()
    }
}

/// Line and branch coverage per function, with a total, as text: the
/// lines not reached and the lines with a branch never taken.
pub fn table(functions: &[FunctionCoverage]) -> String {
    let pct = |a: usize, b: usize| {
        if b == 0 {
            "-".to_string()
        } else {
            format!("{:.1}%", 100.0 * a as f64 / b as f64)
        }
    };
    let ranges = |v: &[usize]| -> String {
        let mut out: Vec<String> = Vec::new();
        let mut i = 0;
        while i < v.len() {
            let mut j = i;
            while j + 1 < v.len() && v[j + 1] == v[j] + 1 {
                j += 1;
            }
            out.push(if i == j {
                v[i].to_string()
            } else {
                format!("{}-{}", v[i], v[j])
            });
            i = j + 1;
        }
        if out.is_empty() {
            "-".into()
        } else {
            out.join(",")
        }
    };
    let mut s = format!(
        "  {:34} {:30} {:>11} {:>7} {:>11} {:>7}  lines not reached; lines with a branch not taken\n",
        "file", "function", "lines", "", "branches", ""
    );
    let (mut l, mut lh, mut b, mut bt) = (0, 0, 0, 0);
    for f in functions {
        l += f.lines;
        lh += f.lines_hit;
        b += f.branches;
        bt += f.branches_taken;
        s.push_str(&format!(
            "  {:34} {:30} {:>5} / {:<3} {:>7} {:>5} / {:<3} {:>7}  {}; {}\n",
            f.file,
            f.function,
            f.lines_hit,
            f.lines,
            pct(f.lines_hit, f.lines),
            f.branches_taken,
            f.branches,
            pct(f.branches_taken, f.branches),
            ranges(&f.missed_lines),
            ranges(&f.missed_branches)
        ));
    }
    s.push_str(&format!(
        "  {:34} {:30} {:>5} / {:<3} {:>7} {:>5} / {:<3} {:>7}\n",
        "total",
        "",
        lh,
        l,
        pct(lh, l),
        bt,
        b,
        pct(bt, b)
    ));
    s
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
            // Branch counts are in the JSON only with -b.
            .arg("--branch-probabilities")
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

    /// Branches per line add up across objects; per function, a line
    /// with any branch never taken is listed, and the totals count each
    /// branch once.
    #[test]
    fn branches_per_function() {
        let doc = r#"{"files":[{"file":"lib/sort.c","functions":[{"name":"sort","start_line":10,"end_line":20}],"lines":[{"line_number":11,"count":2,"branches":[{"count":2,"throw":false,"fallthrough":true},{"count":0,"throw":false,"fallthrough":false}]},{"line_number":12,"count":0,"branches":[]},{"line_number":13,"count":2,"branches":[{"count":1},{"count":1}]}]}]}"#;
        let mut c = LineCounts::default();
        c.add_json(doc).unwrap();
        c.add_json(doc).unwrap();
        assert_eq!(
            c.file("lib/sort.c").unwrap().branches.get(&11),
            Some(&vec![4, 0])
        );
        let f = c.per_function(|_| true);
        assert_eq!(
            f,
            vec![FunctionCoverage {
                file: "lib/sort.c".into(),
                function: "sort".into(),
                lines: 3,
                lines_hit: 2,
                branches: 4,
                branches_taken: 3,
                missed_lines: vec![12],
                missed_branches: vec![11],
            }]
        );
        let t = table(&f);
        let rows: Vec<Vec<&str>> = t.lines().map(|l| l.split_whitespace().collect()).collect();
        assert_eq!(
            rows[1],
            [
                "lib/sort.c",
                "sort",
                "2",
                "/",
                "3",
                "66.7%",
                "3",
                "/",
                "4",
                "75.0%",
                "12;",
                "11"
            ]
        );
        assert_eq!(
            rows[2],
            ["total", "2", "/", "3", "66.7%", "3", "/", "4", "75.0%"]
        );
    }
}
