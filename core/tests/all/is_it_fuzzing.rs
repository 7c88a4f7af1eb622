//! Is the fuzzer fuzzing? Seeded random bytes through the decoder must reach
//! every split shape, empty descriptors, adjacent ranges and the seed
//! overrun of a buggy era within a bounded number of inputs.

use efimap_core::cases::codec::decode;
use efimap_core::model::boot::run;
use efimap_core::model::desc::MemoryDesc;
use efimap_core::model::mem::{Access, FaultKind};
use efimap_core::model::memmap::{shape, Shape};
use efimap_core::Era;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;

const BOUND: usize = 5_000;

#[test]
fn random_bytes_reach_every_behaviour() {
    let mut rng = StdRng::seed_from_u64(0x5eed);
    let mut first: BTreeMap<&str, usize> = BTreeMap::new();
    let wanted = [
        "shape none",
        "shape full",
        "shape head",
        "shape inside",
        "shape tail",
        "empty descriptor",
        "adjacent ranges",
        "overlapping ranges",
        "overrun in v5.5",
    ];
    for n in 1..=BOUND {
        let len = rng.gen_range(0..96);
        let bytes: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
        let input = decode(&bytes).input;
        let Ok(o) = run(Era::V5_5, &input) else {
            continue;
        };
        let mut seen = |what: &'static str| {
            first.entry(what).or_insert(n);
        };
        for d in &input.map {
            for r in &o.fake_mems {
                seen(match shape(d, r) {
                    Shape::None => "shape none",
                    Shape::Full => "shape full",
                    Shape::Head => "shape head",
                    Shape::Inside => "shape inside",
                    Shape::Tail => "shape tail",
                });
            }
        }
        if input.map.contains(&MemoryDesc::default()) {
            seen("empty descriptor");
        }
        for a in &o.fake_mems {
            for b in &o.fake_mems {
                if a.end.wrapping_add(1) == b.start && a.end >= a.start {
                    seen("adjacent ranges");
                }
                if a != b && a.start < b.start && b.start <= a.end {
                    seen("overlapping ranges");
                }
            }
        }
        let overrun = o
            .faults
            .iter()
            .any(|f| f.access == Access::Write && matches!(f.kind, FaultKind::OutOfBounds { .. }));
        if overrun {
            seen("overrun in v5.5");
        }
        if first.len() == wanted.len() {
            break;
        }
    }
    for w in wanted {
        assert!(
            first.contains_key(w),
            "{w} not reached in {BOUND} inputs: {first:?}"
        );
    }
    eprintln!("first reached at input: {first:?}");
}
