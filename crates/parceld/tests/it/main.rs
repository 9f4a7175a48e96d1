//! Integration tests: the real `parceld` binary, a real SQLite file, real HTTP.

mod auth;
mod detect;
mod engine;
mod errors;
mod lifecycle;
mod ops;
mod ratelimits;
mod sdk;
mod support;
mod trackings;
mod webhooks;
