//! Request extractors that turn every malformed request into a documented error instead of
//! axum's plain-text rejections: JSON bodies, query strings and the API key header.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use parceld_store::{Account, KeyCheck};
use serde::de::DeserializeOwned;

use crate::error::{ApiError, ErrorCode, V2Code, V2Error};
use crate::AppState;

/// The v4 API key header.
pub const API_KEY_HEADER: &str = "Tracking-Api-Key";

/// The request body, read whole. A body over the configured limit becomes a 413.
pub struct RawBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Bytes::from_request(req, state).await {
            Ok(bytes) => Ok(RawBody(bytes)),
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(ApiError::new(
                    ErrorCode::PayloadTooLarge,
                    "Send a smaller body: batches take at most 40 trackings.",
                ))
            }
            Err(rejection) => Err(ApiError::new(
                ErrorCode::BadRequest,
                format!("The request body could not be read: {rejection}."),
            )),
        }
    }
}

/// Parses a JSON body with the service's rules: a body that is not JSON or has a wrong type is a
/// 400, an unknown field a 4130 (with the v4 spelling for legacy names).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    Ok(parceld_service::json::parse_json(bytes)?)
}

/// Deserialises an already-parsed JSON value (a batch item) with the same error mapping.
pub fn from_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    Ok(parceld_service::json::from_value(value)?)
}

/// Query-string pairs, in order, percent-decoded.
pub struct QueryPairs(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for QueryPairs {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        serde_urlencoded::from_str(query)
            .map(QueryPairs)
            .map_err(|e| {
                ApiError::new(
                    ErrorCode::BadRequest,
                    format!("The query string could not be read: {e}."),
                )
            })
    }
}

/// The account a request's API key belongs to, as [`authenticate`] found it.
pub struct Authenticated(pub Account);

impl<S: Send + Sync> FromRequestParts<S> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Account>()
            .cloned()
            .map(Authenticated)
            .ok_or_else(|| {
                ApiError::internal("a route that needs an account is not behind authenticate")
            })
    }
}

/// Which face of the API a route belongs to: it decides the key headers accepted and the
/// envelope and codes of an authentication failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Face {
    V4,
    /// The legacy v2 API.
    V2,
}

/// The legacy v2 API key header (the v2 face accepts [`API_KEY_HEADER`] too).
pub const V2_API_KEY_HEADER: &str = "Trackingmore-Api-Key";

impl Face {
    /// The headers a key is read from, in order of preference.
    pub fn key_headers(self) -> &'static [&'static str] {
        match self {
            Face::V4 => &[API_KEY_HEADER],
            Face::V2 => &[V2_API_KEY_HEADER, API_KEY_HEADER],
        }
    }
}

/// Why a request could not be tied to an account.
#[derive(Debug)]
pub enum AuthFailure {
    Missing,
    Invalid,
    Deleted,
    AccountDisabled,
    Store(parceld_store::StoreError),
}

impl AuthFailure {
    /// The answer in `face`'s envelope and codes.
    pub fn into_response(self, face: Face) -> Response {
        const DISABLED: &str = "This account is disabled; ask the server's operator to enable it.";
        // Each failure on either face: the v4 code and explanation, then the v2 code and
        // explanation (v2 clients tell 4001 from 4002).
        let (v4_code, v4_detail, v2_code, v2_detail) = match self {
            AuthFailure::Missing => (
                ErrorCode::Unauthorized,
                "No API key: send your key in the Tracking-Api-Key header.",
                V2Code::Unauthorized,
                "No API key: send your key in the Trackingmore-Api-Key header.",
            ),
            AuthFailure::Invalid => (
                ErrorCode::Unauthorized,
                "Invalid API key. Check the Tracking-Api-Key header: parceld keys look like `pk_` followed by 40 hex characters.",
                V2Code::InvalidApiKey,
                "No key like this one ever existed on this server. Check the Trackingmore-Api-Key header: parceld keys look like `pk_` followed by 40 hex characters.",
            ),
            AuthFailure::Deleted => (
                ErrorCode::Unauthorized,
                "API key has been deleted. Use another key of the account or create one with `parceld key create`.",
                V2Code::ApiKeyDeleted,
                "Use another key of the account or create one with `parceld key create`.",
            ),
            AuthFailure::AccountDisabled => {
                (ErrorCode::Forbidden, DISABLED, V2Code::Forbidden, DISABLED)
            }
            AuthFailure::Store(error) => {
                let error = ApiError::from(error);
                return match face {
                    Face::V4 => error.into_response(),
                    Face::V2 => V2Error::from(error).into_response(),
                };
            }
        };
        match face {
            Face::V4 => ApiError::new(v4_code, v4_detail).into_response(),
            Face::V2 => V2Error::new(v2_code, v2_detail).into_response(),
        }
    }
}

/// Resolves a presented key to an enabled account.
async fn account_for(state: &AppState, presented: Option<String>) -> Result<Account, AuthFailure> {
    let presented = presented.ok_or(AuthFailure::Missing)?;
    match state
        .store
        .check_api_key(&presented)
        .await
        .map_err(AuthFailure::Store)?
    {
        KeyCheck::Valid(account) if account.disabled => Err(AuthFailure::AccountDisabled),
        KeyCheck::Valid(account) => Ok(account),
        KeyCheck::Deleted => Err(AuthFailure::Deleted),
        KeyCheck::Invalid => Err(AuthFailure::Invalid),
    }
}

/// Middleware: resolves the API key header of the route's [`Face`] to an account and leaves it
/// in the request's extensions, or answers in that face's envelope: missing, invalid and deleted
/// keys each said plainly (401; 4001/4002 on v2), a disabled account 403.
pub async fn authenticate(
    State((state, face)): State<(AppState, Face)>,
    mut request: Request,
    next: Next,
) -> Response {
    let presented = face.key_headers().iter().find_map(|name| {
        request
            .headers()
            .get(*name)
            .map(|v| v.to_str().unwrap_or("").trim().to_string())
    });
    match account_for(&state, presented).await {
        Ok(account) => {
            request.extensions_mut().insert(account);
            next.run(request).await
        }
        Err(failure) => failure.into_response(face),
    }
}
