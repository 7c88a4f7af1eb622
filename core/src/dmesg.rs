//! Reading the map back from the lines `efi_print_memmap` prints:
//! `efi: mem05: [Conventional Memory|   |  |SP|...|UC] range=[0x...-0x...] (300MB)`
//! in every era's format (19- or 12-wide names, 12 to 15 attribute
//! columns, the `attr=0x...` and `type=N` fallbacks), with or without a
//! `[ seconds.micros]` timestamp.

use crate::desc::{attr, MemoryDesc, EFI_PAGE_SHIFT};
use crate::print::{ATTR_HOT_PLUGGABLE, LONG_NAMES, SHORT_NAMES};

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

/// Whether `line` looks like an `efi_print_memmap` line (after any prefix).
pub fn is_memmap_line(line: &str) -> bool {
    memmap_start(line).is_some()
}

/// Where the `efi: mem` part starts, after an optional timestamp.
fn memmap_start(line: &str) -> Option<usize> {
    let mut at = 0;
    let t = line.trim_start();
    at += line.len() - t.len();
    let mut rest = t;
    if rest.starts_with('[') {
        let close = rest.find(']')?;
        at += close + 1;
        rest = &rest[close + 1..];
        let t = rest.trim_start();
        at += rest.len() - t.len();
        rest = t;
    }
    rest.starts_with("efi: mem").then_some(at)
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
    let mut c = Cur { s: line, at: start };
    c.eat("efi: mem")?;
    if c.take_while(|ch| ch.is_ascii_digit()).is_empty() {
        return c.err("the descriptor index");
    }
    c.eat(": [")?;
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
    if columns != usize::MAX && !(12..=15).contains(&columns) {
        return c.err("12 to 15 attribute columns before `]`");
    }
    c.eat(" range=[0x")?;
    let phys = c.hex("the start address in hex")?;
    c.eat("-0x")?;
    let end = c.hex("the end address in hex")?;
    if !(c.rest().starts_with(']') || c.rest().starts_with(')')) {
        return c.err("`]` or `)`");
    }
    c.at += 1;
    c.eat(" (")?;
    if c.take_while(|ch| ch.is_ascii_digit()).is_empty() {
        return c.err("the size in MB");
    }
    c.eat("MB)")?;
    if !c.rest().trim().is_empty() {
        return c.err("the end of the line");
    }
    let pages = end.wrapping_sub(phys).wrapping_add(1) >> EFI_PAGE_SHIFT;
    Ok(MemoryDesc::new(ty, phys, pages, attribute))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::era::PrinterFormat;
    use crate::print::memmap_line;

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
        let old = "efi: mem00: [Conventional Memory|   |  |  |  |  |  |  |   |WB|WT|WC|UC] range=[0x0000000000000000-0x000000000009ffff) (0MB)";
        assert_eq!(parse_memmap_line(old).unwrap().num_pages, 0xa0);
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
