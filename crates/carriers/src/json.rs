//! Forgiving access to carrier JSON.
//!
//! Carrier payloads bend their own schemas: numbers where strings are documented, `{}` for
//! empty values (PostNL), one object where an array is usual (PostNL multi-collo, USPS
//! `services`). Reading through these helpers keeps an odd field from failing a whole answer.

use serde_json::Value;

use crate::CarrierError;

/// `carrier`'s answer as JSON, or a malformed-answer error.
pub fn parse(carrier: &str, body: &[u8]) -> Result<Value, CarrierError> {
    serde_json::from_slice(body).map_err(|e| CarrierError::malformed(carrier, e))
}

/// A field as text: strings trimmed, numbers and booleans printed; `{}`, `[]` and `null` are
/// absent, and so are empty strings.
pub fn text(value: &Value, key: &str) -> Option<String> {
    as_text(value.get(key)?)
}

/// A value as text, as for [`text`].
pub fn as_text(value: &Value) -> Option<String> {
    let out = match value {
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => return None,
    };
    (!out.is_empty()).then_some(out)
}

/// A field as text, or the empty string.
pub fn text_or_empty(value: &Value, key: &str) -> String {
    text(value, key).unwrap_or_default()
}

/// The first of `keys` that is text (as [`text`]), or the empty string: a field some answers
/// name one way and some another (`sub_status` or `stage`).
pub fn first_text(value: &Value, keys: &[&str]) -> String {
    keys.iter().find_map(|k| text(value, k)).unwrap_or_default()
}

/// Follows a path of object keys.
pub fn path<'a>(value: &'a Value, keys: &[&str]) -> Option<&'a Value> {
    keys.iter().try_fold(value, |v, k| v.get(k))
}

/// A field as a list: an array's items, a single object as one item, otherwise none.
pub fn list<'a>(value: &'a Value, key: &str) -> Vec<&'a Value> {
    match value.get(key) {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(v @ Value::Object(map)) if !map.is_empty() => vec![v],
        _ => Vec::new(),
    }
}

/// The item whose `key` is `wanted` (letter case aside), else the first item: carriers answer
/// for the number asked, but one may echo it in another case or not at all.
pub fn named_or_first<'a>(items: &[&'a Value], key: &str, wanted: &str) -> Option<&'a Value> {
    items
        .iter()
        .find(|item| text(item, key).is_some_and(|t| t.eq_ignore_ascii_case(wanted)))
        .or(items.first())
        .copied()
}

/// Decodes the few HTML entities and tags carriers put in product names
/// (`USPS Ground Advantage<SUP>&#153;</SUP>`, `&lt;= 10 kg`).
pub fn clean_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        let tag = tail.find('>').map(|end| &tail[..=end]);
        match tag {
            Some(tag) if tag.eq_ignore_ascii_case("<SUP>") => {
                // Drop superscript marks such as trademark signs entirely.
                match tail.to_ascii_uppercase().find("</SUP>") {
                    Some(close) => rest = &tail[close + 6..],
                    None => rest = &tail[tag.len()..],
                }
            }
            Some(tag) if tag.len() <= 12 => rest = &tail[tag.len()..],
            _ => {
                out.push('<');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_are_forgiving() {
        let v: Value = serde_json::json!({"a": " x ", "b": 3, "c": {}, "d": "", "e": null});
        assert_eq!(text(&v, "a").as_deref(), Some("x"));
        assert_eq!(text(&v, "b").as_deref(), Some("3"));
        assert_eq!(text(&v, "c"), None);
        assert_eq!(text(&v, "d"), None);
        assert_eq!(text(&v, "e"), None);
    }

    #[test]
    fn html_is_cleaned() {
        assert_eq!(
            clean_html("USPS Ground Advantage<SUP>&#153;</SUP>"),
            "USPS Ground Advantage"
        );
        assert_eq!(
            clean_html("Parcels, domestic &lt;= 10 kg"),
            "Parcels, domestic <= 10 kg"
        );
        assert_eq!(clean_html("a < b"), "a < b");
    }
}
