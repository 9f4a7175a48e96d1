//! Which couriers parceld knows, and which courier a tracking number belongs to.
//!
//! The courier registry lives here rather than in the API or carrier crates because detection,
//! the `couriers/all` endpoint, validation of `courier_code` on create and the refresh cadence all
//! need the same facts about a courier, and none of them should depend on the others.
//!
//! Detection ([`detect()`], [`find_in_text`]) lives beside the registry so that every courier a
//! detection rule can name is checked against the registry at compile time.

mod checksum;
mod detect;
#[cfg(test)]
mod proptests;
pub mod registry;
mod text;

pub use detect::{detect, normalize, Candidate, CheckDigit};
pub use registry::{courier, couriers, Courier};
pub use text::{find_in_text, Found};
