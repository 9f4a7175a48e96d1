//! parceld's domain operations, outside HTTP.
//!
//! What a valid tracking is, how one is created, changed, retracked or fetched in real time, and
//! how webhook endpoints are registered and tested are the same whichever way a request comes
//! in: the v4 and legacy v2 API, the command line, or a bulk import. They live here so that each
//! of those is only a translation — it parses its input, calls a [`TrackingService`] or
//! [`WebhookService`] (or a rule in [`validate`]), and says the result or the [`ServiceError`] in
//! its own words and codes. This crate knows the store trait and the engine, never HTTP.

pub mod error;
pub mod input;
pub mod json;
pub mod notification_log;
pub mod notification_templates;
pub mod notifications;
pub mod pages;
pub mod trackings;
pub mod validate;
pub mod webhooks;

pub use error::{ServiceError, ServiceResult};
pub use input::NewTrackingRequest;
pub use notifications::NotificationSettingsInput;
pub use pages::PageSettingsInput;
pub use trackings::{RealtimeTarget, TrackingService};
pub use validate::{DEFAULT_PAGE_SIZE, MAX_BATCH, MAX_PAGE_SIZE};
pub use webhooks::{
    parse_status_text, parse_statuses, parse_version, WebhookInput, WebhookService,
};
