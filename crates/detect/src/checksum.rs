//! Check-digit algorithms used by carriers' tracking numbers.
//!
//! A check digit is what lets detection tell a real tracking number from a number that merely has
//! the right length, so each algorithm here is written once, over ASCII bytes, without allocating:
//! detection runs them for every candidate format of every number it sees.
//!
//! Every function takes the payload *without* its check digit and returns the expected check
//! digit (0–9). Callers have already checked that the bytes are of the right class (digits, or
//! upper-case alphanumerics for [`ups_mod10`]).
//!
//! The algorithms and their parameters are documented in `jkeen/tracking_number_data`
//! (`CHECKSUM_ALGORITHMS.md` and `couriers/*.json`: mod 7, mod 10 variants, S10, FedEx mod 11,
//! Luhn for Purolator, ISO 7064 MOD 37,36 for DPD, which names DPD's *Parcel Label
//! Specification* as its source), for S10 in the Universal Postal Union's standard S10
//! ("Identification of postal items — 13-character identifier", summarised in carrier-apis.md
//! §11), and for Deutsche Post's 12-digit Identcode in the published description of that barcode
//! (paketda.de, "Prüfziffern-Berechnung für Paketnummern"; activebarcode.com, "Identcode").

#[inline]
fn digit(b: u8) -> u32 {
    u32::from(b.wrapping_sub(b'0'))
}

/// GS1 modulo 10 (as used by SSCC, USPS IMpb, FedEx Ground, Canada Post 16): weight 3 on the
/// digit next to the check digit, then 1, 3, 1, … going left. `prefix` is logically prepended to
/// `payload` (USPS and FedEx SmartPost numbers are printed without the leading `91`/`92` the
/// check digit was computed over).
pub(crate) fn gs1_mod10(prefix: &[u8], payload: &[u8]) -> u8 {
    let mut sum = 0u32;
    let mut triple = true;
    for &b in payload.iter().rev().chain(prefix.iter().rev()) {
        sum += if triple { 3 * digit(b) } else { digit(b) };
        triple = !triple;
    }
    ((10 - sum % 10) % 10) as u8
}

/// Value of a character in the UPS / OnTrac modulo 10: digits are themselves, letters are
/// `(ASCII − 3) mod 10` (so `A` = 2, `C` = 4, `Z` = 7).
#[inline]
fn ups_value(b: u8) -> u32 {
    if b.is_ascii_digit() {
        digit(b)
    } else {
        (u32::from(b) - 3) % 10
    }
}

/// UPS modulo 10 over upper-case alphanumerics: characters at odd positions (0-based, from the
/// left) count double, letters are mapped by [`ups_value`]. UPS computes it over the 15
/// characters after `1Z`; OnTrac over its leading letter and 13 digits.
pub(crate) fn ups_mod10(payload: &[u8]) -> u8 {
    let mut sum = 0u32;
    for (i, &b) in payload.iter().enumerate() {
        let v = ups_value(b);
        sum += if i % 2 == 1 { 2 * v } else { v };
    }
    ((10 - sum % 10) % 10) as u8
}

/// FedEx modulo 11: weights 1, 3, 7 repeating from the digit next to the check digit leftwards,
/// `sum mod 11 mod 10`. Used by 12-digit Express numbers (over 11 digits) and by the 34-digit
/// barcodes (over the 13-digit serial before the check digit).
pub(crate) fn fedex_mod11(payload: &[u8]) -> u8 {
    const WEIGHTS: [u32; 3] = [1, 3, 7];
    let mut sum = 0u32;
    for (i, &b) in payload.iter().rev().enumerate() {
        sum += WEIGHTS[i % 3] * digit(b);
    }
    (sum % 11 % 10) as u8
}

/// DHL Express waybill: the payload read as a decimal number, modulo 7.
pub(crate) fn mod7(payload: &[u8]) -> u8 {
    let mut rem = 0u32;
    for &b in payload {
        rem = (rem * 10 + digit(b)) % 7;
    }
    rem as u8
}

/// UPU S10 check digit over the 8 serial digits: weights 8, 6, 4, 2, 3, 5, 9, 7;
/// `c = 11 − sum mod 11`, with 10 → 0 and 11 → 5.
pub(crate) fn s10(serial: &[u8]) -> u8 {
    const WEIGHTS: [u32; 8] = [8, 6, 4, 2, 3, 5, 9, 7];
    let mut sum = 0u32;
    for (&b, w) in serial.iter().zip(WEIGHTS) {
        sum += w * digit(b);
    }
    match 11 - sum % 11 {
        10 => 0,
        11 => 5,
        c => c as u8,
    }
}

/// Luhn (ISO/IEC 7812): from the digit next to the check digit leftwards, every other digit is
/// doubled and its digits summed. Purolator's 12-digit PINs.
pub(crate) fn luhn(payload: &[u8]) -> u8 {
    let mut sum = 0u32;
    for (i, &b) in payload.iter().rev().enumerate() {
        let d = digit(b);
        sum += if i % 2 == 0 {
            let doubled = 2 * d;
            doubled / 10 + doubled % 10
        } else {
            d
        };
    }
    ((10 - sum % 10) % 10) as u8
}

/// Deutsche Post / DHL Paket Identcode (12 digits): digits at odd positions (1st, 3rd …) weigh
/// 4, at even positions 9; the check digit tops the sum up to a multiple of 10.
pub(crate) fn identcode(payload: &[u8]) -> u8 {
    let mut sum = 0u32;
    for (i, &b) in payload.iter().enumerate() {
        sum += if i % 2 == 0 { 4 } else { 9 } * digit(b);
    }
    ((10 - sum % 10) % 10) as u8
}

/// Value of an upper-case alphanumeric in ISO 7064 MOD 37,36: its position in `0`…`9A`…`Z`.
#[inline]
fn alnum_value(b: u8) -> u32 {
    u32::from(if b.is_ascii_digit() {
        b - b'0'
    } else {
        b - b'A' + 10
    })
}

/// ISO 7064 MOD 37,36 (DPD parcel numbers): returns the check *character* (`0`–`9`, `A`–`Z`).
pub(crate) fn mod_37_36(payload: &[u8]) -> u8 {
    const M: u32 = 36;
    let mut cd = M;
    for &b in payload {
        cd += alnum_value(b);
        if cd > M {
            cd -= M;
        }
        cd *= 2;
        if cd > M {
            cd -= M + 1;
        }
    }
    let mut cd = (M + 1) - cd;
    if cd == M {
        cd = 0;
    }
    if cd < 10 {
        b'0' + cd as u8
    } else {
        b'A' + (cd - 10) as u8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_of(s: &str) -> u8 {
        s.as_bytes()[s.len() - 1] - b'0'
    }

    #[test]
    fn s10_reference_example() {
        // carrier-apis.md §11: RB123456785GB is valid.
        assert_eq!(s10(b"12345678"), 5);
    }

    #[test]
    fn s10_maps_ten_and_eleven() {
        // sum 0 → 11 − 0 = 11 → 5.
        assert_eq!(s10(b"00000000"), 5);
        // 8·1 + 6·2 = 20, 20 mod 11 = 9, 11 − 9 = 2.
        assert_eq!(s10(b"12000000"), 2);
        // 1 ⇒ 10 → 0: need sum ≡ 1 (mod 11): 6·2 = 12.
        assert_eq!(s10(b"02000000"), 0);
    }

    #[test]
    fn ups_letters_are_mapped() {
        // jkeen/tracking_number_data couriers/ups.json valid numbers.
        for n in [
            "1Z5R89390357567127",
            "1Z879E930346834440",
            "1Z410E7W0392751591",
        ] {
            assert_eq!(ups_mod10(&n.as_bytes()[2..17]), check_of(n), "{n}");
        }
    }

    #[test]
    fn fedex_mod11_examples() {
        // jkeen/tracking_number_data couriers/fedex.json, FedEx Express (12).
        for n in [
            "986578788855",
            "477179081230",
            "799531274483",
            "974367662710",
        ] {
            assert_eq!(fedex_mod11(&n.as_bytes()[..11]), check_of(n), "{n}");
        }
    }

    #[test]
    fn gs1_examples() {
        // SSCC from jkeen couriers/fedex.json: 00 0123 4500 0000 0027.
        assert_eq!(gs1_mod10(b"", b"00012345000000002"), 7);
        // FedEx SmartPost printed without its 92: 61299998820821171811.
        assert_eq!(gs1_mod10(b"92", b"6129999882082117181"), 1);
    }

    #[test]
    fn luhn_examples() {
        // jkeen couriers/purolator.json valid PINs.
        for n in ["320595463938", "287809468872", "331434972567"] {
            assert_eq!(luhn(&n.as_bytes()[..11]), check_of(n), "{n}");
        }
        assert_ne!(luhn(b"32059546393"), 9);
    }

    #[test]
    fn identcode_example() {
        // paketda.de's 12-digit DHL example 201298452277.
        assert_eq!(identcode(b"20129845227"), 7);
    }

    #[test]
    fn mod_37_36_examples() {
        // jkeen couriers/dpd.json (28 characters; the check covers the 27 before it) and
        // paketda.de's 14-digit DPD number written with its check character, 01015026003653c.
        assert_eq!(mod_37_36(b"008182709980000020033350276"), b'C');
        assert_eq!(mod_37_36(b"008182709980000020045327276"), b'N');
        assert_eq!(mod_37_36(b"01015026003653"), b'C');
    }

    #[test]
    fn mod7_example() {
        // jkeen couriers/dhl.json: 3318810025.
        assert_eq!(mod7(b"331881002"), 5);
    }
}
