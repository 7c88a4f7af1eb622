//! What a search reached: how often each kernel function was called in
//! the boots it made ([`crate::model::func::Calls`], counted by the model's
//! scoped call and by the tree engine's driver), which it never called,
//! and what its scenarios held, dimension by dimension ([`Dimensions`]: the
//! later steps, the map's size and layout, the types and attribute bits,
//! `desc_size`, the command line's options, the reservations' shapes, the
//! other inputs). A verdict of "no divergence" or "no new finding" is
//! worth what this says the search reached.

use crate::model::boot::{BootInput, LaterStep, Outcome};
use crate::model::cmdline::{kernel_params, parameq};
use crate::model::desc::{attr, ty, MemoryDesc, EFI_PAGE_SIZE};
use crate::model::func::{Func, COUNT};
use crate::model::mem::Fill;
use std::fmt::Write as _;

/// One dimension of the scenarios: its buckets, and whether it counts
/// scenarios (each bucket at most once a scenario), descriptors or
/// reservations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dimension {
    pub name: &'static str,
    pub per: Per,
    pub buckets: &'static [&'static str],
}

/// What a dimension's counts are counts of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Per {
    Scenario,
    Descriptor,
    Reservation,
}

/// The later step.
pub const LATER: usize = 0;
/// The firmware map's size, in descriptors.
pub const MAP_SIZE: usize = 1;
/// The stride.
pub const DESC_SIZE: usize = 2;
/// Each descriptor's type.
pub const TYPE: usize = 3;
/// Each descriptor's attribute bits, each set bit counted.
pub const ATTRIBUTE: usize = 4;
/// How the map is laid out (any of these in a scenario).
pub const LAYOUT: usize = 5;
/// What the command line holds (any of these in a scenario).
pub const CMDLINE: usize = 6;
/// Each reservation's shape.
pub const RESERVATION: usize = 7;
/// The other inputs, and the fill.
pub const OTHER: usize = 8;

/// Every dimension, in the order of the constants above.
pub const DIMENSIONS: [Dimension; 9] = [
    Dimension {
        name: "later step",
        per: Per::Scenario,
        buckets: &["none", "kexec", "virtual-mode"],
    },
    Dimension {
        name: "map size",
        per: Per::Scenario,
        buckets: &["0", "1", "2-4", "5-16", "17-63", "64+"],
    },
    Dimension {
        name: "desc_size",
        per: Per::Scenario,
        buckets: &["48", "40", "56/64", "other x8", "not x8", "4096"],
    },
    Dimension {
        name: "type",
        per: Per::Descriptor,
        buckets: &[
            "Reserved",
            "LoaderCode",
            "LoaderData",
            "BootServicesCode",
            "BootServicesData",
            "RuntimeServicesCode",
            "RuntimeServicesData",
            "Conventional",
            "Unusable",
            "ACPIReclaim",
            "ACPINVS",
            "MMIO",
            "MMIOPortSpace",
            "PALCode",
            "Persistent",
            "Unaccepted",
            "16+",
            "OEM",
            "OS",
        ],
    },
    Dimension {
        name: "attribute",
        per: Per::Descriptor,
        buckets: &[
            "none",
            "UC",
            "WC",
            "WT",
            "WB",
            "UCE",
            "WP",
            "RP",
            "XP",
            "NV",
            "MR",
            "RO",
            "SP",
            "CC",
            "HP",
            "RUN",
            "other bit",
        ],
    },
    Dimension {
        name: "layout",
        per: Per::Scenario,
        buckets: &[
            "below 1M",
            "across 1M",
            "adjacent",
            "gap",
            "overlapping",
            "out of order",
            "duplicate",
            "empty (0,0)",
            "0 pages",
            "misaligned",
            "to or past 2^64",
            "2^52+ pages",
            "over 64 pages",
            "freeable boot services",
        ],
    },
    Dimension {
        name: "command line",
        per: Per::Scenario,
        buckets: &[
            "empty",
            "efi=debug",
            "efi=noruntime",
            "efi=runtime",
            "efi=nosoftreserve",
            "efi= other",
            "bare efi",
            "options in one efi=",
            "repeated efi=",
            "noefi",
            "efi_fake_mem 1",
            "efi_fake_mem 2-8",
            "efi_fake_mem 9+",
            "efi_fake_mem malformed",
            "dashed name",
            "quoted",
            "memmap=",
            "add_efi_memmap",
            "--",
            "other word",
        ],
    },
    Dimension {
        name: "reservation",
        per: Per::Reservation,
        buckets: &[
            "0 bytes",
            "in boot services data",
            "in runtime data",
            "in another type",
            "spans descriptors",
            "not page-aligned",
            "outside the map",
        ],
    },
    Dimension {
        name: "other input",
        per: Per::Scenario,
        buckets: &[
            "memblock",
            "bgrt",
            "e820",
            "setup_data",
            "kexec_file",
            "fill stale",
            "fill zero",
            "fill byte",
        ],
    },
];

/// The counts of every dimension's buckets, and of what they count.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dimensions {
    pub counts: Vec<Vec<u64>>,
    pub scenarios: u64,
    pub descriptors: u64,
    pub reservations: u64,
}

impl Default for Dimensions {
    fn default() -> Self {
        Dimensions {
            counts: DIMENSIONS
                .iter()
                .map(|d| vec![0; d.buckets.len()])
                .collect(),
            scenarios: 0,
            descriptors: 0,
            reservations: 0,
        }
    }
}

const ATTR_BITS: [u64; 15] = [
    attr::UC,
    attr::WC,
    attr::WT,
    attr::WB,
    attr::UCE,
    attr::WP,
    attr::RP,
    attr::XP,
    attr::NV,
    attr::MORE_RELIABLE,
    attr::RO,
    attr::SP,
    attr::CPU_CRYPTO,
    1 << 20,
    attr::RUNTIME,
];

fn type_bucket(t: u32) -> usize {
    match t {
        0..=15 => t as usize,
        0x7000_0000..=0x7fff_ffff => 17,
        0x8000_0000.. => 18,
        _ => 16,
    }
}

/// Whether `d` holds any byte of `[a, a + z)` (wrapping ends as u128).
fn holds(d: &MemoryDesc, a: u64, z: u64) -> bool {
    let (ds, de) = (
        u128::from(d.phys_addr),
        u128::from(d.phys_addr) + u128::from(d.num_pages) * u128::from(EFI_PAGE_SIZE),
    );
    let (s, e) = (u128::from(a), u128::from(a) + u128::from(z.max(1)));
    s < de && ds < e
}

impl Dimensions {
    /// Counts one scenario's input.
    pub fn add(&mut self, input: &BootInput) {
        self.scenarios += 1;
        let mut hit = |dim: usize, b: usize| self.counts[dim][b] += 1;
        hit(
            LATER,
            match input.later.first() {
                None => 0,
                Some(LaterStep::KexecInitLate) => 1,
                Some(LaterStep::VirtualMode) => 2,
            },
        );
        let n = input.map.len();
        hit(
            MAP_SIZE,
            match n {
                0 | 1 => n,
                2..=4 => 2,
                5..=16 => 3,
                17..=63 => 4,
                _ => 5,
            },
        );
        let ds = input.desc_size;
        hit(
            DESC_SIZE,
            match ds {
                48 => 0,
                40 => 1,
                56 | 64 => 2,
                4096 => 5,
                _ if ds % 8 == 0 => 3,
                _ => 4,
            },
        );
        for d in &input.map {
            self.descriptors += 1;
            self.counts[TYPE][type_bucket(d.ty)] += 1;
            let a = &mut self.counts[ATTRIBUTE];
            if d.attribute == 0 {
                a[0] += 1;
            }
            for (i, bit) in ATTR_BITS.iter().enumerate() {
                if d.attribute & bit != 0 {
                    a[1 + i] += 1;
                }
            }
            if d.attribute & !ATTR_BITS.iter().fold(0, |m, b| m | b) != 0 {
                a[16] += 1;
            }
        }
        for (b, yes) in layout(input).into_iter().enumerate() {
            if yes {
                self.counts[LAYOUT][b] += 1;
            }
        }
        for (b, yes) in cmdline(&input.cmdline).into_iter().enumerate() {
            if yes {
                self.counts[CMDLINE][b] += 1;
            }
        }
        for &(a, z) in &input.reservations {
            self.reservations += 1;
            let r = &mut self.counts[RESERVATION];
            if z == 0 {
                r[0] += 1;
            }
            let inside: Vec<&MemoryDesc> = input.map.iter().filter(|d| holds(d, a, z)).collect();
            match inside.first().map(|d| d.ty) {
                None => r[6] += 1,
                Some(ty::BOOT_SERVICES_DATA) => r[1] += 1,
                Some(ty::RUNTIME_SERVICES_DATA) => r[2] += 1,
                Some(_) => r[3] += 1,
            }
            if inside.len() > 1 {
                r[4] += 1;
            }
            if a % EFI_PAGE_SIZE != 0 || z % EFI_PAGE_SIZE != 0 {
                r[5] += 1;
            }
        }
        let o = &mut self.counts[OTHER];
        for (b, yes) in [
            !input.memblock.is_empty(),
            input.bgrt.is_some(),
            input.e820.is_some(),
            !input.setup_data.is_empty(),
            input.kexec_file.is_some(),
            input.fill == Fill::Stale,
            input.fill == Fill::Zero,
            matches!(input.fill, Fill::Pattern(_)),
        ]
        .into_iter()
        .enumerate()
        {
            if yes {
                o[b] += 1;
            }
        }
    }

    /// Adds another tally's counts.
    pub fn merge(&mut self, other: &Dimensions) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            for (x, y) in a.iter_mut().zip(b) {
                *x += y;
            }
        }
        self.scenarios += other.scenarios;
        self.descriptors += other.descriptors;
        self.reservations += other.reservations;
    }

    /// Bucket `b`'s share of what dimension `dim` counts, in percent.
    pub fn share(&self, dim: usize, b: usize) -> f64 {
        let of = match DIMENSIONS[dim].per {
            Per::Scenario => self.scenarios,
            Per::Descriptor => self.descriptors,
            Per::Reservation => self.reservations,
        };
        if of == 0 {
            0.0
        } else {
            100.0 * self.counts[dim][b] as f64 / of as f64
        }
    }

    /// One line a dimension: each bucket's share.
    pub fn table(&self) -> String {
        let mut s = String::new();
        for (i, d) in DIMENSIONS.iter().enumerate() {
            let per = match d.per {
                Per::Scenario => "of scenarios",
                Per::Descriptor => "of descriptors",
                Per::Reservation => "of reservations",
            };
            let cells: Vec<String> = (0..d.buckets.len())
                .map(|b| format!("{} {}", d.buckets[b], percent(self.share(i, b))))
                .collect();
            let _ = writeln!(s, "  {:<13} ({per}): {}", d.name, cells.join(", "));
        }
        s
    }
}

fn percent(p: f64) -> String {
    if p == 0.0 {
        "0".into()
    } else if p < 0.1 {
        format!("{p:.3}%")
    } else {
        format!("{p:.1}%")
    }
}

/// Which of the layout buckets the map has.
fn layout(input: &BootInput) -> [bool; 14] {
    const MB: u128 = 1 << 20;
    let mut out = [false; 14];
    let map = &input.map;
    let span = |d: &MemoryDesc| {
        let s = u128::from(d.phys_addr);
        (s, s + u128::from(d.num_pages) * u128::from(EFI_PAGE_SIZE))
    };
    for (i, d) in map.iter().enumerate() {
        let (s, e) = span(d);
        out[0] |= d.num_pages > 0 && s < MB;
        out[1] |= s < MB && e > MB;
        out[7] |= *d == MemoryDesc::default();
        out[8] |= d.num_pages == 0;
        out[9] |= d.phys_addr % EFI_PAGE_SIZE != 0;
        out[10] |= e >= 1 << 64;
        out[11] |= d.num_pages >= 1 << 52;
        out[6] |= map[..i].contains(d);
        if let Some(p) = i.checked_sub(1).map(|j| &map[j]) {
            let (ps, pe) = span(p);
            out[2] |= pe == s;
            out[3] |= pe < s;
            out[5] |= s < ps;
        }
        let bs = d.ty == ty::BOOT_SERVICES_CODE || d.ty == ty::BOOT_SERVICES_DATA;
        out[13] |= bs && d.attribute & attr::RUNTIME == 0 && e > MB && d.num_pages > 0;
    }
    // Overlaps: sorted by start, any start below the furthest end so far.
    let mut spans: Vec<(u128, u128)> = map.iter().filter(|d| d.num_pages > 0).map(span).collect();
    spans.sort_unstable();
    let mut furthest = 0u128;
    for (k, &(s, e)) in spans.iter().enumerate() {
        out[4] |= k > 0 && s < furthest;
        furthest = furthest.max(e);
    }
    let bytes = u128::from(input.desc_size) * map.len() as u128;
    out[12] = bytes > 64 * u128::from(EFI_PAGE_SIZE);
    out
}

/// Which of the command-line buckets the line has.
fn cmdline(line: &str) -> [bool; 20] {
    let mut out = [false; 20];
    out[0] = line.trim().is_empty();
    let mut efi_words = 0;
    for w in line.split(' ') {
        out[15] |= w.contains('"');
        if w == "--" {
            out[18] = true;
        }
    }
    // kernel_params stops at `--`, as parse_args does.
    for p in kernel_params(line) {
        let name = p.name.as_str();
        if name.contains('-') && (parameq(name, "efi_fake_mem") || parameq(name, "add_efi_memmap"))
        {
            out[14] = true;
        }
        if parameq(name, "efi") {
            efi_words += 1;
            match p.val.as_deref() {
                None => out[6] = true,
                Some(v) => {
                    let opts: Vec<&str> = v.split(',').collect();
                    out[7] |= opts.len() > 1;
                    for o in opts {
                        match o {
                            "debug" => out[1] = true,
                            "noruntime" => out[2] = true,
                            "runtime" => out[3] = true,
                            "nosoftreserve" => out[4] = true,
                            _ => out[5] = true,
                        }
                    }
                }
            }
        } else if parameq(name, "noefi") {
            out[9] = true;
        } else if parameq(name, "efi_fake_mem") {
            match fake_mem_ranges(p.val.as_deref()) {
                Some(0) | None => out[13] = true,
                Some(1) => out[10] = true,
                Some(2..=8) => out[11] = true,
                Some(_) => out[12] = true,
            }
        } else if name == "memmap" {
            out[16] = true;
        } else if parameq(name, "add_efi_memmap") {
            out[17] = true;
        } else {
            out[19] = true;
        }
    }
    out[8] = efi_words > 1;
    out
}

/// How many whole `size@start:attr` items an `efi_fake_mem=` value has, or
/// `None` if any of it is malformed (the parser would stop in it).
fn fake_mem_ranges(val: Option<&str>) -> Option<usize> {
    let v = val?;
    if v.is_empty() {
        return None;
    }
    let mut n = 0;
    for item in v.split(',') {
        let (size, rest) = item.split_once('@')?;
        let (start, a) = rest.split_once(':')?;
        if size.is_empty() || start.is_empty() || a.is_empty() {
            return None;
        }
        n += 1;
    }
    Some(n)
}

/// What a search reached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reach {
    /// The scenarios' inputs.
    pub dims: Dimensions,
    /// The eras of the boots counted.
    pub eras: std::collections::BTreeSet<crate::model::era::Era>,
    /// Boots whose engine counts calls.
    pub boots: u64,
    /// Calls of each function, summed over those boots.
    pub calls: [u64; COUNT],
}

impl Default for Reach {
    fn default() -> Self {
        Reach {
            dims: Dimensions::default(),
            eras: Default::default(),
            boots: 0,
            calls: [0; COUNT],
        }
    }
}

impl Reach {
    /// What booting each of `inputs` in each of `engines` reaches (a fuzz
    /// corpus, say); inputs no engine runs count as scenarios only.
    pub fn of<'a>(
        inputs: impl Iterator<Item = &'a BootInput>,
        engines: &mut [&mut dyn crate::engine::Engine],
    ) -> Result<Reach, crate::engine::EngineError> {
        let mut r = Reach::default();
        for input in inputs {
            r.scenario(input);
            for e in engines.iter_mut() {
                match e.boot(input, true) {
                    Ok(o) => r.boot(&o),
                    Err(crate::engine::EngineError::Input(_)) => {}
                    Err(x) => return Err(x),
                }
            }
        }
        Ok(r)
    }

    /// One scenario.
    pub fn scenario(&mut self, input: &BootInput) {
        self.dims.add(input);
    }

    /// One boot's calls (none from an engine that does not count).
    pub fn boot(&mut self, o: &Outcome) {
        if o.calls.is_empty() {
            return;
        }
        self.boots += 1;
        self.eras.insert(o.era);
        for (sum, &c) in self.calls.iter_mut().zip(&o.calls.0) {
            *sum += u64::from(c);
        }
    }

    /// Adds another's counts.
    pub fn merge(&mut self, other: &Reach) {
        self.dims.merge(&other.dims);
        self.eras.extend(&other.eras);
        self.boots += other.boots;
        for (a, b) in self.calls.iter_mut().zip(&other.calls) {
            *a += b;
        }
    }

    /// The calls of `f`.
    pub fn calls_of(&self, f: Func) -> u64 {
        self.calls[f as usize]
    }

    /// The functions of the boot that some era booted has and no boot
    /// called.
    pub fn never_called(&self) -> Vec<Func> {
        Func::ALL
            .iter()
            .copied()
            .filter(|f| !f.outside_the_boot() && self.calls_of(*f) == 0 && self.exists(*f))
            .collect()
    }

    /// Whether some era booted has `f`.
    fn exists(&self, f: Func) -> bool {
        self.eras.iter().any(|e| f.exists_in(&e.features()))
    }

    /// The report every search ends with: the counts, the calls of each
    /// function ([`Reach::calls_table`]) and the dimensions.
    pub fn table(&self) -> String {
        let mut s = format!(
            "Reach: {} scenarios, {} boots counted\n",
            self.dims.scenarios, self.boots
        );
        s.push_str(&self.calls_table());
        s.push_str(&self.dims.table());
        s
    }

    /// Two lines: each function's calls, the fewest first, and the
    /// functions never called.
    pub fn calls_table(&self) -> String {
        let mut funcs: Vec<Func> = Func::ALL
            .iter()
            .copied()
            .filter(|f| !f.outside_the_boot())
            .collect();
        funcs.sort_by_key(|&f| (self.calls_of(f), f.name()));
        let cells: Vec<String> = funcs
            .iter()
            .filter(|&&f| self.calls_of(f) > 0)
            .map(|&f| format!("{} {}", f.name(), self.calls_of(f)))
            .collect();
        let never: Vec<&str> = self.never_called().iter().map(|f| f.name()).collect();
        let absent: Vec<&str> = Func::ALL
            .iter()
            .filter(|f| !f.outside_the_boot() && !self.exists(**f))
            .map(|f| f.name())
            .collect();
        // Lines of at most 100 characters, cells whole.
        let mut lines: Vec<String> = vec!["  calls (fewest first):".into()];
        for c in cells {
            let last = lines.last_mut().expect("one line at least");
            if last.len() + c.len() + 2 > 100 {
                lines.push(format!("    {c},"));
            } else {
                last.push_str(&format!(" {c},"));
            }
        }
        if let Some(last) = lines.last_mut() {
            if last.ends_with(',') {
                last.pop();
            }
        }
        let list = |v: &[&str]| {
            if v.is_empty() {
                "none".to_string()
            } else {
                v.join(", ")
            }
        };
        let mut out = format!("{}\n  never called: {}\n", lines.join("\n"), list(&never));
        if !absent.is_empty() && !self.eras.is_empty() {
            out.push_str(&format!("  not in the eras booted: {}\n", list(&absent)));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scenario_is_counted_in_each_dimension() {
        let input = BootInput {
            map: vec![
                MemoryDesc::new(ty::BOOT_SERVICES_CODE, 0, 1, 0xf),
                MemoryDesc::new(ty::BOOT_SERVICES_DATA, 0x10_0000, 0x10, 0xf | attr::RUNTIME),
                MemoryDesc::new(ty::CONVENTIONAL_MEMORY, 0x10_8000, 0x10, attr::SP | 1 << 40),
            ],
            cmdline: "efi=debug,noruntime efi efi_fake_mem=4K@0x1000:0x40000 \"x=1\" -- noefi"
                .into(),
            reservations: vec![(0x10_0800, 0x100), (0x10_f000, 0x2000)],
            later: vec![LaterStep::VirtualMode],
            ..BootInput::default()
        };
        let mut d = Dimensions::default();
        d.add(&input);
        let on = |dim: usize| -> Vec<&str> {
            (0..DIMENSIONS[dim].buckets.len())
                .filter(|&b| d.counts[dim][b] > 0)
                .map(|b| DIMENSIONS[dim].buckets[b])
                .collect()
        };
        assert_eq!(on(LATER), ["virtual-mode"]);
        assert_eq!(on(MAP_SIZE), ["2-4"]);
        assert_eq!(
            on(TYPE),
            ["BootServicesCode", "BootServicesData", "Conventional"]
        );
        assert_eq!(d.counts[ATTRIBUTE][4], 2, "WB twice");
        assert_eq!(
            on(ATTRIBUTE),
            ["UC", "WC", "WT", "WB", "SP", "RUN", "other bit"]
        );
        assert_eq!(on(LAYOUT), ["below 1M", "gap", "overlapping"]);
        assert_eq!(
            on(CMDLINE),
            [
                "efi=debug",
                "efi=noruntime",
                "bare efi",
                "options in one efi=",
                "repeated efi=",
                "efi_fake_mem 1",
                "quoted",
                "--",
                "other word"
            ]
        );
        assert_eq!(
            on(RESERVATION),
            [
                "in boot services data",
                "spans descriptors",
                "not page-aligned"
            ]
        );
        assert_eq!(on(OTHER), ["fill stale"]);
    }
}
