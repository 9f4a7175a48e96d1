//! Passwords: argon2id hashes in the PHC string format, and the random passwords parceld hands
//! out (the first admin's, `parceld user create` and `reset-password`).
//!
//! A hash costs about 19 MiB of memory and some tens of milliseconds on purpose (argon2's
//! recommended parameters), which is what makes a stolen database slow to guess from; the
//! sign-in runs it on a blocking thread, and at most [`HASHING_AT_ONCE`] at a time, so a burst
//! of sign-ins can neither stall the server's other requests nor take its memory.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rand::distributions::{Alphanumeric, DistString};
use rand::RngCore;

/// Sign-in hashes computed at once; more wait for their turn.
pub const HASHING_AT_ONCE: usize = 2;

/// Length of a generated password (alphanumeric: about 119 bits).
pub const GENERATED_LENGTH: usize = 20;

/// Shortest password a user may choose.
pub const MIN_LENGTH: usize = 12;

/// Why a password cannot be hashed.
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("a password has at least {MIN_LENGTH} characters")]
    TooShort,
    #[error("the password could not be hashed: {0}")]
    Hashing(String),
}

/// The argon2id hash of `password` with a fresh random salt.
pub fn hash(password: &str) -> Result<String, PasswordError> {
    if password.chars().count() < MIN_LENGTH {
        return Err(PasswordError::TooShort);
    }
    let mut salt = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| PasswordError::Hashing(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| PasswordError::Hashing(e.to_string()))
}

/// Whether `password` matches the stored `hash`; a hash that cannot be read matches nothing.
pub fn verify(password: &str, hash: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// A hash no password matches, verified against when the address is unknown so that an
/// unknown address takes as long to refuse as a wrong password.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        hash(&generate()).unwrap_or_else(|_| "$argon2id$v=19$m=19456,t=2,p=1$invalid".into())
    });
    &DECOY
}

/// A random password to hand out once.
pub fn generate() -> String {
    Alphanumeric.sample_string(&mut rand::thread_rng(), GENERATED_LENGTH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_is_argon2id_salted_and_verifies_only_its_password() {
        let password = generate();
        let first = hash(&password).unwrap();
        let second = hash(&password).unwrap();
        assert!(first.starts_with("$argon2id$"), "{first}");
        assert_ne!(first, second, "each hash has its own salt");
        assert!(verify(&password, &first));
        assert!(!verify("not the password", &first));
        assert!(!verify(&password, "not a hash"));
        assert!(!verify(&password, decoy_hash()));
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(matches!(hash("short"), Err(PasswordError::TooShort)));
        assert_eq!(generate().len(), GENERATED_LENGTH);
    }
}
