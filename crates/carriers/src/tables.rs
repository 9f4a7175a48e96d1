//! Carrier code tables: how a carrier's event code (and, where the code is too coarse, the
//! event's text) maps onto a status and sub-status.
//!
//! The tables are data, kept beside the adapters in `crates/carriers/tables/<carrier>.tsv`, so
//! that an adapter is its request, its parser and a table that can be read (and checked against
//! `docs/carriers.md`) on its own. One row a line, tab-separated:
//!
//! ```text
//! # comment
//! code        sub-status          [text]
//! EVKSP       delivered001
//! EN_ROUTE    pickup001           for delivery
//! DELIVD.*    delivered001
//! *           undelivered002      not at home
//! ```
//!
//! * `code` is matched without regard to letter case; `PREFIX*` matches every code starting
//!   with the prefix and `*` any code.
//! * The second column is a sub-status (`transit002`, whose status it implies), a bare status
//!   (`transit`: no sub-status) or `informational` (an event that carries no status of its own).
//! * A row with a third column matches only events whose text contains it (letter case aside).
//!
//! The first row that matches wins, so specific rows (with a text, or an exact code) go before
//! general ones. An event no row matches is `transit` without a sub-status.

use std::str::FromStr;

use parceld_model::normalize::INFORMATIONAL;
use parceld_model::{DeliveryStatus, SubStatus};

use crate::event::Mapped;

/// One parsed table.
#[derive(Debug, Clone)]
pub struct CodeTable {
    rows: Vec<Row>,
}

#[derive(Debug, Clone)]
struct Row {
    code: Code,
    text: Option<String>,
    mapped: Mapped,
}

#[derive(Debug, Clone)]
enum Code {
    Exact(String),
    Prefix(String),
    Any,
}

impl Code {
    fn matches(&self, code: &str) -> bool {
        match self {
            Code::Exact(exact) => exact.eq_ignore_ascii_case(code),
            Code::Prefix(prefix) => code
                .get(..prefix.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(prefix)),
            Code::Any => true,
        }
    }
}

/// Reads the mapping column: a sub-status, a bare status or `informational`.
fn mapped(word: &str) -> Result<Mapped, String> {
    if word == "informational" {
        return Ok((INFORMATIONAL, None));
    }
    if let Ok(sub) = SubStatus::from_str(word) {
        return Ok((sub.status(), Some(sub)));
    }
    DeliveryStatus::from_str(word)
        .map(|status| (status, None))
        .map_err(|e| e.to_string())
}

impl CodeTable {
    /// Parses a table, or says which line is wrong.
    pub fn parse(tsv: &str) -> Result<Self, String> {
        let mut rows = Vec::new();
        for (n, line) in tsv.lines().enumerate() {
            let line = line.trim_end();
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let fields: Vec<&str> = line.split('\t').map(str::trim).collect();
            let (code, word, text) = match fields[..] {
                [code, word] => (code, word, None),
                [code, word, text] if !text.is_empty() => (code, word, Some(text.to_lowercase())),
                _ => return Err(format!("line {}: want 2 or 3 tab-separated fields", n + 1)),
            };
            let code = match code {
                "*" => Code::Any,
                c if c.ends_with('*') => Code::Prefix(c.trim_end_matches('*').to_string()),
                c if !c.is_empty() => Code::Exact(c.to_string()),
                _ => return Err(format!("line {}: empty code", n + 1)),
            };
            let mapped = mapped(word).map_err(|e| format!("line {}: {e}", n + 1))?;
            rows.push(Row { code, text, mapped });
        }
        Ok(CodeTable { rows })
    }

    /// Parses a table compiled into parceld; a broken one is a bug that every test of its
    /// adapter reports, so it panics with the line at fault.
    pub fn built_in(name: &str, tsv: &str) -> Self {
        CodeTable::parse(tsv).unwrap_or_else(|e| panic!("tables/{name}.tsv: {e}"))
    }

    /// The status of an event with `code` and `text`: the first row that matches, else
    /// `transit` without a sub-status.
    pub fn map(&self, code: &str, text: &str) -> Mapped {
        self.find(code, text)
            .unwrap_or((DeliveryStatus::Transit, None))
    }

    /// The first matching row's mapping, if any row matches.
    pub fn find(&self, code: &str, text: &str) -> Option<Mapped> {
        let code = code.trim();
        let text = text.to_lowercase();
        self.rows
            .iter()
            .find(|row| {
                row.code.matches(code) && row.text.as_ref().is_none_or(|t| text.contains(t))
            })
            .map(|row| row.mapped)
    }
}

/// A table compiled in from `crates/carriers/tables/<name>.tsv`, parsed on first use.
macro_rules! code_table {
    ($name:literal) => {{
        static TABLE: std::sync::LazyLock<$crate::tables::CodeTable> =
            std::sync::LazyLock::new(|| {
                $crate::tables::CodeTable::built_in(
                    $name,
                    include_str!(concat!("../tables/", $name, ".tsv")),
                )
            });
        &*TABLE
    }};
}
pub(crate) use code_table;

#[cfg(test)]
mod tests {
    use super::*;
    use parceld_model::{DeliveryStatus as S, SubStatus as Sub};

    const TABLE: &str = "# a comment\n\
        EN_ROUTE\tpickup001\tfor delivery\n\
        EN_ROUTE\ttransit001\n\
        DELIVD.PARCELSHOP\tpickup002\n\
        DELIVD.*\tdelivered001\n\
        U\tinformational\n\
        OTHER\ttransit\n\
        *\tundelivered002\tnot at home\n";

    #[test]
    fn rows_match_in_order_by_code_prefix_and_text() {
        let table = CodeTable::parse(TABLE).unwrap();
        // (code, text, the row's mapping word, or none when no row matches)
        let cases = [
            ("en_route", "Loaded FOR DELIVERY", Some("pickup001")),
            ("EN_ROUTE", "arrived", Some("transit001")),
            ("DELIVD.PARCELSHOP", "", Some("pickup002")),
            ("DELIVD.NORMAL", "", Some("delivered001")),
            ("U", "", Some("informational")),
            ("OTHER", "", Some("transit")),
            ("XYZ", "Consignee not at home", Some("undelivered002")),
            ("XYZ", "anything", None),
        ];
        for (code, text, want) in cases {
            let want = want.map(|word| mapped(word).unwrap());
            assert_eq!(table.find(code, text), want, "{code} {text}");
        }
        assert_eq!(table.map("XYZ", "anything"), (S::Transit, None));
        assert_eq!(mapped("pickup001"), Ok((S::Pickup, Some(Sub::Pickup001))));
        assert_eq!(mapped("informational"), Ok((INFORMATIONAL, None)));
    }

    #[test]
    fn broken_rows_name_their_line() {
        assert_eq!(
            CodeTable::parse("A\ttransit001\nB\tsoon\n").unwrap_err(),
            "line 2: `soon` is not a delivery status; use one of pending, notfound, \
             inforeceived, transit, pickup, undelivered, delivered, exception, expired"
        );
        assert!(CodeTable::parse("just-one-field\n")
            .unwrap_err()
            .starts_with("line 1"));
    }
}
