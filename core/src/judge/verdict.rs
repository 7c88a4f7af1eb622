//! The differential verdict on two engines or eras, in wasmtime's terms:
//! they agree, both reject the input, the input is outside what the oracle
//! judges, or they diverge (the only outcome that is a bug report).

use crate::engine::{Engine, EngineError};
use crate::judge::findings::{check_quiet, classify, Checked};
use crate::judge::geometry::effective_map;
use crate::judge::signature::Signature;
use crate::model::boot::BootInput;
use crate::model::era::Era;

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
