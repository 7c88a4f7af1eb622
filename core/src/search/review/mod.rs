//! Reviewing a patch by running it: the same scenarios through a tree's
//! code before the patch and after it, every finding that appears,
//! disappears or changes how often it shows, and every change of
//! behaviour (the first field where the two outcomes differ, as
//! [`kernel_divergence`] finds it), each kind's first case minimized on
//! the tree where it shows.
//!
//! The engines are any two ([`Engine`]); `efimap review` gives it a
//! tree's build before and after the patch ([`prepare`] makes both
//! trees), and adds which of the changed lines the scenarios reached
//! ([`crate::engine::coverage`], [`touched`]); [`report`] writes it for
//! a terminal or as a reply to the patch.

use crate::cases::scenario::Scenario;
use crate::engine::{Engine, EngineError};
use crate::judge::findings::{judged, Classification};
use crate::judge::signature::Signature;
use crate::judge::verdict::{kernel_divergence, KernelDivergence};
use crate::model::boot::Outcome;
use crate::search::diff::{PhaseCounts, Phases};
use crate::search::minimize::minimize_until;
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

pub mod prepare;
pub mod report;
pub mod session;

pub use prepare::{prepare, PrepareError, Prepared};
pub use report::{touched, Review, Touched};

/// What to run on both trees.
#[derive(Clone, Debug)]
pub struct ReviewConfig {
    pub phases: Phases,
    /// Time for minimizing each kind of change.
    pub minimize: Duration,
}

/// Which tree a case shows on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Side {
    Before,
    After,
}

impl Side {
    pub fn name(self) -> &'static str {
        match self {
            Side::Before => "before",
            Side::After => "after",
        }
    }
}

/// One finding's signature on both trees.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignatureChange {
    pub signature: Signature,
    /// Scenarios on which each tree shows it.
    pub before: u64,
    pub after: u64,
    /// Scenarios on which only the tree after the patch shows it, and the
    /// first of them minimized (on that tree: it shows there and not
    /// before); the same for the tree before. Counted only where the
    /// signature is compared (a finding other than memory safety only
    /// where neither tree corrupted memory), so that `after - before` may
    /// differ from `gained - lost`.
    pub gained: u64,
    /// Of the gained scenarios, those on which a known cause of the fixed
    /// code ([`crate::judge::known`]) explains every instance on the tree
    /// after the patch: what the code is known to do, brought back.
    pub gained_known: u64,
    pub gained_case: Option<Case>,
    pub lost: u64,
    pub lost_case: Option<Case>,
}

impl SignatureChange {
    /// New: shown on scenarios that did not show it before the patch and
    /// gone from none; fixed: the other way; changed: both.
    pub fn kind(&self) -> ChangeKind {
        match (self.gained, self.lost) {
            (_, 0) => ChangeKind::New,
            (0, _) => ChangeKind::Fixed,
            _ => ChangeKind::Changed,
        }
    }
}

/// How a signature's set of scenarios changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ChangeKind {
    New,
    Changed,
    Fixed,
}

/// A minimized case: the scenario, the tree it shows on, and whether the
/// minimizer reached its fixpoint before its deadline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Case {
    pub scenario: Scenario,
    pub side: Side,
    pub minimal: bool,
    /// The finding's explanation on that tree, or the first difference
    /// for a behaviour change.
    pub what: String,
}

/// One kind of behaviour change on well-formed input
/// ([`Classification::domain`]) with no finding on either tree: outcomes
/// that first differ in the same function. (Where a finding differs, the
/// finding says more.)
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BehaviourChange {
    /// `kernel-divergence/FUNCTION`.
    pub signature: Signature,
    /// Scenarios that changed so.
    pub count: u64,
    /// The first of them minimized; its divergence with `model` the tree
    /// before and `tree` the tree after.
    pub case: Case,
    pub divergence: KernelDivergence,
}

/// What the two trees did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReviewRun {
    pub corpus: u64,
    pub exhaustive: u64,
    pub random: u64,
    /// Scenarios whose outcomes differed at all, and of them those on
    /// well-formed input with no finding on either tree.
    pub changed: u64,
    pub changed_clean: u64,
    pub signatures: BTreeMap<Signature, SignatureChange>,
    pub behaviour: BTreeMap<Signature, BehaviourChange>,
    /// What the scenarios held, and what the tree before the patch and
    /// the tree after it called.
    pub reach: [crate::search::reach::Reach; 2],
}

impl ReviewRun {
    pub fn checked(&self) -> u64 {
        self.corpus + self.exhaustive + self.random
    }

    /// The signatures whose set of scenarios changed (those shown on the
    /// same scenarios before and after are left out): memory safety
    /// first, then new before changed before fixed.
    pub fn changes(&self) -> Vec<&SignatureChange> {
        let mut v: Vec<&SignatureChange> = self
            .signatures
            .values()
            .filter(|s| s.gained + s.lost > 0)
            .collect();
        v.sort_by_key(|s| (!s.signature.class.is_memory_safety(), s.kind(), s.signature));
        v
    }
}

/// One boot of `sc` on both engines at once ([`Engine::begin`]), with
/// each outcome's findings; `None` for an input no engine runs.
fn boot_both(
    before: &mut dyn Engine,
    after: &mut dyn Engine,
    sc: &Scenario,
) -> Result<Option<[(Outcome, Classification); 2]>, EngineError> {
    let input = &sc.input;
    let b = match before.begin(input, true) {
        Ok(b) => b,
        Err(EngineError::Input(_)) => return Ok(None),
        Err(e) => return Err(e),
    };
    let a = after.begin(input, true);
    // The boot begun on `before` is finished whatever `after` did.
    let b = judged(input, b.map_or_else(|| before.finish(input), Ok))?;
    let a = judged(
        input,
        a.and_then(|a| a.map_or_else(|| after.finish(input), Ok)),
    )?;
    match (b, a) {
        (Ok(b), Ok(a)) => Ok(Some([b, a])),
        _ => Ok(None),
    }
}

/// Runs both engines on the corpus, the exhaustive bound and random
/// scenarios, and compares every outcome.
pub fn review(
    before: &mut dyn Engine,
    after: &mut dyn Engine,
    cfg: &ReviewConfig,
) -> Result<ReviewRun, EngineError> {
    let before = RefCell::new(before);
    let after = RefCell::new(after);
    let both = |sc: &Scenario| boot_both(&mut **before.borrow_mut(), &mut **after.borrow_mut(), sc);
    let shows = |sc: &Scenario, sig: Signature, on: Side| -> bool {
        matches!(both(sc), Ok(Some([(_, b), (_, a)])) if {
            let (sb, sa) = (b.signatures(), a.signatures());
            let (yes, no) = if on == Side::After { (&sa, &sb) } else { (&sb, &sa) };
            yes.contains(&sig) && !no.contains(&sig) && compared(sig, &sb, &sa)
        })
    };
    let diverges = |sc: &Scenario, sig: Signature| -> bool {
        matches!(both(sc), Ok(Some([(ob, cb), (oa, ca)])) if {
            is_clean(&cb, &ca) && kernel_divergence(&ob, &oa).is_some_and(|d| d.signature() == sig)
        })
    };
    let explain = |sc: &Scenario, sig: Signature, on: Side| -> String {
        match both(sc) {
            Ok(Some([(_, b), (_, a)])) => {
                let c = if on == Side::After { a } else { b };
                c.findings
                    .iter()
                    .find(|f| f.signature() == sig)
                    .map_or_else(String::new, |f| f.explanation.clone())
            }
            _ => String::new(),
        }
    };
    let minimize = |sc: &Scenario, keep: &dyn Fn(&Scenario) -> bool| {
        let m = minimize_until(sc, keep, Instant::now() + cfg.minimize);
        (m.scenario, m.converged)
    };
    let mut run = ReviewRun::default();
    let note = |sc: &Scenario, run: &mut ReviewRun| -> Result<(), EngineError> {
        let Some([(ob, cb), (oa, ca)]) = both(sc)? else {
            return Ok(());
        };
        for (r, o) in run.reach.iter_mut().zip([&ob, &oa]) {
            r.scenario(&sc.input);
            r.boot(o);
        }
        let (sb, sa) = (cb.signatures(), ca.signatures());
        for &sig in sb.union(&sa) {
            let entry = run.signatures.entry(sig).or_insert(SignatureChange {
                signature: sig,
                before: 0,
                after: 0,
                gained: 0,
                gained_known: 0,
                gained_case: None,
                lost: 0,
                lost_case: None,
            });
            entry.before += u64::from(sb.contains(&sig));
            entry.after += u64::from(sa.contains(&sig));
            if !compared(sig, &sb, &sa) {
                continue;
            }
            for (on, has, lacks) in [(Side::After, &sa, &sb), (Side::Before, &sb, &sa)] {
                if !has.contains(&sig) || lacks.contains(&sig) {
                    continue;
                }
                let (count, case) = match on {
                    Side::After => (&mut entry.gained, &mut entry.gained_case),
                    Side::Before => (&mut entry.lost, &mut entry.lost_case),
                };
                *count += 1;
                if on == Side::After
                    && ca
                        .all
                        .iter()
                        .filter(|f| f.signature() == sig)
                        .all(|f| crate::judge::known::explain(&sc.input, &oa, f).is_some())
                {
                    entry.gained_known += 1;
                }
                if case.is_none() {
                    let (scenario, minimal) = minimize(sc, &|s| shows(s, sig, on));
                    let what = explain(&scenario, sig, on);
                    *case = Some(Case {
                        scenario,
                        side: on,
                        minimal,
                        what,
                    });
                }
            }
        }
        let Some(d) = kernel_divergence(&ob, &oa) else {
            return Ok(());
        };
        run.changed += 1;
        if !is_clean(&cb, &ca) {
            return Ok(());
        }
        run.changed_clean += 1;
        let sig = d.signature();
        if let Some(b) = run.behaviour.get_mut(&sig) {
            b.count += 1;
            return Ok(());
        }
        let (scenario, minimal) = minimize(sc, &|s| diverges(s, sig));
        let divergence = match both(&scenario)? {
            Some([(ob, _), (oa, _)]) => kernel_divergence(&ob, &oa).unwrap_or(d),
            None => d,
        };
        let what = format!(
            "{}: before {}, after {}",
            divergence.field, divergence.model, divergence.tree
        );
        run.behaviour.insert(
            sig,
            BehaviourChange {
                signature: sig,
                count: 1,
                case: Case {
                    scenario,
                    side: Side::After,
                    minimal,
                    what,
                },
                divergence,
            },
        );
        Ok(())
    };
    let era = before.borrow().era();
    let mut counts = PhaseCounts::default();
    let ran = cfg.phases.run(era, &mut counts, |sc| note(sc, &mut run));
    run.corpus = counts.corpus;
    run.exhaustive = counts.exhaustive;
    run.random = counts.random;
    ran?;
    Ok(run)
}

/// Whether `sig` is compared between trees on a scenario with these
/// signatures: a memory-safety finding always; any other only where
/// neither tree corrupted memory, since after a write past a buffer
/// everything else the boot did is its consequence.
fn compared(sig: Signature, before: &BTreeSet<Signature>, after: &BTreeSet<Signature>) -> bool {
    sig.class.is_memory_safety()
        || !before
            .iter()
            .chain(after)
            .any(|s| s.class.is_memory_safety())
}

/// Well-formed input with no finding on either tree.
fn is_clean(b: &Classification, a: &Classification) -> bool {
    b.domain.is_ok() && a.domain.is_ok() && b.findings.is_empty() && a.findings.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::ModelEngine;
    use crate::judge::signature::Class;
    use crate::model::era::Era;

    fn cfg(random: u64) -> ReviewConfig {
        ReviewConfig {
            phases: Phases {
                corpus: vec![],
                bound: crate::search::explore::Bound::HUNT,
                random,
                budget: Duration::ZERO,
                seed: 1,
            },
            minimize: Duration::from_secs(10),
        }
    }

    /// Memory safety is compared everywhere; other findings only where
    /// neither tree wrote past a buffer.
    #[test]
    fn other_findings_are_not_compared_beside_a_corruption() {
        let overrun = Signature::new(Class::Overrun, "efi_arch_mem_reserve");
        let leak = Signature::new(Class::Leak, "efi_arch_mem_reserve");
        let set = |s: &[Signature]| s.iter().copied().collect::<BTreeSet<_>>();
        assert!(compared(overrun, &set(&[]), &set(&[overrun, leak])));
        assert!(!compared(leak, &set(&[]), &set(&[overrun, leak])));
        assert!(!compared(leak, &set(&[overrun]), &set(&[leak])));
        assert!(compared(leak, &set(&[]), &set(&[leak])));
    }

    /// An era against itself: nothing changes.
    #[test]
    fn the_same_code_changes_nothing() {
        let r = review(
            &mut ModelEngine(Era::V6_12_Y),
            &mut ModelEngine(Era::V6_12_Y),
            &cfg(300),
        )
        .unwrap();
        assert_eq!(r.changed, 0);
        assert!(r.changes().is_empty());
        assert!(r.behaviour.is_empty());
        assert_eq!(r.random, 300);
    }

    /// v5.6 carries the fix of efi_fake_memmap's overrun that v5.5 has
    /// (the spec's bug history): v5.6 to v5.5, reviewed as a patch (the
    /// fix reverted), adds the overrun of efi_arch_mem_reserve, and its
    /// case, minimized on v5.5, shows it there and not on v5.6.
    #[test]
    fn a_reverted_fix_is_a_new_finding_and_the_fix_fixes_it() {
        let r = review(
            &mut ModelEngine(Era::V5_6),
            &mut ModelEngine(Era::V5_5),
            &cfg(0),
        )
        .unwrap();
        let sig = Signature::new(Class::Overrun, "efi_arch_mem_reserve");
        let s = &r.signatures[&sig];
        assert_eq!(s.kind(), ChangeKind::New);
        let case = s.gained_case.as_ref().unwrap();
        assert_eq!(case.side, Side::After);
        let on = |era| {
            crate::judge::findings::check(era, &case.scenario.input)
                .unwrap()
                .1
                .signatures()
                .contains(&sig)
        };
        assert!(on(Era::V5_5) && !on(Era::V5_6));
        // And the fix itself fixes it, on the same scenarios.
        let back = review(
            &mut ModelEngine(Era::V5_5),
            &mut ModelEngine(Era::V5_6),
            &cfg(0),
        )
        .unwrap();
        assert_eq!(back.signatures[&sig].kind(), ChangeKind::Fixed);
        assert_eq!(back.signatures[&sig].lost, s.gained);
    }
}
