//! The backend's own error type, so that `?` works on sqlx, rusqlite and migration errors.
//!
//! `StoreError` belongs to `parceld-store`, which knows no database library, and Rust does not
//! let this crate implement `From<sqlx::Error>` for it (both are foreign here). Every function of
//! this crate returns [`Result`]; the `Store` implementation turns it into a `StoreError` at the
//! boundary, driver errors becoming `StoreError::Backend`.

use parceld_store::StoreError;

/// A `StoreError` on its way out of the SQLite backend.
#[derive(Debug)]
pub(crate) struct Error(StoreError);

pub(crate) type Result<T> = std::result::Result<T, Error>;

impl From<StoreError> for Error {
    fn from(error: StoreError) -> Self {
        Error(error)
    }
}

impl From<Error> for StoreError {
    fn from(error: Error) -> Self {
        error.0
    }
}

impl From<sqlx::Error> for Error {
    fn from(error: sqlx::Error) -> Self {
        Error(StoreError::backend(error))
    }
}

impl From<sqlx::migrate::MigrateError> for Error {
    fn from(error: sqlx::migrate::MigrateError) -> Self {
        Error(StoreError::backend(error))
    }
}

impl From<rusqlite::Error> for Error {
    fn from(error: rusqlite::Error) -> Self {
        Error(StoreError::backend(error))
    }
}
