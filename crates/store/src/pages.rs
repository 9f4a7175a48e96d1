//! What the store keeps and answers for the public tracking page.
//!
//! A shop's customers look their parcels up on a page that needs no API key, so the page reads
//! the store by what a visitor knows: the account's name in the path (or the shop's own host
//! name), and a tracking number or an order number. These types say exactly that, so that every
//! backend answers the page with one statement per look-up and never hands it more than a
//! bounded number of trackings. The branding a shop chooses is kept per account as
//! [`PageSettings`]; validating it is the service layer's job, the store keeps what it is given.

use serde::{Deserialize, Serialize};

use crate::{Account, Entity, StoreError, StoreResult};

/// How an account's tracking page looks and what it shows, as stored (what each setting does:
/// `parceld_service::PageSettingsInput`, which checks every value before it is stored). Every
/// field has a default, so an account that never set anything gets a complete page (its name
/// as the shop's name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct PageSettings {
    /// `None`: the page shows the account's name.
    pub shop_name: Option<String>,
    pub logo_url: Option<String>,
    /// `#rrggbb`, lower case.
    pub brand_color: String,
    /// `#rrggbb`, lower case.
    pub accent_color: String,
    pub support_url: Option<String>,
    pub support_email: Option<String>,
    pub support_phone: Option<String>,
    pub support_text: Option<String>,
    /// Lower case, without a port; no two accounts share one (the store refuses it).
    pub host: Option<String>,
    /// A [`parceld_model::Language`] code.
    pub default_language: Option<String>,
    pub show_order_number: bool,
    pub show_courier_contact: bool,
    pub show_estimated_delivery: bool,
}

/// The default colours: a blue whose white text passes WCAG AA, and a green accent.
pub const DEFAULT_BRAND_COLOR: &str = "#1d4ed8";
pub const DEFAULT_ACCENT_COLOR: &str = "#15803d";

impl Default for PageSettings {
    fn default() -> Self {
        PageSettings {
            shop_name: None,
            logo_url: None,
            brand_color: DEFAULT_BRAND_COLOR.into(),
            accent_color: DEFAULT_ACCENT_COLOR.into(),
            support_url: None,
            support_email: None,
            support_phone: None,
            support_text: None,
            host: None,
            default_language: None,
            show_order_number: true,
            show_courier_contact: true,
            show_estimated_delivery: true,
        }
    }
}

impl PageSettings {
    /// The settings as a backend stored them (JSON), or the defaults when it stored none.
    pub fn from_stored(stored: Option<&str>) -> StoreResult<PageSettings> {
        match stored {
            Some(text) => crate::stored::parse_json(text, "tracking page settings"),
            None => Ok(PageSettings::default()),
        }
    }

    /// The settings as a backend stores them: JSON.
    pub fn to_stored(&self) -> String {
        serde_json::to_string(self).expect("page settings serialise")
    }

    /// What a backend answers once its statement writing these settings has run: the settings
    /// when it reached the account, [`Entity::Account`] not found when it wrote no row, and
    /// [`PageSettings::host_taken`] when the unique index on host names refused it.
    pub fn written(&self, outcome: SettingsWrite) -> StoreResult<PageSettings> {
        match outcome {
            SettingsWrite::Rows(0) => Err(StoreError::NotFound(Entity::Account)),
            SettingsWrite::Rows(_) => Ok(self.clone()),
            SettingsWrite::UniqueViolation => Err(self.host_taken()),
        }
    }

    /// What a backend answers when another account already uses this host name.
    pub fn host_taken(&self) -> StoreError {
        let host = self.host.as_deref().unwrap_or_default();
        StoreError::Conflict(
            Entity::TrackingPage,
            format!("the host name `{host}` is already used by another account's tracking page"),
        )
    }
}

/// How a backend's statement writing an account's page settings ended, where the answer
/// depends on it (see [`PageSettings::written`]); any other failure is the backend's own error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingsWrite {
    /// The statement ran and wrote this many rows.
    Rows(u64),
    /// A unique index refused it: the host name is another account's.
    UniqueViolation,
}

/// How a visitor names the account whose page they want.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageAccountKey<'a> {
    /// The account's name, from the page's path (`/track/<name>`).
    Name(&'a str),
    /// The `Host` the request came to, for a shop that set its own host name.
    Host(&'a str),
}

/// An account as its public page sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct PageAccount {
    pub account: Account,
    pub settings: PageSettings,
}

/// What a visitor looks trackings up by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageLookup<'a> {
    /// A tracking number, as typed (the store also tries it in capitals), any courier.
    Number(&'a str),
    /// The merchant's order number, exactly as set on the trackings.
    OrderNumber(&'a str),
}

/// The most trackings one page look-up returns: a page shows one order's parcels, and an order
/// number shared by thousands of trackings must not make one anonymous request read them all.
pub const MAX_PAGE_TRACKINGS: u32 = 20;
