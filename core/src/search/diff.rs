//! The model-versus-kernel differential: the same scenarios through a model
//! era and through an engine that should equal it (a kernel tree), every
//! outcome compared field by field ([`kernel_divergence`]), each new kind
//! of divergence minimized while it still diverges.
//!
//! The same holds a fix against the era it fixes (the engine a model of the
//! fixed era, [`DiffConfig::except`] the finding it fixes): equal outcomes
//! everywhere else, and on the cases of the finding neither it nor any
//! other new finding.

use crate::cases::codec::random_scenario;
use crate::cases::scenario::Scenario;
use crate::engine::{Engine, EngineError, ModelEngine};
use crate::judge::findings::classify;
use crate::judge::signature::Signature;
use crate::judge::verdict::{kernel_divergence, KernelDivergence};
use crate::model::era::Era;
use crate::search::explore::{for_each_scenario, Bound};
use crate::search::minimize::minimize_while;
use crate::search::reach::Reach;
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// The scenarios a differential runs, in order: the corpus, every
/// scenario of an exhaustive bound, then random ones from the fuzz
/// decoder, at least `random` of them and more while `budget` lasts.
#[derive(Clone, Debug)]
pub struct Phases {
    pub corpus: Vec<Scenario>,
    pub bound: Bound,
    pub random: u64,
    pub budget: Duration,
    pub seed: u64,
}

/// How many scenarios of each phase ran.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PhaseCounts {
    pub corpus: u64,
    pub exhaustive: u64,
    pub random: u64,
}

impl Phases {
    /// Calls `note` on each scenario (the random ones for `era`) until it
    /// fails, counting them in `counts`.
    pub fn run<E>(
        &self,
        era: Era,
        counts: &mut PhaseCounts,
        mut note: impl FnMut(&Scenario) -> Result<(), E>,
    ) -> Result<(), E> {
        let end = Instant::now() + self.budget;
        for sc in &self.corpus {
            counts.corpus += 1;
            note(sc)?;
        }
        let mut failure = None;
        for_each_scenario(&self.bound, |sc, _| {
            counts.exhaustive += 1;
            match note(&sc) {
                Ok(()) => true,
                Err(e) => {
                    failure = Some(e);
                    false
                }
            }
        });
        if let Some(e) = failure {
            return Err(e);
        }
        let mut rng = StdRng::seed_from_u64(self.seed);
        let mut bytes = Vec::new();
        while counts.random < self.random || Instant::now() < end {
            let mut sc = random_scenario(&mut rng, &mut bytes);
            sc.eras = vec![era];
            counts.random += 1;
            note(&sc)?;
        }
        Ok(())
    }
}

/// How often [`diff_with_progress`] reports, in scenarios.
pub const PROGRESS_EVERY: u64 = 256;

/// What to run.
#[derive(Clone, Debug)]
pub struct DiffConfig {
    /// The model era the engine should equal.
    pub era: Era,
    pub phases: Phases,
    /// Time for minimizing each new divergence.
    pub minimize: Duration,
    /// A finding the engine is meant not to have (a fix of it): scenarios
    /// on which the model shows it are not compared but counted in
    /// [`DiffReport::fixed`], and checked for it and for new findings.
    pub except: Option<Signature>,
}

/// What was found.
#[derive(Clone, Debug, Default)]
pub struct DiffReport {
    pub corpus: u64,
    pub exhaustive: u64,
    pub random: u64,
    /// Scenarios whose outcomes differed, of all phases.
    pub diverged: u64,
    /// The first divergence of each signature, minimized.
    pub found: BTreeMap<Signature, (KernelDivergence, Scenario)>,
    /// With [`DiffConfig::except`]: the scenarios on which the model shows
    /// it, of them those on which the engine still does, and the first
    /// on which the engine shows a signature the model does not.
    pub fixed: u64,
    pub still: u64,
    pub new_findings: Option<(Signature, Scenario)>,
    /// What the scenarios held and what the model's boots called.
    pub reach: Reach,
    /// What the engine's boots called, where it counts calls (a kernel
    /// tree's driver does).
    pub engine_reach: Reach,
}

impl DiffReport {
    pub fn checked(&self) -> u64 {
        self.corpus + self.exhaustive + self.random
    }
}

/// Runs `engine` against the model of `cfg.era` on the corpus, the
/// exhaustive bound and random scenarios.
pub fn diff(engine: &mut dyn Engine, cfg: &DiffConfig) -> Result<DiffReport, EngineError> {
    diff_with_progress(engine, cfg, &mut |_, _| {})
}

/// [`diff`], telling `progress` after every [`PROGRESS_EVERY`] scenarios
/// how many ran and how many diverged.
pub fn diff_with_progress(
    engine: &mut dyn Engine,
    cfg: &DiffConfig,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<DiffReport, EngineError> {
    let engine = RefCell::new(engine);
    let model = RefCell::new(ModelEngine(cfg.era));
    let mut report = DiffReport::default();
    let reach = RefCell::new((Reach::default(), Reach::default()));
    // The divergence on `sc`, if any. Inputs no engine runs are skipped.
    // With `count`, the scenario and both boots go into the reach (the
    // minimizer's boots do not).
    let boot_both = |sc: &Scenario, count: bool| -> Result<Option<KernelDivergence>, EngineError> {
        // The engine's boot begun first, so that a driver process works on
        // it while this one boots the model.
        let begun = match engine.borrow_mut().begin(&sc.input, true) {
            Ok(t) => t,
            Err(EngineError::Input(_)) => return Ok(None),
            Err(e) => return Err(e),
        };
        let m = model.borrow_mut().boot(&sc.input, true);
        let t = match begun {
            Some(t) => t,
            None => engine.borrow_mut().finish(&sc.input)?,
        };
        let m = match m {
            Ok(m) => m,
            Err(EngineError::Input(_)) => return Ok(None),
            Err(e) => return Err(e),
        };
        if count {
            let (model_reach, engine_reach) = &mut *reach.borrow_mut();
            model_reach.scenario(&sc.input);
            model_reach.boot(&m);
            engine_reach.scenario(&sc.input);
            engine_reach.boot(&t);
        }
        Ok(kernel_divergence(&m, &t))
    };
    let compare = |sc: &Scenario| boot_both(sc, false);
    // With an `except`: whether `sc` is a case of it (counted, checked).
    let excepted = |sc: &Scenario, report: &mut DiffReport| -> Result<bool, EngineError> {
        let Some(sig) = cfg.except else {
            return Ok(false);
        };
        let signatures = |e: &mut dyn Engine| match e.boot(&sc.input, true) {
            Ok(o) => Ok(classify(&sc.input, &o).signatures()),
            Err(EngineError::Input(_)) => Ok(Default::default()),
            Err(e) => Err(e),
        };
        let base = signatures(&mut *model.borrow_mut())?;
        if !base.contains(&sig) {
            return Ok(false);
        }
        report.fixed += 1;
        let ours = signatures(&mut **engine.borrow_mut())?;
        report.still += u64::from(ours.contains(&sig));
        if report.new_findings.is_none() {
            if let Some(&new) = ours.difference(&base).next() {
                report.new_findings = Some((new, sc.clone()));
            }
        }
        Ok(true)
    };
    let note = |sc: &Scenario, report: &mut DiffReport| -> Result<(), EngineError> {
        if excepted(sc, report)? {
            return Ok(());
        }
        if let Some(d) = boot_both(sc, true)? {
            report.diverged += 1;
            let sig = d.signature();
            if let std::collections::btree_map::Entry::Vacant(slot) = report.found.entry(sig) {
                let keep = |s: &Scenario| matches!(compare(s), Ok(Some(e)) if e.signature() == sig);
                let min = minimize_while(sc, &keep, Instant::now() + cfg.minimize);
                let d = compare(&min).ok().flatten().unwrap_or(d);
                slot.insert((d, min));
            }
        }
        Ok(())
    };
    let mut counts = PhaseCounts::default();
    let mut ran_so_far = 0u64;
    let ran = cfg.phases.run(cfg.era, &mut counts, |sc| {
        note(sc, &mut report)?;
        ran_so_far += 1;
        if ran_so_far % PROGRESS_EVERY == 0 {
            progress(ran_so_far, report.diverged);
        }
        Ok(())
    });
    report.corpus = counts.corpus;
    report.exhaustive = counts.exhaustive;
    report.random = counts.random;
    (report.reach, report.engine_reach) = reach.into_inner();
    ran.map(|()| report)
}

/// The figures of `diff --model FIX --era BASE --except SIG` that a
/// report's `--verify` gives: the case's proposed era (`FIX`) held
/// against the last kernel era among its eras (`BASE`) on `corpus`, the
/// hunt's exhaustive bound and `random` scenarios, the memory-safety
/// finding `BASE` shows on the case excepted (it is the bug the fix is
/// for). An error says which era the case lacks.
pub fn verify_fix(
    sc: &Scenario,
    corpus: Vec<Scenario>,
    random: u64,
) -> Result<crate::cases::export::FixCheck, String> {
    let Some(&fix) = sc.eras.iter().find(|e| e.is_proposed()) else {
        return Err("a proposed era (such as v7.0-rc+fix) among the case's eras".into());
    };
    let Some(&base) = sc.eras.iter().rev().find(|e| !e.is_proposed()) else {
        return Err("a kernel era among the case's eras".into());
    };
    let except = crate::judge::findings::check(base, &sc.input)
        .ok()
        .and_then(|(_, c)| {
            c.findings
                .iter()
                .find(|f| f.class.is_memory_safety())
                .map(|f| f.signature())
        });
    let cfg = DiffConfig {
        era: base,
        phases: Phases {
            corpus,
            bound: Bound::HUNT,
            random,
            budget: Duration::ZERO,
            seed: 1,
        },
        minimize: Duration::from_secs(1),
        except,
    };
    let r = diff(&mut ModelEngine(fix), &cfg).map_err(|e| e.to_string())?;
    Ok(crate::cases::export::FixCheck {
        fix,
        base,
        corpus: r.corpus,
        exhaustive: r.exhaustive,
        random: r.random,
        fixed: r.fixed,
        still: r.still,
        diverged: r.diverged,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `--verify` takes the case's proposed era and the last kernel era
    /// before it; a case without either is told which it lacks.
    #[test]
    fn a_fix_is_verified_against_the_last_kernel_era() {
        let mut sc =
            Scenario::parse("map\n  BootServicesData 0x100000 0x10 0xf\nreserve 0x104000 0x1000\n")
                .unwrap();
        sc.eras = vec![Era::V6_12_Y];
        assert_eq!(
            verify_fix(&sc, Vec::new(), 0),
            Err("a proposed era (such as v7.0-rc+fix) among the case's eras".into())
        );
        sc.eras = vec![Era::V7_0_RC_FIX];
        assert_eq!(
            verify_fix(&sc, Vec::new(), 0),
            Err("a kernel era among the case's eras".into())
        );
        sc.eras = vec![Era::V6_12_Y, Era::V7_0_RC, Era::V7_0_RC_FIX];
        let check = verify_fix(&sc, Vec::new(), 0).unwrap();
        assert_eq!((check.fix, check.base), (Era::V7_0_RC_FIX, Era::V7_0_RC));
        assert_eq!((check.corpus, check.random), (0, 0));
        assert_eq!(
            u128::from(check.exhaustive),
            crate::search::explore::count(&Bound::HUNT).unwrap()
        );
    }

    /// The model of an era against itself: nothing diverges.
    #[test]
    fn an_engine_equal_to_the_model_never_diverges() {
        let cfg = DiffConfig {
            era: Era::V6_12_Y,
            phases: Phases {
                corpus: vec![],
                bound: Bound::HUNT,
                random: 500,
                budget: Duration::ZERO,
                seed: 1,
            },
            minimize: Duration::from_secs(1),
            except: None,
        };
        let r = diff(&mut ModelEngine(Era::V6_12_Y), &cfg).unwrap();
        assert_eq!(r.diverged, 0);
        assert_eq!(r.random, 500);
        assert_eq!(
            Some(u128::from(r.exhaustive)),
            crate::search::explore::count(&Bound::HUNT)
        );
    }

    /// v7.0-rc's array is 15 bytes shorter than v6.12.y's: the allocation
    /// differs, charged to efi_unmap_boot_services, and the minimized case
    /// keeps one boot-services region and the virtual-mode step.
    #[test]
    fn a_different_era_is_caught_and_minimized() {
        let sc = Scenario::parse(
            "map\n  BootServicesData 0x100000 0x100 0xf\n  Conventional 0x200000 0x100 0xf\n  BootServicesCode 0x300000 0x10 0xf\nvirtual-mode\n",
        )
        .unwrap();
        let cfg = DiffConfig {
            era: Era::V6_12_Y,
            phases: Phases {
                corpus: vec![sc],
                bound: Bound {
                    descs: 0,
                    ranges: 0,
                    pages: 1,
                    reserve: false,
                },
                random: 0,
                budget: Duration::ZERO,
                seed: 1,
            },
            minimize: Duration::from_secs(5),
            except: None,
        };
        let r = diff(&mut ModelEngine(Era::V7_0_RC), &cfg).unwrap();
        assert_eq!(r.corpus, 1);
        assert_eq!(r.diverged, 1);
        let (d, min) = r.found.values().next().unwrap();
        assert_eq!(
            d.signature().to_string(),
            "kernel-divergence/efi_unmap_boot_services"
        );
        assert!(d.field.starts_with("allocation"), "{}", d.field);
        assert_eq!(min.input.map.len(), 1, "{}", min.to_text());
        assert_eq!(
            min.input.later,
            vec![crate::model::boot::LaterStep::VirtualMode]
        );
    }

    /// v7.0-rc+fix against v7.0-rc on the corpus and the hunt's bound: the
    /// three corpus files that expect the overlap overrun in v7.0-rc (and
    /// not in v7.0-rc+fix) are the only cases excepted (the bound's maps
    /// are disjoint), the fix shows
    /// the overrun on neither and nothing new, and every other outcome is
    /// the same. (10^6 random scenarios: `efimap diff --model`, in
    /// BENCHMARKS.md.)
    #[test]
    fn the_fix_changes_only_the_overrun_cases() {
        let corpus = crate::cases::corpus::scenario_files(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../corpus"
        )))
        .unwrap()
        .iter()
        .map(|p| crate::cases::corpus::load(p).unwrap())
        .collect();
        let cfg = DiffConfig {
            era: Era::V7_0_RC,
            phases: Phases {
                corpus,
                bound: Bound::HUNT,
                random: 0,
                budget: Duration::ZERO,
                seed: 1,
            },
            minimize: Duration::from_secs(1),
            except: Some(Signature::new(
                crate::judge::signature::Class::Overrun,
                "efi_arch_mem_reserve",
            )),
        };
        let r = diff(&mut ModelEngine(Era::V7_0_RC_FIX), &cfg).unwrap();
        assert_eq!(r.diverged, 0, "{:?}", r.found);
        assert_eq!(r.fixed, 3);
        assert_eq!(r.still, 0);
        assert_eq!(r.new_findings, None);
    }
}
