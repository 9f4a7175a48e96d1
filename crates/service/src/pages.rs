//! The rules of a tracking page's settings, the same for the API (`PUT /v4/tracking-page`) and
//! the CLI (`parceld page set`).
//!
//! A change names only what it changes: a field left out keeps its value, an empty text clears
//! it (back to the default). Everything a shop sets ends up in a public page, so every value is
//! checked for what it is (a colour, an `https` address, a host name) and refused with a
//! sentence saying what is wrong; nothing is trimmed or corrected silently.

use parceld_model::Language;
use parceld_store::{AccountId, PageSettings, Store};

use crate::{ServiceError, ServiceResult};

/// Longest shop name, support text and address (in characters).
pub const MAX_SHOP_NAME: usize = 80;
pub const MAX_SUPPORT_TEXT: usize = 500;
pub const MAX_URL: usize = 500;

/// A change of an account's page settings, as `PUT /v4/tracking-page` takes it and `parceld page
/// set` builds it: every field left out keeps its value, and an empty text clears an optional
/// one back to its default.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PageSettingsInput {
    /// The shop's name in the header (at most 80 characters); empty shows the account's name.
    pub shop_name: Option<String>,
    /// An `https://` image shown in the header instead of the name.
    pub logo_url: Option<String>,
    /// The header's colour, `#rrggbb`; its text is black or white, whichever reads better.
    pub brand_color: Option<String>,
    /// The progress bar's colour, `#rrggbb`.
    pub accent_color: Option<String>,
    /// An `https://` page where customers get help.
    pub support_url: Option<String>,
    pub support_email: Option<String>,
    /// Digits, spaces and `+ - ( ) .`.
    pub support_phone: Option<String>,
    /// A short text above the support links (at most 500 characters).
    pub support_text: Option<String>,
    /// The shop's own host name for the page (`track.example.com`, pointed at parceld); the
    /// page is then also at `https://<host>/track`.
    pub host: Option<String>,
    /// The page's language when the visitor's browser asks for none of parceld's ten: en, de,
    /// fr, es, it, nl, pt, pl, zh, ja.
    pub default_language: Option<String>,
    /// Show the order number to a visitor who gave the second factor (default true).
    pub show_order_number: Option<bool>,
    /// Show the courier's phone and a link to its site (default true).
    pub show_courier_contact: Option<bool>,
    /// Show the estimated delivery date when the courier gave one (default true).
    pub show_estimated_delivery: Option<bool>,
}

impl PageSettingsInput {
    /// A change written as `name=value` pairs (the command line's form): the fields are those
    /// of the API's body, `show_*` take `true` or `false`; an unknown name or a flag that is not
    /// a boolean is refused naming it.
    pub fn from_pairs(pairs: &[String]) -> ServiceResult<PageSettingsInput> {
        let mut object = serde_json::Map::new();
        for pair in pairs {
            let Some((name, value)) = pair.split_once('=') else {
                return Err(invalid(format!(
                    "`{pair}` is not name=value (e.g. shop_name=Acme)."
                )));
            };
            let value = if name.starts_with("show_") {
                match value {
                    "true" => serde_json::Value::Bool(true),
                    "false" => serde_json::Value::Bool(false),
                    _ => {
                        return Err(invalid(format!(
                            "`{name}` is true or false, got `{value}`."
                        )))
                    }
                }
            } else {
                serde_json::Value::String(value.to_string())
            };
            object.insert(name.to_string(), value);
        }
        serde_json::from_value(serde_json::Value::Object(object))
            .map_err(|e| invalid(format!("{e}.")))
    }
}

fn invalid(text: String) -> ServiceError {
    ServiceError::TrackingPageInvalid(text)
}

/// Plain text of at most `max` characters without control characters; empty clears.
fn text(field: &str, value: &str, max: usize) -> ServiceResult<Option<String>> {
    if value.chars().count() > max {
        return Err(invalid(format!(
            "`{field}` is longer than {max} characters."
        )));
    }
    if value.chars().any(char::is_control) {
        return Err(invalid(format!(
            "`{field}` contains a control character; send plain text."
        )));
    }
    Ok((!value.is_empty()).then(|| value.to_string()))
}

/// `#rrggbb`, stored in lower case.
fn color(field: &str, value: &str) -> ServiceResult<String> {
    let hex = value.strip_prefix('#').unwrap_or("");
    if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(invalid(format!(
            "`{field}` must be a colour written `#rrggbb` (six hex digits), got `{value}`."
        )));
    }
    Ok(value.to_ascii_lowercase())
}

/// An absolute `https://` address (a logo is fetched by every visitor's browser, so plain HTTP
/// would make the page mixed content) with a host and no spaces, quotes or angle brackets.
fn https_url(field: &str, value: &str) -> ServiceResult<Option<String>> {
    let Some(checked) = text(field, value, MAX_URL)? else {
        return Ok(None);
    };
    let host = checked
        .strip_prefix("https://")
        .map(|rest| rest.split(['/', '?', '#']).next().unwrap_or(""));
    let clean = !checked
        .chars()
        .any(|c| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '\\' | '`'));
    match host {
        Some(host) if !host.is_empty() && clean => Ok(Some(checked)),
        _ => Err(invalid(format!(
            "`{field}` must be an https:// address with a host and no spaces, got `{value}`."
        ))),
    }
}

fn email(value: &str) -> ServiceResult<Option<String>> {
    let Some(checked) = text("support_email", value, 254)? else {
        return Ok(None);
    };
    let (local, domain) = checked.split_once('@').unwrap_or(("", ""));
    let plain = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| !c.is_whitespace() && !matches!(c, '@' | '"' | '<' | '>' | ',' | ';'))
    };
    if plain(local) && plain(domain) && domain.contains('.') {
        Ok(Some(checked))
    } else {
        Err(invalid(format!(
            "`support_email` must be an email address such as help@example.com, got `{value}`."
        )))
    }
}

fn phone(value: &str) -> ServiceResult<Option<String>> {
    let Some(checked) = text("support_phone", value, 32)? else {
        return Ok(None);
    };
    let allowed = |c: char| c.is_ascii_digit() || " +-().".contains(c);
    if checked.chars().all(allowed) && checked.chars().any(|c| c.is_ascii_digit()) {
        Ok(Some(checked))
    } else {
        Err(invalid(format!(
            "`support_phone` may contain only digits, spaces and + - ( ) ., got `{value}`."
        )))
    }
}

/// A host name as a browser sends it in `Host`, stored in lower case without a port: labels
/// of letters, digits and hyphens separated by dots.
pub fn host_name(value: &str) -> ServiceResult<Option<String>> {
    if value.is_empty() {
        return Ok(None);
    }
    let lower = value.to_ascii_lowercase();
    let labels_ok = lower.len() <= 253
        && lower.split('.').count() >= 2
        && lower.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    if labels_ok {
        Ok(Some(lower))
    } else {
        Err(invalid(format!(
            "`host` must be a host name such as track.example.com (no scheme, port or path), \
             got `{value}`."
        )))
    }
}

fn language(value: &str) -> ServiceResult<Option<String>> {
    if value.is_empty() {
        return Ok(None);
    }
    match Language::ALL.into_iter().find(|l| l.code() == value) {
        Some(language) => Ok(Some(language.code().to_string())),
        None => {
            let codes: Vec<&str> = Language::ALL.iter().map(|l| l.code()).collect();
            Err(invalid(format!(
                "`default_language` must be one of {}, got `{value}`.",
                codes.join(", ")
            )))
        }
    }
}

impl PageSettingsInput {
    /// `current` with this change applied, or the first value that is not acceptable.
    pub fn apply(&self, current: &PageSettings) -> ServiceResult<PageSettings> {
        let mut next = current.clone();
        let optional = |value: &Option<String>,
                        slot: &mut Option<String>,
                        check: &dyn Fn(&str) -> ServiceResult<Option<String>>|
         -> ServiceResult<()> {
            if let Some(value) = value {
                *slot = check(value)?;
            }
            Ok(())
        };
        optional(&self.shop_name, &mut next.shop_name, &|v| {
            text("shop_name", v, MAX_SHOP_NAME)
        })?;
        optional(&self.logo_url, &mut next.logo_url, &|v| {
            https_url("logo_url", v)
        })?;
        optional(&self.support_url, &mut next.support_url, &|v| {
            https_url("support_url", v)
        })?;
        optional(&self.support_email, &mut next.support_email, &email)?;
        optional(&self.support_phone, &mut next.support_phone, &phone)?;
        optional(&self.support_text, &mut next.support_text, &|v| {
            text("support_text", v, MAX_SUPPORT_TEXT)
        })?;
        optional(&self.host, &mut next.host, &host_name)?;
        optional(
            &self.default_language,
            &mut next.default_language,
            &language,
        )?;
        if let Some(value) = &self.brand_color {
            next.brand_color = color("brand_color", value)?;
        }
        if let Some(value) = &self.accent_color {
            next.accent_color = color("accent_color", value)?;
        }
        let flags = [
            (self.show_order_number, &mut next.show_order_number),
            (self.show_courier_contact, &mut next.show_courier_contact),
            (
                self.show_estimated_delivery,
                &mut next.show_estimated_delivery,
            ),
        ];
        for (value, slot) in flags {
            if let Some(value) = value {
                *slot = value;
            }
        }
        Ok(next)
    }
}

/// Reads and changes an account's page settings.
pub async fn page_settings(store: &dyn Store, account: AccountId) -> ServiceResult<PageSettings> {
    Ok(store.page_settings(account).await?)
}

/// Applies `input` to the account's settings and stores the result; a refused value or a host
/// name another account uses changes nothing.
pub async fn change_page_settings(
    store: &dyn Store,
    account: AccountId,
    input: &PageSettingsInput,
) -> ServiceResult<PageSettings> {
    let current = store.page_settings(account).await?;
    let next = input.apply(&current)?;
    Ok(store.set_page_settings(account, &next).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(input: PageSettingsInput) -> ServiceResult<PageSettings> {
        input.apply(&PageSettings::default())
    }

    #[test]
    fn a_change_keeps_what_it_does_not_name_and_empty_text_clears() {
        let first = apply(PageSettingsInput {
            shop_name: Some("Acme".into()),
            brand_color: Some("#0A7D32".into()),
            support_phone: Some("+31 (0)20 123-4567".into()),
            show_order_number: Some(false),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(first.shop_name.as_deref(), Some("Acme"));
        assert_eq!(first.brand_color, "#0a7d32");
        assert!(!first.show_order_number);
        let second = PageSettingsInput {
            shop_name: Some(String::new()),
            host: Some("Track.Acme.example".into()),
            ..Default::default()
        }
        .apply(&first)
        .unwrap();
        assert_eq!(second.shop_name, None);
        assert_eq!(second.host.as_deref(), Some("track.acme.example"));
        assert_eq!(second.brand_color, "#0a7d32", "kept");
        assert_eq!(second.support_phone, first.support_phone, "kept");
        assert!(!second.show_order_number, "kept");
    }

    #[test]
    fn pairs_read_like_the_apis_body() {
        let input = PageSettingsInput::from_pairs(&[
            "shop_name=Acme = Co".into(),
            "show_order_number=false".into(),
            "logo_url=".into(),
        ])
        .unwrap();
        assert_eq!(input.shop_name.as_deref(), Some("Acme = Co"));
        assert_eq!(input.show_order_number, Some(false));
        assert_eq!(input.logo_url.as_deref(), Some(""), "empty clears");
        for bad in ["colour=#000000", "show_order_number=yes", "shop_name"] {
            let error = PageSettingsInput::from_pairs(&[bad.into()]).unwrap_err();
            assert!(
                matches!(error, ServiceError::TrackingPageInvalid(_)),
                "{bad}: {error}"
            );
        }
    }

    #[test]
    fn each_kind_of_bad_value_is_refused_naming_its_field() {
        let cases: Vec<(PageSettingsInput, &str)> = vec![
            (
                PageSettingsInput {
                    brand_color: Some("blue".into()),
                    ..Default::default()
                },
                "brand_color",
            ),
            (
                PageSettingsInput {
                    accent_color: Some("#12345".into()),
                    ..Default::default()
                },
                "accent_color",
            ),
            (
                PageSettingsInput {
                    logo_url: Some("http://x.example/a.png".into()),
                    ..Default::default()
                },
                "logo_url",
            ),
            (
                PageSettingsInput {
                    logo_url: Some("https://x.example/a b.png".into()),
                    ..Default::default()
                },
                "logo_url",
            ),
            (
                PageSettingsInput {
                    support_url: Some("javascript:alert(1)".into()),
                    ..Default::default()
                },
                "support_url",
            ),
            (
                PageSettingsInput {
                    support_email: Some("nobody".into()),
                    ..Default::default()
                },
                "support_email",
            ),
            (
                PageSettingsInput {
                    support_phone: Some("call us".into()),
                    ..Default::default()
                },
                "support_phone",
            ),
            (
                PageSettingsInput {
                    host: Some("https://track.example.com".into()),
                    ..Default::default()
                },
                "host",
            ),
            (
                PageSettingsInput {
                    host: Some("localhost".into()),
                    ..Default::default()
                },
                "host",
            ),
            (
                PageSettingsInput {
                    default_language: Some("sv".into()),
                    ..Default::default()
                },
                "default_language",
            ),
            (
                PageSettingsInput {
                    shop_name: Some("x".repeat(81)),
                    ..Default::default()
                },
                "shop_name",
            ),
            (
                PageSettingsInput {
                    support_text: Some("a\u{7}b".into()),
                    ..Default::default()
                },
                "support_text",
            ),
        ];
        for (input, field) in cases {
            match apply(input) {
                Err(ServiceError::TrackingPageInvalid(text)) => {
                    assert!(text.contains(&format!("`{field}`")), "{text}")
                }
                other => panic!("{field}: {other:?}"),
            }
        }
    }
}
