//! Webhook signatures per Standard Webhooks, and the legacy v2 `verifyInfo`.
//!
//! Standard Webhooks (the scheme Svix and others share) signs `id.timestamp.body` with
//! HMAC-SHA256, so the body is covered, a captured request cannot be replayed later (receivers
//! reject old timestamps) and receivers can use any of the public verification libraries.
//! TrackingMore v2 put `verifyInfo {timeStr, signature}` in the body instead, with
//! `signature = hex(HMAC-SHA256(key, timeStr))`; v2 payloads keep it so old receivers work, with
//! the endpoint's secret as the key.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

const PREFIX: &str = "whsec_";

/// A secret that is not `whsec_` followed by base64.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a webhook secret is `whsec_` followed by base64")]
pub struct BadSecret;

/// A new secret: `whsec_` and 32 random bytes in base64.
pub fn generate_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("{PREFIX}{}", STANDARD.encode(bytes))
}

/// The HMAC key of a secret: the base64-decoded part after `whsec_`.
pub fn secret_key(secret: &str) -> Result<Vec<u8>, BadSecret> {
    let encoded = secret.strip_prefix(PREFIX).ok_or(BadSecret)?;
    STANDARD.decode(encoded).map_err(|_| BadSecret)
}

/// The `webhook-signature` header value: `v1,` and base64 HMAC-SHA256 of `id.timestamp.body`.
pub fn sign(secret: &str, msg_id: &str, timestamp: i64, body: &[u8]) -> Result<String, BadSecret> {
    let key = secret_key(secret)?;
    let mut mac = HmacSha256::new_from_slice(&key).map_err(|_| BadSecret)?;
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Ok(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// TrackingMore v2's `verifyInfo.signature`: hex HMAC-SHA256 of `time_str` keyed with the
/// secret's text.
pub fn v2_signature(secret: &str, time_str: &str) -> String {
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(time_str.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_prefixed_base64_of_32_bytes() {
        let a = generate_secret();
        assert!(a.starts_with("whsec_"));
        assert_eq!(secret_key(&a).unwrap().len(), 32);
        assert_ne!(a, generate_secret());
        assert_eq!(secret_key("whsec_***"), Err(BadSecret));
        assert_eq!(secret_key("abc"), Err(BadSecret));
    }

    #[test]
    fn signature_matches_the_standard_webhooks_example() {
        // The example from the Standard Webhooks specification's reference libraries.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = br#"{"test": 2432232314}"#;
        let signature = sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body).unwrap();
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn the_body_is_covered() {
        let secret = generate_secret();
        let a = sign(&secret, "evt_1", 1, b"{}").unwrap();
        let b = sign(&secret, "evt_1", 1, b"{ }").unwrap();
        let c = sign(&secret, "evt_1", 2, b"{}").unwrap();
        assert_ne!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn v2_signature_is_trackingmores_hex_hmac_of_the_time() {
        // TrackingMore's documented example (key and time string from its webhook page).
        assert_eq!(
            v2_signature("2e55b9a3-4dd1-4416-9897-c4bd1e3d738f", "1662371528"),
            "a37084ab68ae16b77db1f8463f31be9fcc965e2515e03efecf8139bb1e511b06"
        );
    }
}
