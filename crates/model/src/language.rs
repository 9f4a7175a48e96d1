//! The languages parceld writes its own texts in (the tracking page, and the messages to a
//! shop's customers that link to it).
//!
//! One list, so that the page's catalogs, the branding's default language and a tracking's
//! `language` field all mean the same ten languages. Carrier event texts are never translated:
//! they are shown as the carrier wrote them.

/// A language of parceld's own texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Language {
    En,
    De,
    Fr,
    Es,
    It,
    Nl,
    Pt,
    Pl,
    Zh,
    Ja,
}

impl Language {
    /// Every language, English (the fallback) first.
    pub const ALL: [Language; 10] = [
        Language::En,
        Language::De,
        Language::Fr,
        Language::Es,
        Language::It,
        Language::Nl,
        Language::Pt,
        Language::Pl,
        Language::Zh,
        Language::Ja,
    ];

    /// The ISO 639-1 code, as in `lang=` and `Accept-Language`.
    pub fn code(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::De => "de",
            Language::Fr => "fr",
            Language::Es => "es",
            Language::It => "it",
            Language::Nl => "nl",
            Language::Pt => "pt",
            Language::Pl => "pl",
            Language::Zh => "zh",
            Language::Ja => "ja",
        }
    }

    /// The language's name in itself, for a language switch.
    pub fn native_name(self) -> &'static str {
        match self {
            Language::En => "English",
            Language::De => "Deutsch",
            Language::Fr => "Français",
            Language::Es => "Español",
            Language::It => "Italiano",
            Language::Nl => "Nederlands",
            Language::Pt => "Português",
            Language::Pl => "Polski",
            Language::Zh => "中文",
            Language::Ja => "日本語",
        }
    }

    /// The language of a tag such as `de`, `de-AT` or `zh_Hans_CN` (its primary subtag, any
    /// case); `None` for a language parceld does not write.
    pub fn from_tag(tag: &str) -> Option<Language> {
        let primary = tag.trim().split(['-', '_']).next().unwrap_or("");
        Language::ALL
            .into_iter()
            .find(|language| language.code().eq_ignore_ascii_case(primary))
    }

    /// The best language for an `Accept-Language` header: the highest-weighted tag parceld
    /// writes (the earlier one on a tie), `None` when it names none of them. Malformed parts
    /// are skipped, never an error; a header of any length is read in one pass without
    /// allocating.
    pub fn negotiate(accept_language: &str) -> Option<Language> {
        let mut best: Option<(Language, u16)> = None;
        for part in accept_language.split(',').take(64) {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or("");
            let weight = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .map_or(Some(1000), quality);
            let (Some(language), Some(weight)) = (Language::from_tag(tag), weight) else {
                continue;
            };
            if weight > 0 && best.is_none_or(|(_, w)| weight > w) {
                best = Some((language, weight));
            }
        }
        best.map(|(language, _)| language)
    }
}

/// An `Accept-Language` quality value (`0` to `1`, at most three decimals) in thousandths.
fn quality(text: &str) -> Option<u16> {
    let value: f32 = text.trim().parse().ok()?;
    (0.0..=1.0)
        .contains(&value)
        .then(|| (value * 1000.0).round() as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_read_by_their_primary_subtag_in_any_case() {
        assert_eq!(Language::from_tag("de-AT"), Some(Language::De));
        assert_eq!(Language::from_tag("ZH_hans"), Some(Language::Zh));
        assert_eq!(Language::from_tag(" ja "), Some(Language::Ja));
        assert_eq!(Language::from_tag("sv-SE"), None);
        assert_eq!(Language::from_tag(""), None);
    }

    #[test]
    fn negotiation_takes_the_best_weighted_language_parceld_writes() {
        assert_eq!(
            Language::negotiate("sv-SE, fr;q=0.8, de;q=0.9"),
            Some(Language::De)
        );
        assert_eq!(Language::negotiate("pl,en;q=0.5"), Some(Language::Pl));
        assert_eq!(
            Language::negotiate("nl;q=0.5, it;q=0.5"),
            Some(Language::Nl)
        );
        assert_eq!(Language::negotiate("fr;q=0, *"), None);
        assert_eq!(Language::negotiate("sv, fi"), None);
        assert_eq!(
            Language::negotiate(";;;,q=2,en;q=x, es"),
            Some(Language::Es)
        );
        assert_eq!(Language::negotiate(""), None);
    }

    #[test]
    fn codes_round_trip() {
        for language in Language::ALL {
            assert_eq!(Language::from_tag(language.code()), Some(language));
        }
    }
}
