//! Properties over generated scenarios: the three round trips, parsers and
//! models that never panic, and no findings from the fixed eras on
//! well-formed input.

use efimap_core::cases::codec::{decode, encode};
use efimap_core::cases::scenario::Scenario;
use efimap_core::judge::findings::check;
use efimap_core::model::boot::LaterStep;
use efimap_core::model::desc::{attr, ty, MemoryDesc};
use efimap_core::model::mem::Fill;
use efimap_core::Era;
use proptest::prelude::*;

fn bytes() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..400)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn text_round_trip(b in bytes()) {
        let sc = decode(&b);
        let text = sc.to_text();
        prop_assert_eq!(Scenario::parse(&text), Ok(sc), "{}", text);
    }

    #[test]
    fn bytes_round_trip(b in bytes()) {
        let sc = decode(&b);
        prop_assert_eq!(decode(&encode(&sc)), sc);
    }

    #[test]
    fn json_round_trip(b in bytes()) {
        let sc = decode(&b);
        prop_assert_eq!(Scenario::from_json(&sc.to_json()), Ok(sc));
    }

    #[test]
    fn parse_never_panics_on_any_text(s in ".{0,300}") {
        let _ = Scenario::parse(&s);
    }

    #[test]
    fn parse_never_panics_on_mangled_scenarios(b in bytes(), cut in any::<prop::sample::Index>(), junk in "[ -~]{0,12}") {
        let text = decode(&b).to_text();
        let at = cut.index(text.len() + 1);
        let at = (0..=at).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
        let _ = Scenario::parse(&format!("{}{}{}", &text[..at], junk, &text[at..]));
    }

    #[test]
    fn models_never_panic(b in bytes()) {
        let sc = decode(&b);
        for era in Era::all() {
            let _ = check(era, &sc.input);
        }
    }
}

/// A well-formed scenario: page-aligned, non-overlapping, non-empty
/// descriptors; page-aligned ranges of at least one page that do not wrap;
/// reservations of at least one byte.
fn well_formed() -> impl Strategy<Value = Scenario> {
    let types = prop::sample::select(vec![
        ty::CONVENTIONAL_MEMORY,
        ty::BOOT_SERVICES_DATA,
        ty::BOOT_SERVICES_CODE,
        ty::RUNTIME_SERVICES_DATA,
        ty::RESERVED,
        ty::LOADER_DATA,
        ty::ACPI_RECLAIM_MEMORY,
    ]);
    let desc_attrs = prop::sample::select(vec![
        0xf,
        0x8,
        0xf | attr::RUNTIME,
        0xf | attr::MORE_RELIABLE,
        0,
    ]);
    let descs = prop::collection::vec((0u64..3, 1u64..48, types, desc_attrs), 1..8);
    let range_attrs = prop::sample::select(vec![
        attr::SP,
        attr::MORE_RELIABLE,
        attr::RUNTIME,
        attr::UC,
        attr::SP | attr::MORE_RELIABLE,
    ]);
    let ranges = prop::collection::vec((0u64..200, 1u64..64, range_attrs), 0..5);
    let reserves = prop::collection::vec(
        (any::<prop::sample::Index>(), 0u64..0x40000, 1u64..0x30000),
        0..3,
    );
    let base = prop::sample::select(vec![0u64, 0x10_0000, 0x1_0000_0000]);
    let ds = prop::sample::select(vec![40u64, 48, 56, 64, 128]);
    (base, ds, descs, ranges, reserves, any::<bool>()).prop_map(
        |(base, ds, descs, ranges, reserves, kexec)| {
            let mut map = Vec::new();
            let mut page = base >> 12;
            for (gap, pages, t, a) in descs {
                page += gap;
                map.push(MemoryDesc::new(t, page << 12, pages, a));
                page += pages;
            }
            let items: Vec<String> = ranges
                .iter()
                .map(|&(p, len, a)| format!("{:#x}@{:#x}:{:#x}", len << 12, base + (p << 12), a))
                .collect();
            let cmdline = if items.is_empty() {
                String::new()
            } else {
                format!("efi_fake_mem={}", items.join(","))
            };
            let reservations = reserves
                .iter()
                .map(|(i, off, size)| {
                    let d = map[i.index(map.len())];
                    (d.phys_addr + off % (d.num_pages << 12), *size)
                })
                .collect();
            Scenario {
                input: efimap_core::BootInput {
                    desc_size: ds,
                    fill: Fill::Pattern(0xa5),
                    map,
                    cmdline,
                    reservations,
                    later: if kexec {
                        vec![LaterStep::KexecInitLate]
                    } else {
                        vec![]
                    },
                    ..efimap_core::BootInput::default()
                },
                ..Scenario::default()
            }
        },
    )
}

/// The findings no known cause of the fixed code explains
/// (`efimap_core::judge::known`).
fn unexplained(
    input: &efimap_core::BootInput,
    o: &efimap_core::Outcome,
    c: &efimap_core::judge::findings::Classification,
) -> Vec<String> {
    efimap_core::judge::known::unexplained(input, o, c)
        .map(|f| f.signature().to_string())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    /// What stays is what the fixed code is known to do, each finding
    /// explained by its cause: a reservation efi_arch_mem_reserve refuses
    /// (it prints why) is kept but left System RAM in e820 (kexec-clobber),
    /// and v5.6 still frees the map init_late remaps (a kexec after a
    /// reservation is a use-after-free) (docs/kernel-notes.md).
    #[test]
    fn fixed_eras_are_clean_on_well_formed_input(sc in well_formed()) {
        let input = &sc.input;
        let (o, c) = check(Era::V6_10, input).unwrap();
        prop_assert_eq!(&c.domain, &Ok(()));
        prop_assert!(unexplained(input, &o, &c).is_empty(), "v6.10: {:?}\n{}", c.signatures(), sc.to_text());
        let (o, c) = check(Era::V5_6, input).unwrap();
        prop_assert!(unexplained(input, &o, &c).is_empty(), "v5.6: {:?}\n{}", c.signatures(), sc.to_text());
    }
}
