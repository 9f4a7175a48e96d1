//! The store's errors, the same for every backend: what went wrong and, for a missing or
//! duplicate thing, which entity it is, so that the API can answer with the entity's own code.

/// What a [`StoreError::NotFound`] or [`StoreError::Conflict`] is about, so that callers can say
/// which thing is missing (the API has a code per entity) without reading a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Entity {
    Account,
    ApiKey,
    Tracking,
    Webhook,
    /// A webhook delivery.
    Delivery,
    /// An account's public tracking page (its settings; a host name another account uses).
    TrackingPage,
}

impl Entity {
    /// The entity's name in messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Entity::Account => "account",
            Entity::ApiKey => "API key",
            Entity::Tracking => "tracking",
            Entity::Webhook => "webhook",
            Entity::Delivery => "webhook delivery",
            Entity::TrackingPage => "tracking page",
        }
    }
}

impl std::fmt::Display for Entity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Storage failures, the same for every backend. The API maps `Conflict` and `NotFound` onto
/// client errors by their [`Entity`] and everything else onto a 5xx. A backend turns its own
/// driver's errors into `Backend`, so no database library's type appears here.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The change would duplicate an existing entity; the text says which and why.
    #[error("{1}")]
    Conflict(Entity, String),
    #[error("no such {0}")]
    NotFound(Entity),
    #[error("stored data is not readable: {0}")]
    Corrupt(String),
    /// The database failed or could not be reached (the driver's error inside).
    #[error("database error: {0}")]
    Backend(Box<dyn std::error::Error + Send + Sync>),
}

impl StoreError {
    /// A backend failure from any driver error.
    pub fn backend(error: impl std::error::Error + Send + Sync + 'static) -> StoreError {
        StoreError::Backend(Box::new(error))
    }
}

pub type StoreResult<T> = Result<T, StoreError>;
