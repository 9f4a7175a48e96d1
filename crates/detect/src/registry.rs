//! The courier registry: every courier parceld can name, built once from three tables — the named
//! couriers (`data/couriers.tsv`), the national post of every UPU member country
//! (`data/national_posts.tsv`), which is also how an S10 number's country is resolved to a courier,
//! and the long tail of TrackingMore's list that only upstreams reach (`data/upstreams.tsv`).
//!
//! Codes follow TrackingMore's courier codes so existing integrations keep working.
//! `has_adapter` says whether parceld can fetch tracking from that courier itself; a tracking for
//! a courier without an adapter can still be stored (it stays pending unless an upstream fetches
//! it).
//!
//! The registry is built on first use (a few hundred entries, microseconds) and never changes;
//! the references it hands out are `'static`. A row naming a courier the tables do not define, or
//! a country twice, is a bug in the tables and panics on first use — `registry_builds` and every
//! other test catch it before a release.

use std::sync::LazyLock;

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

/// The named couriers: code, name, country, type, web site, adapter, required fields.
const NAMED: &str = include_str!("../data/couriers.tsv");
/// The national posts table: country code, courier code, courier name, country, source.
const NATIONAL_POSTS: &str = include_str!("../data/national_posts.tsv");

/// The lines of a table that are not comments or blank, split at tabs.
fn rows(table: &'static str) -> impl Iterator<Item = Vec<&'static str>> {
    table
        .lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(|line| line.split('\t').collect())
}

/// One line of `couriers.tsv`.
fn named(fields: &[&'static str]) -> Option<Courier> {
    let [code, name, country, kind, url, adapter, required] = fields[..] else {
        return None;
    };
    let dash = |text: &'static str| if text == "-" { "" } else { text };
    let required: &'static [&'static str] = match required {
        "-" => &[],
        "tracking_postal_code" => &["tracking_postal_code"],
        _ => return None,
    };
    Some(Courier {
        code,
        name,
        country_iso2: dash(country),
        courier_type: match kind {
            "express" => CourierType::Express,
            "postal" => CourierType::Postal,
            _ => return None,
        },
        url: dash(url),
        phone: "",
        tracking_required_fields: required,
        has_adapter: match adapter {
            "yes" => true,
            "no" => false,
            _ => return None,
        },
    })
}

/// One row of the national posts table.
#[derive(Debug, Clone, Copy)]
pub struct NationalPost {
    /// ISO 3166-1 alpha-2, as S10 numbers end in it.
    pub country_iso2: &'static str,
    pub country: &'static str,
    pub courier: &'static Courier,
    /// Where the row comes from: `s10` (jkeen/tracking_number_data's S10 table, from the UPU's
    /// member-country pages) or `add` (see the table's header).
    pub source: &'static str,
}

struct Registry {
    all: Vec<Courier>,
    /// How many of `all`, from the start, come from `couriers.tsv`.
    named: usize,
    /// Positions in `all`, sorted by code, for lookups by code.
    by_code: Vec<u16>,
    /// Per two-letter country code (`(a - 'A') * 26 + (b - 'A')`): the national post's position.
    by_country: Vec<Option<u16>>,
    /// The national posts table's rows, as positions in `all` with the row's other columns.
    posts: Vec<(&'static str, &'static str, u16, &'static str)>,
}

static REGISTRY: LazyLock<Registry> = LazyLock::new(Registry::build);

impl Registry {
    fn build() -> Registry {
        let mut all: Vec<Courier> = rows(NAMED)
            .map(|fields| {
                named(&fields).unwrap_or_else(|| panic!("couriers.tsv: bad line {fields:?}"))
            })
            .collect();
        let named = all.len();
        let mut by_country = vec![None; 26 * 26];
        let mut posts = Vec::new();
        for fields in rows(NATIONAL_POSTS) {
            let [iso2, code, name, country, source] = fields[..] else {
                panic!("national_posts.tsv: not five tab-separated columns: {fields:?}");
            };
            let slot = country_slot(iso2.as_bytes())
                .unwrap_or_else(|| panic!("national_posts.tsv: bad country code {iso2:?}"));
            let position = match all.iter().position(|c| c.code == code) {
                Some(position) => position,
                None => {
                    all.push(Courier {
                        code,
                        name,
                        country_iso2: iso2,
                        courier_type: CourierType::Postal,
                        url: "",
                        phone: "",
                        tracking_required_fields: &[],
                        has_adapter: false,
                    });
                    all.len() - 1
                }
            };
            let position = u16::try_from(position).expect("fewer than 65,536 couriers");
            assert!(
                by_country[slot].replace(position).is_none(),
                "national_posts.tsv: {iso2} twice"
            );
            posts.push((iso2, country, position, source));
        }
        // The long tail: every other courier TrackingMore lists, reached through an upstream.
        for row in crate::upstreams::upstream_table() {
            if !all.iter().any(|c| c.code == row.code) {
                all.push(crate::upstreams::long_tail_courier(row));
            }
        }
        let mut by_code: Vec<u16> = (0..all.len() as u16).collect();
        by_code.sort_by_key(|&i| all[usize::from(i)].code);
        for pair in by_code.windows(2) {
            let code = all[usize::from(pair[0])].code;
            assert_ne!(code, all[usize::from(pair[1])].code, "courier {code} twice");
        }
        Registry {
            all,
            named,
            by_code,
            by_country,
            posts,
        }
    }

    fn position(&self, code: &str) -> Option<usize> {
        self.by_code
            .binary_search_by(|&i| self.all[usize::from(i)].code.cmp(code))
            .ok()
            .map(|found| usize::from(self.by_code[found]))
    }
}

/// The slot of a two-letter upper-case country code in [`Registry::by_country`].
#[inline]
fn country_slot(code: &[u8]) -> Option<usize> {
    match code {
        [a @ b'A'..=b'Z', b @ b'A'..=b'Z'] => {
            Some(usize::from(a - b'A') * 26 + usize::from(b - b'A'))
        }
        _ => None,
    }
}

/// The couriers `couriers.tsv` names (they come first in [`couriers`]): the ones with an adapter,
/// a number format or a brand of their own.
pub fn named_couriers() -> &'static [Courier] {
    &REGISTRY.all[..REGISTRY.named]
}

/// Every courier parceld knows, in a stable order: the named couriers, the national posts, then
/// the long tail.
pub fn couriers() -> &'static [Courier] {
    &REGISTRY.all
}

/// The courier with this code, if parceld knows it.
pub fn courier(code: &str) -> Option<&'static Courier> {
    let registry = &*REGISTRY;
    registry.position(code).map(|i| &registry.all[i])
}

/// The national post of a country (ISO 3166-1 alpha-2, upper case), the courier an S10 number
/// ending in that code is resolved to.
pub fn national_post(country_iso2: &[u8]) -> Option<&'static Courier> {
    let registry = &*REGISTRY;
    let position = registry.by_country[country_slot(country_iso2)?]?;
    Some(&registry.all[usize::from(position)])
}

/// The national posts table, in its order: every UPU member country's post.
pub fn national_posts() -> impl Iterator<Item = NationalPost> {
    let registry = &*REGISTRY;
    registry
        .posts
        .iter()
        .map(|&(country_iso2, country, position, source)| NationalPost {
            country_iso2,
            country,
            courier: &registry.all[usize::from(position)],
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_courier_lines_are_refused() {
        for line in [
            "x\tX\t-\tferry\t-\tno\t-",
            "x\tX\t-\texpress\t-\tmaybe\t-",
            "x\tX\t-\texpress\t-\tno\tcolour",
            "x\tX\t-\texpress\t-\tno",
        ] {
            let fields: Vec<&'static str> = line.split('\t').collect();
            assert!(named(&fields).is_none(), "{line}");
        }
    }

    #[test]
    fn registry_builds() {
        assert!(couriers().len() > named_couriers().len());
        assert_eq!(couriers()[0].code, "sandbox");
        let ups = courier("ups").unwrap();
        assert!(ups.has_adapter && ups.courier_type == CourierType::Express);
        assert_eq!((ups.name, ups.country_iso2), ("UPS", "US"));
        let postnl = courier("postnl-3s").unwrap();
        assert_eq!(postnl.tracking_required_fields, ["tracking_postal_code"]);
        assert_eq!(courier("dpd").unwrap().country_iso2, "");
        assert_eq!(courier("sandbox").unwrap().url, "");
    }

    #[test]
    fn codes_are_unique_lowercase_and_findable() {
        for (i, c) in couriers().iter().enumerate() {
            assert_eq!(c.code, c.code.to_ascii_lowercase());
            assert!(
                c.code
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{}",
                c.code
            );
            assert!(
                couriers()[i + 1..].iter().all(|o| o.code != c.code),
                "{}",
                c.code
            );
            assert_eq!(courier(c.code), Some(c));
            assert!(!c.name.is_empty(), "{}", c.code);
        }
        assert_eq!(courier("no-such-courier"), None);
        assert_eq!(courier(""), None);
    }

    #[test]
    fn every_upu_member_has_a_national_post() {
        // 192 UPU member countries: 190 with a country code in the table's `s10` rows (Hong Kong
        // is there too, under China's membership), and two members that are groups of
        // territories, each territory under its own code (`add` rows).
        let posts: Vec<NationalPost> = national_posts().collect();
        let from_s10 = posts.iter().filter(|p| p.source == "s10").count();
        assert_eq!(from_s10, 191);
        assert!(posts.iter().all(|p| p.source == "s10" || p.source == "add"));
        for post in &posts {
            assert_eq!(
                national_post(post.country_iso2.as_bytes()),
                Some(post.courier),
                "{}",
                post.country_iso2
            );
            assert_eq!(post.courier.courier_type, CourierType::Postal);
        }
        for (country, code) in [
            (b"GB", "royal-mail"),
            (b"US", "usps"),
            (b"NL", "postnl-3s"),
            (b"DE", "deutsch-post"),
            (b"CN", "china-post"),
            (b"IE", "an-post"),
            (b"VN", "vietnam-post"),
        ] {
            assert_eq!(national_post(country).map(|c| c.code), Some(code));
        }
        assert_eq!(national_post(b"XX"), None);
        assert_eq!(national_post(b"gb"), None);
        assert_eq!(national_post(b"G"), None);
    }
}
