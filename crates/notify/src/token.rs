//! Unsubscribe links: a token that names an account, a channel and a recipient, signed so that
//! nobody can unsubscribe an address they did not receive a message at.
//!
//! The token is `base64url(account.channel.address)` `.` `base64url(HMAC-SHA256)` with the
//! server's secret. It never expires: an unsubscribe link in an old email must keep working, and
//! the opt-out it records is honoured forever. It carries the address because the opt-out is
//! per address (any tracking of that account), and it is only ever sent to that address.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use parceld_store::notifications::{recipient_key, Channel, Recipient};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The longest token accepted: an address is at most 254 characters, so anything longer is not
/// one of ours and is refused before any work.
pub const MAX_TOKEN_LEN: usize = 600;

fn mac(secret: &[u8], payload: &[u8]) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(payload);
    mac
}

/// The token for `recipient` (its address normalised first).
pub fn sign(secret: &[u8], recipient: &Recipient) -> String {
    let address = recipient_key(recipient.channel, &recipient.address);
    let payload = format!(
        "{}.{}.{}",
        recipient.account_id,
        recipient.channel.as_str(),
        address
    );
    let tag = mac(secret, payload.as_bytes()).finalize().into_bytes();
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(payload),
        URL_SAFE_NO_PAD.encode(tag)
    )
}

/// The recipient a token names, if the token is one this server signed.
pub fn verify(secret: &[u8], token: &str) -> Option<Recipient> {
    if token.len() > MAX_TOKEN_LEN {
        return None;
    }
    let (payload, tag) = token.split_once('.')?;
    let payload = URL_SAFE_NO_PAD.decode(payload).ok()?;
    let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
    mac(secret, &payload).verify_slice(&tag).ok()?;
    let payload = String::from_utf8(payload).ok()?;
    let mut parts = payload.splitn(3, '.');
    let account_id = parts.next()?.parse().ok()?;
    let channel = Channel::parse(parts.next()?)?;
    let address = parts.next()?.to_string();
    Some(Recipient {
        account_id,
        channel,
        address,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_token_names_its_recipient_and_nothing_else_verifies() {
        let ada = Recipient {
            account_id: 7,
            channel: Channel::Email,
            address: "Ada.Lovelace@Example.com".into(),
        };
        let token = sign(b"secret", &ada);
        let back = verify(b"secret", &token).expect("our own token");
        assert_eq!(back.account_id, 7);
        assert_eq!(back.address, "ada.lovelace@example.com", "normalised");
        assert_eq!(verify(b"another secret", &token), None);
        // Another account's or address's payload under the same tag is refused.
        let (_, tag) = token.split_once('.').unwrap();
        let forged = format!(
            "{}.{tag}",
            URL_SAFE_NO_PAD.encode("8.email.ada.lovelace@example.com")
        );
        assert_eq!(verify(b"secret", &forged), None);
        assert_eq!(verify(b"secret", "garbage"), None);
        assert_eq!(verify(b"secret", &"a".repeat(MAX_TOKEN_LEN + 1)), None);
    }
}
