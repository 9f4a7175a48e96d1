//! The courier registry: one static table of every courier parceld can name.
//!
//! Codes follow TrackingMore's courier codes so existing integrations keep working.
//! `has_adapter` says whether parceld can fetch tracking from that courier itself; a tracking for
//! a courier without an adapter can still be stored.

use parceld_model::CourierType;

/// One courier's static facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Courier {
    /// The wire code (`courier_code`), e.g. `ups`.
    pub code: &'static str,
    pub name: &'static str,
    /// ISO 3166-1 alpha-2 of the courier's home country (`""` for global ones).
    pub country_iso2: &'static str,
    pub courier_type: CourierType,
    pub url: &'static str,
    pub phone: &'static str,
    /// Extra request fields this courier needs to track a number (`tracking_postal_code`, …).
    pub tracking_required_fields: &'static [&'static str],
    /// Whether parceld has an adapter that fetches tracking from this courier.
    pub has_adapter: bool,
}

const fn entry(
    code: &'static str,
    name: &'static str,
    country_iso2: &'static str,
    courier_type: CourierType,
    url: &'static str,
    has_adapter: bool,
) -> Courier {
    Courier {
        code,
        name,
        country_iso2,
        courier_type,
        url,
        phone: "",
        tracking_required_fields: &[],
        has_adapter,
    }
}

use CourierType::{Express, Postal};

/// The table as a constant, so that detection can resolve its courier codes at compile time
/// (see [`index_of`]); [`COURIERS`] is the one runtime copy everybody hands out references to.
const TABLE: &[Courier] = &[
    entry("sandbox", "parceld Sandbox", "", Express, "", true),
    entry("ups", "UPS", "US", Express, "https://www.ups.com", true),
    entry(
        "fedex",
        "FedEx",
        "US",
        Express,
        "https://www.fedex.com",
        true,
    ),
    entry("usps", "USPS", "US", Postal, "https://www.usps.com", true),
    entry(
        "dhl",
        "DHL Express",
        "DE",
        Express,
        "https://www.dhl.com",
        true,
    ),
    Courier {
        tracking_required_fields: &["tracking_postal_code"],
        ..entry(
            "postnl-3s",
            "PostNL International",
            "NL",
            Postal,
            "https://www.postnl.nl",
            true,
        )
    },
    entry(
        "canada-post",
        "Canada Post",
        "CA",
        Postal,
        "https://www.canadapost-postescanada.ca",
        true,
    ),
    entry(
        "royal-mail",
        "Royal Mail",
        "GB",
        Postal,
        "https://www.royalmail.com",
        false,
    ),
    entry(
        "china-post",
        "China Post",
        "CN",
        Postal,
        "https://www.chinapost.com.cn",
        false,
    ),
    entry(
        "deutsch-post",
        "Deutsche Post",
        "DE",
        Postal,
        "https://www.deutschepost.de",
        false,
    ),
    entry(
        "laposte",
        "La Poste",
        "FR",
        Postal,
        "https://www.laposte.fr",
        false,
    ),
    entry(
        "australia-post",
        "Australia Post",
        "AU",
        Postal,
        "https://auspost.com.au",
        false,
    ),
    entry(
        "japan-post",
        "Japan Post",
        "JP",
        Postal,
        "https://www.post.japanpost.jp",
        false,
    ),
    // Couriers that detection can name. No adapter yet: a tracking for them is stored and shown,
    // but parceld cannot fetch its events.
    entry(
        "dhl-germany",
        "DHL Paket",
        "DE",
        Express,
        "https://www.dhl.de",
        false,
    ),
    entry(
        "dhlglobalmail",
        "DHL eCommerce",
        "US",
        Express,
        "https://www.dhl.com/us-en/home/ecommerce.html",
        false,
    ),
    entry(
        "amazon",
        "Amazon Logistics",
        "US",
        Express,
        "https://track.amazon.com",
        false,
    ),
    entry(
        "ontrac",
        "OnTrac",
        "US",
        Express,
        "https://www.ontrac.com",
        false,
    ),
    entry(
        "lasership",
        "LaserShip",
        "US",
        Express,
        "https://www.lasership.com",
        false,
    ),
    entry(
        "correos-spain",
        "Correos",
        "ES",
        Postal,
        "https://www.correos.es",
        false,
    ),
    entry(
        "poste-italiane",
        "Poste Italiane",
        "IT",
        Postal,
        "https://www.poste.it",
        false,
    ),
    entry(
        "korea-post",
        "Korea Post",
        "KR",
        Postal,
        "https://www.epost.go.kr",
        false,
    ),
    entry(
        "india-post",
        "India Post",
        "IN",
        Postal,
        "https://www.indiapost.gov.in",
        false,
    ),
    entry(
        "brazil-correios",
        "Correios Brazil",
        "BR",
        Postal,
        "https://www.correios.com.br",
        false,
    ),
    entry(
        "sweden-posten",
        "PostNord Sweden",
        "SE",
        Postal,
        "https://www.postnord.se",
        false,
    ),
    entry(
        "swiss-post",
        "Swiss Post",
        "CH",
        Postal,
        "https://www.post.ch",
        false,
    ),
    entry(
        "hongkong-post",
        "Hong Kong Post",
        "HK",
        Postal,
        "https://www.hongkongpost.hk",
        false,
    ),
    entry(
        "singapore-post",
        "Singapore Post",
        "SG",
        Postal,
        "https://www.singpost.com",
        false,
    ),
    entry(
        "new-zealand-post",
        "New Zealand Post",
        "NZ",
        Postal,
        "https://www.nzpost.co.nz",
        false,
    ),
    entry(
        "bpost",
        "bpost",
        "BE",
        Postal,
        "https://www.bpost.be",
        false,
    ),
    entry(
        "austria-post",
        "Austrian Post",
        "AT",
        Postal,
        "https://www.post.at",
        false,
    ),
    entry(
        "poczta-polska",
        "Poczta Polska",
        "PL",
        Postal,
        "https://www.poczta-polska.pl",
        false,
    ),
    entry(
        "russian-post",
        "Russian Post",
        "RU",
        Postal,
        "https://www.pochta.ru",
        false,
    ),
];

static COURIERS: &[Courier] = TABLE;

/// Position of `code` in the table, evaluated at compile time by detection (`const I: usize =
/// index_of("ups")`), so a detection rule naming a courier the registry lacks fails the build
/// instead of failing a request.
pub(crate) const fn index_of(code: &str) -> usize {
    let mut i = 0;
    while i < TABLE.len() {
        if const_str_eq(TABLE[i].code, code) {
            return i;
        }
        i += 1;
    }
    panic!("courier code is not in the registry");
}

const fn const_str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// The courier at a position found by [`index_of`].
pub(crate) fn at(index: usize) -> &'static Courier {
    &COURIERS[index]
}

/// Every courier parceld knows, in a stable order.
pub fn couriers() -> &'static [Courier] {
    COURIERS
}

/// The courier with this code, if parceld knows it.
pub fn courier(code: &str) -> Option<&'static Courier> {
    COURIERS.iter().find(|c| c.code == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_lowercase_and_findable() {
        for (i, c) in couriers().iter().enumerate() {
            assert_eq!(c.code, c.code.to_ascii_lowercase());
            assert!(
                couriers()[i + 1..].iter().all(|o| o.code != c.code),
                "{}",
                c.code
            );
            assert_eq!(courier(c.code), Some(c));
        }
        assert_eq!(courier("no-such-courier"), None);
    }

    #[test]
    fn index_of_agrees_with_lookup() {
        for c in couriers() {
            assert_eq!(at(index_of(c.code)), c);
        }
    }
}
