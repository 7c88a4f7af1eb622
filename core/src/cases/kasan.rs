//! KASAN reports in a boot log (a kernel built with `CONFIG_KASAN`), read
//! as findings: each `BUG: KASAN: KIND in FUNC+OFF/LEN` line with its
//! access line (`Write of size N at addr A by task T`) and call trace,
//! given the signature the model would give it.
//!
//! The class comes from KASAN's kind and the access: an out-of-bounds
//! write (`slab-`, `global-`, `vmalloc-`, `stack-out-of-bounds`, ...) is
//! an overrun, an out-of-bounds read an overread, a use-after-free a
//! use-after-free, a double or invalid free a bad free. The function is
//! the reported one if the model names it, else the first frame of the
//! call trace that it names (a report in `memcpy` called from
//! `efi_memmap_insert` is charged to `efi_memmap_insert`, as the model's
//! faults are). A report the model has no class or function for keeps
//! its text and has no signature.

use crate::cases::boot_log::message;
use crate::judge::signature::{Class, Signature};
use crate::model::kernel::function_named;

/// A read or a write, as KASAN's access line names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

/// One KASAN report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KasanReport {
    /// 1-based line of its `BUG: KASAN:` line.
    pub line: usize,
    /// KASAN's kind: `slab-out-of-bounds`, `use-after-free`, ...
    pub kind: String,
    /// The function KASAN names, without its offset.
    pub function: String,
    /// `(access, size, address)` from the access line, if there is one.
    pub access: Option<(Access, u64, u64)>,
    /// The call trace's functions, innermost first, offsets dropped.
    pub trace: Vec<String>,
    pub signature: Option<Signature>,
}

/// `efi_memmap_insert+0x1a2/0x3c0 [mod]` as `efi_memmap_insert`.
fn symbol(frame: &str) -> &str {
    let frame = frame.trim().trim_start_matches("? ");
    frame.split(['+', ' ']).next().unwrap_or(frame)
}

/// `Write of size 8 at addr ffff888100a4f000 by task swapper/0/1`.
fn access(m: &str) -> Option<(Access, u64, u64)> {
    let (how, rest) = m.split_once(" of size ")?;
    let how = match how.trim() {
        "Read" => Access::Read,
        "Write" => Access::Write,
        _ => return None,
    };
    let (size, rest) = rest.split_once(" at addr ")?;
    let addr = rest.split_whitespace().next()?;
    Some((
        how,
        size.trim().parse().ok()?,
        u64::from_str_radix(addr.trim_start_matches("0x"), 16).ok()?,
    ))
}

/// The class KASAN's `kind` and access stand for, if the model has one.
fn class(kind: &str, access: Option<Access>) -> Option<Class> {
    if kind.ends_with("out-of-bounds") {
        return Some(match access {
            Some(Access::Read) => Class::Overread,
            _ => Class::Overrun,
        });
    }
    if kind.ends_with("use-after-free") {
        return Some(Class::UseAfterFree);
    }
    if kind == "double-free" || kind == "invalid-free" || kind.ends_with("double-free") {
        return Some(Class::BadFree);
    }
    None
}

/// Every KASAN report of `text`, in order.
pub fn reports(text: &str) -> Vec<KasanReport> {
    const BUG: &str = "BUG: KASAN: ";
    let lines: Vec<&str> = text.lines().map(message).collect();
    let mut out = Vec::new();
    for (i, m) in lines.iter().enumerate() {
        let Some(rest) = m.strip_prefix(BUG) else {
            continue;
        };
        let (kind, function) = match rest.split_once(" in ") {
            Some((k, f)) => (k.trim().to_string(), symbol(f).to_string()),
            None => (rest.trim().to_string(), String::new()),
        };
        // The report runs to the next `BUG:` line or its closing rule.
        let body: Vec<&str> = lines[i + 1..]
            .iter()
            .take_while(|l| !l.starts_with("BUG: ") && !l.starts_with("=================="))
            .copied()
            .collect();
        let access = body.iter().find_map(|l| access(l));
        let trace: Vec<String> = body
            .iter()
            .skip_while(|l| !l.starts_with("Call Trace:"))
            .skip(1)
            .take_while(|l| l.starts_with(' '))
            .map(|l| symbol(l))
            .filter(|f| !f.starts_with('<') && !f.is_empty())
            .map(str::to_string)
            .collect();
        let function_known = std::iter::once(&function)
            .chain(&trace)
            .find_map(|f| function_named(f));
        let signature = class(&kind, access.map(|a| a.0))
            .zip(function_known)
            .map(|(class, function)| Signature { class, function });
        out.push(KasanReport {
            line: i + 1,
            kind,
            function,
            access,
            trace,
            signature,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A report in KASAN's format (mm/kasan/report.c: the BUG line, the
    /// access line, the task's call trace).
    const REPORT: &str = "\
[    1.234567] ==================================================================
[    1.234568] BUG: KASAN: slab-out-of-bounds in memcpy+0x38/0x60
[    1.234569] Write of size 48 at addr ffff888003a1c0c0 by task swapper/0/1
[    1.234570]
[    1.234571] CPU: 0 PID: 1 Comm: swapper/0 Not tainted 6.12.0 #1
[    1.234572] Call Trace:
[    1.234573]  <TASK>
[    1.234574]  dump_stack_lvl+0x5d/0x80
[    1.234575]  print_report+0x174/0x505
[    1.234576]  kasan_report+0xc8/0x100
[    1.234577]  ? memcpy+0x38/0x60
[    1.234578]  efi_memmap_insert+0x2f1/0x5d0
[    1.234579]  efi_arch_mem_reserve+0x1c4/0x2a0
[    1.234580]  </TASK>
[    1.234581]
[    1.234582] Allocated by task 0:
[    1.234590] ==================================================================
";

    #[test]
    fn a_write_past_a_slab_object_is_an_overrun_of_the_first_named_frame() {
        let r = reports(REPORT);
        assert_eq!(r.len(), 1);
        let r = &r[0];
        assert_eq!(r.line, 2);
        assert_eq!(r.kind, "slab-out-of-bounds");
        assert_eq!(r.function, "memcpy");
        assert_eq!(r.access, Some((Access::Write, 48, 0xffff_8880_03a1_c0c0)));
        assert_eq!(
            r.trace,
            [
                "dump_stack_lvl",
                "print_report",
                "kasan_report",
                "memcpy",
                "efi_memmap_insert",
                "efi_arch_mem_reserve"
            ]
        );
        assert_eq!(
            r.signature.map(|s| s.to_string()).as_deref(),
            Some("overrun/efi_memmap_insert")
        );
    }

    #[test]
    fn reads_frees_and_unknown_kinds() {
        let read = REPORT.replace("Write of size 48", "Read of size 8");
        assert_eq!(reports(&read)[0].signature.unwrap().class, Class::Overread);
        let uaf = REPORT.replace(
            "slab-out-of-bounds in memcpy",
            "use-after-free in efi_free_boot_services",
        );
        assert_eq!(
            reports(&uaf)[0].signature.map(|s| s.to_string()).as_deref(),
            Some("use-after-free/efi_free_boot_services")
        );
        let wild = REPORT.replace("slab-out-of-bounds", "wild-memory-access");
        assert_eq!(reports(&wild)[0].signature, None);
        assert!(reports("[    0.0] Linux version 6.12.0\n").is_empty());
    }
}
