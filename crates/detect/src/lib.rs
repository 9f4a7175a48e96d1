//! Which couriers parceld knows, and which courier a tracking number belongs to.
//!
//! The courier registry lives here rather than in the API or carrier crates because detection,
//! the `couriers/all` endpoint, validation of `courier_code` on create and the refresh cadence all
//! need the same facts about a courier, and none of them should depend on the others.
//!
//! Detection ([`detect()`], [`find_in_text`]) lives beside the registry so that every courier a
//! detection format names is checked against the registry (when the format table is first used;
//! the tests use it). The detection corpus ([`corpus`]) is the evidence for how well it works.
//!
//! Modules: `registry` (the couriers: `data/couriers.tsv`, the named ones, and
//! `data/national_posts.tsv`, every UPU member's post), `formats` (`data/formats.tsv`, every number
//! format with its source), `pattern` (the shapes' little language), `checksum` (check-digit
//! algorithms),
//! `detect` (matching and ranking), `text` (numbers in free text), `corpus` (real-format numbers
//! and the scores over them), `upstreams` (`data/upstreams.tsv`, TrackingMore's whole list and
//! each upstream's name for every courier).

mod checksum;
pub mod corpus;
mod detect;
mod formats;
mod pattern;
#[cfg(test)]
mod proptests;
pub mod registry;
mod text;
pub mod upstreams;

pub use detect::{detect, normalize, Candidate, CheckDigit};
pub use formats::{formats, FormatInfo};
pub use registry::{
    courier, couriers, named_couriers, national_post, national_posts, Courier, NationalPost,
};
pub use text::{find_in_text, Found};
pub use upstreams::{
    courier_by_17track_key, courier_by_aftership_slug, upstream_ids, upstream_table, UpstreamIds,
};
