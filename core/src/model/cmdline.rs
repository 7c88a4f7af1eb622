//! Command-line number parsing (lib/vsprintf.c, lib/kstrtox.c,
//! lib/cmdline.c) and the heapsort of lib/sort.c, as `setup_fake_mem` uses
//! them. The parsers work on bytes and return how many they consumed, the
//! way the C functions advance their end pointer.

use crate::model::desc::MemRange;
use crate::model::era::SortVariant;
use std::cmp::Ordering;

/// x86 `COMMAND_LINE_SIZE`: the kernel keeps at most 2047 bytes.
pub const COMMAND_LINE_SIZE: usize = 2048;

/// The kernel's `isspace` (lib/ctype.c): the C spaces and Latin-1 NBSP.
pub fn kernel_isspace(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | 0xa0)
}

/// One parameter of the command line: its name and its value (`None`
/// without `=`), quotes removed as `next_arg` removes them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Param {
    pub name: String,
    pub val: Option<String>,
}

/// `parse_args` over `next_arg` (kernel/params.c): splits the command line
/// at unquoted spaces, strips the quotes of a quoted word or value, and
/// stops at a bare `--`. The line is first cut to `COMMAND_LINE_SIZE - 1`
/// bytes, as x86 copies it.
pub fn kernel_params(cmdline: &str) -> Vec<Param> {
    let b = &cmdline.as_bytes()[..cmdline.len().min(COMMAND_LINE_SIZE - 1)];
    let text = |x: &[u8]| String::from_utf8_lossy(x).into_owned();
    let mut out = Vec::new();
    let mut at = 0;
    loop {
        while at < b.len() && kernel_isspace(b[at]) {
            at += 1;
        }
        if at == b.len() {
            break;
        }
        let mut args = &b[at..];
        let quoted = args[0] == b'"';
        if quoted {
            args = &args[1..];
            at += 1;
        }
        let (mut in_quote, mut equals, mut i) = (quoted, None, 0);
        while i < args.len() {
            if kernel_isspace(args[i]) && !in_quote {
                break;
            }
            // `equals` is 0 until set, so a '=' first in the word does not count.
            if equals.is_none() && args[i] == b'=' && i > 0 {
                equals = Some(i);
            }
            if args[i] == b'"' {
                in_quote = !in_quote;
            }
            i += 1;
        }
        // Quotes: a value's leading quote, and the word's last quote, which
        // is cut where it stands: from the value, if the word has one.
        let mut end = i;
        let last_quote = i > 0 && args[i - 1] == b'"';
        let val = equals.map(|e| {
            let lead = args.get(e + 1) == Some(&b'"');
            let from = e + 1 + usize::from(lead);
            let to = if (lead || quoted) && last_quote {
                i - 1
            } else {
                i
            };
            text(&args[from..to.max(from)])
        });
        if quoted && end > 0 && args[end - 1] == b'"' {
            end -= 1;
        }
        let name = text(&args[..equals.unwrap_or(end)]);
        at += i + usize::from(i < args.len());
        if val.is_none() && name == "--" {
            break;
        }
        out.push(Param { name, val });
    }
    out
}

/// `parameq`: names compare with `-` and `_` alike.
pub fn parameq(a: &str, b: &str) -> bool {
    let norm = |c: u8| if c == b'-' { b'_' } else { c };
    a.len() == b.len() && a.bytes().zip(b.bytes()).all(|(x, y)| norm(x) == norm(y))
}

/// The `efi_fake_mem=` ranges of a command line, in order, and its other
/// words; `None` unless every `efi_fake_mem=` value is consumed cleanly.
pub fn split_cmdline(cmdline: &str) -> Option<(Vec<MemRange>, Vec<String>)> {
    let mut ranges = Vec::new();
    let mut rest = Vec::new();
    for p in kernel_params(cmdline) {
        if !parameq(&p.name, "efi_fake_mem") {
            rest.push(match p.val {
                Some(v) => format!("{}={v}", p.name),
                None => p.name,
            });
            continue;
        }
        let s = p.val?.into_bytes();
        let mut i = 0;
        while i < s.len() {
            let (size, n) = memparse(&s[i..]);
            i += n;
            (s.get(i) == Some(&b'@')).then_some(())?;
            let (start, n) = memparse(&s[i + 1..]);
            i += 1 + n;
            (s.get(i) == Some(&b':')).then_some(())?;
            let (attribute, n) = simple_strtoull(&s[i + 1..]);
            i += 1 + n;
            ranges.push(MemRange::from_size(start, size, attribute));
            match s.get(i) {
                None => {}
                Some(b',') if i + 1 < s.len() => i += 1,
                Some(_) => return None,
            }
        }
    }
    Some((ranges, rest))
}

/// The command line with these ranges (one `efi_fake_mem=`, in hex) and words.
pub fn join_cmdline(ranges: &[MemRange], rest: &[String]) -> String {
    let mut words = Vec::new();
    if !ranges.is_empty() {
        let items: Vec<String> = ranges
            .iter()
            .map(|m| {
                let size = m.end.wrapping_sub(m.start).wrapping_add(1);
                format!("{size:#x}@{:#x}:{:#x}", m.start, m.attribute)
            })
            .collect();
        words.push(format!("efi_fake_mem={}", items.join(",")));
    }
    words.extend(rest.iter().cloned());
    words.join(" ")
}

/// `simple_strtoull(s, &end, 0)`: returns the value and the bytes consumed.
///
/// Base: "0x"/"0X" followed by a hex digit is base 16 (the "0x" skipped); a
/// leading '0' otherwise is base 8; anything else base 10. No whitespace, no
/// sign; overflow wraps; stops at the first byte that is not a digit of the
/// base.
pub fn simple_strtoull(s: &[u8]) -> (u64, usize) {
    let at = |i: usize| s.get(i).copied().unwrap_or(0);
    let (base, mut i) = if at(0) == b'0' {
        if at(1).eq_ignore_ascii_case(&b'x') && at(2).is_ascii_hexdigit() {
            (16u64, 2)
        } else {
            (8, 0)
        }
    } else {
        (10, 0)
    };
    let mut v: u64 = 0;
    loop {
        let c = at(i);
        let d = match c {
            b'0'..=b'9' => u64::from(c - b'0'),
            _ if (b'a'..=b'f').contains(&(c | 0x20)) => u64::from((c | 0x20) - b'a' + 10),
            _ => break,
        };
        if d >= base {
            break;
        }
        v = v.wrapping_mul(base).wrapping_add(d);
        i += 1;
    }
    (v, i)
}

/// `memparse(s, &end)`: a number, then at most one suffix letter
/// (E P T G M K, either case) shifting by 10 per step down the chain. The
/// suffix is applied and consumed even when no digits were read.
pub fn memparse(s: &[u8]) -> (u64, usize) {
    let (mut v, mut i) = simple_strtoull(s);
    let steps = match s.get(i).copied().unwrap_or(0) {
        b'E' | b'e' => 6,
        b'P' | b'p' => 5,
        b'T' | b't' => 4,
        b'G' | b'g' => 3,
        b'M' | b'm' => 2,
        b'K' | b'k' => 1,
        _ => 0,
    };
    if steps > 0 {
        for _ in 0..steps {
            v <<= 10;
        }
        i += 1;
    }
    (v, i)
}

/// `sort(base, num, size, cmp, NULL)` from lib/sort.c, in the variant the
/// era has. Both are heapsorts that are not stable; which of two equal
/// elements comes first is what this reproduces.
pub fn kernel_sort<T>(v: &mut [T], variant: SortVariant, mut cmp: impl FnMut(&T, &T) -> Ordering) {
    let num = v.len();
    let mut n = num;
    let mut a = num / 2;
    if a == 0 {
        return;
    }
    match variant {
        SortVariant::BottomUp => loop {
            if a != 0 {
                a -= 1;
            } else {
                n -= 1;
                if n == 0 {
                    break;
                }
                v.swap(0, n);
            }
            sift_down(v, a, n, false, &mut cmp);
        },
        SortVariant::DoublePop => {
            let mut shift = 0u32;
            loop {
                if a != 0 {
                    a -= 1 << shift;
                } else if n > 3 {
                    n -= 1;
                    v.swap(0, n);
                    shift = u32::from(cmp(&v[1], &v[2]) != Ordering::Greater);
                    a = 1 << shift;
                    n -= 1;
                    v.swap(a, n);
                } else if n > 1 {
                    n -= 1;
                    v.swap(0, n);
                } else {
                    break;
                }
                sift_down(v, a, n, true, &mut cmp);
            }
        }
    }
}

/// Bottom-up sift of `v[a]` within the heap `v[..n]`: walk to a leaf along
/// the larger children, climb back while `v[a]` is not smaller, then rotate.
fn sift_down<T>(
    v: &mut [T],
    a: usize,
    n: usize,
    right_on_tie: bool,
    cmp: &mut impl FnMut(&T, &T) -> Ordering,
) {
    let mut b = a;
    let (mut c, mut d);
    loop {
        c = 2 * b + 1;
        d = c + 1;
        if d >= n {
            break;
        }
        let o = cmp(&v[c], &v[d]);
        let left = if right_on_tie {
            o == Ordering::Greater
        } else {
            o != Ordering::Less
        };
        b = if left { c } else { d };
    }
    if d == n {
        b = c;
    }
    while b != a && cmp(&v[a], &v[b]) != Ordering::Less {
        b = (b - 1) / 2;
    }
    let c = b;
    while b != a {
        b = (b - 1) / 2;
        v.swap(b, c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> (u64, usize) {
        simple_strtoull(x.as_bytes())
    }
    fn m(x: &str) -> (u64, usize) {
        memparse(x.as_bytes())
    }

    fn params(s: &str) -> Vec<(String, Option<String>)> {
        kernel_params(s)
            .into_iter()
            .map(|p| (p.name, p.val))
            .collect()
    }

    fn p(n: &str, v: Option<&str>) -> (String, Option<String>) {
        (n.to_string(), v.map(str::to_string))
    }

    /// `next_arg` on a quoted word cuts the word's closing quote, which is
    /// also the end of its value; a '=' first in a word is no separator
    /// (`equals` stays 0), the next one is.
    #[test]
    fn a_quoted_words_closing_quote_ends_its_value() {
        assert_eq!(
            params("\"efi_fake_mem=1G@5G:0x40000\" efi=debug"),
            vec![
                p("efi_fake_mem", Some("1G@5G:0x40000")),
                p("efi", Some("debug"))
            ]
        );
        assert_eq!(params("\"a=\"b\"\""), vec![p("a", Some("b\""))]);
        assert_eq!(params("=x=y"), vec![p("=x", Some("y"))]);
        assert_eq!(params("=x"), vec![p("=x", None)]);
    }

    #[test]
    fn command_line_words_quotes_and_double_dash() {
        assert_eq!(
            params("  efi_fake_mem=4G@9G:0x40000 efi=debug\x0bnoefi "),
            vec![
                p("efi_fake_mem", Some("4G@9G:0x40000")),
                p("efi", Some("debug")),
                p("noefi", None)
            ]
        );
        assert_eq!(
            params("efi_fake_mem=\"4G@9G:0x1\" \"a b\" x=\"1 2\""),
            vec![
                p("efi_fake_mem", Some("4G@9G:0x1")),
                p("a b", None),
                p("x", Some("1 2"))
            ]
        );
        assert_eq!(
            params("efi=debug -- efi_fake_mem=4G@9G:1"),
            vec![p("efi", Some("debug"))]
        );
        assert_eq!(params("a=b=c"), vec![p("a", Some("b=c"))]);
        let long = format!("x={} efi=debug", "y".repeat(2100));
        let cut = params(&long);
        assert_eq!(
            (cut.len(), cut[0].1.as_ref().map(String::len)),
            (1, Some(2047 - 2))
        );
        assert!(parameq("efi-fake-mem", "efi_fake_mem"));
        assert!(!parameq("efi_fake_me", "efi_fake_mem"));
    }

    #[test]
    fn strtoull_quirks_of_the_efi_fake_mem_parser() {
        assert_eq!(s("0x1e"), (30, 4), "e is a hex digit");
        assert_eq!(s("08"), (0, 1), "octal 0, stops at 8");
        assert_eq!(
            s("0xg"),
            (0, 1),
            "no hex digit after 0x: octal 0, stops at x"
        );
        assert_eq!(s("0X40000"), (0x40000, 7));
        assert_eq!(s("017"), (15, 3));
        assert_eq!(s("123abc"), (123, 3));
        assert_eq!(s(""), (0, 0));
        assert_eq!(s("-1"), (0, 0), "no sign");
        assert_eq!(s(" 1"), (0, 0), "no whitespace");
        // 2^64 + 5 wraps to 5.
        assert_eq!(s("18446744073709551621"), (5, 20));
    }

    #[test]
    fn memparse_suffixes() {
        assert_eq!(m("1e"), (1 << 60, 2), "decimal 1 then suffix E");
        assert_eq!(m("4G"), (4 << 30, 2));
        assert_eq!(m("9g@"), (9 << 30, 2));
        assert_eq!(m("200M"), (200 << 20, 4));
        assert_eq!(m("1k"), (1024, 2));
        assert_eq!(m("2T"), (2 << 40, 2));
        assert_eq!(m("3P"), (3 << 50, 2));
        assert_eq!(m("0x1e"), (30, 4), "hex e is a digit, not a suffix");
        assert_eq!(m("16E"), (0, 3), "16 << 60 overflows to 0");
        assert_eq!(m("K"), (0, 1), "suffix without digits is consumed");
        assert_eq!(m("4GB"), (4 << 30, 2), "one suffix only");
        assert_eq!(m("@"), (0, 0));
    }

    fn tags(keys_tags: &[(u64, u32)], v: SortVariant) -> Vec<u32> {
        let mut x = keys_tags.to_vec();
        kernel_sort(&mut x, v, |a, b| a.0.cmp(&b.0));
        x.into_iter().map(|p| p.1).collect()
    }

    #[test]
    fn equal_keys_follow_the_bottom_up_heapsort() {
        // Spec 4.1: checked against the real code (v5.5 .. v6.8).
        let eight: Vec<(u64, u32)> = [1, 2, 4, 8, 0x10, 0x1000, 0x2000, 0x4000]
            .iter()
            .map(|&t| (0, t))
            .collect();
        assert_eq!(
            tags(&eight, SortVariant::BottomUp),
            vec![2, 4, 8, 0x10, 0x1000, 0x2000, 0x4000, 1]
        );
        // v6.9/v6.10 (Kuan-Wei Chiu's two patches).
        assert_eq!(
            tags(&eight, SortVariant::DoublePop),
            vec![2, 8, 0x10, 0x1000, 0x2000, 0x4000, 4, 1]
        );
    }

    #[test]
    fn small_and_mixed_vectors() {
        use SortVariant::*;
        let eq = |k: u32| (1..=k).map(|t| (0u64, t)).collect::<Vec<_>>();
        assert_eq!(tags(&eq(1), BottomUp), vec![1]);
        assert_eq!(tags(&eq(2), BottomUp), vec![2, 1]);
        assert_eq!(tags(&eq(3), BottomUp), vec![2, 3, 1]);
        assert_eq!(tags(&eq(4), BottomUp), vec![2, 3, 4, 1]);
        assert_eq!(tags(&eq(4), DoublePop), vec![2, 4, 3, 1]);
        assert_eq!(tags(&eq(5), DoublePop), vec![2, 4, 5, 3, 1]);
        let mixed = [(1, 1), (0, 2), (1, 3), (0, 4)];
        assert_eq!(tags(&mixed, BottomUp), vec![2, 4, 3, 1]);
        assert_eq!(tags(&mixed, DoublePop), vec![2, 4, 3, 1]);
        let five = [(5, 1), (5, 2), (3, 3), (5, 4), (3, 5)];
        assert_eq!(tags(&five, BottomUp), vec![5, 3, 4, 2, 1]);
        let g = 1u64 << 30;
        let fm = [(8 * g, 1), (4 * g, 2), (4 * g, 4), (8 * g, 8)];
        assert_eq!(tags(&fm, BottomUp), vec![2, 4, 8, 1]);
        assert_eq!(tags(&fm, DoublePop), vec![4, 2, 8, 1]);
    }

    #[test]
    fn sorts_any_input() {
        // A fixed pseudo-random sequence: every output is ascending and a permutation.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for len in 0..40usize {
            for variant in [SortVariant::BottomUp, SortVariant::DoublePop] {
                let mut v: Vec<(u64, usize)> = (0..len)
                    .map(|i| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        (x % 4, i)
                    })
                    .collect();
                let mut want = v.clone();
                want.sort();
                kernel_sort(&mut v, variant, |a, b| a.0.cmp(&b.0));
                assert!(v.windows(2).all(|w| w[0].0 <= w[1].0));
                v.sort();
                assert_eq!(v, want);
            }
        }
    }
}
