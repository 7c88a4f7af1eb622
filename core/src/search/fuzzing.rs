//! What the fuzz targets ask, as plain functions: each takes the fuzzer's
//! bytes and a [`Config`], and panics with one stable first line,
//! `efimap finding: <signature> era=<era> ...`, when it finds something
//! the config does not already know. The targets in `fuzz/` only call
//! these, so `cargo test` can run every check the fuzzer runs.
//!
//! The config comes from the environment:
//! - `EFIMAP_ERAS`: eras to run, comma-separated (default: all);
//! - `EFIMAP_KNOWN`: signatures that are not crashes (default: none);
//!   `fixed-code` among them switches on the table of known bugs by cause
//!   ([`crate::judge::known::KNOWN_BUGS`]): in the fixed eras a finding a
//!   known cause explains is not a crash, and one no cause explains is,
//!   whatever its signature;
//! - `EFIMAP_ONLY`: if set, only these signatures are crashes;
//! - `EFIMAP_WITHOUT`: eras, comma-separated: a finding is a crash only if
//!   none of them shows its signature on the same input (a bug one era
//!   has and another does not; the bug benchmark sets it).
//!
//! Findings that need no oracle (overrun, overread, use-after-free,
//! bad-free, a map installed unwritten) are crashes on any input; the
//! others only on input the oracle can judge.

use crate::cases::codec::decode;
use crate::cases::scenario::Scenario;
use crate::engine::{Engine, EngineError};
use crate::judge::findings::{check_quiet, Checked, Finding};
use crate::judge::known::{explain, listed};
use crate::judge::signature::{Class, Signature};
use crate::judge::verdict::{kernel_divergence, verdict, Verdict};
use crate::model::boot::{BootInput, Outcome};
use crate::model::desc::{MemRange, MemoryDesc, EFI_PAGE_SIZE};
use crate::model::era::{Era, FakeMem};
use crate::model::kernel::{Kernel, Level, MemoryMapData};
use crate::model::mem::Fill;
use crate::model::memmap::efi_memmap_split_count;
use std::collections::BTreeSet;
use std::sync::OnceLock;

/// Which eras run and which signatures count.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Config {
    pub eras: Vec<Era>,
    pub known: BTreeSet<Signature>,
    pub only: Option<BTreeSet<Signature>>,
    /// `fixed-code`: findings the known causes explain are not crashes.
    pub fixed_code: bool,
    /// Eras that must not show a crash's signature on its input.
    pub without: Vec<Era>,
}

/// The pseudo-signature a divergence between two fixed eras has.
pub const FAKE_MEM_DIVERGENCE: Signature = Signature::new(Class::Divergence, "efi_fake_memmap");

fn list(s: &str) -> BTreeSet<String> {
    s.split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

/// A comma-separated list of signatures from variable `var`; a word that
/// is no signature stops the process with the reason: a typo in a known
/// list would otherwise silently stop matching.
fn signatures(var: &str, words: BTreeSet<String>) -> BTreeSet<Signature> {
    words
        .iter()
        .map(|w| Signature::parse(w).unwrap_or_else(|e| panic!("{var}: {e}")))
        .collect()
}

impl Config {
    /// Reads `EFIMAP_ERAS`, `EFIMAP_KNOWN` and `EFIMAP_ONLY`.
    pub fn from_env() -> Config {
        let eras = std::env::var("EFIMAP_ERAS")
            .ok()
            .map(|s| {
                list(&s)
                    .iter()
                    .filter_map(|e| e.parse().ok())
                    .collect::<Vec<Era>>()
            })
            .filter(|v| !v.is_empty())
            .unwrap_or_else(Era::all);
        // `fixed-code` in EFIMAP_KNOWN switches on the known causes.
        let mut known = std::env::var("EFIMAP_KNOWN")
            .map(|s| list(&s))
            .unwrap_or_default();
        let fixed_code = known.remove("fixed-code");
        Config {
            eras,
            known: signatures("EFIMAP_KNOWN", known),
            only: std::env::var("EFIMAP_ONLY")
                .ok()
                .map(|s| signatures("EFIMAP_ONLY", list(&s))),
            fixed_code,
            without: std::env::var("EFIMAP_WITHOUT")
                .map(|s| list(&s).iter().filter_map(|e| e.parse().ok()).collect())
                .unwrap_or_default(),
        }
    }

    /// The config of this process, read once.
    pub fn global() -> &'static Config {
        static CONFIG: OnceLock<Config> = OnceLock::new();
        CONFIG.get_or_init(Config::from_env)
    }

    /// Whether `signature` is a crash under this config.
    pub fn counts(&self, signature: &Signature) -> bool {
        !self.known.contains(signature) && self.only.as_ref().is_none_or(|o| o.contains(signature))
    }

    /// Whether `f`, a finding of outcome `o` of `input`, is a crash under
    /// this config: its signature counts and, with `fixed_code`, no known
    /// cause explains it.
    pub fn crashes(&self, input: &BootInput, o: &Outcome, f: &Finding) -> bool {
        self.counts(&f.signature())
            && !(self.fixed_code && explain(input, o, f).is_some())
            && !self.without.iter().any(|&e| {
                check_quiet(e, input)
                    .is_ok_and(|(_, c)| c.counted().any(|g| g.signature() == f.signature()))
            })
    }
}

/// A finding the fuzzer should stop on: the line it panics with. A
/// finding whose signature the known-bug table lists, but that no known
/// cause explains, says so.
fn crash_line(f: &Finding, era: Era, cfg: &Config) -> String {
    let unexplained = if cfg.fixed_code && listed(&f.signature()) {
        " (no known cause explains it: a candidate new bug)"
    } else {
        ""
    };
    format!(
        "efimap finding: {} era={era} {}{unexplained}",
        f.signature(),
        f.explanation
    )
}

/// The first finding of `input` in `era` that `cfg` counts, as a crash line.
pub fn boot_flow_finding(input: &BootInput, era: Era, cfg: &Config) -> Option<String> {
    counted_finding(input, &check_quiet(era, input), era, cfg)
}

/// The first finding of a checked run that `cfg` counts, as a crash line:
/// every instance is looked at, not only the first of each signature.
fn counted_finding(input: &BootInput, checked: &Checked, era: Era, cfg: &Config) -> Option<String> {
    let (o, c) = checked.as_ref().ok()?;
    c.counted_all()
        .find(|f| cfg.crashes(input, o, f))
        .map(|f| crash_line(f, era, cfg))
}

/// Whether a run shows `signature` in a way `cfg` does not already know:
/// explicitly known signatures never, the others when some instance is a
/// crash (with `fixed_code`: unexplained).
fn shows_unknown(
    input: &BootInput,
    checked: &Checked,
    signature: &Signature,
    cfg: &Config,
) -> bool {
    if cfg.known.contains(signature) {
        return false;
    }
    let Ok((o, c)) = checked else { return false };
    c.all
        .iter()
        .filter(|f| f.signature() == *signature)
        .any(|f| !(cfg.fixed_code && explain(input, o, f).is_some()))
}

/// `boot_flow`: a whole boot through every configured era.
pub fn boot_flow(data: &[u8], cfg: &Config) {
    let input = decode(data).input;
    for &era in &cfg.eras {
        if let Some(line) = boot_flow_finding(&input, era, cfg) {
            panic!("{line}");
        }
    }
}

/// `fake_mem`: only the efi_fake_memmap flow (no reservations, no later
/// steps), against the oracle in each era, and each pair of configured
/// eras with the fixed efi_fake_memmap against each other.
pub fn fake_mem(data: &[u8], cfg: &Config) {
    let input = BootInput {
        reservations: vec![],
        later: vec![],
        ..decode(data).input
    };
    let results: Vec<(Era, Checked)> = cfg
        .eras
        .iter()
        .map(|&e| (e, check_quiet(e, &input)))
        .collect();
    for (era, checked) in &results {
        if let Some(line) = counted_finding(&input, checked, *era, cfg) {
            panic!("{line}");
        }
    }
    let fixed: Vec<&(Era, Checked)> = results
        .iter()
        .filter(|(e, _)| e.features().fake_mem == FakeMem::Fixed)
        .collect();
    // Whether `efi=`/`noefi` leave the runtime off: eras apart on that (the
    // `efi=runtime` option, which not every era has) differ in what runs
    // around efi_fake_memmap, not in it.
    let runtime_off = |era: Era| {
        let mut k = Kernel::new(era, Fill::Zero);
        k.quiet = true;
        k.parse_early_param(&input.cmdline);
        k.runtime_disabled
    };
    for w in fixed.windows(2) {
        let ((a, ra), (b, rb)) = (w[0], w[1]);
        let signature = FAKE_MEM_DIVERGENCE;
        if let Verdict::Diverge {
            only_a,
            only_b,
            maps_differ,
        } = verdict(ra, rb)
        {
            // A difference in known findings alone is known too.
            let unknown = only_a.iter().any(|s| shows_unknown(&input, ra, s, cfg))
                || only_b.iter().any(|s| shows_unknown(&input, rb, s, cfg));
            if (maps_differ || unknown)
                && cfg.counts(&signature)
                && runtime_off(*a) == runtime_off(*b)
            {
                panic!("efimap finding: {signature} era={a},{b} only {a}: {only_a:?}, only {b}: {only_b:?}");
            }
        }
    }
}

/// `diff_tree`: the input through the model of `engine`'s era and through
/// `engine` (a kernel tree's own code, loaded into the fuzzer's process by
/// `efimap_kernel_ffi::libfuzzer`); any difference between the two
/// outcomes is a crash carrying its signature. An engine that fails
/// panics too, with a line of its own.
pub fn differential(data: &[u8], engine: &mut dyn Engine) {
    if let Some(line) = differential_finding(&decode(data).input, engine) {
        panic!("{line}");
    }
}

/// What [`differential`] stops with on `input`, if anything:
/// `efimap finding: kernel-divergence/FUNCTION era=ERA FIELD: model ..., tree ...`.
pub fn differential_finding(input: &BootInput, engine: &mut dyn Engine) -> Option<String> {
    let era = engine.era();
    let mut model = crate::model::boot::run_with(era, input, true).ok()?;
    let mut tree = match engine.boot(input, true) {
        Ok(o) => o,
        Err(EngineError::Input(_)) => return None,
        Err(e) => panic!("efimap: {} failed: {e}", engine.name()),
    };
    // How many loads and stores a fault merges is the compiled code's:
    // the fuzz build's coverage instrumentation makes gcc emit them
    // otherwise than the plain build the model counts them as (efimap
    // diff holds that count on the plain build). Where, what and by whom
    // are compared.
    for f in model.faults.iter_mut().chain(tree.faults.iter_mut()) {
        f.accesses = 0;
    }
    kernel_divergence(&model, &tree).map(|d| {
        format!(
            "efimap finding: {} era={era} {}: model {}, tree {}",
            d.signature(),
            d.field,
            d.model,
            d.tree
        )
    })
}

/// `split_count_vs_insert`: descriptors and one range straight from the
/// bytes; in every configured era, insert must write exactly `1 +
/// efi_memmap_split_count` per descriptor, or refuse the range with its
/// WARN and write nothing.
pub fn split_count_vs_insert(data: &[u8], cfg: &Config) {
    let (map, range) = descs_and_range(data);
    for &era in &cfg.eras {
        let mut k = Kernel::new(era, Fill::Pattern(0x5a));
        k.efi_memblock_x86_reserve_range(&map, 48);
        if k.memmap.map.is_none() {
            return;
        }
        let predicted: u64 = map
            .iter()
            .map(|d| 1 + efi_memmap_split_count(d, &range))
            .sum();
        let mut data = MemoryMapData::default();
        if k.efi_memmap_alloc(predicted, &mut data).is_err() {
            return;
        }
        let Some(buf) = k.early_memremap(data.phys_map, data.size) else {
            return;
        };
        let current = k.memmap;
        let written = k.efi_memmap_insert(&current, buf, &range);
        let warned = k
            .events
            .iter()
            .any(|e| e.level == Level::Warning && e.func == "efi_memmap_insert");
        let ok = if warned {
            written == 0
        } else {
            written == predicted
        };
        let signature = Signature::new(Class::CountMismatch, "efi_memmap_insert");
        if (!ok || !k.mem.faults.is_empty()) && cfg.counts(&signature) {
            panic!(
                "efimap finding: {signature} era={era} predicted={predicted} written={written} warned={warned} faults={}",
                k.mem.faults.len()
            );
        }
    }
}

/// Descriptors and a range read from raw bytes: a count, then per
/// descriptor a type, page-granular start and length (a 0 length now and
/// then), then the range, page-aligned unless the bytes say otherwise.
pub fn descs_and_range(data: &[u8]) -> (Vec<MemoryDesc>, MemRange) {
    let mut b = data.iter().copied();
    let mut next = || b.next().unwrap_or(0);
    let n = usize::from(next() % 8) + 1;
    let map = (0..n)
        .map(|_| {
            let ty = u32::from(next() % 15);
            let start = u64::from(next()) * EFI_PAGE_SIZE;
            let pages = u64::from(next() % 32);
            MemoryDesc::new(ty, start, pages, 0xf)
        })
        .collect();
    let start = u64::from(next()) * EFI_PAGE_SIZE;
    let len = u64::from(next() % 64) * EFI_PAGE_SIZE;
    let skew = if next() % 8 == 0 {
        u64::from(next())
    } else {
        0
    };
    let range = MemRange::from_size(start.wrapping_add(skew), len, 0x40000);
    (map, range)
}

/// The naive baseline's decoding: raw bytes read as the scenario's fields
/// (counts, then whole u32 and u64 values), with none of the codec's
/// structure. Only for comparison with [`boot_flow`].
pub fn naive_scenario(data: &[u8]) -> Scenario {
    let mut b = data.iter().copied();
    let mut byte = || b.next().unwrap_or(0);
    let mut u64_ = || (0..8).fold(0u64, |v, i| v | u64::from(byte()) << (8 * i));
    let n = usize::from(u64_() as u8 % 9);
    let map = (0..n)
        .map(|_| {
            let ty = u64_() as u32;
            MemoryDesc::new(ty, u64_(), u64_(), u64_())
        })
        .collect();
    let ranges: Vec<MemRange> = (0..u64_() % 9)
        .map(|_| MemRange::from_size(u64_(), u64_(), u64_()))
        .collect();
    let reservations = (0..u64_() % 5).map(|_| (u64_(), u64_())).collect();
    Scenario {
        input: BootInput {
            map,
            cmdline: crate::model::cmdline::join_cmdline(&ranges, &[]),
            reservations,
            ..BootInput::default()
        },
        ..Scenario::default()
    }
}

/// `naive`: [`boot_flow`]'s question on [`naive_scenario`]'s decoding.
pub fn naive(data: &[u8], cfg: &Config) {
    let input = naive_scenario(data).input;
    for &era in &cfg.eras {
        if let Some(line) = boot_flow_finding(&input, era, cfg) {
            panic!("{line}");
        }
    }
}

/// `parse_cmdline`: splitting the command line and `setup_fake_mem`, in
/// every era; never panics.
pub fn parse_cmdline(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for era in Era::all() {
        let mut k = Kernel::new(era, Fill::Zero);
        let _ = k.parse_early_param(&text);
        let _ = k.setup_fake_mem(Some(&text));
    }
}

/// `parse_scenario`: the text form parses or errs, and what parses prints
/// and parses back to itself.
pub fn parse_scenario(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(sc) = Scenario::parse(&text) {
        let again = Scenario::parse(&sc.to_text());
        if again.as_ref() != Ok(&sc) {
            panic!("efimap finding: roundtrip/scenario_parse {again:?}");
        }
    }
}

/// `parse_patch`: a patch from a mailing list, read and resolved as
/// `efimap review` reads it, never names a path outside the tree it is
/// applied in (every path it keeps is [`crate::cases::patch::confined`]),
/// and each file's hunks apply or are rejected without a panic, to the
/// file the hunks' own old lines make and to an empty one.
pub fn parse_patch(data: &[u8]) {
    use crate::cases::patch::{apply, confined, HunkLine, Series};
    let text = String::from_utf8_lossy(data);
    let Ok(mut series) = Series::parse(std::path::Path::new("fuzzed.patch"), &text) else {
        return;
    };
    let escapes = |s: &Series| -> Option<String> {
        s.patches
            .iter()
            .flat_map(|p| &p.files)
            .flat_map(|f| [&f.old, &f.new])
            .flatten()
            .find(|p| !confined(p))
            .cloned()
    };
    if let Some(p) = escapes(&series) {
        panic!("efimap finding: escape/patch_parse `{p}` leads out of the tree");
    }
    if series.resolve(|_| true).is_ok() {
        if let Some(p) = escapes(&series) {
            panic!("efimap finding: escape/patch_resolve `{p}` leads out of the tree");
        }
    }
    for fp in series.patches.iter().flat_map(|p| &p.files) {
        let old: String = fp
            .hunks
            .iter()
            .flat_map(|h| &h.lines)
            .filter_map(|l| match l {
                HunkLine::Context(t) | HunkLine::Removed(t) => Some(format!("{t}\n")),
                HunkLine::Added(_) => None,
            })
            .collect();
        let _ = apply(fp, Some(&old));
        let _ = apply(fp, Some(""));
        let _ = apply(fp, None);
    }
}

/// `parse_dmesg`: every line through the `efi: memNN:` reader; never panics.
pub fn parse_dmesg(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for line in text.lines() {
        let _ = crate::cases::dmesg::parse_memmap_line(line);
    }
}

/// A fuzz target's check, as `fuzz/fuzz_targets/NAME.rs` calls it.
pub type Check = fn(&[u8], &Config);

/// Every fuzz target of `fuzz/` by name, with the check it runs (the
/// targets that read no config ignore it).
pub const TARGETS: [(&str, Check); 9] = [
    ("boot_flow", boot_flow),
    ("fake_mem", fake_mem),
    ("split_count_vs_insert", split_count_vs_insert),
    ("naive", naive),
    ("parse_cmdline", |d, _| parse_cmdline(d)),
    ("parse_scenario", |d, _| parse_scenario(d)),
    ("parse_dmesg", |d, _| parse_dmesg(d)),
    ("parse_patch", |d, _| parse_patch(d)),
    ("empty", |d, _| {
        std::hint::black_box(d);
    }),
];

/// The fuzz targets whose check needs an engine besides the models:
/// `diff_tree` ([`differential`]), whose tree the target loads itself.
pub const ENGINE_TARGETS: [&str; 1] = ["diff_tree"];

/// The check of the fuzz target `name`.
pub fn target(name: &str) -> Option<Check> {
    TARGETS.iter().find(|(n, _)| *n == name).map(|&(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `noefi efi=runtime`: v6.1.y turns the runtime back on and keeps page
    /// zero's Boot Data as RUNTIME, v5.6 has no such option; the two maps
    /// differ, and the fake_mem target does not call that a divergence of
    /// efi_fake_memmap (CI's fuzzing found it from the corpus).
    #[test]
    fn eras_apart_on_efi_runtime_are_not_a_fake_mem_divergence() {
        let sc = crate::cases::scenario::Scenario {
            input: BootInput {
                map: vec![
                    MemoryDesc::new(crate::model::desc::ty::BOOT_SERVICES_DATA, 0, 0x100, 0xf),
                    MemoryDesc::new(
                        crate::model::desc::ty::CONVENTIONAL_MEMORY,
                        1 << 32,
                        0x100,
                        0xf,
                    ),
                ],
                cmdline: "noefi efi=nosoftreserve,noruntime,runtime".into(),
                ..BootInput::default()
            },
            ..Default::default()
        };
        let bytes = crate::cases::codec::encode(&sc);
        assert_eq!(decode(&bytes).input.cmdline, sc.input.cmdline);
        let (a, b) = (
            crate::model::boot::run(Era::V5_6, &sc.input).unwrap(),
            crate::model::boot::run(Era::V6_1_Y, &sc.input).unwrap(),
        );
        assert_ne!(a.map, b.map);
        let cfg = Config {
            eras: vec![Era::V5_6, Era::V6_1_Y],
            fixed_code: true,
            ..Config::default()
        };
        fake_mem(&bytes, &cfg);
    }

    /// An engine that boots one era under another's name: a planted
    /// difference, as a tree whose code lost a line would be.
    struct Planted {
        label: Era,
        runs: Era,
    }

    impl Engine for Planted {
        fn name(&self) -> String {
            format!("planted {} as {}", self.runs, self.label)
        }
        fn era(&self) -> Era {
            self.label
        }
        fn boot(&mut self, input: &BootInput, quiet: bool) -> Result<Outcome, EngineError> {
            let mut o = crate::model::boot::run_with(self.runs, input, quiet)?;
            o.era = self.label;
            Ok(o)
        }
    }

    /// The differential check finds a difference planted in a test-only
    /// era (v6.12.y whose efi_arch_mem_reserve allocates one descriptor
    /// too few) within a bounded run of the generator's random inputs, as
    /// the fuzz target would, and names the function that differs; against
    /// an engine equal to the model it finds nothing.
    #[test]
    fn the_differential_check_finds_a_planted_difference() {
        let planted = Era::register(crate::model::era::EraDef {
            name: "test-planted-one-short",
            tree: "v6.12.y with efi_arch_mem_reserve one descriptor short (a test)",
            commits: &[],
            features: crate::model::era::Features {
                reserve_one_short: true,
                ..Era::V6_12_Y.features()
            },
        })
        .unwrap();
        let mut engine = Planted {
            label: Era::V6_12_Y,
            runs: planted,
        };
        let mut same = crate::engine::ModelEngine(Era::V6_12_Y);
        let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(1);
        let mut bytes = Vec::new();
        let found = (1..=2000).find_map(|n| {
            let sc = crate::cases::codec::random_scenario(&mut rng, &mut bytes);
            assert_eq!(differential_finding(&sc.input, &mut same), None);
            differential_finding(&sc.input, &mut engine).map(|line| (n, line))
        });
        let (n, line) = found.expect("no divergence in 2000 inputs");
        assert!(
            line.starts_with("efimap finding: kernel-divergence/efi_arch_mem_reserve era=v6.12.y "),
            "after {n}: {line}"
        );
        let caught = std::panic::catch_unwind(|| {
            differential(
                &bytes,
                &mut Planted {
                    label: Era::V6_12_Y,
                    runs: planted,
                },
            )
        });
        assert!(caught.is_err(), "the target's check panics on it");
    }

    /// An engine that boots the model and changes its faults, as a
    /// differently compiled tree would.
    struct Refaulted {
        era: Era,
        change: fn(&mut crate::model::mem::Fault),
    }

    impl Engine for Refaulted {
        fn name(&self) -> String {
            format!("refaulted {}", self.era)
        }
        fn era(&self) -> Era {
            self.era
        }
        fn boot(&mut self, input: &BootInput, quiet: bool) -> Result<Outcome, EngineError> {
            let mut o = crate::model::boot::run_with(self.era, input, quiet)?;
            o.faults.iter_mut().for_each(self.change);
            Ok(o)
        }
    }

    /// The fuzz build's instrumentation changes how many loads gcc merges
    /// into one fault; the check holds where, what and by whom, not that
    /// count: an engine whose faults differ only in it agrees, one whose
    /// fault is one byte longer does not.
    #[test]
    fn the_differential_check_holds_faults_but_not_their_access_count() {
        let era = Era::V5_5;
        let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(1);
        let mut bytes = Vec::new();
        let input = std::iter::repeat_with(|| {
            crate::cases::codec::random_scenario(&mut rng, &mut bytes).input
        })
        .take(5000)
        .find(|input| {
            crate::model::boot::run_with(era, input, true)
                .is_ok_and(|o| o.faults.iter().any(|f| f.accesses > 1))
        })
        .expect("a fault of several accesses in 5000 inputs");
        let mut recounted = Refaulted {
            era,
            change: |f| f.accesses += 1,
        };
        assert_eq!(differential_finding(&input, &mut recounted), None);
        let mut longer = Refaulted {
            era,
            change: |f| f.len += 1,
        };
        let line = differential_finding(&input, &mut longer).expect("a longer fault differs");
        let o = crate::model::boot::run_with(era, &input, true).unwrap();
        let f = &o.faults[0];
        let end = f.offset + f.len;
        assert!(line.contains(" era=v5.5 fault 0: model "), "{line}");
        assert!(
            line.contains(&format!(
                "bytes {:#x}..{end:#x}, by {}, tree ",
                f.offset, f.by
            )),
            "{line}"
        );
        assert!(
            line.ends_with(&format!(
                "bytes {:#x}..{:#x}, by {}",
                f.offset,
                end + 1,
                f.by
            )),
            "{line}"
        );
    }

    #[test]
    fn config_counts() {
        let sig = |s: &str| Signature::parse(s).unwrap();
        let (a, b, c, d) = (
            sig("leak/efi_fake_memmap"),
            sig("overrun/efi_arch_mem_reserve"),
            sig("warn/efi_memmap_insert"),
            sig("empty-entry/efi_fake_memmap"),
        );
        let cfg = Config {
            eras: vec![Era::V5_5],
            known: signatures(
                "test",
                list("leak/efi_fake_memmap, overrun/efi_arch_mem_reserve"),
            ),
            only: None,
            fixed_code: false,
            without: vec![],
        };
        assert!(!cfg.counts(&a) && !cfg.counts(&b) && cfg.counts(&c));
        let only = Config {
            only: Some([c].into()),
            ..cfg
        };
        assert!(only.counts(&c) && !only.counts(&d));
    }

    #[test]
    #[should_panic(
        expected = "EFIMAP_KNOWN: `efi_arch_mem_reserv` in `overrun/efi_arch_mem_reserv` is not a kernel function the model names"
    )]
    fn a_misspelt_known_signature_stops_the_fuzzer() {
        signatures("EFIMAP_KNOWN", list("overrun/efi_arch_mem_reserv"));
    }

    #[test]
    fn every_fuzz_target_has_its_check() {
        let manifest = include_str!("../../../fuzz/Cargo.toml");
        let bins: Vec<&str> = manifest
            .lines()
            .filter_map(|l| l.strip_prefix("name = \""))
            .filter_map(|l| l.strip_suffix('"'))
            .filter(|n| *n != "efimap-fuzz")
            .collect();
        let names: Vec<&str> = TARGETS.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            bins,
            [
                "split_count_vs_insert",
                "fake_mem",
                "boot_flow",
                "parse_cmdline",
                "parse_scenario",
                "parse_dmesg",
                "naive",
                "empty",
                "diff_tree",
                "parse_patch"
            ]
        );
        let mut names = names.clone();
        names.extend(ENGINE_TARGETS);
        let mut sorted = names.clone();
        sorted.sort_unstable();
        let mut bins_sorted = bins.clone();
        bins_sorted.sort_unstable();
        assert_eq!(sorted, bins_sorted);
        assert!(target("boot_flow").is_some() && target("boot-flow").is_none());
    }
}
