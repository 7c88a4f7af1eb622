//! Adding an era is one definition: an era made here, in the test, is
//! accepted by the command line, the scenario text and the fuzz codec, and
//! boots with its own differences.

use clap::Parser;
use efimap_cli::{Cli, Command};
use efimap_core::cases::codec::{decode, encode};
use efimap_core::cases::scenario::Scenario;
use efimap_core::engine::{Engine, ModelEngine};
use efimap_core::model::era::{Commit, EraDef};
use efimap_core::model::kernel::E820Op;
use efimap_core::Era;

/// v5.5 without af164898's e820 update: the one difference.
fn v5_5_without_e820_update() -> Era {
    Era::register(EraDef {
        name: "test-v5.5-no-e820",
        tree: "v5.5 with af164898's e820 update taken out",
        commits: &[Commit {
            id: "000000000000",
            subject: "test: revert the e820 update of efi_arch_mem_reserve",
        }],
        features: efimap_core::model::era::Features {
            reserve_updates_e820: false,
            ..Era::V5_5.features()
        },
    })
    .expect("a new name")
}

#[test]
fn an_era_defined_in_a_test_is_parsed_encoded_and_booted() {
    let era = v5_5_without_e820_update();
    assert_eq!(Era::known().last(), Some(&era));
    assert!(!Era::all().contains(&era), "a test's era joins no default");
    assert!(Era::register(*era.def()).is_err(), "names are unique");

    // The command line.
    let cli = Cli::try_parse_from(["efimap", "run", "x.scn", "--eras", "v5.5,test-v5.5-no-e820"])
        .expect("the CLI knows the era");
    let Command::Run(args) = cli.command else {
        panic!("run")
    };
    assert_eq!(args.eras.eras, vec![Era::V5_5, era]);

    // The scenario text.
    let text = "eras v5.5 test-v5.5-no-e820\nmap\n  BootServicesData 0x100000 0x10 0xf\nreserve 0x104000 0x1000\n";
    let sc = Scenario::parse(text).expect("the scenario text knows the era");
    assert_eq!(sc.eras, vec![Era::V5_5, era]);
    assert_eq!(
        sc.to_text().lines().next(),
        Some("eras v5.5 test-v5.5-no-e820")
    );

    // The fuzz codec: its bit is past the first five.
    assert!(era.index() >= 5);
    assert_eq!(decode(&encode(&sc)), sc);

    // A boot: the same reservation, with and without the e820 update.
    let v55 = ModelEngine(Era::V5_5).boot(&sc.input, false).unwrap();
    let test = ModelEngine(era).boot(&sc.input, false).unwrap();
    assert_eq!(
        v55.e820
            .iter()
            .map(|u| (u.start, u.size))
            .collect::<Vec<_>>(),
        vec![(0x104000, 0x1000)]
    );
    assert!(matches!(v55.e820[0].op, E820Op::Update { .. }));
    assert!(test.e820.is_empty());
    assert_eq!(test.era, era);
    assert_eq!(test.map, v55.map, "the installed maps are the same");
}
