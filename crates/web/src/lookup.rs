//! A visitor's look-up: checking what they typed, and the second factor that opens an order.
//!
//! A tracking number alone finds the parcel's journey. An order number finds the order's
//! parcels only together with something the customer gave at checkout: the email address, the
//! phone number or the destination postal code stored on the tracking. Each parcel of the order
//! is shown only if its own stored contact matches, and an order whose contact does not match
//! is answered exactly like an order that does not exist, so the page never tells a guesser
//! which half was wrong.

use parceld_model::{Tracking, TrackingFields, TrackingNumber};

/// The longest order number and contact a visitor may type.
pub const MAX_ORDER: usize = 100;
pub const MAX_CONTACT: usize = 254;

/// Why a look-up was not even tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadInput {
    Number,
    Order,
}

/// The tracking number as typed, checked and normalized like the API's (capitals, no
/// separators), so it finds the number as stored.
pub fn number(raw: &str) -> Result<String, BadInput> {
    TrackingNumber::parse(raw)
        .map(|n| n.as_str().to_string())
        .map_err(|_| BadInput::Number)
}

/// The order number and contact as typed: both present, of sane length, plain text.
pub fn order(order: &str, contact: &str) -> Result<(String, String), BadInput> {
    let order = order.trim();
    let contact = contact.trim();
    let plain = |s: &str, max: usize| {
        !s.is_empty() && s.chars().count() <= max && !s.chars().any(char::is_control)
    };
    if plain(order, MAX_ORDER) && plain(contact, MAX_CONTACT) && contact.chars().count() >= 3 {
        Ok((order.to_string(), contact.to_string()))
    } else {
        Err(BadInput::Order)
    }
}

fn digits(text: &str) -> String {
    text.chars().filter(char::is_ascii_digit).collect()
}

fn postal(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_uppercase)
        .collect()
}

/// Whether `contact` is this tracking's customer: its email (any case), its phone (the last
/// nine digits, so `+31 6 12345678` and `06-12345678` match; at least seven digits each) or
/// its destination postal code (letters and digits only, any case: `1234 ab` is `1234AB`).
pub fn second_factor_matches(fields: &TrackingFields, contact: &str) -> bool {
    let contact = contact.trim();
    if contact.contains('@') {
        return fields
            .customer_email
            .as_deref()
            .is_some_and(|email| email.trim().eq_ignore_ascii_case(contact));
    }
    let typed_digits = digits(contact);
    if let Some(phone) = fields.customer_sms.as_deref() {
        let stored = digits(phone);
        let tail = |d: &str| d[d.len().saturating_sub(9)..].to_string();
        if typed_digits.len() >= 7 && stored.len() >= 7 && tail(&typed_digits) == tail(&stored) {
            return true;
        }
    }
    let typed_postal = postal(contact);
    [
        fields.recipient_postcode.as_deref(),
        fields.tracking_postal_code.as_deref(),
    ]
    .into_iter()
    .flatten()
    .any(|code| !typed_postal.is_empty() && postal(code) == typed_postal)
}

/// The order's parcels this contact may see.
pub fn for_contact(trackings: Vec<Tracking>, contact: &str) -> Vec<Tracking> {
    trackings
        .into_iter()
        .filter(|t| second_factor_matches(&t.fields, contact))
        .collect()
}

/// A path segment with its `%XX` escapes decoded; a stray `%` stays as it is.
pub(crate) fn percent_decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(high), Some(low)) => {
                out.push((high * 16 + low) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> TrackingFields {
        TrackingFields {
            customer_email: Some("Ada@Example.com".into()),
            customer_sms: Some("+31 6 1234 5678".into()),
            recipient_postcode: Some("1234 AB".into()),
            ..TrackingFields::default()
        }
    }

    #[test]
    fn each_kind_of_contact_matches_in_its_usual_spellings() {
        for typed in [
            "ada@example.com",
            " ADA@example.COM ",
            "0612345678",
            "06-1234 5678",
            "+31612345678",
            "1234ab",
            "1234-AB",
        ] {
            assert!(second_factor_matches(&fields(), typed), "{typed}");
        }
    }

    #[test]
    fn wrong_or_too_short_contacts_do_not_match() {
        for typed in [
            "eve@example.com",
            "ada@example",
            "5678",
            "0612345679",
            "1234AC",
            "12",
            "",
        ] {
            assert!(!second_factor_matches(&fields(), typed), "{typed}");
        }
        assert!(!second_factor_matches(
            &TrackingFields::default(),
            "ada@example.com"
        ));
        assert!(!second_factor_matches(&TrackingFields::default(), "1234AB"));
    }

    #[test]
    fn typed_input_is_checked_before_any_lookup() {
        assert_eq!(
            number(" sandbox-delivered-1 ").unwrap(),
            "SANDBOXDELIVERED1",
            "as the API stores it: capitals, no separators"
        );
        assert_eq!(number("no!bangs"), Err(BadInput::Number));
        assert_eq!(number("<script>"), Err(BadInput::Number));
        assert_eq!(order("#1001", "ada@example.com").unwrap().0, "#1001");
        assert_eq!(order("", "ada@example.com"), Err(BadInput::Order));
        assert_eq!(order("#1", "ab"), Err(BadInput::Order));
        assert_eq!(
            order(&"9".repeat(101), "ada@example.com"),
            Err(BadInput::Order)
        );
        assert_eq!(order("#1\u{0}", "ada@example.com"), Err(BadInput::Order));
    }

    #[test]
    fn path_segments_are_percent_decoded_leniently() {
        assert_eq!(percent_decode("my%20shop"), "my shop");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
    }
}
