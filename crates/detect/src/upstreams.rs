//! The long tail: TrackingMore's whole courier list (`data/upstreams.tsv`), with what each
//! aggregator upstream calls every courier. parceld has adapters for a few dozen couriers; a shop
//! that pays an aggregator (17TRACK, AfterShip, TrackingMore) for the rest names them by the same
//! TrackingMore codes, so the registry lists every one of them, and the upstream adapters read
//! here which carrier key or slug to send for a code.

use std::sync::LazyLock;

use parceld_model::CourierType;

use crate::registry::Courier;

const TABLE: &str = include_str!("../data/upstreams.tsv");

/// What the upstreams call one courier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UpstreamIds {
    /// TrackingMore's code, which is parceld's.
    pub code: &'static str,
    pub name: &'static str,
    /// 17TRACK's numeric carrier key; `None`: 17TRACK detects the carrier from the number.
    pub seventeen_track: Option<u32>,
    /// AfterShip's slug; `None`: AfterShip detects the courier.
    pub aftership: Option<&'static str>,
}

static ROWS: LazyLock<Vec<UpstreamIds>> = LazyLock::new(|| {
    TABLE
        .lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(|line| {
            let fields: Vec<&'static str> = line.split('\t').collect();
            let [code, name, key, slug] = fields[..] else {
                panic!("upstreams.tsv: not four tab-separated columns: {line:?}");
            };
            UpstreamIds {
                code,
                name,
                seventeen_track: match key {
                    "-" => None,
                    key => Some(key.parse().unwrap_or_else(|_| {
                        panic!("upstreams.tsv: {code}: 17TRACK key {key:?} is not a number")
                    })),
                },
                aftership: match slug {
                    "-" => None,
                    "=" => Some(code),
                    slug => Some(slug),
                },
            }
        })
        .collect()
});

/// Every row of the table, in its order.
pub fn upstream_table() -> &'static [UpstreamIds] {
    &ROWS
}

/// What the upstreams call courier `code`, when the table lists it.
pub fn upstream_ids(code: &str) -> Option<&'static UpstreamIds> {
    ROWS.iter().find(|row| row.code == code)
}

/// The courier whose 17TRACK carrier key the table gives as `key` (a push names the carrier by
/// its key).
pub fn courier_by_17track_key(key: u32) -> Option<&'static str> {
    ROWS.iter()
        .find(|row| row.seventeen_track == Some(key))
        .map(|row| row.code)
}

/// The courier whose AfterShip slug the table gives as `slug` (a push names the courier by its
/// slug).
pub fn courier_by_aftership_slug(slug: &str) -> Option<&'static str> {
    ROWS.iter()
        .find(|row| row.aftership == Some(slug))
        .map(|row| row.code)
}

/// A courier of the table that the other tables do not name: a postal operator when its name
/// says so, an express carrier otherwise; no country, web site or adapter.
pub(crate) fn long_tail_courier(row: &UpstreamIds) -> Courier {
    let name = row.name.to_lowercase();
    let postal = [
        "post", "posta", "pošta", "ems", "correo", "pasts", "pastas", "poshta",
    ]
    .iter()
    .any(|word| {
        name.split(|c: char| !c.is_alphanumeric())
            .any(|w| w == *word)
    }) || name.contains("post");
    Courier {
        code: row.code,
        name: row.name,
        country_iso2: "",
        courier_type: if postal {
            CourierType::Postal
        } else {
            CourierType::Express
        },
        url: "",
        phone: "",
        tracking_required_fields: &[],
        has_adapter: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_reads_and_names_each_code_once() {
        let rows = upstream_table();
        assert!(rows.len() > 500, "{}", rows.len());
        let mut codes: Vec<&str> = rows.iter().map(|r| r.code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), rows.len());
        let china = upstream_ids("china-post").unwrap();
        assert_eq!(china.seventeen_track, Some(3011));
        assert_eq!(china.aftership, Some("china-post"));
        assert_eq!(
            upstream_ids("belgium-post").unwrap().aftership,
            Some("bpost")
        );
        assert_eq!(upstream_ids("yanwen").unwrap().seventeen_track, None);
    }

    #[test]
    fn pushes_name_couriers_that_map_back_to_their_codes() {
        assert_eq!(courier_by_17track_key(3011), Some("china-post"));
        assert_eq!(courier_by_17track_key(1), None);
        assert_eq!(courier_by_aftership_slug("bpost"), Some("belgium-post"));
        assert_eq!(courier_by_aftership_slug("yanwen"), Some("yanwen"));
        assert_eq!(courier_by_aftership_slug("no-such-slug"), None);
    }

    #[test]
    fn long_tail_couriers_are_postal_by_their_name() {
        let kind = |code| long_tail_courier(upstream_ids(code).unwrap()).courier_type;
        assert_eq!(kind("tonga-post"), CourierType::Postal);
        assert_eq!(kind("ukraine-ems"), CourierType::Postal);
        assert_eq!(kind("yanwen"), CourierType::Express);
    }
}
