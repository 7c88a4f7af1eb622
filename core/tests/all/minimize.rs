//! The minimizer reaches the exhaustive explorer's proven minimum for every
//! seed bug class, and what it returns is locally minimal.

use efimap_core::cases::corpus::load;
use efimap_core::search::explore::{count, explore, size, Bound};
use efimap_core::search::minimize::{is_locally_minimal, minimize, Goal};
use efimap_core::Era;
use std::path::Path;
use std::time::{Duration, Instant};

use efimap_core::judge::signature::SEED_SIGNATURES as SEED_CLASSES;

#[test]
fn minimizer_reaches_the_explorers_minimum_for_the_seed_classes() {
    let bound = Bound {
        descs: 2,
        ranges: 2,
        pages: 4,
        reserve: true,
    };
    let explored = explore(&bound, &[Era::V5_5], |_, _| true);
    assert_eq!(Some(u128::from(explored.checked)), count(&bound));
    let dan = load(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/dan-williams-two-contiguous-sp.scn"),
    )
    .unwrap();
    for sig in SEED_CLASSES {
        let proven = &explored.minimum[&sig];
        // Each seed class needs one descriptor and two ranges (one range
        // alone is counted exactly); the overrun also the reservation.
        let want = if sig.class == efimap_core::judge::signature::Class::Overrun {
            (3, 1)
        } else {
            (3, 0)
        };
        assert_eq!(
            size(&proven.scenario),
            want,
            "{sig}: {}",
            proven.scenario.to_text()
        );
        let goal = Goal {
            era: Era::V5_5,
            signature: sig,
        };
        let m = minimize(&dan, &goal, Instant::now() + Duration::from_secs(60));
        assert!(goal.holds(&m), "{sig}");
        let mut m2 = m.clone();
        m2.header.clear();
        assert_eq!(size(&m), size(&proven.scenario), "{sig}:\n{}", m2.to_text());
        assert!(is_locally_minimal(&m, &goal), "{sig}:\n{}", m.to_text());
    }
}

/// The minimizer's result does not depend on its time limit: on every
/// corpus file it reaches its fixpoint well within 2 s, so 2 s and 30 s
/// give the same scenario.
#[test]
fn the_result_is_the_same_for_any_long_enough_limit() {
    use efimap_core::search::minimize::minimize_until;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus");
    for path in efimap_core::cases::corpus::scenario_files(&dir).unwrap() {
        let sc = efimap_core::cases::corpus::load(&path).unwrap();
        let Some(goal) = Goal::choose(&sc, None, None) else {
            continue;
        };
        let keep = |s: &efimap_core::cases::scenario::Scenario| goal.holds(s);
        let short = minimize_until(&sc, &keep, Instant::now() + Duration::from_secs(2));
        let long = minimize_until(&sc, &keep, Instant::now() + Duration::from_secs(30));
        assert!(long.converged, "{}", path.display());
        assert!(short.converged, "{}: not within 2 s", path.display());
        assert_eq!(short.scenario, long.scenario, "{}", path.display());
    }
}

/// A big map shrinks by halves: 1024 descriptors, two of them adjacent
/// Boot Services Data ones and a reservation across their boundary, which
/// efi_arch_mem_reserve refuses ("Region spans EFI memory descriptors") and
/// so leaves System RAM in e820 though the region is kept. One descriptor
/// the reservation runs past is enough: the minimizer gets there.
#[test]
fn a_thousand_descriptors_shrink_by_halves() {
    use efimap_core::search::minimize::minimize_until;
    let mut text = String::from("eras v6.12.y\nfill zero\nmap\n");
    for i in 0..1022u64 {
        text.push_str(&format!(
            "  Conventional {:#x} 0x1 0xf\n",
            0x10_0000 + i * 0x2000
        ));
    }
    text.push_str("  BootServicesData 0x10000000 0x10 0xf\n  BootServicesData 0x10010000 0x10 0xf\nreserve 0x1000f000 0x2000\n");
    let sc = efimap_core::cases::scenario::Scenario::parse(&text).unwrap();
    let sig = "kexec-clobber/efi_arch_mem_reserve".parse().unwrap();
    let goal = Goal::choose(&sc, Some(Era::V6_12_Y), Some(sig)).expect("the finding");
    let keep = |s: &efimap_core::cases::scenario::Scenario| goal.holds(s);
    let m = minimize_until(&sc, &keep, Instant::now() + Duration::from_secs(60));
    assert!(m.converged);
    let i = &m.scenario.input;
    assert_eq!(
        (i.map.len(), i.reservations.len()),
        (1, 1),
        "{}",
        m.scenario.to_text()
    );
    assert_eq!(
        i.map[0].ty,
        efimap_core::model::desc::ty::BOOT_SERVICES_DATA
    );
}
