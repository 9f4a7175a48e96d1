//! Integration tests: the real `parceld` binary, a real database (a SQLite file, or PostgreSQL
//! with `PARCELD_TEST_DATABASE=postgres`: support.rs), real HTTP.

mod adapters;
mod auth;
mod backup;
mod bench;
mod cli_track;
mod dashboard;
mod dashboard_browser;
mod dashboard_problems;
mod dashboard_settings;
mod dbcopy;
mod detect;
mod engine;
mod errors;
mod import;
mod lifecycle;
mod nodes;
mod notifications_api;
mod notify;
mod ops;
mod page;
mod page_browser;
mod push;
mod ratelimits;
mod readme;
mod refresh_progress;
mod sdk;
mod shorter_answers;
mod startup;
mod support;
mod trackings;
mod unconfigured;
mod upstream_push;
mod upstreams;
mod v2;
mod webhooks;
