//! UPS Track Alert push: UPS proves itself with the `x-api-key` set in the UPS developer portal
//! (compared in constant time); each body is one package event.

use parceld_carriers::ups_alert;
use reqwest::header::HeaderMap;

use super::{constant_time_eq, header, PushError, PushSource, PushedEvent};

/// The UPS Track Alert source.
pub struct UpsPush {
    secret: String,
}

impl UpsPush {
    pub fn new(secret: &str) -> Self {
        UpsPush {
            secret: secret.to_string(),
        }
    }
}

impl PushSource for UpsPush {
    fn name(&self) -> &'static str {
        "ups"
    }

    fn verify(&self, headers: &HeaderMap, _body: &[u8]) -> Result<(), PushError> {
        match header(headers, "x-api-key") {
            Some(key) if constant_time_eq(key.as_bytes(), self.secret.as_bytes()) => Ok(()),
            Some(_) => Err(PushError::Forged(
                "the x-api-key is not this server's".into(),
            )),
            None => Err(PushError::Forged("no x-api-key header".into())),
        }
    }

    fn parse(&self, body: &[u8]) -> Result<Vec<PushedEvent>, PushError> {
        let (number, outcome) =
            ups_alert::parse_push(body).map_err(|e| PushError::Malformed(e.to_string()))?;
        Ok(vec![PushedEvent {
            tracking_number: number,
            outcome,
            courier: None,
        }])
    }
}
