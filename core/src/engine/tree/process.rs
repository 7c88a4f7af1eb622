//! The tree engine over a driver process: one boot a request on its
//! standard input, one outcome a reply on its standard output
//! (`kernel/PROTOCOL.md`), its standard error kept for the notice of its
//! death.

use super::protocol::{parse_outcome, request};
use super::{Tree, TreeError};
use crate::engine::{Engine, EngineError};
use crate::model::boot::{BootInput, Outcome};
use crate::model::era::Era;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Mutex;

/// The real code of one tree, through its driver process.
pub struct TreeEngine {
    era: Era,
    name: String,
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    /// The last [`STDERR_KEPT`] bytes the driver wrote to its standard
    /// error, read by a thread of their own: what it said before it died.
    stderr: std::sync::Arc<Mutex<Vec<u8>>>,
}

/// How much of the driver's standard error is kept for its death notice.
const STDERR_KEPT: usize = 4096;

impl TreeEngine {
    /// Starts `driver`, whose outcomes are labelled `era`.
    pub fn start(driver: &Path, tree: &Tree, era: Era) -> Result<TreeEngine, TreeError> {
        Self::spawn(&mut Command::new(driver), driver, tree, era)
    }

    fn spawn(
        command: &mut Command,
        driver: &Path,
        tree: &Tree,
        era: Era,
    ) -> Result<TreeEngine, TreeError> {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| TreeError::Spawn(format!("{}: {e}", driver.display())))?;
        let stdin = child.stdin.take().expect("piped");
        let stdout = BufReader::new(child.stdout.take().expect("piped"));
        let stderr = std::sync::Arc::new(Mutex::new(Vec::new()));
        let mut from = child.stderr.take().expect("piped");
        let kept = std::sync::Arc::clone(&stderr);
        std::thread::spawn(move || {
            use std::io::Read;
            let mut buf = [0u8; 1024];
            while let Ok(n @ 1..) = from.read(&mut buf) {
                let mut k = kept.lock().unwrap_or_else(|e| e.into_inner());
                k.extend_from_slice(&buf[..n]);
                let over = k.len().saturating_sub(STDERR_KEPT);
                k.drain(..over);
            }
        });
        Ok(TreeEngine {
            era,
            name: format!("tree {} ({})", tree.version_text(), tree.dir.display()),
            child,
            stdin,
            stdout,
            stderr,
        })
    }
}

impl TreeEngine {
    /// Starts the driver of a gcov build ([`build_gcov`]) so that it
    /// writes its counts into `counts`, not beside the build's objects:
    /// each run, and each of two runs at once, has its own. (gcov's
    /// `GCOV_PREFIX`, with `GCOV_PREFIX_STRIP` taking off the folders of
    /// the objects' path: the build folder's depth is the one they were
    /// compiled at.)
    pub fn start_counting(
        driver: &Path,
        tree: &Tree,
        era: Era,
        counts: &Path,
    ) -> Result<TreeEngine, TreeError> {
        let obj = driver
            .parent()
            .unwrap_or(Path::new("."))
            .join("obj")
            .canonicalize()
            .map_err(|e| TreeError::Spawn(format!("{}: no gcov build: {e}", driver.display())))?;
        let strip = obj
            .components()
            .filter(|c| matches!(c, std::path::Component::Normal(_)))
            .count();
        std::fs::create_dir_all(counts)
            .map_err(|e| TreeError::Spawn(format!("{}: {e}", counts.display())))?;
        let counts = counts
            .canonicalize()
            .map_err(|e| TreeError::Spawn(format!("{}: {e}", counts.display())))?;
        Self::spawn(
            Command::new(driver)
                .env("GCOV_PREFIX", counts)
                .env("GCOV_PREFIX_STRIP", strip.to_string()),
            driver,
            tree,
            era,
        )
    }
}

impl Drop for TreeEngine {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Engine for TreeEngine {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn era(&self) -> Era {
        self.era
    }

    fn boot(&mut self, input: &BootInput, quiet: bool) -> Result<Outcome, EngineError> {
        self.begin(input, quiet)?;
        self.finish(input)
    }

    /// Writes the request; the driver works on it while the caller does
    /// something else (another driver's boot).
    fn begin(&mut self, input: &BootInput, quiet: bool) -> Result<Option<Outcome>, EngineError> {
        crate::model::boot::check_input(input)?;
        let request = request(input, quiet);
        if let Err(e) = self
            .stdin
            .write_all(request.as_bytes())
            .and_then(|()| self.stdin.flush())
        {
            return Err(self.death(&format!("cannot write to it: {e}")));
        }
        Ok(None)
    }

    fn finish(&mut self, input: &BootInput) -> Result<Outcome, EngineError> {
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            let n = match self.stdout.read_line(&mut line) {
                Ok(n) => n,
                Err(e) => return Err(self.death(&format!("cannot read from it: {e}"))),
            };
            if n == 0 {
                return Err(self.death("it ended in the middle of a boot"));
            }
            let line = line.trim_end_matches('\n').to_string();
            if line == "end" {
                break;
            }
            lines.push(line);
        }
        parse_outcome(self.era, input, &lines).map_err(|e| died(format!("bad reply: {e}")))
    }
}

impl TreeEngine {
    /// The driver stopped answering: `what`, then how it ended (its exit
    /// status or signal, waited for a moment) and the last lines it wrote
    /// to standard error; where those name a failed map of its simulated
    /// memory, what a memory limit must allow.
    fn death(&mut self, what: &str) -> EngineError {
        use std::os::unix::process::ExitStatusExt;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
        let status = loop {
            match self.child.try_wait() {
                Ok(Some(s)) => break Some(s),
                Ok(None) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                _ => break None,
            }
        };
        let how = match status {
            Some(s) => match (s.code(), s.signal()) {
                (Some(c), _) => format!("it exited with status {c}"),
                (None, Some(sig)) => format!("it was killed by signal {sig}{}", signal_name(sig)),
                _ => "it ended".to_string(),
            },
            None => "it is still running".to_string(),
        };
        // Let the reader thread take the last of it.
        std::thread::sleep(std::time::Duration::from_millis(20));
        let said = {
            let k = self.stderr.lock().unwrap_or_else(|e| e.into_inner());
            String::from_utf8_lossy(&k).trim().to_string()
        };
        let tail: Vec<&str> = said.lines().rev().take(5).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        let mut text = format!("{what}: {how}");
        if !tail.is_empty() {
            text.push_str(&format!("; it said: {}", tail.join(" / ")));
        }
        if said.contains("mmap arena") {
            text.push_str(
                " (the driver reserves 64 GiB of address space, not memory, for the simulated \
                 physical memory: a limit on virtual memory such as ulimit -v must allow it)",
            );
        }
        died(text)
    }
}

/// ` (SIGSEGV)` and the like, for the signals a driver dies of.
fn signal_name(sig: i32) -> &'static str {
    match sig {
        4 => " (SIGILL)",
        6 => " (SIGABRT)",
        7 => " (SIGBUS)",
        8 => " (SIGFPE)",
        9 => " (SIGKILL)",
        11 => " (SIGSEGV)",
        13 => " (SIGPIPE)",
        15 => " (SIGTERM)",
        _ => "",
    }
}

fn died(e: String) -> EngineError {
    EngineError::Failed(format!("the kernel driver: {e}"))
}
