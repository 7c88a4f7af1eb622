//! The SVG picture of `efimap run --svg`, rendered to a PNG with resvg and
//! read back pixel by pixel. Every expected value comes from the corpus
//! file and the layout documented in `core/src/cases/svg.rs`: band `i` spans
//! `MARGIN + i * (BAND + GAP)` .. `+ BAND`, stretch `j` spans
//! `left + j * COLUMN` .. `+ COLUMN`, with `left = MARGIN + LABEL_CHAR *
//! (longest band label) + LABEL_PAD`.

use efimap_core::cases::scenario::Scenario;
use efimap_core::cases::svg::{
    scenario_svg, AXIS_CHAR, AXIS_PAD, BAND, COLUMN, GAP, LABEL_CHAR, LABEL_PAD, LEGEND_ROW,
    MARGIN, STRIPE,
};
use resvg::tiny_skia::Pixmap;
use std::path::Path;

fn load(name: &str) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../corpus")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    Scenario::parse(&text).unwrap_or_else(|e| panic!("{}:{e}", path.display()))
}

/// The scenario's SVG rendered at one pixel per unit, as PNG bytes (kept
/// under target/ to look at), decoded again.
fn render(sc: &Scenario, name: &str) -> Pixmap {
    let svg = scenario_svg(sc);
    let tree = resvg::usvg::Tree::from_str(&svg, &resvg::usvg::Options::default()).unwrap();
    let size = tree.size().to_int_size();
    let mut pixmap = Pixmap::new(size.width(), size.height()).unwrap();
    resvg::render(
        &tree,
        resvg::tiny_skia::Transform::identity(),
        &mut pixmap.as_mut(),
    );
    let png = pixmap.encode_png().unwrap();
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/svg-test");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join(format!("{name}.png")), &png).unwrap();
    Pixmap::decode_png(&png).unwrap()
}

fn rgb(p: &Pixmap, x: usize, y: usize) -> (u8, u8, u8) {
    let c = p.pixel(x as u32, y as u32).unwrap().demultiply();
    assert_eq!(c.alpha(), 255, "opaque at ({x}, {y})");
    (c.red(), c.green(), c.blue())
}

const BOOT: (u8, u8, u8) = (0x4a, 0x90, 0xd9);
const CONVENTIONAL: (u8, u8, u8) = (0x56, 0xb8, 0x70);
const RESERVED: (u8, u8, u8) = (0x9e, 0x9e, 0x9e);
const WHITE: (u8, u8, u8) = (0xff, 0xff, 0xff);
const BLACK: (u8, u8, u8) = (0, 0, 0);
const RED: (u8, u8, u8) = (0xff, 0, 0);

/// Longest band label of these files: "firmware" and "expected", 8.
const LEFT: usize = MARGIN + LABEL_CHAR * 8 + LABEL_PAD;

fn band_top(i: usize) -> usize {
    MARGIN + i * (BAND + GAP)
}

fn column_middle(j: usize) -> usize {
    LEFT + j * COLUMN + COLUMN / 2
}

/// Dave Young's case: BootServicesData [0xbea00000, 0xbeb00000),
/// Conventional [0x100000000, 0x200000000), SP ranges [5G, 5G + 200M) =
/// [0x140000000, 0x14c800000) and [5600M, 5600M + 300M) = [0x15e000000,
/// 0x170c00000): 8 boundaries, 7 stretches. Bands: firmware, expected (the
/// case is in the oracle's domain) and its 8 eras, 10.
#[test]
fn dave_young_renders_types_and_added_attributes() {
    let sc = load("dave-young-two-inside-ranges.scn");
    let p = render(&sc, "dave-young-two-inside-ranges");
    let bands = 10;
    let stretches = 7;
    // The longest boundary label, 0x100000000 and the others, 11 characters.
    let axis = AXIS_PAD + AXIS_CHAR * 11;
    // The legend: BootServices, Conventional, attributes added, overlap, nothing.
    let legend = 5 * LEGEND_ROW;
    let width = LEFT + stretches * COLUMN + MARGIN;
    let height = MARGIN + bands * (BAND + GAP) + axis + legend + MARGIN;
    assert_eq!((p.width() as usize, p.height() as usize), (width, height));
    assert_eq!((width, height), (432, 539));

    let lower = |i: usize| band_top(i) + BAND - 4;
    // firmware: b . c c c c c
    assert_eq!(rgb(&p, column_middle(0), lower(0)), BOOT);
    assert_eq!(rgb(&p, column_middle(1), lower(0)), WHITE);
    for j in 2..7 {
        assert_eq!(rgb(&p, column_middle(j), lower(0)), CONVENTIONAL, "{j}");
        assert_eq!(rgb(&p, column_middle(j), band_top(0) + 1), CONVENTIONAL);
    }
    // expected: b . c C c C c: the stripe on stretches 3 and 5 only.
    let stripe = |i: usize| band_top(i) + STRIPE / 2;
    for (j, want) in [(2, CONVENTIONAL), (3, BLACK), (4, CONVENTIONAL), (5, BLACK)] {
        assert_eq!(rgb(&p, column_middle(j), stripe(1)), want, "{j}");
        assert_eq!(rgb(&p, column_middle(j), lower(1)), CONVENTIONAL, "{j}");
    }
    // v5.4 (band 2): b . c c c C c, the first range's SP lost.
    assert_eq!(rgb(&p, column_middle(3), stripe(2)), CONVENTIONAL);
    assert_eq!(rgb(&p, column_middle(5), stripe(2)), BLACK);
    // v5.6 (band 4) as expected.
    assert_eq!(rgb(&p, column_middle(3), stripe(4)), BLACK);
    // Right of the last column and between bands: the page.
    assert_eq!(rgb(&p, width - 2, lower(0)), WHITE);
    assert_eq!(rgb(&p, column_middle(0), band_top(1) - GAP / 2), WHITE);
}

/// Dan Williams' case: v5.4 and v5.5 install `r**b.ccCc` (a zeroed
/// Reserved entry from 0, two BootServicesData descriptors overlapping on
/// stretches 1 and 2); bands firmware, expected, v5.4, v5.5, ...
#[test]
fn dan_williams_overlap_is_red() {
    let sc = load("dan-williams-two-contiguous-sp.scn");
    let p = render(&sc, "dan-williams-two-contiguous-sp");
    // 10 boundaries from 0x0 to 0x480000000: 9 stretches.
    assert_eq!(p.width() as usize, LEFT + 9 * COLUMN + MARGIN);
    let middle = |i: usize| band_top(i) + BAND / 2;
    for band in [2, 3] {
        assert_eq!(rgb(&p, column_middle(0), middle(band)), RESERVED);
        assert_eq!(rgb(&p, column_middle(1), middle(band)), RED);
        assert_eq!(rgb(&p, column_middle(2), middle(band)), RED);
        assert_eq!(rgb(&p, column_middle(3), middle(band)), BOOT);
        assert_eq!(rgb(&p, column_middle(4), middle(band)), WHITE);
    }
    // firmware (band 0): . b b b . c c c c, no overlap.
    assert_eq!(rgb(&p, column_middle(0), middle(0)), WHITE);
    assert_eq!(rgb(&p, column_middle(1), middle(0)), BOOT);
    assert_eq!(rgb(&p, column_middle(2), middle(0)), BOOT);
    // v5.6 (band 4): . b B b . c C C c.
    assert_eq!(rgb(&p, column_middle(2), middle(4)), BOOT);
    assert_eq!(rgb(&p, column_middle(2), band_top(4) + 1), BLACK);
}
