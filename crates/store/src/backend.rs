//! The error type a backend's own functions return, so that `?` works on its driver's errors.
//!
//! [`StoreError`] knows no database library, and Rust does not let a backend crate implement
//! `From<sqlx::Error>` (or any driver's error) for it: both types are foreign there. Every
//! backend therefore needs a local-looking wrapper; this is the one, written once. Its `From`
//! takes any error: a [`StoreError`] passes through unchanged, anything else (a driver or
//! migration error) becomes [`StoreError::Backend`]. The `Store` implementation turns it back
//! into a `StoreError` at the boundary (`?` through [`From<Failure> for StoreError`]).

use crate::StoreError;

/// A [`StoreError`] on its way out of a backend. Deliberately not an `Error` itself, which is
/// what lets it convert from every error.
#[derive(Debug)]
pub struct Failure(pub StoreError);

/// What a backend's own functions return.
pub type BackendResult<T> = Result<T, Failure>;

impl<E: std::error::Error + Send + Sync + 'static> From<E> for Failure {
    fn from(error: E) -> Self {
        let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(error);
        match boxed.downcast::<StoreError>() {
            Ok(store_error) => Failure(*store_error),
            Err(other) => Failure(StoreError::Backend(other)),
        }
    }
}

impl From<Failure> for StoreError {
    fn from(failure: Failure) -> Self {
        failure.0
    }
}

#[doc(hidden)]
pub use async_trait::async_trait;

/// Implements `Store` for a backend's store type from a table of `fn method(parameters) ->
/// output => call;`, where `$this` is bound to `$parts(self)` and the call returns a future of a
/// [`BackendResult<output>`]. Each backend's table is then its whole implementation, and the
/// code that turns its results into the trait's is written once, here: each call is a function
/// of the backend's module for that job, which does its work in that database's SQL.
#[macro_export]
macro_rules! store_calls {
    ($store:ty, $this:ident = $parts:expr; $($calls:tt)+) => {
        $crate::store_calls!(impl Store for $store, $this = $parts; $($calls)+);
    };
    // Another trait of the store's (`PushStore`, …), the same way.
    (impl $trait:ident for $store:ty, $this:ident = $parts:expr;
     $(fn $method:ident($($arg:ident: $ty:ty),*) -> $output:ty => $call:expr;)+) => {
        #[$crate::backend::async_trait]
        impl $crate::$trait for $store {
            $(
                async fn $method(&self, $($arg: $ty),*) -> $crate::StoreResult<$output> {
                    let $this = $parts(self);
                    Ok($call.await?)
                }
            )+
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Entity;

    fn fails_with<E: std::error::Error + Send + Sync + 'static>(error: E) -> BackendResult<()> {
        Err(error)?
    }

    #[test]
    fn store_errors_pass_through_and_other_errors_are_backend_failures() {
        let not_found =
            StoreError::from(fails_with(StoreError::NotFound(Entity::Webhook)).unwrap_err());
        assert!(matches!(not_found, StoreError::NotFound(Entity::Webhook)));
        let io = std::io::Error::other("disk on fire");
        let backend = StoreError::from(fails_with(io).unwrap_err());
        assert!(matches!(backend, StoreError::Backend(_)));
        assert!(backend.to_string().contains("disk on fire"));
    }
}
