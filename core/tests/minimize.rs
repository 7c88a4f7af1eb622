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
