//! Identifiers: tracking ids (32 lowercase hex characters, as TrackingMore issues them) and
//! tracking numbers, parsed once at the edge so the rest of the code can trust them.

use std::fmt;

use rand::RngCore;

/// A tracking's id: 32 lowercase hexadecimal characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TrackingId(String);

impl TrackingId {
    /// A fresh id: the creation time in milliseconds (48 bits) followed by 80 random bits, the
    /// layout of a UUIDv7. Ids made one after another sort one after another, so a database
    /// index on them grows at its end instead of at a random page for every insert: with ten
    /// million trackings, random ids made each insert of a bulk import touch a different page
    /// of a 350 MB index. 80 random bits keep ids of the same millisecond apart and unguessable.
    pub fn generate() -> Self {
        let millis = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        let mut bytes = [0u8; 16];
        bytes[..6].copy_from_slice(&millis.to_be_bytes()[2..]);
        rand::thread_rng().fill_bytes(&mut bytes[6..]);
        TrackingId(hex::encode(bytes))
    }

    /// Accepts exactly 32 hex characters (either case; stored lowercase).
    pub fn parse(text: &str) -> Option<Self> {
        (text.len() == 32 && text.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| TrackingId(text.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The 16 bytes the 32 hex characters spell: the compact form a database can store.
    pub fn to_bytes(&self) -> [u8; 16] {
        let mut bytes = [0u8; 16];
        hex::decode_to_slice(&self.0, &mut bytes).expect("a parsed id is 32 hex characters");
        bytes
    }

    /// The id whose bytes these are ([`TrackingId::to_bytes`]); `None` unless exactly 16.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        (bytes.len() == 16).then(|| TrackingId(hex::encode(bytes)))
    }
}

impl fmt::Display for TrackingId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A tracking number in its normalized form: what is left of the text once the separators people
/// and labels put between groups of characters are taken out, with ASCII letters upper-cased —
/// `1z 999 aa1 01 2345 6784`, `1Z-999-AA1-01-2345-6784` and `1Z999AA10123456784` are one number.
/// 4–50 characters of letters, digits and `_` remain.
///
/// Why normalize once here: every way in (v4, v2, the CLI, the import) parses numbers with this
/// type, so a number written with spaces on one face and dashes on the other names the same
/// tracking, detection sees what the carrier printed, and duplicates cannot hide behind spacing.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TrackingNumber(String);

/// Why a tracking number was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrackingNumberError {
    #[error("tracking_number is required")]
    Missing,
    #[error("tracking_number must be 4 to 50 characters long, not counting spaces, '-' and '.'")]
    Length,
    #[error("tracking_number may contain only letters, digits and '_', with spaces, '-' or '.' between groups")]
    Characters,
}

/// Whether `c` separates groups of a written number (any white space, `-`, `.`); separators are
/// dropped by [`TrackingNumber::parse`] and by courier detection alike.
pub fn is_number_separator(c: char) -> bool {
    c.is_whitespace() || c == '-' || c == '.'
}

impl TrackingNumber {
    pub const MIN_LEN: usize = 4;
    pub const MAX_LEN: usize = 50;

    pub fn parse(text: &str) -> Result<Self, TrackingNumberError> {
        let mut number = String::with_capacity(text.len().min(Self::MAX_LEN + 1));
        let mut length = 0usize;
        let mut characters_ok = true;
        for c in text.chars().filter(|c| !is_number_separator(*c)) {
            length += 1;
            if c.is_ascii_alphanumeric() || c == '_' {
                if length <= Self::MAX_LEN {
                    number.push(c.to_ascii_uppercase());
                }
            } else {
                characters_ok = false;
            }
        }
        if length == 0 {
            return Err(TrackingNumberError::Missing);
        }
        if !(Self::MIN_LEN..=Self::MAX_LEN).contains(&length) {
            return Err(TrackingNumberError::Length);
        }
        if !characters_ok {
            return Err(TrackingNumberError::Characters);
        }
        Ok(TrackingNumber(number))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for TrackingNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_are_32_lowercase_hex_and_parse_back() {
        let id = TrackingId::generate();
        assert_eq!(id.as_str().len(), 32);
        assert!(id
            .as_str()
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
        assert_eq!(TrackingId::parse(id.as_str()), Some(id));
        assert_ne!(TrackingId::generate(), TrackingId::generate());
    }

    #[test]
    fn generated_ids_sort_by_creation_time() {
        let first = TrackingId::generate();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let second = TrackingId::generate();
        assert!(first < second, "{first} then {second}");
        let millis = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        let stamped = u64::from_str_radix(&second.as_str()[..12], 16).unwrap();
        assert!(millis.abs_diff(stamped) < 10_000, "{stamped} vs {millis}");
    }

    #[test]
    fn ids_round_trip_through_their_bytes() {
        let id = TrackingId::parse("9A2F732E29B5ED2071D4CF6B5F4A3D19").unwrap();
        let bytes = id.to_bytes();
        assert_eq!(bytes[0], 0x9a);
        assert_eq!(bytes[15], 0x19);
        assert_eq!(TrackingId::from_bytes(&bytes), Some(id));
        assert_eq!(TrackingId::from_bytes(&bytes[..15]), None);
    }

    #[test]
    fn malformed_ids_are_refused() {
        assert_eq!(TrackingId::parse("abc"), None);
        assert_eq!(TrackingId::parse(&"g".repeat(32)), None);
        assert_eq!(
            TrackingId::parse("9A2F732E29B5ED2071D4CF6B5F4A3D19")
                .unwrap()
                .as_str(),
            "9a2f732e29b5ed2071d4cf6b5f4a3d19"
        );
    }

    #[test]
    fn tracking_numbers_are_normalized_and_checked() {
        for written in [
            "  1Z999AA10123456784 ",
            "1Z 999 AA1 01 2345 6784",
            "1z-999-aa1-01-2345-6784",
            "1Z.999.AA1.01.2345.6784",
            "1Z\u{a0}999\u{2009}AA1 - 01 2345\t6784",
        ] {
            assert_eq!(
                TrackingNumber::parse(written).unwrap().as_str(),
                "1Z999AA10123456784",
                "{written:?}"
            );
        }
        assert_eq!(
            TrackingNumber::parse("abc_123").unwrap().as_str(),
            "ABC_123"
        );
        use TrackingNumberError::{Characters, Length, Missing};
        let too_long = "9".repeat(51);
        for (written, error) in [
            ("", Missing),
            (" - . ", Missing),
            ("abc", Length),
            ("a-b-c", Length),
            (too_long.as_str(), Length),
            ("abc<script>", Characters),
            ("12/34/56", Characters),
            ("1234ü", Characters),
        ] {
            assert_eq!(TrackingNumber::parse(written), Err(error), "{written:?}");
        }
        // Separators do not count towards the length.
        assert!(TrackingNumber::parse(&"9 ".repeat(50)).is_ok());
    }
}
