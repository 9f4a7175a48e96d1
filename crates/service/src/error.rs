//! What can go wrong in a domain operation, in domain words.
//!
//! Each variant carries the sentence that tells the caller what exactly was wrong and how to fix
//! it; the faces decide how to say it (the v4 and v2 code tables in the API crate, a line of the
//! import's rejection file). [`ServiceError::public_code`] and [`ServiceError::public_message`]
//! are TrackingMore's v4 code and message for the variant, for callers without an HTTP face (the
//! import's rejection lines); the API's table test checks that they agree with its own table.

use parceld_store::StoreError;

/// Why a domain operation refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The input is not JSON, or not of the expected shape.
    #[error("{0}")]
    MalformedRequest(String),
    /// A field or parameter that is not accepted, or whose value is not understood.
    #[error("{0}")]
    InvalidField(String),
    #[error("{0}")]
    TrackingNumberMissing(String),
    #[error("{0}")]
    InvalidTrackingNumber(String),
    #[error("{0}")]
    InvalidTrackingId(String),
    #[error("{0}")]
    UnknownCourier(String),
    /// No courier given, and none recognises the number's format.
    #[error("{0}")]
    CourierNotDetected(String),
    /// The courier needs a field (postal code, ship date …) the tracking does not have.
    #[error("{0}")]
    MissingRequiredField(String),
    /// More items than one call may name.
    #[error("{0}")]
    TooMany(String),
    /// The account already tracks this number with this courier.
    #[error("{0}")]
    AlreadyExists(String),
    #[error("{0}")]
    TrackingNotFound(String),
    /// Only expired trackings may be retracked.
    #[error("{0}")]
    RetrackNotAllowed(String),
    #[error("{0}")]
    WebhookUrlInvalid(String),
    #[error("{0}")]
    WebhookStatusInvalid(String),
    #[error("{0}")]
    WebhookLimitReached(String),
    #[error("{0}")]
    WebhookNotFound(String),
    #[error("{0}")]
    WebhookDeliveryNotFound(String),
    /// A tracking-page setting that is not acceptable (a colour, an address, a host name …).
    #[error("{0}")]
    TrackingPageInvalid(String),
    /// A notification setting that is not acceptable (a channel, a trigger, an address …).
    #[error("{0}")]
    NotificationSettingsInvalid(String),
    /// A notification template that does not compile or render, with its line and reason.
    #[error("{0}")]
    NotificationTemplateInvalid(String),
    /// A template named by an unknown part, trigger or language.
    #[error("{0}")]
    NotificationTemplateUnknown(String),
    /// The store failed or refused; the API maps it as it maps every store error.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Something that should not happen did; the message is for the server log.
    #[error("{0}")]
    Internal(String),
}

impl ServiceError {
    /// The usual "no such tracking" of an id the account does not have.
    pub fn tracking_not_found() -> Self {
        ServiceError::TrackingNotFound("No tracking with this id belongs to your account.".into())
    }

    /// TrackingMore's v4 code for this error (`meta.code`). Store errors count as server errors
    /// here; the API maps a store's refusals (conflict, not found) with its own store table.
    pub fn public_code(&self) -> u32 {
        self.public().0
    }

    /// TrackingMore's v4 message for this error's code.
    pub fn public_message(&self) -> &'static str {
        self.public().1
    }

    fn public(&self) -> (u32, &'static str) {
        match self {
            ServiceError::MalformedRequest(_) => (400, "Request type error. Please check the API documentation for the request type of this API."),
            ServiceError::InvalidField(_) => (4130, "The format of Field name is invalid."),
            ServiceError::TrackingNumberMissing(_) => (4111, "Tracking_number is required."),
            ServiceError::InvalidTrackingNumber(_) => (4110, "The value of tracking_number is invalid."),
            ServiceError::InvalidTrackingId(_) => (4112, "Invalid Tracking ID."),
            ServiceError::UnknownCourier(_) => (4120, "The value of courier_code is invalid."),
            ServiceError::CourierNotDetected(_) => (4121, "Cannot detect courier."),
            ServiceError::MissingRequiredField(_) => (4122, "Missing or invalid value of the special required fields for this courier."),
            ServiceError::TooMany(_) => (4103, "You have exceeded the shipment quantity of API call. The maximum quantity is 40 shipments per call."),
            ServiceError::AlreadyExists(_) => (4101, "Tracking No. already exists."),
            ServiceError::TrackingNotFound(_) => (4102, "Tracking No. no exists. Please use 「Create a tracking」 API first to create shipment."),
            ServiceError::RetrackNotAllowed(_) => (4113, "Retrack is not allowed. You can only retrack an expired tracking."),
            ServiceError::WebhookUrlInvalid(_) => (4170, "The webhook url is invalid."),
            ServiceError::WebhookStatusInvalid(_) => (4171, "The value of statuses is invalid."),
            ServiceError::WebhookLimitReached(_) => (4172, "You have reached the maximum number of webhooks."),
            ServiceError::WebhookNotFound(_) => (4173, "Webhook does not exist."),
            ServiceError::WebhookDeliveryNotFound(_) => (4174, "Webhook delivery does not exist."),
            ServiceError::TrackingPageInvalid(_) => (4180, "The tracking page settings are invalid."),
            ServiceError::NotificationSettingsInvalid(_) => (4190, "The notification settings are invalid."),
            ServiceError::NotificationTemplateInvalid(_) => (4191, "The notification template is invalid."),
            ServiceError::NotificationTemplateUnknown(_) => (4192, "No such notification template."),
            ServiceError::Store(_) | ServiceError::Internal(_) => (511, "Server error."),
        }
    }

    /// The public message then the explanation, as `meta.message` says it.
    pub fn message(&self) -> String {
        let detail = self.to_string();
        if detail.is_empty() || matches!(self, ServiceError::Store(_) | ServiceError::Internal(_)) {
            self.public_message().to_string()
        } else {
            format!("{} {detail}", self.public_message())
        }
    }
}

pub type ServiceResult<T> = Result<T, ServiceError>;
