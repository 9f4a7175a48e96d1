//! The one table of public error codes.
//!
//! Every error parceld's v4 API returns is an [`ErrorCode`]: its numeric `meta.code`, its HTTP
//! status and TrackingMore's own message come from this table, so existing integrations that
//! compare codes or messages keep working. An [`ApiError`] adds a sentence that says what exactly
//! was wrong and how to fix it.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use parceld_store::StoreError;

macro_rules! error_codes {
    ($( $variant:ident = ($code:literal, $status:ident, $message:literal), )*) => {
        /// A public error code of the v4 API.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum ErrorCode { $( $variant, )* }

        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[ $( ErrorCode::$variant, )* ];

            /// `meta.code` on the wire.
            pub fn code(self) -> u32 {
                match self { $( ErrorCode::$variant => $code, )* }
            }

            pub fn http_status(self) -> StatusCode {
                match self { $( ErrorCode::$variant => StatusCode::$status, )* }
            }

            /// TrackingMore's message for the code.
            pub fn message(self) -> &'static str {
                match self { $( ErrorCode::$variant => $message, )* }
            }
        }
    };
}

error_codes! {
    BadRequest = (400, BAD_REQUEST, "Request type error. Please check the API documentation for the request type of this API."),
    TrackingExists = (4101, BAD_REQUEST, "Tracking No. already exists."),
    TrackingNotFound = (4102, BAD_REQUEST, "Tracking No. no exists. Please use 「Create a tracking」 API first to create shipment."),
    TooManyShipments = (4103, BAD_REQUEST, "You have exceeded the shipment quantity of API call. The maximum quantity is 40 shipments per call."),
    InvalidTrackingNumber = (4110, BAD_REQUEST, "The value of tracking_number is invalid."),
    TrackingNumberRequired = (4111, BAD_REQUEST, "Tracking_number is required."),
    InvalidTrackingId = (4112, BAD_REQUEST, "Invalid Tracking ID."),
    RetrackNotAllowed = (4113, BAD_REQUEST, "Retrack is not allowed. You can only retrack an expired tracking."),
    InvalidCourierCode = (4120, BAD_REQUEST, "The value of courier_code is invalid."),
    CannotDetectCourier = (4121, BAD_REQUEST, "Cannot detect courier."),
    MissingRequiredFields = (4122, BAD_REQUEST, "Missing or invalid value of the special required fields for this courier."),
    InvalidField = (4130, BAD_REQUEST, "The format of Field name is invalid."),
    // parceld's webhook extension (TrackingMore uses 4160–4168 for air waybills).
    WebhookUrlInvalid = (4170, BAD_REQUEST, "The webhook url is invalid."),
    WebhookStatusInvalid = (4171, BAD_REQUEST, "The value of statuses is invalid."),
    WebhookLimitReached = (4172, BAD_REQUEST, "You have reached the maximum number of webhooks."),
    WebhookNotFound = (4173, BAD_REQUEST, "Webhook does not exist."),
    WebhookDeliveryNotFound = (4174, BAD_REQUEST, "Webhook delivery does not exist."),
    Unauthorized = (401, UNAUTHORIZED, "Authentication failed or has no permission. Please check and ensure your API Key is correct."),
    Forbidden = (403, FORBIDDEN, "Access prohibited. The request has been refused or access is not allowed."),
    NotFound = (404, NOT_FOUND, "Page does not exist. Please check and ensure your link is correct."),
    MethodNotAllowed = (405, METHOD_NOT_ALLOWED, "Requested method is not supported for the specified resource."),
    PayloadTooLarge = (413, PAYLOAD_TOO_LARGE, "The request body is too large."),
    TooManyRequests = (429, TOO_MANY_REQUESTS, "Exceeded API request limits, please try again later."),
    ServerError = (511, INTERNAL_SERVER_ERROR, "Server error."),
    Unavailable = (513, SERVICE_UNAVAILABLE, "Service temporarily unavailable."),
}

/// An error response: a code from the table plus what to fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub code: ErrorCode,
    pub detail: String,
}

impl ApiError {
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        ApiError {
            code,
            detail: detail.into(),
        }
    }

    /// `meta.message`: TrackingMore's message, then parceld's explanation.
    pub fn message(&self) -> String {
        if self.detail.is_empty() {
            self.code.message().to_string()
        } else {
            format!("{} {}", self.code.message(), self.detail)
        }
    }

    pub fn tracking_not_found() -> Self {
        ApiError::new(
            ErrorCode::TrackingNotFound,
            "No tracking with this id belongs to your account.",
        )
    }

    pub fn internal(what: impl std::fmt::Display) -> Self {
        tracing::error!(error = %what, "internal error");
        ApiError::new(
            ErrorCode::ServerError,
            "Something went wrong on the server; the request may be retried. The server log has details.",
        )
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict(detail) => ApiError::new(ErrorCode::TrackingExists, detail),
            StoreError::NotFound(_) => ApiError::tracking_not_found(),
            other => ApiError::internal(other),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = crate::v4::wire::Envelope {
            meta: crate::v4::wire::Meta {
                code: self.code.code(),
                message: self.message(),
            },
            data: serde_json::Value::Null,
        };
        let mut response = (self.code.http_status(), Json(body)).into_response();
        response.extensions_mut().insert(self.code);
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_http_status_matches_the_class() {
        for (i, code) in ErrorCode::ALL.iter().enumerate() {
            assert!(ErrorCode::ALL[i + 1..]
                .iter()
                .all(|o| o.code() != code.code()));
            let status = code.http_status().as_u16();
            if code.code() >= 4100 && code.code() < 4200 {
                assert_eq!(status, 400, "{code:?}");
            } else if code.code() < 500 {
                assert_eq!(u32::from(status), code.code(), "{code:?}");
            } else {
                assert!(status >= 500, "{code:?}");
            }
        }
    }
}
