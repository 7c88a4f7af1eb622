//! The generator draws every value the kernel code treats differently, and
//! none of them one in a million: 20,000 scenarios drawn as the searches
//! draw them (`codec::random_scenario`, a fixed seed), tallied dimension
//! by dimension (`search::reach::Dimensions`). Each test holds one
//! dimension: every one of its values at least 0.1% of what it counts
//! (scenarios, descriptors or reservations).

use efimap_core::cases::codec::random_scenario;
use efimap_core::search::reach::{self, Dimensions, DIMENSIONS};
use rand::SeedableRng;
use std::sync::OnceLock;

const SCENARIOS: u64 = 20_000;

fn drawn() -> &'static Dimensions {
    static D: OnceLock<Dimensions> = OnceLock::new();
    D.get_or_init(|| {
        let mut rng = rand::rngs::StdRng::seed_from_u64(23);
        let mut bytes = Vec::new();
        let mut d = Dimensions::default();
        for _ in 0..SCENARIOS {
            d.add(&random_scenario(&mut rng, &mut bytes).input);
        }
        d
    })
}

/// Every value of dimension `dim` drawn, each at least 0.1% of the time.
fn every_value(dim: usize) {
    let d = drawn();
    assert_eq!(d.scenarios, SCENARIOS);
    let rare: Vec<String> = DIMENSIONS[dim]
        .buckets
        .iter()
        .enumerate()
        .filter(|&(b, _)| d.share(dim, b) < 0.1)
        .map(|(b, name)| format!("{name} {:.3}%", d.share(dim, b)))
        .collect();
    assert!(
        rare.is_empty(),
        "{}: {}",
        DIMENSIONS[dim].name,
        rare.join(", ")
    );
}

#[test]
fn later_steps() {
    every_value(reach::LATER);
    // Virtual mode is as common as a boot without a later step.
    let d = drawn();
    assert!(d.share(reach::LATER, 2) > 30.0, "{}", d.table());
}

#[test]
fn map_sizes() {
    every_value(reach::MAP_SIZE);
}

#[test]
fn desc_sizes() {
    every_value(reach::DESC_SIZE);
}

#[test]
fn memory_types() {
    every_value(reach::TYPE);
}

#[test]
fn attribute_bits() {
    every_value(reach::ATTRIBUTE);
}

#[test]
fn layouts() {
    every_value(reach::LAYOUT);
}

#[test]
fn command_lines() {
    every_value(reach::CMDLINE);
}

#[test]
fn reservation_shapes() {
    every_value(reach::RESERVATION);
}

#[test]
fn other_inputs() {
    every_value(reach::OTHER);
}

/// Every dimension has a test above.
#[test]
fn every_dimension_is_tested() {
    assert_eq!(DIMENSIONS.len(), 9);
}
