//! Helpers of parceld-notify's integration tests.

pub mod smtp_sink;
