//! Signatures: a finding's stable name, `class/function`, as a type. The
//! classes are an enum; the function is one of the kernel functions the
//! model names ([`crate::model::kernel::FUNCTIONS`]), so a signature
//! written in a corpus header, an environment variable or a known-bug list
//! is checked when it is read: a typo is an error, not a silent miss.

use std::fmt;
use std::str::FromStr;

/// The kinds of wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Class {
    /// More descriptors allocated and installed than insert wrote.
    OverCount,
    /// An installed descriptor with no pages.
    EmptyEntry,
    /// A write past an allocation.
    Overrun,
    /// Attribute bits the oracle expects are missing.
    LostAttribute,
    /// Attribute bits the oracle does not expect are present.
    SpuriousAttribute,
    /// Addresses appear, vanish or change type.
    CoverageChanged,
    /// Installed descriptors overlap.
    StaleDuplicate,
    /// Installed descriptors that no code wrote (insert refused the range).
    UninitializedInstall,
    UseAfterFree,
    /// A free of a freed block, or with the wrong address or size.
    BadFree,
    Leak,
    /// `1 + split_count` over the descriptors the caller counted differs
    /// from what insert wrote.
    CountMismatch,
    /// A kernel WARN fired.
    Warn,
    /// A read past an allocation (KASAN reports these as it reports
    /// out-of-bounds writes).
    Overread,
    /// Two eras that carry the same fixed code give different maps or
    /// findings on one input.
    Divergence,
    /// A model era and the kernel tree it should equal give different
    /// outcomes on one input: the model is wrong, or the tree changed.
    KernelDivergence,
    /// Memory the EFI map keeps (a RUNTIME-tagged reservation, runtime
    /// code or data) that e820 still calls System RAM: `kexec_file_load`
    /// may put the next kernel's segments on it.
    KexecClobber,
}

impl Class {
    pub const ALL: [Class; 17] = [
        Class::OverCount,
        Class::EmptyEntry,
        Class::Overrun,
        Class::LostAttribute,
        Class::SpuriousAttribute,
        Class::CoverageChanged,
        Class::StaleDuplicate,
        Class::UninitializedInstall,
        Class::UseAfterFree,
        Class::BadFree,
        Class::Leak,
        Class::CountMismatch,
        Class::Warn,
        Class::Overread,
        Class::Divergence,
        Class::KernelDivergence,
        Class::KexecClobber,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            Class::OverCount => "over-count",
            Class::EmptyEntry => "empty-entry",
            Class::Overrun => "overrun",
            Class::LostAttribute => "lost-attribute",
            Class::SpuriousAttribute => "spurious-attribute",
            Class::CoverageChanged => "coverage-changed",
            Class::StaleDuplicate => "stale-duplicate",
            Class::UninitializedInstall => "uninitialized-install",
            Class::UseAfterFree => "use-after-free",
            Class::BadFree => "bad-free",
            Class::Leak => "leak",
            Class::CountMismatch => "count-mismatch",
            Class::Warn => "warn",
            Class::Overread => "overread",
            Class::Divergence => "divergence",
            Class::KernelDivergence => "kernel-divergence",
            Class::KexecClobber => "kexec-clobber",
        }
    }

    /// Whether a finding of this class stands without the oracle, on any
    /// input: what memory itself shows, a fault or an installed map whose
    /// descriptors no code wrote (what KMSAN calls an uninit value).
    pub const fn needs_no_oracle(self) -> bool {
        self.is_memory_safety() || matches!(self, Class::UninitializedInstall)
    }

    /// Overrun, overread, use-after-free and bad free.
    pub const fn is_memory_safety(self) -> bool {
        matches!(
            self,
            Class::Overrun | Class::Overread | Class::UseAfterFree | Class::BadFree
        )
    }

    pub fn from_name(s: &str) -> Option<Class> {
        Class::ALL.into_iter().find(|c| c.name() == s)
    }
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A finding's stable name: its class and the kernel function responsible.
/// Signatures order as their text does, so lists read alphabetically.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Signature {
    pub class: Class,
    pub function: &'static str,
}

impl Ord for Signature {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.class.name(), '/', self.function).cmp(&(other.class.name(), '/', other.function))
    }
}

impl PartialOrd for Signature {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Signature {
    /// A signature from parts known at compile time; [`Signature::parse`]
    /// checks a written one.
    pub const fn new(class: Class, function: &'static str) -> Self {
        Signature { class, function }
    }

    /// `class/function`, both parts checked.
    pub fn parse(s: &str) -> Result<Signature, BadSignature> {
        let (class, function) = s
            .split_once('/')
            .ok_or_else(|| BadSignature(format!("`{s}` is not CLASS/FUNCTION")))?;
        let class = Class::from_name(class).ok_or_else(|| {
            let names: Vec<&str> = Class::ALL.iter().map(|c| c.name()).collect();
            BadSignature(format!(
                "unknown finding class `{class}` in `{s}`: the classes are {}",
                names.join(", ")
            ))
        })?;
        let function = crate::model::kernel::function_named(function).ok_or_else(|| {
            BadSignature(format!(
                "`{function}` in `{s}` is not a kernel function the model names"
            ))
        })?;
        Ok(Signature { class, function })
    }
}

impl fmt::Display for Signature {
    /// `class/function`; honours width and alignment, for tables.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&format!("{}/{}", self.class, self.function))
    }
}

impl FromStr for Signature {
    type Err = BadSignature;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Signature::parse(s)
    }
}

impl serde::Serialize for Signature {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The four signatures of the 2019 thread, in the order it found them.
pub const SEED_SIGNATURES: [Signature; 4] = [
    Signature::new(Class::OverCount, "efi_fake_memmap"),
    Signature::new(Class::EmptyEntry, "efi_fake_memmap"),
    Signature::new(Class::LostAttribute, "efi_fake_memmap"),
    Signature::new(Class::Overrun, "efi_arch_mem_reserve"),
];

/// A written signature that names no class or no modelled function.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadSignature(pub String);

impl fmt::Display for BadSignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadSignature {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_reads_back_and_a_typo_is_an_error() {
        let s = Signature::parse("overrun/efi_arch_mem_reserve").unwrap();
        assert_eq!(s, Signature::new(Class::Overrun, "efi_arch_mem_reserve"));
        assert_eq!(s.to_string(), "overrun/efi_arch_mem_reserve");
        assert!(Signature::parse("overrun/efi_arch_mem_reserv").is_err());
        assert!(Signature::parse("over-run/efi_arch_mem_reserve").is_err());
        assert!(Signature::parse("overrun").is_err());
    }
}
