//! `efimap bench`: the in-process figures of BENCHMARKS.md.

use crate::Failure;
use efimap_core::bench::*;
use efimap_core::cases::corpus;
use efimap_core::search::explore::Bound;
use efimap_core::Era;
use std::path::Path;
use std::time::Duration;

pub fn run(seconds: f64, seeds: u64, corpus_dir: &Path) -> Result<(), Failure> {
    let t = Duration::from_secs_f64(seconds);
    println!("1. Model throughput: boots per second (quiet), and classified boots per second");
    let names: Vec<String> = Era::all()
        .iter()
        .map(|e| format!("{:>10}", e.name()))
        .collect();
    println!("   {:>6} {}   checked v6.10", "descs", names.join(" "));
    for n in [1, 4, 16, 64, 256] {
        let input = sized_input(n);
        let rates: Vec<String> = Era::all()
            .iter()
            .map(|&e| format!("{:>10.0}", boots_per_second(e, &input, t / 5)))
            .collect();
        let checked = checks_per_second(Era::V6_10, &input, t / 5);
        println!("   {n:>6} {}   {checked:>10.0}", rates.join(" "));
    }

    println!();
    println!("2. The fake_mem fuzz target's checks in process, on seeded random inputs (all eras)");
    println!(
        "   {:.0} per second (compare with libFuzzer's exec/s in bench/fuzz.sh)",
        fake_mem_target_rate(t)
    );

    println!();
    println!("3. Time to each seed bug in v5.5 (the hunt's searches, from nothing)");
    let bound = Bound {
        descs: 1,
        ranges: 2,
        pages: 4,
        reserve: true,
    };
    let ex = time_to_bug_exhaustive(&bound, Duration::from_secs(30));
    for class in SEED_CLASSES {
        match ex.get(&class) {
            Some((d, n)) => println!(
                "   exhaustive  {class:34} {:>9.3} ms after {n:>6} scenarios",
                d.as_secs_f64() * 1e3
            ),
            None => println!("   exhaustive  {class:34} not found"),
        }
    }
    let runs: Vec<FirstHits> = (1..=seeds)
        .map(|s| time_to_bug_random(s, Duration::from_secs(30)))
        .collect();
    for class in SEED_CLASSES {
        let times: Vec<f64> = runs
            .iter()
            .filter_map(|h| h.get(&class).map(|x| x.0.as_secs_f64() * 1e3))
            .collect();
        let counts: Vec<f64> = runs
            .iter()
            .filter_map(|h| h.get(&class).map(|x| x.1 as f64))
            .collect();
        let (tm, tlo, thi) = median_range(times.clone());
        let (cm, clo, chi) = median_range(counts);
        println!(
            "   random      {class:34} median {tm:>8.3} ms [{tlo:.3}..{thi:.3}], {cm:>7.0} scenarios [{clo:.0}..{chi:.0}], found in {}/{seeds} seeds",
            times.len()
        );
    }

    println!();
    println!("4. Exhaustive explorer (v5.5): scenarios per second, wall time");
    // (descriptors, ranges, pages, seconds allowed)
    for (descs, ranges, pages, limit) in [
        (1, 2, 4, 60),
        (2, 2, 4, 60),
        (2, 2, 6, 60),
        (3, 2, 16, 20),
        (3, 3, 16, 5),
        (4, 3, 16, 5),
    ] {
        let b = Bound {
            descs,
            ranges,
            pages,
            reserve: true,
        };
        let (checked, total, rate) = explorer_rate(&b, Duration::from_secs(limit));
        let done = if checked == total {
            format!("complete in {:.2} s", checked as f64 / rate)
        } else {
            format!(
                "stopped after {limit} s; whole bound projected at {:.0} s",
                total as f64 / rate
            )
        };
        println!(
            "   descs {} ranges {} pages {:>2}: {total:>14} scenarios, {rate:>9.0}/s, {done}",
            b.descs, b.ranges, b.pages
        );
    }

    println!();
    println!("5. Minimizer from Dan Williams' case: minimized size / proven minimum (descs {}, ranges {}, pages {})", 2, 2, 4);
    let dan = corpus::load(&corpus_dir.join("dan-williams-two-contiguous-sp.scn"))?;
    for (class, got, min, dt) in minimizer_quality(
        &dan,
        &Bound {
            descs: 2,
            ranges: 2,
            pages: 4,
            reserve: true,
        },
    ) {
        println!(
            "   {class:34} {got} / {min} = {:.2}, {:.1} ms",
            got as f64 / min.max(1) as f64,
            dt.as_secs_f64() * 1e3
        );
    }

    println!();
    println!("6. Replay (every era's whole outcome, as the snapshot test renders it)");
    let files = corpus::scenario_files(corpus_dir)?;
    let scenarios = files
        .iter()
        .map(|p| corpus::load(p))
        .collect::<Result<Vec<_>, _>>()?;
    let base = replay_seconds(&scenarios, 1);
    for times in [1, 10, 100] {
        let s = replay_seconds(&scenarios, times);
        println!(
            "   {:>5} files: {:>8.1} ms, {:.2}x the time of x1",
            scenarios.len() * times,
            s * 1e3,
            s / base
        );
    }
    Ok(())
}

/// `efimap bench --fuzz-target T --fuzz-corpus DIR`: the target's check in
/// process over the corpus files, with the config the target reads from
/// the environment. One line, for bench/fuzz.sh to read.
pub fn fuzz_rate(target: &str, dir: &Path, seconds: f64) -> Result<(), Failure> {
    use efimap_core::search::fuzzing::{self, Config, TARGETS};
    let check = fuzzing::target(target).ok_or_else(|| {
        let names: Vec<&str> = TARGETS.iter().map(|(n, _)| *n).collect();
        Failure::Input(format!(
            "--fuzz-target: expected one of {}, found `{target}`",
            names.join(", ")
        ))
    })?;
    let inputs = fuzz_corpus_inputs(dir)
        .map_err(|e| Failure::Input(format!("{}: cannot read: {e}", dir.display())))?;
    if inputs.is_empty() {
        return Err(Failure::Input(format!(
            "{}: expected corpus files, found none",
            dir.display()
        )));
    }
    let (n, rate) = fuzz_check_rate(
        check,
        &Config::from_env(),
        &inputs,
        Duration::from_secs_f64(seconds),
    );
    println!(
        "{target} in process: {} inputs, {n} executions, {rate:.0} exec/s",
        inputs.len()
    );
    Ok(())
}

/// `efimap bench --bugs`: the bug benchmark (BENCHMARKS.md): each bug of
/// the history found by the default hunt's searches, seed by seed, and by
/// `cargo fuzz run boot_flow` from an empty corpus.
pub fn bugs(seeds: u64, seconds: f64, fuzz_seconds: u64, v1: bool) -> Result<(), Failure> {
    use efimap_core::judge::history::BUGS;
    let limit = Duration::from_secs_f64(seconds);
    println!(
        "Bug benchmark: {} bugs of the history; the default hunt's searches (its exhaustive bound, \
         then random with seeds 1..={seeds} drawn through the {} encoding; every era booted per scenario, \
         one thread, at most {seconds} s each)",
        BUGS.len(),
        if v1 { "v1" } else { "v2" }
    );
    let runs: Vec<Vec<Option<BugHit>>> = (1..=seeds).map(|s| time_to_bugs(s, limit, v1)).collect();
    let fuzz: Vec<Vec<Option<f64>>> = if fuzz_seconds > 0 {
        crate::fuzz::build_target("boot_flow")?;
        BUGS.iter()
            .map(|bug| {
                (1..=seeds)
                    .map(|s| crate::fuzz::time_to_bug(bug, s, fuzz_seconds))
                    .collect::<Result<Vec<_>, _>>()
            })
            .collect::<Result<Vec<_>, _>>()?
    } else {
        Vec::new()
    };
    let w = BUGS.iter().map(|b| b.name.len()).max().unwrap_or(0);
    println!(
        "  {:w$} {:20} {:38} {:>6} {:>10} {:>10} {:>12}{}",
        "bug",
        "era",
        "signature",
        "found",
        "median",
        "worst",
        "scenarios",
        if fuzz.is_empty() {
            ""
        } else {
            "   fuzz: found, median, worst (s)"
        }
    );
    for (i, bug) in BUGS.iter().enumerate() {
        let hits: Vec<BugHit> = runs.iter().filter_map(|r| r[i]).collect();
        let ms: Vec<f64> = hits.iter().map(|h| h.at.as_secs_f64() * 1e3).collect();
        let n: Vec<f64> = hits.iter().map(|h| h.after as f64).collect();
        let (med, _, worst) = median_range(ms);
        let (nmed, _, _) = median_range(n);
        let phase = match hits.first().map(|h| h.phase) {
            Some(efimap_core::search::hunt::Phase::Exhaustive) => "x",
            _ => "r",
        };
        let era = match bug.without {
            Some(w) => format!("{} !{}", bug.era, w),
            None => bug.era.to_string(),
        };
        let mut line = format!(
            "  {:w$} {:20} {:38} {:>6} {:>8.2}ms {:>8.2}ms {:>11.0}{phase}",
            bug.name,
            era,
            bug.signature.to_string(),
            format!("{}/{seeds}", hits.len()),
            med,
            worst,
            nmed
        );
        if let Some(f) = fuzz.get(i) {
            let t: Vec<f64> = f.iter().flatten().copied().collect();
            let (fm, _, fw) = median_range(t.clone());
            line.push_str(&format!("   {}/{seeds}, {fm:.2}, {fw:.2}", t.len()));
        }
        println!("{line}");
    }
    println!(
        "  (median and worst over the seeds that found it; scenarios: the median count until then, \
         x = in the exhaustive bound, the same for every seed; `era !other`: shown in era, not in other on the same input)"
    );
    Ok(())
}
