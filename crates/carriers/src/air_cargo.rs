//! Air waybills: the number's rules, the airline registry, and the air-cargo upstream.
//!
//! An air waybill number is a three-digit IATA airline prefix and an eight-digit serial whose
//! last digit is the first seven taken modulo 7 (`235-69030430`: 6903043 mod 7 = 0). The prefix
//! must name a cargo airline of the registry (`tables/airlines.tsv`, from IATA's directory).
//! parceld does not track air cargo itself: a configured upstream that speaks TrackingMore's
//! `POST /v4/awb` answers (`[air_cargo] base_url, api_key`), and without one the request is
//! refused with a clear error.

use std::time::Duration;

use serde::Deserialize;
use serde_json::{json, Value};

use crate::http::{HttpClient, Limits};
use crate::CarrierError;

/// The most air waybills one request may carry (TrackingMore's 4162).
pub const MAX_BATCH: usize = 20;

const REGISTRY: &str = include_str!("../tables/airlines.tsv");

/// A cargo airline of the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Airline {
    pub prefix: &'static str,
    pub designator: &'static str,
    pub name: &'static str,
}

/// Every airline of the registry, in prefix order.
pub fn airlines() -> impl Iterator<Item = Airline> {
    REGISTRY
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|line| {
            let mut fields = line.split('\t');
            Some(Airline {
                prefix: fields.next()?,
                designator: fields.next()?,
                name: fields.next()?,
            })
        })
}

/// The registry's airline with this prefix.
pub fn airline(prefix: &str) -> Option<Airline> {
    airlines().find(|a| a.prefix == prefix)
}

/// Why an air waybill number is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AwbError {
    /// Missing, not `PPP-SSSSSSSS`, or its check digit is wrong (4160).
    #[error("{0}")]
    Invalid(String),
    /// The prefix names no cargo airline parceld knows (4161).
    #[error("{0}")]
    AirlineUnsupported(String),
}

/// A valid air waybill number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Awb {
    pub airline: Airline,
    pub serial: String,
}

impl Awb {
    /// `PPP-SSSSSSSS`, the way TrackingMore writes it.
    pub fn number(&self) -> String {
        format!("{}-{}", self.airline.prefix, self.serial)
    }

    /// Checks `raw` (`235-69030430`, `235 69030430` or `23569030430`).
    pub fn parse(raw: &str) -> Result<Awb, AwbError> {
        let raw = raw.trim();
        let digits: String = raw.chars().filter(|c| *c != '-' && *c != ' ').collect();
        let separators = raw.len() - digits.len();
        let well_formed = digits.len() == 11
            && digits.bytes().all(|b| b.is_ascii_digit())
            && (separators == 0
                || (separators == 1
                    && raw
                        .as_bytes()
                        .get(3)
                        .is_some_and(|b| *b == b'-' || *b == b' ')));
        if !well_formed {
            return Err(AwbError::Invalid(format!(
                "`{}` is not an air waybill number: three digits of airline prefix and eight of serial, as in 235-69030430.",
                raw.chars().take(40).collect::<String>()
            )));
        }
        let (prefix, serial) = digits.split_at(3);
        let body: u32 = serial[..7].parse().unwrap_or(0);
        let check = u32::from(serial.as_bytes()[7] - b'0');
        if body % 7 != check {
            return Err(AwbError::Invalid(format!(
                "the check digit of {prefix}-{serial} is wrong: the last digit must be the first seven modulo 7 ({}).",
                body % 7
            )));
        }
        let airline = airline(prefix).ok_or_else(|| {
            AwbError::AirlineUnsupported(format!(
                "no cargo airline parceld knows has the prefix {prefix}."
            ))
        })?;
        Ok(Awb {
            airline,
            serial: serial.to_string(),
        })
    }
}

/// `[air_cargo]`: the upstream that tracks air waybills (TrackingMore's `/v4/awb` protocol).
#[derive(Clone, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct AirCargoSettings {
    /// The upstream's API root, e.g. `https://api.trackingmore.com`.
    pub base_url: Option<String>,
    /// Its key, sent as `Tracking-Api-Key`.
    pub api_key: Option<String>,
    /// Whole-request timeout in milliseconds.
    pub timeout_ms: Option<u64>,
}

impl std::fmt::Debug for AirCargoSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AirCargoSettings")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// A client of the air-cargo upstream.
#[derive(Debug)]
pub struct AirCargo {
    http: HttpClient,
    base: String,
    key: String,
}

impl AirCargo {
    /// The configured upstream; `None` when `[air_cargo]` names none.
    pub fn from_settings(settings: &AirCargoSettings) -> Result<Option<AirCargo>, String> {
        let (Some(base), Some(key)) = (&settings.base_url, &settings.api_key) else {
            return Ok(None);
        };
        if reqwest::Url::parse(base).is_err() {
            return Err(format!(
                "[air_cargo] base_url `{base}` is not an absolute URL"
            ));
        }
        let timeout = Duration::from_millis(settings.timeout_ms.unwrap_or(15_000));
        Ok(Some(AirCargo {
            http: HttpClient::new("air-cargo", timeout, Limits::new(10.0, 4)),
            base: base.trim_end_matches('/').to_string(),
            key: key.clone(),
        }))
    }

    /// The upstream's `data` for one air waybill.
    pub async fn track(&self, awb: &Awb) -> Result<Value, CarrierError> {
        let request = self
            .http
            .inner()
            .post(format!("{}/v4/awb", self.base))
            .header("Tracking-Api-Key", &self.key)
            .json(&json!({ "awb_number": awb.number() }));
        let reply = self.http.send(request).await?;
        reply.parsed("air-cargo", |body| {
            let value: Value = serde_json::from_slice(body)
                .map_err(|e| CarrierError::malformed("air-cargo", e))?;
            match value.pointer("/meta/code").and_then(Value::as_u64) {
                Some(200) => Ok(value.get("data").cloned().unwrap_or(Value::Null)),
                code => Err(CarrierError::permanent(format!(
                    "the air-cargo upstream answered code {}: {}",
                    code.map_or("none".to_string(), |c| c.to_string()),
                    value
                        .pointer("/meta/message")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                ))),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_need_a_known_prefix_eight_digits_and_the_mod_7_check_digit() {
        let awb = Awb::parse("235-69030430").unwrap();
        assert_eq!(awb.airline.name, "Turkish Cargo");
        assert_eq!(Awb::parse("235 69030430").unwrap(), awb);
        assert_eq!(Awb::parse("23569030430").unwrap().number(), "235-69030430");
        for bad in [
            "",
            "235-6903043",
            "235-690304300",
            "23-569030430",
            "ABC-69030430",
            "2356-9030430",
        ] {
            assert!(
                matches!(Awb::parse(bad), Err(AwbError::Invalid(_))),
                "{bad}"
            );
        }
        assert!(
            matches!(Awb::parse("235-69030431"), Err(AwbError::Invalid(m)) if m.contains("check digit"))
        );
        // 1234567 mod 7 = 5.
        assert!(matches!(
            Awb::parse("998-12345675"),
            Err(AwbError::AirlineUnsupported(_))
        ));
    }

    #[test]
    fn the_registry_is_well_formed() {
        let all: Vec<Airline> = airlines().collect();
        assert!(all.len() >= 40);
        assert!(
            all.windows(2).all(|w| w[0].prefix < w[1].prefix),
            "sorted, no duplicates"
        );
        assert!(all
            .iter()
            .all(|a| a.prefix.len() == 3 && a.designator.len() == 2));
    }
}
