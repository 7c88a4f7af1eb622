//! The differential verdict on two engines or eras, in wasmtime's terms:
//! they agree, both reject the input, the input is outside what the oracle
//! judges, or they diverge (the only outcome that is a bug report).

use crate::engine::{Engine, EngineError};
use crate::judge::findings::{check_quiet, classify, Checked};
use crate::judge::geometry::effective_map;
use crate::judge::signature::Signature;
use crate::model::boot::{BootInput, Outcome};
use crate::model::era::Era;
use std::fmt;

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
    let checked = |e: &mut dyn Engine| -> Result<Checked, EngineError> {
        match e.boot(input, true) {
            Ok(o) => {
                let c = classify(input, &o);
                Ok(Ok((o, c)))
            }
            Err(EngineError::Input(i)) => Ok(Err(i)),
            Err(f) => Err(f),
        }
    };
    let (ra, rb) = (checked(a)?, checked(b)?);
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
    fn list<T: PartialEq + fmt::Debug, K: PartialEq>(
        what: &str,
        m: &[T],
        t: &[T],
        key: impl Fn(&T) -> K,
        by: impl Fn(&T) -> &'static str,
    ) -> Option<KernelDivergence> {
        let i = (0..m.len().max(t.len())).find(|&i| m.get(i).map(&key) != t.get(i).map(&key))?;
        let show = |x: Option<&T>| x.map_or("nothing".to_string(), |x| format!("{x:?}"));
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
        list(
            "install",
            &model.installs,
            &tree.installs,
            |i| (i.kind, i.by, i.descs.clone()),
            |i| i.by,
        )
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
    if model.fake_mems != tree.fake_mems {
        return differ(
            "efi_fake_mems".into(),
            "setup_fake_mem",
            format!("{:?}", model.fake_mems),
            format!("{:?}", tree.fake_mems),
        );
    }
    if model.freed != tree.freed {
        return differ(
            "boot services freed".into(),
            "efi_free_boot_services",
            format!("{:?}", model.freed),
            format!("{:?}", tree.freed),
        );
    }
    if model.kept != tree.kept {
        return differ(
            "boot services kept".into(),
            "efi_reserve_boot_services",
            format!("{:?}", model.kept),
            format!("{:?}", tree.kept),
        );
    }
    if memmap(model) != memmap(tree) {
        return differ(
            "efi.memmap".into(),
            "efi_memmap_install",
            format!("{:?}", memmap(model)),
            format!("{:?}", memmap(tree)),
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

    #[test]
    fn the_first_differing_field_is_named() {
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
        let o = run(Era::V6_12_Y, &input).unwrap();
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
}
