//! `efimap hunt`: an exhaustive small-scope search, then a random
//! structure-aware one, over the chosen eras for a time budget; every new
//! signature is minimized into a readable reproducer.
//!
//! Findings are kept apart by where they occur: in the eras with the buggy
//! `efi_fake_memmap` (v5.4, v5.5), where the seed bugs live, and in the
//! fixed eras, where anything found is a candidate new bug (or one the
//! fixed code is known to have). As in fuzzing, memory-safety findings
//! count on any input and the others only on input the oracle can judge.

use crate::cases::codec::decode;
use crate::cases::scenario::Scenario;
use crate::judge::findings::check_quiet;
use crate::judge::signature::Signature;
use crate::model::era::{Era, FakeMem};
use crate::search::explore::{size, Bound};
use crate::search::fuzzing::KNOWN_IN_FIXED_CODE;
use crate::search::minimize::{minimize, Goal};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::{BTreeMap, BTreeSet};
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
        }
    }
}

/// One signature found in one group of eras.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hit {
    pub signature: Signature,
    pub group: Group,
    /// The eras of the group in which the first example shows it.
    pub eras: BTreeSet<Era>,
    pub phase: Phase,
    /// Since the hunt started.
    pub first_at: Duration,
    /// Scenarios checked until then (in this phase).
    pub first_after: u64,
    pub example: Scenario,
    pub minimized: Scenario,
    /// Descriptors plus ranges, then reservations, of `minimized`.
    pub size: (usize, usize),
    /// The fixed code is known to do this.
    pub known: bool,
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

/// The signatures a checked scenario shows that count, per era.
fn counted(era: Era, sc: &Scenario) -> Vec<Signature> {
    let Ok((_, c)) = check_quiet(era, &sc.input) else {
        return Vec::new();
    };
    c.counted().map(|f| f.signature()).collect()
}

struct First {
    era: Era,
    phase: Phase,
    at: Duration,
    after: u64,
    example: Scenario,
}

/// Runs the hunt. `progress` is told what happens; it returns false to stop.
pub fn hunt(cfg: &HuntConfig, mut progress: impl FnMut(Progress) -> bool) -> Vec<Hit> {
    let start = Instant::now();
    let search_end = start + cfg.budget.mul_f64(0.8);
    let mut first: BTreeMap<(Signature, Group), First> = BTreeMap::new();
    let note = |first: &mut BTreeMap<(Signature, Group), First>,
                progress: &mut dyn FnMut(Progress) -> bool,
                sc: &Scenario,
                phase: Phase,
                after: u64| {
        for &era in &cfg.eras {
            for sig in counted(era, sc) {
                let group = Group::of(era);
                if let std::collections::btree_map::Entry::Vacant(slot) = first.entry((sig, group))
                {
                    slot.insert(First {
                        era,
                        phase,
                        at: start.elapsed(),
                        after,
                        example: sc.clone(),
                    });
                    progress(Progress::Found {
                        signature: sig,
                        group,
                        era,
                    });
                }
            }
        }
    };

    // 1. Exhaustive: every scenario in the small bound.
    let total = crate::search::explore::count(&cfg.bound);
    let mut checked = 0u64;
    crate::search::explore::for_each_scenario(&cfg.bound, |sc, _| {
        checked += 1;
        note(&mut first, &mut progress, &sc, Phase::Exhaustive, checked);
        let go_on = checked % 256 != 0
            || progress(Progress::Checked {
                phase: Phase::Exhaustive,
                checked,
                total: Some(total),
                hits: first.len(),
            });
        go_on && Instant::now() < search_end
    });

    // 2. Random, structure-aware: random bytes through the fuzz decoder.
    let mut rng = StdRng::seed_from_u64(cfg.seed);
    let mut checked = 0u64;
    let mut bytes = Vec::new();
    while Instant::now() < search_end {
        bytes.clear();
        let len = rng.gen_range(0..160);
        bytes.extend((0..len).map(|_| rng.gen::<u8>()));
        let sc = decode(&bytes);
        checked += 1;
        note(&mut first, &mut progress, &sc, Phase::Random, checked);
        if checked % 256 == 0
            && !progress(Progress::Checked {
                phase: Phase::Random,
                checked,
                total: None,
                hits: first.len(),
            })
        {
            break;
        }
    }

    // 3. Minimize each, sharing what is left of the budget.
    let n = first.len();
    let mut hits = Vec::new();
    for (i, ((signature, group), f)) in first.into_iter().enumerate() {
        progress(Progress::Minimizing {
            index: i,
            of: n,
            signature,
        });
        let left = (start + cfg.budget).saturating_duration_since(Instant::now());
        let share = left / (n - i).max(1) as u32;
        let goal = Goal {
            era: f.era,
            signature,
        };
        let minimized = minimize(
            &f.example,
            &goal,
            Instant::now() + share.max(Duration::from_millis(200)),
        );
        let eras = cfg
            .eras
            .iter()
            .copied()
            .filter(|&e| Group::of(e) == group && counted(e, &minimized).contains(&signature))
            .collect();
        hits.push(Hit {
            known: group == Group::Fixed && KNOWN_IN_FIXED_CODE.contains(&signature),
            size: size(&minimized),
            signature,
            group,
            eras,
            phase: f.phase,
            first_at: f.at,
            first_after: f.after,
            example: f.example,
            minimized,
        });
    }
    hits
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
        format!(
            "Occurs in {}.",
            hit.eras
                .iter()
                .map(|e| e.name())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    ];
    sc.header.extend(crate::cases::corpus::expect_lines(&sc));
    sc
}
