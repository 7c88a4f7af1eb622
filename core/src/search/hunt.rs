//! `efimap hunt`: an exhaustive small-scope search, then a random
//! structure-aware one, over the chosen eras for a time budget; every new
//! signature is minimized into a readable reproducer.
//!
//! Findings are kept apart by where they occur: in the eras with the buggy
//! `efi_fake_memmap` (v5.4, v5.5), where the seed bugs live, and in the
//! fixed eras, where anything found is a candidate new bug unless a known
//! cause ([`crate::judge::known`]) explains it: a fixed-era row is known
//! only if every example the hunt saw is explained, and its minimized
//! example too; a signature with an unexplained example is minimized from
//! that example, while it stays unexplained. As in fuzzing, the findings
//! that need no oracle (faults, a map installed unwritten) count on any
//! input and the others only on input the oracle can judge.

use crate::cases::codec::random_scenario;
use crate::cases::scenario::Scenario;
use crate::engine::{Engine, EngineError, ModelEngine};
use crate::judge::findings::check_on;
use crate::judge::known::{explain, KnownBug};
use crate::judge::signature::Signature;
use crate::model::era::{Era, FakeMem};
use crate::search::explore::{size, Bound};
use crate::search::minimize::minimize_while;
use crate::search::parallel::{self, Shared};
use crate::search::reach::Reach;
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Where a finding occurs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Group {
    /// v5.4 and v5.5: the buggy efi_fake_memmap.
    Buggy,
    /// v5.6 and later.
    Fixed,
}

impl Group {
    pub fn of(era: Era) -> Group {
        if era.features().fake_mem == FakeMem::Buggy {
            Group::Buggy
        } else {
            Group::Fixed
        }
    }
}

/// Which search found something first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Phase {
    Exhaustive,
    Random,
}

/// How to hunt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HuntConfig {
    pub eras: Vec<Era>,
    pub budget: Duration,
    pub seed: u64,
    /// The exhaustive phase's bound.
    pub bound: Bound,
    /// Threads for the random phase (when every engine forks).
    pub jobs: usize,
    /// Stop the random phase after this many scenarios (rounded up to
    /// whole batches of [`RANDOM_BATCH`]) if the budget lasts: a hunt that
    /// checks the same scenarios however fast the machine is.
    pub random_scenarios: Option<u64>,
}

impl Default for HuntConfig {
    fn default() -> Self {
        HuntConfig {
            eras: Era::all(),
            budget: Duration::from_secs(30),
            seed: 0,
            bound: Bound {
                descs: 1,
                ranges: 2,
                pages: 4,
                reserve: true,
            },
            jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
            random_scenarios: None,
        }
    }
}

/// One signature found in one group of eras.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hit {
    pub signature: Signature,
    pub group: Group,
    /// The eras of the group in which the minimized example shows it.
    pub eras: BTreeSet<Era>,
    /// The engines (of the group) that show it on the minimized example,
    /// by name: `model v5.5`, `tree 6.12.58 (v6.12.y)`, ...
    pub engines: Vec<String>,
    pub phase: Phase,
    /// Since the hunt started.
    pub first_at: Duration,
    /// Scenarios checked until then (in this phase).
    pub first_after: u64,
    pub example: Scenario,
    pub minimized: Scenario,
    /// Descriptors plus ranges, then reservations, of `minimized`.
    pub size: (usize, usize),
    /// Scenarios that showed it, and how many of them no known cause
    /// explains (all, in the buggy eras, of which the table does not speak).
    pub seen: u64,
    pub unexplained: u64,
    /// The fixed code is known to do this: a fixed-era hit every example
    /// of which, the minimized one included, a known cause explains.
    pub known: bool,
    /// That cause, on the minimized example.
    pub cause: Option<&'static KnownBug>,
}

/// What the hunt reports while it runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Progress {
    /// Scenarios checked so far in a phase, of how many (if known).
    Checked {
        phase: Phase,
        checked: u64,
        total: Option<u64>,
        hits: usize,
    },
    /// A signature seen for the first time.
    Found {
        signature: Signature,
        group: Group,
        era: Era,
    },
    /// Minimizing hit `index` of `of`.
    Minimizing {
        index: usize,
        of: usize,
        signature: Signature,
    },
}

/// The signatures that count in what `engine` does with `sc`, each with
/// whether a known cause explains every counted instance of it: none for
/// an input no engine runs. The boot's calls go into `reach`.
fn counted(
    engine: &mut dyn Engine,
    sc: &Scenario,
    reach: &mut Reach,
) -> Result<Vec<(Signature, Option<&'static KnownBug>)>, EngineError> {
    match check_on(engine, &sc.input, true)? {
        Ok((o, c)) => {
            reach.boot(&o);
            let mut out: Vec<(Signature, Option<&'static KnownBug>)> = Vec::new();
            for f in c.counted_all() {
                let (sig, cause) = (f.signature(), explain(&sc.input, &o, f));
                match out.last_mut() {
                    // Instances come in signature order.
                    Some((s, known)) if *s == sig => {
                        if cause.is_none() {
                            *known = None;
                        }
                    }
                    _ => out.push((sig, cause)),
                }
            }
            Ok(out)
        }
        Err(_) => Ok(Vec::new()),
    }
}

/// Each signature's first sighting, by group.
type Firsts = BTreeMap<(Signature, Group), First>;

struct First {
    /// Which engine showed it.
    engine: usize,
    phase: Phase,
    at: Duration,
    after: u64,
    example: Scenario,
    seen: u64,
    /// The first example no known cause explains, and the engine.
    unexplained: Option<(usize, Scenario)>,
    /// Its place in the phase's order.
    unexplained_after: u64,
    unexplained_count: u64,
}

impl First {
    /// Engine `engine` showed the signature first on `sc`, number `after`
    /// of `phase`, `at` into the hunt.
    fn new(engine: usize, phase: Phase, at: Duration, after: u64, sc: &Scenario) -> First {
        First {
            engine,
            phase,
            at,
            after,
            example: sc.clone(),
            seen: 0,
            unexplained: None,
            unexplained_after: u64::MAX,
            unexplained_count: 0,
        }
    }

    /// Engine `engine` showed it (again) on `sc`, number `after`;
    /// `explained` if a known cause explains every instance.
    fn saw(&mut self, engine: usize, sc: &Scenario, after: u64, explained: bool) {
        self.seen += 1;
        if !explained {
            self.unexplained_count += 1;
            if self.unexplained.is_none() {
                self.unexplained = Some((engine, sc.clone()));
                self.unexplained_after = after;
            }
        }
    }

    /// Adds what a later part of the search saw of the same signature:
    /// `self` came first, unless `other` holds an earlier example of the
    /// same phase (another thread's).
    fn absorb(&mut self, mut other: First) {
        if other.phase == self.phase && other.after < self.after {
            std::mem::swap(self, &mut other);
        }
        self.seen += other.seen;
        self.unexplained_count += other.unexplained_count;
        let earlier = other.phase == self.phase && other.unexplained_after < self.unexplained_after;
        if other.unexplained.is_some() && (self.unexplained.is_none() || earlier) {
            self.unexplained = other.unexplained;
            self.unexplained_after = other.unexplained_after;
        }
    }
}

/// The random phase's scenarios come in batches of this many; batch `b`
/// is drawn from a generator seeded with the hunt's seed and `b`, so any
/// thread can draw any batch and the scenarios are the same however many
/// threads draw them.
pub const RANDOM_BATCH: u64 = 256;

/// Scenario `j` of batch `b` of the random phase, for `seed`, with the
/// bytes it was decoded from left in `bytes`.
fn random_batch(seed: u64, b: u64, bytes: &mut Vec<u8>, mut f: impl FnMut(u64, Scenario) -> bool) {
    let mut rng = StdRng::seed_from_u64(seed ^ b.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    for j in 0..RANDOM_BATCH {
        if !f(b * RANDOM_BATCH + j + 1, random_scenario(&mut rng, bytes)) {
            return;
        }
    }
}

/// The random phase's scenarios in the order one thread checks them:
/// batch 0, then 1, and so on.
pub fn random_scenarios(seed: u64) -> impl Iterator<Item = Scenario> {
    (0u64..).flat_map(move |b| {
        let mut batch = Vec::with_capacity(RANDOM_BATCH as usize);
        random_batch(seed, b, &mut Vec::new(), |_, sc| {
            batch.push(sc);
            true
        });
        batch
    })
}

fn progress_count(checked: u64) -> Progress {
    Progress::Checked {
        phase: Phase::Random,
        checked,
        total: None,
        hits: 0,
    }
}

/// One thread's share of the random phase: batches taken from `next` in
/// turn until the search's end, a stop, or an engine's failure. Every
/// batch started is finished, so the scenarios checked are whole batches.
/// `report` is told of each signature seen first here and of the count
/// after each batch; false from it stops the phase.
fn random_part(
    cfg: &HuntConfig,
    engines: &mut [&mut dyn Engine],
    next: &AtomicU64,
    shared: &Shared,
    start: Instant,
    search_end: Instant,
    report: &mut dyn FnMut(Progress) -> bool,
) -> Result<(Firsts, Reach), EngineError> {
    let mut found: BTreeMap<(Signature, Group), First> = BTreeMap::new();
    let mut reach = Reach::default();
    let mut bytes = Vec::new();
    let mut failure = None;
    while !shared.stopped() && Instant::now() < search_end {
        let b = next.fetch_add(1, Ordering::Relaxed);
        if cfg.random_scenarios.is_some_and(|n| b * RANDOM_BATCH >= n) {
            break;
        }
        random_batch(cfg.seed, b, &mut bytes, |after, sc| {
            reach.scenario(&sc.input);
            for (i, engine) in engines.iter_mut().enumerate() {
                let era = engine.era();
                let group = Group::of(era);
                let sigs = match counted(&mut **engine, &sc, &mut reach) {
                    Ok(sigs) => sigs,
                    Err(e) => {
                        failure = Some(e);
                        return false;
                    }
                };
                for (sig, cause) in sigs {
                    let f = found.entry((sig, group)).or_insert_with(|| {
                        report(Progress::Found {
                            signature: sig,
                            group,
                            era,
                        });
                        First::new(i, Phase::Random, start.elapsed(), after, &sc)
                    });
                    f.saw(i, &sc, after, cause.is_some());
                }
            }
            true
        });
        if let Some(e) = failure {
            return Err(e);
        }
        shared.add(RANDOM_BATCH);
        if !report(progress_count(shared.checked())) {
            shared.stop.store(true, Ordering::Relaxed);
        }
    }
    Ok((found, reach))
}

/// What a hunt found, and what it reached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hunted {
    pub hits: Vec<Hit>,
    /// Both phases' scenarios and boots (the minimizing not counted).
    pub reach: Reach,
}

/// Runs the hunt on the models of `cfg.eras`. `progress` is told what
/// happens; it returns false to stop.
pub fn hunt(cfg: &HuntConfig, progress: impl FnMut(Progress) -> bool) -> Hunted {
    let mut models: Vec<ModelEngine> = cfg.eras.iter().map(|&e| ModelEngine(e)).collect();
    let mut engines: Vec<&mut dyn Engine> =
        models.iter_mut().map(|m| m as &mut dyn Engine).collect();
    hunt_engines(cfg, &mut engines, progress).expect("the model engine does not fail")
}

/// [`hunt`] through any engines (a kernel tree's among them) instead of the
/// models of `cfg.eras`; a finding's group is that of the engine's era.
/// Stops at an engine's failure.
pub fn hunt_engines(
    cfg: &HuntConfig,
    engines: &mut [&mut dyn Engine],
    mut progress: impl FnMut(Progress) -> bool,
) -> Result<Hunted, EngineError> {
    let start = Instant::now();
    let mut reach = Reach::default();
    let search_end = start + cfg.budget.mul_f64(0.8);
    let mut first: BTreeMap<(Signature, Group), First> = BTreeMap::new();
    let mut note = |first: &mut BTreeMap<(Signature, Group), First>,
                    progress: &mut dyn FnMut(Progress) -> bool,
                    sc: &Scenario,
                    phase: Phase,
                    after: u64,
                    reach: &mut Reach|
     -> Result<(), EngineError> {
        reach.scenario(&sc.input);
        for (i, engine) in engines.iter_mut().enumerate() {
            let era = engine.era();
            let group = Group::of(era);
            for (sig, cause) in counted(&mut **engine, sc, reach)? {
                let f = match first.entry((sig, group)) {
                    std::collections::btree_map::Entry::Occupied(slot) => slot.into_mut(),
                    std::collections::btree_map::Entry::Vacant(slot) => {
                        progress(Progress::Found {
                            signature: sig,
                            group,
                            era,
                        });
                        slot.insert(First::new(i, phase, start.elapsed(), after, sc))
                    }
                };
                f.saw(i, sc, after, cause.is_some());
            }
        }
        Ok(())
    };

    // 1. Exhaustive: every scenario in the small bound.
    let total = crate::search::explore::count(&cfg.bound).and_then(|n| u64::try_from(n).ok());
    let mut checked = 0u64;
    let mut failure = None;
    crate::search::explore::for_each_scenario(&cfg.bound, |sc, _| {
        checked += 1;
        if let Err(e) = note(
            &mut first,
            &mut progress,
            &sc,
            Phase::Exhaustive,
            checked,
            &mut reach,
        ) {
            failure = Some(e);
            return false;
        }
        let go_on = checked % 256 != 0
            || progress(Progress::Checked {
                phase: Phase::Exhaustive,
                checked,
                total,
                hits: first.len(),
            });
        go_on && Instant::now() < search_end
    });
    if let Some(e) = failure {
        return Err(e);
    }

    // 2. Random, structure-aware: random bytes through the fuzz decoder,
    // in numbered batches, on every thread if the engines fork. Found is
    // told once per signature and group, whichever thread saw it.
    let shared = Shared::default();
    let next = AtomicU64::new(0);
    let mut told: BTreeSet<(Signature, Group)> = first.keys().copied().collect();
    let mut tell = |p: Progress, progress: &mut dyn FnMut(Progress) -> bool| match p {
        Progress::Found {
            signature, group, ..
        } if !told.insert((signature, group)) => true,
        Progress::Checked { checked, .. } => progress(Progress::Checked {
            phase: Phase::Random,
            checked,
            total: None,
            hits: told.len(),
        }),
        p => progress(p),
    };
    let parts = match parallel::forks(engines, cfg.jobs) {
        Some(sets) => {
            let (tx, rx) = mpsc::channel();
            let parts = parallel::run(
                sets,
                &shared,
                |engines| {
                    let tx = tx.clone();
                    random_part(cfg, engines, &next, &shared, start, search_end, &mut |p| {
                        // The calling thread tells the count itself.
                        if let Progress::Found { .. } = p {
                            let _ = tx.send(p);
                        }
                        true
                    })
                },
                || {
                    let mut go_on = true;
                    for p in rx.try_iter() {
                        go_on &= tell(p, &mut progress);
                    }
                    let checked = shared.checked();
                    go_on && tell(progress_count(checked), &mut progress)
                },
            );
            for p in rx.try_iter() {
                tell(p, &mut progress);
            }
            tell(progress_count(shared.checked()), &mut progress);
            parts
        }
        None => vec![random_part(
            cfg,
            engines,
            &next,
            &shared,
            start,
            search_end,
            &mut |p| tell(p, &mut progress),
        )],
    };
    let mut random = Firsts::new();
    for part in parts {
        let (part, part_reach) = part?;
        reach.merge(&part_reach);
        absorb(&mut random, part);
    }
    absorb(&mut first, random);

    // 3. Minimize each on the engine that showed it, sharing what is left
    // of the budget.
    let hits = minimize_firsts(cfg, engines, first, start, &mut progress)?;
    Ok(Hunted { hits, reach })
}

/// Adds the sightings of `more` to `into`: a signature both saw keeps
/// the earlier first sighting and counts both.
fn absorb(into: &mut Firsts, more: Firsts) {
    for (key, f) in more {
        match into.get_mut(&key) {
            Some(mine) => mine.absorb(f),
            None => {
                into.insert(key, f);
            }
        }
    }
}

/// The hunt's third step: each signature's first sighting minimized on
/// the engine that showed it (an unexplained example of the fixed eras
/// while it stays unexplained), in what is left of the budget shared
/// evenly; the engines of its group that show the minimized case, and
/// the known cause that explains it. Stops at an engine's failure.
fn minimize_firsts(
    cfg: &HuntConfig,
    engines: &mut [&mut dyn Engine],
    first: Firsts,
    start: Instant,
    progress: &mut dyn FnMut(Progress) -> bool,
) -> Result<Vec<Hit>, EngineError> {
    let n = first.len();
    let engines = RefCell::new(engines);
    let failure = RefCell::new(None);
    // Whether engine `i` shows `sig` on `sc`, and the known cause that
    // explains every instance, if one does.
    let shown = |i: usize, sc: &Scenario, sig: Signature| -> Option<Option<&'static KnownBug>> {
        match counted(&mut *engines.borrow_mut()[i], sc, &mut Reach::default()) {
            Ok(sigs) => sigs.into_iter().find(|(s, _)| *s == sig).map(|(_, c)| c),
            Err(e) => {
                failure.borrow_mut().get_or_insert(e);
                None
            }
        }
    };
    let shows = |i: usize, sc: &Scenario, sig: Signature| shown(i, sc, sig).is_some();
    let mut hits = Vec::new();
    for (i, ((signature, group), f)) in first.into_iter().enumerate() {
        progress(Progress::Minimizing {
            index: i,
            of: n,
            signature,
        });
        let left = (start + cfg.budget).saturating_duration_since(Instant::now());
        let share = left / (n - i).max(1) as u32;
        let deadline = Instant::now() + share.max(Duration::from_millis(200));
        // An unexplained example is the candidate new bug: it is the one
        // shrunk, while it stays unexplained.
        let (engine, example, minimized) = match f.unexplained.filter(|_| group == Group::Fixed) {
            Some((e, ex)) => {
                let m = minimize_while(
                    &ex,
                    &|s: &Scenario| shown(e, s, signature) == Some(None),
                    deadline,
                );
                (e, ex, m)
            }
            None => {
                let m = minimize_while(
                    &f.example,
                    &|s: &Scenario| shows(f.engine, s, signature),
                    deadline,
                );
                (f.engine, f.example, m)
            }
        };
        let cause = if group == Group::Fixed && f.unexplained_count == 0 {
            shown(engine, &minimized, signature).flatten()
        } else {
            None
        };
        let count = engines.borrow().len();
        let showing: Vec<usize> = (0..count)
            .filter(|&e| {
                let era = engines.borrow()[e].era();
                Group::of(era) == group && shows(e, &minimized, signature)
            })
            .collect();
        let list = engines.borrow();
        hits.push(Hit {
            known: cause.is_some(),
            cause,
            seen: f.seen,
            unexplained: f.unexplained_count,
            size: size(&minimized),
            signature,
            group,
            eras: showing.iter().map(|&e| list[e].era()).collect(),
            engines: showing.iter().map(|&e| list[e].name()).collect(),
            phase: f.phase,
            first_at: f.at,
            first_after: f.after,
            example,
            minimized,
        });
    }
    match failure.into_inner() {
        Some(e) => Err(e),
        None => Ok(hits),
    }
}

/// The reproducer file for a hit: the minimized scenario with a header
/// saying what it shows and what every era shows now.
pub fn reproducer(hit: &Hit, seed: u64) -> Scenario {
    let mut sc = hit.minimized.clone();
    sc.eras = Era::all();
    let how = match hit.phase {
        Phase::Exhaustive => "the exhaustive search".to_string(),
        Phase::Random => format!("the random search (efimap hunt --seed {seed})"),
    };
    sc.header = vec![
        format!(
            "{}: found by {how} after {} scenarios, then minimized.",
            hit.signature, hit.first_after
        ),
        format!("Occurs in {}.", hit.engines.join(", ")),
    ];
    if let Some(cause) = hit.cause {
        sc.header.push(format!(
            "Known in the fixed code ({}): {}.",
            cause.reference, cause.cause
        ));
    } else if hit.group == Group::Fixed {
        sc.header.push(format!(
            "No known cause explains {} of the {} scenarios that showed it: a candidate new bug.",
            hit.unexplained, hit.seen
        ));
    }
    sc.header.extend(crate::cases::corpus::expect_lines(&sc));
    sc
}

#[cfg(test)]
mod tests {
    use super::*;

    /// In v5.5 the exhaustive phase alone shows the four seed bugs of the
    /// thread, each minimized to its least size: all four need two ranges
    /// (one range is handled right even by the buggy loop) and one
    /// descriptor, and the overrun a reservation besides.
    #[test]
    fn the_exhaustive_phase_finds_the_seed_bugs_in_v5_5() {
        let cfg = HuntConfig {
            eras: vec![Era::V5_5],
            budget: Duration::from_secs(4),
            ..HuntConfig::default()
        };
        let hits = hunt(&cfg, |_| true).hits;
        for (seed, least) in [
            ("over-count/efi_fake_memmap", (3, 0)),
            ("lost-attribute/efi_fake_memmap", (3, 0)),
            ("empty-entry/efi_fake_memmap", (3, 0)),
            ("overrun/efi_arch_mem_reserve", (3, 1)),
        ] {
            let h = hits
                .iter()
                .find(|h| h.signature.to_string() == seed)
                .unwrap_or_else(|| panic!("{seed} not found"));
            assert_eq!(h.phase, Phase::Exhaustive, "{seed}");
            assert_eq!(h.group, Group::Buggy);
            assert_eq!(h.engines, vec!["model v5.5".to_string()]);
            assert_eq!(h.size, least, "{seed}");
        }
    }

    /// The random phase checks the same scenarios on one thread and on
    /// two, and the hunt reports the same hits: each signature with the
    /// same first example, its place in the phase, how often it was seen,
    /// and the same minimized reproducer.
    #[test]
    fn threads_do_not_change_the_hits() {
        let cfg = |jobs| HuntConfig {
            eras: vec![Era::V5_5, Era::V6_10],
            budget: Duration::from_secs(120),
            jobs,
            random_scenarios: Some(4 * RANDOM_BATCH),
            ..HuntConfig::default()
        };
        let mut checked = [0u64; 2];
        let mut runs = [1usize, 2].map(|jobs| {
            hunt(&cfg(jobs), |p| {
                if let Progress::Checked {
                    phase: Phase::Random,
                    checked: n,
                    ..
                } = p
                {
                    checked[jobs - 1] = n;
                }
                true
            })
        });
        assert_eq!(checked, [4 * RANDOM_BATCH; 2]);
        for run in &mut runs {
            for h in run.hits.iter_mut() {
                h.first_at = Duration::ZERO;
            }
        }
        assert!(runs[0].hits.iter().any(|h| h.phase == Phase::Random));
        // The same hits, and the same reach: every scenario and boot of
        // both phases counted once, on one thread or two.
        assert_eq!(runs[0], runs[1]);
        let exhaustive = crate::search::explore::count(&cfg(1).bound).unwrap() as u64;
        assert_eq!(runs[0].reach.dims.scenarios, exhaustive + 4 * RANDOM_BATCH);
        assert_eq!(runs[0].reach.boots, 2 * (exhaustive + 4 * RANDOM_BATCH));
    }
}
