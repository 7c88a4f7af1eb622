//! The searches: the exhaustive explorer ([`explore`]), the hunt that runs
//! it and a random phase ([`hunt`]), the signature-preserving minimizer
//! ([`minimize`]) and what the fuzz targets check ([`fuzzing`]).

pub mod explore;
pub mod fuzzing;
pub mod hunt;
pub mod minimize;
