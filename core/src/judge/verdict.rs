//! The differential verdict on two engines or eras, in wasmtime's terms:
//! they agree, both reject the input, the input is outside what the oracle
//! judges, or they diverge (the only outcome that is a bug report).

use crate::engine::{Engine, EngineError};
use crate::judge::findings::{check_on, check_quiet, Checked};
use crate::judge::geometry::effective_map;
use crate::judge::signature::Signature;
use crate::model::boot::{AllocInfo, BootInput, Outcome};
use crate::model::desc::{MemRange, MemoryDesc};
use crate::model::e820::{E820Op, E820Update};
use crate::model::era::Era;
use crate::model::kernel::{Event, Freed, Install, InstallKind, Level};
use crate::model::mem::{Access, AllocKind, Fault, FaultKind};

/// How two eras compare on one input, in wasmtime's terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Same installed map (as maximal intervals) and the same signatures.
    Agree,
    /// Neither era can run the input.
    BothReject(String),
    /// The findings or the maps differ: the signatures only one era has,
    /// and whether the installed maps mean different things.
    Diverge {
        only_a: Vec<Signature>,
        only_b: Vec<Signature>,
        maps_differ: bool,
    },
    /// The oracle gives the input no meaning: not a finding.
    OutsideDomain(String),
}

/// Runs both eras' models on `input` and compares them.
pub fn differential(input: &BootInput, a: Era, b: Era) -> Verdict {
    verdict(&check_quiet(a, input), &check_quiet(b, input))
}

/// Runs two engines on `input` and compares them. An engine that failed
/// (not the input's fault) is an error, not a verdict.
pub fn differential_engines(
    input: &BootInput,
    a: &mut dyn Engine,
    b: &mut dyn Engine,
) -> Result<Verdict, EngineError> {
    let (ra, rb) = (check_on(a, input, true)?, check_on(b, input, true)?);
    Ok(verdict(&ra, &rb))
}

/// Compares two eras' results on one input.
pub fn verdict(ra: &Checked, rb: &Checked) -> Verdict {
    let ((oa, ca), (ob, cb)) = match (ra, rb) {
        // Input validation does not depend on the era.
        (Err(e), _) | (_, Err(e)) => return Verdict::BothReject(e.to_string()),
        (Ok(x), Ok(y)) => (x, y),
    };
    if let Err(d) = ca.domain.as_ref().and(cb.domain.as_ref()) {
        return Verdict::OutsideDomain(d.0.clone());
    }
    let (sa, sb) = (ca.signatures(), cb.signatures());
    let maps_differ = effective_map(&oa.map) != effective_map(&ob.map);
    if sa == sb && !maps_differ {
        return Verdict::Agree;
    }
    Verdict::Diverge {
        only_a: sa.difference(&sb).cloned().collect(),
        only_b: sb.difference(&sa).cloned().collect(),
        maps_differ,
    }
}

/// Where a model era and a kernel tree first disagree on one input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KernelDivergence {
    /// The part of the outcome: `map bytes`, `event 3`, `allocation 1`, ...
    pub field: String,
    /// The kernel function whose doing it is, for the signature.
    pub function: &'static str,
    pub model: String,
    pub tree: String,
}

impl KernelDivergence {
    /// `kernel-divergence/FUNCTION`.
    pub fn signature(&self) -> Signature {
        Signature::new(
            crate::judge::signature::Class::KernelDivergence,
            self.function,
        )
    }
}

/// Compares a model's outcome with a tree's, field by field, in the order
/// a reader would check them: what was printed, what was allocated and
/// freed, what went wrong in memory, each map installed, the e820
/// requests, what was given back, and the final map. `None` when they
/// are the same.
pub fn kernel_divergence(model: &Outcome, tree: &Outcome) -> Option<KernelDivergence> {
    let differ = |field: String, function: &'static str, m: String, t: String| {
        Some(KernelDivergence {
            field,
            function,
            model: m,
            tree: t,
        })
    };
    // The first item of a list that differs, with the function it names.
    fn list<T: Shown, K: PartialEq>(
        what: &str,
        m: &[T],
        t: &[T],
        key: impl Fn(&T) -> K,
        by: impl Fn(&T) -> &'static str,
    ) -> Option<KernelDivergence> {
        let i = (0..m.len().max(t.len())).find(|&i| m.get(i).map(&key) != t.get(i).map(&key))?;
        let show = |x: Option<&T>| x.map_or("nothing".to_string(), Shown::shown);
        Some(KernelDivergence {
            field: format!("{what} {i}"),
            function: m.get(i).or(t.get(i)).map_or("start_kernel", by),
            model: show(m.get(i)),
            tree: show(t.get(i)),
        })
    }
    // What the kernel printed, at which level; the function an event is
    // filed under is efimap's attribution, not the kernel's output.
    let found = list(
        "event",
        &model.events,
        &tree.events,
        |e| (e.level, e.text.clone()),
        |e| e.func,
    )
    .or_else(|| {
        list(
            "allocation",
            &model.allocations,
            &tree.allocations,
            |a| *a,
            |a| a.by,
        )
    })
    .or_else(|| {
        list(
            "fault",
            &model.faults,
            &tree.faults,
            |f| f.clone(),
            |f| f.by,
        )
    })
    .or_else(|| {
        let d = list(
            "install",
            &model.installs,
            &tree.installs,
            |i| (i.kind, i.by, i.descs.clone()),
            |i| i.by,
        )?;
        // The same install with other descriptors: the first that
        // differs, not the whole map twice.
        let n: usize = d.field["install ".len()..].parse().ok()?;
        match (model.installs.get(n), tree.installs.get(n)) {
            (Some(m), Some(t)) if (m.kind, m.by) == (t.kind, t.by) => {
                let k = (0..m.descs.len().max(t.descs.len()))
                    .find(|&k| m.descs.get(k) != t.descs.get(k))?;
                let show = |x: Option<&MemoryDesc>| x.map_or("nothing".to_string(), Shown::shown);
                Some(KernelDivergence {
                    field: format!(
                        "install {n} descriptor {k} (of {} in the model, {} in the tree)",
                        m.descs.len(),
                        t.descs.len()
                    ),
                    function: m.by,
                    model: show(m.descs.get(k)),
                    tree: show(t.descs.get(k)),
                })
            }
            _ => Some(d),
        }
    })
    .or_else(|| list("e820 request", &model.e820, &tree.e820, |u| *u, |u| u.by));
    if found.is_some() {
        return found;
    }
    // The rest compared as values, and only a differing field formatted:
    // the differential asks this of every scenario.
    let memmap = |o: &Outcome| {
        let m = &o.memmap;
        (m.phys_map, m.nr_map, m.desc_size, m.flags, m.map.is_some())
    };
    let shown_memmap = |o: &Outcome| {
        let (phys_map, nr_map, desc_size, flags, mapped) = memmap(o);
        format!(
            "phys_map {phys_map:#x}, nr_map {nr_map}, desc_size {desc_size}, flags {flags:#x}, {}",
            if mapped { "mapped" } else { "not mapped" }
        )
    };
    if model.fake_mems != tree.fake_mems {
        return differ(
            "efi_fake_mems".into(),
            "setup_fake_mem",
            shown_all(&model.fake_mems),
            shown_all(&tree.fake_mems),
        );
    }
    if model.freed != tree.freed {
        return differ(
            "boot services freed".into(),
            "efi_free_boot_services",
            shown_all(&model.freed),
            shown_all(&tree.freed),
        );
    }
    if model.kept != tree.kept {
        return differ(
            "boot services kept".into(),
            "efi_reserve_boot_services",
            shown_all(&model.kept),
            shown_all(&tree.kept),
        );
    }
    if memmap(model) != memmap(tree) {
        return differ(
            "efi.memmap".into(),
            "efi_memmap_install",
            shown_memmap(model),
            shown_memmap(tree),
        );
    }
    if model.map_bytes != tree.map_bytes {
        return differ(
            "map bytes".into(),
            "efi_memmap_install",
            hex(&model.map_bytes),
            hex(&tree.map_bytes),
        );
    }
    None
}

/// An item of an outcome as a divergence shows it: in the kernel's terms,
/// addresses and sizes in hexadecimal, never Rust's debug text.
trait Shown {
    fn shown(&self) -> String;
}

/// A list of items, `a, b`; `none` when empty.
fn shown_all<T: Shown>(items: &[T]) -> String {
    let all: Vec<String> = items.iter().map(Shown::shown).collect();
    if all.is_empty() {
        "none".to_string()
    } else {
        all.join(", ")
    }
}

impl Shown for Event {
    fn shown(&self) -> String {
        let level = match self.level {
            Level::Warning => "WARN_ON",
            Level::Err => "KERN_ERR",
            Level::Warn => "KERN_WARNING",
            Level::Notice => "KERN_NOTICE",
            Level::Info => "KERN_INFO",
            Level::Debug => "KERN_DEBUG",
        };
        format!("{level} {:?} (from {})", self.text, self.func)
    }
}

impl Shown for AllocInfo {
    fn shown(&self) -> String {
        let kind = match self.kind {
            AllocKind::Firmware => "the firmware's".to_string(),
            AllocKind::Memblock => "memblock".to_string(),
            AllocKind::Pages { order } => format!("alloc_pages order {order}"),
            AllocKind::Slab { object } => format!("kmalloc-{object}"),
        };
        let freed = self
            .freed_by
            .map_or("never freed".to_string(), |f| format!("freed by {f}"));
        format!(
            "{kind} block {} of {:#x} bytes at {:#x}, for {}, {freed}",
            self.id, self.size, self.phys, self.by
        )
    }
}

impl Shown for Fault {
    fn shown(&self) -> String {
        let kind = match self.kind {
            FaultKind::OutOfBounds { page_fault: true } => "out of bounds (past its pages)",
            FaultKind::OutOfBounds { page_fault: false } => "out of bounds (inside its pages)",
            FaultKind::UseAfterFree => "use after free",
            FaultKind::DoubleFree => "double free",
            FaultKind::BadFree => "bad free",
        };
        let access = match self.access {
            Access::Read => "read",
            Access::Write => "write",
        };
        format!(
            "{access} {kind} of block {}, bytes {:#x}..{:#x}, by {}",
            self.alloc,
            self.offset,
            self.offset.wrapping_add(self.len),
            self.by
        )
    }
}

impl Shown for Install {
    fn shown(&self) -> String {
        let kind = match self.kind {
            InstallKind::Firmware => "the firmware's map",
            InstallKind::New => "a new map",
            InstallKind::Remap => "the map remapped",
            InstallKind::Runtime => "the runtime map",
        };
        let descs: Vec<String> = self.descs.iter().map(Shown::shown).collect();
        format!(
            "{kind} at {:#x} by {}, {} descriptors: {}",
            self.phys,
            self.by,
            self.descs.len(),
            descs.join("; ")
        )
    }
}

impl Shown for MemoryDesc {
    fn shown(&self) -> String {
        format!(
            "type {} [{:#x}-{:#x}] attr {:#x}",
            self.ty,
            self.phys_addr,
            self.end(),
            self.attribute
        )
    }
}

impl Shown for E820Update {
    fn shown(&self) -> String {
        let op = match self.op {
            E820Op::Update { from, to } => {
                format!("e820__range_update {} to {}", from.name(), to.name())
            }
            E820Op::Remove { from } => format!("e820__range_remove {}", from.name()),
            E820Op::Add { to } => format!("e820__range_add {}", to.name()),
        };
        format!("{op} [{:#x}+{:#x}] for {}", self.start, self.size, self.by)
    }
}

impl Shown for MemRange {
    fn shown(&self) -> String {
        format!(
            "[{:#x}-{:#x}] attr {:#x}",
            self.start, self.end, self.attribute
        )
    }
}

impl Shown for Freed {
    fn shown(&self) -> String {
        format!("[{:#x}-{:#x}] by {}", self.start, self.end, self.by)
    }
}

/// A `(start, size)` region.
impl Shown for (u64, u64) {
    fn shown(&self) -> String {
        format!("[{:#x}+{:#x}]", self.0, self.1)
    }
}

fn hex(b: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(2 * b.len());
    for x in b {
        let _ = write!(s, "{x:02x}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::boot::run;
    use crate::model::desc::{ty, MemoryDesc};

    /// v6.12.y's boot of a Boot Services Data descriptor of 16 pages at
    /// 1 MiB with one page reserved inside it.
    fn one_page_reserved() -> Outcome {
        let input = BootInput {
            map: vec![MemoryDesc::new(
                ty::BOOT_SERVICES_DATA,
                0x10_0000,
                0x10,
                0xf,
            )],
            reservations: vec![(0x10_4000, 0x1000)],
            ..BootInput::default()
        };
        run(Era::V6_12_Y, &input).unwrap()
    }

    #[test]
    fn the_first_differing_field_is_named() {
        let o = one_page_reserved();
        assert_eq!(kernel_divergence(&o, &o.clone()), None);
        let mut t = o.clone();
        t.map_bytes[24] ^= 1; // one page more in the first descriptor
        let d = kernel_divergence(&o, &t).unwrap();
        assert_eq!(
            (d.field.as_str(), d.function),
            ("map bytes", "efi_memmap_install")
        );
        assert_eq!(
            d.signature().to_string(),
            "kernel-divergence/efi_memmap_install"
        );
        let mut t = o.clone();
        t.events[0].text.push('!');
        let d = kernel_divergence(&o, &t).unwrap();
        assert_eq!(d.field, "event 0");
    }

    /// A divergence shows both sides in the kernel's terms, addresses in
    /// hexadecimal (it once printed Rust's `AllocInfo { .. }` with
    /// decimal addresses), and a map installed with other descriptors
    /// names the first descriptor that differs.
    #[test]
    fn a_divergence_is_shown_in_the_kernels_terms() {
        use crate::model::desc::attr;
        let o = one_page_reserved();
        let mut t = o.clone();
        t.allocations[0] = AllocInfo {
            id: 0,
            kind: AllocKind::Memblock,
            phys: 0x7f00_0000,
            size: 0x60,
            by: "efi_arch_mem_reserve",
            freed_by: None,
        };
        let d = kernel_divergence(&o, &t).unwrap();
        assert_eq!(d.field, "allocation 0");
        assert_eq!(
            d.tree,
            "memblock block 0 of 0x60 bytes at 0x7f000000, for efi_arch_mem_reserve, never freed"
        );
        // efi_arch_mem_reserve's split: [0x100000-0x103fff], the reserved
        // page tagged RUNTIME, [0x105000-0x10ffff].
        let mut t = o.clone();
        let n = t.installs.iter().position(|i| i.descs.len() == 3).unwrap();
        t.installs[n].descs[1].num_pages = 2;
        let d = kernel_divergence(&o, &t).unwrap();
        assert_eq!(
            d.field,
            format!("install {n} descriptor 1 (of 3 in the model, 3 in the tree)")
        );
        assert_eq!(d.function, "efi_arch_mem_reserve");
        let runtime = attr::RUNTIME | 0xf;
        assert_eq!(
            d.model,
            format!("type 4 [0x104000-0x104fff] attr {runtime:#x}")
        );
        assert_eq!(
            d.tree,
            format!("type 4 [0x104000-0x105fff] attr {runtime:#x}")
        );
        let mut t = o.clone();
        t.kept = vec![(0x10_0000, 0x1_0000)];
        let d = kernel_divergence(&o, &t).unwrap();
        assert_eq!(d.field, "boot services kept");
        assert_eq!(d.tree, "[0x100000+0x10000]");
    }
}
