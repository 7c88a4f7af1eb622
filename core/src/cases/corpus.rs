//! The corpus on disk: loading scenario files with file:line:column
//! errors, writing files atomically, turning the corpus into cargo-fuzz
//! seeds, and replaying it against each file's expectations.

use crate::cases::codec::encode;
use crate::cases::scenario::Scenario;
use crate::judge::findings::check;
use crate::judge::signature::Signature;
use crate::model::era::Era;
use crate::model::print::memmap_lines;
use std::collections::BTreeSet;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Something wrong with a file the user gave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputFileError {
    pub path: PathBuf,
    /// 1-based; 0 when the error concerns the whole file.
    pub line: usize,
    pub col: usize,
    pub message: String,
}

impl fmt::Display for InputFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.path.display(), self.message)
        } else {
            write!(
                f,
                "{}:{}:{}: {}",
                self.path.display(),
                self.line,
                self.col,
                self.message
            )
        }
    }
}

impl std::error::Error for InputFileError {}

/// Reads and parses one scenario file: the text form, or the JSON form
/// for a `.json` file.
pub fn load(path: &Path) -> Result<Scenario, InputFileError> {
    let whole = |message: String| InputFileError {
        path: path.to_path_buf(),
        line: 0,
        col: 0,
        message,
    };
    let bytes = std::fs::read(path).map_err(|e| whole(format!("cannot read: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        // Where the first bad byte is, as line and column.
        let at = e.utf8_error().valid_up_to();
        let good = &e.as_bytes()[..at];
        let line = good.iter().filter(|&&b| b == b'\n').count() + 1;
        let col = at - good.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1) + 1;
        InputFileError {
            path: path.to_path_buf(),
            line,
            col,
            message: format!(
                "expected UTF-8 text, found the byte {:#04x}",
                e.as_bytes()[at]
            ),
        }
    })?;
    let json = path.extension().is_some_and(|x| x == "json");
    let parsed = if json {
        Scenario::from_json(&text)
    } else {
        Scenario::parse(&text)
    };
    let sc = parsed.map_err(|e| InputFileError {
        path: path.to_path_buf(),
        line: e.line,
        col: e.col,
        message: format!("expected {}, found {}", e.expected, e.found),
    })?;
    if let Err(e) = sc.expectations() {
        // The header is the file's leading comment lines, in order.
        let (line, col) = text
            .lines()
            .enumerate()
            .filter(|(_, l)| l.trim_start().starts_with('#'))
            .nth(e.index)
            .map_or((0, 0), |(n, l)| {
                (n + 1, l.find(&e.word).map_or(1, |c| c + 1))
            });
        return Err(InputFileError {
            path: path.to_path_buf(),
            line,
            col,
            message: format!("in an `expect` line: {}", e.why),
        });
    }
    Ok(sc)
}

/// The `.scn` files of a folder, sorted by name.
pub fn scenario_files(dir: &Path) -> Result<Vec<PathBuf>, InputFileError> {
    let entries = std::fs::read_dir(dir).map_err(|e| InputFileError {
        path: dir.to_path_buf(),
        line: 0,
        col: 0,
        message: format!("cannot read the folder: {e}"),
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "scn" || x == "json"))
        .collect();
    files.sort();
    Ok(files)
}

/// Whether `path` can take a command's output, before anything is
/// written: its folder exists (a folder that is not there is the caller's
/// mistake, a typo in -o, not something to create), and whatever is at
/// the path is a regular file: a rename over a symlink, a device node or
/// a FIFO would destroy it (and a FIFO's reader would wait on).
pub fn replaceable(path: &Path) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !dir.is_dir() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("no folder {}", dir.display()),
        ));
    }
    if let Ok(m) = std::fs::symlink_metadata(path) {
        if !m.file_type().is_file() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!(
                    "it is {}, not a regular file (efimap writes a new file or replaces a regular one)",
                    file_kind(&m.file_type())
                ),
            ));
        }
    }
    Ok(())
}

/// Writes `bytes` to `path` so that the file appears whole or not at all:
/// a temporary file in the same folder, then a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    replaceable(path)?;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// What a file that is not a regular one is, in words.
pub fn file_kind(t: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if t.is_dir() {
        "a folder"
    } else if t.is_symlink() {
        "a symbolic link"
    } else if t.is_block_device() || t.is_char_device() {
        "a device"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_socket() {
        "a socket"
    } else {
        "a regular file"
    }
}

/// Whether `a` and `b` are the same file (the same device and inode),
/// whatever names, links or `..` lead to them: an output that is one of
/// a command's inputs would destroy it.
pub fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => false,
    }
}

/// The fuzz targets a scenario seeds, and the bytes it seeds each with.
pub fn seed_inputs(sc: &Scenario) -> Vec<(&'static str, Vec<u8>)> {
    let dmesg = memmap_lines(&sc.input.map, Era::V5_5.features().printer).join("\n");
    vec![
        ("boot_flow", encode(sc)),
        ("fake_mem", encode(sc)),
        ("diff_tree", encode(sc)),
        ("parse_scenario", sc.to_text().into_bytes()),
        ("parse_cmdline", sc.input.cmdline.clone().into_bytes()),
        ("parse_dmesg", dmesg.into_bytes()),
        // The patch reader's seed: one well-formed hunk whose context is
        // the scenario's command line (the same for every scenario that
        // has none, which the seeds' content names merge).
        (
            "parse_patch",
            format!(
                "--- a/drivers/firmware/efi/efi.c\n+++ b/drivers/firmware/efi/efi.c\n@@ -1,2 +1,2 @@\n {}\n-x\n+y\n",
                sc.input.cmdline.lines().next().unwrap_or("")
            )
            .into_bytes(),
        ),
    ]
}

/// Writes every corpus file's seeds under `out/<target>/<file stem>`.
/// Returns how many files were written.
pub fn write_seeds(corpus: &Path, out: &Path) -> Result<usize, Box<dyn std::error::Error>> {
    let files = scenario_files(corpus)?;
    let loaded: Vec<(PathBuf, Scenario)> = files
        .into_iter()
        .map(|p| load(&p).map(|s| (p, s)))
        .collect::<Result<_, _>>()?;
    let mut n = 0;
    for (path, sc) in &loaded {
        let stem = path
            .file_stem()
            .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
        for (target, bytes) in seed_inputs(sc) {
            let dir = out.join(target);
            std::fs::create_dir_all(&dir)
                .map_err(|e| format!("{}: cannot create: {e}", dir.display()))?;
            let file = dir.join(&stem);
            write_atomic(&file, &bytes)
                .map_err(|e| format!("{}: cannot write: {e}", file.display()))?;
            n += 1;
        }
    }
    Ok(n)
}

/// One corpus file's replay in one era.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplayRow {
    pub file: PathBuf,
    pub era: Era,
    pub got: BTreeSet<Signature>,
    /// What the header expects, if it says.
    pub expected: Option<BTreeSet<Signature>>,
}

impl ReplayRow {
    pub fn matches(&self) -> bool {
        self.expected.as_ref().is_none_or(|e| e == &self.got)
    }
}

/// Runs every scenario of `dir` in each of its eras.
pub fn replay(dir: &Path) -> Result<Vec<ReplayRow>, InputFileError> {
    let mut rows = Vec::new();
    for path in scenario_files(dir)? {
        let sc = load(&path)?;
        let expect = sc.expectations().unwrap_or_default(); // checked by load
        for &era in &sc.eras {
            let got = check(era, &sc.input)
                .map(|(_, c)| c.signatures())
                .unwrap_or_default();
            rows.push(ReplayRow {
                file: path.clone(),
                era,
                got,
                expected: expect.get(&era).cloned(),
            });
        }
    }
    Ok(rows)
}

/// `expect ERA: SIGNATURE...` header lines recording what each of the
/// scenario's eras shows now.
pub fn expect_lines(sc: &Scenario) -> Vec<String> {
    sc.eras
        .iter()
        .map(|&era| {
            let sigs = check(era, &sc.input)
                .map(|(_, c)| c.signatures())
                .unwrap_or_default();
            let list: Vec<String> = sigs.iter().map(Signature::to_string).collect();
            let list = if list.is_empty() {
                "none".to_string()
            } else {
                list.join(" ")
            };
            format!("expect {era}: {list}")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("efimap-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    /// `-o` replaces a regular file and nothing else: a symlink, a FIFO
    /// or a folder at the path is refused and left as it was (a rename
    /// over /dev/full once replaced the device node with a file).
    #[test]
    fn an_output_replaces_only_a_regular_file() {
        let d = scratch("write-atomic");
        let file = d.join("f.scn");
        write_atomic(&file, b"one").unwrap();
        write_atomic(&file, b"two").unwrap();
        assert_eq!(std::fs::read(&file).unwrap(), b"two");

        let link = d.join("link");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        let e = write_atomic(&link, b"three").unwrap_err();
        assert_eq!(
            e.to_string(),
            "it is a symbolic link, not a regular file (efimap writes a new file or replaces a regular one)"
        );
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(std::fs::read(&file).unwrap(), b"two");

        let fifo = d.join("fifo");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let e = write_atomic(&fifo, b"x").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("it is a FIFO, not a regular file"),
            "{e}"
        );

        let e = write_atomic(&d, b"x").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("it is a folder, not a regular file"),
            "{e}"
        );
        let e = write_atomic(Path::new("/dev/null"), b"x").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("it is a device, not a regular file"),
            "{e}"
        );
        // Nothing left behind by the refusals.
        let mut names: Vec<String> = std::fs::read_dir(&d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["f.scn", "fifo", "link"]);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn the_same_file_by_any_name() {
        let d = scratch("same-file");
        let f = d.join("a");
        std::fs::write(&f, "x").unwrap();
        std::fs::write(d.join("b"), "x").unwrap();
        std::fs::create_dir(d.join("sub")).unwrap();
        assert!(same_file(&f, &d.join("sub/../a")));
        assert!(!same_file(&f, &d.join("b")));
        assert!(!same_file(&f, &d.join("missing")));
        std::fs::remove_dir_all(&d).unwrap();
    }
}
