//! The tables of public error codes: one per face of the API.
//!
//! Every error parceld's v4 API returns is an [`ErrorCode`]: its numeric `meta.code`, its HTTP
//! status and TrackingMore's own message come from this table, so existing integrations that
//! compare codes or messages keep working. An [`ApiError`] adds a sentence that says what exactly
//! was wrong and how to fix it.
//!
//! The legacy v2 face has its own table, [`V2Code`], because v2 clients compare other numbers
//! (4001, 4015, 4031 …) and read a `type` beside the message. The services behind both faces
//! speak [`ApiError`]; the v2 handlers translate with `V2Error::from`, so a rule is written once
//! and each face only decides how to say it.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use parceld_service::ServiceError;
use parceld_store::{Entity, StoreError};

/// Declares one face's table of public codes: the enum, `ALL`, and per code its `meta.code`, its
/// HTTP status, TrackingMore's message and, where the face has one (v2), its `meta.type`.
macro_rules! code_table {
    (
        $(#[$doc:meta])* $name:ident;
        $( $variant:ident = ($code:literal, $status:ident, $message:literal $(, type $kind:literal)?), )*
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name { $( $variant, )* }

        impl $name {
            pub const ALL: &'static [$name] = &[ $( $name::$variant, )* ];

            /// `meta.code` on the wire.
            pub fn code(self) -> u32 {
                match self { $( $name::$variant => $code, )* }
            }

            pub fn http_status(self) -> StatusCode {
                match self { $( $name::$variant => StatusCode::$status, )* }
            }

            /// TrackingMore's message for the code.
            pub fn message(self) -> &'static str {
                match self { $( $name::$variant => $message, )* }
            }
        }

        code_table!(@kind $name $( $variant $($kind)? ; )*);
    };
    // A face whose codes carry no `meta.type`.
    (@kind $name:ident $( $variant:ident ; )*) => {};
    (@kind $name:ident $( $variant:ident $kind:literal ; )*) => {
        impl $name {
            /// `meta.type` on the wire.
            pub fn kind(self) -> &'static str {
                match self { $( $name::$variant => $kind, )* }
            }
        }
    };
}

code_table! {
    /// A public error code of the v4 API.
    ErrorCode;
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
    // Air waybills (TrackingMore's codes), and 4169: parceld has no air-cargo upstream.
    AwbInvalid = (4160, BAD_REQUEST, "The awb_number is required or invaild format."),
    AwbAirlineUnsupported = (4161, BAD_REQUEST, "The awb airline does not support yet."),
    AwbBatchTooLarge = (4162, BAD_REQUEST, "A batch supports only 20 awb_numbers."),
    AwbNotConfigured = (4169, BAD_REQUEST, "Air waybill tracking is not configured on this server."),
    // parceld's carrier-push extension (`/hooks/<source>`).
    PushForged = (4195, BAD_REQUEST, "The push could not be verified."),
    PushMalformed = (4196, BAD_REQUEST, "The push body is not understood."),
    PushStale = (4197, BAD_REQUEST, "The push is older than what is stored."),
    PushReplayed = (4198, BAD_REQUEST, "The push was already received."),
    // parceld's webhook extension.
    WebhookUrlInvalid = (4170, BAD_REQUEST, "The webhook url is invalid."),
    WebhookStatusInvalid = (4171, BAD_REQUEST, "The value of statuses is invalid."),
    WebhookLimitReached = (4172, BAD_REQUEST, "You have reached the maximum number of webhooks."),
    WebhookNotFound = (4173, BAD_REQUEST, "Webhook does not exist."),
    WebhookDeliveryNotFound = (4174, BAD_REQUEST, "Webhook delivery does not exist."),
    // parceld's tracking-page extension.
    TrackingPageInvalid = (4180, BAD_REQUEST, "The tracking page settings are invalid."),
    TrackingPageHostTaken = (4181, BAD_REQUEST, "The host name is already used by another tracking page."),
    // parceld's notification extension (`/v4/notifications/…`).
    NotificationSettingsInvalid = (4190, BAD_REQUEST, "The notification settings are invalid."),
    NotificationTemplateInvalid = (4191, BAD_REQUEST, "The notification template is invalid."),
    NotificationTemplateUnknown = (4192, BAD_REQUEST, "No such notification template."),
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

/// Each entity the store reports missing or duplicated has its own code; the match names every
/// entity so that a new one needs a decision here.
impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound(entity) => match entity {
                Entity::Tracking => ApiError::tracking_not_found(),
                Entity::Webhook => ApiError::new(
                    ErrorCode::WebhookNotFound,
                    "No such webhook belongs to your account; GET /v4/webhooks lists them.",
                ),
                Entity::Delivery => ApiError::new(
                    ErrorCode::WebhookDeliveryNotFound,
                    "The webhook has no such delivery; GET /v4/webhooks/<id>/deliveries lists them.",
                ),
                Entity::Account | Entity::ApiKey | Entity::TrackingPage => ApiError::new(
                    ErrorCode::Unauthorized,
                    "The account or API key of this request no longer exists.",
                ),
            },
            StoreError::Conflict(entity, detail) => match entity {
                Entity::Tracking => ApiError::new(ErrorCode::TrackingExists, detail),
                Entity::TrackingPage => ApiError::new(ErrorCode::TrackingPageHostTaken, detail),
                Entity::Account | Entity::ApiKey | Entity::Webhook | Entity::Delivery => {
                    ApiError::new(ErrorCode::BadRequest, detail)
                }
            },
            other => ApiError::internal(other),
        }
    }
}

impl From<ServiceError> for ApiError {
    /// Each domain refusal onto its v4 code, with the service's explanation unchanged.
    fn from(error: ServiceError) -> Self {
        let code = match &error {
            ServiceError::MalformedRequest(_) => ErrorCode::BadRequest,
            ServiceError::InvalidField(_) => ErrorCode::InvalidField,
            ServiceError::TrackingNumberMissing(_) => ErrorCode::TrackingNumberRequired,
            ServiceError::InvalidTrackingNumber(_) => ErrorCode::InvalidTrackingNumber,
            ServiceError::InvalidTrackingId(_) => ErrorCode::InvalidTrackingId,
            ServiceError::UnknownCourier(_) => ErrorCode::InvalidCourierCode,
            ServiceError::CourierNotDetected(_) => ErrorCode::CannotDetectCourier,
            ServiceError::MissingRequiredField(_) => ErrorCode::MissingRequiredFields,
            ServiceError::TooMany(_) => ErrorCode::TooManyShipments,
            ServiceError::AlreadyExists(_) => ErrorCode::TrackingExists,
            ServiceError::TrackingNotFound(_) => ErrorCode::TrackingNotFound,
            ServiceError::RetrackNotAllowed(_) => ErrorCode::RetrackNotAllowed,
            ServiceError::WebhookUrlInvalid(_) => ErrorCode::WebhookUrlInvalid,
            ServiceError::WebhookStatusInvalid(_) => ErrorCode::WebhookStatusInvalid,
            ServiceError::WebhookLimitReached(_) => ErrorCode::WebhookLimitReached,
            ServiceError::WebhookNotFound(_) => ErrorCode::WebhookNotFound,
            ServiceError::WebhookDeliveryNotFound(_) => ErrorCode::WebhookDeliveryNotFound,
            ServiceError::TrackingPageInvalid(_) => ErrorCode::TrackingPageInvalid,
            ServiceError::NotificationSettingsInvalid(_) => ErrorCode::NotificationSettingsInvalid,
            ServiceError::NotificationTemplateInvalid(_) => ErrorCode::NotificationTemplateInvalid,
            ServiceError::NotificationTemplateUnknown(_) => ErrorCode::NotificationTemplateUnknown,
            ServiceError::Store(_) | ServiceError::Internal(_) => {
                return match error {
                    ServiceError::Store(store) => ApiError::from(store),
                    other => ApiError::internal(other),
                };
            }
        };
        ApiError::new(code, error.to_string())
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
        error_response(self.code.http_status(), body, self.code)
    }
}

/// An error's answer: its envelope `body` with `status`, and its `code` among the response's
/// extensions, where the metrics read it.
fn error_response<C>(status: StatusCode, body: impl serde::Serialize, code: C) -> Response
where
    C: Clone + Send + Sync + 'static,
{
    let mut response = (status, Json(body)).into_response();
    response.extensions_mut().insert(code);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_missing_or_duplicated_entity_has_its_own_code() {
        let not_found = |entity| ApiError::from(StoreError::NotFound(entity)).code;
        assert_eq!(not_found(Entity::Tracking), ErrorCode::TrackingNotFound);
        assert_eq!(not_found(Entity::Webhook), ErrorCode::WebhookNotFound);
        assert_eq!(
            not_found(Entity::Delivery),
            ErrorCode::WebhookDeliveryNotFound
        );
        assert_eq!(not_found(Entity::Account), ErrorCode::Unauthorized);
        assert_eq!(not_found(Entity::ApiKey), ErrorCode::Unauthorized);
        assert_eq!(ErrorCode::WebhookNotFound.code(), 4173);
        assert_eq!(ErrorCode::WebhookDeliveryNotFound.code(), 4174);
        assert_eq!(ErrorCode::TrackingNotFound.code(), 4102);

        let conflict = ApiError::from(StoreError::Conflict(
            Entity::Tracking,
            "this account already tracks the number with courier `ups`".into(),
        ));
        assert_eq!(conflict.code, ErrorCode::TrackingExists);
        assert!(conflict.detail.contains("`ups`"), "{conflict:?}");
        let conflict = ApiError::from(StoreError::Conflict(Entity::Account, "taken".into()));
        assert_eq!(conflict.code, ErrorCode::BadRequest);

        let broken = ApiError::from(StoreError::Corrupt("fields: expected value".into()));
        assert_eq!(broken.code, ErrorCode::ServerError);
        assert!(!broken.detail.contains("fields"), "{broken:?}");
    }

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

// 4031 is "the request succeeded but there is nothing to show", so it keeps HTTP 200 like
// TrackingMore; every failure has a meaningful HTTP status as well as its code.
code_table! {
    /// A public code of the legacy v2 API.
    V2Code;
    Unauthorized = (401, UNAUTHORIZED, "Authentication failed or user does not have permissions for the requested operation.", type "Unauthorized"),
    InvalidApiKey = (4001, UNAUTHORIZED, "Invalid API key.", type "Unauthorized"),
    ApiKeyDeleted = (4002, UNAUTHORIZED, "API key has been deleted.", type "Unauthorized"),
    BadRequest = (4012, BAD_REQUEST, "The request could not be understood or was missing required parameters.", type "Bad Request"),
    TrackingNumberRequired = (4013, BAD_REQUEST, "Tracking_number is required.", type "Bad Request"),
    InvalidTrackingNumber = (4014, BAD_REQUEST, "The value of `tracking_number` is invalid.", type "Bad Request"),
    InvalidCarrierCode = (4015, BAD_REQUEST, "The value of `carrier_code` is invalid.", type "Bad Request"),
    TrackingExists = (4016, BAD_REQUEST, "Tracking already exists.", type "Bad Request"),
    TrackingNotFound = (4017, BAD_REQUEST, "Tracking does not exist.", type "Bad Request"),
    TooManyTrackings = (4020, BAD_REQUEST, "Up to 40 trackings at a time.", type "Bad Request"),
    NoContent = (4031, OK, "The request was successful but the response is empty. Please try POST /trackings/post and then GET /trackings/get", type "No Content"),
    CannotDetectCourier = (4032, BAD_REQUEST, "Cannot detect courier. Assign your shipment a courier instead of by auto detection.", type "No Content"),
    InvalidStatus = (4033, BAD_REQUEST, "The value of `package status` is invalid.", type "No Content"),
    Forbidden = (403, FORBIDDEN, "Access denied.", type "Forbidden"),
    NotFound = (404, NOT_FOUND, "Resource was not found.", type "Not Found"),
    MethodNotAllowed = (405, METHOD_NOT_ALLOWED, "Requested method is not supported for the specified resource.", type "Method Not Allowed"),
    PayloadTooLarge = (413, PAYLOAD_TOO_LARGE, "The request body is too large.", type "Payload Too Large"),
    TooManyRequests = (429, TOO_MANY_REQUESTS, "Exceeded API limits.", type "Too Many Requests"),
    ServerError = (500, INTERNAL_SERVER_ERROR, "Server error.", type "Server error"),
    Unavailable = (503, SERVICE_UNAVAILABLE, "The service is temporarily unavailable.", type "Service Unavailable"),
}

/// An error response of the v2 face: a code from [`V2Code`] and the whole `meta.message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V2Error {
    pub code: V2Code,
    pub message: String,
}

impl V2Error {
    /// TrackingMore's message for `code`, then what exactly was wrong.
    pub fn new(code: V2Code, detail: impl AsRef<str>) -> Self {
        let detail = detail.as_ref();
        let message = if detail.is_empty() {
            code.message().to_string()
        } else {
            format!("{} {detail}", code.message())
        };
        V2Error { code, message }
    }

    /// A message of its own, for a code whose table message would mislead (4015 for a body
    /// that is not JSON).
    pub fn with_message(code: V2Code, message: impl Into<String>) -> Self {
        V2Error {
            code,
            message: message.into(),
        }
    }
}

/// v4 names in the services' explanations, and what a v2 client calls them.
const V2_VOCABULARY: &[(&str, &str)] = &[
    ("GET /v4/couriers/all", "GET /v2/carriers"),
    ("GET /v4/trackings/get", "GET /v2/trackings/get"),
    ("`courier_code`", "`carrier_code`"),
];

/// Declares [`V2_FIELD_NAMES`] from the merchant fields' list (`parceld_model::merchant_fields!`).
macro_rules! v2_field_names {
    ({} $( $field:ident { doc: $doc:tt, v4: $v4:tt, v2: [$($v2:tt)?] $v2_doc:tt } )*) => {
        /// Each merchant field v2 knows: its v4 name in an explanation, and its v2 name.
        const V2_FIELD_NAMES: &[(&str, &str)] = &[
            $( $( (concat!("`", stringify!($field), "`"), concat!("`", $v2, "`")), )? )*
        ];
    };
}

parceld_model::merchant_fields!(v2_field_names);

impl From<ApiError> for V2Error {
    fn from(error: ApiError) -> Self {
        let code = match error.code {
            ErrorCode::BadRequest | ErrorCode::InvalidField | ErrorCode::InvalidTrackingId => {
                V2Code::BadRequest
            }
            ErrorCode::MissingRequiredFields => V2Code::BadRequest,
            ErrorCode::TrackingExists => V2Code::TrackingExists,
            ErrorCode::TrackingNotFound | ErrorCode::RetrackNotAllowed => V2Code::TrackingNotFound,
            ErrorCode::TooManyShipments => V2Code::TooManyTrackings,
            ErrorCode::InvalidTrackingNumber => V2Code::InvalidTrackingNumber,
            ErrorCode::TrackingNumberRequired => V2Code::TrackingNumberRequired,
            ErrorCode::InvalidCourierCode => V2Code::InvalidCarrierCode,
            ErrorCode::CannotDetectCourier => V2Code::CannotDetectCourier,
            ErrorCode::Unauthorized => V2Code::Unauthorized,
            ErrorCode::Forbidden => V2Code::Forbidden,
            ErrorCode::NotFound => V2Code::NotFound,
            ErrorCode::MethodNotAllowed => V2Code::MethodNotAllowed,
            ErrorCode::PayloadTooLarge => V2Code::PayloadTooLarge,
            ErrorCode::TooManyRequests => V2Code::TooManyRequests,
            ErrorCode::ServerError => V2Code::ServerError,
            ErrorCode::Unavailable => V2Code::Unavailable,
            // Webhooks (and the tracking page, notifications, air waybills) are managed through v4
            // only; these never reach a v2 client.
            ErrorCode::WebhookUrlInvalid
            | ErrorCode::WebhookStatusInvalid
            | ErrorCode::WebhookLimitReached
            | ErrorCode::TrackingPageInvalid
            | ErrorCode::TrackingPageHostTaken
            | ErrorCode::NotificationSettingsInvalid
            | ErrorCode::NotificationTemplateInvalid
            | ErrorCode::NotificationTemplateUnknown
            | ErrorCode::AwbInvalid
            | ErrorCode::AwbAirlineUnsupported
            | ErrorCode::AwbBatchTooLarge
            | ErrorCode::PushMalformed => V2Code::BadRequest,
            ErrorCode::PushForged => V2Code::Unauthorized,
            ErrorCode::PushStale | ErrorCode::PushReplayed | ErrorCode::AwbNotConfigured => {
                V2Code::BadRequest
            }
            ErrorCode::WebhookNotFound | ErrorCode::WebhookDeliveryNotFound => V2Code::NotFound,
        };
        let mut detail = error.detail;
        if error.code == ErrorCode::MissingRequiredFields {
            detail = format!("{} {detail}", error.code.message());
        }
        for (v4, v2) in V2_VOCABULARY.iter().chain(V2_FIELD_NAMES) {
            if v4 != v2 {
                detail = detail.replace(v4, v2);
            }
        }
        V2Error::new(code, detail)
    }
}

impl From<ServiceError> for V2Error {
    fn from(error: ServiceError) -> Self {
        ApiError::from(error).into()
    }
}

impl From<StoreError> for V2Error {
    fn from(error: StoreError) -> Self {
        ApiError::from(error).into()
    }
}

impl IntoResponse for V2Error {
    fn into_response(self) -> Response {
        let body = crate::v2::wire::V2Envelope {
            meta: crate::v2::wire::V2Meta {
                code: self.code.code(),
                kind: self.code.kind().to_string(),
                message: self.message,
            },
            data: serde_json::Value::Null,
        };
        error_response(self.code.http_status(), body, self.code)
    }
}

#[cfg(test)]
mod service_tests {
    use super::*;

    /// A refusal's constructor: it takes the explanation of what was wrong.
    type Refusal = fn(String) -> ServiceError;

    /// Every domain refusal, with the v4 code it must be answered with.
    fn refusals() -> Vec<(ServiceError, ErrorCode)> {
        use {ErrorCode as C, ServiceError as S};
        let refusals: [(Refusal, ErrorCode); 22] = [
            (S::MalformedRequest, C::BadRequest),
            (S::InvalidField, C::InvalidField),
            (S::TrackingNumberMissing, C::TrackingNumberRequired),
            (S::InvalidTrackingNumber, C::InvalidTrackingNumber),
            (S::InvalidTrackingId, C::InvalidTrackingId),
            (S::UnknownCourier, C::InvalidCourierCode),
            (S::CourierNotDetected, C::CannotDetectCourier),
            (S::MissingRequiredField, C::MissingRequiredFields),
            (S::TooMany, C::TooManyShipments),
            (S::AlreadyExists, C::TrackingExists),
            (S::TrackingNotFound, C::TrackingNotFound),
            (S::RetrackNotAllowed, C::RetrackNotAllowed),
            (S::WebhookUrlInvalid, C::WebhookUrlInvalid),
            (S::WebhookStatusInvalid, C::WebhookStatusInvalid),
            (S::WebhookLimitReached, C::WebhookLimitReached),
            (S::WebhookNotFound, C::WebhookNotFound),
            (S::WebhookDeliveryNotFound, C::WebhookDeliveryNotFound),
            (S::TrackingPageInvalid, C::TrackingPageInvalid),
            (
                S::NotificationSettingsInvalid,
                C::NotificationSettingsInvalid,
            ),
            (
                S::NotificationTemplateInvalid,
                C::NotificationTemplateInvalid,
            ),
            (
                S::NotificationTemplateUnknown,
                C::NotificationTemplateUnknown,
            ),
            (S::Internal, C::ServerError),
        ];
        refusals
            .into_iter()
            .map(|(refusal, code)| (refusal("what was wrong".to_string()), code))
            .collect()
    }

    #[test]
    fn every_service_error_has_its_code_and_keeps_its_explanation() {
        for (error, expected) in refusals() {
            let public = (error.public_code(), error.public_message());
            let is_internal = matches!(error, ServiceError::Internal(_));
            let api = ApiError::from(error);
            assert_eq!(api.code, expected);
            // The service's own idea of the code (the import's rejection lines) is the table's.
            assert_eq!(
                public,
                (expected.code(), expected.message()),
                "{expected:?}"
            );
            if !is_internal {
                assert_eq!(api.detail, "what was wrong", "{expected:?}");
            }
        }
    }

    #[test]
    fn service_errors_reach_v2_through_the_v4_table() {
        let v2 = V2Error::from(ServiceError::UnknownCourier(
            "`x` is unknown; see `courier_code`.".into(),
        ));
        assert_eq!(v2.code, V2Code::InvalidCarrierCode);
        assert!(
            v2.message.ends_with("`x` is unknown; see `carrier_code`."),
            "{v2:?}"
        );
        // A merchant field is named as v2 names it.
        let v2 = V2Error::from(ServiceError::InvalidField(
            "`note` has 1001 characters; `customer_sms` and `title` too.".into(),
        ));
        assert!(
            v2.message
                .ends_with("`comment` has 1001 characters; `customer_phone` and `title` too."),
            "{v2:?}"
        );
    }
}

#[cfg(test)]
mod v2_tests {
    use super::*;

    #[test]
    fn v2_codes_are_unique_and_every_v4_code_has_a_v2_counterpart() {
        for (i, code) in V2Code::ALL.iter().enumerate() {
            assert!(V2Code::ALL[i + 1..].iter().all(|o| o.code() != code.code()));
        }
        for code in ErrorCode::ALL {
            let v2 = V2Error::from(ApiError::new(*code, "see `courier_code`"));
            assert!(v2.message.contains("`carrier_code`"), "{v2:?}");
        }
        assert_eq!(V2Code::InvalidApiKey.message(), "Invalid API key.");
        assert_eq!(V2Code::ApiKeyDeleted.message(), "API key has been deleted.");
    }
}
