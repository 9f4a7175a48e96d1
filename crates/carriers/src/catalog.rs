//! The adapters parceld has, as configuration sees them: which `[carriers.<table>]` configures
//! each, which courier codes it tracks, its production API root and the credentials it needs.
//!
//! One API may serve several courier codes: La Poste's Suivi API tracks letters, Colissimo and
//! Chronopost alike; PostNord's tracks the Swedish and Danish posts; DHL's tracks Deutsche Post
//! letters with another `service`. Such couriers are configured once, under the API's table, and
//! share its client, credentials and request budget.

use std::sync::Arc;

use crate::postnord;
use crate::settings::{CarrierSettings, ConfigError};
use crate::{aramex, auspost, bpost, canadapost, dhl, dpd, fedex, gls, laposte, postnl};
use crate::{purolator, royalmail, ups, usps};
use crate::{Batched, Carrier};

/// One adapter.
pub struct Adapter {
    /// The `[carriers.<table>]` that configures it; the carrier simulator serves its protocol
    /// under `/<table>/`.
    pub table: &'static str,
    /// The courier codes (TrackingMore's) it tracks.
    pub serves: &'static [&'static str],
    /// The official production API root, used unless `base_url` says otherwise.
    pub base_url: &'static str,
    /// The settings it cannot start without.
    pub required: &'static [&'static str],
    pub(crate) build: fn(&CarrierSettings) -> Result<Arc<dyn Carrier>, ConfigError>,
}

impl std::fmt::Debug for Adapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Adapter")
            .field("table", &self.table)
            .field("serves", &self.serves)
            .finish()
    }
}

const OAUTH: &[&str] = &["client_id", "client_secret"];
const KEY: &[&str] = &["api_key"];
const BASIC: &[&str] = &["username", "password"];

/// Every adapter of a carrier's own API (the sandbox courier needs no table and is not listed).
pub static ADAPTERS: &[Adapter] = &[
    Adapter {
        table: "fedex",
        serves: &["fedex"],
        base_url: "https://apis.fedex.com",
        required: OAUTH,
        build: |s| Ok(Arc::new(fedex::FedEx::new(s)?)),
    },
    Adapter {
        table: "ups",
        serves: &["ups"],
        base_url: "https://onlinetools.ups.com",
        required: OAUTH,
        build: |s| Ok(Arc::new(ups::Ups::new(s)?)),
    },
    Adapter {
        table: "usps",
        serves: &["usps"],
        base_url: "https://apis.usps.com",
        required: OAUTH,
        build: |s| Ok(Arc::new(usps::Usps::new(s)?)),
    },
    Adapter {
        table: "dhl",
        serves: &["dhl"],
        base_url: "https://api-eu.dhl.com",
        required: KEY,
        build: |s| Ok(Arc::new(dhl::Dhl::new(s)?)),
    },
    Adapter {
        table: "postnl-3s",
        serves: &["postnl-3s"],
        base_url: "https://api.postnl.nl",
        required: KEY,
        build: |s| Ok(Arc::new(postnl::PostNl::new(s)?)),
    },
    Adapter {
        table: "canada-post",
        serves: &["canada-post"],
        base_url: "https://soa-gw.canadapost.ca",
        required: BASIC,
        build: |s| Ok(Arc::new(canadapost::CanadaPost::new(s)?)),
    },
    Adapter {
        table: "royal-mail",
        serves: &["royal-mail"],
        base_url: "https://api.royalmail.net",
        required: OAUTH,
        build: |s| Ok(Arc::new(royalmail::RoyalMail::new(s)?)),
    },
    Adapter {
        table: "australia-post",
        serves: &["australia-post"],
        base_url: "https://digitalapi.auspost.com.au",
        required: &["api_key", "password", "account_number"],
        build: |s| Ok(Arc::new(Batched(auspost::AusPost::new(s)?))),
    },
    Adapter {
        table: "laposte",
        serves: &["laposte", "colissimo", "chronopost"],
        base_url: "https://api.laposte.fr",
        required: KEY,
        build: |s| Ok(Arc::new(Batched(laposte::LaPoste::new(s)?))),
    },
    Adapter {
        table: "postnord",
        serves: &["sweden-posten", "denmark-post"],
        base_url: "https://api2.postnord.com",
        required: KEY,
        build: |s| Ok(Arc::new(postnord::PostNord::new(s)?)),
    },
    Adapter {
        table: "gls",
        serves: &["gls"],
        base_url: "https://api.gls-group.net",
        required: OAUTH,
        build: |s| Ok(Arc::new(Batched(gls::Gls::new(s)?))),
    },
    Adapter {
        table: "dpd",
        serves: &["dpd"],
        base_url: "https://wsshipper.dpd.nl",
        required: BASIC,
        build: |s| Ok(Arc::new(dpd::Dpd::new(s)?)),
    },
    Adapter {
        table: "purolator",
        serves: &["purolator"],
        base_url: "https://webservices.purolator.com",
        required: BASIC,
        build: |s| Ok(Arc::new(Batched(purolator::Purolator::new(s)?))),
    },
    Adapter {
        table: "aramex",
        serves: &["aramex"],
        base_url: "https://ws.aramex.net",
        required: &[
            "username",
            "password",
            "account_number",
            "account_pin",
            "account_entity",
            "account_country_code",
        ],
        build: |s| Ok(Arc::new(Batched(aramex::Aramex::new(s)?))),
    },
    Adapter {
        table: "bpost",
        serves: &["bpost"],
        base_url: "https://api.parcel.bpost.cloud",
        required: BASIC,
        build: |s| Ok(Arc::new(bpost::Bpost::new(s)?)),
    },
    Adapter {
        table: "deutsch-post",
        serves: &["deutsch-post"],
        base_url: "https://api-eu.dhl.com",
        required: KEY,
        build: |s| Ok(Arc::new(dhl::DeutschePost::new(s)?)),
    },
];

/// The adapter configured by `[carriers.<table>]`.
pub fn by_table(table: &str) -> Option<&'static Adapter> {
    ADAPTERS.iter().find(|a| a.table == table)
}

/// The adapter that tracks courier `code`.
pub fn serving(code: &str) -> Option<&'static Adapter> {
    ADAPTERS.iter().find(|a| a.serves.contains(&code))
}

/// The configuration tables there are, for error messages: `fedex, ups, …`.
pub fn tables() -> String {
    ADAPTERS
        .iter()
        .map(|a| a.table)
        .chain(["sandbox"])
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_served_once_and_every_table_is_one_of_its_codes_or_its_api() {
        let mut seen = std::collections::HashSet::new();
        for adapter in ADAPTERS {
            assert!(!adapter.serves.is_empty(), "{adapter:?}");
            for code in adapter.serves {
                assert!(seen.insert(*code), "{code} served twice");
            }
            assert!(adapter.base_url.starts_with("https://"), "{adapter:?}");
        }
    }
}
