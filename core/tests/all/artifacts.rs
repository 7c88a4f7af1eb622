//! A crash artifact of `cargo fuzz run boot_flow` (v5.5, overrun only) is a
//! scenario: decoded, printed and parsed back, it reproduces the same
//! crash line in a plain test.

use efimap_core::cases::codec::v1::decode;
use efimap_core::cases::scenario::Scenario;
use efimap_core::judge::findings::check;
use efimap_core::search::fuzzing::{boot_flow_finding, Config};
use efimap_core::Era;

fn overrun() -> efimap_core::judge::signature::Signature {
    "overrun/efi_arch_mem_reserve".parse().unwrap()
}

#[test]
fn a_crash_artifact_reproduces_as_a_scenario() {
    let bytes = include_bytes!("../data/boot_flow-v5.5-overrun.crash");
    let sc = Scenario::parse(&decode(bytes).to_text()).unwrap();
    let cfg = Config {
        eras: vec![Era::V5_5],
        only: Some([overrun()].into()),
        ..Config::default()
    };
    let line = boot_flow_finding(&sc.input, Era::V5_5, &cfg).unwrap();
    assert!(
        line.starts_with("efimap finding: overrun/efi_arch_mem_reserve era=v5.5 "),
        "{line}"
    );
    // The fixed eras do not overrun on it.
    for era in [Era::V5_6, Era::V6_10] {
        let (_, c) = check(era, &sc.input).unwrap();
        assert!(!c.signatures().contains(&overrun()), "{era}");
    }
}
