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

static COURIERS: &[Courier] = &[
    entry("sandbox", "parceld Sandbox", "", Express, "", true),
    entry("ups", "UPS", "US", Express, "https://www.ups.com", false),
    entry(
        "fedex",
        "FedEx",
        "US",
        Express,
        "https://www.fedex.com",
        false,
    ),
    entry("usps", "USPS", "US", Postal, "https://www.usps.com", false),
    entry(
        "dhl",
        "DHL Express",
        "DE",
        Express,
        "https://www.dhl.com",
        false,
    ),
    Courier {
        tracking_required_fields: &["tracking_postal_code"],
        ..entry(
            "postnl-3s",
            "PostNL International",
            "NL",
            Postal,
            "https://www.postnl.nl",
            false,
        )
    },
    entry(
        "canada-post",
        "Canada Post",
        "CA",
        Postal,
        "https://www.canadapost-postescanada.ca",
        false,
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
];

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
}
