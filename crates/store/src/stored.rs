//! Reading stored values back, the same for every backend: statuses and sub-statuses kept by
//! name, tracking ids kept as their 16 bytes, JSON values, webhook payload versions. A value that
//! does not read is [`StoreError::Corrupt`] naming what it was, never a panic or a default.

use std::str::FromStr;

use parceld_model::{DeliveryStatus, SubStatus, TrackingId};

use crate::{StoreError, StoreResult, WebhookVersion};

/// A JSON value; `what` names it in the error.
pub fn parse_json<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> StoreResult<T> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

pub fn parse_status(text: &str) -> StoreResult<DeliveryStatus> {
    DeliveryStatus::from_str(text).map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub fn parse_substatus(text: Option<String>) -> StoreResult<Option<SubStatus>> {
    text.map(|t| SubStatus::from_str(&t).map_err(StoreError::Corrupt))
        .transpose()
}

/// A tracking id as stored: its 16 bytes ([`TrackingId::to_bytes`]).
pub fn tracking_id(bytes: &[u8]) -> StoreResult<TrackingId> {
    TrackingId::from_bytes(bytes)
        .ok_or_else(|| StoreError::Corrupt(format!("tracking id of {} bytes", bytes.len())))
}

/// A webhook endpoint's payload version as stored (`v4`, `v2`).
pub fn webhook_version(text: &str) -> StoreResult<WebhookVersion> {
    WebhookVersion::parse(text)
        .ok_or_else(|| StoreError::Corrupt(format!("webhook version `{text}`")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreadable_values_are_corrupt_and_name_what_they_were() {
        assert_eq!(parse_status("transit").unwrap(), DeliveryStatus::Transit);
        assert!(matches!(
            parse_status("moving"),
            Err(StoreError::Corrupt(_))
        ));
        assert!(parse_substatus(None).unwrap().is_none());
        assert!(matches!(
            parse_substatus(Some("transit999".into())),
            Err(StoreError::Corrupt(_))
        ));
        let id = TrackingId::generate();
        assert_eq!(tracking_id(&id.to_bytes()).unwrap(), id);
        let short = tracking_id(&[1, 2, 3]).unwrap_err().to_string();
        assert!(short.contains("tracking id of 3 bytes"), "{short}");
        let json = parse_json::<Vec<String>>("{", "statuses")
            .unwrap_err()
            .to_string();
        assert!(json.contains("statuses"), "{json}");
        assert_eq!(webhook_version("v2").unwrap(), WebhookVersion::V2);
        assert!(matches!(webhook_version("v9"), Err(StoreError::Corrupt(_))));
    }
}
