//! The rules every way into parceld applies to what it is given: what a valid tracking number
//! is, which courier codes exist, the couriers' required fields, and the limits of one call.
//! The v4 and v2 API, the CLI and the import all check with these functions, so a record the
//! import accepts is one `POST /v4/trackings/create` accepts too.

use parceld_model::{TrackingFields, TrackingId, TrackingNumber, TrackingNumberError};
use parceld_store::NewTracking;

use crate::error::{ServiceError, ServiceResult};

/// The most trackings one create or list call may name.
pub const MAX_BATCH: usize = 40;
/// The largest page of a list call.
pub const MAX_PAGE_SIZE: u32 = 2000;
/// The page size when none is given.
pub const DEFAULT_PAGE_SIZE: u32 = 100;

/// The most characters of a merchant field's text.
pub const MAX_FIELD_CHARS: usize = 256;
/// The most characters of the merchant's note, the one field meant for longer text.
pub const MAX_NOTE_CHARS: usize = 1000;

/// Declares [`merchant_texts`] from the merchant fields' names (the one list in
/// `parceld_model::merchant_fields!`).
macro_rules! merchant_texts {
    ({} $( $field:ident $info:tt )*) => {
        /// Each merchant field's (v4) name and value, in the list's order.
        fn merchant_texts(fields: &TrackingFields) -> Vec<(&'static str, Option<&str>)> {
            vec![ $( (stringify!($field), fields.$field.as_deref()), )* ]
        }
    };
}

parceld_model::merchant_fields!(merchant_texts);

/// The most characters a merchant field may hold.
pub fn max_chars(field: &str) -> usize {
    if field == "note" {
        MAX_NOTE_CHARS
    } else {
        MAX_FIELD_CHARS
    }
}

/// Checks the merchant fields' texts: each at most [`max_chars`] characters, and no control
/// characters (NUL, line breaks, tabs, escapes …), which no order number or customer name has and
/// which break the CSV exports, logs and notification e-mails the texts end up in. The first
/// offending field is named.
pub fn merchant_fields(fields: &TrackingFields) -> ServiceResult<()> {
    for (name, value) in merchant_texts(fields) {
        let Some(value) = value else { continue };
        let max = max_chars(name);
        let count = value.chars().count();
        if count > max {
            return Err(ServiceError::InvalidField(format!(
                "`{name}` has {count} characters; at most {max} are accepted."
            )));
        }
        if let Some(at) = value.chars().position(char::is_control) {
            return Err(ServiceError::InvalidField(format!(
                "`{name}` contains a control character (at character {}); send plain text.",
                at + 1
            )));
        }
    }
    contacts(fields)
}

/// Checks the customer's contacts, which notifications are sent to: an address that is clearly
/// not one is refused naming the field (not echoing the value), since a message to it could
/// never arrive. Only what is clearly wrong is refused, so that TrackingMore integrations keep
/// working: an empty text is no contact at all, and any plausible address or number passes.
fn contacts(fields: &TrackingFields) -> ServiceResult<()> {
    if let Some(email) = fields.customer_email.as_deref().filter(|e| !e.is_empty()) {
        if !is_email_address(email) {
            return Err(ServiceError::InvalidField(
                "`customer_email` is not an email address: send one address written \
                 name@domain.example, without spaces or a display name."
                    .into(),
            ));
        }
    }
    if let Some(phone) = fields.customer_sms.as_deref().filter(|p| !p.is_empty()) {
        if !is_phone_number(phone) {
            return Err(ServiceError::InvalidField(format!(
                "`customer_sms` is not a phone number: send {MIN_PHONE_DIGITS} to \
                 {MAX_PHONE_DIGITS} digits with an optional leading + and the country code \
                 (E.164, e.g. +31612345678); spaces, dashes, dots and brackets may separate them."
            )));
        }
    }
    Ok(())
}

/// The fewest and most digits of a phone number (E.164 allows 15 with the country code).
pub const MIN_PHONE_DIGITS: usize = 5;
pub const MAX_PHONE_DIGITS: usize = 15;

pub use parceld_store::subscribers::is_email_address;

/// Whether `text` is plausibly a phone number: [`MIN_PHONE_DIGITS`] to [`MAX_PHONE_DIGITS`]
/// digits, an optional `+` first, and spaces, dashes, dots and brackets between them.
pub fn is_phone_number(text: &str) -> bool {
    let rest = text
        .trim_start()
        .strip_prefix('+')
        .unwrap_or(text.trim_start());
    let digits = rest.chars().filter(char::is_ascii_digit).count();
    rest.chars()
        .all(|c| c.is_ascii_digit() || " -.()".contains(c))
        && (MIN_PHONE_DIGITS..=MAX_PHONE_DIGITS).contains(&digits)
}

/// Checks a tracking number.
pub fn tracking_number(raw: Option<&str>) -> ServiceResult<TrackingNumber> {
    TrackingNumber::parse(raw.unwrap_or("")).map_err(|e| match e {
        TrackingNumberError::Missing => ServiceError::TrackingNumberMissing(
            "Send the carrier's tracking number in `tracking_number`.".into(),
        ),
        other => ServiceError::InvalidTrackingNumber(format!(
            "{other}; got `{}`.",
            raw.unwrap_or("").trim()
        )),
    })
}

/// Checks a tracking id (the 32 hex characters create returned).
pub fn tracking_id(raw: &str) -> ServiceResult<TrackingId> {
    TrackingId::parse(raw).ok_or_else(|| {
        ServiceError::InvalidTrackingId(format!(
            "`{raw}` is not a tracking id: ids are the 32 hex characters that create returned."
        ))
    })
}

/// Checks a courier code against the registry.
pub fn courier_code(raw: &str) -> ServiceResult<&'static parceld_detect::Courier> {
    let code = raw.trim();
    parceld_detect::courier(code).ok_or_else(|| {
        ServiceError::UnknownCourier(format!(
            "`{code}` is not a courier code parceld knows; GET /v4/couriers/all lists them."
        ))
    })
}

/// Checks that a call names at most [`MAX_BATCH`] items; `what` says what was counted, e.g.
/// "This batch has 41 items".
pub fn at_most_a_batch(count: usize, what: impl FnOnce(usize) -> String) -> ServiceResult<()> {
    if count > MAX_BATCH {
        Err(ServiceError::TooMany(what(count)))
    } else {
        Ok(())
    }
}

/// Validates one create request and turns it into a tracking to store: the number, the courier
/// (detected from the number's format when none is given) and the courier's required fields.
pub fn new_tracking(
    number: Option<&str>,
    courier: Option<&str>,
    fields: TrackingFields,
) -> ServiceResult<NewTracking> {
    let number = tracking_number(number)?;
    merchant_fields(&fields)?;
    let (courier, detected) = match courier.map(str::trim).filter(|c| !c.is_empty()) {
        Some(code) => (courier_code(code)?, None),
        None => {
            let best = parceld_detect::detect(number.as_str()).into_iter().next();
            match best {
                Some(candidate) => (candidate.courier, Some(candidate)),
                None => {
                    return Err(ServiceError::CourierNotDetected(format!(
                        "`{number}` matches no courier's number format; send `courier_code` (GET /v4/couriers/all lists the codes)."
                    )))
                }
            }
        }
    };
    required_fields(courier, &fields)?;
    let mut notes = Vec::new();
    if let Some(candidate) = &detected {
        notes.push(format!(
            "Courier detected from the number: {}.",
            candidate.reason
        ));
    }
    if !courier.has_adapter {
        notes.push(format!(
            "parceld does not fetch tracking from {} yet; the tracking is stored and stays pending.",
            courier.name
        ));
    }
    Ok(NewTracking {
        tracking_number: number.into_string(),
        courier_code: courier.code.to_string(),
        courier_detected: detected.is_some(),
        fields,
        status_info: (!notes.is_empty()).then(|| notes.join(" ")),
        check_error: None,
    })
}

/// Checks the courier's special required fields.
pub fn required_fields(
    courier: &parceld_detect::Courier,
    fields: &TrackingFields,
) -> ServiceResult<()> {
    let missing: Vec<&str> = courier
        .tracking_required_fields
        .iter()
        .copied()
        .filter(|name| fields.get(name).is_none())
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(ServiceError::MissingRequiredField(format!(
            "Courier `{}` needs {}.",
            courier.code,
            missing
                .iter()
                .map(|m| format!("`{m}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )))
    }
}

/// Parses a boolean-ish archive flag: `true`/`false`, and the list filter's `archived`/`tracking`.
pub fn archived_flag(raw: &str, field: &str) -> ServiceResult<bool> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "true" | "archived" | "1" => Ok(true),
        "false" | "tracking" | "active" | "0" => Ok(false),
        other => Err(ServiceError::InvalidField(format!(
            "`{field}` must be \"true\" or \"false\"; got `{other}`."
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_required_and_checked() {
        assert!(matches!(
            tracking_number(None),
            Err(ServiceError::TrackingNumberMissing(_))
        ));
        assert!(matches!(
            tracking_number(Some("  ")),
            Err(ServiceError::TrackingNumberMissing(_))
        ));
        assert!(matches!(
            tracking_number(Some("a b")),
            Err(ServiceError::InvalidTrackingNumber(_))
        ));
        assert_eq!(
            tracking_number(Some(" 1Z999AA10123456784 "))
                .unwrap()
                .as_str(),
            "1Z999AA10123456784"
        );
    }

    #[test]
    fn unknown_couriers_are_refused_with_the_code_named() {
        let error = courier_code("teleport").unwrap_err();
        assert!(matches!(error, ServiceError::UnknownCourier(_)));
        assert!(error.to_string().contains("`teleport`"), "{error}");
        assert_eq!(courier_code(" ups ").unwrap().code, "ups");
    }

    #[test]
    fn a_missing_courier_is_detected_from_the_number_or_refused() {
        let detected = new_tracking(Some("1Z999AA10123456784"), None, Default::default()).unwrap();
        assert_eq!(detected.courier_code, "ups");
        assert!(detected.courier_detected);
        assert!(detected
            .status_info
            .unwrap()
            .starts_with("Courier detected from the number"));
        let error = new_tracking(Some("NOFORMAT"), None, Default::default()).unwrap_err();
        assert!(
            matches!(error, ServiceError::CourierNotDetected(_)),
            "{error:?}"
        );
    }

    #[test]
    fn a_courier_s_required_fields_are_demanded() {
        let Some(courier) = parceld_detect::couriers()
            .iter()
            .find(|c| !c.tracking_required_fields.is_empty())
        else {
            return;
        };
        let error = required_fields(courier, &TrackingFields::default()).unwrap_err();
        assert!(matches!(error, ServiceError::MissingRequiredField(_)));
        assert!(error
            .to_string()
            .contains(courier.tracking_required_fields[0]));
    }

    #[test]
    fn archive_flags_parse() {
        assert!(archived_flag("TRUE", "archived").unwrap());
        assert!(!archived_flag("tracking", "archived").unwrap());
        let error = archived_flag("perhaps", "archived_status").unwrap_err();
        assert!(matches!(error, ServiceError::InvalidField(_)));
        assert!(error.to_string().contains("`archived_status`"));
    }

    #[test]
    fn merchant_texts_are_limited_and_plain() {
        let with = |name: &str, value: String| {
            let mut fields = TrackingFields::default();
            let patch: TrackingFields =
                serde_json::from_value(serde_json::json!({ name: value })).unwrap();
            fields.apply(&patch);
            new_tracking(Some("1Z999AA10123456784"), Some("ups"), fields)
        };
        assert!(with("title", "x".repeat(MAX_FIELD_CHARS)).is_ok());
        assert!(with("note", "é".repeat(MAX_NOTE_CHARS)).is_ok());
        for (name, value, needle) in [
            ("title", "x".repeat(MAX_FIELD_CHARS + 1), "257 characters"),
            ("note", "x".repeat(MAX_NOTE_CHARS + 1), "at most 1000"),
            ("customer_email", "a@b.c\0".into(), "control character"),
            ("order_number", "#1\n".into(), "control character"),
            ("customer_sms", "\u{1b}[31m".into(), "control character"),
            ("logistics_channel", "a\tb".into(), "control character"),
        ] {
            let error = with(name, value).unwrap_err();
            assert!(matches!(error, ServiceError::InvalidField(_)), "{name}");
            let text = error.to_string();
            assert!(text.contains(&format!("`{name}`")), "{text}");
            assert!(text.contains(needle), "{text}");
        }
    }

    #[test]
    fn customer_contacts_are_refused_only_when_clearly_wrong() {
        for good in [
            "ada@example.com",
            "Ada.Lovelace+shop@mail.example.co.uk",
            "x@b.c",
        ] {
            assert!(is_email_address(good), "{good}");
        }
        for bad in [
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "ada @example.com",
            "Ada <ada@example.com>",
            "a@b.com,c@d.com",
            "ada@example..com",
            "ada@-x.com",
        ] {
            assert!(!is_email_address(bad), "{bad}");
        }
        for good in [
            "+31612345678",
            "+1 (555) 010-0123",
            "06 1234 5678",
            "+15550100",
            "12345",
        ] {
            assert!(is_phone_number(good), "{good}");
        }
        for bad in [
            "call me",
            "+",
            "1234",
            "+1234567890123456",
            "31+612345678",
            "0612345678 ext 5",
        ] {
            assert!(!is_phone_number(bad), "{bad}");
        }
        let with = |name: &str, value: &str| {
            let fields: TrackingFields =
                serde_json::from_value(serde_json::json!({ name: value })).unwrap();
            new_tracking(Some("1Z999AA10123456784"), Some("ups"), fields)
        };
        assert!(with("customer_email", "").is_ok(), "empty is no address");
        assert!(with("customer_sms", "").is_ok());
        for (name, value) in [
            ("customer_email", "not-an-address"),
            ("customer_sms", "n/a"),
        ] {
            let error = with(name, value).unwrap_err();
            assert!(matches!(error, ServiceError::InvalidField(_)), "{name}");
            let text = error.to_string();
            assert!(
                text.contains(&format!("`{name}`")) && !text.contains(value),
                "{text}"
            );
        }
    }

    #[test]
    fn batches_are_limited() {
        assert!(at_most_a_batch(MAX_BATCH, |n| n.to_string()).is_ok());
        assert!(matches!(
            at_most_a_batch(MAX_BATCH + 1, |n| n.to_string()),
            Err(ServiceError::TooMany(text)) if text == "41"
        ));
    }
}
