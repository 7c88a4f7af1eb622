//! Reading a map back from what kernels printed:
//! - x86 `efi_print_memmap`: `efi: mem05: [Conventional Memory|   |..|UC]
//!   range=[0x...-0x...] (300MB)`, with 19- or 12-wide names, 12 to 15
//!   attribute columns (9 in v3.x), the `attr=0x...` and `type=N` fallbacks, and the
//!   older `...-0x...)` form whose end is exclusive;
//! - the oldest x86 form, `efi: mem00: type=7, attr=0xf,
//!   range=[0x...-0x...) (0MB)` (also `EFI:`), end exclusive;
//! - arm64's `efi:   0x...-0x... [Conventional|..]` lines under
//!   "Processing EFI memory map:", end inclusive (older kernels added `*`).
//!
//! Any prefix before the `efi:` is ignored: a `[ seconds]` timestamp, a
//! syslog or journal prefix, a `<6>` level.

use crate::cases::scenario::Scenario;
use crate::model::boot::BootInput;
use crate::model::desc::{attr, MemoryDesc, EFI_PAGE_SHIFT};
use crate::model::e820::{E820Entry, E820Type};
use crate::model::print::{ATTR_HOT_PLUGGABLE, LONG_NAMES, SHORT_NAMES};

/// What was wrong, and where: a 0-based byte column in the line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineError {
    pub col: usize,
    pub expected: String,
}

/// The bit a printed column label stands for.
pub fn column_bit(label: &str) -> Option<u64> {
    Some(match label {
        "RUN" => attr::RUNTIME,
        "HP" => ATTR_HOT_PLUGGABLE,
        "MR" => attr::MORE_RELIABLE,
        "CC" => attr::CPU_CRYPTO,
        "SP" => attr::SP,
        "NV" => attr::NV,
        "XP" => attr::XP,
        "RP" => attr::RP,
        "WP" => attr::WP,
        "RO" => attr::RO,
        "UCE" => attr::UCE,
        "WB" => attr::WB,
        "WT" => attr::WT,
        "WC" => attr::WC,
        "UC" => attr::UC,
        _ => return None,
    })
}

/// The type a printed name stands for, in either era's names.
pub fn type_from_name(name: &str) -> Option<u32> {
    LONG_NAMES
        .iter()
        .position(|n| *n == name)
        .or_else(|| SHORT_NAMES.iter().position(|n| *n == name))
        .map(|i| i as u32)
}

/// A cursor over one line that reports columns.
struct Cur<'a> {
    s: &'a str,
    at: usize,
}

impl<'a> Cur<'a> {
    fn err<T>(&self, expected: &str) -> Result<T, LineError> {
        Err(LineError {
            col: self.at,
            expected: expected.to_string(),
        })
    }

    fn rest(&self) -> &'a str {
        &self.s[self.at..]
    }

    fn eat(&mut self, lit: &str) -> Result<(), LineError> {
        if self.rest().starts_with(lit) {
            self.at += lit.len();
            Ok(())
        } else {
            self.err(&format!("`{lit}`"))
        }
    }

    fn take_while(&mut self, f: impl Fn(char) -> bool) -> &'a str {
        let r = self.rest();
        let n = r.find(|c| !f(c)).unwrap_or(r.len());
        self.at += n;
        &r[..n]
    }

    fn hex(&mut self, what: &str) -> Result<u64, LineError> {
        let start = self.at;
        let digits = self.take_while(|c| c.is_ascii_hexdigit());
        if digits.is_empty() || digits.len() > 16 {
            self.at = start;
            return self.err(what);
        }
        Ok(u64::from_str_radix(digits, 16).expect("hex digits"))
    }
}

/// Whether `line` holds an x86 `efi: memNN:` line (after any prefix).
pub fn is_memmap_line(line: &str) -> bool {
    memmap_start(line).is_some()
}

/// Where the `efi: memNN` (or `EFI: memNN`) part starts: `mem` and a
/// digit, so that `efi: memattr:` (the memory attributes table's
/// listing) is not taken for a map line.
fn memmap_start(line: &str) -> Option<usize> {
    ["efi: mem", "EFI: mem"].iter().find_map(|p| {
        line.match_indices(p).map(|(at, _)| at).find(|&at| {
            line.as_bytes()
                .get(at + p.len())
                .is_some_and(u8::is_ascii_digit)
        })
    })
}

/// Where an arm64 `efi:   0x...-0x... [` line starts.
fn arm64_start(line: &str) -> Option<usize> {
    let at = line.find("efi:")?;
    let rest = &line[at + 4..];
    let t = rest.trim_start_matches(' ');
    (t.len() < rest.len() && t.starts_with("0x") && t.contains("-0x")).then_some(at)
}

/// Parses one `efi: memNN:` line into a descriptor. The pages come from
/// the range, `(end - start + 1) >> 12` wrapping, so the empty entry
/// (`0x0-0xffffffffffffffff`) reads back as 0 pages.
pub fn parse_memmap_line(line: &str) -> Result<MemoryDesc, LineError> {
    let Some(start) = memmap_start(line) else {
        return Err(LineError {
            col: 0,
            expected: "an `efi: memNN:` line, optionally after a `[ seconds]` timestamp".into(),
        });
    };
    let mut c = Cur {
        s: line,
        at: start + 8,
    };
    if c.take_while(|ch| ch.is_ascii_digit()).is_empty() {
        return c.err("the descriptor index");
    }
    if c.rest().starts_with(": type=") {
        return parse_old(c);
    }
    c.eat(": [")?;
    let (ty, attribute) = type_and_attributes(&mut c)?;
    c.eat(" ")?;
    let pages = range_and_size(&mut c)?;
    Ok(MemoryDesc::new(ty, pages.0, pages.1, attribute))
}

/// After the `[`: the type field and the attribute columns up to `]`.
fn type_and_attributes(c: &mut Cur) -> Result<(u32, u64), LineError> {
    let ty_col = c.at;
    let field = c.take_while(|ch| ch != '|' && ch != ']');
    let ty = if let Some(n) = field.strip_prefix("type=") {
        n.parse::<u32>().or_else(|_| {
            c.at = ty_col + 5;
            c.err("a decimal type number")
        })?
    } else {
        type_from_name(field.trim_end()).map_or_else(
            || {
                c.at = ty_col;
                c.err("a memory type name or `type=N`")
            },
            Ok,
        )?
    };
    let mut attribute = 0u64;
    let mut columns = 0;
    loop {
        if c.rest().starts_with(']') {
            c.at += 1;
            break;
        }
        c.eat("|")?;
        if c.rest().starts_with("attr=0x") {
            c.at += 7;
            attribute = c.hex("the attribute in hex")?;
            c.eat("]")?;
            columns = usize::MAX;
            break;
        }
        let col = c.at;
        let label = c.take_while(|ch| ch != '|' && ch != ']');
        let label = label.trim_start();
        if !label.is_empty() {
            match column_bit(label) {
                Some(bit) => attribute |= bit,
                None => {
                    c.at = col;
                    return c.err("an attribute column (RUN, HP, MR, CC, SP, NV, XP, RP, WP, RO, UCE, WB, WT, WC, UC)");
                }
            }
        }
        columns += 1;
    }
    // 9 columns in v3.x (RUN XP RP WP UCE WB WT WC UC), 12 from MR, NV and
    // RO, 13 with SP, 14 with CC, 15 with HP.
    if columns != usize::MAX && !(9..=15).contains(&columns) {
        return c.err("9 to 15 attribute columns before `]`");
    }
    Ok((ty, attribute))
}

/// `range=[0x...-0x...] (NMB)` (inclusive end) or `...)` (exclusive end),
/// to the end of the line: the start and the page count, wrapping as the
/// kernel's end did (so the empty entry reads back with 0 pages).
fn range_and_size(c: &mut Cur) -> Result<(u64, u64), LineError> {
    c.eat("range=[0x")?;
    let phys = c.hex("the start address in hex")?;
    c.eat("-0x")?;
    let end = c.hex("the end address in hex")?;
    let inclusive = match c.rest().chars().next() {
        Some(']') => true,
        Some(')') => false,
        _ => return c.err("`]` or `)`"),
    };
    c.at += 1;
    c.eat(" (")?;
    if c.take_while(|ch| ch.is_ascii_digit()).is_empty() {
        return c.err("the size in MB");
    }
    c.eat("MB)")?;
    if !c.rest().trim().is_empty() {
        return c.err("the end of the line");
    }
    let len = end.wrapping_sub(phys).wrapping_add(u64::from(inclusive));
    Ok((phys, len >> EFI_PAGE_SHIFT))
}

/// The oldest form: `type=7, attr=0xf, range=[0x...-0x...) (0MB)`.
fn parse_old(mut c: Cur) -> Result<MemoryDesc, LineError> {
    c.eat(": type=")?;
    let col = c.at;
    let ty = c
        .take_while(|ch| ch.is_ascii_digit())
        .parse::<u32>()
        .or_else(|_| {
            c.at = col;
            c.err("a decimal type number")
        })?;
    c.eat(", attr=0x")?;
    let attribute = c.hex("the attribute in hex")?;
    c.eat(", ")?;
    let (phys, pages) = range_and_size(&mut c)?;
    Ok(MemoryDesc::new(ty, phys, pages, attribute))
}

/// One arm64 line: `efi:   0x000040000000-0x000047dfcfff [Conventional|...]`,
/// end inclusive, an optional `*` after it.
pub fn parse_arm64_line(line: &str) -> Result<MemoryDesc, LineError> {
    let Some(start) = arm64_start(line) else {
        return Err(LineError {
            col: 0,
            expected: "an arm64 `efi:   0x...-0x... [...]` line".into(),
        });
    };
    let mut c = Cur {
        s: line,
        at: start + 4,
    };
    c.take_while(|ch| ch == ' ');
    c.eat("0x")?;
    let phys = c.hex("the start address in hex")?;
    c.eat("-0x")?;
    let end = c.hex("the end address in hex")?;
    c.eat(" [")?;
    let (ty, attribute) = type_and_attributes(&mut c)?;
    let rest = c.rest().trim();
    if !(rest.is_empty() || rest == "*") {
        return c.err("the end of the line");
    }
    let pages = end.wrapping_sub(phys).wrapping_add(1) >> EFI_PAGE_SHIFT;
    Ok(MemoryDesc::new(ty, phys, pages, attribute))
}

/// `[mem 0xSTART-0xLAST] TYPE` as `e820__print_table` prints it after
/// `WHO: `, from its `[`; a column of the error is relative to `text`.
pub fn parse_e820_entry(text: &str) -> Result<E820Entry, LineError> {
    let mut c = Cur { s: text, at: 0 };
    c.eat("[mem 0x")?;
    let start = c.hex("a start address in hex")?;
    c.eat("-0x")?;
    let last = c.hex("a last address in hex")?;
    c.eat("] ")?;
    let name = c.rest().trim_end();
    let ty = E820Type::from_name(name).map_or_else(
        || c.err("an e820 type as the kernel prints it (usable, reserved, ACPI data, ACPI NVS, unusable, soft reserved, persistent (type N), type N)"),
        Ok,
    )?;
    Ok(E820Entry::new(
        start,
        last.wrapping_sub(start).wrapping_add(1),
        ty,
    ))
}

/// The e820 tables a boot log prints: the boot loader's (`BIOS-e820:`)
/// and, after `e820__reserve_setup_data`, the setup_data nodes it
/// reserved (`reserve setup_data:`). RESERVED_KERN prints as `usable`,
/// so the nodes are told from RAM by position: the pieces a BIOS RAM entry
/// was cut into alternate RAM, node, RAM, ..., the first one RAM.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportedE820 {
    pub bios: Vec<E820Entry>,
    pub setup_data: Vec<(u64, u64)>,
}

/// A setup_data node's `e820: update [mem A-B] usable ==> usable` line
/// (RAM to RESERVED_KERN, which prints as usable) as `(A, B + 1 - A)`.
fn setup_data_update(line: &str) -> Option<(u64, u64)> {
    let rest = &line[line.find("e820: update [mem 0x")? + 20..];
    let (range, tail) = rest.split_once(']')?;
    if tail.trim_end() != " usable ==> usable" {
        return None;
    }
    let (a, b) = range.split_once("-0x")?;
    let a = u64::from_str_radix(a, 16).ok()?;
    let b = u64::from_str_radix(b, 16).ok()?;
    Some((a, b.wrapping_sub(a).wrapping_add(1)))
}

/// Reads the first `BIOS-e820:` table and the first `reserve setup_data:`
/// table of a log, if it has them; a line that starts like one but does
/// not parse is an error.
pub fn import_e820(text: &str) -> Result<ImportedE820, ImportError> {
    let mut out = ImportedE820::default();
    let mut extended: Vec<E820Entry> = Vec::new();
    // The table being read, and whether each kind has been read whole.
    let mut reading: Option<usize> = None;
    let mut done = [false; 2];
    for (n, line) in text.lines().enumerate() {
        let found = ["BIOS-e820: ", "reserve setup_data: "]
            .iter()
            .enumerate()
            .find_map(|(k, w)| line.find(w).map(|at| (k, at + w.len())));
        if reading.is_some_and(|r| found.map(|f| f.0) != Some(r)) {
            done[reading.take().expect("reading")] = true;
        }
        let Some((kind, at)) = found else { continue };
        if done[kind] {
            continue;
        }
        let e = parse_e820_entry(&line[at..]).map_err(|e| ImportError {
            line: n + 1,
            col: at + e.col + 1,
            expected: e.expected,
        })?;
        reading = Some(kind);
        if kind == 0 {
            &mut out.bios
        } else {
            &mut extended
        }
        .push(e);
    }
    // With KERN_DEBUG on the console, each node's `e820: update` line
    // (printed twice by the eras that mark the kexec table too) gives the
    // nodes in the order the list is walked.
    let walked: Vec<(u64, u64)> = text
        .lines()
        .take_while(|l| !l.contains("reserve setup_data: "))
        .filter_map(setup_data_update)
        .collect();
    if !walked.is_empty() {
        out.setup_data = walked;
        out.setup_data.dedup();
        return Ok(out);
    }
    for b in out.bios.iter().filter(|b| b.ty == E820Type::RAM) {
        let pieces = extended
            .iter()
            .filter(|x| x.ty == E820Type::RAM && x.addr >= b.addr && x.end() <= b.end());
        for (i, p) in pieces.enumerate() {
            if i % 2 == 1 {
                out.setup_data.push((p.addr, p.size));
            }
        }
    }
    Ok(out)
}

/// A map read from a log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Imported {
    pub descs: Vec<MemoryDesc>,
    /// Which form it was printed in (its first line's).
    pub form: &'static str,
    /// 1-based lines the map came from: its first and last.
    pub lines: (usize, usize),
    /// The 1-based line of each descriptor, in order: a line between
    /// them that is not one of the map's (console noise, another CPU's
    /// message) is not among them.
    pub numbers: Vec<usize>,
    /// What the reader noticed and did not stop for, by 1-based line.
    pub warnings: Vec<(usize, String)>,
    /// Which map of the log this is (1-based), and how many it prints.
    pub map: usize,
    pub maps: usize,
}

/// A log that could not be read: 1-based line and column (0 when it
/// concerns the whole log) and what was expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportError {
    pub line: usize,
    pub col: usize,
    pub expected: String,
}

/// The form a map line is printed in.
fn form_of(line: &str, at: usize) -> &'static str {
    if line[at..].contains(": type=") {
        "x86 type=/attr= (before v4.1)"
    } else if line.contains("MB)") && line[..line.rfind(" (").unwrap_or(0)].ends_with(')') {
        "x86 bracketed, exclusive end"
    } else {
        "x86 bracketed"
    }
}

/// The `(NMB)` a line ends with.
fn printed_mb(line: &str) -> Option<u64> {
    let t = line.trim_end().strip_suffix("MB)")?;
    t[t.rfind('(')? + 1..].parse().ok()
}

/// One map being read.
#[derive(Default)]
struct Reading {
    descs: Vec<MemoryDesc>,
    form: &'static str,
    lines: (usize, usize),
    numbers: Vec<usize>,
    warnings: Vec<(usize, String)>,
    /// The x86 indices seen, with their lines.
    seen: Vec<(u64, usize)>,
}

impl Reading {
    /// Notes what is odd about x86 map line `n` (`line`, its `efi: mem`
    /// at `at`, its index `index` printed as `digits`) against the lines
    /// before it: a first line that is not mem00, an index seen before, a
    /// gap, a line out of order, a form other than the first line's, and
    /// a printed size its range does not hold (`d` is the line read).
    fn check_x86(
        &mut self,
        n: usize,
        line: &str,
        at: usize,
        index: u64,
        digits: &str,
        d: &MemoryDesc,
    ) {
        let form = form_of(line, at);
        if self.descs.is_empty() {
            self.lines.0 = n;
            self.form = form;
            if index != 0 {
                self.warnings.push((
                    n,
                    format!(
                        "the map starts at mem{digits}: the lines before it are not in the log"
                    ),
                ));
            }
        } else {
            let &(prev, _) = self.seen.last().expect("a line seen");
            if let Some(&(_, first)) = self.seen.iter().find(|&&(i, _)| i == index) {
                self.warnings.push((
                    n,
                    format!("mem{digits} again (first on line {first}): both are imported"),
                ));
            } else if index > prev.wrapping_add(1) {
                let missing = if index - 1 == prev + 1 {
                    format!("mem{:02} is", prev + 1)
                } else {
                    format!("mem{:02}..mem{:02} are", prev + 1, index - 1)
                };
                self.warnings.push((
                    n,
                    format!("{missing} missing before this line: the map has a gap"),
                ));
            } else if index < prev {
                self.warnings.push((
                    n,
                    format!("mem{digits} comes after mem{prev:02}: out of order"),
                ));
            }
            if form != self.form {
                self.warnings.push((
                    n,
                    format!(
                        "this line is in the {form} form, the map's first (line {}) in the {}",
                        self.lines.0, self.form
                    ),
                ));
            }
        }
        if let Some(mb) = printed_mb(line) {
            let size = d.num_pages.wrapping_shl(crate::model::desc::EFI_PAGE_SHIFT);
            if mb != size >> 20 {
                self.warnings.push((
                    n,
                    format!("the line says {mb}MB, its range holds {}MB", size >> 20),
                ));
            }
        }
    }
}

/// Reads the first EFI memory map a boot log prints ([`import_map`] 1).
pub fn import(text: &str) -> Result<Imported, ImportError> {
    import_map(text, 1)
}

/// Reads map `which` (1-based) of those a boot log prints: x86 `memNN`
/// lines (a map starts again at `mem00`), or arm64's lines after each
/// "Processing EFI memory map:". Every map line is read; what looks wrong
/// (a gap or a repeat in the numbering, a first index above 0, a line in
/// another form than the first, a `(NMB)` that disagrees with the range,
/// other maps in the log) is a warning with its line. A line that starts
/// like a map line but does not parse is an error.
pub fn import_map(text: &str, which: usize) -> Result<Imported, ImportError> {
    let mut maps: Vec<Reading> = Vec::new();
    let mut cur: Option<Reading> = None;
    let mut arm64 = false;
    let close = |cur: &mut Option<Reading>, maps: &mut Vec<Reading>| {
        if let Some(r) = cur.take().filter(|r| !r.descs.is_empty()) {
            maps.push(r);
        }
    };
    for (n, line) in text.lines().enumerate() {
        let n = n + 1;
        let err = |e: LineError| ImportError {
            line: n,
            col: e.col + 1,
            expected: e.expected,
        };
        if line.contains("Processing EFI memory map:") {
            close(&mut cur, &mut maps);
            arm64 = true;
            continue;
        }
        if line.trim_end().ends_with("(invalid)") {
            continue; // efi_clean_memmap's list of what it removes
        }
        if let Some(at) = memmap_start(line) {
            let digits: String = line[at + 8..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            let index: u64 = digits.parse().unwrap_or(u64::MAX);
            let d = parse_memmap_line(line).map_err(err)?;
            let restart = cur
                .as_ref()
                .is_some_and(|r| index == 0 || r.seen.first().is_some_and(|&(f, _)| index < f));
            if restart {
                close(&mut cur, &mut maps);
            }
            let r = cur.get_or_insert_with(Reading::default);
            r.check_x86(n, line, at, index, &digits, &d);
            r.seen.push((index, n));
            r.descs.push(d);
            r.numbers.push(n);
            r.lines.1 = n;
        } else if arm64 && arm64_start(line).is_some() {
            let d = parse_arm64_line(line).map_err(err)?;
            let r = cur.get_or_insert_with(Reading::default);
            if r.descs.is_empty() {
                r.lines.0 = n;
                r.form = "arm64";
            }
            r.descs.push(d);
            r.numbers.push(n);
            r.lines.1 = n;
        }
    }
    close(&mut cur, &mut maps);
    if maps.is_empty() {
        return Err(ImportError {
            line: 0,
            col: 0,
            expected: "an EFI memory map: x86 `efi: memNN: [...] range=[...] (NMB)` lines (boot with efi=debug) \
                       or arm64 `efi:   0x...-0x... [...]` lines after \"Processing EFI memory map:\""
                .into(),
        });
    }
    let count = maps.len();
    if which == 0 || which > count {
        return Err(ImportError {
            line: 0,
            col: 0,
            expected: format!(
                "map {which} of the log, which prints {count} (lines {})",
                maps.iter()
                    .map(|m| format!("{}-{}", m.lines.0, m.lines.1))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        });
    }
    let mut m = maps.swap_remove(which - 1);
    if count > 1 {
        m.warnings.insert(
            0,
            (
                m.lines.0,
                format!("the log prints {count} maps; this is map {which} (--map chooses another)"),
            ),
        );
    }
    if m.descs.len() > crate::model::boot::MAX_FIRMWARE_DESCS {
        return Err(ImportError {
            line: m.lines.0,
            col: 1,
            expected: format!(
                "a map of at most {} descriptors, found {} (lines {}-{})",
                crate::model::boot::MAX_FIRMWARE_DESCS,
                m.descs.len(),
                m.lines.0,
                m.lines.1
            ),
        });
    }
    Ok(Imported {
        descs: m.descs,
        form: m.form,
        lines: m.lines,
        numbers: m.numbers,
        warnings: m.warnings,
        map: which,
        maps: count,
    })
}

/// What `efimap import-dmesg` takes besides the log.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogImport {
    /// Which map of the log, 1-based ([`import_map`]).
    pub map: usize,
    pub desc_size: u64,
    pub reservations: Vec<(u64, u64)>,
    /// Instead of the command line the log names.
    pub cmdline: Option<String>,
}

/// A scenario from a boot log named `name`: the map `opts.map`, the
/// boot loader's e820 table and the setup_data nodes, the kernel and the
/// command line the log names (its `efi_fake_mem=` and `efi=` are
/// inputs) unless `opts.cmdline` says otherwise, and the reader's
/// warnings in the header (at most a hundred) and returned by line.
pub fn scenario_of_log(
    text: &str,
    name: &str,
    opts: LogImport,
) -> Result<(Scenario, Vec<(usize, String)>), ImportError> {
    use crate::cases::boot_log::{command_line_at, linux_release_at};
    use crate::cases::scenario::cmdline_problem;
    let m = import_map(text, opts.map)?;
    let e820 = import_e820(text)?;
    let mut header = vec![format!(
        "imported from {name}, lines {}-{} ({}): {} descriptors",
        m.lines.0,
        m.lines.1,
        m.form,
        m.descs.len()
    )];
    if let Some((n, release)) = linux_release_at(text) {
        header.push(format!("Linux {release} (line {n} of the log)"));
    }
    let cmdline = match (opts.cmdline, command_line_at(text)) {
        (Some(c), _) => c,
        (None, Some((n, c))) => {
            let c = c.trim();
            if let Some(problem) = cmdline_problem(c) {
                return Err(ImportError {
                    line: n,
                    col: 1,
                    expected: format!("a command line of {problem} (or give --cmdline)"),
                });
            }
            header.push(format!("command line from line {n} of the log"));
            c.to_string()
        }
        (None, None) => String::new(),
    };
    // The header holds at most 255 lines: the first hundred warnings.
    header.extend(
        m.warnings
            .iter()
            .take(100)
            .map(|(line, w)| format!("warning, line {line}: {w}")),
    );
    if m.warnings.len() > 100 {
        header.push(format!("and {} more warnings", m.warnings.len() - 100));
    }
    let sc = Scenario {
        header,
        input: BootInput {
            desc_size: opts.desc_size,
            map: m.descs,
            cmdline,
            reservations: opts.reservations,
            e820: (!e820.bios.is_empty()).then_some(e820.bios),
            setup_data: e820.setup_data,
            ..BootInput::default()
        },
        ..Scenario::default()
    };
    // What the caller gave is its to check; what is left is the
    // scenario's own consistency, which the text form's checks hold.
    if let Err(e) = Scenario::parse(&sc.to_text()) {
        return Err(ImportError {
            line: m.lines.0,
            col: 1,
            expected: format!(
                "a map that makes a scenario (lines {}-{}): {e}",
                m.lines.0, m.lines.1
            ),
        });
    }
    Ok((sc, m.warnings))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A log's kernel and command line go into the scenario (the
    /// command line as its input); a command line with a control
    /// character is an error at its line unless --cmdline replaces it.
    #[test]
    fn a_log_makes_a_scenario_with_its_kernel_and_command_line() {
        let map = "[    0.0] efi: mem00: [Boot Data   |   |  |  |  |  |  |  |  |  |  |   |WB|WT|WC|UC] range=[0x0000000000100000-0x000000000010ffff] (0MB)\n";
        let log = format!(
            "[    0.0] Linux version 6.1.0-9-amd64 (x@y) #1\n\
             [    0.0] Command line: efi=debug efi_fake_mem=4G@9G:0x40000\n{map}"
        );
        let opts = LogImport {
            map: 1,
            desc_size: 48,
            ..LogImport::default()
        };
        let (sc, warnings) = scenario_of_log(&log, "boot.log", opts.clone()).unwrap();
        assert_eq!(
            sc.header,
            vec![
                "imported from boot.log, lines 3-3 (x86 bracketed): 1 descriptors",
                "Linux 6.1.0-9-amd64 (line 1 of the log)",
                "command line from line 2 of the log",
            ]
        );
        assert_eq!(sc.input.cmdline, "efi=debug efi_fake_mem=4G@9G:0x40000");
        assert_eq!(sc.input.map, vec![MemoryDesc::new(4, 0x10_0000, 0x10, 0xf)]);
        assert!(warnings.is_empty());
        let bad = log.replace("efi=debug", "efi=de\x07bug");
        let e = scenario_of_log(&bad, "boot.log", opts.clone()).unwrap_err();
        assert_eq!((e.line, e.col), (2, 1));
        assert_eq!(
            e.expected,
            "a command line of printable ASCII words separated by spaces, found '\\u{7}' \
             (or give --cmdline)"
        );
        let given = LogImport {
            cmdline: Some("quiet".into()),
            ..opts
        };
        let (sc, _) = scenario_of_log(&bad, "boot.log", given).unwrap();
        assert_eq!(sc.input.cmdline, "quiet");
    }
    use crate::model::era::PrinterFormat;
    use crate::model::print::memmap_line;

    /// `efi_memattr_init`'s listing (`efi: memattr: ...`) is not a map
    /// line: a log with both maps and the listing between them reads as
    /// two maps.
    #[test]
    fn the_memory_attributes_listing_is_not_a_map() {
        let text = "[ 0.0] efi: mem00: [Boot Code   |   |  |  |  |  |  |  |  |  |  |   |WB|WT|WC|UC] range=[0x0000000000000000-0x0000000000000fff] (0MB)\n\
                    [ 0.9] efi: EFI runtime memory map:\n\
                    [ 0.9] efi: mem00: [Boot Code   |RUN|  |  |  |  |  |  |  |  |  |   |WB|WT|WC|UC] range=[0x0000000000000000-0x0000000000000fff] (0MB)\n\
                    [ 0.9] efi: memattr: Processing EFI Memory Attributes table:\n\
                    [ 0.9] efi: memattr:  0x00007eaa0000-0x00007eba1fff [Runtime Data|RUN|  |  |  |  |  |XP|  |  |  |   |  |  |  |  ]\n";
        assert!(!is_memmap_line(
            "efi: memattr: Processing EFI Memory Attributes table:"
        ));
        let second = import_map(text, 2).unwrap();
        assert_eq!((second.map, second.maps, second.lines), (2, 2, (3, 3)));
        assert_eq!(
            second.descs,
            vec![MemoryDesc::new(3, 0, 1, attr::RUNTIME | 0xf)]
        );
    }

    #[test]
    fn reads_back_every_format() {
        let descs = [
            MemoryDesc::new(7, 0x1_5e00_0000, 0x12c00, attr::SP | 0xf),
            MemoryDesc::new(4, 0xbea0_0000, 0x100, attr::RUNTIME | attr::UCE | 0xf),
            MemoryDesc::default(),
            MemoryDesc::new(15, 0x1000, 1, 1 << 40),
            MemoryDesc::new(11, 0xfe00_0000, 0x10, attr::CPU_CRYPTO),
        ];
        for f in [
            PrinterFormat::Long12,
            PrinterFormat::Long13Sp,
            PrinterFormat::Short14Cc,
            PrinterFormat::Short15Hp,
        ] {
            for (i, d) in descs.iter().enumerate() {
                let line = memmap_line(i, d, f);
                assert_eq!(parse_memmap_line(&line), Ok(*d), "{line}");
                let stamped = format!("[    0.000000] {line}");
                assert_eq!(parse_memmap_line(&stamped), Ok(*d), "{stamped}");
            }
        }
    }

    #[test]
    fn old_closing_paren_and_errors() {
        let old = "efi: mem00: [Conventional Memory|   |  |  |  |  |  |  |   |WB|WT|WC|UC] range=[0x0000000000000000-0x00000000000a0000) (0MB)";
        assert_eq!(
            parse_memmap_line(old).unwrap().num_pages,
            0xa0,
            "`)`: the end is exclusive"
        );
        let bad = "efi: mem00: [Conventional Memory|   |  |XX|  |  |  |  |   |WB|WT|WC|UC] range=[0x0-0xfff] (0MB)";
        let e = parse_memmap_line(bad).unwrap_err();
        assert_eq!(e.col, bad.find("XX").unwrap());
        let bad =
            "efi: mem00: [Conventional Memory|attr=0x000000000000000f] range=[0xzz-0xfff] (0MB)";
        let e = parse_memmap_line(bad).unwrap_err();
        assert_eq!(
            (e.col, e.expected.as_str()),
            (bad.find("zz").unwrap(), "the start address in hex")
        );
        let bad = "efi: mem00: [Kitchen Sink|attr=0x0] range=[0x0-0xfff] (0MB)";
        assert_eq!(parse_memmap_line(bad).unwrap_err().col, 13);
        assert_eq!(parse_memmap_line("hello").unwrap_err().col, 0);
    }
}
