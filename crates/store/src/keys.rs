//! API keys: generation and hashing.
//!
//! A key is `pk_` followed by 40 hex characters (160 random bits). Keys are high-entropy, so a
//! plain SHA-256 is the right hash (a slow password hash would add latency to every request and
//! protect nothing). The first 12 hex characters are the look-up part: they find the row, and the
//! full hash is then compared in constant time.

use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

const PREFIX: &str = "pk_";
const SECRET_HEX_LEN: usize = 40;
const LOOKUP_LEN: usize = 12;

/// A new key's plain text.
pub fn generate_key() -> String {
    let mut bytes = [0u8; SECRET_HEX_LEN / 2];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("{PREFIX}{}", hex::encode(bytes))
}

/// A new public key id (shown by `key list`, used by `key delete`).
pub fn generate_key_id() -> String {
    let mut bytes = [0u8; 8];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("key_{}", hex::encode(bytes))
}

/// The look-up part of a well-formed key, or `None` for anything that cannot be a key.
pub fn lookup_part(presented: &str) -> Option<&str> {
    let secret = presented.strip_prefix(PREFIX)?;
    (secret.len() == SECRET_HEX_LEN && secret.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| &secret[..LOOKUP_LEN])
}

/// What a key list shows of a key: `pk_` and the stored look-up part.
pub fn shown_prefix(lookup: &str) -> String {
    format!("{PREFIX}{lookup}")
}

pub fn hash_key(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

/// Compares a presented key against a stored hash in constant time.
pub fn matches(presented: &str, stored_hash: &[u8]) -> bool {
    hash_key(presented).ct_eq(stored_hash).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_are_well_formed_and_distinct() {
        let a = generate_key();
        let b = generate_key();
        assert_ne!(a, b);
        assert_eq!(lookup_part(&a), Some(&a[3..15]));
        assert!(matches(&a, &hash_key(&a)));
        assert!(!matches(&b, &hash_key(&a)));
    }

    #[test]
    fn malformed_keys_have_no_lookup_part() {
        assert_eq!(lookup_part("pk_short"), None);
        assert_eq!(lookup_part(&format!("xx_{}", "a".repeat(40))), None);
        assert_eq!(lookup_part(&format!("pk_{}", "z".repeat(40))), None);
    }
}
