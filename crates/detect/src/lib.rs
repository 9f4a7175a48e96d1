//! Which couriers parceld knows, and (with the detection issue) which courier a tracking number
//! belongs to.
//!
//! The courier registry lives here rather than in the API or carrier crates because detection,
//! the `couriers/all` endpoint, validation of `courier_code` on create and the refresh cadence all
//! need the same facts about a courier, and none of them should depend on the others.

pub mod registry;

pub use registry::{courier, couriers, Courier};
