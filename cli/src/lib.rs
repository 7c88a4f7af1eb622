//! The `efimap` command's arguments: what it accepts, parsed by clap. The
//! binary (`main.rs`) does the work; this library exists so that tests can
//! parse command lines in process, with eras registered by the test.

use clap::{Parser, Subcommand};
use efimap_core::judge::signature::Signature;
use efimap_core::search::explore::Bound;
use efimap_core::Era;
use std::path::PathBuf;

/// The corpus efimap was built with: its source tree's `corpus/` folder,
/// the default wherever efimap is run from (a relative `corpus` once
/// failed outside the source tree).
pub const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../corpus");

/// The longest any time flag may ask for: a year. Longer, a deadline
/// would overflow the clock (`--budget 18446744073709551615` panicked).
pub const MAX_SECONDS: u64 = 366 * 24 * 3600;
/// The most threads or workers a flag may ask for (`--jobs 10000` failed
/// to spawn its threads).
pub const MAX_JOBS: u64 = 256;
/// The most random scenarios a flag may ask for: at a few thousand a
/// second, days.
pub const MAX_RANDOM: u64 = 1_000_000_000;
#[derive(Parser)]
#[command(
    name = "efimap",
    version,
    about = "Differential fuzzing and regression harness for the Linux kernel's EFI memory-map code"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// The main job: an exhaustive small-scope search, then a random
    /// structure-aware one, for a time budget; each new finding signature is
    /// minimized and written as a scenario file.
    Hunt(HuntArgs),
    /// Check every scenario inside a bound; report how many and the smallest
    /// example of every signature (the proven minimum within the bound).
    Explore(ExploreArgs),
    /// Shrink a scenario (or a fuzz artifact) while one era still shows one
    /// signature; deterministic, time-bounded, locally minimal.
    Minimize(MinimizeArgs),
    /// Run one scenario in each of its eras: map before and after, picture,
    /// events, faults, findings. Exit 1 if there are findings.
    Run(RunArgs),
    /// Decode a cargo-fuzz artifact into a scenario file.
    Show {
        /// The artifact: libFuzzer's crash-*, leak-*, timeout-* or
        /// corpus file of a scenario target.
        artifact: PathBuf,
        /// Write the scenario here instead of printing it.
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// The encoding the bytes were made with: v2, the grammar of
        /// today's fuzz targets and searches, or v1, the byte layout of
        /// artifacts and seeds made before December 2026.
        #[arg(long, default_value = "v2", value_parser = ["v1", "v2"])]
        codec: String,
    },
    /// Run every scenario of a folder; exit 1 if any file's expected
    /// signatures (from its header) do not match.
    Replay {
        #[arg(default_value = CORPUS)]
        dir: PathBuf,
        /// Also run each file on this tree's own code, held against the
        /// model era paired with it (and against the file's expectations).
        #[command(flatten)]
        tree: TreeArg,
    },
    /// Read the EFI memory map from a boot log (any format the kernel has
    /// printed) and make a scenario.
    ImportDmesg(ImportArgs),
    /// Hold a real boot's serial log (x86_64 under OVMF, booted with
    /// efi=debug) against the model's prediction of it: the firmware map
    /// printed back and the EFI runtime memory map, line by line; with
    /// --second, the boot-services freeing of a boot of the same machine
    /// without efi=debug. With --kernel, boot the image under QEMU and
    /// OVMF first, with an init of efimap's own that prints the runtime
    /// map, the firmware memmap and the BGRT, and hold its log. Exit 1 on
    /// any divergence.
    Boot(BootArgs),
    /// Print a scenario as an efi_fake_mem= line, as dmesg maps before and
    /// after per era, as a KUnit test case, or as a mailing-list report.
    Export {
        /// The scenario file (.scn, or .json).
        file: PathBuf,
        /// The form to print it in.
        #[arg(long = "as", value_enum)]
        form: Form,
        /// Write it to this file instead of printing it (a regular file,
        /// never the input).
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// With `--as report`, when the case's eras include a proposed fix:
        /// verify it against the newest kernel era first, through the corpus,
        /// the exhaustive bound and this many random scenarios.
        #[arg(long)]
        verify: Option<u64>,
    },
    /// Measure: model throughput by map size, time to each seed bug, the
    /// explorer's rate, the minimizer against the proven minimum, replay
    /// time as the corpus grows. Prints the figures.
    Bench {
        /// Seconds per throughput figure.
        #[arg(long, default_value_t = 1.0)]
        seconds: f64,
        /// Random-search seeds for the time-to-bug figure.
        #[arg(long, default_value_t = 10)]
        seeds: u64,
        #[arg(long, default_value = CORPUS)]
        corpus: PathBuf,
        /// Instead, measure this kernel tree: its build, cold and cached,
        /// and boots per second through its code and through the model.
        #[arg(long)]
        tree: Option<PathBuf>,
        /// Instead, run this fuzz target's check in process over the files
        /// of --fuzz-corpus for --seconds (eras and known findings from
        /// EFIMAP_ERAS, EFIMAP_KNOWN, EFIMAP_ONLY, as the target reads
        /// them): executions per second, to hold against libFuzzer's.
        #[arg(long, requires = "fuzz_corpus", conflicts_with = "tree")]
        fuzz_target: Option<String>,
        /// The libFuzzer corpus folder for --fuzz-target.
        #[arg(long, requires = "fuzz_target")]
        fuzz_corpus: Option<PathBuf>,
        /// Instead, the bug benchmark: for every bug of the code's history
        /// (its era, the era without it, its signature), the time the
        /// default hunt's searches take to find it with each of --seeds
        /// seeds (at most --seconds each), and, with --fuzz-seconds,
        /// `cargo fuzz run boot_flow` from an empty corpus with the same
        /// seeds (at most that many seconds each).
        #[arg(long, conflicts_with_all = ["tree", "fuzz_target"], group = "drawn")]
        bugs: bool,
        /// With --bugs: seconds each cargo fuzz run may take; 0 runs none.
        #[arg(long, default_value_t = 0, requires = "bugs")]
        fuzz_seconds: u64,
        /// Instead, the generator's distribution: this many scenarios drawn
        /// as the searches draw them, tallied dimension by dimension.
        #[arg(long, conflicts_with_all = ["tree", "fuzz_target", "bugs"], group = "drawn")]
        generator: Option<u64>,
        /// With --generator or --bugs: the encoding the random scenarios
        /// are drawn through, v2 (today's) or v1 (the byte layout of
        /// before December 2026).
        #[arg(long, default_value = "v2", value_parser = ["v1", "v2"], requires = "drawn")]
        codec: String,
    },
    /// Model versus kernel: the corpus, the hunt's exhaustive bound and
    /// random scenarios through a kernel tree's own code and the model era
    /// it should equal; each divergence minimized and written as a scenario.
    Diff(DiffArgs),
    /// Review a kernel patch by running it: the series applied to a copy
    /// of a tree's EFI memory-map files, the engine built before and after
    /// it, the corpus, the exhaustive bound and random scenarios through
    /// both; every finding it adds, fixes or changes and every change of
    /// behaviour, minimized, with the lines it changed and whether they ran.
    Review(ReviewArgs),
    /// Fuzz one target with libFuzzer in fork mode, N workers, for a
    /// budget; merge the new inputs into the corpus; group the crash
    /// artifacts by signature and write the smallest of each as a scenario.
    Fuzz(FuzzArgs),
    /// Turn a corpus folder into cargo-fuzz seed inputs, one folder per target.
    Seeds {
        /// The corpus folder of scenario files.
        #[arg(default_value = CORPUS)]
        corpus: PathBuf,
        /// The fuzz corpus folder: one subfolder per target.
        #[arg(short, long, default_value = "fuzz/corpus")]
        output: PathBuf,
    },
}

/// The eras to run (comma-separated; default: every era, or the file's).
#[derive(clap::Args)]
pub struct ErasArg {
    /// The model eras to run, comma-separated (default: the scenario's
    /// own `eras` line, or every era).
    #[arg(long, value_delimiter = ',')]
    pub eras: Vec<Era>,
}

impl ErasArg {
    /// The eras given, sorted, or `default` if none.
    pub fn or(&self, default: Vec<Era>) -> Vec<Era> {
        let mut eras = if self.eras.is_empty() {
            default
        } else {
            self.eras.clone()
        };
        eras.sort();
        eras.dedup();
        eras
    }
}

/// An exhaustive bound; each command has its own defaults
/// ([`Bound::HUNT`], [`Bound::EXPLORE`]).
#[derive(clap::Args)]
pub struct BoundArgs {
    /// Firmware descriptors, at most (hunt: 1, explore: 2).
    #[arg(long)]
    pub descs: Option<usize>,
    /// efi_fake_mem ranges, at most (hunt: 2, explore: 2).
    #[arg(long)]
    pub ranges: Option<usize>,
    /// Pages of address space the boundaries move in (hunt: 4, explore: 6).
    #[arg(long)]
    pub pages: Option<u64>,
}

impl BoundArgs {
    pub fn or(&self, default: Bound) -> Bound {
        Bound {
            descs: self.descs.unwrap_or(default.descs),
            ranges: self.ranges.unwrap_or(default.ranges),
            pages: self.pages.unwrap_or(default.pages),
            reserve: default.reserve,
        }
    }
}

#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["log", "kernel"])))]
pub struct BootArgs {
    /// The serial console log of a boot with efi=debug.
    #[arg(long)]
    pub log: Option<PathBuf>,
    /// The log of a second boot of the same machine without efi=debug.
    #[arg(long, conflicts_with = "kernel")]
    pub second: Option<PathBuf>,
    /// Boot this kernel image (bzImage) under QEMU and OVMF with an init
    /// of efimap's own, then hold the log against the model.
    #[arg(long)]
    pub kernel: Option<PathBuf>,
    /// With --kernel: the machine's memory, in MiB or with M or G (512M,
    /// 2G, 6144).
    #[arg(long, conflicts_with = "log", default_value = "2G", value_parser = parse_mebibytes)]
    pub memory: u64,
    /// With --kernel: the QEMU machine type.
    #[arg(long, conflicts_with = "log", value_enum, default_value_t = Machine::Q35)]
    pub machine: Machine,
    /// With --kernel: the number of CPUs.
    #[arg(long, conflicts_with = "log", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=255))]
    pub smp: u32,
    /// With --kernel: more kernel parameters, after efimap's own
    /// (console=ttyS0 efi=debug ignore_loglevel panic=-1 nokaslr; nokaslr
    /// left out when these name kaslr).
    #[arg(
        long,
        conflicts_with = "log",
        default_value = "",
        allow_hyphen_values = true
    )]
    pub append: String,
    /// With --kernel: pass this scenario's `efi_fake_mem=` words too (for
    /// a kernel built with CONFIG_EFI_FAKE_MEMMAP); the model predicts
    /// them from the log's command line as any other.
    #[arg(long, conflicts_with = "log")]
    pub scenario: Option<PathBuf>,
    /// With --kernel: the QEMU program (a path, or a name looked up on PATH).
    #[arg(long, conflicts_with = "log", default_value = "qemu-system-x86_64")]
    pub qemu: PathBuf,
    /// With --kernel: the OVMF firmware, a CODE file (its VARS file beside
    /// it) or a whole OVMF.fd (default: the first of
    /// /usr/share/OVMF/OVMF_CODE_4M.fd, /usr/share/OVMF/OVMF_CODE.fd,
    /// /usr/share/ovmf/OVMF.fd).
    #[arg(long, conflicts_with = "log")]
    pub firmware: Option<PathBuf>,
    /// With --kernel: seconds a boot may take before QEMU is stopped.
    #[arg(long, conflicts_with = "log", default_value_t = 180, value_parser = clap::value_parser!(u64).range(1..=MAX_SECONDS))]
    pub timeout: u64,
    /// With --kernel: boot again without efi=debug and hold that log
    /// against the model too (as --second).
    #[arg(long, conflicts_with = "log")]
    pub twice: bool,
    /// Write the scenario of each boot that diverges into this folder;
    /// with --kernel also the logs (boot.log, boot-nodebug.log) and the
    /// initramfs (default: efimap-boot, created if missing).
    #[arg(short, long)]
    pub out: Option<PathBuf>,
}

/// A QEMU x86_64 machine type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Machine {
    /// Q35 chipset, PCIe.
    Q35,
    /// i440FX chipset, PCI.
    Pc,
}

impl Machine {
    /// The name QEMU's -machine takes.
    pub fn name(self) -> &'static str {
        match self {
            Machine::Q35 => "q35",
            Machine::Pc => "pc",
        }
    }
}

/// A memory size in MiB: a number of MiB, or a number with M, MiB, G or
/// GiB after it (either case).
pub fn parse_mebibytes(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let lower = t.to_ascii_lowercase();
    let (digits, scale) = [("gib", 1024), ("g", 1024), ("mib", 1), ("m", 1)]
        .iter()
        .find_map(|(suffix, scale)| lower.strip_suffix(suffix).map(|d| (d, *scale)))
        .unwrap_or((lower.as_str(), 1));
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
        .filter(|&n| n > 0 && n <= 1 << 22)
        .ok_or_else(|| {
            format!("expected a memory size in MiB or with M or G (512M, 2G, 6144), from 1 MiB to 4 TiB, found `{s}`")
        })
}

#[derive(clap::Args)]
pub struct HuntArgs {
    /// Seconds to hunt for, minimization included (at most a year).
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(..=MAX_SECONDS))]
    pub budget: u64,
    /// The random search's seed (default: from the clock; printed).
    #[arg(long)]
    pub seed: Option<u64>,
    #[command(flatten)]
    pub eras: ErasArg,
    /// Where the reproducers go.
    #[arg(short, long, default_value = "found")]
    pub out: PathBuf,
    #[command(flatten)]
    pub bound: BoundArgs,
    /// Hunt in this tree's own code instead of the model eras.
    #[command(flatten)]
    pub tree: TreeArg,
    /// Threads for the random phase (default: the machine's cores; a
    /// tree's engine runs on one; at most 256).
    #[arg(long, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=MAX_JOBS))]
    pub jobs: Option<usize>,
}

#[derive(clap::Args)]
pub struct FuzzArgs {
    /// A fuzz target of fuzz/Cargo.toml (boot_flow, fake_mem, ...).
    pub target: String,
    /// libFuzzer workers (-fork=N; at most 256).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=MAX_JOBS as i64))]
    pub jobs: u32,
    /// Seconds to fuzz for (-max_total_time; at most a year).
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(..=MAX_SECONDS))]
    pub budget: u64,
    /// The corpus to start from and merge into (default: fuzz/corpus/TARGET).
    #[arg(long)]
    pub corpus: Option<PathBuf>,
    /// Where the artifacts and the scenario of each signature go.
    #[arg(short, long, default_value = "fuzzed")]
    pub out: PathBuf,
    /// For diff_tree: the kernel tree whose own code runs in the fuzzer
    /// beside the model (built with kernel/build.sh --fuzz, so that its
    /// branches and compares guide libFuzzer too).
    #[arg(long)]
    pub tree: Option<PathBuf>,
    /// For diff_tree: the model era to hold the tree against (default:
    /// the era paired with its version).
    #[arg(long, requires = "tree")]
    pub era: Option<Era>,
}

#[derive(clap::Args)]
pub struct ExploreArgs {
    #[command(flatten)]
    pub bound: BoundArgs,
    /// Leave out the reservation.
    #[arg(long)]
    pub no_reserve: bool,
    #[command(flatten)]
    pub eras: ErasArg,
    /// With --tree, this tree's own code is explored instead of the model
    /// eras, as the era it matches (or --tree-era).
    #[command(flatten)]
    pub tree: TreeArg,
    /// Enumerate order types (every way the boundaries compare, maps in
    /// any order and overlapping) instead of page values; --descs and
    /// --ranges bound it (default 3 and 2), --pages caps the realisations.
    #[arg(long, conflicts_with = "tree")]
    pub orders: bool,
    /// With --orders: one item may be empty, end at 2^64, or have a
    /// misaligned start or end.
    #[arg(long, requires = "orders")]
    pub marks: bool,
    /// Threads (default: the machine's cores; a tree's engine runs on
    /// one; at most 256). The result is the same for any number.
    #[arg(long, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=MAX_JOBS))]
    pub jobs: Option<usize>,
    /// With --orders: only count the order types (no boots), for a
    /// projection.
    #[arg(long, requires = "orders")]
    pub count_only: bool,
}

#[derive(clap::Args)]
pub struct MinimizeArgs {
    /// The scenario file, or a fuzz artifact.
    pub input: PathBuf,
    /// Where the minimized scenario goes (a regular file, never the
    /// input).
    #[arg(short, long)]
    pub output: PathBuf,
    /// The era to keep the signature in (default: the first that shows one).
    #[arg(long)]
    pub era: Option<Era>,
    /// The signature to keep, CLASS/FUNCTION (default: that era's first).
    #[arg(long)]
    pub signature: Option<Signature>,
    /// Seconds to minimize for at most (at most a year).
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(..=MAX_SECONDS))]
    pub seconds: u64,
    /// Keep the signature on this tree's own code instead of a model era.
    #[arg(long)]
    pub tree: Option<PathBuf>,
    /// Read INPUT as a fuzz artifact's bytes (files named as libFuzzer
    /// names them are read so anyway).
    #[arg(long)]
    pub artifact: bool,
    /// The encoding of an artifact: v2 (today's) or v1 (before December
    /// 2026), as for efimap show.
    #[arg(long, default_value = "v2", value_parser = ["v1", "v2"])]
    pub codec: String,
}

#[derive(clap::Args)]
pub struct RunArgs {
    /// The scenario file (.scn, or .json).
    pub file: PathBuf,
    #[command(flatten)]
    pub eras: ErasArg,
    #[command(flatten)]
    pub tree: TreeArg,
    /// Also draw the picture (firmware, expected and each era's installed
    /// map) as an SVG image to this file.
    #[arg(long, value_name = "OUT.svg")]
    pub svg: Option<PathBuf>,
}

/// A kernel tree whose own code runs beside the models.
#[derive(clap::Args)]
pub struct TreeArg {
    /// A kernel source tree (its Makefile, drivers/firmware/efi, arch/x86/platform/efi, lib).
    #[arg(long)]
    pub tree: Option<PathBuf>,
    /// The model era the tree should equal (default: paired by its version).
    #[arg(long = "tree-era")]
    pub tree_era: Option<Era>,
}

#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("engine").required(true).args(["tree", "model"])))]
pub struct DiffArgs {
    /// The kernel tree.
    #[arg(long)]
    pub tree: Option<PathBuf>,
    /// Instead of a tree, the model of this era (a fix, held against the
    /// era it fixes: `--model v7.0-rc+fix --era v7.0-rc --except overrun/efi_arch_mem_reserve`).
    #[arg(long)]
    pub model: Option<Era>,
    /// The model era to hold it against (default: paired by the tree's
    /// version; required with --model).
    #[arg(long)]
    pub era: Option<Era>,
    /// The finding the engine fixes: its cases are counted apart, checked
    /// for it and for new findings, not compared.
    #[arg(long)]
    pub except: Option<Signature>,
    /// Seconds the random phase goes on after its --random scenarios (at
    /// most a year): the run takes as long as the corpus, the exhaustive
    /// bound and --random scenarios take, then this.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u64).range(..=MAX_SECONDS))]
    pub budget: u64,
    /// Random scenarios to run at least (at most 10^9).
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(..=MAX_RANDOM))]
    pub random: u64,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The corpus to run first.
    #[arg(long, default_value = CORPUS)]
    pub corpus: PathBuf,
    /// Where the divergent scenarios go.
    #[arg(short, long, default_value = "diverged")]
    pub out: PathBuf,
    /// With --tree: build its files with gcov and end with the real C's
    /// line and branch coverage per function (its counts in OUT/.gcov).
    #[arg(long, requires = "tree")]
    pub coverage: bool,
}

/// How `efimap review` writes its report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ReviewForm {
    /// For a terminal.
    Text,
    /// A reply to the patch's mail: threading headers, the hunk quoted.
    Mail,
}

#[derive(clap::Args)]
pub struct ReviewArgs {
    /// The patch: a unified diff, a `git format-patch` file, or an mbox of
    /// a series (applied in order).
    pub patch: PathBuf,
    /// The kernel tree to apply it to (default: the current directory, at
    /// the patch's base-commit when it is a git tree that has it).
    #[arg(long)]
    pub tree: Option<PathBuf>,
    /// Seconds the random phase goes on after its --random scenarios (at
    /// most a year): the review takes as long as its builds, the corpus,
    /// the exhaustive bound and --random scenarios on both trees take,
    /// then this.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u64).range(..=MAX_SECONDS))]
    pub budget: u64,
    /// Random scenarios to run at least (at most 10^9).
    #[arg(long, default_value_t = 20_000, value_parser = clap::value_parser!(u64).range(..=MAX_RANDOM))]
    pub random: u64,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The corpus to run first.
    #[arg(long, default_value = CORPUS)]
    pub corpus: PathBuf,
    /// Seconds for minimizing each kind of change.
    #[arg(long, default_value_t = 10)]
    pub minimize: u64,
    /// The report's form.
    #[arg(long = "as", value_enum, default_value_t = ReviewForm::Text)]
    pub form: ReviewForm,
    /// Build without gcov: faster, but no line counts.
    #[arg(long)]
    pub no_coverage: bool,
    /// Where the scratch trees (before/, after/), the scenarios and the
    /// report go.
    #[arg(short, long, default_value = "efimap-review")]
    pub out: PathBuf,
}

#[derive(clap::Args)]
pub struct ImportArgs {
    /// The kernel log (dmesg, or a serial console's) with an EFI memory
    /// map printed under efi=debug.
    pub log: PathBuf,
    /// The kernel command line to go with it, e.g. "efi_fake_mem=...".
    #[arg(long)]
    pub cmdline: Option<String>,
    /// An efi_mem_reserve(ADDR, SIZE) call; repeatable.
    #[arg(long, value_parser = parse_reserve)]
    pub reserve: Vec<(u64, u64)>,
    /// The firmware's descriptor stride (a log does not show it).
    #[arg(long, default_value_t = 48)]
    pub desc_size: u64,
    /// Which map of the log to read, when it prints more than one (1 is
    /// the first).
    #[arg(long, default_value_t = 1)]
    pub map: usize,
    /// Write the scenario to this file instead of printing it (a regular
    /// file, never the log).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Form {
    Cmdline,
    Dmesg,
    Kunit,
    Report,
    /// The scenario in its JSON form (which run, replay and minimize read
    /// from a `.json` file).
    Json,
}

/// `ADDR,SIZE`, each hex (0x...) or decimal.
pub fn parse_reserve(s: &str) -> Result<(u64, u64), String> {
    let (a, z) = s.split_once(',').ok_or("expected ADDR,SIZE")?;
    let num = |x: &str, what: &str| {
        efimap_core::cases::scenario::number(x.trim()).ok_or(format!(
            "expected {what} as a number (0x... or decimal), found `{x}`"
        ))
    };
    Ok((num(a, "ADDR")?, num(z, "SIZE")?))
}
