//! Notifications to a shop's customers: an email or a text when their parcel ships, is out for
//! delivery, is delivered or has a problem.
//!
//! The store writes each notification in the refresh transaction that stores the change
//! (`parceld_store::notifications`); this crate does the rest: the server's settings
//! ([`settings`]), the messages' templates in the tracking page's languages ([`templates`],
//! [`phrases`]), email over SMTP ([`email`]), texts over an HTTP SMS provider ([`sms`]) and the
//! quiet hours they wait out ([`quiet`]), the [`dispatcher`] that sends with leases and
//! retries, and the unsubscribe links ([`token`]) with the page they lead to ([`unsubscribe`]).
//! Modules by job, each importing only those before it in this list: `phrases`, `settings`,
//! `token`, `templates`, `email`, `sms`, `quiet`, `unsubscribe`, `dispatcher`.

pub mod dispatcher;
pub mod email;
pub mod phrases;
pub mod quiet;
pub mod settings;
pub mod sms;
pub mod templates;
#[cfg(feature = "test-support")]
pub mod test_sink;
pub mod token;
pub mod unsubscribe;

pub use dispatcher::Dispatcher;
pub use settings::NotifySettings;
