//! The real kernel engine on Debian's 6.1 and 6.12 trees: the shared
//! engine smoke test, the seed case on the real 6.1 code, the
//! overlapping-descriptor overrun measured in the real efi_arch_mem_reserve
//! of both, and a model altered on purpose caught by the differential.
//!
//! The trees are the files `.ci/trees.sh DIR` extracts; set
//! `EFIMAP_TREES=DIR` to run these (CI does; without it they say so and
//! pass only outside CI).

use efimap_core::cases::corpus::load;
use efimap_core::engine::smoke::smoke;
use efimap_core::engine::tree::{build, Tree, TreeEngine};
use efimap_core::engine::{Engine, ModelEngine};
use efimap_core::judge::findings::classify;
use efimap_core::model::era::EraDef;
use efimap_core::search::diff::{diff, DiffConfig, Phases};
use efimap_core::search::explore::Bound;
use efimap_core::Era;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The engine of tree `v` (`6.1`, `6.12`), or `None` when no trees are given.
fn engine(v: &str) -> Option<TreeEngine> {
    let Some(dir) = std::env::var_os("EFIMAP_TREES") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must set EFIMAP_TREES (see .ci/trees.sh)"
        );
        eprintln!("EFIMAP_TREES is not set: the kernel-tree tests do not run");
        return None;
    };
    let tree = Tree::open(&PathBuf::from(dir).join(v)).expect("a tree");
    let driver = build(
        &tree,
        &root().join("kernel"),
        &root().join("target/kernel-builds"),
    )
    .expect("the tree builds");
    Some(TreeEngine::start(&driver, &tree, tree.paired_era()).expect("the driver starts"))
}

#[test]
#[cfg_attr(
    not(efimap_trees),
    ignore = "needs the Debian kernel trees: EFIMAP_TREES=DIR, made by bash .ci/trees.sh DIR"
)]
fn both_trees_pass_the_engine_smoke_test() {
    for (v, era) in [("6.1", Era::V6_1_Y), ("6.12", Era::V6_12_Y)] {
        let Some(mut e) = engine(v) else { return };
        assert_eq!(e.era(), era);
        smoke(&mut e);
    }
}

#[test]
#[cfg_attr(
    not(efimap_trees),
    ignore = "needs the Debian kernel trees: EFIMAP_TREES=DIR, made by bash .ci/trees.sh DIR"
)]
fn dan_williams_on_the_real_6_1_installs_7_descriptors_without_a_fault() {
    let Some(mut e) = engine("6.1") else { return };
    let sc = load(&root().join("corpus/dan-williams-two-contiguous-sp.scn")).unwrap();
    let o = e.boot(&sc.input, false).unwrap();
    assert_eq!(o.memmap.nr_map, 7);
    assert_eq!(o.faults, vec![]);
    assert_eq!(classify(&sc.input, &o).findings, vec![]);
}

#[test]
#[cfg_attr(
    not(efimap_trees),
    ignore = "needs the Debian kernel trees: EFIMAP_TREES=DIR, made by bash .ci/trees.sh DIR"
)]
fn the_overlap_overruns_the_real_efi_arch_mem_reserve_by_the_models_bytes() {
    let sc = load(&root().join("corpus/overlapping-descriptors-reserve-overrun.scn")).unwrap();
    for (v, era) in [("6.1", Era::V6_1_Y), ("6.12", Era::V6_12_Y)] {
        let Some(mut e) = engine(v) else { return };
        let real = e.boot(&sc.input, true).unwrap();
        let model = ModelEngine(era).boot(&sc.input, true).unwrap();
        let buf = real
            .allocations
            .iter()
            .find(|a| a.by == "efi_arch_mem_reserve")
            .expect("the reservation's buffer")
            .id;
        // The model says 96 bytes past the 192-byte buffer, into the next page.
        assert_eq!(model.bytes_written_past(buf), 96, "{v}");
        assert_eq!(real.bytes_written_past(buf), 96, "{v}");
        assert_eq!(real.faults, model.faults, "{v}");
        let sigs: Vec<String> = classify(&sc.input, &real)
            .signatures()
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(sigs, vec!["overrun/efi_arch_mem_reserve"], "{v}");
    }
}

/// The smallest map (two descriptors overlapping by a page, one 4K
/// reservation): 3 descriptors counted (144 bytes), 4 written, so 48 bytes
/// past, inside the buffer's page, on the real 6.1 and 6.12; the fixed
/// count of v7.0-rc+fix allocates 4 and writes 4.
#[test]
#[cfg_attr(
    not(efimap_trees),
    ignore = "needs the Debian kernel trees: EFIMAP_TREES=DIR, made by bash .ci/trees.sh DIR"
)]
fn the_smallest_overlap_overruns_the_real_code_by_one_descriptor() {
    let sc =
        load(&root().join("corpus/boot-services-data-overlapped-by-one-page-reserve-overrun.scn"))
            .unwrap();
    for v in ["6.1", "6.12"] {
        let Some(mut e) = engine(v) else { return };
        let real = e.boot(&sc.input, true).unwrap();
        let buf = real
            .allocations
            .iter()
            .find(|a| a.by == "efi_arch_mem_reserve")
            .expect("the reservation's buffer");
        assert_eq!(
            (buf.size, real.bytes_written_past(buf.id)),
            (144, 48),
            "{v}"
        );
        assert_eq!(real.memmap.nr_map, 3, "{v}");
    }
    let fixed = ModelEngine(Era::V7_0_RC_FIX).boot(&sc.input, true).unwrap();
    assert_eq!(fixed.faults, vec![]);
    assert_eq!(fixed.memmap.nr_map, 4);
}

/// v6.12.y with its printer one column short (v6.11's): every map printed
/// with efi=debug differs from the real code's, and the differential says
/// so, with a minimized case.
#[test]
#[cfg_attr(
    not(efimap_trees),
    ignore = "needs the Debian kernel trees: EFIMAP_TREES=DIR, made by bash .ci/trees.sh DIR"
)]
fn an_altered_model_is_caught_as_a_divergence() {
    let Some(mut e) = engine("6.12") else { return };
    let altered = Era::register(EraDef {
        name: "test-v6.12.y-without-hp",
        tree: "v6.12.y with v6.11's printer",
        commits: &[],
        features: efimap_core::model::era::Features {
            printer: Era::V6_11.features().printer,
            ..Era::V6_12_Y.features()
        },
    })
    .unwrap();
    let sc = efimap_core::cases::scenario::Scenario::parse(
        "map\n  Conventional 0x100000 0x100 0xf\n  BootServicesData 0x200000 0x10 0xf\ncmdline efi=debug\n",
    )
    .unwrap();
    let m = ModelEngine(altered).boot(&sc.input, false).unwrap();
    let t = e.boot(&sc.input, false).unwrap();
    let d = efimap_core::judge::verdict::kernel_divergence(&m, &t).expect("a divergence");
    assert_eq!(d.field, "event 0");
    assert!(
        d.tree
            .contains("|   |  |  |  |  |  |  |  |  |  |   |WB|WT|WC|UC]"),
        "{}",
        d.tree
    );
    // Quiet runs leave the printed maps out: the differential then agrees.
    let cfg = DiffConfig {
        era: altered,
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
    assert_eq!(diff(&mut e, &cfg).unwrap().diverged, 0);
}

/// A size computation broken on purpose in a copy of the real quirks.c
/// (efi_arch_mem_reserve's `num_entries += efi.memmap.nr_map;` made
/// `... nr_map - 1;`, one descriptor short): the differential finds it
/// from the corpus, the bound and random scenarios, minimizes it to one
/// Boot Services Data descriptor and one reservation, and on that case the
/// altered tree overruns its buffer while the model does not.
#[test]
#[cfg_attr(
    not(efimap_trees),
    ignore = "needs the Debian kernel trees: EFIMAP_TREES=DIR, made by bash .ci/trees.sh DIR"
)]
fn a_broken_size_in_the_real_code_is_found_and_minimized() {
    let Some(dir) = std::env::var_os("EFIMAP_TREES") else {
        assert!(std::env::var_os("CI").is_none(), "CI must set EFIMAP_TREES");
        return;
    };
    let src = PathBuf::from(dir).join("6.12");
    let copy = std::env::temp_dir().join(format!("efimap-mutant-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&copy);
    assert!(std::process::Command::new("cp")
        .args(["-r", src.to_str().unwrap(), copy.to_str().unwrap()])
        .status()
        .unwrap()
        .success());
    let quirks = copy.join("arch/x86/platform/efi/quirks.c");
    let text = std::fs::read_to_string(&quirks).unwrap();
    let (from, to) = (
        "num_entries += efi.memmap.nr_map;",
        "num_entries += efi.memmap.nr_map - 1;",
    );
    assert_eq!(text.matches(from).count(), 1, "the edit applies once");
    std::fs::write(&quirks, text.replacen(from, to, 1)).unwrap();

    let tree = Tree::open(&copy).unwrap();
    let driver = build(
        &tree,
        &root().join("kernel"),
        &root().join("target/kernel-builds"),
    )
    .unwrap();
    let mut e = TreeEngine::start(&driver, &tree, Era::V6_12_Y).unwrap();
    let corpus = [
        "overlapping-descriptors-reserve-overrun.scn",
        "single-8g-sp-clean.scn",
    ]
    .map(|f| load(&root().join("corpus").join(f)).unwrap())
    .to_vec();
    let cfg = DiffConfig {
        era: Era::V6_12_Y,
        phases: Phases {
            corpus,
            bound: Bound::HUNT,
            random: 2000,
            budget: Duration::ZERO,
            seed: 1,
        },
        minimize: Duration::from_secs(20),
        except: None,
    };
    let r = diff(&mut e, &cfg).unwrap();
    let _ = std::fs::remove_dir_all(&copy);
    assert!(r.diverged > 0);
    let (d, min) = r
        .found
        .values()
        .find(|(d, _)| d.field.starts_with("fault") || d.field.starts_with("allocation"))
        .expect("a divergence in memory");
    assert_eq!(
        (min.input.map.len(), min.input.reservations.len()),
        (1, 1),
        "{d:?}\n{}",
        min.to_text()
    );
    let real = e.boot(&min.input, true).unwrap();
    let sigs: Vec<String> = classify(&min.input, &real)
        .signatures()
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert!(
        sigs.contains(&"overrun/efi_arch_mem_reserve".to_string()),
        "{sigs:?}"
    );
    let model = ModelEngine(Era::V6_12_Y).boot(&min.input, true).unwrap();
    assert_eq!(model.faults, vec![], "the model does not overrun on it");
}

/// A driver that dies is the engine's failure, not a property of the input.
#[test]
#[cfg_attr(
    not(efimap_trees),
    ignore = "needs the Debian kernel trees: EFIMAP_TREES=DIR, made by bash .ci/trees.sh DIR"
)]
fn a_driver_that_dies_is_an_engine_error() {
    let Some(dir) = std::env::var_os("EFIMAP_TREES") else {
        assert!(std::env::var_os("CI").is_none(), "CI must set EFIMAP_TREES");
        return;
    };
    let tree = Tree::open(&PathBuf::from(dir).join("6.12")).unwrap();
    // `true` reads nothing and exits at once.
    let mut e = TreeEngine::start(Path::new("/bin/true"), &tree, Era::V6_12_Y).unwrap();
    let sc = load(&root().join("corpus/single-8g-sp-clean.scn")).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    match e.boot(&sc.input, true) {
        Err(efimap_core::engine::EngineError::Failed(m)) => {
            assert!(m.starts_with("the kernel driver: "), "{m}");
            assert!(m.ends_with(": it exited with status 0"), "{m}");
        }
        other => panic!("{other:?}"),
    }
    // A driver that cannot map its simulated memory (as under ulimit -v)
    // says so on its standard error: the error carries it, and what the
    // limit must allow. (It once said only that the driver exited.)
    let script = std::env::temp_dir().join(format!("efimap-dies-{}.sh", std::process::id()));
    std::fs::write(
        &script,
        "#!/bin/sh\necho 'efimap: mmap arena: Cannot allocate memory' >&2\nexit 1\n",
    )
    .unwrap();
    std::process::Command::new("chmod")
        .arg("+x")
        .arg(&script)
        .status()
        .unwrap();
    let mut e = TreeEngine::start(&script, &tree, Era::V6_12_Y).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    match e.boot(&sc.input, true) {
        Err(efimap_core::engine::EngineError::Failed(m)) => assert!(
            m.ends_with(
                ": it exited with status 1; it said: efimap: mmap arena: Cannot allocate memory \
                 (the driver reserves 64 GiB of address space, not memory, for the simulated \
                 physical memory: a limit on virtual memory such as ulimit -v must allow it)"
            ),
            "{m}"
        ),
        other => panic!("{other:?}"),
    }
    std::fs::remove_file(&script).unwrap();
}

/// The explorer through the real 6.1 code finds, in the hunt's bound, what
/// it finds through the model: the same signatures, the same examples.
#[test]
#[cfg_attr(
    not(efimap_trees),
    ignore = "needs the Debian kernel trees: EFIMAP_TREES=DIR, made by bash .ci/trees.sh DIR"
)]
fn exploring_the_real_code_finds_what_the_model_finds() {
    use efimap_core::search::explore::{explore, explore_engines};
    let Some(mut e) = engine("6.1") else { return };
    let bound = Bound::HUNT;
    let real = explore_engines(&bound, &mut [&mut e], |_, _| true).unwrap();
    let model = explore(&bound, &[Era::V6_1_Y], |_, _| true);
    assert_eq!(real.checked, model.checked);
    let summary = |x: &efimap_core::search::explore::Explored| -> Vec<(String, String)> {
        x.minimum
            .iter()
            .map(|(s, ex)| (s.to_string(), ex.scenario.to_text()))
            .collect()
    };
    assert_eq!(summary(&real), summary(&model));
    // The bound's maps are disjoint and its ranges and reservations page
    // sized: the fixed code's one finding there is a reservation that
    // efi_arch_mem_reserve refuses because an efi_fake_mem range split its
    // descriptor first ("Region spans EFI memory descriptors"): kept, but
    // left System RAM in e820. Smallest: a two-page Boot Services Data
    // descriptor, a one-page SP range on its first page, both pages
    // reserved.
    let sigs: Vec<String> = real.minimum.keys().map(|s| s.to_string()).collect();
    assert_eq!(sigs, vec!["kexec-clobber/efi_arch_mem_reserve"]);
    let ex = &real.minimum.values().next().unwrap().scenario;
    assert_eq!(
        (
            ex.input.map.len(),
            ex.input.cmdline.as_str(),
            ex.input.reservations.as_slice()
        ),
        (
            1,
            "efi_fake_mem=0x1000@0x0:0x40000",
            &[(0u64, 0x2000u64)][..]
        )
    );
}
