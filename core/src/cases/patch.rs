//! Kernel patches as they reach a reviewer: a unified diff (`diff -u`,
//! `git diff`), a `git format-patch` file, or an mbox of a series. Parsed
//! into [`Patch`]es of [`FilePatch`]es of [`Hunk`]s, each remembering the
//! patch-file line it came from, and applied to file texts exactly as
//! `patch` applies a hunk without fuzz: its old lines must all be there,
//! at the line it names or the nearest place above or below.

use crate::cases::corpus::InputFileError;
use std::path::Path;

/// One patch of a series: its mail headers (when it came as a mail) and
/// the files it changes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Patch {
    /// `Subject:` with its `[PATCH n/m]` tag, folded lines joined.
    pub subject: String,
    pub from: String,
    pub date: String,
    pub message_id: String,
    /// `base-commit:` of `git format-patch --base`, if given.
    pub base_commit: Option<String>,
    pub files: Vec<FilePatch>,
    /// The patch file's line where this patch starts (1-based).
    pub line: usize,
}

/// The changes to one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilePatch {
    /// Paths as the diff gives them, prefix stripped (`a/`, `b/`, or the
    /// directories of `diff -u OLD NEW`; see [`Series::resolve`]); `None`
    /// for `/dev/null` (a new or a deleted file).
    pub old: Option<String>,
    pub new: Option<String>,
    pub hunks: Vec<Hunk>,
    /// The line of its `---` header.
    pub line: usize,
}

impl FilePatch {
    /// The path in the tree: the new one, or the old for a deletion.
    pub fn path(&self) -> &str {
        self.new.as_deref().or(self.old.as_deref()).unwrap_or("")
    }
}

/// One `@@ -a,b +c,d @@ context` hunk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hunk {
    pub old_start: usize,
    pub old_len: usize,
    pub new_start: usize,
    pub new_len: usize,
    /// What follows the second `@@`: diff's guess at the enclosing
    /// function.
    pub context: String,
    pub lines: Vec<HunkLine>,
    /// The line of its `@@` header.
    pub line: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HunkLine {
    Context(String),
    Removed(String),
    Added(String),
}

impl Hunk {
    /// `@@ -a,b +c,d @@`.
    pub fn header(&self) -> String {
        format!(
            "@@ -{},{} +{},{} @@",
            self.old_start, self.old_len, self.new_start, self.new_len
        )
    }

    /// The lines of one side: context and removed (`after` false) or
    /// context and added.
    fn side(&self, after: bool) -> Vec<&str> {
        self.lines
            .iter()
            .filter_map(|l| match l {
                HunkLine::Context(t) => Some(t.as_str()),
                HunkLine::Removed(t) => (!after).then_some(t.as_str()),
                HunkLine::Added(t) => after.then_some(t.as_str()),
            })
            .collect()
    }

    /// Whether the hunk changes only comments and blank space: every line
    /// it adds or removes is blank or lies inside a C comment, judged on
    /// its own text and the hunk's lines before it.
    pub fn comments_only(&self) -> bool {
        let mut in_comment = false;
        for l in &self.lines {
            let (text, changed) = match l {
                HunkLine::Context(t) => (t, false),
                HunkLine::Removed(t) | HunkLine::Added(t) => (t, true),
            };
            let (code, after) = split_comment(text, in_comment);
            if changed && !code.trim().is_empty() {
                return false;
            }
            // A context line's comment state is the same on both sides;
            // an added or removed one only moves it on its own side, and
            // a comment-only hunk keeps both sides alike anyway.
            in_comment = after;
        }
        true
    }
}

/// The code of `line` outside C comments, and whether a comment is open
/// at its end, given whether one was open at its start.
fn split_comment(line: &str, mut open: bool) -> (String, bool) {
    let mut code = String::new();
    let b = line.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if open {
            if b[i..].starts_with(b"*/") {
                open = false;
                i += 2;
            } else {
                i += 1;
            }
        } else if b[i..].starts_with(b"/*") {
            open = true;
            i += 2;
        } else if b[i..].starts_with(b"//") {
            break;
        } else {
            code.push(b[i] as char);
            i += 1;
        }
    }
    (code, open)
}

/// A patch file's patches, in the order they apply.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Series {
    pub patches: Vec<Patch>,
}

/// The `[PATCH n/m]` number of a subject, if it has one.
fn series_number(subject: &str) -> Option<(u32, u32)> {
    let open = subject.find('[')?;
    let close = subject[open..].find(']')? + open;
    let tag = &subject[open + 1..close];
    let nm = tag.split_whitespace().find(|w| w.contains('/'))?;
    let (n, m) = nm.split_once('/')?;
    Some((n.parse().ok()?, m.parse().ok()?))
}

/// Strips a diff header's path: the timestamp `diff -u` puts after a tab,
/// and `/dev/null` as `None`.
fn header_path(rest: &str) -> Option<String> {
    let p = rest.split('\t').next().unwrap_or("").trim_end();
    let p = p
        .strip_prefix('"')
        .and_then(|p| p.strip_suffix('"'))
        .unwrap_or(p);
    (p != "/dev/null").then(|| p.to_string())
}

/// Whether `p`, joined to a folder, names a file below that folder and
/// nothing else: relative, every component a plain name (no `..`, `.`,
/// empty or root component), no NUL.
pub fn confined(p: &str) -> bool {
    !p.is_empty()
        && !p.contains('\0')
        && Path::new(p)
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)))
        && !p.split('/').any(|c| c == "..")
}

/// Why a header's path could reach outside the tree it is applied in, if
/// it could: an absolute path, a `..` component, an empty name or a NUL.
/// A patch names files below its tree (`a/drivers/...`), nothing else.
fn outside_the_tree(p: &str) -> Option<String> {
    if p.is_empty() {
        Some("expected a file's path after `--- ` or `+++ `, found none".into())
    } else if p.starts_with('/') {
        Some(format!(
            "expected a path inside the tree (`a/...`, `b/...` or /dev/null), found the absolute path `{p}`"
        ))
    } else if p.split('/').any(|c| c == "..") {
        Some(format!(
            "expected a path inside the tree, found `{p}`, whose `..` leads out of it"
        ))
    } else if p.contains('\0') {
        Some("expected a path inside the tree, found a NUL in it".into())
    } else if !confined(p) {
        Some(format!(
            "expected a path of plain names inside the tree, found `{p}`"
        ))
    } else {
        None
    }
}

/// `@@ -a[,b] +c[,d] @@ context` as numbers.
fn hunk_header(l: &str) -> Option<(usize, usize, usize, usize, String)> {
    let rest = l.strip_prefix("@@ -")?;
    let (ranges, context) = rest.split_once(" @@")?;
    let (old, new) = ranges.split_once(" +")?;
    let range = |r: &str| -> Option<(usize, usize)> {
        match r.split_once(',') {
            Some((a, b)) => Some((a.parse().ok()?, b.parse().ok()?)),
            None => Some((r.parse().ok()?, 1)),
        }
    };
    let (a, b) = range(old)?;
    let (c, d) = range(new)?;
    Some((a, b, c, d, context.trim().to_string()))
}

/// The hunk whose header is line `i` (0-based) of `lines`, and the
/// index of the line after it: its body read as its header counts it,
/// with a `\ No newline at end of file` after its last line.
fn hunk_at(path: &Path, lines: &[&str], i: usize) -> Result<(Hunk, usize), InputFileError> {
    let err = |line: usize, col: usize, message: String| InputFileError {
        path: path.to_path_buf(),
        line,
        col,
        message,
    };
    let mut i = i;
    let h = lines[i];
    let hn = i + 1;
    let (a, b, c, d, context) = hunk_header(h).ok_or_else(|| {
        err(
            hn,
            1,
            format!("expected a hunk header `@@ -A,B +C,D @@`, found `{h}`"),
        )
    })?;
    let mut hunk = Hunk {
        old_start: a,
        old_len: b,
        new_start: c,
        new_len: d,
        context,
        lines: Vec::new(),
        line: hn,
    };
    i += 1;
    let (mut old_seen, mut new_seen) = (0, 0);
    while old_seen < b || new_seen < d {
        let Some(&body) = lines.get(i) else {
            return Err(err(
                i + 1,
                1,
                format!(
                    "hunk {} ends early: the patch ends with {} of its {b} old and {} of its {d} new lines",
                    hunk.header(),
                    old_seen,
                    new_seen
                ),
            ));
        };
        let (mark, rest) = body.split_at(body.chars().next().map_or(0, char::len_utf8));
        match mark {
            " " | "" => {
                hunk.lines.push(HunkLine::Context(rest.to_string()));
                old_seen += 1;
                new_seen += 1;
            }
            "-" => {
                hunk.lines.push(HunkLine::Removed(rest.to_string()));
                old_seen += 1;
            }
            "+" => {
                hunk.lines.push(HunkLine::Added(rest.to_string()));
                new_seen += 1;
            }
            "\\" => {}
            _ => {
                return Err(err(
                    i + 1,
                    1,
                    format!(
                        "hunk {} (line {}): expected a line starting with ' ', '-' or '+', found `{body}`",
                        hunk.header(),
                        hunk.line
                    ),
                ))
            }
        }
        if old_seen > b || new_seen > d {
            return Err(err(
                i + 1,
                1,
                format!(
                    "hunk {} (line {}) has more lines than its header counts",
                    hunk.header(),
                    hunk.line
                ),
            ));
        }
        i += 1;
    }
    // `\ No newline at end of file` after the last line.
    if lines.get(i).is_some_and(|l| l.starts_with('\\')) {
        i += 1;
    }
    Ok((hunk, i))
}

impl Series {
    /// Parses `text` (read from `path`, which errors name).
    pub fn parse(path: &Path, text: &str) -> Result<Series, InputFileError> {
        let err = |line: usize, col: usize, message: String| InputFileError {
            path: path.to_path_buf(),
            line,
            col,
            message,
        };
        let mut lines: Vec<&str> = text
            .split('\n')
            .map(|l| l.strip_suffix('\r').unwrap_or(l))
            .collect();
        // The text's last newline ends its last line; it starts none.
        if lines.last() == Some(&"") {
            lines.pop();
        }
        let mut patches: Vec<Patch> = Vec::new();
        let mut cur = Patch {
            line: 1,
            ..Patch::default()
        };
        let mut in_headers = false;
        let mut last_header: Option<&'static str> = None;
        let mut i = 0;
        // A message starts with an mbox `From ` line, or at the file's
        // start when it begins with mail headers.
        let is_header = |l: &str| {
            ["From:", "Subject:", "Date:", "Message-ID:", "Message-Id:"]
                .iter()
                .any(|h| l.starts_with(h))
        };
        if lines.first().is_some_and(|l| is_header(l)) {
            in_headers = true;
        }
        while i < lines.len() {
            let l = lines[i];
            let n = i + 1;
            if l.starts_with("From ") && !l.starts_with("From: ") {
                if !cur.files.is_empty() || !cur.subject.is_empty() {
                    patches.push(std::mem::take(&mut cur));
                }
                cur.line = n;
                in_headers = true;
                last_header = None;
                i += 1;
                continue;
            }
            if in_headers {
                if l.is_empty() {
                    in_headers = false;
                } else if l.starts_with(' ') || l.starts_with('\t') {
                    if last_header == Some("subject") {
                        cur.subject.push(' ');
                        cur.subject.push_str(l.trim());
                    }
                } else {
                    let (name, value) = l.split_once(':').unwrap_or((l, ""));
                    let value = value.trim().to_string();
                    last_header = None;
                    match name.to_ascii_lowercase().as_str() {
                        "subject" => {
                            cur.subject = value;
                            last_header = Some("subject");
                        }
                        "from" => cur.from = value,
                        "date" => cur.date = value,
                        "message-id" => cur.message_id = value,
                        _ => {}
                    }
                }
                i += 1;
                continue;
            }
            if let Some(base) = l.strip_prefix("base-commit: ") {
                cur.base_commit = Some(base.trim().to_string());
                i += 1;
                continue;
            }
            // A file's headers: `--- OLD` then `+++ NEW` then a hunk.
            if let (Some(old), Some(new)) = (
                l.strip_prefix("--- "),
                lines.get(i + 1).and_then(|m| m.strip_prefix("+++ ")),
            ) {
                if !lines.get(i + 2).is_some_and(|h| h.starts_with("@@ ")) {
                    return Err(err(
                        n + 2,
                        1,
                        "expected a hunk header `@@ -A,B +C,D @@` after the `---`/`+++` lines"
                            .into(),
                    ));
                }
                // A path from the patch names a file of the scratch tree
                // and nothing else: refused before anything is read or
                // written.
                for (k, p) in [old, new].iter().enumerate() {
                    if let Some(why) = header_path(p).as_deref().and_then(outside_the_tree) {
                        return Err(err(n + k, 5, why));
                    }
                }
                let mut fp = FilePatch {
                    old: header_path(old),
                    new: header_path(new),
                    hunks: Vec::new(),
                    line: n,
                };
                i += 2;
                while lines.get(i).is_some_and(|h| h.starts_with("@@ ")) {
                    let (hunk, next) = hunk_at(path, &lines, i)?;
                    fp.hunks.push(hunk);
                    i = next;
                }
                cur.files.push(fp);
                continue;
            }
            if l.starts_with("GIT binary patch") || l.starts_with("Binary files ") {
                return Err(err(n, 1, "a binary patch: expected a text diff".into()));
            }
            i += 1;
        }
        if !cur.files.is_empty() || !cur.subject.is_empty() {
            patches.push(cur);
        }
        // A cover letter (`[PATCH 0/m]`) changes nothing: it is left out.
        patches.retain(|p| !p.files.is_empty());
        if patches.is_empty() {
            return Err(err(
                0,
                0,
                "expected a unified diff: `--- OLD`, `+++ NEW` and `@@ -A,B +C,D @@` lines, found none"
                    .into(),
            ));
        }
        // An mbox of a series applies in the order of its numbers.
        if patches.iter().all(|p| series_number(&p.subject).is_some()) {
            patches.sort_by_key(|p| series_number(&p.subject));
        }
        // base-commit: is written once, at the end of the series.
        let base = patches.iter().find_map(|p| p.base_commit.clone());
        for p in &mut patches {
            if p.base_commit.is_none() {
                p.base_commit.clone_from(&base);
            }
        }
        Ok(Series { patches })
    }

    /// Strips the paths' leading directories as `patch -pN` does, with
    /// the N that makes every old path of the series one that `exists`
    /// (0 to 3; git's `a/`, `b/` prefixes are one): new files follow.
    pub fn resolve(&mut self, exists: impl Fn(&str) -> bool) -> Result<(), String> {
        let strip = |p: &str, n: usize| -> Option<String> {
            let mut rest = p;
            for _ in 0..n {
                rest = rest.split_once('/')?.1;
            }
            Some(rest.to_string())
        };
        let olds: Vec<String> = self
            .patches
            .iter()
            .flat_map(|p| &p.files)
            .filter_map(|f| f.old.clone())
            .collect();
        let n = (0..=3)
            .find(|&n| olds.iter().all(|p| strip(p, n).is_some_and(|s| exists(&s))))
            .ok_or_else(|| {
                let first = olds.first().map_or("", String::as_str);
                format!(
                    "{first}: no such file in the tree (with 0 to 3 leading directories stripped)"
                )
            })?;
        for f in self.patches.iter_mut().flat_map(|p| &mut p.files) {
            f.old = f.old.as_deref().and_then(|p| strip(p, n));
            // A new file: the same strip, or git's one when there are no
            // old paths to learn it from.
            let nn = if olds.is_empty() { 1 } else { n };
            f.new = f
                .new
                .as_deref()
                .and_then(|p| strip(p, nn).or(Some(p.to_string())));
        }
        Ok(())
    }

    /// Every path the series touches, in first-touched order.
    pub fn paths(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for f in self.patches.iter().flat_map(|p| &p.files) {
            for p in [&f.old, &f.new].into_iter().flatten() {
                if !out.contains(p) {
                    out.push(p.clone());
                }
            }
        }
        out
    }

    /// Whether every hunk of the series changes only comments and blank
    /// space.
    pub fn comments_only(&self) -> bool {
        self.patches
            .iter()
            .flat_map(|p| &p.files)
            .flat_map(|f| &f.hunks)
            .all(Hunk::comments_only)
    }
}

/// Why a hunk does not apply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejected {
    /// 1-based index among the file patch's hunks.
    pub hunk: usize,
    pub header: String,
    /// The patch file's line of the hunk.
    pub line: usize,
    /// The file's line the hunk names, and what it holds there against
    /// what the hunk expects (the first line that differs).
    pub at: usize,
    pub expected: String,
    pub found: Option<String>,
}

/// Applies `fp` to `text` (`None`: the file does not exist). Returns the
/// new text (`None`: deleted).
pub fn apply(fp: &FilePatch, text: Option<&str>) -> Result<Option<String>, Rejected> {
    let had_newline = text.is_none_or(|t| t.ends_with('\n') || t.is_empty());
    let mut lines: Vec<String> = match text {
        Some(t) => {
            let t = t.strip_suffix('\n').unwrap_or(t);
            if t.is_empty() {
                Vec::new()
            } else {
                t.split('\n').map(str::to_string).collect()
            }
        }
        None => Vec::new(),
    };
    // How far earlier hunks moved the lines below them.
    let mut shift: isize = 0;
    for (k, h) in fp.hunks.iter().enumerate() {
        let old = h.side(false);
        // `@@ -0,0` and `@@ -N,0` name the line after which to insert.
        let named = if h.old_len == 0 {
            h.old_start
        } else {
            h.old_start.saturating_sub(1)
        };
        let want = (named as isize + shift).max(0) as usize;
        let fits = |at: usize| {
            at + old.len() <= lines.len() && old.iter().zip(&lines[at..]).all(|(a, b)| a == b)
        };
        let found = (0..=lines.len()).find_map(|d| {
            [want.checked_sub(d), want.checked_add(d)]
                .into_iter()
                .flatten()
                .find(|&at| fits(at))
        });
        let Some(at) = found else {
            let first = old
                .iter()
                .enumerate()
                .find(|(j, l)| lines.get(want + j).map(String::as_str) != Some(**l));
            let (j, expected) = first.map_or((0, ""), |(j, l)| (j, *l));
            return Err(Rejected {
                hunk: k + 1,
                header: h.header(),
                line: h.line,
                at: want + j + 1,
                expected: expected.to_string(),
                found: lines.get(want + j).cloned(),
            });
        };
        let new: Vec<String> = h.side(true).into_iter().map(str::to_string).collect();
        shift += new.len() as isize - old.len() as isize + (at as isize - want as isize);
        lines.splice(at..at + old.len(), new);
    }
    if fp.new.is_none() {
        return Ok(None);
    }
    let mut out = lines.join("\n");
    if !lines.is_empty() && had_newline {
        out.push('\n');
    }
    Ok(Some(out))
}

/// The lines of the new file that `fp` added (1-based, in the patched
/// file), and for a hunk that only removes, the line that now stands
/// where the removed ones were.
pub fn changed_lines(fp: &FilePatch) -> Vec<usize> {
    let mut out = Vec::new();
    for h in &fp.hunks {
        let mut n = h.new_start.max(1);
        let mut pending_removal = false;
        for l in &h.lines {
            match l {
                HunkLine::Context(_) => {
                    if pending_removal {
                        out.push(n);
                        pending_removal = false;
                    }
                    n += 1;
                }
                HunkLine::Added(_) => {
                    out.push(n);
                    pending_removal = false;
                    n += 1;
                }
                HunkLine::Removed(_) => pending_removal = true,
            }
        }
        if pending_removal {
            out.push(n);
        }
    }
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO: &str = "From 1111 Mon Sep 17 00:00:00 2001
From: A Developer <a@example.org>
Date: Tue, 1 Dec 2026 10:00:00 +0000
Subject: [PATCH 2/2] second
Message-ID: <2@example.org>

Body.
---
 f.c | 2 +-

diff --git a/dir/f.c b/dir/f.c
--- a/dir/f.c
+++ b/dir/f.c
@@ -2,3 +2,3 @@ int g(void)
 b
-c2
+c3
 d
-- 
2.39.2

From 0000 Mon Sep 17 00:00:00 2001
From: A Developer <a@example.org>
Subject: [PATCH 1/2] first,
 folded
Message-ID: <1@example.org>

---
--- a/dir/f.c
+++ b/dir/f.c
@@ -2,3 +2,3 @@
 b
-c
+c2
 d
-- 
2.39.2

base-commit: abc123
";

    fn parse(t: &str) -> Series {
        Series::parse(Path::new("p.mbox"), t).unwrap()
    }

    #[test]
    fn an_mbox_series_in_its_numbers_order() {
        let mut s = parse(TWO);
        assert_eq!(s.patches.len(), 2);
        assert_eq!(s.patches[0].subject, "[PATCH 1/2] first, folded");
        assert_eq!(s.patches[0].message_id, "<1@example.org>");
        assert_eq!(s.patches[1].subject, "[PATCH 2/2] second");
        assert_eq!(s.patches[1].from, "A Developer <a@example.org>");
        assert_eq!(s.patches[1].base_commit.as_deref(), Some("abc123"));
        assert_eq!(s.patches[0].base_commit.as_deref(), Some("abc123"));
        let h = &s.patches[1].files[0].hunks[0];
        assert_eq!(
            (h.old_start, h.old_len, h.new_start, h.new_len),
            (2, 3, 2, 3)
        );
        assert_eq!(h.context, "int g(void)");
        assert_eq!(h.line, 14);
        s.resolve(|p| p == "dir/f.c").unwrap();
        assert_eq!(s.paths(), ["dir/f.c"]);
        let mut text = Some("a\nb\nc\nd\ne\n".to_string());
        for p in &s.patches {
            text = apply(&p.files[0], text.as_deref()).unwrap();
        }
        assert_eq!(text.as_deref(), Some("a\nb\nc3\nd\ne\n"));
    }

    /// `diff -u old/f new/f`: timestamps after a tab, one directory to
    /// strip; a hunk found 2 lines below the line it names.
    #[test]
    fn a_plain_diff_moved_by_an_offset() {
        let t = "--- old/f.c\t2026-12-01 10:00:00\n+++ new/f.c\t2026-12-01 10:00:01\n@@ -1,2 +1,3 @@\n x\n+y\n z\n";
        let mut s = parse(t);
        s.resolve(|p| p == "f.c").unwrap();
        let fp = &s.patches[0].files[0];
        assert_eq!(fp.old.as_deref(), Some("f.c"));
        assert_eq!(
            apply(fp, Some("0\n1\nx\nz\n")).unwrap().as_deref(),
            Some("0\n1\nx\ny\nz\n")
        );
        assert_eq!(changed_lines(fp), [2]);
    }

    #[test]
    fn a_hunk_that_does_not_apply_names_itself_and_the_line() {
        let s = parse("--- a/f\n+++ b/f\n@@ -2,2 +2,1 @@\n b\n-c\n");
        let r = apply(&s.patches[0].files[0], Some("a\nb\nX\n")).unwrap_err();
        assert_eq!(
            r,
            Rejected {
                hunk: 1,
                header: "@@ -2,2 +2,1 @@".into(),
                line: 3,
                at: 3,
                expected: "c".into(),
                found: Some("X".into()),
            }
        );
    }

    #[test]
    fn removals_mark_the_line_after_them() {
        let s = parse("--- a/f\n+++ b/f\n@@ -1,4 +1,2 @@\n a\n-b\n-c\n d\n");
        let fp = &s.patches[0].files[0];
        assert_eq!(changed_lines(fp), [2]);
        assert_eq!(
            apply(fp, Some("a\nb\nc\nd\n")).unwrap().as_deref(),
            Some("a\nd\n")
        );
    }

    #[test]
    fn new_and_deleted_files() {
        let mut s = parse("--- /dev/null\n+++ b/n.c\n@@ -0,0 +1,2 @@\n+x\n+y\n--- a/o.c\n+++ /dev/null\n@@ -1 +0,0 @@\n-z\n");
        s.resolve(|p| p == "o.c").unwrap();
        let f = &s.patches[0].files;
        assert_eq!(
            (f[0].old.as_deref(), f[0].new.as_deref()),
            (None, Some("n.c"))
        );
        assert_eq!(apply(&f[0], None).unwrap().as_deref(), Some("x\ny\n"));
        assert_eq!(apply(&f[1], Some("z\n")).unwrap(), None);
    }

    #[test]
    fn comment_only_hunks() {
        let only = parse(
            "--- a/f\n+++ b/f\n@@ -1,3 +1,6 @@\n int x;\n+/* one\n+ * two */\n y();\n+\n z();\n",
        );
        assert!(only.comments_only());
        let inside = parse("--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n /*\n- * old\n+ * new\n  */\n");
        assert!(inside.comments_only());
        let code = parse("--- a/f\n+++ b/f\n@@ -1,1 +1,1 @@\n-x = 1; /* c */\n+x = 2; /* c */\n");
        assert!(!code.comments_only());
    }

    /// A hunk line with no mark is an error at its line; one that starts
    /// with a character of several bytes too, not a panic (the
    /// parse_patch fuzz target found the reader slicing inside U+FFFD).
    #[test]
    fn malformed_patches_name_the_line() {
        for body in [" x\n?y\n", " \n\u{fffd}x\n+y\n"] {
            let text = format!("--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n{body}");
            let e = Series::parse(Path::new("p"), &text).unwrap_err();
            assert_eq!((e.line, e.col), (5, 1));
            assert!(
                e.message
                    .contains("expected a line starting with ' ', '-' or '+'"),
                "{}",
                e.message
            );
        }
        let e = Series::parse(Path::new("p"), "just words\n").unwrap_err();
        assert_eq!(e.to_string(), "p: expected a unified diff: `--- OLD`, `+++ NEW` and `@@ -A,B +C,D @@` lines, found none");
        let e =
            Series::parse(Path::new("p"), "--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n x\n").unwrap_err();
        assert_eq!(e.line, 5);
        assert!(
            e.message.starts_with("hunk @@ -1,3 +1,3 @@ ends early"),
            "{}",
            e.message
        );
    }

    /// A patch's paths stay inside the tree it is applied in: an absolute
    /// path or a `..` on either header line is refused where it stands,
    /// before anything is read or written (a hunk `+++ b/../../tmp/x`
    /// once created /tmp/x).
    #[test]
    fn a_patch_path_outside_the_tree_is_refused_at_its_line() {
        let refused = |t: &str| Series::parse(Path::new("p"), t).unwrap_err();
        let e = refused("--- /dev/null\n+++ b/../../../../tmp/x/evil.txt\n@@ -0,0 +1 @@\n+x\n");
        assert_eq!(
            e.to_string(),
            "p:2:5: expected a path inside the tree, found `b/../../../../tmp/x/evil.txt`, whose `..` leads out of it"
        );
        let e = refused("--- a/../outside.c\n+++ b/f.c\n@@ -1 +1 @@\n-x\n+y\n");
        assert_eq!((e.line, e.col), (1, 5));
        let e = refused("--- /etc/passwd\n+++ /etc/passwd\n@@ -1 +1 @@\n-x\n+y\n");
        assert_eq!(
            e.message,
            "expected a path inside the tree (`a/...`, `b/...` or /dev/null), found the absolute path `/etc/passwd`"
        );
        let e = refused("--- ./a/f.c\n+++ ./b/f.c\n@@ -1 +1 @@\n-x\n+y\n");
        assert_eq!(
            e.message,
            "expected a path of plain names inside the tree, found `./a/f.c`"
        );
        // A name with dots that is not `..` is a file of the tree.
        let s = parse("--- a/dir/..f.c\n+++ b/dir/..f.c\n@@ -1 +1 @@\n-x\n+y\n");
        assert_eq!(s.paths(), vec!["a/dir/..f.c", "b/dir/..f.c"]);
    }

    #[test]
    fn confined_paths_stay_below_their_folder() {
        for p in ["a/b.c", "drivers/firmware/efi/efi.c", "..f", "a/..b/c"] {
            assert!(confined(p), "{p}");
        }
        for p in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a/..",
            "./a",
            "a\0b",
        ] {
            assert!(!confined(p), "{p:?}");
        }
    }
}
