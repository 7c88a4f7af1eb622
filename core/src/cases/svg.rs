//! The picture of [`report::picture`](crate::cases::report::picture) as an
//! SVG image: one horizontal band per map (the firmware's, the expected
//! one where the oracle can judge the case, each era's installed map), one
//! column per stretch between distinct boundaries (not proportional to
//! size, so a page and a terabyte are both visible), coloured by memory
//! type, a black stripe along the top where a stretch carries attribute
//! bits the firmware's map did not give it, red where more than one
//! installed descriptor covers it; every boundary labelled with its
//! address, and a legend. Pure string building; the same maps give the
//! same text.
//!
//! The layout, in pixels (the constants below): the bands start at
//! `MARGIN` from the top, each `BAND` high and `GAP` apart; the columns
//! start at `MARGIN + LABEL_CHAR * longest band label + LABEL_PAD` from
//! the left, each `COLUMN` wide. Under the bands, after their last `GAP`,
//! the boundary labels run downwards, `AXIS_PAD + AXIS_CHAR * longest
//! boundary label` high; then the legend, `LEGEND_ROW` per entry, and a
//! `MARGIN`. The image is as wide as the columns plus a `MARGIN`, or the
//! legend's `LEGEND_WIDTH` plus two margins if that is more.

use crate::cases::report::{type_letter, Cell, Grid, Maps};
use crate::cases::scenario::Scenario;
use std::fmt::Write;

/// Space around the drawing.
pub const MARGIN: usize = 10;
/// Width of one stretch.
pub const COLUMN: usize = 48;
/// Height of one band.
pub const BAND: usize = 28;
/// Space between bands (and after the last).
pub const GAP: usize = 6;
/// Height of the attributes-added stripe at the top of a cell.
pub const STRIPE: usize = 6;
/// Width given to each character of a band's label.
pub const LABEL_CHAR: usize = 8;
/// Space between the labels and the first column.
pub const LABEL_PAD: usize = 12;
/// Height given to each character of a boundary label.
pub const AXIS_CHAR: usize = 7;
/// Space above and below the boundary labels.
pub const AXIS_PAD: usize = 12;
/// Height of one legend entry.
pub const LEGEND_ROW: usize = 18;
/// The least width the legend needs.
pub const LEGEND_WIDTH: usize = 260;

/// Where more than one descriptor covers a stretch.
pub const OVERLAP: &str = "#ff0000";
/// The attributes-added stripe.
pub const ADDED: &str = "#000000";
/// The page and the inside of a band where nothing is.
pub const NOTHING: &str = "#ffffff";

/// Each type class of the text picture (its letter), its colour and its
/// name in the legend, in the legend's order.
pub const TYPES: [(char, &str, &str); 11] = [
    ('r', "#9e9e9e", "Reserved"),
    ('l', "#8e6cc9", "Loader code/data"),
    ('b', "#4a90d9", "Boot services code/data"),
    ('u', "#e69f00", "Runtime services code/data"),
    ('c', "#56b870", "Conventional"),
    ('x', "#6d4c41", "Unusable"),
    ('a', "#f0d43a", "ACPI reclaim/NVS"),
    ('m', "#26a6a6", "MMIO, MMIO port space"),
    ('p', "#d97bb4", "PAL code"),
    ('n', "#3b4cc0", "Persistent"),
    ('?', "#c8c8c8", "Other types"),
];

/// The colour and legend name of memory type `ty`.
pub fn type_colour(ty: u32) -> (&'static str, &'static str) {
    let l = type_letter(ty);
    let (_, colour, name) = TYPES
        .iter()
        .find(|(c, _, _)| *c == l)
        .copied()
        .unwrap_or(TYPES[TYPES.len() - 1]);
    (colour, name)
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

fn boundary(c: u128) -> String {
    format!("{c:#x}")
}

/// The SVG of a scenario: its run in each era ([`scenario_run_maps`]),
/// drawn.
///
/// [`scenario_run_maps`]: crate::cases::report::scenario_run_maps
pub fn scenario_svg(sc: &Scenario) -> String {
    maps_svg(&crate::cases::report::scenario_run_maps(sc).2)
}

/// The SVG of `maps`: [`grid_svg`] of their [`Maps::grid`].
pub fn maps_svg(maps: &Maps) -> String {
    grid_svg(&maps.grid())
}

/// The SVG of a grid, one element a line.
pub fn grid_svg(g: &Grid) -> String {
    let n = g.rows.len();
    let stretches = g.stretches();
    let longest_label = g.rows.iter().map(|(l, _)| l.chars().count()).max();
    let left = MARGIN + LABEL_CHAR * longest_label.unwrap_or(0) + LABEL_PAD;
    let right = left + stretches * COLUMN;
    let axis_y = MARGIN + n * (BAND + GAP);
    let longest_cut = g.cuts.iter().map(|&c| boundary(c).len()).max();
    let axis = AXIS_PAD + AXIS_CHAR * longest_cut.unwrap_or(0);
    let legend_y = axis_y + axis;
    let mut legend: Vec<(&str, &str, &str)> = TYPES
        .iter()
        .filter(|(l, _, _)| {
            g.rows.iter().any(|(_, cells)| {
                cells
                    .iter()
                    .any(|c| matches!(*c, Cell::One { ty, .. } if type_letter(ty) == *l))
            })
        })
        .map(|&(_, colour, name)| ("type", colour, name))
        .collect();
    legend.push(("added", ADDED, "attributes added (top stripe)"));
    legend.push(("overlap", OVERLAP, "descriptors overlap"));
    legend.push(("nothing", NOTHING, "no descriptor"));
    let width = (right + MARGIN).max(LEGEND_WIDTH + 2 * MARGIN);
    let height = legend_y + legend.len() * LEGEND_ROW + MARGIN;

    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="monospace" font-size="12">"#
    );
    let _ = writeln!(
        s,
        "<title>EFI memory maps, one column per stretch between boundaries</title>"
    );
    let _ = writeln!(
        s,
        r#"<rect class="page" x="0" y="0" width="{width}" height="{height}" fill="{NOTHING}"/>"#
    );
    for (i, (label, cells)) in g.rows.iter().enumerate() {
        let y = MARGIN + i * (BAND + GAP);
        let label = escape(label);
        let _ = writeln!(s, r#"<g class="band" data-label="{label}">"#);
        let _ = writeln!(
            s,
            r#"<text class="label" x="{MARGIN}" y="{}" dominant-baseline="middle">{label}</text>"#,
            y + BAND / 2
        );
        let _ = writeln!(
            s,
            r##"<rect class="frame" x="{left}" y="{y}" width="{}" height="{BAND}" fill="{NOTHING}" stroke="#bbbbbb"/>"##,
            stretches * COLUMN
        );
        for (j, cell) in cells.iter().enumerate() {
            let x = left + j * COLUMN;
            let range = format!("[{}-{})", boundary(g.cuts[j]), boundary(g.cuts[j + 1]));
            match *cell {
                Cell::Empty => {}
                Cell::One { ty, added } => {
                    let (colour, name) = type_colour(ty);
                    let how = if added { ", attributes added" } else { "" };
                    let _ = writeln!(
                        s,
                        r#"<rect class="cell" data-stretch="{j}" x="{x}" y="{y}" width="{COLUMN}" height="{BAND}" fill="{colour}"><title>{label} {range}: {name} (type {ty}){how}</title></rect>"#
                    );
                    if added {
                        let _ = writeln!(
                            s,
                            r#"<rect class="added" data-stretch="{j}" x="{x}" y="{y}" width="{COLUMN}" height="{STRIPE}" fill="{ADDED}"/>"#
                        );
                    }
                }
                Cell::Overlap => {
                    let _ = writeln!(
                        s,
                        r#"<rect class="overlap" data-stretch="{j}" x="{x}" y="{y}" width="{COLUMN}" height="{BAND}" fill="{OVERLAP}"><title>{label} {range}: descriptors overlap</title></rect>"#
                    );
                }
            }
        }
        let _ = writeln!(s, "</g>");
    }
    for (j, &c) in g.cuts.iter().enumerate() {
        let x = left + j * COLUMN;
        let _ = writeln!(
            s,
            r##"<line class="cut" x1="{x}" y1="{MARGIN}" x2="{x}" y2="{}" stroke="#444444" stroke-width="1" stroke-dasharray="2,2"/>"##,
            axis_y
        );
        let ty = axis_y + AXIS_PAD / 2;
        let _ = writeln!(
            s,
            r#"<text class="boundary" x="{}" y="{ty}" transform="rotate(90 {} {ty})" font-size="11">{}</text>"#,
            x - 4,
            x - 4,
            boundary(c)
        );
    }
    for (k, (class, colour, name)) in legend.iter().enumerate() {
        let y = legend_y + k * LEGEND_ROW;
        let _ = writeln!(
            s,
            r##"<rect class="legend-{class}" x="{MARGIN}" y="{y}" width="12" height="12" fill="{colour}" stroke="#444444"/>"##
        );
        let _ = writeln!(
            s,
            r#"<text class="legend" x="{}" y="{}">{}</text>"#,
            MARGIN + 18,
            y + 10,
            escape(name)
        );
    }
    let _ = writeln!(s, "</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two descriptors and one efi_fake_mem range, in v6.10:
    /// BootServicesData [0x1000000, 0x1100000), Conventional [0x100000000,
    /// 0x200000000), SP on [5G, 6G) = [0x140000000, 0x180000000).
    const CASE: &str = "\
eras v6.10
fill zero
map
  BootServicesData 0x1000000 0x100 0xf
  Conventional 0x100000000 0x100000 0xf
cmdline efi_fake_mem=1G@5G:0x40000
";

    /// A drawn rect: class, stretch, x, fill.
    type Rect = (String, String, String, String);

    /// The value of attribute `name` on an element's line.
    fn attr<'a>(line: &'a str, name: &str) -> Option<&'a str> {
        let key = format!(" {name}=\"");
        let at = line.find(&key)? + key.len();
        Some(&line[at..at + line[at..].find('"')?])
    }

    /// The text of a `<text>` line.
    fn text(line: &str) -> &str {
        let at = line.find('>').unwrap() + 1;
        &line[at..line[at..].find('<').unwrap() + at]
    }

    #[test]
    fn small_case_structure() {
        let sc = Scenario::parse(CASE).unwrap();
        let svg = scenario_svg(&sc);
        let lines: Vec<&str> = svg.lines().collect();
        assert!(lines[0].starts_with("<svg "));
        assert_eq!(lines.last(), Some(&"</svg>"));

        // Longest band label "firmware"/"expected": 8; 6 boundaries, 5
        // stretches; longest boundary label "0x100000000": 11; the legend
        // BootServices, Conventional and the three marks.
        let left = 10 + 8 * 8 + 12;
        let width = left + 5 * 48 + 10;
        let height = 10 + 3 * (28 + 6) + (12 + 7 * 11) + 5 * 18 + 10;
        assert_eq!((width, height), (336, 301));
        assert_eq!(attr(lines[0], "width"), Some("336"));
        assert_eq!(attr(lines[0], "height"), Some("301"));

        // The bands, in order, each with its label and its rects: class,
        // stretch, x, fill.
        let mut bands: Vec<(String, Vec<Rect>)> = Vec::new();
        for l in &lines {
            if l.starts_with("<g class=\"band\"") {
                bands.push((attr(l, "data-label").unwrap().to_string(), Vec::new()));
            } else if l.starts_with("<text class=\"label\"") {
                assert_eq!(text(l), bands.last().unwrap().0);
            } else if l.starts_with("<rect class=\"cell\"")
                || l.starts_with("<rect class=\"added\"")
                || l.starts_with("<rect class=\"overlap\"")
            {
                let get = |n| attr(l, n).unwrap().to_string();
                let rect = (get("class"), get("data-stretch"), get("x"), get("fill"));
                bands.last_mut().unwrap().1.push(rect);
            }
        }
        let labels: Vec<&str> = bands.iter().map(|(l, _)| l.as_str()).collect();
        assert_eq!(labels, ["firmware", "expected", "v6.10"]);
        let boot = "#4a90d9";
        let conv = "#56b870";
        let r = |class: &str, j: usize, fill: &str| {
            let x = (left + j * 48).to_string();
            (class.to_string(), j.to_string(), x, fill.to_string())
        };
        // firmware: b . c c c
        assert_eq!(
            bands[0].1,
            [
                r("cell", 0, boot),
                r("cell", 2, conv),
                r("cell", 3, conv),
                r("cell", 4, conv)
            ]
        );
        // expected and v6.10: b . c C c
        let added = [
            r("cell", 0, boot),
            r("cell", 2, conv),
            r("cell", 3, conv),
            r("added", 3, "#000000"),
            r("cell", 4, conv),
        ];
        assert_eq!(bands[1].1, added);
        assert_eq!(bands[2].1, added);
        // Band i at y = 10 + 34 i.
        let ys: Vec<&str> = lines
            .iter()
            .filter(|l| l.starts_with("<rect class=\"frame\""))
            .map(|l| attr(l, "y").unwrap())
            .collect();
        assert_eq!(ys, ["10", "44", "78"]);

        let boundaries: Vec<&str> = lines
            .iter()
            .filter(|l| l.starts_with("<text class=\"boundary\""))
            .map(|l| text(l))
            .collect();
        assert_eq!(
            boundaries,
            [
                "0x1000000",
                "0x1100000",
                "0x100000000",
                "0x140000000",
                "0x180000000",
                "0x200000000"
            ]
        );
        let legend: Vec<&str> = lines
            .iter()
            .filter(|l| l.starts_with("<text class=\"legend\""))
            .map(|l| text(l))
            .collect();
        assert_eq!(
            legend,
            [
                "Boot services code/data",
                "Conventional",
                "attributes added (top stripe)",
                "descriptors overlap",
                "no descriptor"
            ]
        );
        let swatches: Vec<(&str, &str)> = lines
            .iter()
            .filter(|l| l.starts_with("<rect class=\"legend-"))
            .map(|l| (attr(l, "class").unwrap(), attr(l, "fill").unwrap()))
            .collect();
        assert_eq!(
            swatches,
            [
                ("legend-type", boot),
                ("legend-type", conv),
                ("legend-added", "#000000"),
                ("legend-overlap", "#ff0000"),
                ("legend-nothing", "#ffffff")
            ]
        );
    }

    #[test]
    fn overlap_is_red_and_labels_are_escaped() {
        use crate::model::desc::{ty, MemoryDesc};
        // Two Conventional descriptors over [0x1000, 0x3000) and [0x2000,
        // 0x4000): stretches [0x1000, 0x2000) c, [0x2000, 0x3000) overlap,
        // [0x3000, 0x4000) c.
        let a = MemoryDesc::new(ty::CONVENTIONAL_MEMORY, 0x1000, 2, 0xf);
        let b = MemoryDesc::new(ty::CONVENTIONAL_MEMORY, 0x2000, 2, 0xf);
        let maps = Maps {
            firmware: vec![a],
            expected: None,
            eras: vec![("a<b&c".into(), vec![a, b])],
        };
        let svg = maps_svg(&maps);
        let rects: Vec<(&str, &str)> = svg
            .lines()
            .filter(|l| {
                l.starts_with("<rect class=\"cell\"") || l.starts_with("<rect class=\"overlap\"")
            })
            .map(|l| (attr(l, "data-stretch").unwrap(), attr(l, "fill").unwrap()))
            .collect();
        // firmware (a alone): c c .  then the era: c * c
        assert_eq!(
            rects,
            [
                ("0", "#56b870"),
                ("1", "#56b870"),
                ("0", "#56b870"),
                ("1", "#ff0000"),
                ("2", "#56b870")
            ]
        );
        assert!(svg.contains(r#"<g class="band" data-label="a&lt;b&amp;c">"#));
        assert!(!svg.contains("a<b"));
    }
}
