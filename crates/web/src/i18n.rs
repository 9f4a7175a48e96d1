//! The page's translations: one Fluent catalog per language (`crates/web/i18n/<code>.ftl`,
//! compiled into the binary), with dates and times in the reader's format.
//!
//! Fluent (Mozilla's format, `fluent-bundle`) because translators know it and it says plurals
//! properly (Polish has three forms). Catalogs are parsed once; every message without
//! arguments is formatted once too, so a page's fixed texts are a map look-up, and only the
//! few texts with arguments (a count, a date) are formatted per request. English is the
//! reference: every catalog must have exactly its keys (a test checks it), and a text missing
//! anyway falls back to English rather than to its key. The notifications and the dashboard
//! use the same catalogs through [`texts`].

use std::collections::HashMap;
use std::sync::LazyLock;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, Timelike};
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use parceld_model::Language;

/// Each language's catalog source, in [`Language::ALL`]'s order.
const SOURCES: [(Language, &str); 10] = [
    (Language::En, include_str!("../i18n/en.ftl")),
    (Language::De, include_str!("../i18n/de.ftl")),
    (Language::Fr, include_str!("../i18n/fr.ftl")),
    (Language::Es, include_str!("../i18n/es.ftl")),
    (Language::It, include_str!("../i18n/it.ftl")),
    (Language::Nl, include_str!("../i18n/nl.ftl")),
    (Language::Pt, include_str!("../i18n/pt.ftl")),
    (Language::Pl, include_str!("../i18n/pl.ftl")),
    (Language::Zh, include_str!("../i18n/zh.ftl")),
    (Language::Ja, include_str!("../i18n/ja.ftl")),
];

/// One language's texts.
pub struct Texts {
    pub language: Language,
    bundle: FluentBundle<FluentResource>,
    /// Every message formatted without arguments (those that need none).
    fixed: HashMap<String, String>,
    twelve_hour: bool,
    /// The `date` message cut at its arguments, and the month names: a page formats a date
    /// per event, and Fluent's formatting per call was a tenth of a page's time.
    date_pattern: Vec<DatePart>,
    months: [String; 12],
}

/// A piece of a date pattern.
#[derive(Debug, Clone, PartialEq)]
enum DatePart {
    Text(String),
    Day,
    Month,
    MonthNumber,
    Year,
}

/// The `date` message as pieces: formatted once with markers in place of its arguments, then cut
/// at the markers.
fn date_pattern(bundle: &FluentBundle<FluentResource>) -> Vec<DatePart> {
    const MARKS: [(&str, &str); 4] = [
        ("day", "\u{1}D\u{1}"),
        ("month", "\u{1}M\u{1}"),
        ("monthnum", "\u{1}N\u{1}"),
        ("year", "\u{1}Y\u{1}"),
    ];
    let Some(pattern) = bundle.get_message("date").and_then(|m| m.value()) else {
        return vec![
            DatePart::Year,
            DatePart::Text("-".into()),
            DatePart::MonthNumber,
        ];
    };
    let mut args = FluentArgs::new();
    for (name, mark) in MARKS {
        args.set(name, mark);
    }
    let mut errors = Vec::new();
    let formatted = bundle.format_pattern(pattern, Some(&args), &mut errors);
    formatted
        .split('\u{1}')
        .enumerate()
        .filter(|(_, piece)| !piece.is_empty())
        .map(|(i, piece)| match (i % 2, piece) {
            (1, "D") => DatePart::Day,
            (1, "M") => DatePart::Month,
            (1, "N") => DatePart::MonthNumber,
            (1, "Y") => DatePart::Year,
            _ => DatePart::Text(piece.to_string()),
        })
        .collect()
}

static CATALOG: LazyLock<Vec<Texts>> = LazyLock::new(|| {
    SOURCES
        .iter()
        .map(|(language, source)| Texts::parse(*language, source))
        .collect()
});

/// The texts of `language`.
pub fn texts(language: Language) -> &'static Texts {
    let index = Language::ALL
        .iter()
        .position(|l| *l == language)
        .unwrap_or(0);
    &CATALOG[index]
}

impl Texts {
    fn parse(language: Language, source: &str) -> Texts {
        let resource = FluentResource::try_new(source.to_string())
            .unwrap_or_else(|(_, errors)| panic!("{}.ftl: {errors:?}", language.code()));
        let langid: unic_langid::LanguageIdentifier =
            language.code().parse().expect("a language code");
        let mut bundle = FluentBundle::new_concurrent(vec![langid]);
        // No Unicode isolation marks around arguments: they would show up in titles and tests.
        bundle.set_use_isolating(false);
        let ids = message_ids(source);
        bundle
            .add_resource(resource)
            .unwrap_or_else(|errors| panic!("{}.ftl: {errors:?}", language.code()));
        let mut fixed = HashMap::new();
        for id in ids {
            let Some(pattern) = bundle.get_message(&id).and_then(|m| m.value()) else {
                continue;
            };
            let mut errors = Vec::new();
            let text = bundle.format_pattern(pattern, None, &mut errors);
            if errors.is_empty() {
                fixed.insert(id, text.into_owned());
            }
        }
        let twelve_hour = fixed.get("clock").map(String::as_str) == Some("12");
        let months = std::array::from_fn(|i| {
            fixed
                .get(&format!("month-{}", i + 1))
                .cloned()
                .unwrap_or_default()
        });
        Texts {
            language,
            date_pattern: date_pattern(&bundle),
            bundle,
            fixed,
            twelve_hour,
            months,
        }
    }

    /// The message `key` (one without arguments); English's when this catalog lacks it, and
    /// empty when English lacks it too (the tests keep every key a template or a status uses
    /// in every catalog).
    pub fn get(&self, key: &str) -> &str {
        match self.fixed.get(key) {
            Some(text) => text,
            None if self.language != Language::En => texts(Language::En).get(key),
            None => "",
        }
    }

    /// The message `key` formatted with `args`; English's when this catalog lacks it.
    pub fn format(&self, key: &str, args: &[(&str, FluentValue<'_>)]) -> String {
        let Some(pattern) = self.bundle.get_message(key).and_then(|m| m.value()) else {
            return if self.language != Language::En {
                texts(Language::En).format(key, args)
            } else {
                key.to_string()
            };
        };
        let mut fluent_args = FluentArgs::new();
        for (name, value) in args {
            fluent_args.set(*name, value.clone());
        }
        let mut errors = Vec::new();
        self.bundle
            .format_pattern(pattern, Some(&fluent_args), &mut errors)
            .into_owned()
    }

    /// A count for plural messages (`parcels-in-order`).
    pub fn count(&self, key: &str, count: usize) -> String {
        self.format(key, &[("count", FluentValue::from(count))])
    }

    /// A date in this language's format, e.g. `Mar 5, 2025`, `5. März 2025`, `2025年3月5日`.
    pub fn date(&self, date: NaiveDate) -> String {
        use std::fmt::Write as _;
        let mut out = String::with_capacity(24);
        for part in &self.date_pattern {
            // Writing to a String cannot fail.
            let _ = match part {
                DatePart::Text(text) => out.write_str(text),
                DatePart::Day => write!(out, "{}", date.day()),
                DatePart::Month => out.write_str(&self.months[date.month0() as usize]),
                DatePart::MonthNumber => write!(out, "{}", date.month()),
                DatePart::Year => write!(out, "{}", date.year()),
            };
        }
        out
    }

    /// A time of day in this language's clock: `2:05 PM` or `14:05`.
    pub fn time(&self, hour: u32, minute: u32) -> String {
        if self.twelve_hour {
            let half = if hour < 12 { "time-am" } else { "time-pm" };
            let twelve = match hour % 12 {
                0 => 12,
                h => h,
            };
            format!("{twelve}:{minute:02} {}", self.get(half))
        } else {
            format!("{hour:02}:{minute:02}")
        }
    }

    /// A local date and time as it was written where it happened (the offset kept, not
    /// converted to the reader's zone): `(date, time)`.
    pub fn local(&self, at: DateTime<FixedOffset>) -> (String, String) {
        (
            self.date(at.date_naive()),
            self.time(at.hour(), at.minute()),
        )
    }
}

/// The ids of a catalog's messages: every line that starts with `id =` at its first column.
fn message_ids(source: &str) -> Vec<String> {
    source
        .lines()
        .filter(|line| line.starts_with(|c: char| c.is_ascii_lowercase()))
        .filter_map(|line| line.split_once(" ="))
        .map(|(id, _)| id.to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(source: &str) -> Vec<String> {
        let mut keys = message_ids(source);
        keys.sort();
        keys
    }

    #[test]
    fn every_catalog_parses_and_has_exactly_the_english_keys() {
        let english = keys(SOURCES[0].1);
        assert!(english.len() > 100, "{}", english.len());
        for (language, source) in SOURCES {
            assert_eq!(keys(source), english, "{}.ftl", language.code());
            let texts = texts(language);
            assert_eq!(texts.language, language);
            for key in &english {
                let has = texts
                    .bundle
                    .get_message(key)
                    .is_some_and(|m| m.value().is_some());
                assert!(has, "{}.ftl: {key} has no value", language.code());
            }
        }
    }

    #[test]
    fn every_status_and_sub_status_has_words_in_every_language() {
        for (language, _) in SOURCES {
            let texts = texts(language);
            for status in parceld_model::DeliveryStatus::ALL {
                let key = format!("status-{}", status.as_str());
                assert!(texts.fixed.contains_key(&key), "{}: {key}", language.code());
            }
            for sub in parceld_model::SubStatus::ALL {
                let key = format!("substatus-{}", sub.as_str());
                assert!(texts.fixed.contains_key(&key), "{}: {key}", language.code());
            }
        }
    }

    #[test]
    fn every_text_a_template_asks_for_is_in_the_catalogs() {
        let templates = [
            include_str!("../templates/base.html"),
            include_str!("../templates/lookup.html"),
            include_str!("../templates/shipment.html"),
            include_str!("../templates/parcel.html"),
            include_str!("../templates/message.html"),
        ];
        let english = keys(SOURCES[0].1);
        let mut asked = 0;
        for template in templates {
            for part in template.split("t.get(\"").skip(1) {
                let key = part.split('"').next().unwrap();
                assert!(english.iter().any(|k| k == key), "{key} is not in en.ftl");
                asked += 1;
            }
        }
        assert!(asked > 30, "{asked}");
    }

    #[test]
    fn dates_and_times_follow_the_readers_language() {
        let date = NaiveDate::from_ymd_opt(2025, 3, 5).unwrap();
        assert_eq!(texts(Language::En).date(date), "Mar 5, 2025");
        assert_eq!(texts(Language::De).date(date), "5. März 2025");
        assert_eq!(texts(Language::Pt).date(date), "5 de mar. de 2025");
        assert_eq!(texts(Language::Ja).date(date), "2025年3月5日");
        assert_eq!(texts(Language::Fr).date(date), "5 mars 2025");
        // The same as Fluent formats the message, in every language.
        for language in Language::ALL {
            let t = texts(language);
            let fluent = t.format(
                "date",
                &[
                    ("day", "5".into()),
                    ("month", t.get("month-3").to_string().into()),
                    ("monthnum", "3".into()),
                    ("year", "2025".into()),
                ],
            );
            assert_eq!(t.date(date), fluent, "{}", language.code());
        }
        assert_eq!(texts(Language::En).time(14, 5), "2:05 PM");
        assert_eq!(texts(Language::En).time(0, 30), "12:30 AM");
        assert_eq!(texts(Language::Fr).time(14, 5), "14:05");
    }

    #[test]
    fn plurals_follow_each_languages_rules() {
        for (language, count, text) in [
            (Language::En, 1, "One parcel in this order"),
            (Language::En, 3, "3 parcels in this order"),
            (Language::Pl, 3, "3 paczki w tym zamówieniu"),
            (Language::Pl, 5, "5 paczek w tym zamówieniu"),
        ] {
            assert_eq!(texts(language).count("parcels-in-order", count), text);
        }
    }
}
