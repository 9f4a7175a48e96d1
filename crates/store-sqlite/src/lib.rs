//! parceld's SQLite backend: [`SqliteStore`] implements `parceld_store::Store` on one database
//! file.
//!
//! Modules by job, each importing only those below it so that no two import each other:
//! `rows` (reading times, JSON and statuses back) and `error` at the bottom; `checkpoint_list`
//! (each tracking's checkpoints as one value), `reader` (the inline read path) and `key_cache`
//! (remembered key checks); `webhooks` (endpoints), `outbox` (deliveries and their attempt log), `notifications` (the customers' notifications) and
//! `refresh` (claims and applying results, which writes both outboxes); `accounts` and `trackings`; `pages` (the public tracking page's settings and look-ups, reading
//! with `trackings`' statement); and `store` on top, with `notification_store` beside it,
//! which implements the trait by handing each call to one of them; `copy` (whole tables in
//! the neutral form of `parceld db copy`) implements `CopyStore` beside it. `backup` (online copies of
//! the file and restoring one) stands apart: it works on the file, not through the `Store` trait. `retention` deletes finished
//! trackings in bounded batches. `users` (the dashboard's users and sessions) implements
//! `UserStore` beside `store`.

mod accounts;
mod analytics;
pub mod backup;
mod checkpoint_list;
mod checkpointer;
mod copy;
mod due;
mod error;
mod key_cache;
mod notification_store;
mod notifications;
mod outbox;
mod pages;
mod push;
mod reader;
mod refresh;
mod retention;
mod rows;
mod sorted;
mod statements;
mod store;
mod subscribers;
#[cfg(feature = "test-support")]
mod test_support;
mod trackings;
mod users;
mod webhooks;

pub use checkpoint_list::REWRITE_ALL_CHECKPOINT_LISTS;

/// Entry points for the fuzz targets in `fuzz/`, which feed arbitrary bytes to the parts that
/// read bytes a database file holds. Not an API: the decoder stays private to the store.
#[doc(hidden)]
pub mod fuzzing {
    /// Decodes a stored checkpoint list as a read does; anything malformed is `Corrupt`.
    pub fn decode_checkpoint_list(
        bytes: &[u8],
    ) -> parceld_store::StoreResult<Vec<parceld_model::Checkpoint>> {
        parceld_store::checkpoint_list::decode(bytes)
    }
}
pub use store::{path_of_url, OpenOptions, SqliteStore, UrlError, URL_SCHEME};
