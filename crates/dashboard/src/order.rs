//! The shipments table's order and page position as a query string has them: `sort` (a
//! column), `dir` (`asc` or `desc`), and `after` or `before` (a cursor), and the column
//! headers that link to each order.
//!
//! A cursor names the row a page continues from, by its sort value and primary key
//! (`parceld_store::sorting`): base64url of `value.pk`, where the value is the time in
//! microseconds, the tracking number, or nothing (creation order is key order). It is opaque to
//! the user but not secret — a forged one only moves the page, and every query names the user's
//! account — and it is checked strictly: a cursor that is not one the table could have written
//! (too long, not base64url, a value out of range) is a bad request, never a database error.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use parceld_store::sorting::NO_EVENT_SECONDS;
use parceld_store::{Position, Sort, SortKey, SortValue, Toward};

use crate::render::Refusal;

/// Longest cursor accepted (base64url characters): a 100-character number and a key fit.
const MAX_CURSOR: usize = 200;
/// Latest time a cursor may name: 9999-12-31T23:59:59Z.
const LATEST_SECONDS: i64 = 253_402_300_799;

/// The order of a key when the query names none: times newest first, numbers A to Z.
pub fn default_descending(key: SortKey) -> bool {
    key != SortKey::Number
}

/// The order `sort` and `dir` of a query string name (either may be empty).
pub fn parse_sort(sort: &str, dir: &str) -> Result<Sort, Refusal> {
    let key = match sort {
        "" => SortKey::Created,
        name => SortKey::parse(name).ok_or(Refusal::BadRequest)?,
    };
    let descending = match dir {
        "" => default_descending(key),
        "asc" => false,
        "desc" => true,
        _ => return Err(Refusal::BadRequest),
    };
    Ok(Sort { key, descending })
}

/// The page position `after` and `before` name (at most one of them) in the order of `key`.
pub fn parse_from(
    key: SortKey,
    after: &str,
    before: &str,
) -> Result<Option<(Position, Toward)>, Refusal> {
    match (after, before) {
        ("", "") => Ok(None),
        (cursor, "") => Ok(Some((decode(key, cursor)?, Toward::Later))),
        ("", cursor) => Ok(Some((decode(key, cursor)?, Toward::Earlier))),
        _ => Err(Refusal::BadRequest),
    }
}

/// The query-string pairs of `sort` (nothing for the default order) and of a position.
pub fn pairs(sort: Sort, from: Option<&(Position, Toward)>) -> Vec<(&'static str, String)> {
    let mut pairs = Vec::new();
    if sort != Sort::default() {
        pairs.push(("sort", sort.key.name().to_string()));
    }
    if sort.descending != default_descending(sort.key) {
        pairs.push(("dir", if sort.descending { "desc" } else { "asc" }.into()));
    }
    if let Some((position, toward)) = from {
        let name = match toward {
            Toward::Later => "after",
            Toward::Earlier => "before",
        };
        pairs.push((name, encode(position)));
    }
    pairs
}

/// A position as a cursor.
pub fn encode(position: &Position) -> String {
    let value = match &position.value {
        SortValue::Key => String::new(),
        SortValue::Time(micros) => micros.to_string(),
        SortValue::Text(text) => text.clone(),
    };
    URL_SAFE_NO_PAD.encode(format!("{value}.{}", position.pk))
}

/// The position a cursor names in the order of `key`.
pub fn decode(key: SortKey, cursor: &str) -> Result<Position, Refusal> {
    let bad = || Refusal::BadRequest;
    if cursor.len() > MAX_CURSOR {
        return Err(bad());
    }
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (value, pk) = text.rsplit_once('.').ok_or_else(bad)?;
    let pk: i64 = pk.parse().map_err(|_| bad())?;
    let seconds = NO_EVENT_SECONDS..=LATEST_SECONDS;
    let value = match key {
        SortKey::Created if value.is_empty() => SortValue::Key,
        SortKey::Updated | SortKey::LastEvent => {
            let micros: i64 = value.parse().map_err(|_| bad())?;
            if !seconds.contains(&micros.div_euclid(1_000_000)) {
                return Err(bad());
            }
            SortValue::Time(micros)
        }
        SortKey::Number if !value.is_empty() && value.len() <= 100 => {
            SortValue::Text(value.to_string())
        }
        _ => return Err(bad()),
    };
    Ok(Position { value, pk })
}

/// How the table's caption says an order.
pub fn describe(sort: Sort) -> &'static str {
    match (sort.key, sort.descending) {
        (SortKey::Created, true) => "newest first",
        (SortKey::Created, false) => "oldest first",
        (SortKey::Updated, true) => "last updated first",
        (SortKey::Updated, false) => "least recently updated first",
        (SortKey::LastEvent, true) => "latest event first",
        (SortKey::LastEvent, false) => "earliest event first, those without one before",
        (SortKey::Number, false) => "by number, A to Z",
        (SortKey::Number, true) => "by number, Z to A",
    }
}

/// A column header of the table: its text, and for a column the table sorts by, the link to
/// sort by it (the other direction when it is the current order) and, on the sorted column,
/// its `aria-sort` and arrow.
pub struct Header {
    pub label: &'static str,
    pub href: Option<String>,
    pub aria_sort: Option<&'static str>,
    pub arrow: &'static str,
}

/// The table's headers in order; `link` makes the address of an order (the filters kept).
pub fn headers(current: Sort, sortable: bool, link: impl Fn(Sort) -> String) -> Vec<Header> {
    let columns = [
        ("Number", Some(SortKey::Number)),
        ("Courier", None),
        ("Status", None),
        ("Order", None),
        ("Created", Some(SortKey::Created)),
        ("Updated", Some(SortKey::Updated)),
        ("Last event", Some(SortKey::LastEvent)),
    ];
    columns
        .into_iter()
        .map(|(label, key)| {
            let key = key.filter(|_| sortable);
            let sorted = key == Some(current.key);
            let href = key.map(|key| {
                let descending = if sorted {
                    !current.descending
                } else {
                    default_descending(key)
                };
                link(Sort { key, descending })
            });
            let (aria_sort, arrow) = match (sorted, current.descending) {
                (false, _) => (None, ""),
                (true, true) => (Some("descending"), " ▼"),
                (true, false) => (Some("ascending"), " ▲"),
            };
            Header {
                label,
                href,
                aria_sort,
                arrow,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_anything_else_is_refused() {
        let positions = [
            (SortKey::Created, SortValue::Key),
            (SortKey::Updated, SortValue::Time(1_700_000_000_000_000)),
            (
                SortKey::LastEvent,
                SortValue::Time(NO_EVENT_SECONDS * 1_000_000),
            ),
            (SortKey::Number, SortValue::Text("1Z.9.X".into())),
        ];
        for (key, value) in positions {
            let position = Position { value, pk: 42 };
            assert_eq!(decode(key, &encode(&position)), Ok(position));
        }
        let forged = |text: &str| URL_SAFE_NO_PAD.encode(text);
        for (key, cursor) in [
            (SortKey::Created, "!!".to_string()),
            (SortKey::Created, forged("5.x")),
            (SortKey::Created, forged("42")),
            (SortKey::Updated, forged(".42")),
            (SortKey::Updated, forged(&format!("{}.1", i64::MIN))),
            (SortKey::Number, forged(".1")),
            (SortKey::Number, "A".repeat(MAX_CURSOR + 1)),
            (SortKey::Number, URL_SAFE_NO_PAD.encode([0xff, b'.', b'1'])),
        ] {
            assert_eq!(decode(key, &cursor), Err(Refusal::BadRequest), "{cursor}");
        }
    }

    #[test]
    fn only_known_orders_and_directions_parse() {
        let newest = parse_sort("", "").unwrap();
        assert_eq!(newest, Sort::default());
        let by_number = parse_sort("number", "").unwrap();
        assert!(!by_number.descending);
        assert!(parse_sort("event", "asc").is_ok_and(|s| !s.descending));
        for (sort, dir) in [("pk", ""), ("created", "up"), ("CREATED", "")] {
            assert_eq!(parse_sort(sort, dir), Err(Refusal::BadRequest));
        }
        assert_eq!(
            parse_from(SortKey::Created, "Lg", "Lg"),
            Err(Refusal::BadRequest)
        );
    }

    #[test]
    fn the_sorted_column_links_to_the_other_direction_and_says_its_order() {
        let current = Sort {
            key: SortKey::Updated,
            descending: true,
        };
        let link = |sort: Sort| pairs(sort, None).len().to_string();
        let headers = headers(current, true, link);
        let updated = headers.iter().find(|h| h.label == "Updated").unwrap();
        assert_eq!(updated.aria_sort, Some("descending"));
        // `sort=updated&dir=asc`.
        assert_eq!(updated.href.as_deref(), Some("2"));
        let created = headers.iter().find(|h| h.label == "Created").unwrap();
        assert_eq!(
            (created.aria_sort, created.href.as_deref()),
            (None, Some("0"))
        );
        assert!(headers
            .iter()
            .find(|h| h.label == "Courier")
            .unwrap()
            .href
            .is_none());
    }
}
