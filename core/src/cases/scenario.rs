//! Scenarios: one case, in a plain-text form a kernel developer can write by
//! hand and paste into a mail, and as JSON.
//!
//! ```text
//! # dan-williams-two-contiguous-sp
//! # Two contiguous SP ranges at the end of one descriptor, then BGRT.
//! # expect v5.5: overrun/efi_arch_mem_reserve over-count/efi_fake_memmap
//! # expect v5.6: none
//! eras v5.5 v5.6
//! desc_size 48
//! fill zero
//! map
//!   BootServicesData 0xbea00000 0x100 0xf
//!   efi: mem01: [Conventional Memory|   |  |  |  |  |  |  |  |   |WB|WT|WC|UC] range=[0x0000000100000000-0x000000047fffffff] (14336MB)
//! cmdline efi_fake_mem=4G@9G:0x40000,4G@13G:0x40000
//! reserve 0xbea06000 0x27000
//! kexec
//! ```
//!
//! The comment lines before the first directive are the header; `expect
//! ERA: SIGNATURE...` (or `none`) lines in it state what each era must
//! show. A map line is `TYPE PHYS PAGES ATTR [virt=V] [pad=P]` (TYPE a
//! name such as `Conventional` or a number, ATTR a number or names joined
//! by `|`), or a line the kernel printed. Every directive but `map` is
//! optional; `eras` defaults to all, `desc_size` to 48, `fill` to `stale`.
//! The last line may instead be `virtual-mode`: a first boot's
//! `efi_enter_virtual_mode` and the boot-services free after it.
//! [`Scenario::to_text`] prints the canonical form; parsing it gives the
//! same scenario back.

use crate::cases::dmesg::{column_bit, is_memmap_line, parse_e820_entry, parse_memmap_line};
use crate::judge::signature::Signature;
use crate::model::boot::{BootInput, LaterStep, MAX_FIRMWARE_DESCS};
pub use crate::model::boot::{MAX_LATER, MAX_RESERVATIONS};
use crate::model::desc::{attr, MemoryDesc, DESC_LEN};
use crate::model::e820::E820Entry;
use crate::model::era::Era;
use crate::model::kexec::KexecFile;
use crate::model::mem::Fill;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// Most header lines a scenario holds.
pub const MAX_HEADER: usize = 255;
/// Longest header line, in bytes.
pub const MAX_HEADER_LINE: usize = 16384;
/// Longest command line, in bytes (the kernel itself keeps 2047).
pub const MAX_CMDLINE: usize = 4096;
/// Most words in a command line.
pub const MAX_CMDLINE_WORDS: usize = 255;

/// One case: a boot's inputs, with a header and the eras to run it in.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Scenario {
    /// The header comment, one entry a line, without the leading `# `.
    pub header: Vec<String>,
    /// Sorted, without duplicates, never empty.
    #[serde(default = "all_eras")]
    pub eras: Vec<Era>,
    /// What one boot is given; its command line is tokens of printable
    /// ASCII separated by single spaces.
    #[serde(flatten)]
    pub input: BootInput,
}

fn all_eras() -> Vec<Era> {
    Era::all()
}

impl Default for Scenario {
    fn default() -> Self {
        Scenario {
            header: Vec::new(),
            eras: all_eras(),
            input: BootInput::default(),
        }
    }
}

/// What a scenario's header expects of each era.
pub type Expectations = BTreeMap<Era, BTreeSet<Signature>>;

/// An `expect` header line naming an era or a signature that does not
/// exist: header line `index` (0-based), the word, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadExpectation {
    pub index: usize,
    pub word: String,
    pub why: String,
}

/// A parse error: 1-based line and column, what was expected, what was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub col: usize,
    pub expected: String,
    pub found: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: expected {}, found {}",
            self.line, self.col, self.expected, self.found
        )
    }
}

impl std::error::Error for ParseError {}

/// Whether a scenario file may hold `c`: a tab, or a character that
/// shows: not a control character, not one of Unicode's invisible
/// formatting and separator characters, not private use, not the
/// replacement character.
pub fn printable(c: char) -> bool {
    if c == '\t' {
        return true;
    }
    let u = c as u32;
    !(c.is_control()
        || (0x200b..=0x200f).contains(&u)
        || (0x2028..=0x202e).contains(&u)
        || (0x2060..=0x206f).contains(&u)
        || u == 0xfeff
        || u == 0xad
        || (0xe000..=0xf8ff).contains(&u)
        || (0xfff0..=0xffff).contains(&u)
        || u >= 0xf_0000)
}

/// Canonical names of the memory types, for map lines.
pub const TYPE_NAMES: [&str; 15] = [
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
];

const DIRECTIVES: [&str; 13] = [
    "eras",
    "desc_size",
    "fill",
    "map",
    "cmdline",
    "reserve",
    "kexec",
    "virtual-mode",
    "e820",
    "setup_data",
    "kexec_file",
    "memblock",
    "bgrt",
];

/// At most this many e820 entries and setup_data nodes in a case.
pub const MAX_E820: usize = 1024;
pub const MAX_SETUP_DATA: usize = 64;

impl Scenario {
    /// The signatures the header expects, by era: `expect v5.5: a b`, or
    /// `expect v5.6: none`. Header lines whose first word is not `expect`
    /// (in any case) are description; a line that starts so is an
    /// expectation and must be written as one (lower case, a colon after
    /// the eras: `# Expect v5.5 none` was once read as description, a
    /// silent miss), with every era and signature real, or it is an error
    /// naming the header line (0-based) and the word.
    pub fn expectations(&self) -> Result<Expectations, BadExpectation> {
        let mut out = BTreeMap::new();
        for (index, line) in self.header.iter().enumerate() {
            let bad = |word: &str, why: String| BadExpectation {
                index,
                word: word.to_string(),
                why,
            };
            let first = line.split_whitespace().next().unwrap_or("");
            if !first.eq_ignore_ascii_case("expect") {
                continue;
            }
            if first != "expect" {
                return Err(bad(
                    first,
                    "expected `expect` in lower case, as an expectation line begins".into(),
                ));
            }
            let rest = line.trim().strip_prefix("expect").unwrap_or("");
            let Some((eras, sigs)) = rest.split_once(':') else {
                return Err(bad(
                    first,
                    "expected `expect ERA...: SIGNATURE...` (or `: none`), found no colon".into(),
                ));
            };
            let mut set = BTreeSet::new();
            for w in sigs.split_whitespace().filter(|s| *s != "none") {
                set.insert(Signature::parse(w).map_err(|e| bad(w, e.0))?);
            }
            for e in eras.split_whitespace() {
                let era = e.parse::<Era>().map_err(|x| bad(e, x.to_string()))?;
                out.entry(era)
                    .or_insert_with(BTreeSet::new)
                    .extend(set.iter().copied());
            }
        }
        Ok(out)
    }

    /// The canonical text form.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        for h in &self.header {
            s.push_str("# ");
            s.push_str(h);
            s.push('\n');
        }
        let eras: Vec<&str> = self.eras.iter().map(|e| e.name()).collect();
        s.push_str(&format!("eras {}\n", eras.join(" ")));
        s.push_str(&format!("desc_size {}\n", self.input.desc_size));
        s.push_str(&format!("fill {}\n", fill_name(self.input.fill)));
        s.push_str("map\n");
        for d in &self.input.map {
            s.push_str("  ");
            s.push_str(&desc_text(d));
            s.push('\n');
        }
        if !self.input.cmdline.is_empty() {
            s.push_str(&format!("cmdline {}\n", self.input.cmdline));
        }
        for (a, z) in &self.input.reservations {
            s.push_str(&format!("reserve {a:#x} {z:#x}\n"));
        }
        for step in &self.input.later {
            s.push_str(step.directive());
            s.push('\n');
        }
        if let Some(e820) = &self.input.e820 {
            s.push_str("e820\n");
            for e in e820 {
                s.push_str(&format!("  {}\n", e820_text(e)));
            }
        }
        for (a, z) in &self.input.setup_data {
            s.push_str(&format!("setup_data {a:#x} {z:#x}\n"));
        }
        for (a, z) in &self.input.memblock {
            s.push_str(&format!("memblock {a:#x} {z:#x}\n"));
        }
        if let Some((a, z)) = self.input.bgrt {
            s.push_str(&format!("bgrt {a:#x} {z:#x}\n"));
        }
        if let Some(k) = &self.input.kexec_file {
            s.push_str(&format!(
                "kexec_file purgatory={} params={} kernel={} kernel_align={} initrd={}\n",
                size_text(k.purgatory),
                size_text(k.params),
                size_text(k.kernel),
                size_text(k.kernel_align),
                size_text(k.initrd)
            ));
        }
        s
    }

    /// Parses the text form.
    pub fn parse(text: &str) -> Result<Scenario, ParseError> {
        // A byte-order mark some editors write first is not part of the text.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut sc = Scenario::default();
        let mut seen_directive = false;
        let mut in_map = false;
        let mut in_e820 = false;
        let mut have_map = false;
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        for (n, raw) in text.lines().enumerate() {
            let line = Line {
                n: n + 1,
                text: raw,
            };
            line.check_chars()?;
            let trimmed = raw.trim();
            if trimmed.is_empty() {
                continue;
            }
            if trimmed.starts_with('#') {
                if !seen_directive {
                    if sc.header.len() == MAX_HEADER {
                        return Err(line.error(0, "at most 255 header lines", "another"));
                    }
                    sc.header.push(line.header_text()?.to_string());
                }
                continue;
            }
            seen_directive = true;
            let word = trimmed.split_whitespace().next().unwrap_or("");
            let indented = raw.starts_with(' ') || raw.starts_with('\t');
            if in_map && !indented && !DIRECTIVES.contains(&word) && !is_memmap_line(raw) {
                return Err(line.error(
                    0,
                    "a directive (eras, desc_size, fill, map, cmdline, reserve, kexec, virtual-mode, e820, setup_data, kexec_file, memblock, bgrt) or a map line indented under `map`",
                    word,
                ));
            }
            if in_map && !DIRECTIVES.contains(&word) {
                let d = line.descriptor()?;
                line.push(&mut sc.input.map, d, MAX_FIRMWARE_DESCS, "4096 descriptors")?;
                continue;
            }
            in_map = false;
            if in_e820 && !DIRECTIVES.contains(&word) {
                let e = line.e820_entry()?;
                let e820 = sc.input.e820.get_or_insert_with(Vec::new);
                line.push(e820, e, MAX_E820, "1024 e820 entries")?;
                continue;
            }
            in_e820 = false;
            let repeats = ["reserve", "kexec", "virtual-mode", "setup_data", "memblock"];
            if !repeats.contains(&word) && !seen.insert(word) && DIRECTIVES.contains(&word) {
                return Err(line.error(
                    0,
                    "each of eras, desc_size, fill, map, cmdline, e820, kexec_file, bgrt once",
                    word,
                ));
            }
            let args = line.args();
            match word {
                "eras" => sc.eras = line.eras(&args)?,
                "desc_size" => {
                    let [(col, a)] = line.exactly::<1>(&args, "one number")?;
                    let v = number(a).ok_or_else(|| line.error(col, "a number", a))?;
                    if !(DESC_LEN as u64..=4096).contains(&v) {
                        return Err(line.error(col, "a desc_size from 40 to 4096", a));
                    }
                    sc.input.desc_size = v;
                }
                "fill" => sc.input.fill = line.fill(&args)?,
                "map" => {
                    line.nothing_after(&args, "the map's descriptors on the lines below `map`")?;
                    in_map = true;
                    have_map = true;
                }
                "cmdline" => sc.input.cmdline = line.cmdline(&args)?,
                "reserve" => {
                    let r = line.address_and_size(&args)?;
                    line.push(
                        &mut sc.input.reservations,
                        r,
                        MAX_RESERVATIONS,
                        "64 reservations",
                    )?;
                }
                "e820" => {
                    line.nothing_after(&args, "the table's entries on the lines below `e820`")?;
                    in_e820 = true;
                    sc.input.e820 = Some(Vec::new());
                }
                "setup_data" => {
                    let r = line.address_and_size(&args)?;
                    line.push(
                        &mut sc.input.setup_data,
                        r,
                        MAX_SETUP_DATA,
                        "64 setup_data nodes",
                    )?;
                }
                "memblock" => {
                    let r = line.address_and_size(&args)?;
                    line.push(
                        &mut sc.input.memblock,
                        r,
                        MAX_SETUP_DATA,
                        "64 memblock regions",
                    )?;
                }
                "bgrt" => sc.input.bgrt = Some(line.address_and_size(&args)?),
                "kexec_file" => sc.input.kexec_file = Some(line.kexec_file(&args)?),
                "kexec" | "virtual-mode" => {
                    line.nothing_after(&args, &format!("nothing after `{word}`"))?;
                    let step = if word == "kexec" {
                        LaterStep::KexecInitLate
                    } else {
                        LaterStep::VirtualMode
                    };
                    line.push(&mut sc.input.later, step, MAX_LATER, "one later step")?;
                }
                _ => {
                    let col = raw.len() - raw.trim_start().len();
                    return Err(line.error(
                        col,
                        "a directive (eras, desc_size, fill, map, cmdline, reserve, kexec, virtual-mode, e820, setup_data, kexec_file) or a comment",
                        word,
                    ));
                }
            }
        }
        if !have_map {
            let last = text.lines().count().max(1);
            return Err(ParseError {
                line: last,
                col: 1,
                expected: "a `map` directive".into(),
                found: "the end of the file".into(),
            });
        }
        Ok(sc)
    }

    /// The JSON form.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a scenario serializes")
    }

    /// Parses the JSON form, with the same checks as the text form.
    pub fn from_json(json: &str) -> Result<Scenario, ParseError> {
        let sc: Scenario = serde_json::from_str(json).map_err(|e| ParseError {
            line: e.line(),
            col: e.column(),
            expected: "a scenario in JSON".into(),
            found: clipped(&e.to_string()),
        })?;
        // Reuse the text checks: print and parse. An error is placed at
        // the JSON key whose value the text line came from, never at the
        // printed text's line and column, which the file does not have.
        let text = sc.to_text();
        let back = Scenario::parse(&text).map_err(|e| {
            let key = json_key_of(&text, e.line);
            let (line, col) = json_key_at(json, key).unwrap_or((1, 1));
            ParseError {
                line,
                col,
                expected: format!("in \"{key}\": {}", e.expected),
                found: clipped(&e.found),
            }
        })?;
        if back != sc {
            return Err(ParseError {
                line: 1,
                col: 1,
                expected:
                    "sorted eras, a desc_size from 40 to 4096, a command line of printable ASCII"
                        .into(),
                found: "a scenario outside those bounds".into(),
            });
        }
        Ok(sc)
    }
}

/// At most [`FOUND_MAX`] characters of what an error found, `…` marking
/// the cut: a value of a megabyte is not repeated whole.
fn clipped(found: &str) -> String {
    match found.char_indices().nth(FOUND_MAX) {
        Some((at, _)) => format!("{}…", &found[..at]),
        None => found.to_string(),
    }
}

const FOUND_MAX: usize = 120;

/// The JSON key of the value that line `n` (1-based) of a scenario's
/// text form ([`Scenario::to_text`]) was printed from.
fn json_key_of(text: &str, n: usize) -> &'static str {
    let lines: Vec<&str> = text.lines().collect();
    let Some(line) = lines.get(n.wrapping_sub(1)) else {
        return "header";
    };
    if line.starts_with('#') {
        return "header";
    }
    if line.starts_with(' ') {
        // An entry of the map or of the e820 table: the heading above.
        let heading = lines[..n - 1]
            .iter()
            .rev()
            .find(|l| !l.starts_with(' '))
            .copied();
        return if heading == Some("e820") {
            "e820"
        } else {
            "map"
        };
    }
    match line.split(' ').next().unwrap_or("") {
        "eras" => "eras",
        "desc_size" => "desc_size",
        "fill" => "fill",
        "map" => "map",
        "cmdline" => "cmdline",
        "reserve" => "reservations",
        "e820" => "e820",
        "setup_data" => "setup_data",
        "memblock" => "memblock",
        "bgrt" => "bgrt",
        "kexec_file" => "kexec_file",
        _ => "later",
    }
}

/// The 1-based line and column of `"key":` in a JSON document: the first
/// occurrence outside a string (a key inside a string value is escaped).
fn json_key_at(json: &str, key: &str) -> Option<(usize, usize)> {
    let quoted = format!("\"{key}\"");
    let at = json.match_indices(&quoted).map(|(at, _)| at).find(|&at| {
        !json[..at].ends_with('\\') && json[at + quoted.len()..].trim_start().starts_with(':')
    })?;
    let before = &json[..at];
    let line = before.matches('\n').count() + 1;
    let col = before[before.rfind('\n').map_or(0, |i| i + 1)..]
        .chars()
        .count()
        + 1;
    Some((line, col))
}

fn fill_name(f: Fill) -> String {
    match f {
        Fill::Zero => "zero".into(),
        Fill::Stale => "stale".into(),
        Fill::Pattern(b) => format!("{b:#04x}"),
    }
}

/// The canonical line of an e820 entry, as `e820__print_table` prints it
/// without the `BIOS-e820: ` before it.
pub fn e820_text(e: &E820Entry) -> String {
    format!(
        "[mem {:#018x}-{:#018x}] {}",
        e.addr,
        e.end().wrapping_sub(1),
        e.ty.name()
    )
}

/// What keeps `cmdline` from being a scenario's command line, as what
/// was expected instead: more than [`MAX_CMDLINE`] bytes or
/// [`MAX_CMDLINE_WORDS`] words, or a character that is not printable
/// ASCII (a space between words aside). `None` when it is one.
pub fn cmdline_problem(cmdline: &str) -> Option<String> {
    if cmdline.len() > MAX_CMDLINE || cmdline.split_whitespace().count() > MAX_CMDLINE_WORDS {
        return Some(format!(
            "at most {MAX_CMDLINE} bytes and {MAX_CMDLINE_WORDS} words"
        ));
    }
    let c = cmdline
        .chars()
        .find(|&c| c != ' ' && !c.is_ascii_graphic())?;
    Some(format!(
        "printable ASCII words separated by spaces, found {c:?}"
    ))
}

/// A size as a scenario writes it: with a K, M or G suffix when exact.
pub fn size_text(v: u64) -> String {
    for (shift, suffix) in [(30, "G"), (20, "M"), (10, "K")] {
        if v != 0 && v.trailing_zeros() >= shift {
            return format!("{}{suffix}", v >> shift);
        }
    }
    format!("{v:#x}")
}

/// A size: a number, or a decimal number with a K, M or G suffix.
pub fn size(s: &str) -> Option<u64> {
    let shift = match s.as_bytes().last()? {
        b'K' | b'k' => 10,
        b'M' | b'm' => 20,
        b'G' | b'g' => 30,
        _ => return number(s),
    };
    let n: u64 = s[..s.len() - 1].parse().ok()?;
    n.checked_mul(1 << shift)
}

/// The canonical map line of a descriptor.
pub fn desc_text(d: &MemoryDesc) -> String {
    let ty = TYPE_NAMES
        .get(d.ty as usize)
        .map_or_else(|| d.ty.to_string(), |n| n.to_string());
    let mut s = format!(
        "{ty} {:#x} {:#x} {:#x}",
        d.phys_addr, d.num_pages, d.attribute
    );
    if d.virt_addr != 0 {
        s.push_str(&format!(" virt={:#x}", d.virt_addr));
    }
    if d.pad != 0 {
        s.push_str(&format!(" pad={:#x}", d.pad));
    }
    s
}

/// A number in C's notation: `0x` hex or decimal.
pub fn number(s: &str) -> Option<u64> {
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) if !h.is_empty() => u64::from_str_radix(h, 16).ok(),
        Some(_) => None,
        None => s.parse::<u64>().ok(),
    }
}

fn attribute(s: &str) -> Option<u64> {
    number(s).or_else(|| {
        s.split('|').try_fold(0u64, |acc, name| {
            let bit = match name {
                "RUNTIME" => Some(attr::RUNTIME),
                _ => column_bit(name),
            }?;
            Some(acc | bit)
        })
    })
}

struct Line<'a> {
    n: usize,
    text: &'a str,
}

impl<'a> Line<'a> {
    /// An error at 0-based byte column `col`.
    fn error(&self, col: usize, expected: &str, found: &str) -> ParseError {
        ParseError {
            line: self.n,
            col: col + 1,
            expected: expected.to_string(),
            found: if found.is_empty() {
                "nothing".into()
            } else {
                format!("`{found}`")
            },
        }
    }

    fn check_chars(&self) -> Result<(), ParseError> {
        match self.text.char_indices().find(|&(_, c)| !printable(c)) {
            Some((col, c)) => Err(self.error(
                col,
                "printable text (no control, invisible or replacement characters)",
                &format!("{c:?}"),
            )),
            None => Ok(()),
        }
    }

    /// The words of the line, with their 0-based columns.
    fn words(&self) -> Vec<(usize, &str)> {
        let mut out = Vec::new();
        let mut at = 0;
        for w in self.text.split_whitespace() {
            let col = at + self.text[at..].find(w).expect("a word of the line");
            at = col + w.len();
            out.push((col, w));
        }
        out
    }

    /// An error at the first of `args`, if there is one: the directive
    /// takes none (`expected` says what was).
    fn nothing_after(&self, args: &[(usize, &str)], expected: &str) -> Result<(), ParseError> {
        match args.first() {
            Some(&(col, a)) => Err(self.error(col, expected, a)),
            None => Ok(()),
        }
    }

    /// Adds `item` to `list`, which holds at most `max` (`what`, as
    /// the error says it: `64 reservations`).
    fn push<T>(
        &self,
        list: &mut Vec<T>,
        item: T,
        max: usize,
        what: &str,
    ) -> Result<(), ParseError> {
        if list.len() == max {
            return Err(self.error(0, &format!("at most {what}"), "another"));
        }
        list.push(item);
        Ok(())
    }

    /// A header line's text: after its `#` and one space, at most
    /// [`MAX_HEADER_LINE`] bytes.
    fn header_text(&self) -> Result<&'a str, ParseError> {
        let c = self.text.trim_start();
        let c = c.strip_prefix('#').unwrap_or(c);
        let c = c.strip_prefix(' ').unwrap_or(c);
        if c.len() > MAX_HEADER_LINE {
            return Err(self.error(
                MAX_HEADER_LINE,
                "a header line of at most 16384 bytes",
                "more",
            ));
        }
        Ok(c)
    }

    /// `eras ERA...`: sorted, without duplicates.
    fn eras(&self, args: &[(usize, &str)]) -> Result<Vec<Era>, ParseError> {
        if args.is_empty() {
            return Err(self.error(self.text.len(), "at least one era", "the end of the line"));
        }
        let mut eras = Vec::new();
        for &(col, a) in args {
            eras.push(a.parse::<Era>().map_err(|_| {
                let names: Vec<&str> = Era::known().iter().map(|e| e.name()).collect();
                self.error(col, &format!("an era ({})", names.join(", ")), a)
            })?);
        }
        eras.sort();
        eras.dedup();
        Ok(eras)
    }

    /// `fill zero`, `fill stale` or `fill BYTE`.
    fn fill(&self, args: &[(usize, &str)]) -> Result<Fill, ParseError> {
        let expected = "zero, stale or a byte such as 0xa5";
        let [(col, a)] = self.exactly::<1>(args, expected)?;
        Ok(match a {
            "zero" => Fill::Zero,
            "stale" => Fill::Stale,
            _ => match number(a) {
                Some(b) if b <= 0xff => Fill::Pattern(b as u8),
                _ => return Err(self.error(col, expected, a)),
            },
        })
    }

    /// `cmdline WORD...`: printable ASCII, single spaces between the
    /// words, at most [`MAX_CMDLINE`] bytes and [`MAX_CMDLINE_WORDS`]
    /// words.
    fn cmdline(&self, args: &[(usize, &str)]) -> Result<String, ParseError> {
        for &(col, a) in args {
            if let Some(i) = a.bytes().position(|b| !(0x21..=0x7e).contains(&b)) {
                return Err(self.error(col + i, "a command line of printable ASCII", a));
            }
        }
        let words: Vec<&str> = args.iter().map(|&(_, a)| a).collect();
        let cmdline = words.join(" ");
        if cmdline.len() > MAX_CMDLINE || words.len() > MAX_CMDLINE_WORDS {
            return Err(self.error(
                0,
                "a command line of at most 4096 bytes and 255 words",
                "more",
            ));
        }
        Ok(cmdline)
    }

    /// `kexec_file KEY=SIZE...`: the segments `kexec_file_load` places.
    fn kexec_file(&self, args: &[(usize, &str)]) -> Result<KexecFile, ParseError> {
        let mut k = KexecFile::default();
        for &(col, a) in args {
            let expected = "purgatory=, params=, kernel=, kernel_align= or initrd= \
                            with a size such as 16M";
            let (key, v) = a
                .split_once('=')
                .ok_or_else(|| self.error(col, expected, a))?;
            let at = col + key.len() + 1;
            let v = size(v).ok_or_else(|| self.error(at, "a size such as 16M or 0x1000", v))?;
            match key {
                "purgatory" => k.purgatory = v,
                "params" => k.params = v,
                "kernel" => k.kernel = v,
                "kernel_align" if v.is_power_of_two() => k.kernel_align = v,
                "kernel_align" => return Err(self.error(at, "a power of two", &v.to_string())),
                "initrd" => k.initrd = v,
                _ => return Err(self.error(col, expected, key)),
            }
            if v == 0 {
                return Err(self.error(at, "a size above zero", "0"));
            }
        }
        Ok(k)
    }

    /// The words after the directive.
    fn args(&self) -> Vec<(usize, &str)> {
        let mut out = self.words();
        out.remove(0);
        out
    }

    fn exactly<'b, const N: usize>(
        &self,
        args: &[(usize, &'b str)],
        what: &str,
    ) -> Result<[(usize, &'b str); N], ParseError> {
        if args.len() > N {
            let (col, a) = args[N];
            return Err(self.error(col, &format!("{what} only"), a));
        }
        args.try_into()
            .map_err(|_| self.error(self.text.len(), what, "the end of the line"))
    }

    /// `ADDR SIZE`, the arguments of `reserve`, `setup_data` and
    /// `memblock`.
    fn address_and_size(&self, args: &[(usize, &str)]) -> Result<(u64, u64), ParseError> {
        let [(c1, a), (c2, z)] = self.exactly::<2>(args, "an address and a size")?;
        let a = number(a).ok_or_else(|| self.error(c1, "an address", a))?;
        let z = number(z).ok_or_else(|| self.error(c2, "a size", z))?;
        Ok((a, z))
    }

    /// `[mem 0xSTART-0xLAST] TYPE`, as e820 prints it, after an optional
    /// `WHO: ` (`BIOS-e820: `, `reserve setup_data: `).
    fn e820_entry(&self) -> Result<E820Entry, ParseError> {
        let lead = self.text.len() - self.text.trim_start().len();
        let t = self.text.trim();
        let at = t
            .find("[mem ")
            .ok_or_else(|| self.error(lead, "an e820 line: [mem 0xSTART-0xLAST] TYPE", t))?;
        parse_e820_entry(&t[at..]).map_err(|e| {
            let found: String = t[at + e.col..].chars().take(12).collect();
            self.error(lead + at + e.col, &e.expected, &found)
        })
    }

    fn descriptor(&self) -> Result<MemoryDesc, ParseError> {
        if is_memmap_line(self.text) {
            return parse_memmap_line(self.text).map_err(|e| {
                let found: String = self.text[e.col..].chars().take(12).collect();
                self.error(e.col, &e.expected, &found)
            });
        }
        let words = self.words();
        let expected = "TYPE PHYS PAGES ATTR [virt=V] [pad=P], or an `efi: memNN:` line";
        if words.len() < 4 {
            return Err(self.error(self.text.len(), expected, "the end of the line"));
        }
        let (c, t) = words[0];
        let ty = TYPE_NAMES
            .iter()
            .position(|n| *n == t)
            .map(|i| i as u32)
            .or_else(|| number(t).and_then(|v| u32::try_from(v).ok()))
            .ok_or_else(|| {
                self.error(
                    c,
                    "a memory type (e.g. Conventional, BootServicesData) or number",
                    t,
                )
            })?;
        let (c, p) = words[1];
        let phys = number(p).ok_or_else(|| self.error(c, "the physical address", p))?;
        let (c, n) = words[2];
        let pages = number(n).ok_or_else(|| self.error(c, "the page count", n))?;
        let (c, a) = words[3];
        let attribute = attribute(a)
            .ok_or_else(|| self.error(c, "the attribute: a number or names like WB|SP", a))?;
        let mut d = MemoryDesc::new(ty, phys, pages, attribute);
        for &(c, w) in &words[4..] {
            match w.split_once('=') {
                Some(("virt", v)) => {
                    d.virt_addr = number(v).ok_or_else(|| self.error(c + 5, "a number", v))?
                }
                Some(("pad", v)) => {
                    d.pad = number(v)
                        .and_then(|v| u32::try_from(v).ok())
                        .ok_or_else(|| self.error(c + 4, "a 32-bit number", v))?
                }
                _ => return Err(self.error(c, "virt=V or pad=P", w)),
            }
        }
        Ok(d)
    }
}
