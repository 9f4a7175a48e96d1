//! Reading JSON input with errors a client can act on: a body that is not JSON or has a wrong
//! type says where ([`ServiceError::MalformedRequest`], with the path such as `[3].title`), an
//! unknown field is named ([`ServiceError::InvalidField`], with the v4 spelling for a legacy
//! name). The API's v4 face and the import read their create requests this way, so both refuse
//! the same records with the same words.
//!
//! An object that names a key twice is refused wherever it is ([`unique_keys`]): serde_json keeps
//! the last of two equal keys without a word when it reads a `Value` (a batch item, every v2 body)
//! and derived structs refuse only their own fields, so `{"title":"a","title":"b"}` used to be
//! refused by one route and silently half-read by another.

use serde::de::DeserializeOwned;

use crate::error::{ServiceError, ServiceResult};

/// Parses JSON bytes as `T`; a key named twice in any object is refused.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> ServiceResult<T> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ServiceError::MalformedRequest(
            "The request body is empty; it must be JSON.".into(),
        ));
    }
    unique_keys(bytes)?;
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer)
        .map_err(|e| json_error(&e.path().to_string(), e.inner()))?;
    deserializer.end().map_err(|e| json_error("", &e))?;
    Ok(value)
}

/// Refuses JSON in which an object names the same key twice, saying which key and where. JSON
/// that is not valid passes: the parse that follows reports it with its own words.
pub fn unique_keys(bytes: &[u8]) -> ServiceResult<()> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, UniqueKeys>(&mut deserializer) {
        Err(e) if e.inner().is_data() => {
            let text = e.inner().to_string();
            let key = text
                .strip_prefix(DUPLICATE)
                .and_then(|rest| rest.split('`').next())
                .unwrap_or(&text);
            let path = e.path().to_string();
            let place = if path.is_empty() || path == "." {
                String::new()
            } else {
                format!(" (in `{path}`)")
            };
            Err(ServiceError::MalformedRequest(format!(
                "The key `{key}` appears twice in one object{place}; send each field once."
            )))
        }
        _ => Ok(()),
    }
}

const DUPLICATE: &str = "duplicate key `";

/// A JSON document read only to see that no object repeats a key; its values are not kept.
struct UniqueKeys;

impl<'de> serde::Deserialize<'de> for UniqueKeys {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(UniqueKeysVisitor)
    }
}

struct UniqueKeysVisitor;

impl<'de> serde::de::Visitor<'de> for UniqueKeysVisitor {
    type Value = UniqueKeys;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }
    fn visit_i64<E>(self, _: i64) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }
    fn visit_u64<E>(self, _: u64) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }
    fn visit_f64<E>(self, _: f64) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }
    fn visit_str<E>(self, _: &str) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }
    fn visit_unit<E>(self) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<UniqueKeys, A::Error> {
        while seq.next_element::<UniqueKeys>()?.is_some() {}
        Ok(UniqueKeys)
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<UniqueKeys, A::Error> {
        let mut seen = std::collections::HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if seen.contains(&key) {
                return Err(serde::de::Error::custom(format!("{DUPLICATE}{key}`")));
            }
            map.next_value::<UniqueKeys>()?;
            seen.insert(key);
        }
        Ok(UniqueKeys)
    }
}

/// Deserialises an already-parsed JSON value (a batch item, an import record) the same way.
pub fn from_value<T: DeserializeOwned>(value: serde_json::Value) -> ServiceResult<T> {
    serde_path_to_error::deserialize(value)
        .map_err(|e| json_error(&e.path().to_string(), e.inner()))
}

/// `path` is where in the document the error is (`tracking_number`, `[3].title`).
fn json_error(path: &str, inner: &serde_json::Error) -> ServiceError {
    use serde_json::error::Category;
    let text = inner.to_string();
    match inner.classify() {
        Category::Syntax | Category::Eof | Category::Io => {
            ServiceError::MalformedRequest(format!("The request body must be valid JSON: {text}."))
        }
        Category::Data => {
            if let Some(field) = unknown_field(&text) {
                let hint = match field {
                    "carrier_code" => " In v4 the field is `courier_code`.",
                    _ => " Remove it; the API documentation lists the accepted fields.",
                };
                ServiceError::InvalidField(format!("Unknown field `{field}`.{hint}"))
            } else if path.is_empty() || path == "." {
                ServiceError::MalformedRequest(format!(
                    "The JSON does not have the expected shape: {text}."
                ))
            } else {
                ServiceError::MalformedRequest(format!(
                    "Field `{path}` has the wrong type: {text}."
                ))
            }
        }
    }
}

fn unknown_field(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("unknown field `")?;
    rest.split('`').next()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Item {
        title: Option<String>,
    }

    #[test]
    fn errors_say_what_and_where() {
        let empty = parse_json::<Item>(b"  ").unwrap_err();
        assert!(matches!(empty, ServiceError::MalformedRequest(_)));
        let syntax = parse_json::<Item>(b"{").unwrap_err();
        assert!(syntax
            .to_string()
            .starts_with("The request body must be valid JSON"));
        let trailing = parse_json::<Item>(b"{} x").unwrap_err();
        assert!(matches!(trailing, ServiceError::MalformedRequest(_)));
        let typed = parse_json::<Vec<Item>>(br#"[{"title":1}]"#).unwrap_err();
        assert!(typed.to_string().contains("`[0].title`"), "{typed}");
        let twice = parse_json::<Item>(br#"{"title":"a","title":"b"}"#).unwrap_err();
        assert!(matches!(twice, ServiceError::MalformedRequest(_)));
        assert_eq!(
            twice.to_string(),
            "The key `title` appears twice in one object; send each field once."
        );
        let nested =
            parse_json::<serde_json::Value>(br#"[{"a":1},{"b":{"c":1,"c":2}}]"#).unwrap_err();
        assert!(nested.to_string().contains("`c` appears twice"), "{nested}");
        assert!(nested.to_string().contains("`[1].b`"), "{nested}");
        assert!(parse_json::<serde_json::Value>(br#"[{"a":1},{"a":{"a":1}}]"#).is_ok());
        let unknown = from_value::<Item>(serde_json::json!({"carrier_code": "ups"})).unwrap_err();
        assert!(matches!(unknown, ServiceError::InvalidField(_)));
        assert_eq!(
            unknown.to_string(),
            "Unknown field `carrier_code`. In v4 the field is `courier_code`."
        );
    }
}
