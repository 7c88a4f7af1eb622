//! `efimap`: the command a kernel developer runs. The work is in
//! efimap-core; this file reads arguments, prints, and sets exit codes:
//! 0 clean, 1 findings (or expectations not met), 2 bad input.

mod bench;
mod boot;
mod engines;
mod fuzz;
mod hunt;
mod review;

use clap::Parser;
use efimap_cli::{Cli, Command, DiffArgs, ExploreArgs, Form, ImportArgs, MinimizeArgs, RunArgs};
use efimap_core::cases::codec::decode;
use efimap_core::cases::corpus::{self, InputFileError};
use efimap_core::cases::report::scenario_run_maps;
use efimap_core::cases::scenario::Scenario;
use efimap_core::engine::tree::{self, TreeEngine};
use efimap_core::search::diff::{DiffConfig, Phases};
use efimap_core::search::explore::{self as explorer, Bound};
use efimap_core::search::minimize::{self as minimizer, Goal};
use efimap_core::Era;
use engines::tree_engine;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// How a command ended badly.
enum Failure {
    /// Findings or unmet expectations: exit 1.
    Findings,
    /// Bad input: exit 2, with this message.
    Input(String),
    /// Bad input at a place in a file: exit 2, the message and the line
    /// with a caret under the column.
    At(InputFileError),
}

impl From<InputFileError> for Failure {
    fn from(e: InputFileError) -> Self {
        if e.line == 0 {
            Failure::Input(e.to_string())
        } else {
            Failure::At(e)
        }
    }
}

/// Lines longer than this are shown as a window of [`WINDOW`] bytes either
/// side of the column.
const LONG_LINE: usize = 240;
const WINDOW: usize = 80;

/// The offending line of `e`'s file with a caret under its column, as
/// Rust's own tools show an error (codespan-reporting); nothing when the
/// file cannot be read again.
fn show_at(e: &InputFileError) {
    use codespan_reporting::diagnostic::{Diagnostic, Label};
    use codespan_reporting::files::SimpleFile;
    use codespan_reporting::term::{self, termcolor};
    let Ok(bytes) = std::fs::read(&e.path) else {
        return;
    };
    let text = String::from_utf8_lossy(&bytes).into_owned();
    // The byte offset of line:col (both 1-based), kept inside the text.
    let line_start: usize = text
        .split_inclusive('\n')
        .take(e.line.saturating_sub(1))
        .map(str::len)
        .sum();
    if e.line > text.split_inclusive('\n').count().max(1) {
        return; // a position the file does not have: no snippet
    }
    let line_len = text[line_start.min(text.len())..]
        .split('\n')
        .next()
        .map_or(0, str::len);
    let at = (line_start + e.col.saturating_sub(1).min(line_len)).min(text.len());
    let mut end = (at + 1).min(text.len());
    while !text.is_char_boundary(end) {
        end += 1;
    }
    let mut start = at;
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    if line_len > LONG_LINE {
        // A long line is shown as a window around the column: a 20 MB
        // comment once went to the terminal whole.
        let floor = |mut i: usize| {
            while !text.is_char_boundary(i) {
                i -= 1;
            }
            i
        };
        let line_end = line_start + line_len;
        let from = floor(start.saturating_sub(WINDOW).max(line_start));
        let to = floor((start + WINDOW).min(line_end));
        let lead = if from > line_start { "…" } else { "" };
        let tail = if to < line_end { "…" } else { "" };
        let number = e.line.to_string();
        let pad = " ".repeat(number.len() + 1);
        let caret = " ".repeat(lead.chars().count() + text[from..start].chars().count());
        eprintln!(
            "error: {}\n{pad}┌─ {}:{}:{}\n{pad}│\n{number} │ {lead}{}{tail}\n{pad}│ {caret}^",
            e.message,
            e.path.display(),
            e.line,
            e.col,
            &text[from..to]
        );
        return;
    }
    let file = SimpleFile::new(e.path.display().to_string(), text);
    let diagnostic = Diagnostic::error()
        .with_message(&e.message)
        .with_labels(vec![Label::primary((), start..end)]);
    let choice = if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        termcolor::ColorChoice::Auto
    } else {
        termcolor::ColorChoice::Never
    };
    let writer = termcolor::StandardStream::stderr(choice);
    let _ = term::emit(
        &mut writer.lock(),
        &term::Config::default(),
        &file,
        &diagnostic,
    );
}

/// Standard output that cannot be written ends the run as a Unix tool
/// ends it, not with a panic: a reader that went away (`efimap hunt | head
/// -1`) quietly, a full or failing device with exit 2 and the error.
/// `println!` reports both by panicking, from whichever thread printed.
fn on_stdout_failure() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let msg = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("");
        if let Some(err) = msg.strip_prefix("failed printing to stdout: ") {
            if err.starts_with("Broken pipe") {
                std::process::exit(0);
            }
            eprintln!("efimap: cannot write to standard output: {err}");
            std::process::exit(2);
        }
        default(info)
    }));
}

fn main() -> ExitCode {
    on_stdout_failure();
    let result = match Cli::parse().command {
        Command::Hunt(a) => engines::choose(a.eras.or(Era::all()), &a.tree).and_then(|chosen| {
            hunt::run(
                a.budget,
                a.seed,
                chosen,
                &a.out,
                a.bound.or(Bound::HUNT),
                a.jobs,
            )
        }),
        Command::Explore(a) if a.orders => explore_orders(&a),
        Command::Explore(a) => engines::choose(a.eras.or(Era::all()), &a.tree).and_then(|chosen| {
            explore(
                Bound {
                    reserve: !a.no_reserve,
                    ..a.bound.or(Bound::EXPLORE)
                },
                chosen,
                a.jobs,
            )
        }),
        Command::Minimize(a) => minimize(&a),
        Command::Diff(a) => diff(&a),
        Command::Review(a) => review::run(&a),
        Command::Run(a) => run(&a),
        Command::Show {
            artifact,
            output,
            codec,
        } => show(&artifact, output.as_deref(), codec == "v1"),
        Command::Replay { dir, tree } => match tree.tree {
            None => replay(&dir),
            Some(t) => replay_tree(&dir, &t, tree.tree_era),
        },
        Command::Seeds { corpus, output } => seeds(&corpus, &output),
        Command::Fuzz(a) => fuzz::run(&a),
        Command::ImportDmesg(a) => import_dmesg(a),
        Command::Boot(a) => match (&a.log, &a.kernel) {
            (Some(log), _) => boot::replay(log, a.second.as_deref(), a.out.as_deref()),
            (None, Some(kernel)) => boot::boot_kernel(&a, kernel),
            (None, None) => Err(Failure::Input(
                "boot: expected --log LOG or --kernel IMAGE".into(),
            )),
        },
        Command::Export {
            file,
            form,
            output,
            verify,
        } => export(&file, form, output.as_deref(), verify),
        Command::Bench {
            generator: Some(n),
            codec,
            ..
        } => {
            let d = efimap_core::bench::generator_dimensions(n, 1, codec == "v1");
            println!("{n} scenarios drawn through the {codec} encoding (seed 1):");
            print!("{}", d.table());
            Ok(())
        }
        Command::Bench {
            bugs: true,
            seeds,
            seconds,
            fuzz_seconds,
            codec,
            ..
        } => bench::bugs(seeds, seconds, fuzz_seconds, codec == "v1"),
        Command::Bench {
            tree: Some(dir), ..
        } => bench_tree(&dir),
        Command::Bench {
            fuzz_target: Some(target),
            fuzz_corpus: Some(dir),
            seconds,
            ..
        } => bench::fuzz_rate(&target, &dir, seconds),
        Command::Bench {
            seconds,
            seeds,
            corpus,
            tree: None,
            ..
        } => bench::run(seconds, seeds, &corpus),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Findings) => ExitCode::from(1),
        Err(Failure::Input(msg)) => {
            eprintln!("efimap: {msg}");
            ExitCode::from(2)
        }
        Err(Failure::At(e)) => {
            eprintln!("efimap: {e}");
            show_at(&e);
            ExitCode::from(2)
        }
    }
}

fn run(a: &RunArgs) -> Result<(), Failure> {
    if let Some(svg) = &a.svg {
        check_output(svg, &[&a.file])?;
    }
    let mut sc = corpus::load(&a.file)?;
    sc.eras = a.eras.or(sc.eras);
    let mut engine = match &a.tree.tree {
        Some(dir) => Some(tree_engine(dir, a.tree.tree_era)?),
        None => None,
    };
    let (mut text, mut findings, maps) = scenario_run_maps(&sc);
    if let Some(engine) = engine.as_mut() {
        let (t, f) = efimap_core::cases::report::engine_section(&sc, engine)
            .map_err(|e| Failure::Input(e.to_string()))?;
        text.push_str(&t);
        findings |= f;
    }
    if let Some(path) = &a.svg {
        write_out(path, efimap_core::cases::svg::maps_svg(&maps).as_bytes())?;
    }
    print!("{text}");
    if findings {
        Err(Failure::Findings)
    } else {
        Ok(())
    }
}

/// Where the shims are: `EFIMAP_KERNEL_DIR`, or the source tree's `kernel/`.
fn shim_dir() -> PathBuf {
    std::env::var_os("EFIMAP_KERNEL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../kernel")))
}

/// Where builds are cached: `EFIMAP_CACHE`, or the source tree's `target/kernel-builds`.
fn cache_dir() -> PathBuf {
    std::env::var_os("EFIMAP_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../target/kernel-builds"
            ))
        })
}

/// Every scenario file of the corpus folder `dir`, loaded; none when
/// there is no such folder.
/// The scenarios of `--corpus DIR`. A folder that is not there is an
/// error, not an empty corpus (`--corpus /nonexistent` once ran "corpus 0"
/// and passed).
fn load_corpus(dir: &Path) -> Result<Vec<Scenario>, Failure> {
    if !dir.is_dir() {
        return Err(Failure::Input(format!(
            "--corpus {}: no such folder (give the corpus folder, or an empty folder to run none)",
            dir.display()
        )));
    }
    let mut out = Vec::new();
    for path in corpus::scenario_files(dir)? {
        out.push(corpus::load(&path)?);
    }
    Ok(out)
}

/// The tree figures of BENCHMARKS.md: build time cold (an empty cache)
/// and cached, and boots per second through the tree and the model.
fn bench_tree(dir: &Path) -> Result<(), Failure> {
    use std::time::Instant;
    let bad = |e: tree::TreeError| Failure::Input(e.to_string());
    let t = tree::Tree::open(dir).map_err(bad)?;
    let cold_cache = std::env::temp_dir().join(format!("efimap-bench-{}", std::process::id()));
    let start = Instant::now();
    let driver = tree::build(&t, &shim_dir(), &cold_cache).map_err(bad)?;
    let cold = start.elapsed();
    let start = Instant::now();
    tree::build(&t, &shim_dir(), &cold_cache).map_err(bad)?;
    let cached = start.elapsed();
    let mut engine = TreeEngine::start(&driver, &t, t.paired_era()).map_err(bad)?;
    let (real, model) = efimap_core::bench::engine_rates(&mut engine, 20_000, 1)
        .map_err(|e| Failure::Input(e.to_string()))?;
    let _ = std::fs::remove_dir_all(&cold_cache);
    println!("tree {} (paired with {})", t.version_text(), t.paired_era());
    println!(
        "  build: cold {:.2} s, cached {:.4} s",
        cold.as_secs_f64(),
        cached.as_secs_f64()
    );
    println!(
        "  quiet boots/s on 20000 random scenarios: tree {real:.0}, model {model:.0}, model / tree {:.1}",
        model / real
    );
    Ok(())
}

/// What diff and review run on both engines: the corpus at `corpus`,
/// the hunt's exhaustive bound, then at least `random` scenarios from
/// `seed`, for `budget` seconds more.
fn phases(corpus: &Path, random: u64, budget: u64, seed: u64) -> Result<Phases, Failure> {
    Ok(Phases {
        corpus: load_corpus(corpus)?,
        bound: Bound::HUNT,
        random,
        budget: std::time::Duration::from_secs(budget),
        seed,
    })
}

fn diff(a: &DiffArgs) -> Result<(), Failure> {
    use efimap_core::engine::{Engine, ModelEngine};
    // With --coverage: the gcov build's folder and where its counts go.
    let mut gcov: Option<(PathBuf, PathBuf, PathBuf)> = None;
    let (mut engine, era): (Box<dyn Engine>, Era) = match (&a.tree, a.model) {
        (Some(dir), _) if a.coverage => {
            let bad = |e: tree::TreeError| Failure::Input(e.to_string());
            let t = tree::Tree::open(dir).map_err(bad)?;
            let driver = tree::build_gcov(&t, &shim_dir(), &cache_dir()).map_err(bad)?;
            let counts = a.out.join(".gcov");
            if counts.exists() {
                std::fs::remove_dir_all(&counts).map_err(|e| {
                    Failure::Input(format!("{}: cannot remove: {e}", counts.display()))
                })?;
            }
            let era = a.era.unwrap_or_else(|| t.paired_era());
            let engine = TreeEngine::start_counting(&driver, &t, era, &counts).map_err(bad)?;
            let build = driver.parent().map(Path::to_path_buf).unwrap_or_default();
            gcov = Some((build, counts, t.dir.clone()));
            (Box::new(engine), era)
        }
        (Some(dir), _) => {
            let t = tree_engine(dir, a.era)?;
            let era = t.era();
            (Box::new(t), era)
        }
        (None, Some(m)) => {
            let era = a.era.ok_or_else(|| {
                Failure::Input("--model: expected --era, the era to hold it against".into())
            })?;
            (Box::new(ModelEngine(m)), era)
        }
        (None, None) => unreachable!("clap requires --tree or --model"),
    };
    let cfg = DiffConfig {
        era,
        phases: phases(&a.corpus, a.random, a.budget, a.seed)?,
        minimize: std::time::Duration::from_secs(10),
        except: a.except,
    };
    println!("efimap diff: {} against the model of {era}", engine.name());
    let total = cfg.phases.corpus.len() as u64 + a.random;
    let spinner = hunt::counter("efimap diff");
    let r = efimap_core::search::diff::diff_with_progress(&mut *engine, &cfg, &mut |n, d| {
        spinner.set_message(format!(
            "{n} scenarios (the corpus, the exhaustive bound, then at least {total} with the random), {d} diverged"
        ));
        spinner.tick();
    })
    .map_err(|e| Failure::Input(e.to_string()))?;
    spinner.finish_and_clear();
    let mut written = 0;
    if !r.found.is_empty() {
        std::fs::create_dir_all(&a.out)
            .map_err(|e| Failure::Input(format!("{}: cannot create: {e}", a.out.display())))?;
    }
    for (sig, (d, sc)) in &r.found {
        let mut sc = sc.clone();
        sc.eras = vec![era];
        sc.header = vec![
            format!(
                "{sig}: {} differs between the model of {era} and {}",
                d.field,
                engine.name()
            ),
            format!("model: {}", d.model),
            format!("{}: {}", engine.name(), d.tree),
        ];
        let file = a
            .out
            .join(format!("{}.scn", sig.to_string().replace('/', "-")));
        write_out(&file, sc.to_text().as_bytes())?;
        println!("  {sig}: {} ({})", d.field, file.display());
        written += 1;
    }
    println!(
        "{} scenarios (corpus {}, exhaustive {}, random {}): {} diverged, {} divergence kinds, {} scenarios written",
        r.checked(),
        r.corpus,
        r.exhaustive,
        r.random,
        r.diverged,
        r.found.len(),
        written
    );
    println!();
    println!("The model of {era}:");
    print!("{}", r.reach.table());
    if r.engine_reach.boots > 0 {
        println!("{}, the calls of its boots:", engine.name());
        print!("{}", r.engine_reach.calls_table());
    }
    let mut bad = r.diverged > 0;
    if let Some(sig) = a.except {
        println!(
            "{sig}: {} of them excepted (the model shows it), not compared; {} still show it on {}",
            r.fixed,
            r.still,
            engine.name(),
        );
        // Where the model's boot ended in the fault, the fixed one goes on
        // and may show what later steps do on that input: reported, for
        // reading, not counted.
        if let Some((s, sc)) = &r.new_findings {
            println!(
                "  on one of them {} also shows {s} (a later step, which the faulting boot did not reach?):\n{}",
                engine.name(),
                sc.to_text()
            );
        }
        bad |= r.still > 0;
    }
    if let Some((build, counts, tree_dir)) = gcov {
        // The driver writes its counts when it ends.
        drop(engine);
        let lines = efimap_core::engine::coverage::read(&build, &counts).map_err(Failure::Input)?;
        let root = format!("{}/", tree_dir.canonicalize().unwrap_or(tree_dir).display());
        let mut functions = lines
            .per_function(|f| f != "efimap-glue" && (!f.starts_with('/') || f.starts_with(&root)));
        for f in &mut functions {
            if let Some(rel) = f.file.strip_prefix(&root) {
                f.file = rel.to_string();
            }
        }
        functions.sort_by(|x, y| (&x.file, &x.function).cmp(&(&y.file, &y.function)));
        println!(
            "The tree's own code, gcov (lines with code; branches: arcs out of a line's blocks):"
        );
        print!("{}", efimap_core::engine::coverage::table(&functions));
    }
    if bad {
        Err(Failure::Findings)
    } else {
        Ok(())
    }
}

/// Checks, before any work, that `out` can take the command's output:
/// not one of its `inputs` (by device and inode, whatever the names),
/// not a symlink, device, FIFO or folder, and in a folder that exists.
fn check_output(out: &Path, inputs: &[&Path]) -> Result<(), Failure> {
    if let Some(input) = inputs.iter().find(|i| corpus::same_file(out, i)) {
        return Err(Failure::Input(format!(
            "{}: cannot write: it is also the input {} (writing it would destroy the input; give another output)",
            out.display(),
            input.display()
        )));
    }
    corpus::replaceable(out)
        .map_err(|e| Failure::Input(format!("{}: cannot write: {e}", out.display())))
}

/// Makes `dir` (with its parents) and checks a file can be written in it,
/// before the work whose results go there: `hunt -o /read-only/h` once
/// hunted and minimized for its whole budget, then failed and lost it all.
fn writable_folder(flag: &str, dir: &Path) -> Result<(), Failure> {
    let fail = |e: std::io::Error| {
        Failure::Input(format!("{flag} {}: cannot write in it: {e}", dir.display()))
    };
    std::fs::create_dir_all(dir).map_err(fail)?;
    let probe = dir.join(format!(".efimap-probe-{}", std::process::id()));
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
        .map_err(fail)?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

fn write_out(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    corpus::write_atomic(path, bytes)
        .map_err(|e| Failure::Input(format!("{}: cannot write: {e}", path.display())))
}

fn show(artifact: &Path, output: Option<&Path>, v1: bool) -> Result<(), Failure> {
    if let Some(out) = output {
        check_output(out, &[artifact])?;
    }
    let bytes = std::fs::read(artifact)
        .map_err(|e| Failure::Input(format!("{}: cannot read: {e}", artifact.display())))?;
    let mut sc = if v1 {
        efimap_core::cases::codec::v1::decode(&bytes)
    } else {
        decode(&bytes)
    };
    // The bytes' own header lines are kept as description, but never as
    // expectations: those are what each era shows now.
    let name = artifact
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let mut header = vec![format!("decoded from the fuzz artifact {name}")];
    header.extend(
        sc.header
            .iter()
            .filter(|h| !h.trim_start().starts_with("expect "))
            .take(200)
            .cloned(),
    );
    header.push("what each era showed when decoded (review before keeping):".into());
    sc.header = header;
    if sc.eras.is_empty() {
        sc.eras = Era::all();
    }
    sc.header
        .extend(efimap_core::cases::corpus::expect_lines(&sc));
    let text = sc.to_text();
    match output {
        Some(path) => write_out(path, text.as_bytes()),
        None => {
            print!("{text}");
            Ok(())
        }
    }
}

/// Each corpus file on a tree: its findings against the file's
/// expectations for the paired era, and its outcome against the model's.
fn replay_tree(dir: &Path, tree_dir: &Path, era: Option<Era>) -> Result<(), Failure> {
    use efimap_core::engine::Engine;
    let mut engine = tree_engine(tree_dir, era)?;
    let era = engine.era();
    let mut bad = 0;
    let mut runs = 0;
    for path in corpus::scenario_files(dir)? {
        let sc = corpus::load(&path)?;
        let name = path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let checked = efimap_core::judge::findings::check_on(&mut engine, &sc.input, false)
            .map_err(|e| Failure::Input(e.to_string()))?;
        let (o, c) = match checked {
            Ok(checked) => checked,
            Err(e) => {
                println!("{name}  rejected: {e}");
                continue;
            }
        };
        runs += 1;
        let got = c.signatures();
        let want = sc.expectations().unwrap_or_default().get(&era).cloned();
        let div = efimap_core::model::boot::run(era, &sc.input)
            .ok()
            .and_then(|m| efimap_core::judge::verdict::kernel_divergence(&m, &o));
        let got_text: Vec<String> = got.iter().map(|s| s.to_string()).collect();
        let verdict = match (&want, &div) {
            (_, Some(_)) => "DIVERGES",
            (Some(w), None) if *w != got => "MISMATCH",
            (None, None) => "(no expectation)",
            _ => "ok",
        };
        println!(
            "{name}  {verdict}  {}",
            if got_text.is_empty() {
                "none".into()
            } else {
                got_text.join(" ")
            }
        );
        if let Some(d) = &div {
            println!(
                "  {}: {}: model {} / tree {}",
                d.signature(),
                d.field,
                d.model,
                d.tree
            );
        }
        if verdict == "DIVERGES" || verdict == "MISMATCH" {
            bad += 1;
        }
    }
    println!(
        "{runs} runs on {} as {era}, {bad} diverged or mismatched",
        engine.name()
    );
    if bad > 0 {
        Err(Failure::Findings)
    } else {
        Ok(())
    }
}

fn replay(dir: &Path) -> Result<(), Failure> {
    let rows = corpus::replay(dir)?;
    if rows.is_empty() {
        return Err(Failure::Input(format!(
            "{}: expected scenario files (*.scn), found none: nothing replayed",
            dir.display()
        )));
    }
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
        let got: Vec<String> = r.got.iter().map(|s| s.to_string()).collect();
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
            let want: Vec<String> = r.expected.iter().flatten().map(|s| s.to_string()).collect();
            println!("{:width$}  {:5}  expected  {}", "", "", want.join(" "));
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
    let n = corpus::write_seeds(corpus_dir, output).map_err(|e| {
        let e = e.to_string();
        // Errors of the output already name their path; others concern
        // the corpus.
        if e.contains(&output.display().to_string())
            || e.starts_with(&corpus_dir.display().to_string())
        {
            Failure::Input(e)
        } else {
            Failure::Input(format!("{}: {e}", corpus_dir.display()))
        }
    })?;
    println!("wrote {n} seed inputs under {}", output.display());
    Ok(())
}

/// The most scenarios `efimap explore` takes on: about a day of the
/// model's throughput on one era.
const MAX_EXPLORE: u128 = 10_000_000_000;

/// `explore --orders`: the certificate of a whole bound of order types.
fn explore_orders(a: &ExploreArgs) -> Result<(), Failure> {
    use efimap_core::search::order::{explore_orders, OrderBound};
    let bound = OrderBound {
        descs: a.bound.descs.unwrap_or(OrderBound::PROOF.descs),
        ranges: a.bound.ranges.unwrap_or(OrderBound::PROOF.ranges),
        reserve: !a.no_reserve,
        marks: a.marks,
        ordered: false,
        pages: a.bound.pages.unwrap_or(0),
    };
    bound.check().map_err(Failure::Input)?;
    if a.count_only {
        let start = std::time::Instant::now();
        let n = efimap_core::search::order::count(&bound);
        println!(
            "{n} order types (descs <= {}, ranges <= {}, reservation {}, marks {}), counted in {:.1} s",
            bound.descs,
            bound.ranges,
            if bound.reserve { "optional" } else { "none" },
            if bound.marks { "one" } else { "none" },
            start.elapsed().as_secs_f64()
        );
        return Ok(());
    }
    let eras = a.eras.or(Era::all());
    let jobs = a
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let start = std::time::Instant::now();
    let bar = hunt::bar(0, "order types");
    let progress = |done: u64, units: u64| {
        bar.set_length(units);
        bar.set_position(done);
        true
    };
    let cert = explore_orders(&bound, &eras, jobs, &progress);
    bar.finish_and_clear();
    let secs = start.elapsed().as_secs_f64();
    print!(
        "{}",
        efimap_core::search::order::render(&bound, &eras, &cert)
    );
    println!(
        "{} order types x {} eras in {secs:.1} s on {jobs} threads ({:.0} scenarios/s, {:.0} boots/s)",
        cert.order_types,
        eras.len(),
        cert.order_types as f64 / secs,
        (cert.order_types * eras.len() as u64) as f64 / secs
    );
    println!();
    print!("{}", cert.reach.table());
    Ok(())
}

fn explore(bound: Bound, mut chosen: engines::Chosen, jobs: Option<usize>) -> Result<(), Failure> {
    let bad = |e: explorer::BoundTooLarge| Failure::Input(e.to_string());
    bound.check().map_err(bad)?;
    let total = explorer::count(&bound).expect("a checked bound");
    let runs = chosen.engines.len();
    println!(
        "the bound holds {total} scenarios (descs <= {}, ranges <= {}, pages {}), each in {runs} {}",
        bound.descs,
        bound.ranges,
        bound.pages,
        if runs == 1 { "engine" } else { "engines" }
    );
    if total > MAX_EXPLORE {
        return Err(Failure::Input(format!(
            "the bound holds {total} scenarios; expected at most {MAX_EXPLORE}: \
             make --descs, --ranges or --pages smaller"
        )));
    }
    let bar = hunt::bar(total as u64, "exploring");
    let progress = |checked, _| {
        bar.set_position(checked);
        true
    };
    if chosen.tree.is_some() {
        println!("exploring {}", chosen.what());
    }
    let jobs = jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let found = explorer::explore_engines_jobs(&bound, &mut chosen.as_mut(), jobs.max(1), progress)
        .map_err(|e| Failure::Input(e.to_string()))?;
    bar.finish_and_clear();
    println!(
        "checked {} scenarios (descs <= {}, ranges <= {}, pages {}, reservation {})",
        found.checked,
        bound.descs,
        bound.ranges,
        bound.pages,
        if bound.reserve { "optional" } else { "none" }
    );
    for (sig, ex) in &found.minimum {
        let (dr, res) = explorer::size(&ex.scenario);
        let eras: Vec<&str> = ex.eras.iter().map(|e| e.name()).collect();
        println!();
        println!(
            "{sig}: smallest {dr} descriptors + ranges, {res} reservations, in {}",
            eras.join(" ")
        );
        let mut sc = ex.scenario.clone();
        sc.header.clear();
        for line in sc
            .to_text()
            .lines()
            .filter(|l| !l.starts_with("eras") && !l.starts_with("desc_size"))
        {
            println!("    {line}");
        }
    }
    println!();
    print!("{}", found.reach.table());
    Ok(())
}

/// A scenario file (`.scn`, `.json`, or text that parses as one), or a
/// fuzz artifact: only what is clearly one (`artifact`, a `.crash` file,
/// or a name libFuzzer gives: with `crash-`, `leak-`, `timeout-`, `oom-`
/// or `slow-unit-` in it, or a corpus entry's 40 hex digits) is read as
/// fuzz bytes. Anything
/// else that does not parse is an error naming the file, line and column.
fn load_any(path: &Path, artifact: bool, v1: bool) -> Result<Scenario, Failure> {
    let name = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let looks_like_artifact = artifact
        || ["crash-", "leak-", "timeout-", "oom-", "slow-unit-"]
            .iter()
            .any(|p| name.contains(p))
        || path.extension().is_some_and(|x| x == "crash")
        || (name.len() == 40 && name.bytes().all(|b| b.is_ascii_hexdigit()));
    let bytes = std::fs::read(path)
        .map_err(|e| Failure::Input(format!("{}: cannot read: {e}", path.display())))?;
    if looks_like_artifact {
        return Ok(if v1 {
            efimap_core::cases::codec::v1::decode(&bytes)
        } else {
            decode(&bytes)
        });
    }
    if path.extension().is_some_and(|x| x == "scn" || x == "json") {
        return Ok(corpus::load(path)?);
    }
    let text = String::from_utf8_lossy(&bytes);
    Scenario::parse(&text).map_err(|e| {
        Failure::Input(format!(
            "{}:{e} (not a scenario; to read it as a fuzz artifact, pass --artifact)",
            path.display()
        ))
    })
}

/// `minimize --tree`: shrinks while the tree's own code shows the
/// signature (default: the first it shows).
fn minimize_on_tree(a: &MinimizeArgs, dir: &Path) -> Result<(), Failure> {
    use efimap_core::engine::Engine;
    use efimap_core::judge::findings::classify;
    let (input, output) = (a.input.as_path(), a.output.as_path());
    check_output(output, &[input])?;
    let sc = load_any(input, a.artifact, a.codec == "v1")?;
    let engine = std::cell::RefCell::new(tree_engine(dir, a.era)?);
    let shows = |s: &Scenario| {
        engine
            .borrow_mut()
            .boot(&s.input, true)
            .ok()
            .map(|o| classify(&s.input, &o).signatures())
            .unwrap_or_default()
    };
    let Some(sig) = a.signature.or_else(|| shows(&sc).into_iter().next()) else {
        return Err(Failure::Input(format!(
            "{}: the tree shows no finding",
            input.display()
        )));
    };
    if !shows(&sc).contains(&sig) {
        return Err(Failure::Input(format!(
            "{}: the tree does not show {sig}",
            input.display()
        )));
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(a.seconds);
    let keep = |s: &Scenario| shows(s).contains(&sig);
    let mut m = minimizer::minimize_while(&sc, &keep, deadline);
    let (before, after) = (explorer::size(&sc), explorer::size(&m));
    let name = engine.borrow().name();
    m.header = vec![format!(
        "{sig} on {name}: minimized from {} to {} descriptors + ranges.",
        before.0, after.0
    )];
    m.eras = vec![engine.borrow().era()];
    m.header.extend(corpus::expect_lines(&m));
    write_out(output, m.to_text().as_bytes())?;
    println!(
        "{}: {sig} kept on {name}, {} -> {} descriptors + ranges",
        output.display(),
        before.0,
        after.0
    );
    Ok(())
}

fn minimize(a: &MinimizeArgs) -> Result<(), Failure> {
    if let Some(dir) = &a.tree {
        return minimize_on_tree(a, dir);
    }
    let (input, output) = (a.input.as_path(), a.output.as_path());
    check_output(output, &[input])?;
    let sc = load_any(input, a.artifact, a.codec == "v1")?;
    let Some(goal) = Goal::choose(&sc, a.era, a.signature) else {
        let what = a
            .signature
            .map_or_else(|| "any finding".to_string(), |s| s.to_string());
        let said = match a.era {
            Some(e) => format!("era {e} does not show {what}"),
            None => format!("no era of the case shows {what}"),
        };
        return Err(Failure::Input(format!("{}: {said}", input.display())));
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(a.seconds);
    let done = minimizer::minimize_until(&sc, &|s: &Scenario| goal.holds(s), deadline);
    let mut m = done.scenario;
    let (before, after) = (explorer::size(&sc), explorer::size(&m));
    let how = if done.converged {
        "locally minimal".to_string()
    } else {
        format!("stopped at the time limit ({} s)", a.seconds)
    };
    m.header = vec![format!(
        "{} in {}: minimized from {} to {} descriptors + ranges, {how}.",
        goal.signature, goal.era, before.0, after.0,
    )];
    m.header.extend(corpus::expect_lines(&m));
    write_out(output, m.to_text().as_bytes())?;
    println!(
        "{}: {} kept, {} -> {} descriptors + ranges, {how}",
        output.display(),
        goal.signature,
        before.0,
        after.0
    );
    Ok(())
}

/// Prints `text`, or writes it to `output` whole.
fn emit(text: &str, output: Option<&Path>) -> Result<(), Failure> {
    match output {
        Some(path) => write_out(path, text.as_bytes()),
        None => {
            print!("{text}");
            Ok(())
        }
    }
}

fn import_dmesg(a: ImportArgs) -> Result<(), Failure> {
    use efimap_core::cases::scenario::{cmdline_problem, MAX_RESERVATIONS};
    let ImportArgs {
        log,
        cmdline,
        reserve,
        desc_size,
        map,
        output,
    } = a;
    let (log, output) = (log.as_path(), output.as_deref());
    if let Some(out) = output {
        check_output(out, &[log])?;
    }
    // The flags' own bounds, named by the flag.
    if !(40..=4096).contains(&desc_size) {
        return Err(Failure::Input(format!(
            "--desc-size: expected a stride from 40 to 4096, found {desc_size}"
        )));
    }
    if reserve.len() > MAX_RESERVATIONS {
        return Err(Failure::Input(format!(
            "--reserve: expected at most {MAX_RESERVATIONS}, found {}",
            reserve.len()
        )));
    }
    if let Some(problem) = cmdline.as_deref().and_then(cmdline_problem) {
        return Err(Failure::Input(format!("--cmdline: expected {problem}")));
    }
    let bytes = std::fs::read(log)
        .map_err(|e| Failure::Input(format!("{}: cannot read: {e}", log.display())))?;
    let text = String::from_utf8_lossy(&bytes);
    let name = log
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let opts = efimap_core::cases::dmesg::LogImport {
        map,
        desc_size,
        reservations: reserve,
        cmdline,
    };
    let (sc, warnings) =
        efimap_core::cases::dmesg::scenario_of_log(&text, &name, opts).map_err(boot::at(log))?;
    for (line, w) in &warnings {
        eprintln!("{}:{line}: warning: {w}", log.display());
    }
    let text = sc.to_text();
    emit(&text, output)
}

/// The figures of `diff --model FIX --era BASE --except SIG` for a report.
fn verify_fix(
    sc: &Scenario,
    random: u64,
) -> Result<Option<efimap_core::cases::export::FixCheck>, Failure> {
    let corpus_files = load_corpus(Path::new(efimap_cli::CORPUS))?;
    efimap_core::search::diff::verify_fix(sc, corpus_files, random)
        .map(Some)
        .map_err(|e| Failure::Input(format!("--verify: expected {e}")))
}

fn export(
    file: &Path,
    form: Form,
    output: Option<&Path>,
    verify: Option<u64>,
) -> Result<(), Failure> {
    if verify.is_some() && !matches!(form, Form::Report) {
        return Err(Failure::Input(
            "--verify: expected with --as report only (it verifies a report's proposed fix)".into(),
        ));
    }
    if let Some(out) = output {
        check_output(out, &[file])?;
    }
    let sc = corpus::load(file)?;
    let name = file
        .file_stem()
        .map_or_else(|| "case".to_string(), |n| n.to_string_lossy().into_owned());
    let text = match form {
        Form::Cmdline => efimap_core::cases::export::cmdline(&sc),
        Form::Dmesg => efimap_core::cases::export::dmesg(&sc),
        Form::Kunit => efimap_core::cases::export::kunit(&sc, &name),
        Form::Json => format!("{}\n", sc.to_json()),
        Form::Report => {
            let fix = match verify {
                Some(n) => verify_fix(&sc, n)?,
                None => None,
            };
            efimap_core::cases::export::report(&sc, &name, fix.as_ref())
        }
    };
    emit(&text, output)
}
