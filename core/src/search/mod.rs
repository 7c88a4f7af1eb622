//! The searches: the exhaustive explorer ([`explore`]), the hunt that runs
//! it and a random phase ([`hunt`]), the signature-preserving minimizer
//! ([`minimize`]), what the fuzz targets check ([`fuzzing`]), the
//! model-versus-kernel differential ([`diff`]), and the review of a
//! patch on a tree before and after it ([`review`]); [`parallel`] splits the
//! page explorer and the random phase across threads; [`reach`] is what a
//! search reached, which each of them reports.

pub mod diff;
pub mod explore;
pub mod fuzzing;
pub mod hunt;
pub mod minimize;
pub mod order;
pub mod parallel;
pub mod reach;
pub mod review;
pub mod triage;
