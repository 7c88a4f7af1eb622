//! The figures behind efimap's claims, measured in process: model
//! throughput by map size, time to each seed bug for the hunt's searches,
//! the explorer's rate, the minimizer against the proven minimum, and
//! replay time as the corpus grows. `efimap bench` prints them; the fuzzing
//! figures come from `bench/fuzz.sh`, with libFuzzer's own statistics.

use crate::cases::codec::random_scenario;
use crate::cases::report::scenario_report;
use crate::cases::scenario::Scenario;
use crate::judge::findings::check_quiet;
use crate::judge::signature::{Class, Signature};
use crate::model::boot::{run_with, BootInput};
use crate::model::desc::{ty, MemoryDesc};
use crate::model::era::Era;
use crate::model::mem::Fill;
use crate::search::explore::{count, explore, size, Bound};
use crate::search::minimize::{minimize, Goal};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// The seed bug classes of the 2019 thread.
pub const SEED_CLASSES: [Signature; 4] = crate::judge::signature::SEED_SIGNATURES;

/// A boot with `n` descriptors (BootServicesData and Conventional in turn,
/// 16 pages each), two ranges inside the first Conventional one and a
/// reservation inside the first BootServicesData one.
pub fn sized_input(n: usize) -> BootInput {
    let map = (0..n as u64)
        .map(|i| {
            let t = if i % 2 == 0 {
                ty::BOOT_SERVICES_DATA
            } else {
                ty::CONVENTIONAL_MEMORY
            };
            MemoryDesc::new(t, i * 0x10000, 16, 0xf)
        })
        .collect();
    BootInput {
        map,
        fill: Fill::Zero,
        cmdline: "efi_fake_mem=0x2000@0x12000:0x40000,0x2000@0x14000:0x40000".into(),
        reservations: vec![(0x3000, 0x2000)],
        ..BootInput::default()
    }
}

/// Boots per second of `era` on `input`, over about `time`.
pub fn boots_per_second(era: Era, input: &BootInput, time: Duration) -> f64 {
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < time {
        let _ = run_with(era, input, true);
        n += 1;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

/// Classified boots per second (run plus findings), as the searches do them.
pub fn checks_per_second(era: Era, input: &BootInput, time: Duration) -> f64 {
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < time {
        let _ = check_quiet(era, input);
        n += 1;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

/// When one search first showed each seed class in a buggy era: time and
/// scenarios checked.
pub type FirstHits = BTreeMap<Signature, (Duration, u64)>;

fn note(hits: &mut FirstHits, sc: &Scenario, eras: &[Era], start: Instant, n: u64) {
    for &era in eras {
        if let Ok((_, c)) = check_quiet(era, &sc.input) {
            for class in SEED_CLASSES {
                if c.signatures().contains(&class) {
                    hits.entry(class).or_insert((start.elapsed(), n));
                }
            }
        }
    }
}

/// The hunt's exhaustive search over its default bound until every seed
/// class has shown in v5.5 (deterministic: no seed).
pub fn time_to_bug_exhaustive(bound: &Bound, limit: Duration) -> FirstHits {
    let start = Instant::now();
    let mut hits = FirstHits::new();
    let mut n = 0;
    crate::search::explore::for_each_scenario(bound, |sc, _| {
        n += 1;
        note(&mut hits, &sc, &[Era::V5_5], start, n);
        hits.len() < SEED_CLASSES.len() && start.elapsed() < limit
    });
    hits
}

/// The hunt's random search alone, with `seed`, until every seed class has
/// shown in v5.5 or `limit` passes.
pub fn time_to_bug_random(seed: u64, limit: Duration) -> FirstHits {
    let start = Instant::now();
    let mut hits = FirstHits::new();
    let mut rng = StdRng::seed_from_u64(seed);
    let mut bytes = Vec::new();
    let mut n = 0;
    while hits.len() < SEED_CLASSES.len() && start.elapsed() < limit {
        n += 1;
        let sc = random_scenario(&mut rng, &mut bytes);
        note(&mut hits, &sc, &[Era::V5_5], start, n);
    }
    hits
}

/// The explorer on `bound` in v5.5: scenarios checked, seconds, rate.
pub fn explorer_rate(bound: &Bound, limit: Duration) -> (u64, u64, f64) {
    let start = Instant::now();
    let found = explore(bound, &[Era::V5_5], |_, _| start.elapsed() < limit);
    let secs = start.elapsed().as_secs_f64();
    let total = count(bound).map_or(u64::MAX, |n| u64::try_from(n).unwrap_or(u64::MAX));
    (found.checked, total, found.checked as f64 / secs)
}

/// For each seed class: the minimizer's size from `from` over the proven
/// minimum in `bound`, and the minimizer's time.
pub fn minimizer_quality(
    from: &Scenario,
    bound: &Bound,
) -> Vec<(Signature, usize, usize, Duration)> {
    let proven = explore(bound, &[Era::V5_5], |_, _| true);
    SEED_CLASSES
        .iter()
        .map(|&class| {
            let goal = Goal {
                era: Era::V5_5,
                signature: class,
            };
            let t = Instant::now();
            let m = minimize(from, &goal, Instant::now() + Duration::from_secs(60));
            let dt = t.elapsed();
            let min = proven
                .minimum
                .get(&class)
                .map_or(0, |e| size(&e.scenario).0);
            (class, size(&m).0, min, dt)
        })
        .collect()
}

/// Seconds to render every scenario's whole outcome (what the snapshot
/// replay does), for the corpus repeated `times` times.
pub fn replay_seconds(corpus: &[Scenario], times: usize) -> f64 {
    let start = Instant::now();
    for _ in 0..times {
        for sc in corpus {
            std::hint::black_box(scenario_report(sc));
        }
    }
    start.elapsed().as_secs_f64()
}

/// Median and range of some durations, in seconds.
pub fn median_range(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        return (0.0, 0.0, 0.0);
    }
    let med = if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    };
    (med, v[0], v[n - 1])
}

/// `fuzzing::fake_mem` in process on seeded random inputs (the known
/// findings of the fixed code not counted), per second: the fuzz target's
/// work without libFuzzer and its instrumentation.
pub fn fake_mem_target_rate(time: Duration) -> f64 {
    let mut cfg = crate::search::fuzzing::Config {
        eras: Era::all(),
        ..Default::default()
    };
    // Every finding known: the loop measures the work, not the panics.
    for class in crate::judge::findings::Class::ALL {
        for f in [
            "efi_fake_memmap",
            "efi_arch_mem_reserve",
            "efi_memmap_insert",
            "efi_memmap_init_late",
            "efi_clean_memmap",
            "kexec_enter_virtual_mode",
            "__early_ioremap",
        ] {
            cfg.known.insert(Signature::new(class, f));
        }
    }
    cfg.known
        .insert(Signature::new(Class::Divergence, "efi_fake_memmap"));
    let mut rng = StdRng::seed_from_u64(7);
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < time {
        let len = rng.gen_range(0..160);
        let bytes: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
        if std::panic::catch_unwind(|| crate::search::fuzzing::fake_mem(&bytes, &cfg)).is_ok() {
            n += 1;
        }
    }
    n as f64 / start.elapsed().as_secs_f64()
}

/// Quiet boots per second through `engine` and through the model of its
/// era, on the same `n` seeded random scenarios (the fuzz decoder's).
pub fn engine_rates(
    engine: &mut dyn crate::engine::Engine,
    n: usize,
    seed: u64,
) -> Result<(f64, f64), crate::engine::EngineError> {
    let mut rng = StdRng::seed_from_u64(seed);
    let inputs: Vec<BootInput> = (0..n)
        .map(|_| random_scenario(&mut rng, &mut Vec::new()).input)
        .collect();
    let rate = |e: &mut dyn crate::engine::Engine| {
        let t = Instant::now();
        for i in &inputs {
            match e.boot(i, true) {
                Ok(_) | Err(crate::engine::EngineError::Input(_)) => {}
                Err(f) => return Err(f),
            }
        }
        Ok(n as f64 / t.elapsed().as_secs_f64())
    };
    let tree = rate(engine)?;
    let model = rate(&mut crate::engine::ModelEngine(engine.era()))?;
    Ok((tree, model))
}

/// The inputs of a libFuzzer corpus folder: every regular file's bytes,
/// in name order (subfolders are not read).
pub fn fuzz_corpus_inputs(dir: &std::path::Path) -> std::io::Result<Vec<Vec<u8>>> {
    let mut paths: Vec<std::path::PathBuf> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    paths.retain(|p| p.is_file());
    paths.sort();
    paths.iter().map(std::fs::read).collect()
}

/// A fuzz target's check in process, over `inputs` in turn and again
/// until about `time` has passed (at least once through): executions
/// and executions per second, the figure to hold libFuzzer's exec/s on
/// the same inputs against. An input whose check panics (a crash under
/// `cfg`) counts as executed; the panic message is not printed.
pub fn fuzz_check_rate(
    check: crate::search::fuzzing::Check,
    cfg: &crate::search::fuzzing::Config,
    inputs: &[Vec<u8>],
    time: Duration,
) -> (u64, f64) {
    if inputs.is_empty() {
        return (0, 0.0);
    }
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let start = Instant::now();
    let mut n = 0u64;
    while n < inputs.len() as u64 || start.elapsed() < time {
        for data in inputs {
            let _ = std::panic::catch_unwind(|| check(data, cfg));
        }
        n += inputs.len() as u64;
    }
    let secs = start.elapsed().as_secs_f64();
    std::panic::set_hook(hook);
    (n, n as f64 / secs)
}

/// When the default hunt first showed one bug of
/// [`crate::judge::history::BUGS`]: since the start, after how many
/// scenarios, in which phase.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BugHit {
    pub at: Duration,
    pub after: u64,
    pub phase: crate::search::hunt::Phase,
}

/// The default hunt's searches with `seed` (its exhaustive bound, then its
/// random phase), every scenario booted in every era and classified as the
/// hunt counts findings, on one thread, until every bug of the history has
/// shown or `limit` passes: each bug's first sighting, in the table's
/// order. With `v1`, the random phase draws as it did before the grammar
/// ([`draw`]), for comparison.
pub fn time_to_bugs(seed: u64, limit: Duration, v1: bool) -> Vec<Option<BugHit>> {
    use crate::judge::history::BUGS;
    use crate::search::hunt::{random_scenarios, HuntConfig, Phase};
    let start = Instant::now();
    let eras = Era::all();
    let mut first: Vec<Option<BugHit>> = vec![None; BUGS.len()];
    let mut note = |sc: &Scenario, phase: Phase, n: u64| -> bool {
        let shown: Vec<std::collections::BTreeSet<Signature>> = eras
            .iter()
            .map(|&e| match check_quiet(e, &sc.input) {
                Ok((_, c)) => c.counted().map(|f| f.signature()).collect(),
                Err(_) => Default::default(),
            })
            .collect();
        for (bug, slot) in BUGS.iter().zip(first.iter_mut()) {
            if slot.is_none() && bug.shown(|e| shown[e.index()].contains(&bug.signature)) {
                *slot = Some(BugHit {
                    at: start.elapsed(),
                    after: n,
                    phase,
                });
            }
        }
        first.iter().any(Option::is_none) && start.elapsed() < limit
    };
    let (mut go_on, mut n) = (true, 0);
    crate::search::explore::for_each_scenario(&HuntConfig::default().bound, |sc, _| {
        n += 1;
        go_on = note(&sc, Phase::Exhaustive, n);
        go_on
    });
    if go_on && v1 {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut bytes = Vec::new();
        for i in 1.. {
            if !note(&draw(&mut rng, &mut bytes, true), Phase::Random, i) {
                break;
            }
        }
    } else if go_on {
        for (i, sc) in random_scenarios(seed).enumerate() {
            if !note(&sc, Phase::Random, i as u64 + 1) {
                break;
            }
        }
    }
    first
}

/// One scenario drawn as the searches draw them, its bytes left in
/// `bytes`: with `v1`, as they drew them before the grammar (0 to 159
/// random bytes through the first encoding).
pub fn draw(rng: &mut StdRng, bytes: &mut Vec<u8>, v1: bool) -> Scenario {
    if v1 {
        use rand::Rng;
        bytes.clear();
        let len = rng.gen_range(0..160);
        bytes.extend((0..len).map(|_| rng.gen::<u8>()));
        crate::cases::codec::v1::decode(bytes)
    } else {
        random_scenario(rng, bytes)
    }
}

/// `n` scenarios drawn as the searches draw them, seeded, tallied by
/// dimension: with `v1`, as they drew them before the grammar, for
/// comparison.
pub fn generator_dimensions(n: u64, seed: u64, v1: bool) -> crate::search::reach::Dimensions {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut bytes = Vec::new();
    let mut d = crate::search::reach::Dimensions::default();
    for _ in 0..n {
        d.add(&draw(&mut rng, &mut bytes, v1).input);
    }
    d
}
