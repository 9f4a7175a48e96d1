//! Message templates: the defaults (in the tracking page's ten languages, from
//! [`crate::phrases`]) and an account's own, in a sandboxed engine.
//!
//! Templates are `minijinja`: no file, network or environment access, a fuel limit so that no
//! template loops for long, HTML parts auto-escaped, and an undefined variable is an error
//! rather than an empty string. An account's template is checked when it is saved
//! ([`validate`]: compiled and rendered against a sample), so an invalid one is refused with its
//! line and reason and never sent broken. Templates are named `email.subject`, `email.html`,
//! `email.text` and `sms.text`; an account may set one for every language (`email.subject`) or
//! for one (`email.subject.de`), for every trigger or for one (`delivered:email.subject.de`),
//! and the defaults fill in the rest ([`TemplateKey`]).

use std::collections::BTreeMap;

use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use parceld_model::Language;
use serde::Serialize;

use crate::phrases::{phrases, News};

/// The templates a message is made of.
pub const NAMES: [&str; 4] = ["email.subject", "email.html", "email.text", "sms.text"];

/// The longest template an account may save, in bytes.
pub const MAX_TEMPLATE_LEN: usize = 64 * 1024;

/// Instructions one rendering may take (minijinja's fuel); far above any sensible message.
const FUEL: u64 = 200_000;

const DEFAULT_SUBJECT: &str = "{{ shop_name }}: {{ t.headline }}";

const DEFAULT_TEXT: &str = "\
{{ t.hello }}{% if customer_name %} {{ customer_name }}{% endif %},

{{ t.headline }}.

{{ t.number }}: {{ tracking_number }}
{% if latest_event %}{{ t.latest }}: {{ latest_event }}
{% endif %}
{{ t.track }}: {{ tracking_url }}

--
{{ shop_name }}
{{ t.unsubscribe }}: {{ unsubscribe_url }}
";

const DEFAULT_HTML: &str = r#"<!DOCTYPE html>
<html lang="{{ language }}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>{{ t.headline }}</title></head>
<body style="margin:0;padding:0;background:#f3f4f6;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f3f4f6;"><tr><td align="center" style="padding:24px 12px;">
<table role="presentation" width="600" cellpadding="0" cellspacing="0" style="max-width:600px;width:100%;background:#ffffff;border-radius:6px;font-family:Arial,Helvetica,sans-serif;color:#111827;">
<tr><td style="background:{{ brand_color }};padding:16px 24px;border-radius:6px 6px 0 0;color:#ffffff;font-size:18px;font-weight:bold;">
{% if logo_url %}<img src="{{ logo_url }}" alt="{{ shop_name }}" height="32" style="height:32px;border:0;">{% else %}{{ shop_name }}{% endif %}</td></tr>
<tr><td style="padding:24px;font-size:16px;line-height:24px;">
<p style="margin:0 0 12px;">{{ t.hello }}{% if customer_name %} {{ customer_name }}{% endif %},</p>
<h1 style="margin:0 0 16px;font-size:22px;line-height:28px;">{{ t.headline }}</h1>
<table role="presentation" cellpadding="0" cellspacing="0" style="margin:0 0 16px;font-size:15px;">
<tr><td style="padding:2px 12px 2px 0;color:#4b5563;">{{ t.number }}</td><td style="padding:2px 0;font-weight:bold;">{{ tracking_number }}</td></tr>
{% if latest_event %}<tr><td style="padding:2px 12px 2px 0;color:#4b5563;">{{ t.latest }}</td><td style="padding:2px 0;">{{ latest_event }}</td></tr>{% endif %}
</table>
<table role="presentation" cellpadding="0" cellspacing="0"><tr><td style="background:{{ accent_color }};border-radius:4px;">
<a href="{{ tracking_url|safe }}" style="display:inline-block;padding:12px 20px;color:#ffffff;text-decoration:none;font-weight:bold;">{{ t.track }}</a>
</td></tr></table>
</td></tr>
<tr><td style="padding:16px 24px;border-top:1px solid #e5e7eb;font-size:12px;line-height:18px;color:#4b5563;">
{{ shop_name }}{% if support_email %} · <a href="mailto:{{ support_email }}" style="color:#4b5563;">{{ support_email }}</a>{% endif %}<br>
<a href="{{ unsubscribe_url|safe }}" style="color:#4b5563;">{{ t.unsubscribe }}</a>
</td></tr></table>
</td></tr></table>
</body></html>
"#;

const DEFAULT_SMS: &str =
    "{{ shop_name }}: {{ t.headline }} ({{ tracking_number }}). {{ tracking_url }}";

fn default_source(name: &str) -> &'static str {
    match name {
        "email.subject" => DEFAULT_SUBJECT,
        "email.html" => DEFAULT_HTML,
        "email.text" => DEFAULT_TEXT,
        _ => DEFAULT_SMS,
    }
}

/// What a template sees.
#[derive(Debug, Clone, Serialize)]
pub struct MessageContext {
    pub language: String,
    pub customer_name: Option<String>,
    pub tracking_number: String,
    pub order_number: Option<String>,
    pub courier_code: String,
    /// The language's words: `headline`, `hello`, `number`, `latest`, `track`, `unsubscribe`.
    pub t: BTreeMap<&'static str, &'static str>,
    /// The delivery status or sub-status that caused the message.
    pub status: String,
    pub latest_event: Option<String>,
    pub shop_name: String,
    pub logo_url: Option<String>,
    /// The links: percent-encoded by parceld, so they hold no character HTML must escape.
    pub tracking_url: String,
    pub support_email: Option<String>,
    pub unsubscribe_url: String,
    pub brand_color: String,
    pub accent_color: String,
}

/// The kind of news a trigger is: its status, or a sub-status's status.
pub fn news_of(trigger: &str) -> News {
    use parceld_model::{DeliveryStatus, SubStatus};
    let status = trigger
        .parse::<DeliveryStatus>()
        .ok()
        .or_else(|| trigger.parse::<SubStatus>().ok().map(SubStatus::status));
    match status {
        Some(DeliveryStatus::Transit) => News::Transit,
        Some(DeliveryStatus::Pickup) => News::Pickup,
        Some(DeliveryStatus::Delivered) => News::Delivered,
        Some(DeliveryStatus::Undelivered) => News::Undelivered,
        Some(DeliveryStatus::Exception) => News::Exception,
        _ => News::Other,
    }
}

/// The words of `language` for a message about `trigger`.
pub fn words(language: Language, trigger: &str) -> BTreeMap<&'static str, &'static str> {
    let p = phrases(language);
    BTreeMap::from([
        ("headline", p.headline(news_of(trigger))),
        ("hello", p.hello),
        ("number", p.number),
        ("latest", p.latest),
        ("track", p.track),
        ("unsubscribe", p.unsubscribe),
    ])
}

/// A template that cannot be used, with where and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("template `{name}`, line {line}: {reason}")]
pub struct TemplateError {
    pub name: String,
    pub line: usize,
    pub reason: String,
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_fuel(Some(FUEL));
    env.set_auto_escape_callback(|name| {
        if name.starts_with("email.html") {
            AutoEscape::Html
        } else {
            AutoEscape::None
        }
    });
    env
}

fn failure(name: &str, error: &minijinja::Error) -> TemplateError {
    TemplateError {
        name: name.to_string(),
        line: error.line().unwrap_or(1),
        reason: error
            .detail()
            .unwrap_or(&error.kind().to_string())
            .to_string(),
    }
}

/// Renders the template `name` for `context`: the account's most specific one for the
/// context's trigger (`status`) and language ([`source`]), else the default.
pub fn render(
    own: &BTreeMap<String, String>,
    name: &str,
    context: &MessageContext,
) -> Result<String, TemplateError> {
    let (source, _) = source(own, name, &context.status, &context.language);
    render_source(name, source, context)
}

/// Which of an account's templates a message about `trigger` in `language` uses for `name`,
/// and the key it is saved under: the trigger's in the language, the trigger's in every
/// language, every trigger's in the language, every trigger's in every language; the default
/// (and no key) when the account has none of them.
pub fn source<'a>(
    own: &'a BTreeMap<String, String>,
    name: &str,
    trigger: &str,
    language: &str,
) -> (&'a str, Option<String>) {
    let keys = [
        format!("{trigger}:{name}.{language}"),
        format!("{trigger}:{name}"),
        format!("{name}.{language}"),
        name.to_string(),
    ];
    keys.into_iter()
        .find_map(|key| own.get(&key).map(|text| (text.as_str(), Some(key))))
        .unwrap_or_else(|| (default_source(name), None))
}

/// A template's key in an account's settings: its part, and the trigger and language it is
/// for (`None`: every one). Written `[<trigger>:]<name>[.<language>]`, e.g.
/// `delivered:email.subject.de`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateKey {
    pub trigger: Option<String>,
    pub name: &'static str,
    pub language: Option<Language>,
}

impl TemplateKey {
    /// The key of `key`; `None` for an unknown name, trigger or language.
    pub fn parse(key: &str) -> Option<TemplateKey> {
        let (trigger, rest) = match key.split_once(':') {
            Some((trigger, rest)) => (Some(trigger), rest),
            None => (None, key),
        };
        if trigger.is_some_and(|t| !is_trigger(t)) {
            return None;
        }
        let (name, language) = split_key(rest)?;
        Some(TemplateKey {
            trigger: trigger.map(str::to_string),
            name,
            language,
        })
    }

    /// The key as settings store it.
    pub fn key(&self) -> String {
        let trigger = self
            .trigger
            .as_ref()
            .map(|t| format!("{t}:"))
            .unwrap_or_default();
        let language = self
            .language
            .map(|l| format!(".{}", l.code()))
            .unwrap_or_default();
        format!("{trigger}{}{language}", self.name)
    }
}

/// Whether `text` is a delivery status (`delivered`) or sub-status (`transit002`), the words a
/// notification's trigger is written in.
pub fn is_trigger(text: &str) -> bool {
    text.parse::<parceld_model::DeliveryStatus>().is_ok()
        || text.parse::<parceld_model::SubStatus>().is_ok()
}

/// Renders `source` as the template `name` for `context`: the text a message part would be.
pub fn render_source(
    name: &str,
    source: &str,
    context: &MessageContext,
) -> Result<String, TemplateError> {
    let mut env = environment();
    env.add_template(name, source)
        .map_err(|e| failure(name, &e))?;
    let template = env.get_template(name).map_err(|e| failure(name, &e))?;
    let text = template.render(context).map_err(|e| failure(name, &e))?;
    Ok(text.trim_end_matches('\n').to_string()
        + if name == "email.subject" || name == "sms.text" {
            ""
        } else {
            "\n"
        })
}

/// A sample context, for previews and for checking templates when they are saved.
pub fn sample(language: Language) -> MessageContext {
    MessageContext {
        language: language.code().to_string(),
        shop_name: "Example Shop".into(),
        customer_name: Some("Ada Lovelace".into()),
        tracking_number: "SAMPLE123456".into(),
        courier_code: "sandbox".into(),
        order_number: Some("1001".into()),
        status: "transit".into(),
        latest_event: Some("Departed the sorting centre".into()),
        tracking_url: "https://track.example.com/track/shop/SAMPLE123456".into(),
        unsubscribe_url: "https://track.example.com/unsubscribe/TOKEN".into(),
        brand_color: parceld_store::pages::DEFAULT_BRAND_COLOR.into(),
        accent_color: parceld_store::pages::DEFAULT_ACCENT_COLOR.into(),
        logo_url: None,
        support_email: Some("help@example.com".into()),
        t: words(language, "transit"),
    }
}

/// Checks an account's template before it is saved: a known name (with an optional language),
/// not too long, compiles, and renders against the sample with and without the optional
/// values. Returns the first problem with its line.
pub fn validate(key: &str, source: &str) -> Result<(), TemplateError> {
    let parsed = TemplateKey::parse(key).ok_or_else(|| TemplateError {
        name: key.to_string(),
        line: 1,
        reason: format!(
            "unknown template; the names are {} with an optional trigger and language \
             (`delivered:email.subject.de`)",
            NAMES.join(", ")
        ),
    })?;
    let (name, language) = (parsed.name, parsed.language);
    if source.len() > MAX_TEMPLATE_LEN {
        return Err(TemplateError {
            name: key.to_string(),
            line: 1,
            reason: format!("longer than {MAX_TEMPLATE_LEN} bytes"),
        });
    }
    let mut full = sample(language.unwrap_or(Language::En));
    if let Some(trigger) = &parsed.trigger {
        full.t = words(language.unwrap_or(Language::En), trigger);
        full.status = trigger.clone();
    }
    let sparse = MessageContext {
        customer_name: None,
        order_number: None,
        latest_event: None,
        logo_url: None,
        support_email: None,
        ..full.clone()
    };
    for context in [full, sparse] {
        render_source(name, source, &context).map_err(|e| TemplateError {
            name: key.to_string(),
            ..e
        })?;
    }
    Ok(())
}

/// `email.subject.de` → (`email.subject`, German); `None` for an unknown name or language.
fn split_key(key: &str) -> Option<(&'static str, Option<Language>)> {
    if let Some(name) = NAMES.iter().find(|n| **n == key) {
        return Some((name, None));
    }
    let (base, code) = key.rsplit_once('.')?;
    let name = NAMES.iter().find(|n| **n == base)?;
    let language = Language::ALL.into_iter().find(|l| l.code() == code)?;
    Some((name, Some(language)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_render_in_every_language_with_the_links_and_escaped_html() {
        for language in Language::ALL {
            let mut context = sample(language);
            context.customer_name = Some("<Ada & Co>".into());
            let none = BTreeMap::new();
            let subject = render(&none, "email.subject", &context).unwrap();
            assert_eq!(
                subject,
                format!("Example Shop: {}", phrases(language).headlines[0])
            );
            let html = render(&none, "email.html", &context).unwrap();
            assert!(html.contains(&context.tracking_url), "{html}");
            assert!(html.contains(&context.unsubscribe_url));
            assert!(html.contains("&lt;Ada &amp; Co&gt;"), "escaped: {html}");
            assert!(html.contains(&format!("lang=\"{}\"", language.code())));
            let text = render(&none, "email.text", &context).unwrap();
            assert!(text.contains("<Ada & Co>"), "the text part is not escaped");
            assert!(text.contains(&context.unsubscribe_url));
            let sms = render(&none, "sms.text", &context).unwrap();
            assert!(sms.contains(&context.tracking_url) && !sms.contains('\n'));
        }
    }

    #[test]
    fn an_accounts_template_for_a_language_wins_over_its_general_one_and_the_default() {
        let own = BTreeMap::from([
            (
                "email.subject".to_string(),
                "All: {{ tracking_number }}".to_string(),
            ),
            (
                "email.subject.de".to_string(),
                "DE: {{ tracking_number }}".to_string(),
            ),
        ]);
        let de = render(&own, "email.subject", &sample(Language::De)).unwrap();
        let fr = render(&own, "email.subject", &sample(Language::Fr)).unwrap();
        assert_eq!(
            (de.as_str(), fr.as_str()),
            ("DE: SAMPLE123456", "All: SAMPLE123456")
        );
        assert!(render(&own, "email.text", &sample(Language::De))
            .unwrap()
            .contains("Sendungsnummer"));
    }

    #[test]
    fn invalid_templates_are_refused_with_their_line_and_reason() {
        let syntax =
            validate("email.text", "Hello\n\n{% if tracking_number %}\nno end").unwrap_err();
        assert_eq!(syntax.line, 3, "the unclosed block's line: {syntax:?}");
        assert!(
            syntax.reason.contains("endif") || syntax.reason.contains("end of input"),
            "{syntax:?}"
        );
        let unknown = validate("email.subject", "line one\n{{ no_such_value }}").unwrap_err();
        assert_eq!(unknown.line, 2, "{unknown:?}");
        let filter = validate("sms.text", "{{ tracking_number | shout }}").unwrap_err();
        assert!(
            filter.reason.contains("shout") || filter.reason.contains("filter"),
            "{filter:?}"
        );
        // An optional value used as if always set fails on the sample without it.
        let optional = validate("email.text", "{{ customer_name | upper }}");
        assert!(
            optional.is_ok(),
            "none renders as none, not an error: {optional:?}"
        );
        let endless = validate(
            "email.text",
            "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
        )
        .unwrap_err();
        assert!(
            endless.reason.contains("fuel") || endless.reason.contains("range"),
            "{endless:?}"
        );
        let name = validate("email.footer", "x").unwrap_err();
        assert!(name.reason.contains("unknown template"));
        assert!(validate("email.subject.de", "{{ shop_name }} – {{ t.headline }}").is_ok());
        assert!(validate("email.subject.xx", "x").is_err());
        assert!(validate("delivered:email.subject.de", "{{ t.headline }}").is_ok());
        assert!(validate("arrived:email.subject", "x").is_err());
    }

    #[test]
    fn a_triggers_template_wins_over_the_general_ones_and_keys_read_back() {
        let own = BTreeMap::from([
            ("email.subject".to_string(), "All".to_string()),
            ("email.subject.de".to_string(), "DE".to_string()),
            ("transit:email.subject".to_string(), "Transit".to_string()),
            (
                "transit:email.subject.de".to_string(),
                "Transit DE".to_string(),
            ),
        ]);
        // (trigger, language) → the template used and its key.
        let cases = [
            ("transit", "de", "Transit DE", "transit:email.subject.de"),
            ("transit", "fr", "Transit", "transit:email.subject"),
            ("delivered", "de", "DE", "email.subject.de"),
            ("delivered", "fr", "All", "email.subject"),
        ];
        for (trigger, language, text, key) in cases {
            let used = source(&own, "email.subject", trigger, language);
            assert_eq!(used, (text, Some(key.to_string())), "{trigger} {language}");
        }
        assert_eq!(
            source(&own, "sms.text", "transit", "de"),
            (DEFAULT_SMS, None)
        );
        for key in [
            "email.html",
            "sms.text.ja",
            "transit002:email.text",
            "delivered:email.subject.de",
        ] {
            assert_eq!(TemplateKey::parse(key).unwrap().key(), key);
        }
        for bad in ["email", "nope:email.text", "email.text.xx", "delivered:"] {
            assert_eq!(TemplateKey::parse(bad), None, "{bad}");
        }
    }
}
