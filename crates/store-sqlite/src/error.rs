//! The error type of this crate's functions: `parceld_store::backend`'s wrapper, so that `?`
//! works on sqlx, rusqlite and migration errors. The `Store` implementation turns it into a
//! `StoreError` at the boundary, driver errors becoming `StoreError::Backend`.

pub(crate) use parceld_store::backend::BackendResult as Result;
