//! Judging an outcome: what the map should mean ([`oracle`]), the interval
//! geometry both sides are compared with ([`geometry`]), the typed
//! signatures ([`signature`]), every kind of wrong an outcome can show
//! ([`findings`]), the known bugs of the fixed code by cause ([`known`]),
//! and the differential verdict ([`verdict`]).

pub mod findings;
pub mod geometry;
pub mod history;
pub mod known;
pub mod oracle;
pub mod signature;
pub mod verdict;
