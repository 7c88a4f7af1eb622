//! `efimap review PATCH`: reads the patch and the arguments, holds the
//! `-o` folder, runs the review (`efimap_core::search::review::session`)
//! with a spinner, prints the report and what the review reached. Exit 1
//! when the patch adds a finding.

use crate::{cache_dir, shim_dir, Failure};
use efimap_cli::{ReviewArgs, ReviewForm};
use efimap_core::cases::corpus::InputFileError;
use efimap_core::cases::patch::Series;
use efimap_core::search::review::session::{self, ReviewFolder, Session, SessionError, Source};
use efimap_core::search::review::ReviewConfig;
use std::time::{Duration, Instant};

pub fn run(a: &ReviewArgs) -> Result<(), Failure> {
    let started = Instant::now();
    let text = std::fs::read(&a.patch)
        .map_err(|e| Failure::Input(format!("{}: cannot read: {e}", a.patch.display())))?;
    let text = String::from_utf8_lossy(&text);
    let mut series = Series::parse(&a.patch, &text)?;
    let cwd = std::env::current_dir()
        .map_err(|e| Failure::Input(format!("cannot read the current directory: {e}")))?;
    let src = Source::find(a.tree.as_deref(), &cwd, &series).map_err(Failure::Input)?;
    let fresh = !a.out.exists();
    let _claim = ReviewFolder::claim(&a.out).map_err(Failure::Input)?;
    let gcov = !a.no_coverage;
    let (shims, cache) = (shim_dir(), cache_dir());
    // The corpus is read before anything is built: a bad one fails at once.
    let s = Session {
        out: &a.out,
        gcov,
        config: ReviewConfig {
            phases: crate::phases(&a.corpus, a.random, a.budget, a.seed)?,
            minimize: Duration::from_secs(a.minimize),
        },
        shims: &shims,
        cache: &cache,
        patch_name: a.patch.display().to_string(),
        fresh,
    };
    let spinner = crate::hunt::counter("efimap review");
    spinner.enable_steady_tick(Duration::from_millis(200));
    let done = session::run(&mut series, &src, &s, &|what| {
        spinner.set_message(what.to_string())
    })
    .map_err(|e| match e {
        SessionError::Rejected { line, message } => Failure::from(InputFileError {
            path: a.patch.clone(),
            line,
            col: usize::from(line > 0),
            message,
        }),
        SessionError::Other(m) => Failure::Input(m),
    })?;
    spinner.finish_and_clear();
    let r = &done.review;
    let out = a.out.display().to_string();
    let (report, name) = match a.form {
        ReviewForm::Text => (r.text(&out), "report.txt"),
        ReviewForm::Mail => (r.mail(&series), "report.mail"),
    };
    done.write(&a.out, name, &report).map_err(Failure::Input)?;
    print!("{report}");
    // What the review reached, for the terminal (not the report or mail).
    let [before_reach, after_reach] = &r.run.reach;
    eprintln!();
    eprintln!("The tree before the patch:");
    eprint!("{}", before_reach.table());
    eprintln!("The tree after it, the calls of its boots:");
    eprint!("{}", after_reach.calls_table());
    eprintln!(
        "efimap review: {:.1} s (builds {:.1} s and {:.1} s{}, {} scenarios on both trees in {:.1} s)",
        started.elapsed().as_secs_f64(),
        done.builds[0].as_secs_f64(),
        done.builds[1].as_secs_f64(),
        if gcov { ", gcov" } else { "" },
        r.run.checked(),
        done.searched.as_secs_f64()
    );
    if r.adds_findings() {
        Err(Failure::Findings)
    } else {
        Ok(())
    }
}
