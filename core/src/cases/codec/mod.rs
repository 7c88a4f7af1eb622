//! The fuzz encoding of a [`Scenario`]: every byte string decodes to a
//! valid scenario, and [`encode`] turns any scenario into bytes that decode
//! back to it exactly. A fuzz artifact becomes a readable file this way, a
//! corpus file a fuzz seed, and the searches' random scenarios are random
//! bytes decoded ([`random_scenario`]).
//!
//! The decoder is the grammar of what a boot reads, each choice one
//! weighted pick ([`Choice`]) in which every value the kernel code treats
//! differently is common: the later step (none, `virtual-mode`, `kexec`)
//! first; the fill; `desc_size` from 40 to 4096, odd ones and 4096
//! included; the firmware map, either descriptor by descriptor (packed,
//! around 1 MiB, overlapping, out of order, near 2^64, empty, misaligned,
//! without pages, huge, duplicated; every type from 0 to 15, unknown, OEM
//! and OS types; each attribute bit alone and the sets the kernel tests)
//! or a firmware-like map of 8 to 90 descriptors made from a 32-bit seed
//! (past `early_memremap`'s 64 pages with a large `desc_size`); the command
//! line ([`cmdline`]: every `efi=` option, several in one word, repeated
//! words, `noefi`, `efi_fake_mem=` with 0 to 9 ranges or malformed, dashes
//! and quotes, `memmap=`, `add_efi_memmap`, `--`); reservations shaped as
//! their callers make them ([`inputs`]: the BGRT image, the ESRT, the
//! MOKvar table, empty, spanning, at an edge, outside the map); then
//! `memblock`, `bgrt`, `e820`, `setup_data` and `kexec_file`; then the
//! header and the eras.
//!
//! Each choice has a raw form that holds any value; [`encode`] always uses
//! the raw forms, which is what makes it exact. Bytes past the end read as
//! zeros, and a zero byte picks each choice's first option, so a short
//! input is a small, ordinary boot. The first encoding is [`v1`].

use crate::cases::scenario::{Scenario, MAX_HEADER, MAX_HEADER_LINE};
use crate::model::boot::LaterStep;
use crate::model::desc::{DEFAULT_DESC_SIZE, DESC_LEN};
use crate::model::era::Era;
use crate::model::mem::Fill;
use rand::Rng;

pub mod cmdline;
pub mod inputs;
pub mod map;
pub mod v1;

/// A weighted choice among `N` options: option `i` is picked by
/// `weights[i]` of the 256 values of a byte. Every weight is at least 1,
/// so every option can be encoded; they sum to 256 (checked when the
/// table is built, at compile time).
#[derive(Clone, Copy, Debug)]
pub struct Choice<const N: usize>(pub [u16; N]);

impl<const N: usize> Choice<N> {
    /// The table, checked.
    pub const fn new(weights: [u16; N]) -> Self {
        let (mut sum, mut i) = (0u16, 0);
        while i < N {
            assert!(weights[i] > 0, "every option needs a weight");
            sum += weights[i];
            i += 1;
        }
        assert!(sum == 256, "a choice's weights sum to 256");
        Choice(weights)
    }

    /// The option byte `b` picks.
    pub fn index(&self, b: u8) -> usize {
        let mut at = u16::from(b);
        for (i, &w) in self.0.iter().enumerate() {
            if at < w {
                return i;
            }
            at -= w;
        }
        N - 1
    }

    /// The first byte that picks option `i`.
    pub fn first_byte(&self, i: usize) -> u8 {
        self.0[..i].iter().sum::<u16>() as u8
    }

    /// Option `i`'s share of the bytes.
    pub fn share(&self, i: usize) -> f64 {
        f64::from(self.0[i]) / 256.0
    }
}

/// The bytes being decoded; past the end every read is zero.
pub struct Reader<'a> {
    b: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(b: &'a [u8]) -> Self {
        Reader { b }
    }
    pub fn u8(&mut self) -> u8 {
        match self.b.split_first() {
            Some((&x, rest)) => {
                self.b = rest;
                x
            }
            None => 0,
        }
    }
    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }
    pub fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }
    pub fn u64(&mut self) -> u64 {
        u64::from(self.u32()) | u64::from(self.u32()) << 32
    }
    /// One weighted choice.
    pub fn pick<const N: usize>(&mut self, c: &Choice<N>) -> usize {
        c.index(self.u8())
    }
    /// How many bytes are left.
    pub fn left(&self) -> usize {
        self.b.len()
    }
}

/// The bytes being encoded.
#[derive(Default)]
pub struct Writer {
    pub b: Vec<u8>,
}

impl Writer {
    pub fn u8(&mut self, x: u8) {
        self.b.push(x);
    }
    pub fn u16(&mut self, x: u16) {
        self.b.extend_from_slice(&x.to_le_bytes());
    }
    pub fn u32(&mut self, x: u32) {
        self.b.extend_from_slice(&x.to_le_bytes());
    }
    pub fn u64(&mut self, x: u64) {
        self.b.extend_from_slice(&x.to_le_bytes());
    }
    /// The byte that picks option `i` of `c`.
    pub fn pick<const N: usize>(&mut self, c: &Choice<N>, i: usize) {
        self.u8(c.first_byte(i));
    }
}

/// The later step: none, a first boot's virtual mode, a kexec'd boot's
/// remap. Virtual mode is as common as a boot that stops early.
pub const LATER: Choice<3> = Choice::new([104, 104, 48]);
/// The fill: stale, zero, a byte.
pub const FILL: Choice<3> = Choice::new([128, 96, 32]);
/// `desc_size`: 48, 40, 56, 64, 41..=63, a multiple of 8 from 72 to 512,
/// 4096, or any from 40 to 4096 (the raw form).
pub const DESC_SIZE: Choice<8> = Choice::new([96, 24, 16, 16, 24, 24, 28, 28]);
const DESC_SIZE_RAW: usize = 7;

fn desc_size(r: &mut Reader) -> u64 {
    match r.pick(&DESC_SIZE) {
        0 => DEFAULT_DESC_SIZE,
        1 => 40,
        2 => 56,
        3 => 64,
        4 => 41 + u64::from(r.u8()) % 23,
        5 => 72 + 8 * (u64::from(r.u8()) % 56),
        6 => 4096,
        _ => DESC_LEN as u64 + u64::from(r.u16()) % 4057,
    }
}

/// Decodes any bytes into a scenario.
pub fn decode(bytes: &[u8]) -> Scenario {
    let mut r = Reader::new(bytes);
    let mut sc = Scenario::default();
    let input = &mut sc.input;
    input.later = match r.pick(&LATER) {
        0 => vec![],
        1 => vec![LaterStep::VirtualMode],
        _ => vec![LaterStep::KexecInitLate],
    };
    input.fill = match r.pick(&FILL) {
        0 => Fill::Stale,
        1 => Fill::Zero,
        _ => Fill::Pattern(r.u8()),
    };
    input.desc_size = desc_size(&mut r);
    input.map = map::decode(&mut r);
    input.cmdline = cmdline::decode(&mut r, &input.map);
    input.reservations = inputs::reservations(&mut r, &input.map);
    inputs::extras(&mut r, input);

    let lines = usize::from(r.u8()).min(MAX_HEADER);
    for _ in 0..lines {
        if r.left() == 0 {
            break;
        }
        let len = usize::from(r.u16()).min(r.left()).min(MAX_HEADER_LINE);
        let raw: Vec<u8> = (0..len).map(|_| r.u8()).collect();
        sc.header.push(header_text(&raw));
    }
    let mask = era_bits(&mut r);
    let eras: Vec<Era> = Era::known()
        .into_iter()
        .filter(|e| e.index() < 64 && mask & (1 << e.index()) != 0)
        .collect();
    if !eras.is_empty() {
        sc.eras = eras;
    }
    sc
}

/// A header line from raw bytes: printable ASCII and tabs, anything else
/// a `?`, at most [`MAX_HEADER_LINE`] bytes.
pub(crate) fn header_text(raw: &[u8]) -> String {
    let mut text = String::new();
    for c in String::from_utf8_lossy(raw).chars() {
        let c = if c == '\t' || (' '..='~').contains(&c) {
            c
        } else {
            '?'
        };
        if text.len() + c.len_utf8() > MAX_HEADER_LINE {
            break;
        }
        text.push(c);
    }
    text
}

/// The era mask, 7 bits a byte, a set high bit saying another follows.
fn era_bits(r: &mut Reader) -> u64 {
    let mut bits = 0u64;
    for shift in (0..64).step_by(7) {
        let b = r.u8();
        bits |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            break;
        }
    }
    bits
}

/// Encodes a scenario so that [`decode`] gives it back. The scenario must
/// be valid (as [`Scenario::parse`] or [`decode`] make them): sorted eras,
/// a desc_size from 40 to 4096, a command line of printable ASCII words,
/// bounded lists.
pub fn encode(sc: &Scenario) -> Vec<u8> {
    let mut w = Writer::default();
    let input = &sc.input;
    w.pick(
        &LATER,
        match input.later.first() {
            None => 0,
            Some(LaterStep::VirtualMode) => 1,
            Some(LaterStep::KexecInitLate) => 2,
        },
    );
    match input.fill {
        Fill::Stale => w.pick(&FILL, 0),
        Fill::Zero => w.pick(&FILL, 1),
        Fill::Pattern(b) => {
            w.pick(&FILL, 2);
            w.u8(b);
        }
    }
    w.pick(&DESC_SIZE, DESC_SIZE_RAW);
    w.u16((input.desc_size - DESC_LEN as u64) as u16);
    map::encode(&mut w, &input.map);
    cmdline::encode(&mut w, &input.cmdline);
    inputs::encode_reservations(&mut w, &input.reservations);
    inputs::encode_extras(&mut w, input);
    w.u8(sc.header.len() as u8);
    for h in &sc.header {
        w.u16(h.len() as u16);
        for b in h.bytes() {
            w.u8(b);
        }
    }
    let mask = sc
        .eras
        .iter()
        .filter(|e| e.index() < 64)
        .fold(0u64, |m, e| m | 1 << e.index());
    let mut rest = mask;
    loop {
        let b = (rest & 0x7f) as u8;
        rest >>= 7;
        w.u8(b | if rest != 0 { 0x80 } else { 0 });
        if rest == 0 {
            break;
        }
    }
    w.b
}

/// The longest random input the searches draw: enough for a map of a few
/// dozen descriptors, a command line and the other inputs.
pub const RANDOM_LEN: usize = 256;

/// A random scenario as the searches draw one: random bytes, 0 to
/// [`RANDOM_LEN`] of them, left in `bytes`, decoded.
pub fn random_scenario(rng: &mut impl Rng, bytes: &mut Vec<u8>) -> Scenario {
    bytes.clear();
    let len = rng.gen_range(0..=RANDOM_LEN);
    bytes.extend((0..len).map(|_| rng.gen::<u8>()));
    decode(bytes)
}

impl<'a> arbitrary::Arbitrary<'a> for Scenario {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        let n = u.len();
        Ok(decode(u.bytes(n)?))
    }

    fn arbitrary_take_rest(u: arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(decode(u.take_rest()))
    }

    fn size_hint(_depth: usize) -> (usize, Option<usize>) {
        (0, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_bytes_are_an_empty_scenario() {
        let sc = decode(&[]);
        assert_eq!(sc, Scenario::default());
        assert_eq!(decode(&encode(&sc)), sc);
    }

    #[test]
    fn a_choice_picks_by_weight_and_encodes_each_option() {
        let c = Choice::new([1, 254, 1]);
        assert_eq!(
            (c.index(0), c.index(1), c.index(254), c.index(255)),
            (0, 1, 1, 2)
        );
        for i in 0..3 {
            assert_eq!(c.index(c.first_byte(i)), i);
        }
    }

    #[test]
    fn long_header_lines_round_trip_and_others_become_ascii() {
        let sc = Scenario {
            header: vec!["a".repeat(5000), "x—\t".repeat(1000)],
            ..Scenario::default()
        };
        let back = decode(&encode(&sc));
        assert_eq!(back.header[0], sc.header[0]);
        // U+2014 is one character outside printable ASCII: one `?`.
        assert_eq!(back.header[1], "x?\t".repeat(1000));
        assert_eq!(Scenario::parse(&back.to_text()), Ok(back));
    }

    /// The first bytes choose the later step, the fill and desc_size: a
    /// zero byte each time is no later step, stale memory, 48.
    #[test]
    fn the_head_of_the_bytes_is_the_boot_shape() {
        let sc = decode(&[
            LATER.first_byte(1),
            FILL.first_byte(1),
            DESC_SIZE.first_byte(6),
        ]);
        assert_eq!(sc.input.later, vec![LaterStep::VirtualMode]);
        assert_eq!(sc.input.fill, Fill::Zero);
        assert_eq!(sc.input.desc_size, 4096);
        let sc = decode(&[0, 0, 0]);
        assert_eq!(
            (sc.input.later.len(), sc.input.fill, sc.input.desc_size),
            (0, Fill::Stale, 48)
        );
    }
}
