//! A review as a developer reads it: the changed findings, new ones
//! first, each with its minimized scenario and the `efimap run --tree`
//! line that shows it; the behaviour changes; the lines the patch changed
//! and whether the scenarios ran them; a closing verdict. As text for a
//! terminal ([`Review::text`]) or as a reply to the patch's mail
//! ([`Review::mail`]).

use super::{Case, ChangeKind, ReviewRun, Side};
use crate::cases::patch::{HunkLine, Patch, Series};
use crate::cases::scenario::Scenario;
use crate::engine::coverage::LineCounts;
use crate::model::era::Era;
use similar::{ChangeTag, TextDiff};
use std::fmt::Write;

/// The changed lines of one function of one file, each with how often
/// the scenarios ran it on its side (`None`: gcov counts no code there:
/// a comment, a blank, a declaration).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Touched {
    pub file: String,
    /// `None`: outside every function gcov knows.
    pub function: Option<String>,
    /// Lines of the file before the patch that it removed.
    pub removed: Vec<(usize, Option<u64>)>,
    /// Lines of the file after the patch that it added.
    pub added: Vec<(usize, Option<u64>)>,
}

impl Touched {
    /// Lines with code, and how many of them ran.
    pub fn code(&self) -> (usize, usize) {
        let all = self.removed.iter().chain(&self.added);
        let code = all.clone().filter(|(_, c)| c.is_some()).count();
        let ran = all.filter(|(_, c)| c.is_some_and(|c| c > 0)).count();
        (code, ran)
    }
}

/// The lines the series changed in each of `files`, from the whole
/// files before and after it (so that a series counts once), grouped by
/// the function gcov puts them in on their side.
pub fn touched(
    files: &[(String, String, String)],
    before: &LineCounts,
    after: &LineCounts,
) -> Vec<Touched> {
    let mut out: Vec<Touched> = Vec::new();
    for (path, old, new) in files {
        let diff = TextDiff::from_lines(old, new);
        let (fb, fa) = (before.file(path), after.file(path));
        for change in diff.iter_all_changes() {
            let (side, line, counts) = match change.tag() {
                ChangeTag::Equal => continue,
                ChangeTag::Delete => (Side::Before, change.old_index(), fb),
                ChangeTag::Insert => (Side::After, change.new_index(), fa),
            };
            let line = line.map_or(0, |i| i + 1);
            let function = counts.and_then(|c| c.function_at(line)).map(str::to_string);
            let count = counts
                .filter(|_| !only_declares(change.value()))
                .and_then(|c| c.lines.get(&line).copied());
            let at = match out
                .iter()
                .position(|t| t.file == *path && t.function == function)
            {
                Some(i) => i,
                None => {
                    out.push(Touched {
                        file: path.clone(),
                        function,
                        removed: Vec::new(),
                        added: Vec::new(),
                    });
                    out.len() - 1
                }
            };
            match side {
                Side::Before => out[at].removed.push((line, count)),
                Side::After => out[at].added.push((line, count)),
            }
        }
    }
    out
}

/// Whether a line of C only declares: a type and names, no initializer,
/// no call (`struct efi_mem_range mr;`, `int num_entries;`, `void *new;`,
/// `u64 a, b[4];`). Such a line has no code of its own, but gcc at -O2
/// files the function's first block under it and gcov then counts it as
/// often as the function ran (a review once said such a line "ran
/// 7,821x"): it is shown as a line without code.
fn only_declares(line: &str) -> bool {
    // The line without its comments.
    let mut code = String::new();
    let mut rest = line.split("//").next().unwrap_or("");
    while let Some(open) = rest.find("/*") {
        code.push_str(&rest[..open]);
        code.push(' ');
        rest = rest[open + 2..]
            .split_once("*/")
            .map_or("", |(_, after)| after);
    }
    code.push_str(rest);
    let Some(body) = code.trim().strip_suffix(';') else {
        return false;
    };
    let allowed = |c: char| c.is_ascii_alphanumeric() || c.is_whitespace() || "_*,[]".contains(c);
    // Two names in a row before the first comma: a type and a variable,
    // which no expression statement has.
    let first = body.split(',').next().unwrap_or("");
    let words = first
        .split(|c: char| c.is_whitespace() || c == '*')
        .filter(|w| !w.is_empty())
        .count();
    let statement = matches!(
        first.split_whitespace().next(),
        Some("return" | "goto" | "break" | "continue" | "else" | "do" | "case")
    );
    body.chars().all(allowed) && words >= 2 && !statement
}

/// Everything a review found, for [`Review::text`] and [`Review::mail`].
#[derive(Clone, Debug)]
pub struct Review {
    /// The subjects of the series' patches, in the order applied.
    pub subjects: Vec<String>,
    /// The tree's version and the era it is paired with.
    pub version: String,
    pub era: Era,
    /// The paths the series touches that the engine builds from, and the
    /// others.
    pub built: Vec<String>,
    pub other: Vec<String>,
    pub run: ReviewRun,
    /// The changed lines with their counts; `None` without a gcov build.
    pub touched: Option<Vec<Touched>>,
}

/// A scenario file a review writes: its name in the output folder, the
/// case, and the tree it shows on.
#[derive(Clone, Debug)]
pub struct CaseFile<'a> {
    pub name: String,
    pub case: &'a Case,
    pub heading: String,
}

fn short(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n).collect();
        t.push_str(" ...");
        t
    }
}

fn count(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", count(n), if n == 1 { one } else { many })
}

impl Review {
    /// The scenario files of the review, in report order.
    pub fn case_files(&self) -> Vec<CaseFile<'_>> {
        let mut out = Vec::new();
        for s in self.run.changes() {
            let name = s.signature.to_string().replace('/', "-");
            let (gained, lost) = match s.kind() {
                ChangeKind::New | ChangeKind::Fixed => ("new", "fixed"),
                ChangeKind::Changed => ("gained", "lost"),
            };
            if let Some(c) = &s.gained_case {
                out.push(CaseFile {
                    name: format!("{gained}-{name}.scn"),
                    case: c,
                    heading: format!("{} after the patch and not before", s.signature),
                });
            }
            if let Some(c) = &s.lost_case {
                out.push(CaseFile {
                    name: format!("{lost}-{name}.scn"),
                    case: c,
                    heading: format!("{} before the patch and not after", s.signature),
                });
            }
        }
        for b in self.run.behaviour.values() {
            out.push(CaseFile {
                name: format!("changed-{}.scn", b.signature.to_string().replace('/', "-")),
                case: &b.case,
                heading: format!(
                    "outcomes before and after the patch differ first in {}",
                    b.signature.function
                ),
            });
        }
        out
    }

    /// The scenario a case file holds: its header says what it shows.
    pub fn scenario_of(&self, f: &CaseFile<'_>) -> Scenario {
        let mut sc = f.case.scenario.clone();
        sc.eras = vec![self.era];
        sc.header = vec![
            format!("efimap review: {}", f.heading),
            format!("patch: {}", self.subjects.join("; ")),
            format!(
                "tree {} (paired with {}); minimized{}",
                self.version,
                self.era,
                if f.case.minimal {
                    ""
                } else {
                    " until the deadline"
                }
            ),
        ];
        sc
    }

    fn file_of(&self, case: &Case) -> Option<String> {
        self.case_files()
            .into_iter()
            .find(|f| std::ptr::eq(f.case, case))
            .map(|f| f.name)
    }

    /// One case: where it is, the command that shows it, its scenario.
    /// With `out`, the files as written there and the scratch trees; in
    /// a mail (`None`), the file's name and the reader's own tree.
    fn case_text(&self, s: &mut String, case: &Case, out: Option<&str>, sides: &[Side]) {
        let Some(file) = self.file_of(case) else {
            return;
        };
        let until = if case.minimal {
            ""
        } else {
            " (until the deadline)"
        };
        match out {
            Some(out) => {
                let _ = writeln!(s, "  minimized{until}: {out}/{file}");
                for side in sides {
                    let _ = writeln!(s, "  efimap run {out}/{file} --tree {out}/{}", side.name());
                }
            }
            None => {
                let _ = writeln!(s, "  minimized{until}, as {file}:");
                for side in sides {
                    let _ = writeln!(
                        s,
                        "  efimap run {file} --tree .    (in a tree {} the patch)",
                        if *side == Side::After {
                            "with"
                        } else {
                            "without"
                        }
                    );
                }
            }
        }
        for l in case.scenario.to_text().lines() {
            if l.starts_with("eras ") || l.starts_with('#') {
                continue;
            }
            let _ = writeln!(s, "    | {l}");
        }
    }

    /// The body shared by the terminal text and the mail: the run, each
    /// change, the lines, the verdict.
    fn body(&self, out: Option<&str>) -> String {
        let r = &self.run;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "tree {}, paired with {}; the series changes {}",
            self.version,
            self.era,
            if self.built.is_empty() {
                "no file the engine builds".to_string()
            } else {
                self.built.join(", ")
            }
        );
        if !self.other.is_empty() {
            let _ = writeln!(
                s,
                "  and files the engine does not build: {}",
                self.other.join(", ")
            );
        }
        let _ = writeln!(
            s,
            "scenarios: {} corpus, {} exhaustive, {} random, each on the tree before and after the patch",
            count(r.corpus),
            count(r.exhaustive),
            count(r.random),
        );
        let _ = writeln!(
            s,
            "outcomes changed on {}, {} of them on well-formed input with no finding on either tree",
            plural(r.changed, "scenario", "scenarios"),
            count(r.changed_clean)
        );
        for c in r.changes() {
            s.push('\n');
            let sig = c.signature;
            let safety = if sig.class.is_memory_safety() {
                " (memory safety)"
            } else {
                ""
            };
            let label = match c.kind() {
                ChangeKind::New => "NEW FINDING",
                ChangeKind::Fixed => "FIXED",
                ChangeKind::Changed => "CHANGED",
            };
            let mut parts = Vec::new();
            if c.gained > 0 {
                let known = match c.gained_known {
                    0 => String::new(),
                    n if n == c.gained => " (each known in the fixed code)".to_string(),
                    n => format!(" ({} of them known in the fixed code)", count(n)),
                };
                parts.push(format!(
                    "shows on {} after the patch that did not show it before{known}",
                    plural(c.gained, "scenario", "scenarios")
                ));
            }
            if c.lost > 0 {
                parts.push(format!(
                    "gone from {} that showed it before",
                    plural(c.lost, "scenario", "scenarios")
                ));
            }
            let _ = writeln!(
                s,
                "{label} {sig}{safety}: {} (before the patch on {}, after on {})",
                parts.join("; "),
                count(c.before),
                count(c.after)
            );
            for (case, side) in [(&c.gained_case, Side::After), (&c.lost_case, Side::Before)] {
                if let Some(case) = case {
                    if !case.what.is_empty() {
                        let _ = writeln!(s, "  {} the patch: {}", side.name(), case.what);
                    }
                    self.case_text(&mut s, case, out, &[side]);
                }
            }
        }
        for b in r.behaviour.values() {
            s.push('\n');
            let _ = writeln!(
                s,
                "BEHAVIOUR {}: on {} of well-formed input with no finding on either tree, the outcomes differ first in {}",
                b.signature,
                plural(b.count, "scenario", "scenarios"),
                b.signature.function
            );
            let d = &b.divergence;
            let _ = writeln!(s, "  first difference: {}", d.field);
            let _ = writeln!(s, "  before: {}", short(&d.model, 160));
            let _ = writeln!(s, "  after:  {}", short(&d.tree, 160));
            self.case_text(&mut s, &b.case, out, &[Side::Before, Side::After]);
        }
        s.push('\n');
        match &self.touched {
            None => {
                let _ = writeln!(s, "lines changed: not measured (no gcov build)");
            }
            Some(t) if t.is_empty() => {
                let _ = writeln!(s, "lines changed: none in a file the engine builds");
            }
            Some(t) => {
                let _ = writeln!(
                    s,
                    "lines changed, and how often the scenarios ran them (gcov):"
                );
                for t in t {
                    let (code, ran) = t.code();
                    let name = t.function.as_deref().unwrap_or("outside any function");
                    let what = if code == 0 {
                        "no line with code".to_string()
                    } else {
                        format!("{ran} of {code} lines with code ran")
                    };
                    let _ = writeln!(s, "  {} {name}: {what}", t.file);
                    for (side, lines) in [(Side::Before, &t.removed), (Side::After, &t.added)] {
                        if lines.is_empty() {
                            continue;
                        }
                        let list: Vec<String> = lines
                            .iter()
                            .map(|(l, c)| match c {
                                Some(c) => format!("{l} ({}x)", count(*c)),
                                None => format!("{l} (-)"),
                            })
                            .collect();
                        let _ = writeln!(
                            s,
                            "    {} lines {}: {}",
                            if side == Side::Before {
                                "removed"
                            } else {
                                "added"
                            },
                            side.name(),
                            list.join(", ")
                        );
                    }
                }
            }
        }
        s.push('\n');
        s.push_str(&self.verdict());
        s.push('\n');
        s
    }

    /// Whether the verdict is that the series adds a finding (what `efimap
    /// review` exits 1 on): a memory-safety one, or another while it
    /// fixes no memory-safety one.
    pub fn adds_findings(&self) -> bool {
        let changes = self.run.changes();
        // A gain no known cause explains: what the fixed code is known to
        // do, brought back on a scenario, adds nothing new.
        let any = |gained: bool, safety: bool| {
            changes.iter().any(|c| {
                (if gained {
                    c.gained - c.gained_known
                } else {
                    c.lost
                }) > 0
                    && c.signature.class.is_memory_safety() == safety
            })
        };
        any(true, true) || (!any(false, true) && any(true, false))
    }

    /// The closing line: memory safety first, added before fixed.
    pub fn verdict(&self) -> String {
        let changes = self.run.changes();
        let named = |gained: bool| -> Vec<(bool, String)> {
            let mut v: Vec<(bool, String)> = changes
                .iter()
                .filter_map(|c| {
                    let n = if gained {
                        c.gained - c.gained_known
                    } else {
                        c.lost
                    };
                    (n > 0).then(|| {
                        (
                            c.signature.class.is_memory_safety(),
                            format!("{} ({})", c.signature, plural(n, "scenario", "scenarios")),
                        )
                    })
                })
                .collect();
            v.sort_by_key(|(safety, _)| !safety);
            v
        };
        let (gained, lost) = (named(true), named(false));
        let list = |v: &[(bool, String)]| {
            v.iter()
                .map(|(_, s)| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let what = |v: &[(bool, String)]| match (v.len(), v.first().is_some_and(|x| x.0)) {
            (1, true) => "a memory-safety bug",
            (1, false) => "a finding",
            (_, true) => "findings, memory safety first",
            (_, false) => "findings",
        };
        let n = count(self.run.checked());
        let adds = !gained.is_empty() && self.adds_findings();
        if adds || (!lost.is_empty()) {
            let (head, head_verb, rest, rest_verb) = if adds {
                (&gained, "adds", &lost, "fixes")
            } else {
                (&lost, "fixes", &gained, "adds")
            };
            let also = if rest.is_empty() {
                if adds {
                    String::new()
                } else {
                    " and adds no finding".to_string()
                }
            } else {
                format!("; it also {rest_verb} {}", list(rest))
            };
            return format!(
                "verdict: the patch {head_verb} {}: {}{also}",
                what(head),
                list(head)
            );
        }
        if self.run.changed_clean > 0 {
            return format!(
                "verdict: the patch changes behaviour on {} of {n} scenarios (well-formed, no finding either side) and adds or fixes no finding",
                count(self.run.changed_clean)
            );
        }
        if self.run.changed > 0 {
            return format!(
                "verdict: the patch changes outcomes on {} of {n} scenarios, each with the same findings before and after, and adds or fixes no finding",
                count(self.run.changed)
            );
        }
        match &self.touched {
            Some(t) => {
                let (code, ran) = t.iter().fold((0, 0), |(a, b), t| {
                    let (c, r) = t.code();
                    (a + c, b + r)
                });
                if code == 0 {
                    format!("verdict: no change: the patch changes no line with code, and the {n} scenarios behave the same before and after it")
                } else if ran == code {
                    format!("verdict: no change: the {n} scenarios behave the same before and after the patch, and they ran all {code} changed lines with code")
                } else {
                    format!("verdict: no change found on {n} scenarios, but they ran only {ran} of the {code} changed lines with code: the rest is untested here")
                }
            }
            None => format!(
                "verdict: no change: the {n} scenarios behave the same before and after the patch"
            ),
        }
    }

    /// For a terminal: a heading naming the series, then the body.
    pub fn text(&self, out: &str) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "efimap review: {}",
            match self.subjects.as_slice() {
                [] => "a patch".to_string(),
                [one] => one.clone(),
                many => format!(
                    "{} patches, {} to {}",
                    many.len(),
                    many[0],
                    many[many.len() - 1]
                ),
            }
        );
        s.push_str(&self.body(Some(out)));
        s
    }

    /// As a reply to `patch` (the series' last, or its only one): mail
    /// headers that thread it, the patch's hunks where the first new (or
    /// fixed) finding's function is changed quoted, then the body.
    pub fn mail(&self, series: &Series) -> String {
        let patch: Option<&Patch> = series.patches.last();
        let mut s = String::new();
        if let Some(p) = patch {
            let subject = if p.subject.is_empty() {
                "efimap review".to_string()
            } else if p.subject.starts_with("Re: ") {
                p.subject.clone()
            } else {
                format!("Re: {}", p.subject)
            };
            let _ = writeln!(s, "Subject: {subject}");
            if !p.message_id.is_empty() {
                let _ = writeln!(s, "In-Reply-To: {}", p.message_id);
                let _ = writeln!(s, "References: {}", p.message_id);
            }
            s.push('\n');
            if !p.from.is_empty() {
                let when = if p.date.is_empty() {
                    String::new()
                } else {
                    format!("On {}, ", p.date)
                };
                let _ = writeln!(s, "{when}{} wrote:", p.from);
            }
            let focus = self
                .run
                .changes()
                .first()
                .map(|c| c.signature.function)
                .or_else(|| {
                    self.run
                        .behaviour
                        .values()
                        .next()
                        .map(|b| b.signature.function)
                });
            let mut quoted = false;
            for fp in series.patches.iter().flat_map(|p| &p.files) {
                for h in &fp.hunks {
                    let hit = focus.is_some_and(|f| {
                        h.context.contains(f)
                            || h.lines.iter().any(|l| match l {
                                HunkLine::Context(t)
                                | HunkLine::Removed(t)
                                | HunkLine::Added(t) => t.contains(f),
                            })
                    });
                    if !hit && (quoted || focus.is_some()) {
                        continue;
                    }
                    quoted = true;
                    let _ = writeln!(s, "> --- a/{}", fp.old.as_deref().unwrap_or("/dev/null"));
                    let _ = writeln!(s, "> +++ b/{}", fp.new.as_deref().unwrap_or("/dev/null"));
                    let _ = writeln!(s, "> {} {}", h.header(), h.context);
                    for l in &h.lines {
                        let (m, t) = match l {
                            HunkLine::Context(t) => (' ', t),
                            HunkLine::Removed(t) => ('-', t),
                            HunkLine::Added(t) => ('+', t),
                        };
                        let _ = writeln!(s, "> {m}{t}");
                    }
                }
            }
            s.push('\n');
        }
        let _ = writeln!(
            s,
            "efimap ran the tree's EFI memory-map code before and after this {} in userspace:",
            if series.patches.len() > 1 {
                "series"
            } else {
                "patch"
            }
        );
        s.push('\n');
        s.push_str(&self.body(None));
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::coverage::FileCounts;

    /// A changed declaration is a line without code even where gcov (gcc
    /// at -O2) counts the function's entries on it; a changed statement
    /// keeps its count.
    #[test]
    fn a_changed_declaration_is_not_code_that_ran() {
        let old = "void f(int x)\n{\n\tstruct efi_mem_range mr;\n\tint n;\n\tn = x;\n}\n";
        let new = "void f(int x)\n{\n\tstruct efi_mem_range mr; /* range */\n\tlong n;\n\tn = x + 1;\n}\n";
        let mut counts = LineCounts::default();
        counts.files.insert(
            "f.c".into(),
            FileCounts {
                lines: [(1, 7821), (3, 7821), (4, 7821), (5, 7821)].into(),
                functions: vec![("f".into(), 1, 6)],
                ..FileCounts::default()
            },
        );
        let files = [("f.c".to_string(), old.to_string(), new.to_string())];
        let t = touched(&files, &counts, &counts);
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].removed, vec![(3, None), (4, None), (5, Some(7821))]);
        assert_eq!(t[0].added, vec![(3, None), (4, None), (5, Some(7821))]);
        assert_eq!(t[0].code(), (2, 2));
    }

    #[test]
    fn declarations_are_told_from_statements() {
        for d in [
            "\tstruct efi_mem_range mr;",
            "\tint num_entries;\n",
            "\tvoid *new;",
            "\tu64 a, b[4]; // two",
            "\tunsigned long /* flags */ flags;",
            "static int count;",
        ] {
            assert!(only_declares(d), "{d:?}");
        }
        for s in [
            "\tstruct efi_memory_map_data data = { 0 };",
            "\tn = x;",
            "\ti++;",
            "\treturn ret;",
            "\tgoto out;",
            "\tfoo(a, b);",
            "\tbreak;",
            "\ta, b;",
            "\t/* int n; */",
            "",
        ] {
            assert!(!only_declares(s), "{s:?}");
        }
    }
}
