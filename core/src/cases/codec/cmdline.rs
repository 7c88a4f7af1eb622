//! The command line's part of the grammar: words the EFI code's early
//! parameters read, and words around them.

use super::{Choice, Reader, Writer};
use crate::cases::scenario::{MAX_CMDLINE, MAX_CMDLINE_WORDS};
use crate::model::desc::{attr, MemoryDesc, EFI_PAGE_SIZE};

/// How many words: 0, 1, 2, 3, 4..=8, or a count of raw tokens (the raw
/// form).
pub const WORDS: Choice<6> = Choice::new([56, 88, 56, 28, 20, 8]);
const WORDS_RAW: usize = 5;
/// A word: `efi_fake_mem=`, `efi=`, `noefi`, `memmap=`, `add_efi_memmap`,
/// another parameter, `--`, a quoted word, an earlier word again, or a
/// raw token.
pub const WORD: Choice<10> = Choice::new([80, 72, 18, 10, 8, 22, 4, 24, 8, 10]);
/// `efi_fake_mem`'s spelling: as documented, or with dashes, which
/// `parameq` takes for underscores.
pub const FAKE_MEM_NAME: Choice<3> = Choice::new([208, 24, 24]);
const FAKE_MEM_NAMES: [&str; 3] = ["efi_fake_mem", "efi-fake-mem", "efi_fake-mem"];
/// `efi_fake_mem=`'s value: 1, 2, 3, 4..=8 or 9 ranges (one past
/// `CONFIG_EFI_MAX_FAKE_MEM`), an empty value, no `=` at all, or a
/// malformed one.
pub const RANGES: Choice<8> = Choice::new([72, 64, 32, 48, 16, 8, 8, 8]);
/// Where a range lies: its start on or beside a descriptor's start or end,
/// right after the previous range, at the previous range's start, inside a
/// descriptor, misaligned, raw, or of size 0.
pub const RANGE_FORM: Choice<7> = Choice::new([112, 32, 24, 32, 24, 16, 16]);
/// A range's attribute: SP, MR, RUNTIME, UC, SP|MR, XP, none, raw, a bit
/// no kernel names, CC, HP.
pub const RANGE_ATTR: Choice<11> = Choice::new([96, 48, 16, 16, 16, 8, 16, 16, 8, 8, 8]);
/// How a number is written: hex, with a K/M/G suffix where it divides,
/// decimal.
pub const NUMBER: Choice<3> = Choice::new([160, 64, 32]);
/// `efi=`: options, bare `efi`, `efi=` with nothing, `efi=` and a raw token.
pub const EFI_FORM: Choice<4> = Choice::new([200, 24, 16, 16]);
/// How many options in one `efi=` word.
pub const EFI_OPTIONS: Choice<4> = Choice::new([150, 60, 30, 16]);
/// One `efi=` option.
pub const EFI_OPTION: Choice<9> = Choice::new([56, 44, 44, 44, 16, 12, 8, 8, 24]);
const OPTIONS: [&str; 8] = [
    "debug",
    "noruntime",
    "runtime",
    "nosoftreserve",
    "old_map",
    "disable_early_pci_dma",
    "no_disable_early_pci_dma",
    "",
];
/// Options no `efi=` handler knows.
const UNKNOWN_OPTIONS: [&str; 5] = ["nochunk", "attr_table", "DEBUG", "debugx", "novamap"];
/// Other parameters, some spelled close to the EFI code's own.
const OTHER: [&str; 14] = [
    "quiet",
    "nokaslr",
    "console=ttyS0,115200",
    "init=/bin/sh",
    "ignore_loglevel",
    "efi_fake_memx=1G@4G:0x40000",
    "efix",
    "noefix",
    "efi_fake_mem_=1G@4G:0x40000",
    "add_efi_memmapx",
    "mem=4G",
    "earlyprintk=serial",
    "efi_no_storage_paranoia",
    "nosoftreserve",
];
/// A quoted word: all of it, its value, an unclosed quote, or a value with
/// a space inside the quotes.
pub const QUOTE: Choice<4> = Choice::new([112, 96, 24, 24]);

/// The command line, its ranges placed against `map`.
pub fn decode(r: &mut Reader, map: &[MemoryDesc]) -> String {
    let n = match r.pick(&WORDS) {
        i @ 0..=3 => i,
        4 => 4 + usize::from(r.u8()) % 5,
        _ => return raw_tokens(r),
    };
    let mut tokens: Vec<String> = Vec::new();
    for _ in 0..n {
        let w = word(r, map, &tokens);
        for t in w.split(' ').filter(|t| !t.is_empty()) {
            push(&mut tokens, t);
        }
    }
    tokens.join(" ")
}

/// Adds `t` if the line stays within the scenario's bounds.
fn push(tokens: &mut Vec<String>, t: &str) {
    let len: usize = tokens.iter().map(|t| t.len() + 1).sum();
    if tokens.len() < MAX_CMDLINE_WORDS && len + t.len() <= MAX_CMDLINE {
        tokens.push(t.to_string());
    }
}

fn raw_tokens(r: &mut Reader) -> String {
    let mut tokens = Vec::new();
    for _ in 0..r.u8() {
        let len = usize::from(r.u16()).min(r.left());
        let t: String = (0..len).map(|_| char::from(0x21 + r.u8() % 94)).collect();
        if !t.is_empty() {
            push(&mut tokens, &t);
        }
    }
    tokens.join(" ")
}

fn word(r: &mut Reader, map: &[MemoryDesc], earlier: &[String]) -> String {
    match r.pick(&WORD) {
        0 => fake_mem(r, map),
        1 => efi(r),
        2 => ["noefi", "noefi=1", "noefi="][match r.u8() {
            0..=223 => 0,
            224..=239 => 1,
            _ => 2,
        }]
        .to_string(),
        3 => memmap(r, map),
        4 => "add_efi_memmap".to_string(),
        5 => OTHER[usize::from(r.u8()) % OTHER.len()].to_string(),
        6 => "--".to_string(),
        7 => quoted(r, map),
        8 => match earlier.len() {
            0 => fake_mem(r, map),
            n => earlier[usize::from(r.u8()) % n].clone(),
        },
        _ => {
            let len = 1 + usize::from(r.u8()) % 16;
            (0..len).map(|_| char::from(0x21 + r.u8() % 94)).collect()
        }
    }
}

fn quoted(r: &mut Reader, map: &[MemoryDesc]) -> String {
    let how = r.pick(&QUOTE);
    let inner = match r.u8() % 3 {
        0 => fake_mem(r, map),
        1 => efi(r),
        _ => OTHER[usize::from(r.u8()) % OTHER.len()].to_string(),
    };
    let split = inner.split_once('=');
    match (how, split) {
        (1, Some((name, value))) => format!("{name}=\"{value}\""),
        (2, _) => format!("\"{inner}"),
        (3, Some((name, value))) => format!("{name}=\"{value} {}\"", OPTIONS[1]),
        _ => format!("\"{inner}\""),
    }
}

fn efi(r: &mut Reader) -> String {
    match r.pick(&EFI_FORM) {
        0 => {
            let n = 1 + r.pick(&EFI_OPTIONS);
            let opts: Vec<&str> = (0..n)
                .map(|_| match r.pick(&EFI_OPTION) {
                    i @ 0..=7 => OPTIONS[i],
                    _ => UNKNOWN_OPTIONS[usize::from(r.u8()) % UNKNOWN_OPTIONS.len()],
                })
                .collect();
            format!("efi={}", opts.join(","))
        }
        1 => "efi".to_string(),
        2 => "efi=".to_string(),
        _ => {
            let len = 1 + usize::from(r.u8()) % 12;
            let t: String = (0..len).map(|_| char::from(0x21 + r.u8() % 94)).collect();
            format!("efi={t}")
        }
    }
}

/// A number as a command line writes it.
fn number(r: &mut Reader, v: u64) -> String {
    match r.pick(&NUMBER) {
        1 => {
            for (shift, suffix) in [(40, 'T'), (30, 'G'), (20, 'M'), (10, 'K')] {
                if v != 0 && v.trailing_zeros() >= shift {
                    return format!("{}{suffix}", v >> shift);
                }
            }
            format!("{v:#x}")
        }
        2 => v.to_string(),
        _ => format!("{v:#x}"),
    }
}

/// A point on or beside an edge of a descriptor of `map`: its start or
/// end (exclusive), up to two pages either way.
fn edge(r: &mut Reader, map: &[MemoryDesc]) -> u64 {
    let d = map
        .get(usize::from(r.u8()) % map.len().max(1))
        .copied()
        .unwrap_or(MemoryDesc::new(0, 0x10_0000, 0x100, 0));
    let e = r.u8();
    let base = if e & 1 == 0 {
        d.phys_addr
    } else {
        d.end().wrapping_add(1)
    };
    let delta = i64::from((e >> 1) % 5) - 2;
    base.wrapping_add_signed(delta * EFI_PAGE_SIZE as i64)
}

fn range_attr(r: &mut Reader) -> u64 {
    match r.pick(&RANGE_ATTR) {
        0 => attr::SP,
        1 => attr::MORE_RELIABLE,
        2 => attr::RUNTIME,
        3 => attr::UC,
        4 => attr::SP | attr::MORE_RELIABLE,
        5 => attr::XP,
        6 => 0,
        7 => r.u64(),
        8 => 1 << (21 + u64::from(r.u8()) % 42),
        9 => attr::CPU_CRYPTO,
        _ => super::map::HOT_PLUGGABLE,
    }
}

/// One `size@start:attr`, placed against `map` and the ranges before it.
fn range(r: &mut Reader, map: &[MemoryDesc], prev: Option<(u64, u64)>) -> (u64, u64, u64) {
    let (ps, pz) = prev.unwrap_or((0x10_0000, EFI_PAGE_SIZE));
    let (start, size) = match r.pick(&RANGE_FORM) {
        0 => (edge(r, map), u64::from(r.u8() % 24) * EFI_PAGE_SIZE),
        1 => (
            ps.wrapping_add(pz),
            (1 + u64::from(r.u8() % 16)) * EFI_PAGE_SIZE,
        ),
        2 => (ps, (1 + u64::from(r.u8() % 16)) * EFI_PAGE_SIZE),
        3 => {
            let d = map
                .get(usize::from(r.u8()) % map.len().max(1))
                .copied()
                .unwrap_or_default();
            let into = u64::from(r.u8()) % d.num_pages.clamp(1, 256);
            let size = (1 + u64::from(r.u8()) % d.num_pages.clamp(1, 64)) * EFI_PAGE_SIZE;
            (d.phys_addr.wrapping_add(into * EFI_PAGE_SIZE), size)
        }
        4 => (
            edge(r, map).wrapping_add(u64::from(r.u8()) * 0x10),
            u64::from(r.u8()) * 0x100,
        ),
        5 => (r.u64(), r.u64()),
        _ => (edge(r, map), 0),
    };
    (start, size, range_attr(r))
}

fn fake_mem(r: &mut Reader, map: &[MemoryDesc]) -> String {
    let name = FAKE_MEM_NAMES[r.pick(&FAKE_MEM_NAME)];
    let n = match r.pick(&RANGES) {
        i @ 0..=2 => i + 1,
        3 => 4 + usize::from(r.u8()) % 5,
        4 => 9,
        5 => return format!("{name}="),
        6 => return name.to_string(),
        _ => return format!("{name}={}", malformed(r, map)),
    };
    let mut items = Vec::new();
    let mut prev = None;
    for _ in 0..n {
        let (start, size, a) = range(r, map, prev);
        prev = Some((start, size));
        let (z, s) = (number(r, size), number(r, start));
        items.push(format!("{z}@{s}:{a:#x}"));
    }
    format!("{name}={}", items.join(","))
}

/// A value `setup_fake_mem` stops in, each a way of leaving part of it
/// unread or the `Malformed early option` path.
fn malformed(r: &mut Reader, map: &[MemoryDesc]) -> String {
    let (start, size, a) = range(r, map, None);
    let (s, z) = (format!("{start:#x}"), format!("{size:#x}"));
    match r.u8() % 10 {
        0 => format!("{z}@{s}"),
        1 => format!("{z}:{a:#x}"),
        2 => format!("{z}@{s}:{a:#x},"),
        3 => format!("{z}@{s}:{a:#x},,{z}@{s}:{a:#x}"),
        4 => format!("{z}X@{s}:{a:#x}"),
        5 => format!("16E@{s}:{a:#x}"),
        6 => format!("{z}@{s}:0xzz"),
        7 => format!("@{s}:{a:#x}"),
        8 => format!("{z}@{s}:"),
        _ => format!(",{z}@{s}:{a:#x}"),
    }
}

fn memmap(r: &mut Reader, map: &[MemoryDesc]) -> String {
    let at = edge(r, map);
    let size = (1 + u64::from(r.u8() % 64)) * EFI_PAGE_SIZE;
    match r.u8() % 6 {
        0 => format!("memmap={size:#x}!{at:#x}"),
        1 => format!("memmap={size:#x}${at:#x}"),
        2 => format!("memmap={size:#x}#{at:#x}"),
        3 => format!("memmap={size:#x}@{at:#x}"),
        4 => "memmap=exactmap".to_string(),
        _ => format!("memmap={size:#x}"),
    }
}

/// The raw form of `cmdline`: its tokens.
pub fn encode(w: &mut Writer, cmdline: &str) {
    w.pick(&WORDS, WORDS_RAW);
    let tokens: Vec<&str> = cmdline.split(' ').filter(|t| !t.is_empty()).collect();
    w.u8(tokens.len() as u8);
    for t in tokens {
        w.u16(t.len() as u16);
        for b in t.bytes() {
            w.u8(b - 0x21);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One `efi=` word of two options, `debug` and `runtime`.
    #[test]
    fn an_efi_word_with_two_options() {
        let bytes = [
            WORDS.first_byte(1),
            WORD.first_byte(1),
            EFI_FORM.first_byte(0),
            EFI_OPTIONS.first_byte(1),
            EFI_OPTION.first_byte(0),
            EFI_OPTION.first_byte(2),
        ];
        assert_eq!(decode(&mut Reader::new(&bytes), &[]), "efi=debug,runtime");
    }

    /// Two ranges: the first on a descriptor's start, 2 pages; the second
    /// right after it (2^32 + 0x2000 = 4294975488), 1 page; the sizes with
    /// a suffix.
    #[test]
    fn fake_mem_ranges_are_placed_against_the_map() {
        let map = [MemoryDesc::new(7, 0x1_0000_0000, 0x100, 0xf)];
        let bytes = [
            WORDS.first_byte(1),
            WORD.first_byte(0),
            FAKE_MEM_NAME.first_byte(0),
            RANGES.first_byte(1),
            RANGE_FORM.first_byte(0),
            0, // the first descriptor
            4, // its start, no pages moved
            2, // 2 pages
            RANGE_ATTR.first_byte(0),
            NUMBER.first_byte(1),
            NUMBER.first_byte(0),
            RANGE_FORM.first_byte(1),
            0, // 1 page
            RANGE_ATTR.first_byte(1),
            NUMBER.first_byte(1),
            NUMBER.first_byte(2),
        ];
        assert_eq!(
            decode(&mut Reader::new(&bytes), &map),
            "efi_fake_mem=8K@0x100000000:0x40000,4K@4294975488:0x10000"
        );
    }
}
