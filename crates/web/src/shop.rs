//! The shop behind a page request: which account a path or a host name names, its branding
//! turned into the page's style and Content-Security-Policy, and whether it sends email
//! notifications (the page's "Get email updates" form), remembered for a few seconds.
//!
//! Every page request needs its account and settings; reading them once per request would
//! double the page's database work, so found shops are kept for [`TTL`] (a change of branding
//! shows within that time, on every node). Answers about names and hosts that have no page are
//! kept too, so a client cannot make every request a database read by asking for shops that do
//! not exist — but the memory is bounded: past [`MAX_ENTRIES`] the table is emptied and starts
//! again, so no client can make it grow.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{header, HeaderMap, HeaderValue};
use base64::Engine as _;
use parceld_store::notifications::Channel;
use parceld_store::{PageAccount, PageAccountKey, PageSettings, Store, StoreResult};
use sha2::{Digest, Sha256};

/// How long a shop's settings are remembered.
pub const TTL: Duration = Duration::from_secs(5);
/// Most names and hosts remembered at once.
pub const MAX_ENTRIES: usize = 4096;

const BASE_CSS: &str = include_str!("../assets/page.css");

/// A shop's page, ready to render: its account and settings, and what they make of the page.
pub struct Shop {
    pub page: PageAccount,
    /// The account sends email notifications: its shipment pages offer "Get email updates".
    pub email_updates: bool,
    /// The `<style>` element's content: the brand's colours, then the stylesheet.
    pub style: String,
    /// The policy of its pages, and of its embeddable widget (which other sites may frame).
    pub csp: HeaderValue,
    pub csp_widget: HeaderValue,
}

impl Shop {
    pub fn new(page: PageAccount) -> Shop {
        let style = style_of(&page.settings);
        let style_hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&style));
        let images = match page.settings.logo_url.as_deref().and_then(origin) {
            Some(origin) => format!("data: {origin}"),
            None => "data:".to_string(),
        };
        // A logo address is checked at save time (no quotes, spaces or control characters),
        // so the policy is always a valid header value; an invalid one would block images.
        let policy = |frames: &str| {
            let text = format!(
                "default-src 'none'; style-src 'sha256-{style_hash}'; img-src {images}; \
                 form-action 'self'; base-uri 'none'; frame-ancestors {frames}"
            );
            HeaderValue::from_str(&text).unwrap_or(HeaderValue::from_static("default-src 'none'"))
        };
        Shop {
            email_updates: false,
            csp: policy("'none'"),
            csp_widget: policy("*"),
            style,
            page,
        }
    }

    /// The name the page shows: the shop's, else the account's.
    pub fn name(&self) -> &str {
        self.page
            .settings
            .shop_name
            .as_deref()
            .unwrap_or(&self.page.account.name)
    }
}

/// `https://host[:port]` of an address, for the image policy.
fn origin(url: &str) -> Option<String> {
    let rest = url.strip_prefix("https://")?;
    let host = rest.split(['/', '?', '#']).next()?;
    (!host.is_empty()).then(|| format!("https://{host}"))
}

/// Black or white, whichever contrasts more with `#rrggbb` (WCAG relative luminance).
pub fn text_on(background: &str) -> &'static str {
    let channel = |i: usize| {
        let value = background
            .get(i..i + 2)
            .and_then(|h| u8::from_str_radix(h, 16).ok())
            .unwrap_or(0);
        let c = f64::from(value) / 255.0;
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    let luminance = 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
    // Contrast with white is 1.05 / (L + 0.05), with black (L + 0.05) / 0.05.
    if 1.05 / (luminance + 0.05) >= (luminance + 0.05) / 0.05 {
        "#ffffff"
    } else {
        "#000000"
    }
}

fn style_of(settings: &PageSettings) -> String {
    format!(
        ":root{{--brand:{};--brand-text:{};--accent:{}}}\n{BASE_CSS}",
        settings.brand_color,
        text_on(&settings.brand_color),
        settings.accent_color
    )
}

/// The style and policy of pages that belong to no shop (an unknown account's path).
pub fn unbranded() -> &'static Shop {
    static SHOP: std::sync::LazyLock<Shop> = std::sync::LazyLock::new(|| {
        Shop::new(PageAccount {
            account: parceld_store::Account {
                id: 0,
                name: "parceld".into(),
                disabled: false,
                created_at: chrono::DateTime::UNIX_EPOCH,
                rate_limits: Default::default(),
            },
            settings: PageSettings::default(),
        })
    });
    &SHOP
}

type Entry = (Instant, Option<Arc<Shop>>);

/// Shops by `n:<name>` and `h:<host>`, each with the moment it was read.
#[derive(Default)]
pub struct Shops {
    entries: Mutex<HashMap<String, Entry>>,
}

impl Shops {
    /// The shop a request names, from memory when read less than [`TTL`] ago. Disabled
    /// accounts have no page.
    pub async fn find(
        &self,
        store: &dyn Store,
        key: PageAccountKey<'_>,
    ) -> StoreResult<Option<Arc<Shop>>> {
        let cache_key = match key {
            PageAccountKey::Name(name) => format!("n:{name}"),
            PageAccountKey::Host(host) => format!("h:{host}"),
        };
        if let Some((at, shop)) = self.lock().get(&cache_key) {
            if at.elapsed() < TTL {
                return Ok(shop.clone());
            }
        }
        let shop = match store
            .page_account(key)
            .await?
            .filter(|page| !page.account.disabled)
        {
            Some(page) => {
                let settings = store.notification_settings(page.account.id).await?;
                Some(Arc::new(Shop {
                    email_updates: settings.channels.contains(&Channel::Email),
                    ..Shop::new(page)
                }))
            }
            None => None,
        };
        let mut entries = self.lock();
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(cache_key, (Instant::now(), shop.clone()));
        Ok(shop)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The request's host name, lower case, without a port.
pub(crate) fn host_of(headers: &HeaderMap) -> Option<String> {
    let host = headers.get(header::HOST)?.to_str().ok()?;
    let name = host.rsplit_once(':').map_or(host, |(name, port)| {
        if port.bytes().all(|b| b.is_ascii_digit()) {
            name
        } else {
            host
        }
    });
    (!name.is_empty() && name.len() <= 253).then(|| name.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_text_is_whichever_of_black_and_white_reads_better() {
        assert_eq!(text_on("#1d4ed8"), "#ffffff");
        assert_eq!(text_on("#ffffff"), "#000000");
        assert_eq!(text_on("#ffd700"), "#000000");
        assert_eq!(text_on("#000000"), "#ffffff");
    }

    #[test]
    fn the_policy_hashes_the_exact_style_and_allows_only_the_logos_origin() {
        let mut page = unbranded().page.clone();
        page.settings.logo_url = Some("https://cdn.shop.example/logo.png?v=2".into());
        let shop = Shop::new(page);
        let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&shop.style));
        let csp = shop.csp.to_str().unwrap();
        let widget = shop.csp_widget.to_str().unwrap();
        assert!(csp.contains(&format!("style-src 'sha256-{hash}'")), "{csp}");
        assert!(
            csp.contains("img-src data: https://cdn.shop.example;"),
            "{csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(widget.contains("frame-ancestors *"), "{widget}");
        assert!(
            !csp.contains("script-src"),
            "no script at all: default-src 'none'"
        );
    }

    #[test]
    fn hosts_lose_their_port_and_case() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::HOST,
            HeaderValue::from_static("Track.Shop.Example:8443"),
        );
        assert_eq!(host_of(&headers).as_deref(), Some("track.shop.example"));
        headers.insert(header::HOST, HeaderValue::from_static("[::1]:80"));
        assert_eq!(host_of(&headers).as_deref(), Some("[::1]"));
    }
}
