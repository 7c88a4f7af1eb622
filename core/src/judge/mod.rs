//! Judging an outcome: what the map should mean ([`oracle`]) and every
//! kind of wrong an outcome can show ([`findings`]).

pub mod findings;
pub mod oracle;
