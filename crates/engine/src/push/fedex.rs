//! FedEx Advanced Integrated Visibility push: `fdx-signature` is the base64 HMAC-SHA256 of the
//! raw body under the webhook project's security token (checked in constant time). The body is
//! read as the Track API's `output.completeTrackResults`, by the poll's own parser, so one push
//! may carry several numbers.

use reqwest::header::HeaderMap;

use super::{verify_hmac_base64, PushError, PushSource, PushedEvent};

/// The FedEx source.
pub struct FedexPush {
    secret: String,
}

impl FedexPush {
    pub fn new(secret: &str) -> Self {
        FedexPush {
            secret: secret.to_string(),
        }
    }
}

/// The `fdx-signature` of `body` under `secret`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    super::hmac_base64(secret, body)
}

impl PushSource for FedexPush {
    fn name(&self) -> &'static str {
        "fedex"
    }

    fn verify(&self, headers: &HeaderMap, body: &[u8]) -> Result<(), PushError> {
        verify_hmac_base64(headers, "fdx-signature", &self.secret, body)
    }

    fn parse(&self, body: &[u8]) -> Result<Vec<PushedEvent>, PushError> {
        let answers = parceld_carriers::fedex::parse_response(body)
            .map_err(|e| PushError::Malformed(e.to_string()))?;
        let mut events: Vec<PushedEvent> = answers
            .into_iter()
            .map(|(number, outcome)| PushedEvent {
                tracking_number: number,
                outcome,
                courier: None,
            })
            .collect();
        events.sort_by(|a, b| a.tracking_number.cmp(&b.tracking_number));
        if events.is_empty() {
            return Err(PushError::Malformed("no tracking results".into()));
        }
        Ok(events)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_right_signature_of_the_same_body_verifies() {
        let source = FedexPush::new("token");
        let body = br#"{"output":{}}"#;
        let mut headers = HeaderMap::new();
        headers.insert("fdx-signature", signature("token", body).parse().unwrap());
        assert!(source.verify(&headers, body).is_ok());
        assert!(source.verify(&headers, br#"{"output":1}"#).is_err());
        headers.insert("fdx-signature", signature("other", body).parse().unwrap());
        assert!(source.verify(&headers, body).is_err());
        assert!(source.verify(&HeaderMap::new(), body).is_err());
    }
}
