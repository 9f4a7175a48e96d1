//! parceld's PostgreSQL backend: [`PostgresStore`] implements `parceld_store::Store` on one
//! PostgreSQL database that any number of parceld nodes share.
//!
//! It keeps the same data as the SQLite backend and answers every call the same way (both pass
//! `parceld-store-conformance`), but it is written for a database server many processes use at
//! once: claims of trackings take `FOR UPDATE SKIP LOCKED` so two nodes never wait on or take
//! each other's rows, and a lease makes a dead node's claims come back; batches go in as arrays
//! (`UNNEST`), one statement per batch whatever its size; migrations run under an advisory lock,
//! so nodes starting together migrate once; every table carries its account (see
//! `migrations/postgres/0001_init.sql`).
//!
//! Modules by job, each importing only those below it so that no two import each other: `rows`
//! (the row types and reading them back) and `checkpoint_list` (the SQL that writes each
//! tracking's checkpoint list) at the bottom; `accounts` (with `key_cache`: the key checks a
//! node remembers, forgotten by every node through `LISTEN`/`NOTIFY`), `rate_buckets` (the token
//! buckets that make a rate limit one total across nodes), `trackings` (with the list queries of
//! `listing`, and `bulk_create` for large batches), `refresh` (claims and applying results, which
//! writes the outbox through `outbox`), `fold` (the analytics counts writers leave pending,
//! folded into the counters every second and before each analytics read), `webhooks`
//! (endpoints) and `outbox` (deliveries, attempts), `notifications` (the customers'
//! notifications, also written by `refresh`); `store` on top, with `notification_store` and
//! `users` (the dashboard's users and sessions, `UserStore`) beside it, which opens the pool,
//! migrates, starts the fold timer, and implements the trait by handing each call to one of
//! them; `copy` (whole tables in the neutral form of `parceld db copy`,
//! loaded with `COPY` through `copy_text`) implements `CopyStore`.

mod accounts;
mod analytics;
mod bulk_create;
mod checkpoint_list;
mod copy;
mod copy_text;
mod due;
mod fold;
mod key_cache;
mod listing;
mod notification_store;
mod notifications;
mod outbox;
mod pages;
mod push;
mod rate_buckets;
mod refresh;
mod rows;
mod store;
mod subscribers;
#[cfg(feature = "test-support")]
pub mod test_database;
#[cfg(feature = "test-support")]
mod test_support;
mod trackings;
mod users;
mod webhooks;

pub use store::{is_postgres_url, redacted, PostgresStore, DEFAULT_MAX_CONNECTIONS, URL_SCHEMES};
