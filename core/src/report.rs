//! Plain-text rendering of an [`Outcome`]: the installed map in the era's
//! dmesg format, then what the boot printed, the memory faults, the leaks
//! and the e820 requests. Stable: the same outcome renders the same text.

use crate::boot::{AllocInfo, Outcome};
use crate::kernel::Level;
use crate::mem::{Access, AllocKind, Fault, FaultKind};
use crate::print::memmap_lines;
use std::fmt::Write;

fn alloc_name(a: &AllocInfo) -> String {
    let kind = match a.kind {
        AllocKind::Firmware => "firmware".to_string(),
        AllocKind::Memblock => "memblock".to_string(),
        AllocKind::Pages { order } => format!("pages order {order}"),
    };
    format!(
        "#{} ({kind}, {} bytes at {:#x}, for {})",
        a.id, a.size, a.phys, a.by
    )
}

/// One line for a fault.
pub fn fault_line(o: &Outcome, f: &Fault) -> String {
    let what = match f.access {
        Access::Read => "read",
        Access::Write => "write",
    };
    let alloc = o
        .allocations
        .get(f.alloc)
        .map_or_else(|| "no allocation".to_string(), alloc_name);
    let kind = match f.kind {
        FaultKind::OutOfBounds { page_fault } => {
            let size = o.allocations.get(f.alloc).map_or(0, |a| a.size);
            let past = f.offset + f.len - size;
            let pf = if page_fault {
                "beyond the mapped pages: page fault"
            } else {
                "inside the mapped pages: silent corruption"
            };
            format!("{what} past the end, up to {past} bytes past it, {pf}")
        }
        FaultKind::UseAfterFree => format!("{what} after free"),
        FaultKind::DoubleFree => "double free".to_string(),
        FaultKind::BadFree => "free with a wrong address or size".to_string(),
    };
    format!(
        "{} {kind}: bytes {}..{} of {alloc}, {} access{}",
        f.by,
        f.offset,
        f.offset + f.len,
        f.accesses,
        if f.accesses == 1 { "" } else { "es" }
    )
}

/// The whole outcome as text.
pub fn render(o: &Outcome) -> String {
    let mut s = String::new();
    let m = &o.memmap;
    let _ = writeln!(
        s,
        "installed map: nr_map {}, desc_size {}, phys_map {:#x}, flags {:#x}",
        m.nr_map, m.desc_size, m.phys_map, m.flags
    );
    for line in memmap_lines(&o.map, o.era.features().printer) {
        let _ = writeln!(s, "  {line}");
    }
    let _ = writeln!(s, "printed:");
    for e in &o.events {
        let level = match e.level {
            Level::Warning => "WARN",
            Level::Err => "err",
            Level::Warn => "warn",
            Level::Notice => "notice",
            Level::Info => "info",
            Level::Debug => "debug",
        };
        let _ = writeln!(s, "  {level:<6} {:<24} {}", e.func, e.text);
    }
    let _ = writeln!(
        s,
        "faults:{}",
        if o.faults.is_empty() { " none" } else { "" }
    );
    for f in &o.faults {
        let _ = writeln!(s, "  {}", fault_line(o, f));
    }
    let _ = writeln!(s, "leaks:{}", if o.leaks.is_empty() { " none" } else { "" });
    for &id in &o.leaks {
        let _ = writeln!(s, "  {}", alloc_name(&o.allocations[id]));
    }
    s
}
