//! `efimap`: the command a kernel developer runs. The work is in
//! efimap-core; this file reads arguments, prints, and sets exit codes:
//! 0 clean, 1 findings (or expectations not met), 2 bad input.

use clap::{Parser, Subcommand};
use efimap_core::codec::decode;
use efimap_core::corpus::{self, InputFileError};
use efimap_core::findings::check;
use efimap_core::report::scenario_report;
use efimap_core::Era;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "efimap",
    version,
    about = "Differential fuzzing and regression harness for the Linux kernel's EFI memory-map code"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run one scenario in each of its eras: map before and after, picture,
    /// events, faults, findings. Exit 1 if there are findings.
    Run {
        file: PathBuf,
        /// Only these eras (comma-separated), instead of the file's.
        #[arg(long, value_delimiter = ',')]
        eras: Vec<Era>,
    },
    /// Decode a cargo-fuzz artifact into a scenario file.
    Show {
        artifact: PathBuf,
        /// Write the scenario here instead of printing it.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Run every scenario of a folder; exit 1 if any file's expected
    /// signatures (from its header) do not match.
    Replay {
        #[arg(default_value = "corpus")]
        dir: PathBuf,
    },
    /// Turn a corpus folder into cargo-fuzz seed inputs, one folder per target.
    Seeds {
        #[arg(default_value = "corpus")]
        corpus: PathBuf,
        #[arg(short, long, default_value = "fuzz/corpus")]
        output: PathBuf,
    },
}

/// How a command ended badly.
enum Failure {
    /// Findings or unmet expectations: exit 1.
    Findings,
    /// Bad input: exit 2, with this message.
    Input(String),
}

impl From<InputFileError> for Failure {
    fn from(e: InputFileError) -> Self {
        Failure::Input(e.to_string())
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run { file, eras } => run(&file, &eras),
        Command::Show { artifact, output } => show(&artifact, output.as_deref()),
        Command::Replay { dir } => replay(&dir),
        Command::Seeds { corpus, output } => seeds(&corpus, &output),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Findings) => ExitCode::from(1),
        Err(Failure::Input(msg)) => {
            eprintln!("efimap: {msg}");
            ExitCode::from(2)
        }
    }
}

fn run(file: &Path, eras: &[Era]) -> Result<(), Failure> {
    let mut sc = corpus::load(file)?;
    if !eras.is_empty() {
        sc.eras = eras.to_vec();
        sc.eras.sort();
        sc.eras.dedup();
    }
    print!("{}", scenario_report(&sc));
    let input = sc.boot_input();
    let findings = sc
        .eras
        .iter()
        .any(|&e| check(e, &input).is_ok_and(|(_, c)| !c.findings.is_empty()));
    if findings {
        Err(Failure::Findings)
    } else {
        Ok(())
    }
}

fn write_out(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    corpus::write_atomic(path, bytes)
        .map_err(|e| Failure::Input(format!("{}: cannot write: {e}", path.display())))
}

fn show(artifact: &Path, output: Option<&Path>) -> Result<(), Failure> {
    let bytes = std::fs::read(artifact)
        .map_err(|e| Failure::Input(format!("{}: cannot read: {e}", artifact.display())))?;
    let mut sc = decode(&bytes);
    if sc.header.is_empty() {
        let name = artifact
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        sc.header
            .push(format!("decoded from the fuzz artifact {name}"));
        sc.header
            .push("what each era showed when decoded (review before keeping):".into());
        sc.eras = Era::ALL.to_vec();
        sc.header.extend(efimap_core::corpus::expect_lines(&sc));
    }
    let text = sc.to_text();
    match output {
        Some(path) => write_out(path, text.as_bytes()),
        None => {
            print!("{text}");
            Ok(())
        }
    }
}

fn replay(dir: &Path) -> Result<(), Failure> {
    let rows = corpus::replay(dir)?;
    let width = rows
        .iter()
        .map(|r| r.file.file_name().map_or(0, |n| n.len()))
        .max()
        .unwrap_or(4);
    let mut bad = 0;
    for r in &rows {
        let name = r
            .file
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let got: Vec<&str> = r.got.iter().map(String::as_str).collect();
        let verdict = match (&r.expected, r.matches()) {
            (None, _) => "(no expectation)",
            (Some(_), true) => "ok",
            (Some(_), false) => "MISMATCH",
        };
        let got = if got.is_empty() {
            "none".to_string()
        } else {
            got.join(" ")
        };
        println!("{name:width$}  {:5}  {verdict:8}  {got}", r.era.name());
        if !r.matches() {
            bad += 1;
            let want: Vec<&String> = r.expected.iter().flatten().collect();
            println!("{:width$}  {:5}  expected  {want:?}", "", "");
        }
    }
    println!("{} runs, {} mismatched", rows.len(), bad);
    if bad > 0 {
        Err(Failure::Findings)
    } else {
        Ok(())
    }
}

fn seeds(corpus_dir: &Path, output: &Path) -> Result<(), Failure> {
    let n = corpus::write_seeds(corpus_dir, output).map_err(|e| Failure::Input(e.to_string()))?;
    println!("wrote {n} seed inputs under {}", output.display());
    Ok(())
}
